import { describe, expect, it } from "vitest";
import { EncodeError, Ext, Float64, ProtocolError, decodeEvent, decodeValue, encodeEvent, encodeEventChunks, encodeValue, f64 } from "../src/index.js";
import { encode as referenceEncode } from "@msgpack/msgpack";
import type { DecodeOptions, EncodeOptions, ProtocolErrorReason } from "../src/index.js";
import { fromHex, toHex } from "@zrpc/test-support";

const enc = (value: unknown, options?: EncodeOptions): string => toHex(encodeValue(value, options));
const dec = (hex: string, options?: DecodeOptions): unknown => decodeValue(fromHex(hex), options);

function protocolError(run: () => unknown): ProtocolError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ProtocolError);
    return error as ProtocolError;
  }
  throw new Error("expected a ProtocolError");
}

function reasonOf(run: () => unknown): ProtocolErrorReason {
  return protocolError(run).reason;
}

function encodeError(run: () => unknown): EncodeError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(EncodeError);
    return error as EncodeError;
  }
  throw new Error("expected an EncodeError");
}

describe("integers", () => {
  const cases: [number, string][] = [
    [0, "00"],
    [1, "01"],
    [127, "7f"],
    [128, "cc80"],
    [255, "ccff"],
    [256, "cd0100"],
    [65535, "cdffff"],
    [65536, "ce00010000"],
    [4294967295, "ceffffffff"],
    [4294967296, "cf0000000100000000"],
    [Number.MAX_SAFE_INTEGER, "cf001fffffffffffff"],
    [-1, "ff"],
    [-32, "e0"],
    [-33, "d0df"],
    [-128, "d080"],
    [-129, "d1ff7f"],
    [-32768, "d18000"],
    [-32769, "d2ffff7fff"],
    [-2147483648, "d280000000"],
    [-2147483649, "d3ffffffff7fffffff"],
    [-4294967296, "d3ffffffff00000000"],
    [-Number.MAX_SAFE_INTEGER, "d3ffe0000000000001"],
  ];
  it.each(cases)("%d encodes as %s (smallest format, like Python) and decodes back", (value, hex) => {
    expect(enc(value)).toBe(hex);
    expect(dec(hex)).toBe(value);
  });

  const bigCases: [bigint, string][] = [
    [2n ** 64n - 1n, "cfffffffffffffffff"],
    [2n ** 63n, "cf8000000000000000"],
    [2n ** 63n - 1n, "cf7fffffffffffffff"],
    [2n ** 53n, "cf0020000000000000"],
    [-(2n ** 53n), "d3ffe0000000000000"],
    [-(2n ** 63n), "d38000000000000000"],
  ];
  it.each(bigCases)("bigint %s encodes as %s and decodes to the same bigint", (value, hex) => {
    expect(enc(value)).toBe(hex);
    expect(dec(hex)).toBe(value);
  });

  it("encodes small bigints in the smallest format and decodes them as numbers", () => {
    expect(enc(5n)).toBe("05");
    expect(enc(-33n)).toBe("d0df");
    expect(enc(BigInt(Number.MAX_SAFE_INTEGER))).toBe("cf001fffffffffffff");
    expect(dec("cf001fffffffffffff")).toBe(Number.MAX_SAFE_INTEGER);
    expect(dec("d3ffe0000000000001")).toBe(-Number.MAX_SAFE_INTEGER);
  });

  it("decodes non-canonical int formats by value", () => {
    expect(dec("cf0000000000000005")).toBe(5);
    expect(dec("d3ffffffffffffffff")).toBe(-1);
    expect(dec("d07f")).toBe(127);
    expect(dec("d1fffe")).toBe(-2);
    expect(dec("d2fffffffe")).toBe(-2);
    expect(dec("cd0001")).toBe(1);
  });

  it("rejects bigints outside [-2^63, 2^64-1] with OverflowError like Python", () => {
    for (const value of [2n ** 64n, -(2n ** 63n) - 1n, 10n ** 30n]) {
      const error = encodeError(() => encodeValue(value));
      expect(error.pythonName).toBe("OverflowError");
      expect(error.message).toBe("Integer value out of range");
      expect(error.code).toBe("encode");
    }
  });

  it("encodes unsafe integral numbers as float64", () => {
    expect(enc(2 ** 53)).toBe("cb4340000000000000");
    expect(enc(-(2 ** 60))).toBe("cbc3b0000000000000");
    expect(dec("cb4340000000000000")).toEqual(new Float64(2 ** 53));
  });
});

