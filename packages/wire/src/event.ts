// zerorpc events: `[header, name, args]` (docs/protocol sections 3.1 and 4).
import { decodeValue } from "./decoder.js";
import type { DecodeOptions } from "./decoder.js";
import { encodeEventParts, encodeEventPartsChunked } from "./encoder.js";
import type { EncodeOptions } from "./encoder.js";
import { ProtocolError } from "./errors.js";
import { newMessageId } from "./message-id.js";
import type { MessageId } from "./message-id.js";

/** The protocol version every zrpc event carries in its header (`v: 3`), as zerorpc-python does. */
export const PROTOCOL_VERSION = 3;

/**
 * Event names with a meaning at the protocol level: `heartbeat` (`_zpc_hb`, args `[0]`), `more`
 * (`_zpc_more`, args `[credit]`), and the replies `ok` (`OK`, args `[result]`), `err` (`ERR`, args
 * `[name, message, traceback]`), `stream` (`STREAM`, args = the bare item) and `streamDone`
 * (`STREAM_DONE`, args nil).
 */
export const EventNames = {
  heartbeat: "_zpc_hb",
  more: "_zpc_more",
  ok: "OK",
  err: "ERR",
  stream: "STREAM",
  streamDone: "STREAM_DONE",
} as const;

/**
 * An event header, with the protocol's own spelling. `message_id` identifies the event,
 * `response_to` (absent on the event that opens a channel) names the channel, `v` is the protocol
 * version. Any other key is task context and passes through untouched (decoded as wire values).
 */
export interface WireHeader {
  /** This event's id; required when encoding, may be absent on a decoded event. */
  message_id?: MessageId;
  /** Protocol version; always written as `3` whatever is set here. */
  v?: number;
  /** The `message_id` of the event that opened the channel, with the same type and bytes. */
  response_to?: MessageId;
  /** Task-context keys (e.g. tracing ids). */
  readonly [key: string]: unknown;
}

/** One zerorpc event: `[header, name, args]` on the wire. */
export interface Event<TArgs = unknown> {
  /** The header map. */
  header: WireHeader;
  /** The event name: a method name, `OK`, `ERR`, `STREAM`, `STREAM_DONE`, `_zpc_hb`, `_zpc_more`. */
  name: string;
  /** The arguments: an array for requests, `[result]` for `OK`, the bare item for `STREAM`, ... */
  args: TArgs;
}

/**
 * Encodes an event as a msgpack `fixarray(3)` `[header, name, args]`, byte-compatible with
 * zerorpc-python. Header keys go out in Python's order: `message_id`, `v` (always the int 3,
 * whatever `header.v` says), task-context keys in their insertion order, then `response_to`
 * (omitted when `undefined`). Throws `EncodeError` when `message_id` is missing or is not
 * bin / str / int, when `name` is not a string, or when a value cannot be encoded (see
 * `encodeValue`).
 */
export function encodeEvent(event: Event, options?: EncodeOptions): Uint8Array {
  return encodeEventParts(event, options);
}

/**
 * {@link encodeEvent} for transports that write several buffers as one message: the chunks whose
 * concatenation is exactly `encodeEvent(event)`. An event without bins of 64 KiB or more is one
 * chunk; a large bin is a chunk of its own, **by reference**: it must not be modified until the
 * transport has written it (zeromq.js holds large buffers by reference the same way).
 */
export function encodeEventChunks(event: Event, options?: EncodeOptions): Uint8Array[] {
  return encodeEventPartsChunked(event, options);
}

function isMessageId(value: unknown): value is MessageId {
  return (
    value instanceof Uint8Array ||
    typeof value === "string" ||
    typeof value === "bigint" ||
    (typeof value === "number" && Number.isInteger(value))
  );
}

/**
 * Decodes one zerorpc event from a payload frame, checking its shape the way zerorpc-python
 * would accept it. Throws {@link ProtocolError} with reason:
 * - any msgpack-level reason of `decodeValue` (`"truncated"`, `"invalid-utf8"`, ...);
 * - `"bad-event"`: not an array of exactly 3 elements (Python drops 4-element events);
 * - `"bad-header"`: the header is not a map with str keys (a bin key too: Python fails on it), or
 *   `v` is present but not an int within ±2^53 (so that `header.v` is always a `number`);
 * - `"bad-name"`: the name is not a str;
 * - `"bad-message-id"`: `message_id` / `response_to` present but not bin, str or int.
 *
 * `message_id` may be absent (Python accepts replies without one); checking it is the caller's
 * business. `args` may be any value. Bytes after the event are ignored, as Python does.
 */
export function decodeEvent(payload: Uint8Array, options?: DecodeOptions): Event {
  const value = decodeValue(payload, options);
  if (!Array.isArray(value) || value.length !== 3) {
    const what = Array.isArray(value) ? `an array of ${value.length}` : "not an array";
    throw new ProtocolError("bad-event", `a zerorpc event is an array of 3 [header, name, args], got ${what}`);
  }
  const [header, name, args] = value as [unknown, unknown, unknown];
  if (typeof header !== "object" || header === null || Object.getPrototypeOf(header) !== Object.prototype) {
    throw new ProtocolError("bad-header", "event header is not a map with str keys");
  }
  if (typeof name !== "string") {
    throw new ProtocolError("bad-name", "event name is not a str");
  }
  const record = header as Record<string, unknown>;
  const messageId = record.message_id;
  if (messageId !== undefined && !isMessageId(messageId)) {
    throw new ProtocolError("bad-message-id", "event header message_id is not bin, str or int");
  }
  const responseTo = record.response_to;
  if (responseTo !== undefined && !isMessageId(responseTo)) {
    throw new ProtocolError("bad-message-id", "event header response_to is not bin, str or int");
  }
  const version = record.v;
  // A bigint v (beyond 2^53) is refused too, so that `header.v` really is a number.
  if (version !== undefined && !(typeof version === "number" && Number.isInteger(version))) {
    throw new ProtocolError("bad-header", "event header v is not an int (within ±2^53)");
  }
  return { header: record, name, args };
}

const RESERVED_HEADER_KEYS = new Set(["message_id", "v", "response_to"]);

/**
 * Builds a new event: a fresh `message_id` (see `newMessageId`), `v: 3`, the keys of
 * `extraHeader` (task context, own enumerable keys; its `message_id`, `v` and `response_to` keys
 * are ignored; a `"__proto__"` key is copied as an own data property like any other), then
 * `response_to` if given.
 */
export function createEvent(
  name: string,
  args: unknown,
  responseTo?: MessageId,
  extraHeader?: Record<string, unknown>,
): Event {
  const header: Record<string, unknown> = { message_id: newMessageId(), v: PROTOCOL_VERSION };
  if (extraHeader !== undefined) {
    for (const key of Object.keys(extraHeader)) {
      if (RESERVED_HEADER_KEYS.has(key)) continue;
      // Defined, not assigned: an assigned "__proto__" would set the header's prototype.
      Object.defineProperty(header, key, { value: extraHeader[key], writable: true, enumerable: true, configurable: true });
    }
  }
  if (responseTo !== undefined) header.response_to = responseTo;
  return { header: header, name, args };
}
