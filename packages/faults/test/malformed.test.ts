// 100,000 malformed frames from raw zeromq.js sockets at a live server, while a well-behaved
// client keeps calling it.
import { Buffer } from "node:buffer";
import { describe, expect, it } from "vitest";
import { Dealer } from "zeromq";
import { connect } from "@zrpc/client";
import { encodeValue, newMessageId } from "@zrpc/wire";
import { kill, percentile, report, startServer } from "./helpers.js";

const FRAMES = 100_000;
const MAX_MESSAGE_BYTES = 64 * 1024;
const OVERSIZED = 20;
const LOG_RATE = 10;
/**
 * Time limit of each call of the well-behaved client during the flood. Its requests queue behind
 * the malformed frames the server still has to read, so a call can wait seconds on a loaded
 * machine (p99 3.1 s was seen with the suite beside `stress-ng --cpu 2`). The client's heartbeat
 * is half of it: a reply stuck behind the flood ends in a timeout, never in a LostRemote judged
 * after 2-3 intervals of 1 s, while the server is alive and merely busy.
 */
const CALL_TIMEOUT_MS = 10_000;

/** xorshift32: deterministic, so a failure can be replayed. */
function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

const CATEGORIES = [
  "random bytes",
  "truncated msgpack",
  "wrong shapes",
  "bin header keys",
  "__proto__ keys",
  "huge declared lengths",
  "deep nesting",
  "bad events",
] as const;

function malformedFrame(i: number, random: () => number): { category: (typeof CATEGORIES)[number]; payload: Uint8Array } {
  const category = CATEGORIES[i % CATEGORIES.length]!;
  const int = (n: number): number => Math.floor(random() * n);
  const header = (): Record<string, unknown> => ({ message_id: newMessageId(), v: 3 });
  switch (category) {
    case "random bytes": {
      const bytes = Buffer.alloc(int(256));
      for (let k = 0; k < bytes.length; k++) bytes[k] = int(256);
      return { category, payload: bytes };
    }
    case "truncated msgpack": {
      const whole = encodeValue([header(), "add", [int(100), "x".repeat(int(40))]]);
      return { category, payload: whole.subarray(0, 1 + int(whole.length - 1)) };
    }
    case "wrong shapes": {
      const shapes: unknown[] = [
        [header(), "add"],
        [header(), "add", [1, 2], "extra"],
        { message_id: 1 },
        42,
        null,
        "add",
        [[], "add", [1, 2]],
        [header(), 7, [1, 2]],
        [header(), new TextEncoder().encode("add"), [1, 2]],
        [header(), "add", null],
        [{ ...header(), v: "3" }, "add", [1, 2]],
        [{ v: 3 }, "add", [1, 2]],
        [{ message_id: { nested: true }, v: 3 }, "add", [1, 2]],
      ];
      return { category, payload: encodeValue(shapes[int(shapes.length)]) };
    }
    case "bin header keys": {
      const keys = new Map<Uint8Array, unknown>([
        [new TextEncoder().encode("message_id"), newMessageId()],
        [new TextEncoder().encode("v"), 3],
      ]);
      return { category, payload: encodeValue([keys, "add", [1, 2]]) };
    }
    case "__proto__ keys": {
      const evil = new Map<string, unknown>([["__proto__", { polluted: true }], ["message_id", newMessageId()], ["v", 3]]);
      const payload =
        int(2) === 0
          ? encodeValue([evil, "add", [1, 2]])
          : encodeValue([header(), "echo", [new Map<string, unknown>([["__proto__", { admin: true }]])]]);
      return { category, payload };
    }
    case "huge declared lengths": {
      // str32 / bin32 / array32 / map32 / ext32 declaring ~4 GiB, followed by a few bytes.
      const marker = [0xdb, 0xc6, 0xdd, 0xdf, 0xc9][int(5)]!;
      return { category, payload: Uint8Array.of(0x93, 0x80, marker, 0xff, 0xff, 0xff, 0xf0, 1, 2, 3) };
    }
    case "deep nesting": {
      const depth = 100 + int(5000);
      const bytes = Buffer.alloc(depth + 1, 0x91);
      bytes[depth] = 0xc0;
      return { category, payload: bytes };
    }
    case "bad events": {
      const events: unknown[] = [
        [header(), "no_such_method", []],
        [header(), "add", ["nope"]],
        [header(), "add", [1, 2, 3, 4]],
        [{ ...header(), response_to: newMessageId() }, "_zpc_more", ["lots"]],
        [{ ...header(), response_to: newMessageId() }, "_zpc_hb", [0]],
        [{ ...header(), response_to: newMessageId() }, "_zrpc_cancel", [{ reason: 1 }]],
        [header(), "_zpc_more", [1e9]],
        [{ ...header(), zrpc_deadline: "tomorrow", zrpc_caps: [1, null] }, "add", [1, 2]],
        [{ ...header(), zrpc_deadline: 1 }, "add", [1, 2]],
      ];
      if (int(4) === 0) {
        // A str whose bytes are not UTF-8 (zerorpc-python drops the whole message).
        return { category, payload: Uint8Array.of(0x93, 0x80, 0xa3, 0xff, 0xfe, 0xfd, 0x90) };
      }
      return { category, payload: encodeValue(events[int(events.length)]) };
    }
  }
}

