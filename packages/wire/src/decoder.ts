// The msgpack decoder of @zrpc/wire, written for zerorpc's needs (docs/protocol section 3):
// integral floats kept as Float64, maps with non-str keys as `Map`, ext and timestamps
// byte-exact, ints beyond 2^53 as bigint, `__proto__` keys as own data properties (no prototype
// is ever touched), typed errors and input limits.
// The encoder is encoder.ts.
//
// Hot-path notes: one shared Decoder (decoding never runs user code, so it cannot re-enter).
// Short strings are UTF-8 decoded by hand, long ones by TextDecoder; short decoded strings go
// through a small cache so repeated map keys cost no allocation.
import { ProtocolError } from "./errors.js";
import { DEFAULT_MAX_DEPTH, DEFAULT_MAX_MESSAGE_BYTES } from "./limits.js";
import { Ext, Float64, timestampProblem } from "./values.js";
import type { WireValue } from "./values.js";

/** Options of {@link decodeValue} and `decodeEvent`. Every limit guards against hostile input. */
export interface DecodeOptions {
  /**
   * How floats (float32 and float64) with an integral value, or `-0`, are decoded.
   * `"wrap"` (default): as {@link Float64}, so they are re-encoded as float64; other floats are
   * plain numbers. `"number"`: always plain numbers (an integral one then re-encodes as an int).
   */
  integralFloats?: "wrap" | "number";
  /**
   * Largest input accepted, in bytes; a larger one is rejected (`"too-large"`) before parsing.
   * Defaults to 100 MiB (104,857,600), zerorpc-python's limit.
   */
  maxMessageBytes?: number;
  /** Deepest nesting of arrays and maps accepted (`"too-deep"` beyond). Defaults to 64. */
  maxDepth?: number;
  /** Longest str accepted, in bytes (`"limit"` beyond). Defaults to `maxMessageBytes`. */
  maxStrLength?: number;
  /** Longest bin accepted, in bytes (`"limit"` beyond). Defaults to `maxMessageBytes`. */
  maxBinLength?: number;
  /** Most array elements accepted (`"limit"` beyond). Defaults to `maxMessageBytes`. */
  maxArrayLength?: number;
  /** Most map entries accepted (`"limit"` beyond). Defaults to `maxMessageBytes`. */
  maxMapLength?: number;
  /** Longest ext payload accepted, in bytes (`"limit"` beyond). Defaults to `maxMessageBytes`. */
  maxExtLength?: number;
}

const TWO_POW_32 = 4294967296;
const EMPTY_BYTES = new Uint8Array(0);

/** str payloads up to this many bytes are decoded by hand (and cached up to STR_CACHE_MAX_BYTES). */
const HAND_DECODE_MAX = 64;
const STR_CACHE_MAX_BYTES = 16;
const STR_CACHE_SLOTS = 2048; // power of two

/** bin payloads of at least this many bytes decode as views into the input, smaller ones as copies. */
const BIN_VIEW_MIN_BYTES = 4096;

const textDecoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Cache of short decoded strings (map keys, event names): bytes -> string, direct-mapped. */
const strCacheBytes = new Uint8Array(STR_CACHE_SLOTS * STR_CACHE_MAX_BYTES);
const strCacheLengths = new Uint8Array(STR_CACHE_SLOTS);
const strCacheValues: string[] = new Array<string>(STR_CACHE_SLOTS).fill("");
/** UTF-16 units of a hand-decoded string. */
const units = new Uint16Array(HAND_DECODE_MAX);

function invalidUtf8(at: number): ProtocolError {
  return new ProtocolError("invalid-utf8", `invalid UTF-8 in str at offset ${at}`, { offset: at });
}

function formatByte(byte: number): string {
  return `0x${byte.toString(16).padStart(2, "0")}`;
}

