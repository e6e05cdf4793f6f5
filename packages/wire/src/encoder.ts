// The msgpack encoder of @zrpc/wire, written for zerorpc's needs (docs/protocol section 3):
// float64-ness of integral floats kept (Float64), `Map`s with non-str keys, ext and timestamps
// byte-exact, bigints beyond 2^53, typed errors (EncodeError). The decoder is decoder.ts.
//
// Hot-path notes: one shared Encoder (a growable buffer reused across calls, re-entrant calls get
// a private one). Short strings are UTF-8 encoded by hand, long ones by TextEncoder.
//
// Longer than 600 lines on purpose: it is one cohesive thing, the `Encoder` class (a buffer and
// its write methods, one per msgpack format) and the helpers its hot path calls, kept in one module
// so that they stay module-local functions and constants the JIT can inline.
import { Buffer } from "node:buffer";
import { EncodeError } from "./errors.js";
import { DEFAULT_MAX_DEPTH } from "./limits.js";
import { Ext, Float64, timestampFromDate, timestampProblem } from "./values.js";

/** Options of {@link encodeValue} and `encodeEvent`. */
export interface EncodeOptions {
  /**
   * Which `Map` keys may be encoded. `"python"` (default): only str (`string`) and bin
   * (`Uint8Array`, `ArrayBuffer`) keys, because zerorpc-python (msgpack >= 1.0,
   * `strict_map_key`) drops any message with another key type; others throw {@link EncodeError}.
   * `"any"`: every encodable value may be a key.
   */
  mapKeys?: "python" | "any";
  /**
   * Deepest nesting of arrays, maps and objects encoded; deeper (or cyclic) values throw
   * {@link EncodeError}. Defaults to 64, the decoder's default limit.
   */
  maxDepth?: number;
}

const TWO_POW_32 = 4294967296;
const UINT64_MAX = 0xffffffffffffffffn;
const INT64_MIN = -0x8000000000000000n;
const MAX_SAFE_BIG = BigInt(Number.MAX_SAFE_INTEGER);
const MIN_SAFE_BIG = -MAX_SAFE_BIG;
const UINT32_MASK_BIG = 0xffffffffn;

// Brands (set in values.ts) of Float64 / Ext made by another loaded copy of this package.
const FOREIGN_FLOAT64 = Symbol.for("zrpc.Float64");
const FOREIGN_EXT = Symbol.for("zrpc.Ext");

/** Strings shorter than this (in UTF-16 units) are UTF-8 encoded by hand, longer by encodeInto. */
const HAND_ENCODE_MAX = 64;

/** The shared encoder keeps at most this much buffer between calls. */
const KEEP_BUFFER_BYTES = 4 * 1024 * 1024;
const INITIAL_BUFFER_BYTES = 4096;
/**
 * A bin at least this large is not copied into the encoder's buffer: it is remembered and copied
 * once, straight into the result, by `finish()` (one copy of a 1 MiB payload instead of two).
 */
const BIN_SEGMENT_MIN_BYTES = 64 * 1024;

/** A large bin written by reference: its bytes go at `at` (a position in the encoder's buffer). */
interface Segment {
  readonly at: number;
  readonly data: Uint8Array;
}
// Beyond KEEP_BUFFER_BYTES the buffer is not kept, so it is sized for what is needed (plus 1/8,
// growing by at least 1/8) rather than doubled: a 16 MiB bin allocates 18 MiB, not 32 MiB after a
// chain of doublings. Such a buffer is then handed over as the result (a view of it when it is at
// least 3/4 full) instead of being copied out: one large allocation per call instead of many.

const textEncoder = new TextEncoder();

// Pre-encoded header keys of the event fast path.
const KEY_MESSAGE_ID = asciiStr("message_id");
const KEY_V_3 = Uint8Array.of(...asciiStr("v"), 0x03);
const KEY_RESPONSE_TO = asciiStr("response_to");

function asciiStr(text: string): Uint8Array {
  const out = new Uint8Array(text.length + 1);
  out[0] = 0xa0 | text.length;
  for (let i = 0; i < text.length; i++) out[i + 1] = text.charCodeAt(i);
  return out;
}

