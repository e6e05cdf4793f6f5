// The vectors' "typed JSON" (vectors/README.md): a JSON spelling of msgpack values that keeps
// every msgpack type distinct. toTypedJson maps decoded wire values to it, fromTypedJson back to
// values our encoder writes with the same msgpack types (float32 aside: it comes back as float64,
// as zerorpc-python re-sends it).
import { Ext, Float64 } from "../../src/index.js";
import type { WireValue } from "../../src/index.js";
import { fromHex, toHex } from "@zrpc/test-support";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function floatJson(value: number): number | string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "Infinity";
  if (value === -Infinity) return "-Infinity";
  return value;
}

function parseFloatJson(value: Json): number {
  if (value === "NaN") return NaN;
  if (value === "Infinity") return Infinity;
  if (value === "-Infinity") return -Infinity;
  if (typeof value !== "number") throw new Error(`bad float in typed JSON: ${JSON.stringify(value)}`);
  return value;
}

/** A decoded wire value in typed JSON. */
export function toTypedJson(value: unknown): Json {
  if (value === null || typeof value === "boolean" || typeof value === "string") return value;
  if (typeof value === "number") {
    // Our decoder yields plain numbers for safe ints and for non-integral floats.
    return Number.isInteger(value) && !Object.is(value, -0) ? value : { $f64: floatJson(value) };
  }
  if (typeof value === "bigint") return { $int: value.toString() };
  if (value instanceof Float64) return { $f64: floatJson(value.value) };
  if (value instanceof Uint8Array) return { $bin: toHex(value) };
  if (value instanceof Ext) return { $ext: [value.type, toHex(value.data)] };
  if (Array.isArray(value)) return value.map(toTypedJson);
  if (value instanceof Map) {
    return { $map: [...(value as Map<unknown, unknown>)].map(([key, item]) => [toTypedJson(key), toTypedJson(item)]) };
  }
  if (typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.some(([key]) => key.startsWith("$"))) {
      return { $map: entries.map(([key, item]) => [key, toTypedJson(item)]) };
    }
    return Object.fromEntries(entries.map(([key, item]) => [key, toTypedJson(item)]));
  }
  throw new Error(`not a wire value: ${typeof value}`);
}

/** A typed-JSON value as a wire value our encoder writes with the same msgpack types. */
export function fromTypedJson(json: unknown): WireValue {
  if (json === null || typeof json === "boolean" || typeof json === "string") return json;
  if (typeof json === "number") {
    if (!Number.isSafeInteger(json)) throw new Error(`untyped JSON number that is not a safe int: ${json}`);
    return json;
  }
  if (Array.isArray(json)) return json.map(fromTypedJson);
  if (typeof json === "object") {
    const entries = Object.entries(json as Record<string, Json>);
    if (entries.length === 1) {
      const [key, item] = entries[0]!;
      switch (key) {
        case "$int":
          return BigInt(item as string);
        case "$f64":
        case "$f32":
          return new Float64(parseFloatJson(item));
        case "$bin":
          return fromHex(item as string);
        case "$ext": {
          const [type, hex] = item as [number, string];
          return new Ext(type, fromHex(hex));
        }
        case "$map":
          return new Map((item as [Json, Json][]).map(([k, v]) => [fromTypedJson(k), fromTypedJson(v)]));
        default:
      }
    }
    return Object.fromEntries(entries.map(([key, item]) => [key, fromTypedJson(item)]));
  }
  throw new Error(`not typed JSON: ${typeof json}`);
}
