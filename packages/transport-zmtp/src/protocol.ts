// ZMTP 3.1 wire elements (37/ZMTP, accepting 23/ZMTP 3.0 peers): greeting, frame flags, commands
// and the NULL mechanism's READY / ERROR metadata. Pure functions over bytes, written from the RFCs.
import { Buffer } from "node:buffer";
import type { TransportKind } from "@zrpc/channel";

/** Size of a ZMTP 3.x greeting in octets. */
export const GREETING_SIZE = 64;

/** Frame flag bit 0: more frames of the same message follow. */
export const FLAG_MORE = 0x01;
/** Frame flag bit 1: the size field is 8 octets (network order) instead of 1. */
export const FLAG_LONG = 0x02;
/** Frame flag bit 2: the frame is a command, not a message frame. */
export const FLAG_COMMAND = 0x04;
/** Bits 7-3 are reserved and must be zero. */
export const FLAG_RESERVED = 0xf8;

/** Largest ping context a PONG may echo (37/ZMTP "Connection Heartbeating"). */
export const MAX_PING_CONTEXT = 16;

/** The ZeroMQ socket types this transport speaks, as announced in the READY `Socket-Type`. */
export type SocketType = "DEALER" | "ROUTER" | "PUSH" | "PULL" | "PUB" | "SUB";

/** Socket-Type of a transport kind. */
export function socketTypeOf(kind: TransportKind): SocketType {
  return kind.toUpperCase() as SocketType;
}

/** Peer socket types a socket of `ours` may talk to (the legal combinations of 23/ZMTP and 37/ZMTP). */
const COMPATIBLE: Readonly<Record<SocketType, readonly string[]>> = {
  DEALER: ["DEALER", "ROUTER", "REP"],
  ROUTER: ["DEALER", "ROUTER", "REQ"],
  PUSH: ["PULL"],
  PULL: ["PUSH"],
  PUB: ["SUB", "XSUB"],
  SUB: ["PUB", "XPUB"],
};

/** True when a peer announcing `peerType` may talk to a socket of type `ours`. */
export function compatibleSocketTypes(ours: SocketType, peerType: string): boolean {
  return COMPATIBLE[ours].includes(peerType);
}

/**
 * Our greeting: signature `ff 00*8 7f`, version 3.1, the mechanism ("NULL" or "CURVE") padded to
 * 20, as-server (1 for a CURVE server), filler.
 */
export function encodeGreeting(mechanism: "NULL" | "CURVE" = "NULL", asServer = false): Buffer {
  const greeting = Buffer.alloc(GREETING_SIZE);
  greeting[0] = 0xff;
  greeting[9] = 0x7f;
  greeting[10] = 3;
  greeting[11] = 1;
  greeting.write(mechanism, 12, "latin1");
  greeting[32] = asServer ? 1 : 0;
  return greeting;
}

/** The start of the reason {@link greetingProblem} gives when the peer runs another security mechanism. */
export const MECHANISM_MISMATCH = "security mechanism mismatch";

/** What a peer's greeting announced. */
export interface Greeting {
  /** Major version (3 or more). */
  readonly major: number;
  /** Minor version: 0 for ZMTP 3.0 peers, 1 for 3.1. */
  readonly minor: number;
  /** Security mechanism name without its padding. */
  readonly mechanism: string;
  /** The as-server field (must be 0 with NULL; not checked). */
  readonly asServer: boolean;
}

/**
 * Checks the part of a greeting received so far (`length` octets of `bytes`) and returns a
 * reason when it can already be rejected: no `ff` first octet, signature not ending in `7f`, a
 * major version below 3 (ZMTP 1.0 / 2.0 peers: no downgrade), or a complete greeting whose
 * mechanism is not ours (`expected`: NULL or CURVE; no downgrade either).
 */