describe("floats", () => {
  it("encodes non-integral numbers, NaN, ±Infinity and -0 as float64", () => {
    expect(enc(1.5)).toBe("cb3ff8000000000000");
    expect(enc(-0.25)).toBe("cbbfd0000000000000");
    expect(enc(NaN)).toBe("cb7ff8000000000000");
    expect(enc(Infinity)).toBe("cb7ff0000000000000");
    expect(enc(-Infinity)).toBe("cbfff0000000000000");
    expect(enc(-0)).toBe("cb8000000000000000");
  });

  it("keeps -0.0 through a round trip", () => {
    const back = dec(enc(-0)) as Float64;
    expect(back).toBeInstanceOf(Float64);
    expect(Object.is(back.value, -0)).toBe(true);
    expect(enc(back)).toBe("cb8000000000000000");
    expect(back.toString()).toBe("-0");
  });

  it("keeps 2.0 a float64 through a round trip (Float64 wrapper)", () => {
    expect(enc(f64(2))).toBe("cb4000000000000000");
    const back = dec("cb4000000000000000");
    expect(back).toEqual(new Float64(2));
    expect(enc(back)).toBe("cb4000000000000000");
    expect(Number(back)).toBe(2);
    expect((back as Float64).valueOf() + 1).toBe(3);
    expect(JSON.stringify({ x: back })).toBe('{"x":2}');
    // A plain 2 is an int.
    expect(enc(2)).toBe("02");
  });

  it("decodes non-integral floats, NaN and infinities as plain numbers", () => {
    expect(dec("cb3ff8000000000000")).toBe(1.5);
    expect(dec("cb7ff8000000000000")).toBeNaN();
    expect(dec("cb7ff0000000000000")).toBe(Infinity);
    expect(dec("cbfff0000000000000")).toBe(-Infinity);
  });

  it("decodes float32 (values re-encode as float64, as Python re-sends them)", () => {
    expect(dec("ca3fc00000")).toBe(1.5);
    expect(dec("ca40000000")).toEqual(new Float64(2));
    expect(enc(dec("ca40000000"))).toBe("cb4000000000000000");
    expect(Object.is((dec("ca80000000") as Float64).value, -0)).toBe(true);
  });

  it('integralFloats: "number" gives plain numbers', () => {
    expect(dec("cb4000000000000000", { integralFloats: "number" })).toBe(2);
    expect(Object.is(dec("cb8000000000000000", { integralFloats: "number" }), -0)).toBe(true);
    expect(dec("ca40000000", { integralFloats: "number" })).toBe(2);
    expect(dec("cb3ff8000000000000", { integralFloats: "number" })).toBe(1.5);
  });

  it("Float64 always encodes as float64, whatever its value", () => {
    expect(enc(f64(0))).toBe("cb0000000000000000");
    expect(enc(f64(1.5))).toBe("cb3ff8000000000000");
    expect(enc(f64(NaN))).toBe("cb7ff8000000000000");
  });
});

describe("nil, booleans, undefined", () => {
  it("encodes and decodes them", () => {
    expect(enc(null)).toBe("c0");
    expect(enc(undefined)).toBe("c0");
    expect(enc(true)).toBe("c3");
    expect(enc(false)).toBe("c2");
    expect(dec("c0")).toBeNull();
    expect(dec("c3")).toBe(true);
    expect(dec("c2")).toBe(false);
  });

  it("writes undefined object values and array holes as nil (not skipped)", () => {
    expect(enc({ a: undefined })).toBe("81a161c0");
    // eslint-disable-next-line no-sparse-arrays -- the hole is the point of the test
    expect(enc([, 1])).toBe("92c001");
  });
});

