import { describe, expect, it } from "vitest";
import {
  Ext,
  ProtocolError,
  TIMESTAMP_EXT_TYPE,
  decodeValue,
  encodeValue,
  timestampFromDate,
  timestampParts,
  timestampToDate,
} from "../src/index.js";
import { toHex } from "@zrpc/test-support";

const extHex = (ext: Ext): string => toHex(encodeValue(ext));

describe("timestampFromDate picks the smallest form", () => {
  it("timestamp32 for whole seconds in [0, 2^32)", () => {
    expect(TIMESTAMP_EXT_TYPE).toBe(-1);
    expect(extHex(timestampFromDate(new Date(0)))).toBe("d6ff00000000");
    expect(extHex(timestampFromDate(new Date(1700000000000)))).toBe("d6ff6553f100");
    expect(extHex(timestampFromDate(new Date((2 ** 32 - 1) * 1000)))).toBe("d6ffffffffff");
  });

  it("timestamp64 for sub-second values or seconds in [2^32, 2^34)", () => {
    // 1.5 s: nanoseconds 500,000,000 << 2 | 0, seconds 1
    expect(extHex(timestampFromDate(new Date(1500)))).toBe("d7ff" + "77359400" + "00000001");
    expect(extHex(timestampFromDate(new Date(2 ** 32 * 1000)))).toBe("d7ff" + "00000001" + "00000000");
    expect(extHex(timestampFromDate(new Date((2 ** 34 - 1) * 1000)))).toBe("d7ff" + "00000003" + "ffffffff");
  });

  it("timestamp96 before 1970 or from 2^34 seconds on", () => {
    // -1 ms = -1 s + 999,000,000 ns
    expect(extHex(timestampFromDate(new Date(-1)))).toBe("c70cff" + "3b8b87c0" + "ffffffffffffffff");
    expect(extHex(timestampFromDate(new Date(2 ** 34 * 1000)))).toBe("c70cff" + "00000000" + "0000000400000000");
    expect(timestampFromDate(new Date(8.64e15)).data.length).toBe(12);
    expect(timestampFromDate(new Date(-8.64e15)).data.length).toBe(12);
  });

  it("throws for an invalid Date", () => {
    expect(() => timestampFromDate(new Date(NaN))).toThrow(RangeError);
  });
});

describe("timestampToDate / timestampParts", () => {
  it("round-trips dates through encode and decode", () => {
    for (const ms of [0, 1, 999, 1500, -1, -1500, 1700000000123, 2 ** 32 * 1000 + 7, 2 ** 34 * 1000, 8.64e15, -8.64e15]) {
      const back = decodeValue(encodeValue(new Date(ms))) as Ext;
      expect(back).toBeInstanceOf(Ext);
      expect(timestampToDate(back).getTime()).toBe(ms);
    }
  });

  it("gives the exact seconds and nanoseconds, sub-millisecond included", () => {
    const ext = new Ext(-1, Uint8Array.of(0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x01)); // 1 s + 1 ns
    expect(timestampParts(ext)).toEqual({ seconds: 1n, nanoseconds: 1 });
    expect(timestampToDate(ext).getTime()).toBe(1000);
    const far = new Ext(-1, Uint8Array.of(0, 0, 0, 5, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff));
    expect(timestampParts(far)).toEqual({ seconds: 2n ** 63n - 1n, nanoseconds: 5 });
    expect(() => timestampToDate(far)).toThrow(RangeError);
  });

  it("throws ProtocolError for malformed timestamps", () => {
    const bad = [new Ext(5, new Uint8Array(4)), new Ext(-1, new Uint8Array(5)), new Ext(-1, Uint8Array.of(0xff, 0xff, 0xff, 0xfc, 0, 0, 0, 0))];
    for (const ext of bad) {
      expect(() => timestampToDate(ext)).toThrow(ProtocolError);
      expect(() => timestampParts(ext)).toThrow(ProtocolError);
    }
  });
});
