// Property tests: arbitrary wire values round-trip, encoding is deterministic, and for plain
// values (numbers, strings, arrays, str-key objects) we agree with @msgpack/msgpack byte for byte.
import { decode as msgpackDecode, encode as msgpackEncode } from "@msgpack/msgpack";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Ext, Float64, decodeValue, encodeValue, timestampFromDate } from "../src/index.js";
import type { WireValue } from "../src/index.js";
import { toHex } from "@zrpc/test-support";

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const key = fc.string({ maxLength: 12, unit: "binary" }).filter((text) => text !== "__proto__");

/** Values that decode to an equal value: numbers are chosen so that no float collapses to an int. */
const leaf: fc.Arbitrary<WireValue> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.maxSafeInteger(),
  fc.integer({ min: -40, max: 300 }),
  fc.double().filter((value) => !Number.isInteger(value)),
  fc.double().filter((value) => Number.isInteger(value)).map((value) => new Float64(value)),
  fc.integer().map((value) => new Float64(value)),
  fc.bigInt({ min: MAX_SAFE + 1n, max: 2n ** 64n - 1n }),
  fc.bigInt({ min: -(2n ** 63n), max: -MAX_SAFE - 1n }),
  fc.string({ maxLength: 80, unit: "binary" }),
  fc.string({ minLength: 60, maxLength: 400, unit: "binary" }),
  fc.string({ maxLength: 40, unit: "grapheme-ascii" }),
  fc.uint8Array({ maxLength: 64 }),
  fc
    .tuple(fc.integer({ min: -128, max: 127 }).filter((type) => type !== -1), fc.uint8Array({ maxLength: 40 }))
    .map(([type, data]) => new Ext(type, data)),
  fc.date({ noInvalidDate: true }).map((date) => timestampFromDate(date)),
);

const { value: wireValue } = fc.letrec<{ value: WireValue; array: WireValue[]; record: Record<string, WireValue>; map: Map<WireValue, WireValue> }>((tie) => ({
  value: fc.oneof({ depthSize: "small", maxDepth: 6 }, leaf, tie("array"), tie("record"), tie("map")),
  array: fc.array(tie("value"), { maxLength: 6 }),
  record: fc.dictionary(key, tie("value"), { maxKeys: 6, noNullPrototype: true }),
  // A Map decodes back as a Map only if some key is not a str: give every one a bin key.
  map: fc
    .array(fc.tuple(fc.uint8Array({ maxLength: 6 }), tie("value")), { minLength: 1, maxLength: 4 })
    .map((entries) => new Map<WireValue, WireValue>(entries)),
}));

describe("round trip of arbitrary wire values", () => {
  it("decode(encode(v)) deep-equals v", () => {
    fc.assert(
      fc.property(wireValue, (value) => {
        expect(decodeValue(encodeValue(value))).toEqual(value);
      }),
      { numRuns: 1000 },
    );
  });

  it("encoding is deterministic and re-encoding a decoded value gives the same bytes", () => {
    fc.assert(
      fc.property(wireValue, (value) => {
        const bytes = encodeValue(value);
        expect(toHex(encodeValue(value))).toBe(toHex(bytes));
        expect(toHex(encodeValue(decodeValue(bytes)))).toBe(toHex(bytes));
      }),
      { numRuns: 1000 },
    );
  });

  it("never reads past the value: trailing bytes are ignored", () => {
    fc.assert(
      fc.property(wireValue, fc.uint8Array({ minLength: 1, maxLength: 8 }), (value, trailer) => {
        const bytes = encodeValue(value);
        const padded = new Uint8Array(bytes.length + trailer.length);
        padded.set(bytes);
        padded.set(trailer, bytes.length);
        expect(decodeValue(padded)).toEqual(value);
      }),
      { numRuns: 300 },
    );
  });
});

/** What both codecs represent the same way: ints, non-integral floats, strings, arrays, str-key objects. */
const { value: plainValue } = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", maxDepth: 5 },
    fc.constant(null),
    fc.boolean(),
    fc.maxSafeInteger(),
    fc.integer({ min: -70000, max: 70000 }),
    fc.double().filter((value) => !Number.isInteger(value)),
    fc.string({ maxLength: 300, unit: "binary" }),
    fc.array(tie("value"), { maxLength: 20 }),
    fc.dictionary(key, tie("value"), { maxKeys: 20, noNullPrototype: true }),
  ),
}));

describe("agreement with @msgpack/msgpack on plain values", () => {
  it("our bytes decode with @msgpack to the same value, and its bytes with ours", () => {
    fc.assert(
      fc.property(plainValue, (value) => {
        const ours = encodeValue(value);
        const theirs = msgpackEncode(value);
        expect(msgpackDecode(ours)).toEqual(value);
        expect(decodeValue(theirs)).toEqual(value);
        // Both pick the smallest formats and float64 for fractions: identical bytes.
        expect(toHex(ours)).toBe(toHex(theirs));
      }),
      { numRuns: 1000 },
    );
  });
});