export function greetingProblem(bytes: Uint8Array, length: number, expected = "NULL"): string | undefined {
  if (length > 0 && bytes[0] !== 0xff) return `not a ZMTP greeting: first octet ${hexByte(bytes[0] ?? 0)}, expected ff`;
  if (length > 9 && bytes[9] !== 0x7f) {
    return `not a ZMTP 3 greeting: signature ends with ${hexByte(bytes[9] ?? 0)}, expected 7f`;
  }
  if (length > 10 && (bytes[10] ?? 0) < 3) {
    return `unsupported ZMTP version ${String(bytes[10])} (3.0 or later required)`;
  }
  if (length >= GREETING_SIZE) {
    const mechanism = mechanismOf(bytes);
    if (mechanism !== expected) {
      if (mechanism === "NULL" || mechanism === "CURVE") {
        return expected === "CURVE"
          ? `${MECHANISM_MISMATCH}: the peer speaks plaintext (NULL) to this CURVE socket (it has no curve option?)`
          : `${MECHANISM_MISMATCH}: the peer uses CURVE but this socket is plaintext (NULL; give it the curve option)`;
      }
      return `unsupported security mechanism ${JSON.stringify(mechanism)} (only ${expected})`;
    }
  }
  return undefined;
}

/** Parses a complete, already validated (see {@link greetingProblem}) 64-octet greeting. */
export function parseGreeting(bytes: Uint8Array): Greeting {
  return {
    major: bytes[10] ?? 0,
    minor: bytes[11] ?? 0,
    mechanism: mechanismOf(bytes),
    asServer: bytes[32] === 1,
  };
}

function mechanismOf(bytes: Uint8Array): string {
  let end = 12;
  while (end < 32 && bytes[end] !== 0) end += 1;
  // Everything after the name must be padding.
  for (let i = end; i < 32; i++) if (bytes[i] !== 0) return Buffer.from(bytes.subarray(12, 32)).toString("latin1");
  return Buffer.from(bytes.subarray(12, end)).toString("latin1");
}

function hexByte(value: number): string {
  return value.toString(16).padStart(2, "0");
}

/** Encodes one command frame: flags, size, name length, name, data. Short or long size as needed. */
export function encodeCommand(name: string, data: Uint8Array = EMPTY): Buffer {
  const bodySize = 1 + name.length + data.byteLength;
  const long = bodySize > 255;
  const headerSize = long ? 9 : 2;
  const frame = Buffer.allocUnsafe(headerSize + bodySize);
  if (long) {
    frame[0] = FLAG_COMMAND | FLAG_LONG;
    frame.writeBigUInt64BE(BigInt(bodySize), 1);
  } else {
    frame[0] = FLAG_COMMAND;
    frame[1] = bodySize;
  }
  frame[headerSize] = name.length;
  frame.write(name, headerSize + 1, "latin1");
  frame.set(data, headerSize + 1 + name.length);
  return frame;
}

const EMPTY = new Uint8Array(0);

/** Encodes NULL-mechanism metadata: `name-length name value-length(4, network order) value` per property. */
export function encodeProperties(properties: ReadonlyArray<readonly [string, Uint8Array]>): Buffer {
  let size = 0;
  for (const [name, value] of properties) size += 1 + name.length + 4 + value.byteLength;
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  for (const [name, value] of properties) {
    out[at] = name.length;
    out.write(name, at + 1, "latin1");
    at += 1 + name.length;
    out.writeUInt32BE(value.byteLength, at);
    at += 4;
    out.set(value, at);
    at += value.byteLength;
  }
  return out;
}

/** Our metadata: `Socket-Type`, plus `Identity` for DEALER and ROUTER (empty unless set). */
export function encodeMetadata(type: SocketType, identity: Uint8Array | undefined): Buffer {
  const properties: [string, Uint8Array][] = [["Socket-Type", Buffer.from(type, "latin1")]];
  if (type === "DEALER" || type === "ROUTER") properties.push(["Identity", identity ?? EMPTY]);
  return encodeProperties(properties);
}