describe("strings", () => {
  const lengths: [number, string][] = [
    [0, "a0"],
    [1, "a1"],
    [31, "bf"],
    [32, "d920"],
    [255, "d9ff"],
    [256, "da0100"],
    [65535, "daffff"],
    [65536, "db00010000"],
  ];
  it.each(lengths)("an ASCII str of %d bytes gets header %s", (length, header) => {
    const text = "abcdefghij".repeat(Math.ceil(length / 10)).slice(0, length);
    const hex = enc(text);
    expect(hex.slice(0, header.length)).toBe(header);
    expect(hex.length).toBe(header.length + length * 2);
    expect(dec(hex)).toBe(text);
  });

  it("picks the header from the UTF-8 byte length, not the JS length", () => {
    // 16 x "é" = 16 units but 32 bytes: str8, not fixstr.
    expect(enc("é".repeat(16)).slice(0, 4)).toBe("d920");
    expect(enc("é".repeat(15)).slice(0, 2)).toBe("be");
    // 100 x "☃" = 300 bytes (TextEncoder path): str16.
    expect(enc("☃".repeat(100)).slice(0, 6)).toBe("da012c");
    // 86 x "é" = 172 bytes, 200 x "é" = 400 bytes.
    expect(enc("é".repeat(86)).slice(0, 4)).toBe("d9ac");
    expect(enc("é".repeat(200)).slice(0, 6)).toBe("da0190");
    // 22000 x "☃" = 66000 bytes: str32.
    expect(enc("☃".repeat(22000)).slice(0, 10)).toBe("db000101d0");
  });

  it("encodes UTF-8 like TextEncoder on both the short and the long path", () => {
    const samples = ["h\u00e9llo w\u00f6rld \u2603 \ud834\udd1e", "\u0000\u007f\u0080\u07ff\u0800\uffff", "\ud83d\ude00"];
    for (const sample of samples) {
      for (const text of [sample, sample.repeat(20)]) {
        const bytes = encodeValue(text);
        const expected = new TextEncoder().encode(text);
        expect(toHex(bytes.subarray(bytes.length - expected.length))).toBe(toHex(expected));
        expect(dec(toHex(bytes))).toBe(text);
      }
    }
  });

  it("replaces lone surrogates with U+FFFD like TextEncoder", () => {
    expect(enc("a\ud800b")).toBe("a561efbfbd62");
    expect(enc("\udc00")).toBe("a3efbfbd");
    expect(enc("\ud800")).toBe("a3efbfbd");
    const long = "x".repeat(70) + "\ud800";
    expect(toHex(encodeValue(long)).endsWith("efbfbd")).toBe(true);
  });

  it("decodes the UTF-8 Python sends (vector call_args_all_types)", () => {
    expect(dec("af68c3a96c6c6f20e2988320f09d849e")).toBe("h\u00e9llo \u2603 \ud834\udd1e");
  });

  it("keeps a leading BOM (Python's utf-8 codec does not strip it)", () => {
    expect(dec("a4efbbbf61")).toBe("\ufeffa");
    const long = "\ufeff" + "a".repeat(100);
    expect(dec(enc(long))).toBe(long);
  });

  describe("invalid UTF-8 -> invalid-utf8 (Python drops the message)", () => {
    const bad: [string, string][] = [
      ["overlong 2-byte", "c080"],
      ["overlong 2-byte c1", "c1bf"],
      ["overlong 3-byte", "e08080"],
      ["overlong 4-byte", "f0808080"],
      ["UTF-16 surrogate", "eda080"],
      ["above U+10FFFF", "f4908080"],
      ["f5 lead byte", "f5808080"],
      ["ff byte", "ff"],
      ["lone continuation", "80"],
      ["truncated 3-byte sequence", "e282"],
      ["truncated 4-byte sequence", "f09f98"],
      ["bad continuation", "c328"],
    ];
    // Lengths that exercise the cached (<= 16 bytes), hand-decoded (<= 64) and TextDecoder paths.
    for (const pad of [0, 20, 100]) {
      it.each(bad)(`%s (after ${pad} ASCII bytes)`, (_name, hex) => {
        const body = "61".repeat(pad) + hex;
        const length = body.length / 2;
        const header = length < 32 ? (0xa0 | length).toString(16) : `d9${length.toString(16).padStart(2, "0")}`;
        expect(reasonOf(() => dec(header + body))).toBe("invalid-utf8");
      });
    }
  });

  it("accepts the edges of valid UTF-8", () => {
    expect(dec("a27f61")).toBe("\u007fa");
    expect(dec("a2c280")).toBe("\u0080");
    expect(dec("a3e0a080")).toBe("\u0800");
    expect(dec("a3ed9fbf")).toBe("\ud7ff");
    expect(dec("a3ee8080")).toBe("\ue000");
    expect(dec("a3efbfbf")).toBe("\uffff");
    expect(dec("a4f0908080")).toBe("\ud800\udc00");
    expect(dec("a4f48fbfbf")).toBe("\udbff\udfff");
  });

  it("returns the same decoded text from the short-string cache for repeated keys", () => {
    const hex = enc([{ message_id: 1 }, { message_id: 2 }]);
    const [a, b] = dec(hex) as [Record<string, number>, Record<string, number>];
    expect(Object.keys(a)).toEqual(["message_id"]);
    expect(b.message_id).toBe(2);
  });
});