/** Header size of a str of `n` bytes. */
function strHeaderSize(n: number): number {
  return n < 32 ? 1 : n < 256 ? 2 : n < 65536 ? 3 : 5;
}

/** The name Python's packer would show for a value it cannot serialize. */
function typeName(value: unknown): string {
  if (typeof value !== "object" || value === null) return typeof value;
  try {
    const ctor = (value as { constructor?: { name?: unknown } }).constructor;
    return typeof ctor?.name === "string" && ctor.name !== "" ? ctor.name : "Object";
  } catch {
    return "Object";
  }
}

function cannotSerialize(value: unknown): EncodeError {
  return new EncodeError(`can not serialize '${typeName(value)}' object`, "TypeError");
}

/**
 * Writes UTF-8 for `text[0..length)` into `bytes` at `pos`; returns the end position. Lone
 * surrogates become U+FFFD, as with TextEncoder. The caller guarantees 3 bytes per unit.
 */
function writeUtf8(text: string, length: number, bytes: Uint8Array, pos: number): number {
  for (let i = 0; i < length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) {
      bytes[pos++] = unit;
    } else if (unit < 0x800) {
      bytes[pos++] = 0xc0 | (unit >> 6);
      bytes[pos++] = 0x80 | (unit & 0x3f);
    } else if (unit < 0xd800 || unit > 0xdfff) {
      bytes[pos++] = 0xe0 | (unit >> 12);
      bytes[pos++] = 0x80 | ((unit >> 6) & 0x3f);
      bytes[pos++] = 0x80 | (unit & 0x3f);
    } else {
      const next = i + 1 < length ? text.charCodeAt(i + 1) : 0;
      if (unit <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        i++;
        const point = ((unit - 0xd800) << 10) + (next - 0xdc00) + 0x10000;
        bytes[pos++] = 0xf0 | (point >> 18);
        bytes[pos++] = 0x80 | ((point >> 12) & 0x3f);
        bytes[pos++] = 0x80 | ((point >> 6) & 0x3f);
        bytes[pos++] = 0x80 | (point & 0x3f);
      } else {
        bytes[pos++] = 0xef;
        bytes[pos++] = 0xbf;
        bytes[pos++] = 0xbd;
      }
    }
  }
  return pos;
}

/** The event parts the encoder's fast path reads (see event.ts). */
interface EventParts {
  readonly header: unknown;
  readonly name: unknown;
  readonly args: unknown;
}

class Encoder {
  bytes: Uint8Array = new Uint8Array(INITIAL_BUFFER_BYTES);
  view: DataView = new DataView(this.bytes.buffer);
  /** The buffer used before growing past KEEP_BUFFER_BYTES in this call, to return to afterwards. */
  home: Uint8Array | undefined = undefined;
  pos = 0;
  /** Large bins written by reference, in order (see BIN_SEGMENT_MIN_BYTES). */
  segments: Segment[] | undefined = undefined;
  segmentBytes = 0;
  busy = false;
  anyKeys = false;
  maxDepth = DEFAULT_MAX_DEPTH;

  configure(options: EncodeOptions | undefined): void {
    this.pos = 0;
    this.anyKeys = options?.mapKeys === "any";
    this.maxDepth = options?.maxDepth ?? DEFAULT_MAX_DEPTH;
  }

  /**
   * What was written, owned by the caller: a copy, or, when the buffer grew past what is kept and
   * the result fills most of it, the buffer itself (a view of it). The encoder then goes back to
   * the buffer it had before; otherwise the shared buffer is reused (or dropped if it grew big).
   */
  finish(): Uint8Array {
    const bytes = this.bytes;
    const pos = this.pos;
    if (this.segments !== undefined) return this.finishSegments();
    let out: Uint8Array;
    if (bytes.length > KEEP_BUFFER_BYTES && pos >= bytes.length - (bytes.length >>> 2)) {
      out = pos === bytes.length ? bytes : bytes.subarray(0, pos);
      this.setBuffer(this.home ?? new Uint8Array(INITIAL_BUFFER_BYTES));
    } else {
      out = bytes.slice(0, pos);
    }
    this.release();
    return out;
  }

