import { describe, expect, it } from "vitest";
import {
  createMessageIdGenerator,
  messageIdEquals,
  messageIdKey,
  messageIdToString,
  newMessageId,
} from "../src/index.js";

const text = (id: Uint8Array): string => new TextDecoder().decode(id);

/** A deterministic "random" source: replays the given byte blocks in order. */
function scripted(...blocks: number[][]): (bytes: Uint8Array) => void {
  let call = 0;
  return (bytes) => {
    const block = blocks[call++];
    if (block === undefined) throw new Error("random called more often than scripted");
    bytes.set(block.slice(0, bytes.length));
  };
}

function block(base: number, counter: number, stopOffset: number): number[] {
  const bytes = new Array<number>(20).fill(base);
  const write = (at: number, value: number) => {
    bytes[at] = value >>> 24;
    bytes[at + 1] = (value >>> 16) & 0xff;
    bytes[at + 2] = (value >>> 8) & 0xff;
    bytes[at + 3] = value & 0xff;
  };
  write(12, counter);
  write(16, stopOffset);
  return bytes;
}

describe("newMessageId", () => {
  it("makes 32 ASCII lowercase hex bytes, unique over 10,000 ids", () => {
    const seen = new Set<string>();
    for (let i = 0; i < 10_000; i++) {
      const id = newMessageId();
      expect(id).toBeInstanceOf(Uint8Array);
      expect(id.length).toBe(32);
      const hex = text(id);
      expect(hex).toMatch(/^[0-9a-f]{32}$/);
      seen.add(hex);
    }
    expect(seen.size).toBe(10_000);
  });

  it("counts up like Python: next id = counter + 1, same base", () => {
    for (let i = 0; i < 100; i++) {
      const a = text(newMessageId());
      const b = text(newMessageId());
      const counterA = Number.parseInt(a.slice(0, 8), 16);
      const counterB = Number.parseInt(b.slice(0, 8), 16);
      if (a.slice(8) !== b.slice(8)) continue; // a redraw happened in between (very rare)
      expect(counterB).toBe(counterA + 1);
    }
  });

  it("returns a fresh array every time", () => {
    const a = newMessageId();
    const b = newMessageId();
    expect(a.buffer).not.toBe(b.buffer);
  });
});

describe("createMessageIdGenerator", () => {
  it("starts at the drawn counter, increments, and redraws base and counter at the stop value", () => {
    // base bytes 0xab..., counter 0xfffffffd, stop = counter + (2 % (2^32 - counter)) = counter + 2
    const next = createMessageIdGenerator(scripted(block(0xab, 0xfffffffd, 2), block(0x01, 7, 1000)));
    expect(text(next())).toBe("fffffffe" + "ab".repeat(12));
    expect(text(next())).toBe("ffffffff" + "ab".repeat(12));
    // Counter reached the stop: new base and counter (never wraps past 2^32 - 1).
    expect(text(next())).toBe("00000007" + "01".repeat(12));
    expect(text(next())).toBe("00000008" + "01".repeat(12));
  });

  it("keeps separate state per generator", () => {
    const a = createMessageIdGenerator(scripted(block(0x11, 100, 50)));
    const b = createMessageIdGenerator(scripted(block(0x22, 100, 50)));
    expect(text(a())).toBe("00000065" + "11".repeat(12));
    expect(text(a())).toBe("00000066" + "11".repeat(12));
    expect(text(b())).toBe("00000065" + "22".repeat(12));
  });
});

describe("messageIdKey / messageIdEquals", () => {
  const bin = new TextEncoder().encode("abc");

  it("distinguishes bin from str with the same bytes", () => {
    expect(messageIdKey(bin)).not.toBe(messageIdKey("abc"));
    expect(messageIdKey(bin)).toBe("babc");
    expect(messageIdKey("abc")).toBe("sabc");
    expect(messageIdEquals(bin, "abc")).toBe(false);
    expect(messageIdEquals("abc", bin)).toBe(false);
  });

  it("treats number and bigint of the same value as the same int", () => {
    expect(messageIdKey(12345)).toBe("i12345");
    expect(messageIdKey(12345n)).toBe("i12345");
    expect(messageIdKey(-0)).toBe("i0");
    expect(messageIdEquals(5, 5n)).toBe(true);
    expect(messageIdEquals(5n, 5)).toBe(true);
    expect(messageIdEquals(5, 6n)).toBe(false);
    expect(messageIdEquals(5, "5")).toBe(false);
    expect(messageIdKey("5")).not.toBe(messageIdKey(5));
  });

  it("compares bin ids by bytes", () => {
    const id = newMessageId();
    const copy = id.slice();
    expect(messageIdKey(copy)).toBe(messageIdKey(id));
    expect(messageIdEquals(copy, id)).toBe(true);
    copy[31] = copy[31]! ^ 1;
    expect(messageIdKey(copy)).not.toBe(messageIdKey(id));
    expect(messageIdEquals(copy, id)).toBe(false);
    expect(messageIdEquals(id.subarray(0, 31), id)).toBe(false);
    expect(messageIdKey(id)).toHaveLength(33);
  });

  it("handles long and non-ASCII bin ids", () => {
    const long = new Uint8Array(10_000).map((_, i) => i & 0xff);
    expect(messageIdKey(long)).toHaveLength(10_001);
    expect(messageIdKey(long).charCodeAt(256)).toBe(255);
  });
});

describe("messageIdToString", () => {
  it("shows printable bin as text, other bin as hex, str and ints as they are", () => {
    expect(messageIdToString(new TextEncoder().encode("c090f3843ba94c8696ef0366dfcf8cd8"))).toBe(
      "c090f3843ba94c8696ef0366dfcf8cd8",
    );
    expect(messageIdToString(Uint8Array.of(0, 0xff, 0x10))).toBe("0x00ff10");
    expect(messageIdToString(new Uint8Array(0))).toBe("0x");
    expect(messageIdToString("abc-str-id")).toBe("abc-str-id");
    expect(messageIdToString(12345)).toBe("12345");
    expect(messageIdToString(2n ** 64n - 1n)).toBe("18446744073709551615");
  });
});