describe("malformed frames", () => {
  it(`a live server survives ${FRAMES.toLocaleString("en")} malformed frames and keeps serving; its warnings are rate-limited`, async () => {
    const server = await startServer({ heartbeatMs: 1000, maxMessageBytes: MAX_MESSAGE_BYTES, logRateLimit: LOG_RATE });
    const client = await connect(server.endpoint, { heartbeatMs: CALL_TIMEOUT_MS / 2 });
    expect(await client.call("add", [1, 1])).toBe(2);

    // The well-behaved client calls throughout the flood.
    let flooding = true;
    const latencies: number[] = [];
    const failures: unknown[] = [];
    const worker = async (): Promise<void> => {
      let i = 0;
      while (flooding) {
        const started = performance.now();
        try {
          const sum = await client.call("add", [i, 1], { timeoutMs: CALL_TIMEOUT_MS });
          if (sum !== i + 1) failures.push(new Error(`add(${i}, 1) = ${String(sum)}`));
          latencies.push(performance.now() - started);
        } catch (error) {
          failures.push(error);
        }
        i += 1;
      }
    };
    const workers = Array.from({ length: 4 }, () => worker());

    const raw = new Dealer({ linger: 0, sendHighWaterMark: 1000 });
    raw.connect(server.endpoint);
    let replies = 0;
    const draining = (async () => {
      try {
        for await (const frames of raw) replies += frames.length > 0 ? 1 : 0;
      } catch {
        // closed
      }
    })();
    const random = prng(12);
    const counts = new Map<string, number>();
    const started = performance.now();
    for (let i = 0; i < FRAMES; i++) {
      const { category, payload } = malformedFrame(i, random);
      counts.set(category, (counts.get(category) ?? 0) + 1);
      // Some without the empty delimiter, some with extra envelope frames.
      const frames = i % 11 === 0 ? [payload] : i % 13 === 0 ? ["hop", "", payload] : ["", payload];
      await raw.send(frames);
    }
    // Oversized messages from another raw socket: libzmq drops its connection each time.
    const big = new Dealer({ linger: 0 });
    big.connect(server.endpoint);
    for (let i = 0; i < OVERSIZED; i++) {
      await big.send(["", Buffer.alloc(MAX_MESSAGE_BYTES + 1 + i, 0x92)]);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    counts.set("oversized", OVERSIZED);
    // The server has read everything once a request sent after the flood is answered.
    expect(await client.call("add", [40, 2], { timeoutMs: 30_000 })).toBe(42);
    const elapsed = (performance.now() - started) / 1000;
    flooding = false;
    await Promise.all(workers);
    raw.close();
    big.close();
    await draining;

    const stats = await client.call<{ warnings: number; rss: number; peakRss: number }>("faultsStats");
    await client.close();
    const warnings = server.events.filter((e) => e.type === "warn");
    const suppressed = warnings
      .map((e) => /(\d+) log message\(s\) suppressed/.exec(e.message as string))
      .reduce((sum, match) => sum + (match === null ? 0 : Number(match[1])), 0);
    report(
      `malformed flood: ${FRAMES.toLocaleString("en")} frames (${[...counts].map(([k, v]) => `${k} ${v}`).join(", ")}) in ${elapsed.toFixed(1)} s; ` +
        `${replies} replies went back to the raw socket (ERR for well-formed bad requests)`,
    );
    report(
      `meanwhile a well-behaved client made ${latencies.length} calls, ${failures.length} failed; latency p50 ${percentile(latencies, 50).toFixed(1)} ms, ` +
        `p99 ${percentile(latencies, 99).toFixed(1)} ms, max ${Math.max(...latencies).toFixed(1)} ms`,
    );
    report(
      `server log: ${warnings.length} warnings reached the logger (${LOG_RATE}/s limit), ${suppressed} more were counted and suppressed; ` +
        `server RSS ${(stats.rss / 2 ** 20).toFixed(1)} MiB, peak ${(stats.peakRss / 2 ** 20).toFixed(1)} MiB`,
    );
    expect(failures).toEqual([]);
    expect(latencies.length).toBeGreaterThan(10);
    // Bounded: at most LOG_RATE per started second (the suppression notices count against it).
    expect(warnings.length).toBeLessThanOrEqual(LOG_RATE * (Math.ceil(elapsed) + 3));
    expect(warnings.length + suppressed).toBeGreaterThan(1_000);
    expect(server.child.exitCode).toBeNull();
    await kill(server, "SIGTERM");
  });
});
