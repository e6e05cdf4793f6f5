// Typed JSON: the JSON spelling of msgpack values used by the golden vectors
// (docs: shared protocol/vectors/README.md, "typed JSON"). Every msgpack type stays distinct:
// ints beyond 2^53 are {"$int": "..."}, floats {"$f64": x}, bin {"$bin": hex}, ext
// {"$ext": [type, hex]}, and maps whose keys are not all plain str {"$map": [[k, v], ...]}.
import { Ext, Float64 } from "@zrpc/wire";
import type { WireValue } from "@zrpc/wire";

/** A value in typed JSON: plain JSON whose `$`-keyed single-entry objects carry msgpack types. */
export type TypedJson =
  | null
  | boolean
  | number
  | string
  | TypedJson[]
  | { [key: string]: TypedJson };

const HEX_DIGITS = "0123456789abcdef";

/** Lowercase hex of some bytes. */
export function bytesToHex(bytes: Uint8Array): string {
  let out = "";
  for (const byte of bytes) out += HEX_DIGITS[byte >> 4]! + HEX_DIGITS[byte & 15]!;
  return out;
}

/** Bytes of a hex string (either case); throws `TypeError` on odd length or a non-hex digit. */
export function hexToBytes(hex: string): Uint8Array {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) throw new TypeError(`invalid hex string: ${hex.slice(0, 40)}`);
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

function floatToTyped(value: number): TypedJson {
  if (Number.isNaN(value)) return { $f64: "NaN" };
  if (value === Infinity) return { $f64: "Infinity" };
  if (value === -Infinity) return { $f64: "-Infinity" };
  return { $f64: value };
}

function isFloat64(value: unknown): value is Float64 {
  return value instanceof Float64 || (typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[Symbol.for("zrpc.Float64")] === true);
}

function isExt(value: unknown): value is Ext {
  return value instanceof Ext || (typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[Symbol.for("zrpc.Ext")] === true);
}