describe("bin", () => {
  const lengths: [number, string][] = [
    [0, "c400"],
    [1, "c401"],
    [255, "c4ff"],
    [256, "c50100"],
    [65535, "c5ffff"],
    [65536, "c600010000"],
  ];
  it.each(lengths)("%d bytes get header %s", (length, header) => {
    const data = new Uint8Array(length).map((_, i) => i & 0xff);
    const hex = enc(data);
    expect(hex.slice(0, header.length)).toBe(header);
    expect(dec(hex)).toEqual(data);
  });

  it("encodes Buffer and ArrayBuffer as bin", () => {
    expect(enc(Buffer.from([1, 2, 3]))).toBe("c403010203");
    expect(enc(Uint8Array.of(1, 2, 3).buffer)).toBe("c403010203");
  });

  it("refuses other typed arrays and views", () => {
    expect(encodeError(() => encodeValue(new Int16Array(2))).message).toBe("can not serialize 'Int16Array' object");
    expect(encodeError(() => encodeValue(new Uint8ClampedArray(2))).message).toBe("can not serialize 'Uint8ClampedArray' object");
    expect(encodeError(() => encodeValue(new DataView(new ArrayBuffer(2)))).message).toBe("can not serialize 'DataView' object");
  });

  it("decodes small bins as copies and large ones (>= 4096 bytes) as views into the input", () => {
    const small = encodeValue(new Uint8Array(32).fill(7));
    const smallBin = decodeValue(small) as Uint8Array;
    expect(smallBin.buffer).not.toBe(small.buffer);
    small[2] = 9;
    expect(smallBin[0]).toBe(7);

    const large = encodeValue(new Uint8Array(4096).fill(7));
    const largeBin = decodeValue(large) as Uint8Array;
    expect(largeBin.buffer).toBe(large.buffer);
    expect(largeBin.byteOffset).toBe(3);
    expect(largeBin.length).toBe(4096);
    const below = decodeValue(encodeValue(new Uint8Array(4095))) as Uint8Array;
    expect(below.buffer.byteLength).toBe(4095);
  });

  it("never hands out a pooled Buffer: bins from a Buffer input are plain, own-buffer copies", () => {
    const input = Buffer.from(enc([Uint8Array.of(1, 2, 3), new Ext(4, Uint8Array.of(5))]), "hex");
    const [bin, ext] = decodeValue(input) as [Uint8Array, Ext];
    expect(bin.constructor).toBe(Uint8Array);
    expect(bin.buffer.byteLength).toBe(3);
    expect(ext.data.buffer.byteLength).toBe(1);
  });

  it("decodes from a subarray with a byte offset", () => {
    const bytes = fromHex("ffff" + enc([1.5, 2n ** 63n, "x", Uint8Array.of(1)]));
    expect(decodeValue(bytes.subarray(2))).toEqual([1.5, 2n ** 63n, "x", Uint8Array.of(1)]);
  });
});

describe("large bins (written by reference, copied once into the result)", () => {
  const pattern = (length: number, seed: number): Uint8Array => Uint8Array.from({ length }, (_, i) => (i * 31 + seed) & 0xff);

  it("encodes bins around and above the by-reference size exactly as a reference encoder does", () => {
    for (const length of [65_535, 65_536, 65_537, 1 << 20]) {
      const bin = pattern(length, length);
      const value = ["before", bin, { key: bin.subarray(7, 70_007), after: 1.5 }, "after"];
      const ours = encodeValue(value);
      expect(ours).toBeInstanceOf(Uint8Array);
      expect(Buffer.from(ours).equals(Buffer.from(referenceEncode(value)))).toBe(true);
    }
  });

  it("puts several large bins of one event in order and owns its bytes", () => {
    const a = pattern(100_000, 1);
    const b = pattern(200_000, 2);
    const encoded = encodeEvent({ header: { message_id: "id", v: 3 }, name: "echo", args: [a, "mid", b] });
    a.fill(0);
    b.fill(0);
    const event = decodeEvent(encoded);
    const args = event.args as [Uint8Array, string, Uint8Array];
    expect(args[1]).toBe("mid");
    expect(Buffer.from(args[0]).equals(Buffer.from(pattern(100_000, 1)))).toBe(true);
    expect(Buffer.from(args[2]).equals(Buffer.from(pattern(200_000, 2)))).toBe(true);
  });

  it("encodeEventChunks: one chunk for small events; large bins by reference, the concatenation byte-identical", () => {
    const small = { header: { message_id: "id", v: 3 }, name: "echo", args: ["hi", new Uint8Array(100)] };
    const one = encodeEventChunks(small);
    expect(one).toHaveLength(1);
    expect(Buffer.from(one[0]!).equals(Buffer.from(encodeEvent(small)))).toBe(true);
    const a = pattern(100_000, 4);
    const b = pattern(70_000, 5);
    const big = { header: { message_id: "id", v: 3 }, name: "echo", args: [a, "mid", b] };
    const chunks = encodeEventChunks(big);
    // [head, a, "mid" + b's bin header, b] (b ends the event): the bins are the caller's own arrays.
    expect(chunks).toHaveLength(4);
    expect(chunks[1]).toBe(a);
    expect(chunks[3]).toBe(b);
    expect(Buffer.concat(chunks).equals(Buffer.from(encodeEvent(big)))).toBe(true);
    // The small pieces are copies: the next encode does not change them.
    const head = Buffer.from(chunks[0]!);
    encodeEvent({ header: { message_id: "other", v: 3 }, name: "zzzz", args: [] });
    expect(Buffer.from(chunks[0]!).equals(head)).toBe(true);
  });

  it("leaves nothing behind for the next encode after a failure mid-way", () => {
    const big = pattern(70_000, 3);
    expect(() => encodeValue([big, () => 1])).toThrow(EncodeError);
    expect(decodeValue(encodeValue(["small"]))).toEqual(["small"]);
    expect(encodeValue([1]).length).toBe(2);
  });
});

