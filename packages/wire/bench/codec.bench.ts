// Codec benchmark: @zrpc/wire vs @msgpack/msgpack (one-shot encode/decode and reused instances) on the same values.
// Run with `pnpm --filter @zrpc/wire bench` (node --expose-gc --import tsx bench/codec.bench.ts).
// Prints a Markdown table of medians over several rounds, after a warm-up.
import { Decoder, Encoder, decode as msgpackDecode, encode as msgpackEncode } from "@msgpack/msgpack";
import { readFileSync } from "node:fs";
import { decodeEvent, decodeValue, encodeEvent, encodeValue, newMessageId } from "../src/index.js";
import type { Event } from "../src/index.js";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 11);
const ROUND_MS = Number(process.env.BENCH_ROUND_MS ?? 100);
const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);

interface Impl {
  readonly encode: () => Uint8Array;
  readonly decode: () => unknown;
}

interface Case {
  readonly name: string;
  readonly ours: Impl;
  /** One-shot `encode()` / `decode()`: a new Encoder / Decoder per call. */
  readonly msgpack: Impl;
  /** For reference: one reused `Encoder` / `Decoder` instance (the fastest way to use @msgpack). */
  readonly msgpackReused: Impl;
}

const reusedEncoder = new Encoder();
const reusedDecoder = new Decoder();

function msgpackImpls(value: unknown, bytes: Uint8Array): Pick<Case, "msgpack" | "msgpackReused"> {
  return {
    msgpack: { encode: () => msgpackEncode(value), decode: () => msgpackDecode(bytes) },
    msgpackReused: { encode: () => reusedEncoder.encode(value), decode: () => reusedDecoder.decode(bytes) },
  };
}

let sink = 0;

function smallEventCase(): Case {
  const id = newMessageId();
  const event: Event = { header: { message_id: id, v: 3 }, name: "add", args: [2, 3] };
  const plain = [{ message_id: id, v: 3 }, "add", [2, 3]];
  const ourBytes = encodeEvent(event);
  const theirBytes = msgpackEncode(plain);
  return {
    name: "small call event `[{message_id, v: 3}, \"add\", [2, 3]]`",
    ours: { encode: () => encodeEvent(event), decode: () => decodeEvent(ourBytes) },
    ...msgpackImpls(plain, theirBytes),
  };
}

function mapCase(): { case: Case; bytes: number } {
  const map: Record<string, unknown> = {};
  for (let i = 0; i < 30; i++) {
    const key = `field_${i.toString().padStart(2, "0")}`;
    switch (i % 6) {
      case 0:
        map[key] = i * 1000;
        break;
      case 1:
        map[key] = `value number ${i}`;
        break;
      case 2:
        map[key] = i + 0.25;
        break;
      case 3:
        map[key] = i % 2 === 0;
        break;
      case 4:
        map[key] = [i, -i, `s${i}`];
        break;
      default:
        map[key] = { nested: i, label: "héllo wörld" };
    }
  }
  const ourBytes = encodeValue(map);
  const theirBytes = msgpackEncode(map);
  return {
    bytes: ourBytes.length,
    case: {
      name: `map of 30 str keys, mixed values (${ourBytes.length} bytes)`,
      ours: { encode: () => encodeValue(map), decode: () => decodeValue(ourBytes) },
      ...msgpackImpls(map, theirBytes),
    },
  };
}

function binEventCase(): Case {
  const blob = new Uint8Array(1024 * 1024);
  for (let i = 0; i < blob.length; i++) blob[i] = (i * 31) & 0xff;
  const id = newMessageId();
  const event: Event = { header: { message_id: id, v: 3 }, name: "upload", args: [blob] };
  const plain = [{ message_id: id, v: 3 }, "upload", [blob]];
  const ourBytes = encodeEvent(event);
  const theirBytes = msgpackEncode(plain);
  return {
    name: "event with a 1 MiB bin arg",
    ours: { encode: () => encodeEvent(event), decode: () => decodeEvent(ourBytes) },
    ...msgpackImpls(plain, theirBytes),
  };
}

type Op = "encode" | "decode" | "encode+decode";

