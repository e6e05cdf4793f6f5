// Sees what zerorpc-node really puts on the wire and gets from it: wraps the `encode` / `decode`
// of the msgpack-lite instance zerorpc-node uses (lib/events.js calls `msgpack.encode(...)` and
// `msgpack.decode(...)` through the module object, so replacing the two properties is enough) and
// keeps the raw payloads per channel. Nothing is changed: each wrapper returns what the original
// returned. The checks decode those bytes again with @zrpc/wire, losslessly, to tell a value that
// zerorpc-node mangled from one that our server mangled.
import { peer } from "./peer.js";

/** Everything seen on one channel (one call). */
export interface ChannelWire {
  /** The channel id (zerorpc-node's ids are str). */
  readonly id: string;
  /** The request's payload as msgpack-lite encoded it. */
  request: Uint8Array | undefined;
  /** Payloads received on the channel other than `_zpc_hb` / `_zpc_more`, in arrival order. */
  readonly replies: Uint8Array[];
  /** Names of those events (`OK`, `ERR`, `STREAM`, `STREAM_DONE`). */
  readonly replyNames: string[];
  /** The argument of each `_zpc_more` the client sent on the channel. */
  readonly creditsSent: unknown[];
  /** Heartbeats sent and received on the channel. */
  heartbeatsSent: number;
  heartbeatsReceived: number;
}

interface EventLike {
  header: Record<string, unknown>;
  name: string;
}

function asEvent(value: unknown): EventLike | undefined {
  if (!Array.isArray(value) || value.length !== 3) return undefined;
  const [header, name] = value as unknown[];
  if (typeof header !== "object" || header === null || typeof name !== "string") return undefined;
  return { header: header as Record<string, unknown>, name };
}

const channels = new Map<string, ChannelWire>();
let lastRequest: string | undefined;
let installed = false;

/** The key of a channel id (zerorpc-node's ids are str; anything else is spelled as JSON). */
function idKey(id: unknown): string {
  return typeof id === "string" ? id : JSON.stringify(id);
}

function channel(id: string): ChannelWire {
  let wire = channels.get(id);
  if (wire === undefined) {
    wire = { id, request: undefined, replies: [], replyNames: [], creditsSent: [], heartbeatsSent: 0, heartbeatsReceived: 0 };
    channels.set(id, wire);
  }
  return wire;
}

/** Installs the wrappers (once per process). */
export function installWireSpy(): void {
  if (installed) return;
  installed = true;
  const { msgpackLite } = peer();
  const encode = msgpackLite.encode.bind(msgpackLite);
  const decode = msgpackLite.decode.bind(msgpackLite);
  msgpackLite.encode = (value: unknown, options?: unknown): Buffer => {
    const bytes = encode(value, options);
    const event = asEvent(value);
    if (event !== undefined) {
      const responseTo = event.header.response_to;
      if (responseTo === undefined) {
        const id = idKey(event.header.message_id);
        channel(id).request = bytes;
        lastRequest = id;
      } else if (event.name === "_zpc_more") {
        channel(idKey(responseTo)).creditsSent.push((value as unknown[])[2]);
      } else if (event.name === "_zpc_hb") {
        channel(idKey(responseTo)).heartbeatsSent += 1;
      }
    }
    return bytes;
  };
  msgpackLite.decode = (bytes: Uint8Array, options?: unknown): unknown => {
    const value = decode(bytes, options);
    const event = asEvent(value);
    const responseTo = event?.header.response_to;
    if (event !== undefined && responseTo !== undefined && responseTo !== null) {
      const wire = channels.get(idKey(responseTo));
      // Only channels this process opened; anything else (a server's channels) is not recorded.
      if (wire !== undefined) {
        if (event.name === "_zpc_hb") wire.heartbeatsReceived += 1;
        else if (event.name !== "_zpc_more") {
          wire.replies.push(bytes);
          wire.replyNames.push(event.name);
        }
      }
    }
    return value;
  };
}

/**
 * The id of the request encoded last. zerorpc-node's `invoke` encodes and sends its request
 * synchronously, so right after `invoke` returns this is that call's channel.
 */
export function lastRequestId(): string | undefined {
  return lastRequest;
}

/** What was seen on channel `id` (created empty if nothing was). */
export function channelWire(id: string): ChannelWire {
  return channel(id);
}

/** Drops the record of a finished channel. */
export function forgetChannel(id: string): void {
  channels.delete(id);
}