class Decoder {
  bytes: Uint8Array = EMPTY_BYTES;
  view: DataView | undefined = undefined;
  pos = 0;
  end = 0;
  wrapFloats = true;
  maxDepth = DEFAULT_MAX_DEPTH;
  maxStr = DEFAULT_MAX_MESSAGE_BYTES;
  maxBin = DEFAULT_MAX_MESSAGE_BYTES;
  maxArray = DEFAULT_MAX_MESSAGE_BYTES;
  maxMap = DEFAULT_MAX_MESSAGE_BYTES;
  maxExt = DEFAULT_MAX_MESSAGE_BYTES;
  /** Str keys of the maps being decoded, in wire order (to rebuild a map as `Map` in order). */
  keys: string[] = [];
  /** Used length of `keys` (setting `keys.length` is slow; stale entries above are harmless). */
  keysTop = 0;

  configure(bytes: Uint8Array, options: DecodeOptions | undefined, maxMessage: number): void {
    // A Buffer's `slice` is a view, not a copy: read through a plain Uint8Array so that bin and
    // ext values are plain Uint8Arrays and copies really are copies.
    this.bytes = bytes.constructor === Uint8Array ? bytes : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.pos = 0;
    this.end = bytes.length;
    this.view = undefined;
    if (options === undefined) {
      this.wrapFloats = true;
      this.maxDepth = DEFAULT_MAX_DEPTH;
      this.maxStr = this.maxBin = this.maxArray = this.maxMap = this.maxExt = maxMessage;
    } else {
      this.wrapFloats = options.integralFloats !== "number";
      this.maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
      this.maxStr = options.maxStrLength ?? maxMessage;
      this.maxBin = options.maxBinLength ?? maxMessage;
      this.maxArray = options.maxArrayLength ?? maxMessage;
      this.maxMap = options.maxMapLength ?? maxMessage;
      this.maxExt = options.maxExtLength ?? maxMessage;
    }
  }

  reset(): void {
    this.bytes = EMPTY_BYTES;
    this.view = undefined;
    this.keysTop = 0;
    // Drop references to decoded strings only if the stack grew unusually large.
    if (this.keys.length > 1024) this.keys = [];
  }

