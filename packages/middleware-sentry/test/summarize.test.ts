// The argument summary, message ids and peers as text: pure functions, no SDK.
import { describe, expect, it } from "vitest";
import { Ext, f64 } from "@zrpc/client";
import { describeValue, messageIdText, peerText, summarizeArgs } from "../src/index.js";

describe("summarizeArgs", () => {
  it("keeps scalars, cuts long strings and describes binary data", () => {
    const summary = summarizeArgs([1, 2.5, true, null, undefined, 2n ** 70n, "short", "y".repeat(300), new Uint8Array(40), f64(2), new Ext(5, new Uint8Array(3))]);
    expect(summary).toEqual({
      args: [1, 2.5, true, null, null, "1180591620717411303424", "short", `${"y".repeat(200)}...[+100 chars]`, "<bin 40 bytes>", 2, "<ext type 5, 3 bytes>"],
      args_count: 11,
    });
  });

  it("shows one level of containers, limits items and redacts secret-looking keys", () => {
    const summary = summarizeArgs([
      { user: "ada", password: "pw", apiKey: "k", nested: { deep: 1 }, list: [1, 2] },
      new Map<unknown, unknown>([["token", "t"], [7, "seven"]]),
      Array.from({ length: 25 }, (_, i) => i),
    ]);
    expect(summary.args).toEqual([
      { user: "ada", password: "[Filtered]", apiKey: "[Filtered]", nested: "<map 1 keys>", list: "<array 2 items>" },
      { token: "[Filtered]", "7": "seven" },
      [...Array.from({ length: 20 }, (_, i) => i), "...[+5 items]"],
    ]);
  });

  it("honours maxDepth, maxItems, maxStringLength and redactKeys: null", () => {
    const summary = summarizeArgs([{ a: { b: { c: 1 } }, secret: "s" }, "abcdef", [1, 2, 3]], {
      maxDepth: 2,
      maxItems: 2,
      maxStringLength: 3,
      redactKeys: null,
    });
    expect(summary.args).toEqual([{ a: { b: "<map 1 keys>" }, secret: "s" }, "abc...[+3 chars]", [1, 2, "...[+1 items]"]]);
    expect(summarizeArgs([{ a: 1 }], { maxDepth: 0 }).args).toEqual(["<map 1 keys>"]);
  });

  it("stays within maxBytes: describes what does not fit, then counts what does not even fit described", () => {
    const args = Array.from({ length: 50 }, (_, i) => `${i}`.repeat(150));
    const summary = summarizeArgs(args, { maxBytes: 600 });
    expect(Buffer.byteLength(JSON.stringify(summary.args))).toBeLessThanOrEqual(600);
    expect(summary.args_truncated).toBe(true);
    expect(summary.args[0]).toBe("0".repeat(150));
    expect(summary.args[3]).toBe("<str 150 chars>");
    expect(summary.args_omitted).toBe(50 - summary.args.length);
    expect(summary.args_omitted).toBeGreaterThan(0);
    expect(summary.args_count).toBe(50);
  });

  it("describes values by type and size", () => {
    expect([describeValue("abc"), describeValue(3), describeValue(1.5), describeValue(null), describeValue(new Date(0)), describeValue(() => 1)]).toEqual([
      "<str 3 chars>",
      "<int>",
      "<float>",
      "<nil>",
      "<Date>",
      "<function>",
    ]);
  });
});

describe("messageIdText and peerText", () => {
  it("shows zerorpc's hex-digit bin ids as text, other bin as hex, str and ints as they are", () => {
    const id = "c090f3843ba94c8696ef0366dfcf8cd8";
    expect(messageIdText(new TextEncoder().encode(id))).toBe(id);
    expect(messageIdText(new Uint8Array([0, 255, 16]))).toBe("00ff10");
    expect(messageIdText("abc")).toBe("abc");
    expect(messageIdText(42)).toBe("42");
  });

  it("hexes ROUTER routing frames, falls back to the transport key", () => {
    expect(peerText({ key: "ignored", envelope: [new Uint8Array([0, 0x6b, 0x8b, 0x45, 0x67])] })).toBe("006b8b4567");
    expect(peerText({ key: "", envelope: [new Uint8Array([1]), new Uint8Array([2, 3])] })).toBe("01.0203");
    expect(peerText({ key: "memory-7", envelope: [] })).toBe("memory-7");
    expect(peerText({ key: "", envelope: [] })).toBeUndefined();
  });
});