describe("arrays and maps", () => {
  const arrayLengths: [number, string][] = [
    [0, "90"],
    [15, "9f"],
    [16, "dc0010"],
    [65535, "dcffff"],
    [65536, "dd00010000"],
  ];
  it.each(arrayLengths)("array of %d gets header %s", (length, header) => {
    const array = new Array<number>(length).fill(1);
    const hex = enc(array);
    expect(hex.slice(0, header.length)).toBe(header);
    expect(dec(hex)).toEqual(array);
  });

  const mapSizes: [number, string][] = [
    [0, "80"],
    [15, "8f"],
    [16, "de0010"],
    [65535, "deffff"],
    [65536, "df00010000"],
  ];
  it.each(mapSizes)("object with %d keys gets header %s and decodes to a plain object", (size, header) => {
    const record: Record<string, number> = {};
    for (let i = 0; i < size; i++) record[`k${i}`] = i & 0x7f;
    const hex = enc(record);
    expect(hex.slice(0, header.length)).toBe(header);
    const back = dec(hex);
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
    expect(back).toEqual(record);
  });

  it("keeps the insertion order of str keys", () => {
    expect(enc({ b: 1, a: 2 })).toBe("82a16201a16102");
    expect(Object.keys(dec("82a16201a16102") as object)).toEqual(["b", "a"]);
  });

  it("encodes a Map as a map, never as {}", () => {
    expect(enc(new Map([["a", 1]]))).toBe("81a16101");
    expect(enc(new Map())).toBe("80");
    expect(enc(new Map([[Uint8Array.of(1, 2), "bin key"]]))).toBe("81c4020102a762696e206b6579");
  });

  it("decodes a map with a bin key to a Map (vector call_no_args map_bin_key)", () => {
    const back = dec("81c4020102a762696e206b6579") as Map<unknown, unknown>;
    expect(back).toBeInstanceOf(Map);
    expect([...back]).toEqual([[Uint8Array.of(1, 2), "bin key"]]);
  });

  it('refuses non-str/bin Map keys by default ("python"), allows them with mapKeys: "any"', () => {
    const map = new Map<unknown, unknown>([[1, "x"]]);
    const error = encodeError(() => encodeValue(map));
    expect(error.message).toMatch(/map key of type 'number' is not str or bin/);
    expect(error.pythonName).toBe("TypeError");
    expect(() => encodeValue([{ nested: new Map([[null, 1]]) }])).toThrow(EncodeError);
    expect(enc(map, { mapKeys: "any" })).toBe("8101a178");
    expect(dec("8101a178")).toEqual(new Map([[1, "x"]]));
    expect(enc(new Map([[Uint8Array.of(1).buffer, 1]]))).toBe("81c4010101");
  });

  it("decodes keys of any type into a Map, keeping wire order across the switch from object", () => {
    // {"b": 1, "2": 2, "__proto__": 3, "a": {"x": 1}, <bin 01>: 4, 5: 6}
    const hex =
      "86" + "a16201" + "a13202" + "a95f5f70726f746f5f5f03" + "a16181a17801" + "c4010104" + "0506";
    const back = dec(hex) as Map<unknown, unknown>;
    expect(back).toBeInstanceOf(Map);
    expect([...back.keys()]).toEqual(["b", "2", "__proto__", "a", Uint8Array.of(1), 5]);
    expect([...back.values()]).toEqual([1, 2, 3, { x: 1 }, 4, 6]);
  });

  it("keeps the last value of a duplicate key, at the first key's position", () => {
    expect(dec("83a16101a16202a16103")).toEqual({ a: 3, b: 2 });
    const back = dec("84a16101a16202a16103c4010004") as Map<unknown, unknown>;
    expect([...back]).toEqual([
      ["a", 3],
      ["b", 2],
      [Uint8Array.of(0), 4],
    ]);
  });

  it("encodes null-prototype objects as maps", () => {
    const record = Object.create(null) as Record<string, number>;
    record.z = 1;
    expect(enc(record)).toBe("81a17a01");
  });
});

