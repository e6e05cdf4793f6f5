// JavaScript representations of the msgpack values that plain JS types cannot carry faithfully:
// floats with an integral value, ext types and timestamps.
import { ProtocolError } from "./errors.js";

/**
 * A number that travels as msgpack **float64** even when its value is integral (`2.0`, `-0.0`).
 *
 * zerorpc-python sends every `float` as float64; a plain JS `2` would go back as an int, so the
 * decoder wraps integral floats in `Float64` (option `integralFloats: "wrap"`, the default) and the
 * encoder always writes a `Float64` as float64. Use `Number(x)` / `x.value` (or arithmetic, through
 * `valueOf`) to read it and {@link f64} to send a float on purpose.
 */
export class Float64 {
  /** The float value. */
  readonly value: number;

  /** @param value - any number (it is always sent as float64) */
  constructor(value: number) {
    this.value = value;
  }

  /** The plain number, so `+x`, `x * 2` and `Number(x)` work. */
  valueOf(): number {
    return this.value;
  }

  /** `JSON.stringify` writes the plain number. */
  toJSON(): number {
    return this.value;
  }

  /** The number as text; `-0` is written `"-0"` so it is told apart from `0`. */
  toString(): string {
    return Object.is(this.value, -0) ? "-0" : String(this.value);
  }
}

// Brand seen by the encoder of another loaded copy of this package (ESM and CJS builds).
Object.defineProperty(Float64.prototype, Symbol.for("zrpc.Float64"), { value: true });

/** Shorthand for `new Float64(value)`: a number that must travel as msgpack float64. */
export function f64(value: number): Float64 {
  return new Float64(value);
}

/**
 * Any msgpack extension value (fixext 1/2/4/8/16, ext 8/16/32), kept byte-exact: decoding and
 * re-encoding an `Ext` gives the same bytes. Type `-1` is the msgpack timestamp (see
 * {@link timestampToDate}).
 *
 * zerorpc-python's `ExtType` only allows types 0..127 (plus -1 as `Timestamp`), so other negative
 * types are not safe to send towards Python.
 */
export class Ext {
  /** Extension type, an integer in -128..127. */
  readonly type: number;
  /** The extension payload (not copied: do not mutate it while the `Ext` is in use). */
  readonly data: Uint8Array;

  /**
   * @param type - integer in -128..127 (throws `RangeError` otherwise)
   * @param data - the payload, at most 2^32 - 1 bytes
   */
  constructor(type: number, data: Uint8Array) {
    if (!Number.isInteger(type) || type < -128 || type > 127) {
      throw new RangeError(`ext type must be an integer in -128..127, got ${String(type)}`);
    }
    if (!(data instanceof Uint8Array)) throw new TypeError("ext data must be a Uint8Array");
    this.type = type;
    this.data = data;
  }
}

Object.defineProperty(Ext.prototype, Symbol.for("zrpc.Ext"), { value: true });

/** The msgpack extension type of timestamps (`Timestamp` in msgpack-python >= 1.0). */
export const TIMESTAMP_EXT_TYPE = -1;

const TWO_POW_32 = 4294967296;
const TWO_POW_34 = 17179869184;

/**
 * Encodes a `Date` as a msgpack timestamp ext in the smallest form, as msgpack-python does:
 * timestamp32 (4 bytes) for whole seconds in 0..2^32-1, timestamp64 (8 bytes) for
 * 0 <= seconds < 2^34, timestamp96 (12 bytes) otherwise (e.g. before 1970).
 * Throws `RangeError` for an invalid `Date`.
 */
export function timestampFromDate(date: Date): Ext {
  const ms = date.getTime();
  if (Number.isNaN(ms)) throw new RangeError("cannot encode an invalid Date as a timestamp");
  const seconds = Math.floor(ms / 1000);
  const nanoseconds = (ms - seconds * 1000) * 1_000_000;
  return timestampFromParts(seconds, nanoseconds);
}

