/**
 * Typed JSON and msgpack layouts against the golden vectors: for every recorded payload, our
 * decoder + toTypedJson gives the recording's typed JSON, stringifyTypedJson writes it as Python's
 * json.dumps did, and fromTypedJson + our encoder give back the recorded msgpack layout.
 */
import { describe, expect, it } from "vitest";
import { Ext, Float64, decodeEvent, decodeValue, encodeValue } from "@zrpc/wire";
import {
  eventArgsLayout,
  expectedTypesJson,
  fromTypedJson,
  hexToBytes,
  msgpackLayout,
  stringifyTypedJson,
  testTypesValue,
  timestampExt,
  toTypedJson,
  typedJsonEqual,
} from "../src/index.js";
import type { TypedJson } from "../src/index.js";
import { loadVector, vectorNames } from "./helpers.js";

interface Payload {
  where: string;
  bytes: Uint8Array;
  layout: string;
  args: TypedJson;
}

function recordedPayloads(): Payload[] {
  const out: Payload[] = [];
  for (const name of vectorNames()) {
    const vector = loadVector(name);
    for (const message of vector.messages) {
      const frame = message.frames?.find((f) => f.role === "payload");
      if (frame === undefined || message.event === undefined) continue;
      out.push({ where: `${name} #${message.seq}`, bytes: hexToBytes(frame.hex), layout: frame.layout!, args: message.event.args as TypedJson });
    }
  }
  return out;
}

describe("typed JSON against the golden vectors", () => {
  const payloads = recordedPayloads();

  it("finds recorded payloads", () => {
    expect(payloads.length).toBeGreaterThan(300);
  });

  it("decode + toTypedJson reproduces every recorded args value, and the layout reader every layout", () => {
    for (const payload of payloads) {
      const event = decodeEvent(payload.bytes);
      expect(stringifyTypedJson(toTypedJson(event.args)), payload.where).toBe(stringifyTypedJson(payload.args));
      expect(msgpackLayout(payload.bytes).join(" "), payload.where).toBe(payload.layout);
    }
  });

  it("fromTypedJson + encode reproduces the recorded msgpack layout of every args value", () => {
    for (const payload of payloads) {
      const encoded = encodeValue(fromTypedJson(payload.args));
      expect(msgpackLayout(encoded).join(" "), payload.where).toBe(eventArgsLayout(payload.bytes).join(" "));
    }
  });

  it("writes typed JSON as Python's json.dumps (separators, \\u escapes, floats)", () => {
    const vector = loadVector("call_args_all_types");
    const decoded = decodeEvent(hexToBytes(vector.messages[0]!.frames[1]!.hex));
    expect(stringifyTypedJson(toTypedJson(decoded.args))).toContain('{"$f64": 2.0}, "", "hello", "h\\u00e9llo \\u2603 \\ud834\\udd1e"');
  });
});

describe("typed JSON conversions", () => {
  it("spells each msgpack type distinctly", () => {
    expect(toTypedJson(2)).toBe(2);
    expect(toTypedJson(new Float64(2))).toEqual({ $f64: 2 });
    expect(toTypedJson(-0)).toEqual({ $f64: -0 });
    expect(toTypedJson(1.5)).toEqual({ $f64: 1.5 });
    expect(toTypedJson(NaN)).toEqual({ $f64: "NaN" });
    expect(toTypedJson(-Infinity)).toEqual({ $f64: "-Infinity" });
    expect(toTypedJson(5n)).toBe(5);
    expect(toTypedJson(2n ** 64n - 1n)).toEqual({ $int: "18446744073709551615" });
    expect(toTypedJson(Uint8Array.of(0, 255))).toEqual({ $bin: "00ff" });
    expect(toTypedJson(new Ext(-1, Uint8Array.of(1, 2, 3, 4)))).toEqual({ $ext: [-1, "01020304"] });
    expect(toTypedJson(new Map([[Uint8Array.of(1), 1]]))).toEqual({ $map: [[{ $bin: "01" }, 1]] });
    expect(toTypedJson({ $x: 1 })).toEqual({ $map: [["$x", 1]] });
    expect(toTypedJson(new Map([["a", 1]]))).toEqual({ a: 1 });
    expect(toTypedJson(new Date(1700000000000))).toEqual({ $ext: [-1, "6553f100"] });
    expect(() => toTypedJson(() => 1)).toThrow(TypeError);
  });

  it("round-trips through fromTypedJson with the same types", () => {
    const json: TypedJson = [
      null, true, 1, { $int: "-9223372036854775808" }, { $f64: 2 }, { $f64: "NaN" }, "s", { $bin: "00" },
      { $ext: [5, "010203"] }, { $map: [[{ $bin: "01" }, { a: [] }]] }, { b: 2 },
    ];
    const value = fromTypedJson(json);
    expect(typedJsonEqual(toTypedJson(value), json)).toBe(true);
    expect(typedJsonEqual(toTypedJson(decodeValue(encodeValue(value))), json)).toBe(true);
  });

  it("builds timestamps in the smallest form", () => {
    expect(toTypedJson(timestampExt(1700000000n))).toEqual({ $ext: [-1, "6553f100"] });
    expect(toTypedJson(timestampExt(1700000000n, 123456789))).toEqual({ $ext: [-1, "1d6f34546553f100"] });
    expect(toTypedJson(timestampExt(-100n))).toEqual({ $ext: [-1, "00000000ffffffffffffff9c"] });
  });
});

describe("types()", () => {
  it("the spec's expected map equals zerorpc-python's recorded reply, and our value equals it", () => {
    const vector = loadVector("call_no_args");
    const reply = vector.messages.find((m) => m.event?.name === "OK")!;
    const recorded = (reply.event!.args as TypedJson[])[0]!;
    expect(stringifyTypedJson(expectedTypesJson())).toBe(stringifyTypedJson(recorded));
    expect(stringifyTypedJson(toTypedJson(testTypesValue()))).toBe(stringifyTypedJson(recorded));
    const layout = ["fixarray[1]", ...msgpackLayout(encodeValue(testTypesValue()))];
    expect(layout.join(" ")).toBe(eventArgsLayout(hexToBytes(reply.frames[1]!.hex)).join(" "));
  });
});