  dataView(): DataView {
    return (this.view ??= new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength));
  }

  truncated(what: string, needed: number, at: number): ProtocolError {
    const remain = this.end - at;
    return new ProtocolError(
      "truncated",
      `truncated msgpack: ${what} needs ${needed} bytes at offset ${at}, ${remain} remain`,
      { offset: at },
    );
  }

  /**
   * Checks a declared length against the remaining input (first) and the configured limit of
   * `kind`: str, bin and ext lengths count bytes, arrays elements (at least 1 byte each) and
   * maps entries (at least 2 bytes each).
   */
  checkLength(what: string, declared: number, at: number, kind: "str" | "bin" | "ext" | "array" | "map"): void {
    const remain = this.end - this.pos;
    const minBytes = kind === "map" ? 2 : 1;
    if (declared * minBytes > remain) {
      const unit = kind === "map" ? "entries" : kind === "array" ? "elements" : "bytes";
      throw new ProtocolError(
        "truncated",
        `truncated msgpack: ${what} declares ${declared} ${unit} at offset ${at}, ${remain} bytes remain`,
        { offset: at },
      );
    }
    const limit = this.limitOf(kind);
    if (declared > limit) {
      throw new ProtocolError("limit", `${what} at offset ${at} declares ${declared}, over the limit of ${limit}`, {
        offset: at,
      });
    }
  }

  limitOf(kind: "str" | "bin" | "ext" | "array" | "map"): number {
    switch (kind) {
      case "str":
        return this.maxStr;
      case "bin":
        return this.maxBin;
      case "ext":
        return this.maxExt;
      case "array":
        return this.maxArray;
      case "map":
        return this.maxMap;
    }
  }

  /** Reads an unsigned big-endian integer of `size` (1, 2 or 4) bytes following the type byte. */
  readLength(size: number, what: string): number {
    const pos = this.pos;
    if (pos + size > this.end) throw this.truncated(what, size, pos);
    const bytes = this.bytes;
    this.pos = pos + size;
    if (size === 1) return bytes[pos]!;
    if (size === 2) return (bytes[pos]! << 8) | bytes[pos + 1]!;
    return (bytes[pos]! * 0x1000000 + ((bytes[pos + 1]! << 16) | (bytes[pos + 2]! << 8) | bytes[pos + 3]!));
  }

  readValue(depth: number): WireValue {
    const start = this.pos;
    if (start >= this.end) throw this.truncated("a value", 1, start);
    const byte = this.bytes[start]!;
    this.pos = start + 1;
    if (byte < 0x80) return byte;
    if (byte >= 0xe0) return byte - 0x100;
    if (byte < 0x90) return this.readMap(byte & 0x0f, depth, start, "fixmap");
    if (byte < 0xa0) return this.readArray(byte & 0x0f, depth, start, "fixarray");
    if (byte < 0xc0) return this.readStr(byte & 0x1f, start, "fixstr");
    switch (byte) {
      case 0xc0:
        return null;
      case 0xc2:
        return false;
      case 0xc3:
        return true;
      case 0xc4:
        return this.readBin(this.readLength(1, "bin8"), start, "bin8");
      case 0xc5:
        return this.readBin(this.readLength(2, "bin16"), start, "bin16");
      case 0xc6:
        return this.readBin(this.readLength(4, "bin32"), start, "bin32");
      case 0xc7:
        return this.readExt(this.readLength(1, "ext8"), start, "ext8");
      case 0xc8:
        return this.readExt(this.readLength(2, "ext16"), start, "ext16");
      case 0xc9:
        return this.readExt(this.readLength(4, "ext32"), start, "ext32");
      case 0xca:
        return this.readFloat(4);
      case 0xcb:
        return this.readFloat(8);
      case 0xcc:
        return this.readLength(1, "uint8");
      case 0xcd:
        return this.readLength(2, "uint16");
      case 0xce:
        return this.readLength(4, "uint32");
      case 0xcf:
        return this.readInt64(false);
      case 0xd0:
        return (this.readLength(1, "int8") << 24) >> 24;
      case 0xd1:
        return (this.readLength(2, "int16") << 16) >> 16;
      case 0xd2:
        return this.readLength(4, "int32") | 0;
      case 0xd3:
        return this.readInt64(true);
      case 0xd4:
        return this.readExt(1, start, "fixext1");
      case 0xd5:
        return this.readExt(2, start, "fixext2");
      case 0xd6:
        return this.readExt(4, start, "fixext4");
      case 0xd7:
        return this.readExt(8, start, "fixext8");
      case 0xd8:
        return this.readExt(16, start, "fixext16");
      case 0xd9:
        return this.readStr(this.readLength(1, "str8"), start, "str8");
      case 0xda:
        return this.readStr(this.readLength(2, "str16"), start, "str16");
      case 0xdb:
        return this.readStr(this.readLength(4, "str32"), start, "str32");
      case 0xdc:
        return this.readArray(this.readLength(2, "array16"), depth, start, "array16");
      case 0xdd:
        return this.readArray(this.readLength(4, "array32"), depth, start, "array32");
      case 0xde:
        return this.readMap(this.readLength(2, "map16"), depth, start, "map16");
      case 0xdf:
        return this.readMap(this.readLength(4, "map32"), depth, start, "map32");
      default:
        // 0xc1 is the only byte msgpack never uses.
        throw new ProtocolError("invalid-msgpack", `invalid msgpack: byte ${formatByte(byte)} at offset ${start}`, {
          offset: start,
        });
    }
  }

  readFloat(size: 4 | 8): number | Float64 {
    const pos = this.pos;
    if (pos + size > this.end) throw this.truncated(size === 4 ? "float32" : "float64", size, pos);
    this.pos = pos + size;
    const view = this.dataView();
    const value = size === 4 ? view.getFloat32(pos) : view.getFloat64(pos);
    return this.wrapFloats && Number.isInteger(value) ? new Float64(value) : value;
  }

  readInt64(signed: boolean): number | bigint {
    const pos = this.pos;
    if (pos + 8 > this.end) throw this.truncated(signed ? "int64" : "uint64", 8, pos);
    this.pos = pos + 8;
    const bytes = this.bytes;
    const high = (bytes[pos]! << 24) | (bytes[pos + 1]! << 16) | (bytes[pos + 2]! << 8) | bytes[pos + 3]!;
    const low = ((bytes[pos + 4]! << 24) | (bytes[pos + 5]! << 16) | (bytes[pos + 6]! << 8) | bytes[pos + 7]!) >>> 0;
    // high is the signed upper word here; |value| < 2^53 when it fits in 21 bits.
    const upper = signed ? high : high >>> 0;
    if (upper >= -0x200000 && upper < 0x200000) {
      const value = upper * TWO_POW_32 + low;
      if (value >= -Number.MAX_SAFE_INTEGER) return value;
    }
    const big = (BigInt(high >>> 0) << 32n) | BigInt(low);
    return signed ? BigInt.asIntN(64, big) : big;
  }

  readStr(length: number, start: number, what: string): string {
    if (length === 0) return "";
    this.checkLength(what, length, start, "str");
    const pos = this.pos;
    this.pos = pos + length;
    if (length <= STR_CACHE_MAX_BYTES) return this.cachedStr(pos, length);
    if (length <= HAND_DECODE_MAX) return this.handDecode(pos, length);
    try {
      return textDecoder.decode(this.bytes.subarray(pos, pos + length));
    } catch (error) {
      throw new ProtocolError("invalid-utf8", `invalid UTF-8 in ${what} at offset ${start}`, {
        offset: start,
        cause: error,
      });
    }
  }

  cachedStr(pos: number, length: number): string {
    const bytes = this.bytes;
    let hash = 0x811c9dc5 ^ length;
    for (let i = 0; i < length; i++) hash = Math.imul(hash ^ bytes[pos + i]!, 0x01000193);
    const slot = (hash ^ (hash >>> 15)) & (STR_CACHE_SLOTS - 1);
    const base = slot * STR_CACHE_MAX_BYTES;
    if (strCacheLengths[slot] === length) {
      let same = true;
      for (let i = 0; i < length; i++) {
        if (strCacheBytes[base + i] !== bytes[pos + i]) {
          same = false;
          break;
        }
      }
      if (same) return strCacheValues[slot]!;
    }
    const text = this.handDecode(pos, length);
    for (let i = 0; i < length; i++) strCacheBytes[base + i] = bytes[pos + i]!;
    strCacheLengths[slot] = length;
    strCacheValues[slot] = text;
    return text;
  }

  /** Strict UTF-8 (as Python's decoder and TextDecoder's fatal mode) for short payloads. */
  handDecode(pos: number, length: number): string {
    const bytes = this.bytes;
    const end = pos + length;
    let count = 0;
    while (pos < end) {
      const first = bytes[pos]!;
      if (first < 0x80) {
        units[count++] = first;
        pos += 1;
      } else if (first >= 0xc2 && first < 0xe0) {
        const second = pos + 1 < end ? bytes[pos + 1]! : 0;
        if ((second & 0xc0) !== 0x80) throw invalidUtf8(pos);
        units[count++] = ((first & 0x1f) << 6) | (second & 0x3f);
        pos += 2;
      } else if (first >= 0xe0 && first < 0xf0) {
        const second = pos + 1 < end ? bytes[pos + 1]! : 0;
        const third = pos + 2 < end ? bytes[pos + 2]! : 0;
        // Bounds of the second byte exclude overlong forms (E0) and surrogates (ED).
        const low = first === 0xe0 ? 0xa0 : 0x80;
        const high = first === 0xed ? 0x9f : 0xbf;
        if (second < low || second > high || (third & 0xc0) !== 0x80) throw invalidUtf8(pos);
        units[count++] = ((first & 0x0f) << 12) | ((second & 0x3f) << 6) | (third & 0x3f);
        pos += 3;
      } else if (first >= 0xf0 && first <= 0xf4) {
        const second = pos + 1 < end ? bytes[pos + 1]! : 0;
        const third = pos + 2 < end ? bytes[pos + 2]! : 0;
        const fourth = pos + 3 < end ? bytes[pos + 3]! : 0;
        // Bounds of the second byte exclude overlong forms (F0) and code points above U+10FFFF (F4).
        const low = first === 0xf0 ? 0x90 : 0x80;
        const high = first === 0xf4 ? 0x8f : 0xbf;
        if (second < low || second > high || (third & 0xc0) !== 0x80 || (fourth & 0xc0) !== 0x80) {
          throw invalidUtf8(pos);
        }
        const point =
          (((first & 0x07) << 18) | ((second & 0x3f) << 12) | ((third & 0x3f) << 6) | (fourth & 0x3f)) - 0x10000;
        units[count++] = 0xd800 + (point >> 10);
        units[count++] = 0xdc00 + (point & 0x3ff);
        pos += 4;
      } else {
        // Continuation byte in first position, C0/C1 (overlong) or F5..FF.
        throw invalidUtf8(pos);
      }
    }
    return String.fromCharCode.apply(null, units.subarray(0, count) as unknown as number[]);
  }

  readBin(length: number, start: number, what: string): Uint8Array {
    this.checkLength(what, length, start, "bin");
    const pos = this.pos;
    this.pos = pos + length;
    // Small bins (ids) are copied: they must not pin a large input, nor expose a pooled Buffer's
    // slab through `.buffer` (Node pools only Buffers under 4 KiB). Large ones are zero-copy views.
    return length < BIN_VIEW_MIN_BYTES ? this.bytes.slice(pos, pos + length) : this.bytes.subarray(pos, pos + length);
  }

  readExt(length: number, start: number, what: string): Ext {
    const typePos = this.pos;
    if (typePos >= this.end) throw this.truncated(`${what} type`, 1, typePos);
    this.pos = typePos + 1;
    this.checkLength(what, length, start, "ext");
    const type = (this.bytes[typePos]! << 24) >> 24;
    const pos = this.pos;
    this.pos = pos + length;
    const data = this.bytes.slice(pos, pos + length);
    if (type === -1) {
      const problem = timestampProblem(data);
      if (problem !== undefined) {
        // msgpack-python >= 1.0 turns ext -1 into a Timestamp and drops the message if it cannot.
        throw new ProtocolError("invalid-msgpack", `invalid msgpack: ${problem} at offset ${start}`, { offset: start });
      }
    }
    return new Ext(type, data);
  }

  checkDepth(depth: number, start: number): void {
    if (depth >= this.maxDepth) {
      throw new ProtocolError("too-deep", `msgpack nested deeper than ${this.maxDepth} levels at offset ${start}`, {
        offset: start,
      });
    }
  }

  readArray(length: number, depth: number, start: number, what: string): WireValue[] {
    this.checkDepth(depth, start);
    this.checkLength(what, length, start, "array");
    const inner = depth + 1;
    if (length <= 4096) {
      const array = new Array<WireValue>(length);
      for (let i = 0; i < length; i++) array[i] = this.readValue(inner);
      return array;
    }
    const array: WireValue[] = [];
    for (let i = 0; i < length; i++) array.push(this.readValue(inner));
    return array;
  }

  /** Reads a str key if the next value is a str, else returns undefined without consuming it. */
  readStrKey(): string | undefined {
    const start = this.pos;
    if (start >= this.end) throw this.truncated("a map key", 1, start);
    const byte = this.bytes[start]!;
    if (byte >= 0xa0 && byte < 0xc0) {
      this.pos = start + 1;
      return this.readStr(byte & 0x1f, start, "fixstr");
    }
    if (byte === 0xd9) {
      this.pos = start + 1;
      return this.readStr(this.readLength(1, "str8"), start, "str8");
    }
    if (byte === 0xda) {
      this.pos = start + 1;
      return this.readStr(this.readLength(2, "str16"), start, "str16");
    }
    if (byte === 0xdb) {
      this.pos = start + 1;
      return this.readStr(this.readLength(4, "str32"), start, "str32");
    }
    return undefined;
  }

  readMap(length: number, depth: number, start: number, what: string): WireValue {
    this.checkDepth(depth, start);
    this.checkLength(what, length, start, "map");
    const inner = depth + 1;
    // Optimistically a plain object (every key a str); the first other key turns it into a Map.
    const record: Record<string, WireValue> = {};
    const keysStart = this.keysTop;
    for (let i = 0; i < length; i++) {
      const key = this.readStrKey();
      if (key === undefined) return this.continueAsMap({ record, keysStart, done: i, length, inner });
      const value = this.readValue(inner);
      this.keys[this.keysTop++] = key;
      if (key === "__proto__") {
        // An assignment would call Object.prototype's __proto__ setter (and change this object's
        // prototype); a defined property is an own data property, as JSON.parse makes it.
        Object.defineProperty(record, key, { value, writable: true, enumerable: true, configurable: true });
      } else {
        record[key] = value;
      }
    }
    this.keysTop = keysStart;
    return record;
  }

  /** The rest of {@link readMap} once a key that is not a str turned up (rare: no allocation concern). */
  continueAsMap(state: {
    readonly record: Record<string, WireValue>;
    readonly keysStart: number;
    readonly done: number;
    readonly length: number;
    readonly inner: number;
  }): Map<WireValue, WireValue> {
    const { record, keysStart, done, length, inner } = state;
    const map = new Map<WireValue, WireValue>();
    const keys = this.keys;
    // Own properties only (an own "__proto__" data property included): `record[key]` is safe.
    for (let i = keysStart; i < this.keysTop; i++) {
      const key = keys[i]!;
      map.set(key, record[key]!);
    }
    this.keysTop = keysStart;
    for (let i = done; i < length; i++) {
      const key = this.readValue(inner);
      map.set(key, this.readValue(inner));
    }
    return map;
  }
}

