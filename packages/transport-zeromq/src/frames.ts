// zerorpc multipart framing (docs/protocol section 2.2). The rules live in @zrpc/wire; this file
// adapts them to the transport: an empty multipart message (libzmq never delivers one) yields
// `undefined` instead of a ProtocolError, and PUSH/PUB send the payload as a single frame.
import {
  joinDealerFrames,
  joinRouterFrames,
  splitDealerFrames as splitDealer,
  splitRouterFrames as splitRouter,
} from "@zrpc/wire";
import type { RoutedPayload } from "@zrpc/wire";

export { joinDealerFrames, joinRouterFrames };

/**
 * What a ROUTER socket received, split into envelope and payload (see `splitRouterFrames` of
 * `@zrpc/wire`), or `undefined` for an empty message.
 * @internal
 */
export function splitRouterFrames(frames: readonly Uint8Array[]): RoutedPayload | undefined {
  return frames.length === 0 ? undefined : splitRouter(frames);
}

/**
 * The payload of what a DEALER, PULL or SUB socket received (the last frame), or `undefined` for
 * an empty message.
 * @internal
 */
export function splitDealerFrames(frames: readonly Uint8Array[]): Uint8Array | undefined {
  return frames.length === 0 ? undefined : splitDealer(frames);
}

/**
 * Builds what a PUSH or PUB socket sends: the payload as a single frame.
 * @internal
 */
export function joinSingleFrame(payload: Uint8Array): Uint8Array[] {
  return [payload];
}
