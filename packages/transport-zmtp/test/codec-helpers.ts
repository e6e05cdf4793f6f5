// Byte-level helpers for the codec tests (no vitest imports: usable from plain scripts too).
import { Buffer } from "node:buffer";
import { EventEmitter } from "node:events";
import { loadVector, pseudoRandomBytes, seededRandom, toHex } from "@zrpc/test-support";
import { ZmtpDecoder } from "../src/decoder.js";
import type { DecoderLimits, DecoderSink } from "../src/decoder.js";
import type { ZmtpError } from "../src/errors.js";
import type { Greeting } from "../src/protocol.js";

/** Hex of bytes. */
export const hexOf = toHex;

/** A deterministic pseudo-random payload of `size` bytes. */
export const pattern = pseudoRandomBytes;

/** A seeded PRNG (mulberry32): floats in [0, 1). */
export const prng = seededRandom;

/** One direction of the recorded libzmq connection zmtp_tcp_call_add.json. */
export interface RecordedDirection {
  /** The raw TCP chunks, in order. */
  readonly chunks: Buffer[];
  /** The parsed parts the recording lists: greeting, READY command, frames. */
  readonly parts: RecordedPart[];
}

/** A part of the recording's `zmtp` section. */
export interface RecordedPart {
  readonly part: "greeting" | "command" | "frame";
  readonly version?: [number, number];
  readonly mechanism?: string;
  readonly command?: string;
  readonly properties?: Record<string, string>;
  readonly more?: boolean;
  readonly body_hex?: string;
}

/** Loads both directions of the recorded ZMTP connection. */
export function recordedConnection(): Record<"client->server" | "server->client", RecordedDirection> {
  const vector = loadVector("zmtp_tcp_call_add");
  const direction = (name: "client->server" | "server->client"): RecordedDirection => ({
    chunks: vector.messages
      .filter((message) => message.direction === name && (message.chunk_hex ?? "").length > 0)
      .map((message) => Buffer.from(message.chunk_hex!, "hex")),
    parts: vector.zmtp?.[name] ?? [],
  });
  return { "client->server": direction("client->server"), "server->client": direction("server->client") };
}

/** What a {@link RecordingSink} saw, with views copied to hex. */
export type Seen =
  | { type: "greeting"; greeting: Greeting }
  | { type: "command"; name: string; data: string }
  | { type: "message"; frames: string[] }
  | { type: "error"; code: string; message: string };

/** A decoder sink that records everything as {@link Seen} entries. */
export class RecordingSink implements DecoderSink {
  readonly seen: Seen[] = [];
  onGreeting(greeting: Greeting): void {
    this.seen.push({ type: "greeting", greeting });
  }
  onCommand(name: string, data: Uint8Array): void {
    this.seen.push({ type: "command", name, data: hexOf(data) });
  }
  onMessage(frames: Uint8Array[]): void {
    this.seen.push({ type: "message", frames: frames.map(hexOf) });
  }
  onError(error: ZmtpError): void {
    this.seen.push({ type: "error", code: error.code, message: error.message });
  }
}

/** Generous limits for decoder tests. */
export const LIMITS: DecoderLimits = { maxMessageSize: 1 << 20, maxFramesPerMessage: 64, maxCommandSize: 65536 };

/** Feeds `chunks` to a fresh decoder and returns what it saw. */
export function decodeChunks(chunks: readonly Uint8Array[], limits: DecoderLimits = LIMITS): Seen[] {
  const sink = new RecordingSink();
  const decoder = new ZmtpDecoder(sink, limits);
  for (const chunk of chunks) decoder.push(chunk);
  return sink.seen;
}

/** Splits `data` at the given offsets. */
export function splitAt(data: Buffer, offsets: readonly number[]): Buffer[] {
  const chunks: Buffer[] = [];
  let start = 0;
  for (const offset of offsets) {
    chunks.push(data.subarray(start, offset));
    start = offset;
  }
  chunks.push(data.subarray(start));
  return chunks;
}

/** Splits `data` into random chunks (sizes 1 to `maxChunk`). */
export function randomChunks(data: Buffer, random: () => number, maxChunk = 16): Buffer[] {
  const chunks: Buffer[] = [];
  let at = 0;
  while (at < data.length) {
    const size = 1 + Math.floor(random() * maxChunk);
    chunks.push(data.subarray(at, at + size));
    at += size;
  }
  return chunks;
}

/** A ZMTP greeting (64 octets) with the given version and mechanism. */
export function greeting(major = 3, minor = 1, mechanism = "NULL"): Buffer {
  const data = Buffer.alloc(64);
  data[0] = 0xff;
  data[9] = 0x7f;
  data[10] = major;
  data[11] = minor;
  data.write(mechanism, 12, "latin1");
  return data;
}

/** One encoded frame (message or command flags), short or long as needed (or forced long). */
export function frame(body: Uint8Array, flags = 0, forceLong = false): Buffer {
  if (body.length > 255 || forceLong) {
    const header = Buffer.alloc(9);
    header[0] = flags | 0x02;
    header.writeBigUInt64BE(BigInt(body.length), 1);
    return Buffer.concat([header, body]);
  }
  return Buffer.concat([Buffer.from([flags, body.length]), body]);
}

/** A READY command body with the given properties. */
export function readyCommand(properties: Record<string, string | Uint8Array>): Buffer {
  const parts: Buffer[] = [Buffer.from([5]), Buffer.from("READY")];
  for (const [name, value] of Object.entries(properties)) {
    const data = typeof value === "string" ? Buffer.from(value) : Buffer.from(value);
    const size = Buffer.alloc(4);
    size.writeUInt32BE(data.length);
    parts.push(Buffer.from([name.length]), Buffer.from(name), size, data);
  }
  return frame(Buffer.concat(parts), 0x04);
}

/**
 * Just enough of net.Socket for a ZmtpConnection fed by hand (the fuzz tests): counts what is
 * written, and keeps a copy of it when made with `keep` true.
 */
export class FakeSocket extends EventEmitter {
  writtenBytes = 0;
  /** Copies of the written chunks (only with `keep`). */
  readonly written: Buffer[] = [];
  destroyed = false;
  ended = false;
  readonly remoteFamily = undefined;

  constructor(private readonly keep = false) {
    super();
  }

  write(data: Uint8Array): boolean {
    this.writtenBytes += data.byteLength;
    if (this.keep) this.written.push(Buffer.from(data));
    return true;
  }
  cork(): void {}
  uncork(): void {}
  pause(): this {
    return this;
  }
  resume(): this {
    return this;
  }
  end(): this {
    this.ended = true;
    return this;
  }
  destroy(): this {
    this.destroyed = true;
    return this;
  }
}