function isPlainObject(value: object): value is Record<string, unknown> {
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * Converts a decoded msgpack value (as `@zrpc/wire` produces it, or as its encoder accepts it) to
 * typed JSON, spelling each value by the msgpack type it travels as:
 * a safe integer `number` (not `-0`) is an int, any other `number` a float64 (that is what the
 * wire encoder sends); a `bigint` is an int (`{"$int": ...}` beyond 2^53 - 1); {@link Float64} is
 * a float64; `Uint8Array` / `ArrayBuffer` is bin; {@link Ext} is ext (timestamps are ext -1); a
 * `Date` is a timestamp ext. A `Map` or object whose keys are all str not starting with `$` is a
 * JSON object, any other map `{"$map": ...}`. `undefined` is nil.
 * Throws `TypeError` for values that are not msgpack (functions, symbols, class instances).
 */
export function toTypedJson(value: unknown): TypedJson {
  switch (typeof value) {
    case "undefined":
      return null;
    case "boolean":
    case "string":
      return value;
    case "number":
      return Number.isSafeInteger(value) && !Object.is(value, -0) ? value : floatToTyped(value);
    case "bigint":
      return value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= -BigInt(Number.MAX_SAFE_INTEGER)
        ? Number(value)
        : { $int: value.toString() };
    case "object":
      return objectToTyped(value);
    case "symbol":
    case "function":
      throw new TypeError(`not a msgpack value: ${typeof value}`);
  }
}

function objectToTyped(value: object | null): TypedJson {
  if (value === null) return null;
  if (isFloat64(value)) return floatToTyped(value.value);
  if (value instanceof Uint8Array) return { $bin: bytesToHex(value) };
  if (value instanceof ArrayBuffer) return { $bin: bytesToHex(new Uint8Array(value)) };
  if (isExt(value)) return { $ext: [value.type, bytesToHex(value.data)] };
  if (value instanceof Date) {
    const ms = value.getTime();
    const seconds = Math.floor(ms / 1000);
    const nanoseconds = (ms - seconds * 1000) * 1_000_000;
    return toTypedJson(timestampExt(BigInt(seconds), nanoseconds));
  }
  if (Array.isArray(value)) return (value as unknown[]).map((item) => toTypedJson(item));
  if (value instanceof Map) return entriesToTyped([...(value as Map<unknown, unknown>).entries()]);
  if (isPlainObject(value)) return entriesToTyped(Object.entries(value));
  throw new TypeError(`not a msgpack value: ${Object.prototype.toString.call(value)}`);
}

function entriesToTyped(entries: [unknown, unknown][]): TypedJson {
  const plain = entries.every(([key]) => typeof key === "string" && !key.startsWith("$"));
  if (plain) {
    const out: Record<string, TypedJson> = {};
    for (const [key, item] of entries) {
      Object.defineProperty(out, key as string, { value: toTypedJson(item), enumerable: true, writable: true, configurable: true });
    }
    return out;
  }
  return { $map: entries.map(([key, item]) => [toTypedJson(key), toTypedJson(item)]) };
}

/**
 * Builds the timestamp ext (type -1) for `seconds` and `nanoseconds` in the smallest form
 * (timestamp32 / 64 / 96), as msgpack-python does.
 */
export function timestampExt(seconds: bigint, nanoseconds = 0): Ext {
  if (seconds >= 0n && seconds < 1n << 34n) {
    if (nanoseconds === 0 && seconds < 1n << 32n) {
      const data = new Uint8Array(4);
      new DataView(data.buffer).setUint32(0, Number(seconds));
      return new Ext(-1, data);
    }
    const data = new Uint8Array(8);
    new DataView(data.buffer).setBigUint64(0, (BigInt(nanoseconds) << 34n) | seconds);
    return new Ext(-1, data);
  }
  const data = new Uint8Array(12);
  const view = new DataView(data.buffer);
  view.setUint32(0, nanoseconds);
  view.setBigInt64(4, seconds);
  return new Ext(-1, data);
}

function specialFloat(value: TypedJson | undefined): number {
  if (typeof value === "number") return value;
  if (value === "NaN") return NaN;
  if (value === "Infinity") return Infinity;
  if (value === "-Infinity") return -Infinity;
  throw new TypeError(`invalid float in typed JSON: ${JSON.stringify(value)}`);
}

/**
 * Converts typed JSON back to a value for the `@zrpc/wire` encoder, so that it travels with the
 * msgpack types the typed JSON names: a JSON integer -> `number`, `{"$int"}` -> `bigint`,
 * `{"$f64"}` / `{"$f32"}` -> {@link Float64} (float32 cannot be produced: it goes out as float64),
 * `{"$bin"}` -> `Uint8Array`, `{"$ext"}` -> {@link Ext}, `{"$map"}` -> `Map`, other objects -> plain
 * objects. A non-integral JSON number (which typed JSON never contains) becomes a plain `number`
 * and so a float64. Throws `TypeError` on malformed `$` forms.
 */
export function fromTypedJson(json: TypedJson): WireValue {
  if (json === null || typeof json === "boolean" || typeof json === "string" || typeof json === "number") return json;
  if (Array.isArray(json)) return json.map((item) => fromTypedJson(item));
  const keys = Object.keys(json);
  if (keys.length === 1) {
    const key = keys[0]!;
    const inner = json[key];
    switch (key) {
      case "$int":
        if (typeof inner !== "string" || !/^-?\d+$/.test(inner)) throw new TypeError(`invalid $int: ${JSON.stringify(inner)}`);
        return BigInt(inner);
      case "$f64":
      case "$f32":
        return new Float64(specialFloat(inner));
      case "$bin":
        if (typeof inner !== "string") throw new TypeError("invalid $bin");
        return hexToBytes(inner);
      case "$ext": {
        if (!Array.isArray(inner) || typeof inner[0] !== "number" || typeof inner[1] !== "string") {
          throw new TypeError("invalid $ext");
        }
        return new Ext(inner[0], hexToBytes(inner[1]));
      }
      case "$map": {
        if (!Array.isArray(inner)) throw new TypeError("invalid $map");
        const map = new Map<WireValue, WireValue>();
        for (const entry of inner) {
          if (!Array.isArray(entry) || entry.length !== 2) throw new TypeError("invalid $map entry");
          map.set(fromTypedJson(entry[0]!), fromTypedJson(entry[1]!));
        }
        return map;
      }
      default:
        break;
    }
  }
  const out: Record<string, WireValue> = {};
  for (const key of keys) {
    Object.defineProperty(out, key, { value: fromTypedJson(json[key]!), enumerable: true, writable: true, configurable: true });
  }
  return out;
}

const ESCAPES: Record<string, string> = { '"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t" };

/** A JSON string literal escaped like Python's `json.dumps` (ensure_ascii: non-ASCII as \uXXXX). */
function pythonString(text: string): string {
  let out = '"';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    const code = text.charCodeAt(i);
    const escape = ESCAPES[ch];
    if (escape !== undefined) out += escape;
    else if (code < 0x20 || code > 0x7e) out += "\\u" + code.toString(16).padStart(4, "0");
    else out += ch;
  }
  return out + '"';
}

/** A JSON number written like Python's `json.dumps` writes a float (`2.0`, `1e+100`, `-0.0`). */
function pythonFloat(value: number): string {
  if (Object.is(value, -0)) return "-0.0";
  if (Number.isInteger(value) && Math.abs(value) < 1e16) return `${value}.0`;
  return String(value).replace(/e([0-9])/, "e+$1");
}

/**
 * Writes typed JSON as text the way the vectors were written (Python `json.dumps` defaults:
 * `", "` and `": "` separators, non-ASCII escaped as `\uXXXX`, the number inside `$f64` / `$f32`
 * as a float, e.g. `{"$f64": 2.0}`). Object key order is kept. The result parses back with
 * `JSON.parse` to the same typed JSON, and two values are equal in typed JSON exactly when their
 * texts are equal (see {@link typedJsonEqual}).
 */
export function stringifyTypedJson(json: TypedJson): string {
  return write(json, false);
}

function write(json: TypedJson, asFloat: boolean): string {
  if (json === null) return "null";
  if (typeof json === "boolean") return json ? "true" : "false";
  if (typeof json === "number") return asFloat ? pythonFloat(json) : String(json);
  if (typeof json === "string") return pythonString(json);
  if (Array.isArray(json)) return "[" + json.map((item) => write(item, false)).join(", ") + "]";
  const keys = Object.keys(json);
  const floatBox = keys.length === 1 && (keys[0] === "$f64" || keys[0] === "$f32");
  return "{" + keys.map((key) => `${pythonString(key)}: ${write(json[key]!, floatBox)}`).join(", ") + "}";
}

/**
 * Equality of two typed JSON values: same msgpack types, same values, same map key order.
 * `NaN` equals `NaN` and `-0.0` differs from `0.0` (both are spelled distinctly).
 */
export function typedJsonEqual(a: TypedJson, b: TypedJson): boolean {
  return stringifyTypedJson(a) === stringifyTypedJson(b);
}

/**
 * Convenience: the typed JSON text of a decoded value (`stringifyTypedJson(toTypedJson(value))`),
 * for messages and the `CALL` lines of the one-way receivers.
 */
export function describeValue(value: unknown): string {
  return stringifyTypedJson(toTypedJson(value));
}
