// Fuzzing decodeEvent with a seeded PRNG: random bytes and mutations (bit flips, truncation,
// insertion, deletion, length-field corruption, splicing) of real zerorpc-python payloads. Every
// input must either decode or throw ProtocolError, nothing else, and no prototype may change.
import { describe, expect, it } from "vitest";
import { ProtocolError, decodeEvent, encodeValue } from "../src/index.js";
import type { DecodeOptions, Event } from "../src/index.js";
import { fromHex, loadVectors } from "@zrpc/test-support";

const ITERATIONS = 100_000;
const SEED = 0x5eed_2024;

/** mulberry32: small, fast, good enough for fuzzing. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function seeds(): Uint8Array[] {
  const payloads = new Map<string, Uint8Array>();
  for (const vector of loadVectors()) {
    for (const message of vector.messages) {
      for (const frame of message.frames ?? []) {
        if (frame.role === "payload") payloads.set(frame.hex, fromHex(frame.hex));
      }
    }
  }
  const id = new TextEncoder().encode("000000010123456789abcdef01234567");
  // Hand-made seeds for paths the vectors do not reach.
  payloads.set("proto", fromHex("9381a95f5f70726f746f5f5f81a8706f6c6c7574656401a161c0"));
  payloads.set(
    "mixed",
    encodeValue([{ message_id: id, v: 3 }, "x", [new Map<unknown, unknown>([["a", 1], [Uint8Array.of(1), { b: [2n ** 63n] }]]), "é".repeat(40)]], {
      mapKeys: "any",
    }),
  );
  payloads.set("deep", encodeValue([{ message_id: id }, "d", [[[[[[[[[[1]]]]]]]]]]]));
  payloads.set("long", encodeValue([{ message_id: id }, "l", ["x".repeat(300), new Uint8Array(300), -1.5]]));
  return [...payloads.values()];
}

const LENGTH_CODES = [0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xd9, 0xda, 0xdb, 0xdc, 0xdd, 0xde, 0xdf];

/** Replaces `remove` bytes at `at` with `insert`. */
function splice(bytes: Uint8Array, at: number, remove: number, insert: ArrayLike<number>): Uint8Array {
  const start = Math.min(at, bytes.length);
  const cut = Math.min(remove, bytes.length - start);
  const out = new Uint8Array(bytes.length - cut + insert.length);
  out.set(bytes.subarray(0, start));
  out.set(insert, start);
  out.set(bytes.subarray(start + cut), start + insert.length);
  return out;
}

function mutate(input: Uint8Array, random: () => number, corpus: Uint8Array[]): Uint8Array {
  const pick = (n: number) => Math.floor(random() * n);
  let bytes = input;
  const rounds = 1 + pick(3);
  for (let round = 0; round < rounds; round++) {
    const at = pick(bytes.length + 1);
    switch (pick(6)) {
      case 0: // bit flips
        bytes = bytes.slice(); // never flip bits in a corpus seed
        for (let i = pick(4); i >= 0 && bytes.length > 0; i--) {
          const where = pick(bytes.length);
          bytes[where] = bytes[where]! ^ (1 << pick(8));
        }
        break;
      case 1: // truncation
        bytes = bytes.subarray(0, at);
        break;
      case 2: // insertion of random bytes
        bytes = splice(bytes, at, 0, Array.from({ length: 1 + pick(4) }, () => pick(256)));
        break;
      case 3: // deletion
        bytes = splice(bytes, at, 1 + pick(4), []);
        break;
      case 4: {
        // length-field corruption: a length-carrying type byte with a big or random length
        const big = random() < 0.5;
        const field = [LENGTH_CODES[pick(LENGTH_CODES.length)]!, ...Array.from({ length: 4 }, () => (big ? 0xff : pick(256)))];
        bytes = splice(bytes, at, field.length, field);
        break;
      }
      default: {
        // splice in a chunk of another seed
        const other = corpus[pick(corpus.length)]!;
        const from = pick(other.length);
        bytes = splice(bytes, at, pick(8), other.subarray(from, from + 1 + pick(16)));
      }
    }
  }
  return bytes;
}

function randomBytes(random: () => number): Uint8Array {
  const length = Math.floor(random() * 64);
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = Math.floor(random() * 256);
  // Often start like an event so that decoding gets past the first byte.
  if (length > 0 && random() < 0.5) bytes[0] = 0x93;
  return bytes;
}

/** True if every plain object in the decoded value has Object.prototype as its prototype. */
function prototypesIntact(value: unknown, depth = 0): boolean {
  if (depth > 100 || typeof value !== "object" || value === null || value instanceof Uint8Array) return true;
  if (Array.isArray(value)) return value.every((item) => prototypesIntact(item, depth + 1));
  if (value instanceof Map) {
    return [...(value as Map<unknown, unknown>)].every(([k, v]) => prototypesIntact(k, depth + 1) && prototypesIntact(v, depth + 1));
  }
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto?.constructor?.name !== "Float64" && proto?.constructor?.name !== "Ext") return false;
  return Object.values(value).every((item) => prototypesIntact(item, depth + 1));
}

const TIGHT: DecodeOptions = { maxDepth: 4, maxStrLength: 20, maxBinLength: 20, maxArrayLength: 5, maxMapLength: 5, maxExtLength: 4, maxMessageBytes: 200 };

describe("fuzzing decodeEvent", () => {
  it(`returns or throws ProtocolError for ${ITERATIONS.toLocaleString("en")} inputs`, () => {
    const random = prng(SEED);
    const corpus = seeds();
    const objectProtoBefore = Object.getOwnPropertyNames(Object.prototype).sort();
    const arrayProtoBefore = Object.getOwnPropertyNames(Array.prototype).sort();
    const reasons = new Map<string, number>();
    const strangers: string[] = [];
    let decoded = 0;
    let brokenPrototypes = 0;
    const started = performance.now();
    // Stack traces play no part in the verdict; capturing 90,000 of them would dominate the run.
    const stackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      for (let i = 0; i < ITERATIONS; i++) {
        const input = random() < 0.2 ? randomBytes(random) : mutate(corpus[Math.floor(random() * corpus.length)]!, random, corpus);
        const options = random() < 0.1 ? TIGHT : undefined;
        let event: Event;
        try {
          event = decodeEvent(input, options);
        } catch (error) {
          if (error instanceof ProtocolError) {
            reasons.set(error.reason, (reasons.get(error.reason) ?? 0) + 1);
          } else if (strangers.length < 5) {
            strangers.push(`${String(error)} for ${Buffer.from(input).toString("hex")}`);
          }
          continue;
        }
        decoded++;
        if (!prototypesIntact(event.header) || !prototypesIntact(event.args)) brokenPrototypes++;
      }
    } finally {
      Error.stackTraceLimit = stackTraceLimit;
    }
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `fuzz: ${ITERATIONS} inputs in ${seconds.toFixed(1)} s: ${decoded} decoded, ` +
        [...reasons].map(([reason, count]) => `${count} ${reason}`).join(", "),
    );
    expect(strangers).toEqual([]);
    expect(brokenPrototypes).toBe(0);
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(objectProtoBefore);
    expect(Object.getOwnPropertyNames(Array.prototype).sort()).toEqual(arrayProtoBefore);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    // The corpus and mutations reach both outcomes and many reasons.
    expect(decoded).toBeGreaterThan(1000);
    expect(reasons.size).toBeGreaterThanOrEqual(8);
  });
});