  /** The result with the large bins put in place: one uninitialised allocation, one copy of each part. */
  finishSegments(): Uint8Array {
    const segments = this.segments!;
    const bytes = this.bytes;
    const total = this.pos + this.segmentBytes;
    const memory = Buffer.allocUnsafeSlow(total);
    const out = new Uint8Array(memory.buffer, memory.byteOffset, total);
    let from = 0;
    let to = 0;
    for (const { at, data } of segments) {
      out.set(bytes.subarray(from, at), to);
      to += at - from;
      out.set(data, to);
      to += data.length;
      from = at;
    }
    out.set(bytes.subarray(from, this.pos), to);
    this.release();
    return out;
  }

  /**
   * The result as chunks whose concatenation is the encoded bytes: the small pieces copied out of
   * the encoder's buffer, the large bins (see BIN_SEGMENT_MIN_BYTES) by reference.
   */
  finishChunks(): Uint8Array[] {
    const segments = this.segments;
    if (segments === undefined) return [this.finish()];
    const bytes = this.bytes;
    const chunks: Uint8Array[] = [];
    let from = 0;
    for (const { at, data } of segments) {
      if (at > from) chunks.push(bytes.slice(from, at));
      chunks.push(data);
      from = at;
    }
    if (this.pos > from) chunks.push(bytes.slice(from, this.pos));
    this.release();
    return chunks;
  }

  release(): void {
    this.segments = undefined;
    this.segmentBytes = 0;
    if (this.bytes.length > KEEP_BUFFER_BYTES) this.setBuffer(this.home ?? new Uint8Array(INITIAL_BUFFER_BYTES));
    this.home = undefined;
    this.pos = 0;
  }