describe("__proto__ and prototype pollution", () => {
  it('decodes a "__proto__" key as an own data property and leaves Object.prototype alone', () => {
    // {"__proto__": {"polluted": 1}}
    const hex = "81a95f5f70726f746f5f5f81a8706f6c6c7574656401";
    const back = dec(hex) as Record<string, unknown>;
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
    expect(Object.keys(back)).toEqual(["__proto__"]);
    expect(Object.getOwnPropertyDescriptor(back, "__proto__")?.value).toEqual({ polluted: 1 });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty("polluted");
    expect(enc(back)).toBe(hex);
    // Nested deeper too.
    expect(enc(dec("9181a17a" + hex))).toBe("9181a17a" + hex);
  });

  it("accepts other Object.prototype names as own keys", () => {
    const back = dec("82ab636f6e7374727563746f7201a8746f537472696e6702") as Record<string, unknown>;
    expect(Object.keys(back)).toEqual(["constructor", "toString"]);
    expect(Object.hasOwn(back, "constructor")).toBe(true);
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
  });

  it('encodes an own "__proto__" property (Python accepts it, and so does our decoder)', () => {
    const record = JSON.parse('{"__proto__": 1}') as object;
    expect(enc(record)).toBe("81a95f5f70726f746f5f5f01");
  });
});

describe("ext and timestamps", () => {
  const sizes: [number, string][] = [
    [1, "d405"],
    [2, "d505"],
    [4, "d605"],
    [8, "d705"],
    [16, "d805"],
    [0, "c70005"],
    [3, "c70305"],
    [17, "c71105"],
    [255, "c7ff05"],
    [256, "c8010005"],
    [65536, "c90001000005"],
  ];
  it.each(sizes)("ext of %d bytes gets header %s and keeps its bytes", (length, header) => {
    const data = new Uint8Array(length).map((_, i) => (i * 7) & 0xff);
    const hex = enc(new Ext(5, data));
    expect(hex.slice(0, header.length)).toBe(header);
    expect(hex.length).toBe(header.length + length * 2);
    const back = dec(hex) as Ext;
    expect(back).toBeInstanceOf(Ext);
    expect(back.type).toBe(5);
    expect(back.data).toEqual(data);
    expect(enc(back)).toBe(hex);
  });

  it("keeps negative and extreme types", () => {
    expect(enc(new Ext(-128, Uint8Array.of(1)))).toBe("d48001");
    expect(enc(new Ext(127, Uint8Array.of(1)))).toBe("d47f01");
    expect((dec("d4fe01") as Ext).type).toBe(-2);
    expect(() => new Ext(128, new Uint8Array(1))).toThrow(RangeError);
    expect(() => new Ext(1.5, new Uint8Array(1))).toThrow(RangeError);
  });

  it("keeps the vector's timestamp ext (-1) byte-exact", () => {
    const back = dec("d6ff6553f100") as Ext;
    expect(back.type).toBe(-1);
    expect(enc(back)).toBe("d6ff6553f100");
  });

  it("encodes a Date as a timestamp ext", () => {
    expect(enc(new Date(1700000000000))).toBe("d6ff6553f100");
  });

  it("refuses malformed timestamps in both directions", () => {
    expect(reasonOf(() => dec("c705ff0102030405"))).toBe("invalid-msgpack");
    // timestamp64 with nanoseconds = 2^30 - 1 > 999,999,999
    expect(reasonOf(() => dec("d7ff" + "fffffffc" + "00000000"))).toBe("invalid-msgpack");
    // timestamp96 with nanoseconds = 1e9
    expect(reasonOf(() => dec("c70cff" + "3b9aca00" + "0000000000000000"))).toBe("invalid-msgpack");
    expect(() => encodeValue(new Ext(-1, new Uint8Array(5)))).toThrow(EncodeError);
    expect(() => encodeValue(new Date(NaN))).toThrow(EncodeError);
  });
});

