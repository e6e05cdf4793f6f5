// ZeroMQ envelopes as zerorpc-python applies them (docs/protocol/wire.md section 2.2): which frames
// of a multipart message are routing, which one is the event, and what goes back. The one place
// these rules live; both transport adapters apply them (a socket library delivers frames, this
// module says what they mean). Pure functions over frame arrays.
import { ProtocolError } from "@zrpc/wire";
import type { Peer } from "./transport.js";

/** The empty delimiter frame between a routing envelope and the payload (shared, zero length). */
export const EMPTY_FRAME: Uint8Array = new Uint8Array(0);

/**
 * The one peer of a socket that has a single logical peer (DEALER, PUSH, PULL, PUB, SUB): its key
 * is `""` and its envelope empty.
 */
export const SINGLE_PEER: Peer = Object.freeze({ key: "", envelope: Object.freeze([] as Uint8Array[]) });

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

/**
 * What a ROUTER socket sends: `[...envelope, EMPTY_FRAME, payload]`. The payload may be any frame
 * value the transport writes (a transport with scatter-gather bodies passes its own type).
 */
export function joinRouterFrames<P = Uint8Array>(envelope: readonly Uint8Array[], payload: P): (Uint8Array | P)[] {
  const frames: (Uint8Array | P)[] = envelope.slice();
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
export function joinDealerFrames<P = Uint8Array>(payload: P): (Uint8Array | P)[] {
  return [EMPTY_FRAME, payload];
}

/** What a PUSH or PUB socket sends: the payload as the single frame (zerorpc uses no topics). */
export function joinSingleFrame<P = Uint8Array>(payload: P): P[] {
  return [payload];
}

const HEX: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

function hex(frame: Uint8Array): string {
  let text = "";
  for (let i = 0; i < frame.byteLength; i++) text += HEX[frame[i]!]!;
  return text;
}

/**
 * The {@link Peer} key of a ROUTER envelope: the lower-case hex of each frame, joined with `"."`
 * (unambiguous, since hex has no dots). One routing id gives its hex alone.
 */
export function envelopeKey(envelope: readonly Uint8Array[]): string {
  if (envelope.length === 1) return hex(envelope[0]!);
  return envelope.map(hex).join(".");
}