/** Our READY command (NULL mechanism): {@link encodeMetadata}. */
export function encodeReady(type: SocketType, identity: Uint8Array | undefined): Buffer {
  return encodeCommand("READY", encodeMetadata(type, identity));
}

/** An ERROR command with a reason (truncated to 255 printable octets). */
export function encodeError(reason: string): Buffer {
  const text = Buffer.from(reason.replace(/[^\x20-\x7e]/g, "?").slice(0, 255), "latin1");
  const data = Buffer.allocUnsafe(1 + text.length);
  data[0] = text.length;
  data.set(text, 1);
  return encodeCommand("ERROR", data);
}

/** A PING command: TTL in tenths of a second (0 = none) and an optional context (at most 16 octets). */
export function encodePing(ttlDeciseconds: number, context: Uint8Array = EMPTY): Buffer {
  const data = Buffer.allocUnsafe(2 + context.byteLength);
  data.writeUInt16BE(Math.min(0xffff, Math.max(0, Math.round(ttlDeciseconds))), 0);
  data.set(context, 2);
  return encodeCommand("PING", data);
}

/** A PONG command echoing a PING's context (at most 16 octets are echoed). */
export function encodePong(context: Uint8Array): Buffer {
  return encodeCommand("PONG", context.subarray(0, MAX_PING_CONTEXT));
}

/**
 * Parses NULL-mechanism metadata into a map keyed by lower-cased property name (names are
 * case-insensitive). Returns a reason string for malformed metadata.
 */
export function parseProperties(data: Uint8Array): Map<string, Uint8Array> | string {
  const properties = new Map<string, Uint8Array>();
  let at = 0;
  while (at < data.byteLength) {
    const nameLength = data[at] ?? 0;
    if (nameLength === 0) return "metadata property with an empty name";
    if (at + 1 + nameLength + 4 > data.byteLength) return "truncated metadata property";
    for (let i = at + 1; i <= at + nameLength; i++) {
      if (!isNameChar(data[i] ?? 0)) return "invalid character in a metadata property name";
    }
    const name = Buffer.from(data.buffer, data.byteOffset + at + 1, nameLength).toString("latin1").toLowerCase();
    at += 1 + nameLength;
    const view = new DataView(data.buffer, data.byteOffset + at, 4);
    const valueLength = view.getUint32(0);
    at += 4;
    if (valueLength > 0x7fffffff || at + valueLength > data.byteLength) return `truncated value of metadata property ${name}`;
    properties.set(name, data.subarray(at, at + valueLength));
    at += valueLength;
  }
  return properties;
}

/** name-char = ALPHA | DIGIT | "-" | "_" | "." | "+" */
function isNameChar(c: number): boolean {
  return (
    (c >= 0x41 && c <= 0x5a) ||
    (c >= 0x61 && c <= 0x7a) ||
    (c >= 0x30 && c <= 0x39) ||
    c === 0x2d ||
    c === 0x5f ||
    c === 0x2e ||
    c === 0x2b
  );
}

/**
 * A ZMTP 3.0 subscription message (23/ZMTP "The Publish-Subscribe Pattern"): one frame holding
 * `01` (subscribe) or `00` (cancel) followed by the topic prefix.
 */
export function encodeSubscriptionMessage(topic: Uint8Array, subscribe: boolean): Buffer {
  const bodySize = 1 + topic.byteLength;
  const long = bodySize > 255;
  const headerSize = long ? 9 : 2;
  const frame = Buffer.allocUnsafe(headerSize + bodySize);
  if (long) {
    frame[0] = FLAG_LONG;
    frame.writeBigUInt64BE(BigInt(bodySize), 1);
  } else {
    frame[0] = 0;
    frame[1] = bodySize;
  }
  frame[headerSize] = subscribe ? 1 : 0;
  frame.set(topic, headerSize + 1);
  return frame;
}