describe("values that cannot be encoded", () => {
  class Point {
    constructor(readonly x: number) {}
  }

  it("refuses class instances, functions, symbols and other objects like Python", () => {
    expect(encodeError(() => encodeValue(new Point(1))).message).toBe("can not serialize 'Point' object");
    expect(encodeError(() => encodeValue([() => 1])).message).toBe("can not serialize 'function' object");
    expect(encodeError(() => encodeValue({ s: Symbol("x") })).message).toBe("can not serialize 'symbol' object");
    expect(encodeError(() => encodeValue(new Set([1]))).message).toBe("can not serialize 'Set' object");
    expect(encodeError(() => encodeValue(new Point(1))).pythonName).toBe("TypeError");
  });

  it("detects cycles and nesting beyond maxDepth", () => {
    const cyclic: unknown[] = [];
    cyclic.push(cyclic);
    expect(encodeError(() => encodeValue(cyclic)).message).toMatch(/deeper than 64 levels/);
    const record: Record<string, unknown> = {};
    record.self = record;
    expect(() => encodeValue(record)).toThrow(EncodeError);
    const map = new Map<string, unknown>();
    map.set("m", map);
    expect(() => encodeValue(map)).toThrow(EncodeError);

    let nested: unknown = 1;
    for (let i = 0; i < 64; i++) nested = [nested];
    expect(encodeValue(nested).length).toBe(65);
    expect(() => encodeValue([nested])).toThrow(EncodeError);
    expect(encodeValue([nested], { maxDepth: 65 }).length).toBe(66);
  });

  it("encodes correctly when a getter re-enters encodeValue", () => {
    const record = {
      get inner() {
        return encodeValue(["inner", 1]);
      },
      after: "x",
    };
    expect(enc(record)).toBe("82a5696e6e6572c40892a5696e6e657201a56166746572a178");
  });
});

