// ZeroMQ multipart framing as zerorpc-python applies it (docs/protocol section 2.2). Pure functions
// over frame arrays: the transport adapter owns the sockets.
import { ProtocolError } from "./errors.js";

/** The empty delimiter frame between a routing envelope and the payload (shared, zero length). */
export const EMPTY_FRAME: Uint8Array = new Uint8Array(0);

/** A message as a ROUTER application sees it: routing envelope plus one encoded event. */
export interface RoutedPayload {
  /** Routing frames (the peer's routing id plus any hop frames), without the empty delimiter. */
  envelope: Uint8Array[];
  /** The last frame: one encoded zerorpc event. */
  payload: Uint8Array;
}

function noFrames(): ProtocolError {
  return new ProtocolError("bad-frames", "a zerorpc message needs at least one frame (the payload)");
}

/**
 * Splits what a ROUTER socket received, like zerorpc-python's server: the payload is the last
 * frame; with 3 or more frames everything before the last two is the envelope (the
 * second-to-last is taken to be the empty delimiter and never checked); with 2 frames
 * (`[routing-id, payload]`: a client that omitted the delimiter) the first is the envelope; a
 * lone frame has an empty envelope. No frames at all -> {@link ProtocolError} `"bad-frames"`.
 * Reply with {@link joinRouterFrames}(envelope, payload): the client gets its frames back.
 */
export function splitRouterFrames(frames: readonly Uint8Array[]): RoutedPayload {
  const count = frames.length;
  if (count === 0) throw noFrames();
  const payload = frames[count - 1]!;
  if (count === 1) return { envelope: [], payload };
  if (count === 2) return { envelope: [frames[0]!], payload };
  return { envelope: frames.slice(0, count - 2), payload };
}

/** What a ROUTER socket sends: `[...envelope, EMPTY_FRAME, payload]`. */
export function joinRouterFrames(envelope: readonly Uint8Array[], payload: Uint8Array): Uint8Array[] {
  const frames = envelope.slice();
  frames.push(EMPTY_FRAME, payload);
  return frames;
}

/**
 * The payload of what a DEALER (or PULL / SUB) socket received: the last frame; anything before
 * it (normally the empty delimiter) is ignored, as zerorpc-python's client does. No frames ->
 * {@link ProtocolError} `"bad-frames"`.
 */
export function splitDealerFrames(frames: readonly Uint8Array[]): Uint8Array {
  const count = frames.length;
  if (count === 0) throw noFrames();
  return frames[count - 1]!;
}

/** What a DEALER socket sends: `[EMPTY_FRAME, payload]`. */
export function joinDealerFrames(payload: Uint8Array): Uint8Array[] {
  return [EMPTY_FRAME, payload];
}