/** Builds the smallest timestamp ext for a safe-integer `seconds` and `nanoseconds` < 1e9. */
function timestampFromParts(seconds: number, nanoseconds: number): Ext {
  if (seconds >= 0 && seconds < TWO_POW_34) {
    if (nanoseconds === 0 && seconds < TWO_POW_32) {
      const data = new Uint8Array(4);
      new DataView(data.buffer).setUint32(0, seconds);
      return new Ext(TIMESTAMP_EXT_TYPE, data);
    }
    // timestamp64: nanoseconds in the upper 30 bits, seconds in the lower 34.
    const data = new Uint8Array(8);
    const view = new DataView(data.buffer);
    const secondsHigh = Math.floor(seconds / TWO_POW_32);
    view.setUint32(0, nanoseconds * 4 + secondsHigh);
    view.setUint32(4, seconds >>> 0);
    return new Ext(TIMESTAMP_EXT_TYPE, data);
  }
  const data = new Uint8Array(12);
  const view = new DataView(data.buffer);
  view.setUint32(0, nanoseconds);
  view.setBigInt64(4, BigInt(seconds));
  return new Ext(TIMESTAMP_EXT_TYPE, data);
}

/**
 * Why `data` is not a valid timestamp payload, or `undefined` when it is one.
 * @internal
 */
export function timestampProblem(data: Uint8Array): string | undefined {
  const length = data.length;
  if (length === 4) return undefined;
  if (length !== 8 && length !== 12) {
    return `timestamp ext must be 4, 8 or 12 bytes, got ${length}`;
  }
  // timestamp64 keeps nanoseconds in the upper 30 bits, timestamp96 in the first uint32.
  const first = ((data[0]! << 24) | (data[1]! << 16) | (data[2]! << 8) | data[3]!) >>> 0;
  const nanoseconds = length === 8 ? first >>> 2 : first;
  return nanoseconds >= 1_000_000_000 ? `timestamp nanoseconds out of range: ${nanoseconds}` : undefined;
}

/**
 * The exact content of a timestamp ext: whole seconds since the Unix epoch (may be negative, up
 * to 64 bits, hence `bigint`) and nanoseconds (0..999,999,999).
 * Throws {@link ProtocolError} (`"invalid-msgpack"`) if `ext` is not a valid timestamp (type other
 * than -1, length other than 4/8/12, nanoseconds >= 1e9).
 */
export function timestampParts(ext: Ext): { seconds: bigint; nanoseconds: number } {
  if (ext.type !== TIMESTAMP_EXT_TYPE) {
    throw new ProtocolError("invalid-msgpack", `ext type ${ext.type} is not a timestamp (-1)`);
  }
  const problem = timestampProblem(ext.data);
  if (problem !== undefined) throw new ProtocolError("invalid-msgpack", problem);
  const data = ext.data;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  if (data.length === 4) return { seconds: BigInt(view.getUint32(0)), nanoseconds: 0 };
  if (data.length === 8) {
    const high = view.getUint32(0);
    const seconds = (high & 3) * TWO_POW_32 + view.getUint32(4);
    return { seconds: BigInt(seconds), nanoseconds: high >>> 2 };
  }
  return { seconds: view.getBigInt64(4), nanoseconds: view.getUint32(0) };
}

/** Milliseconds a JS `Date` can hold on either side of the epoch. */
const MAX_DATE_MS = 8_640_000_000_000_000;

/**
 * Converts a timestamp ext to a `Date`. A `Date` holds milliseconds, so sub-millisecond
 * nanoseconds are truncated (use {@link timestampParts} for the exact value).
 * Throws {@link ProtocolError} (`"invalid-msgpack"`) for a malformed timestamp and `RangeError`
 * for one outside the range of `Date` (±8.64e15 ms).
 */
export function timestampToDate(ext: Ext): Date {
  const { seconds, nanoseconds } = timestampParts(ext);
  const ms = Number(seconds) * 1000 + Math.floor(nanoseconds / 1_000_000);
  if (!(Math.abs(ms) <= MAX_DATE_MS)) {
    throw new RangeError(`timestamp ${seconds}s is outside the range of a JS Date`);
  }
  return new Date(ms);
}

/**
 * What the decoder produces and the encoder accepts (besides the extra JS inputs the encoder
 * takes: `undefined`, `ArrayBuffer`, `Date`):
 * `null` (nil), `boolean`, `number` (safe ints and non-integral floats), `bigint` (ints beyond
 * 2^53-1), `string` (str), `Uint8Array` (bin), {@link Float64} (integral floats), {@link Ext},
 * arrays, plain objects (maps whose keys are all str) and `Map` (maps with any other key).
 */
export type WireValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | Float64
  | Ext
  | readonly WireValue[]
  | { readonly [key: string]: WireValue }
  | ReadonlyMap<WireValue, WireValue>;