const sharedDecoder = new Decoder();

function isStackOverflow(error: unknown): boolean {
  return error instanceof RangeError && /call stack/i.test(error.message);
}

/**
 * Decodes the first msgpack object in `bytes`; trailing bytes are ignored (as zerorpc-python
 * does). Every malformed or over-limit input throws {@link ProtocolError}, never another error.
 *
 * - nil -> `null`; true / false; ints -> `number` when safe (|x| <= 2^53-1), else `bigint`;
 * - float32 / float64 -> `number`, or {@link Float64} for integral values and `-0` (see
 *   `integralFloats`);
 * - str -> `string` (invalid UTF-8 -> `"invalid-utf8"`: Python drops such messages);
 * - bin -> `Uint8Array`: a **copy** below 4096 bytes (ids and other small values never pin the
 *   input nor expose a pooled `Buffer`), a zero-copy **view** into `bytes` from 4096 bytes on (so
 *   do not reuse or modify the input buffer while such values are in use; `.slice()` to own one);
 * - array -> array; ext -> {@link Ext} (data copied); a malformed timestamp (ext -1) ->
 *   `"invalid-msgpack"` (Python drops it too);
 * - map whose keys are all str -> plain object (own properties, `Object.prototype` as prototype;
 *   a `"__proto__"` key is an own data property, as `JSON.parse` makes it: no prototype is
 *   touched, and `encodeValue` writes it back in its place); any other map -> `Map`, keys decoded
 *   as values.
 *   Note: JS objects list integer-like keys ("1", "2") first, so such keys do not keep wire order;
 * - byte 0xc1 -> `"invalid-msgpack"`; input ending inside a value, or declaring more bytes or
 *   elements than remain -> `"truncated"` (checked before allocating anything).
 */
export function decodeValue(bytes: Uint8Array, options?: DecodeOptions): WireValue {
  if (!(bytes instanceof Uint8Array)) throw new TypeError("decodeValue expects a Uint8Array");
  const maxMessage = options?.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  if (bytes.length > maxMessage) {
    throw new ProtocolError("too-large", `message of ${bytes.length} bytes exceeds the limit of ${maxMessage} bytes`);
  }
  const decoder = sharedDecoder;
  decoder.configure(bytes, options, maxMessage);
  try {
    return decoder.readValue(0);
  } catch (error) {
    // Only reachable with a huge maxDepth: report it like the depth limit.
    if (isStackOverflow(error)) {
      throw new ProtocolError("too-deep", "msgpack nested too deep for the call stack", { cause: error });
    }
    throw error;
  } finally {
    decoder.reset();
  }
}