  setBuffer(bytes: Uint8Array): void {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  ensure(extra: number): void {
    const need = this.pos + extra;
    if (need > this.bytes.length) this.grow(need);
  }

  grow(need: number): void {
    const length = this.bytes.length;
    let size: number;
    if (need > KEEP_BUFFER_BYTES) {
      // Sized for what is needed (plus 1/8), growing by at least 1/8: still geometric.
      size = Math.max(need + (need >>> 3), length + (length >>> 3));
      this.home ??= length <= KEEP_BUFFER_BYTES ? this.bytes : undefined;
    } else {
      size = length * 2;
      while (size < need) size *= 2;
    }
    const next = new Uint8Array(size);
    next.set(this.bytes.subarray(0, this.pos));
    this.setBuffer(next);
  }

  writeByte(byte: number): void {
    this.ensure(1);
    this.bytes[this.pos++] = byte;
  }

  writeRaw(raw: Uint8Array): void {
    const length = raw.length;
    this.ensure(length);
    const bytes = this.bytes;
    let pos = this.pos;
    for (let i = 0; i < length; i++) bytes[pos++] = raw[i]!;
    this.pos = pos;
  }

  writeValue(value: unknown, depth: number): void {
    switch (typeof value) {
      case "number":
        this.writeNumber(value);
        return;
      case "string":
        this.writeString(value);
        return;
      case "boolean":
        this.writeByte(value ? 0xc3 : 0xc2);
        return;
      case "object":
        if (value === null) this.writeByte(0xc0);
        else this.writeObject(value, depth);
        return;
      case "undefined":
        this.writeByte(0xc0);
        return;
      case "bigint":
        this.writeBigInt(value);
        return;
      case "symbol":
      case "function":
        throw cannotSerialize(value);
    }
  }

  writeObject(value: object, depth: number): void {
    if (Array.isArray(value)) {
      this.checkDepth(depth);
      this.writeArray(value, depth + 1);
      return;
    }
    const proto: unknown = Object.getPrototypeOf(value);
    if (proto === Object.prototype) {
      this.checkDepth(depth);
      this.writeRecord(value as Record<string, unknown>, depth + 1);
    } else if (value instanceof Uint8Array) {
      this.writeBin(value);
    } else if (value instanceof Float64) {
      this.writeFloat64(value.value);
    } else if (value instanceof Map) {
      this.checkDepth(depth);
      this.writeMap(value as Map<unknown, unknown>, depth + 1);
    } else if (value instanceof Ext) {
      this.writeExt(value.type, value.data);
    } else if (proto === null) {
      this.checkDepth(depth);
      this.writeRecord(value as Record<string, unknown>, depth + 1);
    } else if (value instanceof Date) {
      if (Number.isNaN(value.getTime())) throw new EncodeError("can not serialize an invalid 'Date' object");
      const ext = timestampFromDate(value);
      this.writeExt(ext.type, ext.data);
    } else if (value instanceof ArrayBuffer) {
      this.writeBin(new Uint8Array(value));
    } else {
      // Float64 / Ext made by another loaded copy of @zrpc/wire (ESM and CJS builds in one process).
      const branded = value as Record<symbol, unknown> & { value?: unknown; type?: unknown; data?: unknown };
      if (branded[FOREIGN_FLOAT64] === true && typeof branded.value === "number") {
        this.writeFloat64(branded.value);
      } else if (branded[FOREIGN_EXT] === true && typeof branded.type === "number" && branded.data instanceof Uint8Array) {
        this.writeExt(branded.type, branded.data);
      } else {
        throw cannotSerialize(value);
      }
    }
  }

  checkDepth(depth: number): void {
    if (depth >= this.maxDepth) {
      throw new EncodeError(`can not serialize a value nested deeper than ${this.maxDepth} levels (cyclic structure?)`);
    }
  }

  writeNumber(value: number): void {
    if (Number.isSafeInteger(value)) {
      if (value >= 0) {
        if (value === 0 && 1 / value < 0) this.writeFloat64(value);
        else this.writeUint(value);
      } else {
        this.writeNegativeInt(value);
      }
    } else {
      this.writeFloat64(value);
    }
  }

  /** A safe integer >= 0 in the smallest format. */
  writeUint(value: number): void {
    this.ensure(9);
    const bytes = this.bytes;
    const pos = this.pos;
    if (value < 0x80) {
      bytes[pos] = value;
      this.pos = pos + 1;
    } else if (value < 0x100) {
      bytes[pos] = 0xcc;
      bytes[pos + 1] = value;
      this.pos = pos + 2;
    } else if (value < 0x10000) {
      bytes[pos] = 0xcd;
      bytes[pos + 1] = value >>> 8;
      bytes[pos + 2] = value;
      this.pos = pos + 3;
    } else if (value < TWO_POW_32) {
      bytes[pos] = 0xce;
      this.view.setUint32(pos + 1, value);
      this.pos = pos + 5;
    } else {
      bytes[pos] = 0xcf;
      this.view.setUint32(pos + 1, Math.floor(value / TWO_POW_32));
      this.view.setUint32(pos + 5, value >>> 0);
      this.pos = pos + 9;
    }
  }

  /** A safe integer < 0 in the smallest format. */
  writeNegativeInt(value: number): void {
    this.ensure(9);
    const bytes = this.bytes;
    const pos = this.pos;
    if (value >= -32) {
      bytes[pos] = value & 0xff;
      this.pos = pos + 1;
    } else if (value >= -128) {
      bytes[pos] = 0xd0;
      bytes[pos + 1] = value & 0xff;
      this.pos = pos + 2;
    } else if (value >= -32768) {
      bytes[pos] = 0xd1;
      bytes[pos + 1] = (value >> 8) & 0xff;
      bytes[pos + 2] = value & 0xff;
      this.pos = pos + 3;
    } else if (value >= -2147483648) {
      bytes[pos] = 0xd2;
      this.view.setInt32(pos + 1, value);
      this.pos = pos + 5;
    } else {
      bytes[pos] = 0xd3;
      this.view.setInt32(pos + 1, Math.floor(value / TWO_POW_32));
      this.view.setUint32(pos + 5, value >>> 0);
      this.pos = pos + 9;
    }
  }

  writeFloat64(value: number): void {
    this.ensure(9);
    this.bytes[this.pos] = 0xcb;
    this.view.setFloat64(this.pos + 1, value);
    this.pos += 9;
  }

  writeBigInt(value: bigint): void {
    if (value >= MIN_SAFE_BIG && value <= MAX_SAFE_BIG) {
      const number = Number(value);
      if (number >= 0) this.writeUint(number);
      else this.writeNegativeInt(number);
      return;
    }
    if (value > UINT64_MAX || value < INT64_MIN) {
      throw new EncodeError("Integer value out of range", "OverflowError");
    }
    const unsigned = BigInt.asUintN(64, value);
    this.ensure(9);
    this.bytes[this.pos] = value > 0n ? 0xcf : 0xd3;
    this.view.setUint32(this.pos + 1, Number(unsigned >> 32n));
    this.view.setUint32(this.pos + 5, Number(unsigned & UINT32_MASK_BIG));
    this.pos += 9;
  }

  writeString(text: string): void {
    const length = text.length;
    // The header is sized for the ASCII case (byte length == length); UTF-8 is never shorter, so
    // at worst the bytes move right once a larger header turns out to be needed.
    const start = this.pos;
    const reserved = strHeaderSize(length);
    let end: number;
    if (length < HAND_ENCODE_MAX) {
      this.ensure(5 + length * 3);
      end = writeUtf8(text, length, this.bytes, start + reserved);
    } else {
      end = this.encodeLong(text, start + reserved);
    }
    const size = end - start - reserved;
    const header = strHeaderSize(size);
    const bytes = this.bytes;
    if (header !== reserved) bytes.copyWithin(start + header, start + reserved, end);
    if (header === 1) {
      bytes[start] = 0xa0 | size;
    } else if (header === 2) {
      bytes[start] = 0xd9;
      bytes[start + 1] = size;
    } else if (header === 3) {
      bytes[start] = 0xda;
      bytes[start + 1] = size >>> 8;
      bytes[start + 2] = size;
    } else {
      bytes[start] = 0xdb;
      this.view.setUint32(start + 1, size);
    }
    this.pos = start + header + size;
  }

  /**
   * UTF-8 of a long string at `at` (header room reserved before it); returns the end. Room is made
   * for the ASCII case first (byte length == length), then for 3 bytes per unit of what did not
   * fit, so a large string does not reserve 3 bytes per unit up front. Leaves 4 spare bytes: a
   * header larger than the one reserved moves the bytes right by up to 3.
   */
  encodeLong(text: string, at: number): number {
    const length = text.length;
    this.ensure(at - this.pos + length + 8);
    let read = 0;
    let end = at;
    for (;;) {
      const rest = read === 0 ? text : text.substring(read);
      const result = textEncoder.encodeInto(rest, this.bytes.subarray(end, this.bytes.length - 4));
      read += result.read;
      end += result.written;
      if (read >= length) return end;
      const pos = this.pos;
      this.pos = end;
      this.ensure((length - read) * 3 + 8);
      this.pos = pos;
    }
  }

  writeBin(data: Uint8Array): void {
    const length = data.length;
    this.ensure(length >= BIN_SEGMENT_MIN_BYTES ? 5 : 5 + length);
    const bytes = this.bytes;
    let pos = this.pos;
    if (length < 0x100) {
      bytes[pos++] = 0xc4;
      bytes[pos++] = length;
    } else if (length < 0x10000) {
      bytes[pos++] = 0xc5;
      bytes[pos++] = length >>> 8;
      bytes[pos++] = length;
    } else {
      bytes[pos++] = 0xc6;
      this.view.setUint32(pos, length);
      pos += 4;
    }
    if (length >= BIN_SEGMENT_MIN_BYTES) {
      // By reference: finish() copies it once, into the result.
      (this.segments ??= []).push({ at: pos, data });
      this.segmentBytes += length;
      this.pos = pos;
      return;
    }
    if (length <= 32) {
      for (let i = 0; i < length; i++) bytes[pos + i] = data[i]!;
    } else {
      bytes.set(data, pos);
    }
    this.pos = pos + length;
  }

  writeExt(type: number, data: Uint8Array): void {
    if (type === -1) {
      const problem = timestampProblem(data);
      if (problem !== undefined) throw new EncodeError(`can not serialize a malformed timestamp: ${problem}`);
    }
    const length = data.length;
    this.ensure(6 + length);
    const bytes = this.bytes;
    let pos = this.pos;
    switch (length) {
      case 1:
        bytes[pos++] = 0xd4;
        break;
      case 2:
        bytes[pos++] = 0xd5;
        break;
      case 4:
        bytes[pos++] = 0xd6;
        break;
      case 8:
        bytes[pos++] = 0xd7;
        break;
      case 16:
        bytes[pos++] = 0xd8;
        break;
      default:
        if (length < 0x100) {
          bytes[pos++] = 0xc7;
          bytes[pos++] = length;
        } else if (length < 0x10000) {
          bytes[pos++] = 0xc8;
          bytes[pos++] = length >>> 8;
          bytes[pos++] = length;
        } else {
          bytes[pos++] = 0xc9;
          this.view.setUint32(pos, length);
          pos += 4;
        }
    }
    bytes[pos++] = type & 0xff;
    bytes.set(data, pos);
    this.pos = pos + length;
  }

  writeContainerHeader(count: number, fix: number, code16: number): void {
    this.ensure(5);
    const bytes = this.bytes;
    const pos = this.pos;
    if (count < 16) {
      bytes[pos] = fix | count;
      this.pos = pos + 1;
    } else if (count < 0x10000) {
      bytes[pos] = code16;
      bytes[pos + 1] = count >>> 8;
      bytes[pos + 2] = count;
      this.pos = pos + 3;
    } else {
      bytes[pos] = code16 + 1;
      this.view.setUint32(pos + 1, count);
      this.pos = pos + 5;
    }
  }

  writeArray(array: readonly unknown[], depth: number): void {
    const length = array.length;
    this.writeContainerHeader(length, 0x90, 0xdc);
    for (let i = 0; i < length; i++) this.writeValue(array[i], depth);
  }

  writeRecord(record: Record<string, unknown>, depth: number): void {
    const keys = Object.keys(record);
    const length = keys.length;
    this.writeContainerHeader(length, 0x80, 0xde);
    for (let i = 0; i < length; i++) {
      const key = keys[i]!;
      this.writeString(key);
      this.writeValue(record[key], depth);
    }
  }

  writeMap(map: Map<unknown, unknown>, depth: number): void {
    this.writeContainerHeader(map.size, 0x80, 0xde);
    for (const [key, value] of map) {
      if (this.anyKeys) {
        this.writeValue(key, depth);
      } else if (typeof key === "string") {
        this.writeString(key);
      } else if (key instanceof Uint8Array) {
        this.writeBin(key);
      } else if (key instanceof ArrayBuffer) {
        this.writeBin(new Uint8Array(key));
      } else {
        throw new EncodeError(
          `map key of type '${typeName(key)}' is not str or bin: zerorpc-python drops such messages ` +
            `(strict_map_key); pass mapKeys: "any" to send it anyway`,
        );
      }
      this.writeValue(value, depth);
    }
  }

  writeMessageId(id: unknown, key: string): void {
    if (id instanceof Uint8Array) {
      this.writeBin(id);
    } else if (typeof id === "string") {
      this.writeString(id);
    } else if (typeof id === "number" && Number.isSafeInteger(id)) {
      if (id >= 0) this.writeUint(id === 0 ? 0 : id);
      else this.writeNegativeInt(id);
    } else if (typeof id === "bigint") {
      this.writeBigInt(id);
    } else {
      throw new EncodeError(`event header ${key} must be bin (Uint8Array), str or int, got '${typeName(id)}'`);
    }
  }

  /** `[header, name, args]` with the header written by hand in Python's key order. */
  writeEvent(event: EventParts): void {
    const header = event.header;
    if (typeof header !== "object" || header === null) {
      throw new EncodeError(`event header must be an object, got '${typeName(header)}'`);
    }
    const record = header as Record<string, unknown>;
    const messageId = record.message_id;
    if (messageId === undefined) throw new EncodeError("event header has no message_id");
    const responseTo = record.response_to;
    let extras = 0;
    for (const key in record) {
      if (key !== "message_id" && key !== "v" && key !== "response_to" && Object.hasOwn(record, key)) extras++;
    }
    const name = event.name;
    if (typeof name !== "string") throw new EncodeError(`event name must be a string, got '${typeName(name)}'`);

    this.writeByte(0x93);
    this.writeContainerHeader(2 + extras + (responseTo === undefined ? 0 : 1), 0x80, 0xde);
    this.writeRaw(KEY_MESSAGE_ID);
    this.writeMessageId(messageId, "message_id");
    this.writeRaw(KEY_V_3);
    if (extras > 0) {
      for (const key in record) {
        if (key !== "message_id" && key !== "v" && key !== "response_to" && Object.hasOwn(record, key)) {
          this.writeString(key);
          this.writeValue(record[key], 2);
        }
      }
    }
    if (responseTo !== undefined) {
      this.writeRaw(KEY_RESPONSE_TO);
      this.writeMessageId(responseTo, "response_to");
    }
    this.writeString(name);
    this.writeValue(event.args, 1);
  }
}

const sharedEncoder = new Encoder();

/** The shared encoder, or a private one if the shared one is busy (a getter that encodes). */
function acquireEncoder(options: EncodeOptions | undefined): Encoder {
  const encoder = sharedEncoder.busy ? new Encoder() : sharedEncoder;
  encoder.busy = true;
  encoder.configure(options);
  return encoder;
}

/**
 * Encodes one value as msgpack, choosing formats like zerorpc-python's packer:
 * - `null` / `undefined` -> nil; booleans -> true / false;
 * - numbers: a safe integer (not `-0`) -> the smallest int format (positive fixint, uint8..64,
 *   negative fixint, int8..64); anything else (fractions, NaN, ±Infinity, `-0`, unsafe integers)
 *   -> float64; {@link Float64} -> always float64;
 * - `bigint` -> the smallest int format holding it; outside [-2^63, 2^64-1] -> {@link EncodeError}
 *   (`OverflowError`, "Integer value out of range");
 * - `string` -> str (UTF-8; lone surrogates become U+FFFD); `Uint8Array` (incl. `Buffer`) and
 *   `ArrayBuffer` -> bin; {@link Ext} -> fixext / ext; `Date` -> timestamp ext (-1);
 * - arrays -> array (holes and `undefined` -> nil); `Map` -> map (keys per `mapKeys`); plain
 *   objects (prototype `Object.prototype` or `null`) -> map of their own enumerable string keys,
 *   in insertion order (an `undefined` value is written as nil, not skipped);
 * - anything else (functions, symbols, class instances, other typed arrays, values nested deeper
 *   than `maxDepth`, cycles) -> {@link EncodeError} `can not serialize 'X' object`.
 *
 * Returns a new `Uint8Array` the caller owns. A result larger than 4 MiB is the encoder's own
 * buffer, sized for it up front (so its `.buffer` may be up to 1/8 larger than the result).
 */
export function encodeValue(value: unknown, options?: EncodeOptions): Uint8Array {
  const encoder = acquireEncoder(options);
  try {
    encoder.writeValue(value, 0);
    return encoder.finish();
  } finally {
    encoder.release();
    encoder.busy = false;
  }
}

/**
 * Like {@link encodeEventParts}, but returns chunks whose concatenation is the encoding: one chunk
 * for an event without large bins; with them, the bins (64 KiB and more) themselves, by
 * reference, between copied small pieces. For transports that can write several buffers as one
 * message (scatter/gather), saving the copy of large payloads.
 * @internal
 */
export function encodeEventPartsChunked(event: EventParts, options?: EncodeOptions): Uint8Array[] {
  const encoder = acquireEncoder(options);
  try {
    encoder.writeEvent(event);
    return encoder.finishChunks();
  } finally {
    encoder.release();
    encoder.busy = false;
  }
}

/**
 * Encodes `[header, name, args]` with the header written by hand (see `encodeEvent`).
 * @internal
 */
export function encodeEventParts(event: EventParts, options?: EncodeOptions): Uint8Array {
  const encoder = acquireEncoder(options);
  try {
    encoder.writeEvent(event);
    return encoder.finish();
  } finally {
    encoder.release();
    encoder.busy = false;
  }
}
