import { describe, expect, it } from "vitest";
import { Ext, f64 } from "@zrpc/wire";
import type { Float64 } from "@zrpc/wire";
import { JsonSyntaxError, formatJson, parseJson } from "../src/json.js";

describe("parseJson", () => {
  it("reads JSON like JSON.parse for ordinary values", () => {
    for (const text of ['{"a":[1,-2,"x",true,false,null],"b":{}}', "[]", '"\\u00e9\\n\\"q\\" \\ud83d\\ude00"', "  7 ", "1.5", "-0.25"]) {
      expect(parseJson(text)).toEqual(JSON.parse(text));
    }
  });

  it("keeps integers exact: bigint beyond 2^53 - 1", () => {
    expect(parseJson("9007199254740991")).toBe(9007199254740991);
    expect(parseJson("9007199254740992")).toBe(9007199254740992n);
    expect(parseJson("18446744073709551615")).toBe(18446744073709551615n);
    expect(parseJson("-9223372036854775808")).toBe(-9223372036854775808n);
    expect(parseJson("[123456789012345678901234567890]")).toEqual([123456789012345678901234567890n]);
    expect(parseJson("-0")).toBe(0);
  });

  it("makes a number with a fraction or exponent a float: Float64 when integral", () => {
    expect(parseJson("2.0")).toEqual(f64(2));
    expect(parseJson("1e3")).toEqual(f64(1000));
    expect(parseJson("-0.0")).toEqual(f64(-0));
    expect(Object.is((parseJson("-0.0") as Float64).value, -0)).toBe(true);
    expect(parseJson("2.5")).toBe(2.5);
  });

  it("reads $bin, $ext and $map objects as msgpack values", () => {
    expect(parseJson('{"$bin":"00ff10"}')).toEqual(new Uint8Array([0, 255, 16]));
    expect(parseJson('{"$bin":""}')).toEqual(new Uint8Array(0));
    const ext = parseJson('{"$ext":[5,"abcd"]}') as Ext;
    expect(ext).toBeInstanceOf(Ext);
    expect(ext.type).toBe(5);
    expect([...ext.data]).toEqual([0xab, 0xcd]);
    expect(parseJson('{"$map":[[1,"one"],[{"$bin":"01"},2]]}')).toEqual(new Map<unknown, unknown>([[1, "one"], [new Uint8Array([1]), 2]]));
    // Only as the single key: anything else is an ordinary object.
    expect(parseJson('{"$bin":"00","x":1}')).toEqual({ $bin: "00", x: 1 });
  });

  it("keeps __proto__ as data", () => {
    const value = parseJson('{"__proto__":{"polluted":true}}') as Record<string, unknown>;
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(Object.keys(value)).toEqual(["__proto__"]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it.each([
    ["hello", "unexpected character \"h\" at position 0"],
    ["", "unexpected end of input at position 0"],
    ["[1,", "unexpected end of input"],
    ["[1 2]", "expected , or ]"],
    ['{"a" 1}', "expected :"],
    ["{a:1}", "expected a string key"],
    ["01", "unexpected character \"1\" after the value"],
    ["1.", "unexpected character"],
    ['"abc', "unterminated string"],
    ['"\\x"', "bad escape"],
    ["NaN", "unexpected character"],
    ['{"$bin":"0"}', '"$bin" / "$ext" data must be an even-length hex string'],
    ['{"$bin":1}', '"$bin" needs a hex string'],
    ['{"$ext":[500,"00"]}', "ext type must be an integer in -128..127"],
    ['{"$map":[[1]]}', '"$map" needs [[key, value], ...]'],
  ])("refuses %j", (text, message) => {
    expect(() => parseJson(text)).toThrow(JsonSyntaxError);
    expect(() => parseJson(text)).toThrow(message);
  });
});

describe("formatJson", () => {
  it("writes integers as digits, whatever their size", () => {
    expect(formatJson(42)).toBe("42");
    expect(formatJson(18446744073709551615n)).toBe("18446744073709551615");
    expect(formatJson(-9223372036854775808n)).toBe("-9223372036854775808");
    expect(formatJson([1n, 2])).toBe("[1,2]");
  });

  it("writes floats so that they read back as floats", () => {
    expect(formatJson(f64(2))).toBe("2.0");
    expect(formatJson(f64(-0))).toBe("-0.0");
    expect(formatJson(-0)).toBe("-0.0");
    expect(formatJson(1.5)).toBe("1.5");
    expect(formatJson(f64(1e21))).toBe("1e+21");
    // A float beyond 2^53 (an int would have decoded as bigint): JavaScript's shortest spelling, as a float.
    expect(formatJson(2 ** 60)).toBe("1152921504606847000.0");
    expect(Number("1152921504606847000.0")).toBe(2 ** 60);
    expect(formatJson([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY])).toBe("[NaN,Infinity,-Infinity]");
  });

  it("writes bin, ext and non-str-keyed maps as tagged objects", () => {
    expect(formatJson(new Uint8Array([0, 255]))).toBe('{"$bin":"00ff"}');
    expect(formatJson(new Ext(-1, new Uint8Array([1, 2, 3, 4])))).toBe('{"$ext":[-1,"01020304"]}');
    expect(formatJson(new Map<unknown, unknown>([[1, "a"]]))).toBe('{"$map":[[1,"a"]]}');
    expect(formatJson(new Map([["a", 1]]))).toBe('{"a":1}');
    // An object that would read back as a tag is written as a map, so nothing is ambiguous.
    expect(formatJson({ $bin: "00" })).toBe('{"$map":[["$bin","00"]]}');
  });

  it("round-trips through parseJson", () => {
    const values: unknown[] = [
      { id: 18446744073709551615n, ratio: f64(2), name: "é", bytes: new Uint8Array([1, 2]), list: [null, true, -5, 0.1] },
      new Map<unknown, unknown>([[new Uint8Array([9]), [f64(-0)]]]),
    ];
    for (const value of values) expect(parseJson(formatJson(value))).toEqual(value);
    // An object that looks like a tag comes back as a Map: the same msgpack map on the wire.
    expect(parseJson(formatJson({ $ext: "not a tag" }))).toEqual(new Map([["$ext", "not a tag"]]));
  });

  it("refuses what is not a msgpack value", () => {
    const cyclic: unknown[] = [];
    cyclic.push(cyclic);
    expect(() => formatJson(cyclic)).toThrow("cyclic");
    expect(() => formatJson(() => 1)).toThrow("cannot format a function");
  });
});
