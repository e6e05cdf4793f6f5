// TODO(lead): replace with splitRouterFrames/joinRouterFrames/splitDealerFrames/joinDealerFrames
// from @zrpc/wire once it is built.
//
// zerorpc multipart framing as zerorpc-python applies it (PROTOCOL.md section 2.2).

/** The empty delimiter frame between the routing envelope and the payload. */
const EMPTY: Uint8Array = new Uint8Array(0);

/**
 * A received message split into routing envelope and payload.
 * @internal
 */
export interface SplitFrames {
  /** Routing frames (routing id plus any hop frames), without the empty delimiter. */
  readonly envelope: Uint8Array[];
  /** The last frame: one encoded zerorpc event. */
  readonly payload: Uint8Array;
}

/**
 * Splits what a ROUTER socket received. The payload is the last frame. With 3 or more frames,
 * everything before the last two is the envelope (the second-to-last is taken to be the
 * delimiter and never checked); with 2 frames the first one is the envelope; a lone frame has no
 * envelope. Returns `undefined` for an empty message.
 * @internal
 */
export function splitRouterFrames(frames: readonly Uint8Array[]): SplitFrames | undefined {
  const count = frames.length;
  const payload = frames[count - 1];
  if (payload === undefined) return undefined;
  if (count >= 3) return { envelope: frames.slice(0, count - 2), payload };
  if (count === 2) return { envelope: frames.slice(0, 1), payload };
  return { envelope: [], payload };
}

/**
 * Builds what a ROUTER socket sends back: `envelope + [""] + [payload]`.
 * @internal
 */
export function joinRouterFrames(envelope: readonly Uint8Array[], payload: Uint8Array): Uint8Array[] {
  return [...envelope, EMPTY, payload];
}

/**
 * The payload of what a DEALER, PULL or SUB socket received: the last frame, anything before it is
 * ignored. Returns `undefined` for an empty message.
 * @internal
 */
export function splitDealerFrames(frames: readonly Uint8Array[]): Uint8Array | undefined {
  return frames[frames.length - 1];
}

/**
 * Builds what a DEALER socket sends: `[""] + [payload]`.
 * @internal
 */
export function joinDealerFrames(payload: Uint8Array): Uint8Array[] {
  return [EMPTY, payload];
}

/**
 * Builds what a PUSH or PUB socket sends: the payload as a single frame.
 * @internal
 */
export function joinSingleFrame(payload: Uint8Array): Uint8Array[] {
  return [payload];
}