function runner(impl: Impl, op: Op): () => void {
  switch (op) {
    case "encode":
      return () => {
        sink += impl.encode().length;
      };
    case "decode":
      return () => {
        sink += impl.decode() === undefined ? 0 : 1;
      };
    case "encode+decode":
      return () => {
        sink += impl.encode().length;
        sink += impl.decode() === undefined ? 0 : 1;
      };
  }
}

/** Iterations that take about `ms` milliseconds. */
function calibrate(run: () => void, ms: number): number {
  let iterations = 1;
  for (;;) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) run();
    const elapsed = Number(process.hrtime.bigint() - start) / 1e6;
    if (elapsed >= ms / 4) return Math.max(1, Math.round((iterations * ms) / elapsed));
    iterations *= 2;
  }
}

function timeRound(run: () => void, iterations: number): number {
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) run();
  return Number(process.hrtime.bigint() - start) / iterations;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function formatNs(ns: number): string {
  return ns >= 100_000 ? `${(ns / 1000).toFixed(0)} µs` : ns >= 10_000 ? `${(ns / 1000).toFixed(1)} µs` : `${ns.toFixed(0)} ns`;
}

function formatOps(ns: number): string {
  const ops = 1e9 / ns;
  return ops >= 1e6 ? `${(ops / 1e6).toFixed(2)} M` : ops >= 1e3 ? `${(ops / 1e3).toFixed(1)} k` : ops.toFixed(0);
}

/** The 1-minute load average (Linux), so that a noisy run shows as such. */
function loadAverage(): string {
  try {
    return readFileSync("/proc/loadavg", "utf8").split(" ")[0] ?? "?";
  } catch {
    return "unknown";
  }
}

function main(): void {
  const cases = [smallEventCase(), mapCase().case, binEventCase()];
  const ops: Op[] = ["encode", "decode", "encode+decode"];
  const rows: string[] = [];
  for (const benchCase of cases) {
    for (const op of ops) {
      const ours = runner(benchCase.ours, op);
      const theirs = runner(benchCase.msgpack, op);
      const reused = runner(benchCase.msgpackReused, op);
      // Warm-up: let every variant reach optimised code before timing.
      const ourIterations = calibrate(ours, ROUND_MS);
      const theirIterations = calibrate(theirs, ROUND_MS);
      const reusedIterations = calibrate(reused, ROUND_MS);
      const ourTimes: number[] = [];
      const theirTimes: number[] = [];
      const reusedTimes: number[] = [];
      // Rounds interleave the variants so that machine load drifts hit all of them alike.
      for (let round = 0; round < ROUNDS; round++) {
        gc();
        ourTimes.push(timeRound(ours, ourIterations));
        gc();
        theirTimes.push(timeRound(theirs, theirIterations));
        gc();
        reusedTimes.push(timeRound(reused, reusedIterations));
      }
      const ourNs = median(ourTimes);
      const theirNs = median(theirTimes);
      const reusedNs = median(reusedTimes);
      rows.push(
        `| ${benchCase.name} | ${op} | ${formatNs(ourNs)} | ${formatOps(ourNs)} | ${formatNs(theirNs)} | ${formatOps(theirNs)} | ` +
          `**${(theirNs / ourNs).toFixed(2)}x** | ${formatNs(reusedNs)} | ${(reusedNs / ourNs).toFixed(2)}x |`,
      );
    }
  }
  console.log(
    `@zrpc/wire vs @msgpack/msgpack 3.1, Node ${process.version}, median of ${ROUNDS} interleaved rounds of ~${ROUND_MS} ms each, ` +
      `load average ${loadAverage()}`,
  );
  console.log("");
  console.log(
    "| case | op | @zrpc/wire ns/op | @zrpc/wire ops/s | @msgpack ns/op | @msgpack ops/s | speed ours/@msgpack | @msgpack reused ns/op | speed ours/reused |",
  );
  console.log("|---|---|---:|---:|---:|---:|---:|---:|---:|");
  for (const row of rows) console.log(row);
  console.log("");
  console.log("speed ours/X = X's time / our time (above 1x: @zrpc/wire is faster).");
  console.log("@msgpack = one-shot encode()/decode() (a new Encoder/Decoder per call); reused = one Encoder/Decoder instance kept across calls.");
  if (sink === 0.5) console.log(sink);
}

main();
