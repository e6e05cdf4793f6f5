// Map keys that name JavaScript's prototype machinery ("__proto__", "constructor", "prototype")
// are ordinary dict keys for a Python peer. They decode as own data properties (as JSON.parse
// makes them), re-encode byte-exact in their wire place, and never touch a prototype.
import { describe, expect, it } from "vitest";
import { decodeEvent, decodeValue, encodeEvent, encodeValue } from "../src/index.js";
import { fromHex, toHex } from "@zrpc/test-support";

const enc = (value: unknown): string => toHex(encodeValue(value));
const dec = (hex: string): unknown => decodeValue(fromHex(hex));
const hexOf = (text: string): string => toHex(new TextEncoder().encode(text));
/** A canonical str (fixstr / str8 as Python packs it) and a bin of the same text. */
const str = (text: string): string => {
  const bytes = hexOf(text);
  const length = bytes.length / 2;
  return length < 32 ? (0xa0 + length).toString(16) + bytes : "d9" + length.toString(16).padStart(2, "0") + bytes;
};
const bin = (text: string): string => "c4" + (hexOf(text).length / 2).toString(16).padStart(2, "0") + hexOf(text);

const KEYS = ["__proto__", "constructor", "prototype"] as const;

/** Snapshot of what a pollution would change. */
function prototypeState(): string {
  const names = (target: object): string => Reflect.ownKeys(target).map(String).sort().join(",");
  return [
    names(Object.prototype),
    names(Function.prototype),
    names(Array.prototype),
    String(Object.getPrototypeOf(Object.prototype)),
    String(Object.getPrototypeOf({}) === Object.prototype),
  ].join("|");
}

describe("prototype-named map keys round-trip byte-exact", () => {
  for (const key of KEYS) {
    it(`${key}: top level, after other keys, nested, in an array`, () => {
      const cases = [
        "81" + str(key) + "01",
        "83" + str("a") + "01" + str(key) + "81" + str("x") + "02" + str("b") + "03",
        "81" + str("outer") + "82" + str(key) + "81" + str(key) + "c3" + str("z") + "c0",
        "93" + "81" + str(key) + "01" + "80" + "91" + "81" + str(key) + "92" + "01" + "02",
      ];
      for (const hex of cases) {
        const value = dec(hex);
        expect(enc(value)).toBe(hex);
      }
      const top = dec("83" + str("a") + "01" + str(key) + "02" + str("b") + "03") as Record<string, unknown>;
      expect(Object.getPrototypeOf(top)).toBe(Object.prototype);
      expect(Object.keys(top)).toEqual(["a", key, "b"]);
      expect(Object.getOwnPropertyDescriptor(top, key)).toEqual({ value: 2, writable: true, enumerable: true, configurable: true });
    });

    it(`${key}: as a bin key (a Map), alone and beside the same str key`, () => {
      for (const hex of [
        "81" + bin(key) + "01",
        "82" + str(key) + "01" + bin(key) + "02",
        "82" + bin(key) + "01" + str(key) + "02",
      ]) {
        const value = dec(hex);
        expect(value).toBeInstanceOf(Map);
        expect(enc(value)).toBe(hex);
      }
      const mixed = dec("82" + str(key) + "01" + bin(key) + "02") as Map<unknown, unknown>;
      expect([...mixed.keys()]).toEqual([key, new TextEncoder().encode(key)]);
    });
  }

  it("keeps the last of duplicate __proto__ keys at the first one's place, like other keys", () => {
    const back = dec("83" + str("__proto__") + "01" + str("a") + "02" + str("__proto__") + "03") as Record<string, unknown>;
    expect(Object.keys(back)).toEqual(["__proto__", "a"]);
    expect(Object.getOwnPropertyDescriptor(back, "__proto__")?.value).toBe(3);
  });

  it("decodes like JSON.parse: same own keys and values", () => {
    const json = '{"__proto__": {"constructor": {"prototype": [1, {"__proto__": null}]}}, "k": "v"}';
    const hex =
      "82" + str("__proto__") + "81" + str("constructor") + "81" + str("prototype") +
      "92" + "01" + "81" + str("__proto__") + "c0" + str("k") + str("v");
    expect(dec(hex)).toEqual(JSON.parse(json));
    expect(JSON.stringify(dec(hex))).toBe(JSON.stringify(JSON.parse(json)));
    expect(enc(JSON.parse(json))).toBe(hex);
  });

  it("a request event with such keys in its args and header re-encodes byte-exact", () => {
    const id = "c420" + hexOf("0123456789abcdef0123456789abcdef");
    const hex =
      "93" + "83" + str("message_id") + id + str("v") + "03" + str("__proto__") + "81" + str("x") + "01" +
      str("echo") + "91" + "82" + str("__proto__") + "81" + str("polluted") + "c3" + str("constructor") + "81" + str("prototype") + "81" + str("polluted") + "c3";
    const event = decodeEvent(fromHex(hex));
    expect(event.name).toBe("echo");
    expect(Object.getPrototypeOf(event.header)).toBe(Object.prototype);
    expect(toHex(encodeEvent(event))).toBe(hex);
  });
});

describe("a polluting payload changes no prototype", () => {
  it('{"__proto__": {"polluted": true}} and {"constructor": {"prototype": {"polluted": true}}}', () => {
    const before = prototypeState();
    const payloads = [
      "81" + str("__proto__") + "81" + str("polluted") + "c3",
      "81" + str("constructor") + "81" + str("prototype") + "81" + str("polluted") + "c3",
      "91" + "81" + str("__proto__") + "81" + str("__proto__") + "81" + str("polluted") + "c3",
      "81" + str("prototype") + "81" + str("__proto__") + "81" + str("polluted") + "c3",
    ];
    const decoded = payloads.map((hex) => dec(hex) as object);
    // What handlers typically do with received data: read, spread, copy, stringify, re-encode.
    for (const value of decoded) {
      const spread = { ...value };
      const copied = structuredClone(value);
      JSON.stringify(value);
      encodeValue([value, spread, copied]);
      expect(Object.getPrototypeOf(spread)).toBe(Object.prototype);
    }
    const first = decoded[0] as Record<string, unknown>;
    expect(Object.getPrototypeOf(first)).toBe(Object.prototype);
    expect(first.__proto__).toEqual({ polluted: true }); // the own data property shadows the accessor
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((Object.create(null) as Record<string, unknown>).polluted).toBeUndefined();
    expect(Reflect.get(() => undefined, "polluted")).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty("polluted");
    expect(prototypeState()).toBe(before);
  });
});