describe("decoder robustness", () => {
  it("rejects byte 0xc1 with invalid-msgpack", () => {
    const error = protocolError(() => dec("92 01 c1".replaceAll(" ", "")));
    expect(error.reason).toBe("invalid-msgpack");
    expect(error.offset).toBe(2);
  });

  it("rejects empty input as truncated", () => {
    expect(reasonOf(() => decodeValue(new Uint8Array(0)))).toBe("truncated");
  });

  it("ignores bytes after the first object", () => {
    expect(dec("01c1ffff")).toBe(1);
  });

  it("reports truncation at every cut point of a complex value", () => {
    const value = [
      {
        message_id: new Uint8Array(32).fill(0x61),
        v: 3,
        response_to: "x".repeat(40),
        n: 2 ** 40,
        neg: -70000,
        f: 1.5,
        big: 2n ** 63n,
        ts: new Date(1500),
        e: new Ext(5, Uint8Array.of(1, 2, 3)),
        m: new Map([[Uint8Array.of(1), "v"]]),
      },
      "name \u2603 \ud834\udd1e",
      [1, -200, 70000, null, true, "é".repeat(20), new Uint8Array(300), [[]], f64(2), "y".repeat(100)],
    ];
    const bytes = encodeValue(value);
    expect(decodeValue(bytes)).toBeDefined();
    for (let cut = 0; cut < bytes.length; cut++) {
      const error = protocolError(() => decodeValue(bytes.subarray(0, cut)));
      expect(error.reason, `cut at ${cut}`).toBe("truncated");
      expect(error.offset).toBeGreaterThanOrEqual(0);
    }
  });

  it("rejects huge declared lengths before allocating", () => {
    const cases: [string, RegExp][] = [
      ["dbffffffff6162636465", /str32 declares 4294967295 bytes at offset 0, 5 bytes remain/],
      ["c6ffffffff6162636465", /bin32 declares 4294967295 bytes/],
      ["c9ffffffff056162636465", /ext32 declares 4294967295 bytes/],
      ["ddffffffff0102030405", /array32 declares 4294967295 elements/],
      ["dfffffffff0102030405", /map32 declares 4294967295 entries/],
      ["9a01", /fixarray declares 10 elements at offset 0, 1 bytes remain/],
    ];
    for (const [hex, message] of cases) {
      const error = protocolError(() => dec(hex));
      expect(error.reason).toBe("truncated");
      expect(error.message).toMatch(message);
    }
  });

  it("enforces maxMessageBytes before parsing (default 100 MiB)", () => {
    expect(reasonOf(() => dec("c1c1c1", { maxMessageBytes: 2 }))).toBe("too-large");
    const atLimit = new Uint8Array(100 * 1024 * 1024);
    expect(decodeValue(atLimit)).toBe(0);
    const over = new Uint8Array(100 * 1024 * 1024 + 1);
    expect(reasonOf(() => decodeValue(over))).toBe("too-large");
  });

  it("enforces the per-value length limits with reason limit", () => {
    expect(reasonOf(() => dec("a461626364", { maxStrLength: 3 }))).toBe("limit");
    expect(dec("a3616263", { maxStrLength: 3 })).toBe("abc");
    expect(reasonOf(() => dec("c40401020304", { maxBinLength: 3 }))).toBe("limit");
    expect(reasonOf(() => dec("9401020304", { maxArrayLength: 3 }))).toBe("limit");
    expect(reasonOf(() => dec("82a16101a16202", { maxMapLength: 1 }))).toBe("limit");
    expect(reasonOf(() => dec("d60501020304", { maxExtLength: 3 }))).toBe("limit");
    expect(protocolError(() => dec("a461626364", { maxStrLength: 3 })).message).toMatch(/over the limit of 3/);
  });

  it("stops a depth bomb (100,000 nested arrays) with too-deep, not a stack overflow", () => {
    const bomb = new Uint8Array(100_000).fill(0x91);
    expect(reasonOf(() => decodeValue(bomb))).toBe("too-deep");
    // Even with a huge configured limit, the call stack overflow is reported as too-deep.
    expect(reasonOf(() => decodeValue(bomb, { maxDepth: 1_000_000 }))).toBe("too-deep");
  });

  it("accepts exactly maxDepth levels", () => {
    const ok = new Uint8Array(65).fill(0x91);
    ok[64] = 0x01;
    expect(() => decodeValue(ok)).not.toThrow();
    const deep = new Uint8Array(66).fill(0x91);
    deep[65] = 0x01;
    expect(reasonOf(() => decodeValue(deep))).toBe("too-deep");
    expect(reasonOf(() => decodeValue(ok, { maxDepth: 10 }))).toBe("too-deep");
    // Maps count too.
    expect(reasonOf(() => dec("81a161".repeat(3) + "01", { maxDepth: 2 }))).toBe("too-deep");
  });

  it("returns a fresh result from encodeValue each call (the buffer is reused internally)", () => {
    const first = encodeValue("first");
    const second = encodeValue("other");
    expect(toHex(first)).toBe("a56669727374");
    expect(toHex(second)).toBe("a56f74686572");
    expect(first.buffer.byteLength).toBe(first.length);
    // A large value then small ones again.
    const big = encodeValue(new Uint8Array(5 * 1024 * 1024));
    expect(big.length).toBe(5 * 1024 * 1024 + 5);
    expect(enc([1, "a"])).toBe("9201a161");
  });

  it("sizes the buffer for large bin and str up front (no doubling, no copy out)", () => {
    const mib = 1024 * 1024;
    const bin = new Uint8Array(16 * mib);
    bin[0] = 1;
    bin[bin.length - 1] = 2;
    const encoded = encodeValue(["x", bin]);
    expect(encoded.length).toBe(1 + 2 + 5 + bin.length);
    // Not a 32 MiB buffer from doubling: at most 1/8 more than the result.
    expect(encoded.buffer.byteLength).toBeLessThanOrEqual(Math.ceil(encoded.length * 1.125) + 16);
    const back = decodeValue(encoded) as [string, Uint8Array];
    expect(back[0]).toBe("x");
    expect(back[1].length).toBe(bin.length);
    expect(back[1][0]).toBe(1);
    expect(back[1][bin.length - 1]).toBe(2);
    // Several large values in one call still encode (the buffer grows geometrically).
    const many = Array.from({ length: 6 }, (_, i) => new Uint8Array(mib + i).fill(i));
    const decoded = decodeValue(encodeValue(many)) as Uint8Array[];
    expect(decoded.map((item) => [item.length, item[item.length - 1]])).toEqual(many.map((item, i) => [item.length, i]));
    // Small results afterwards are exact copies again.
    const small = encodeValue("small");
    expect(small.buffer.byteLength).toBe(small.length);
  });

  it("encodes long strings whose UTF-8 outgrows the room reserved for them", () => {
    const texts = [
      "\u20ac".repeat(3000), // 3 bytes per unit: 9,000 bytes, past the initial 4 KiB buffer
      "a".repeat(5000) + "\u{1F600}".repeat(2000) + "b", // surrogate pairs after the ASCII part
      "\u00e9".repeat(3 * 1024 * 1024), // 6 MiB of UTF-8 from 3 Mi units
      "x".repeat(70_000) + "\u00e9", // str32 header from a str16 reservation
      "\ud800".repeat(100), // lone surrogates become U+FFFD
    ];
    for (const text of texts) {
      const expected = new TextEncoder().encode(text);
      const encoded = encodeValue(text);
      const header = encoded.length - expected.length;
      expect([2, 3, 5]).toContain(header);
      expect(Buffer.compare(Buffer.from(encoded.subarray(header)), Buffer.from(expected))).toBe(0);
      if (!text.startsWith("\ud800")) expect(decodeValue(encoded)).toBe(text);
    }
  });

  it("rejects non-Uint8Array input with a TypeError", () => {
    expect(() => decodeValue("c0" as unknown as Uint8Array)).toThrow(TypeError);
  });
});
