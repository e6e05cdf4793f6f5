// A server frozen with SIGSTOP: a short stall must be invisible, a long one must end in
// LostRemote on both sides (SIGCONT afterwards).
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import { LostRemote, connect } from "@zrpc/client";
import type { Client } from "@zrpc/client";
import { loopLag, percentile, report, startServer, until } from "./helpers.js";

/** Heartbeat interval of both sides. */
const F = 500;
const CALLS = 50;

let client: Client | undefined;

/** Waits until the server runs at least `count` handlers besides its stats calls. */
async function runningOn(c: Client, count: number): Promise<void> {
  for (;;) {
    const stats = await c.call<{ runs: number }>("faultsStats");
    if (stats.runs >= count) return;
    await sleep(20);
  }
}
afterEach(async () => {
  await client?.close();
  client = undefined;
});

describe("SIGSTOP", () => {
  it("stopped for half an interval: every call completes, no LostRemote", async () => {
    const server = await startServer({ heartbeatMs: F });
    client = await connect(server.endpoint, { heartbeatMs: F, timeoutMs: 30_000 });
    const c = client;
    const calls = Array.from({ length: CALLS }, () => c.call("sleep", [2 * F]));
    await runningOn(c, CALLS);
    // A stall of S gives a peer a gap of at most S + F between two heartbeats: below 2F for S < F.
    const stopMs = F / 2;
    server.child.kill("SIGSTOP");
    await sleep(stopMs);
    server.child.kill("SIGCONT");
    const results = await Promise.allSettled(calls);
    const failed = results.filter((r) => r.status === "rejected");
    report(
      `SIGSTOP ${stopMs} ms (heartbeat ${F} ms): ${results.length - failed.length}/${results.length} calls completed, ` +
        `${failed.length} failed; server aborted ${server.events.filter((e) => e.type === "aborted").length} handlers`,
    );
    expect(failed).toEqual([]);
    expect(results.map((r) => (r as PromiseFulfilledResult<unknown>).value)).toEqual(Array.from({ length: CALLS }, () => 2 * F));
    expect(server.events.filter((e) => e.type === "aborted")).toEqual([]);
  });

  it("stopped for 4 intervals: LostRemote on the client within 3 intervals, and the server aborts the handlers", async () => {
    const server = await startServer({ heartbeatMs: F });
    client = await connect(server.endpoint, { heartbeatMs: F, timeoutMs: 30_000 });
    const c = client;
    let stoppedAt = Number.POSITIVE_INFINITY;
    const settled: { ms: number; error: unknown }[] = [];
    const calls = Array.from({ length: CALLS }, () =>
      c.call("sleep", [20 * F]).then(
        () => void settled.push({ ms: performance.now() - stoppedAt, error: undefined }),
        (error: unknown) => void settled.push({ ms: performance.now() - stoppedAt, error }),
      ),
    );
    await runningOn(c, CALLS);
    await sleep(F);
    const stopMs = 4 * F;
    stoppedAt = performance.now();
    const lag = loopLag();
    server.child.kill("SIGSTOP");
    await sleep(stopMs);
    server.child.kill("SIGCONT");
    await Promise.all(calls);
    const lagMs = lag.stop();
    // After SIGCONT the server finds the client silent for longer than two intervals.
    await until(() => server.events.filter((e) => e.type === "aborted").length === CALLS, 10_000, "server aborts");
    const aborted = server.events.filter((e) => e.type === "aborted");
    const times = settled.map((s) => s.ms);
    report(
      `SIGSTOP ${stopMs} ms (heartbeat ${F} ms): ${settled.filter((s) => LostRemote.isInstance(s.error)).length}/${CALLS} calls ` +
        `failed with LostRemote ${percentile(times, 0).toFixed(0)}-${percentile(times, 100).toFixed(0)} ms after the stop ` +
        `(event loop up to ${lagMs.toFixed(0)} ms late); ` +
        `the server aborted ${aborted.length} handlers (reasons ${[...new Set(aborted.map((e) => e.reason))].join(", ")}) after SIGCONT`,
    );
    expect(settled.every((s) => LostRemote.isInstance(s.error))).toBe(true);
    // Within 3 intervals, plus how late this process's timers ran (measured), plus settling.
    expect(Math.max(...times)).toBeLessThanOrEqual(3 * F + 250 + lagMs);
    expect(Math.min(...times)).toBeGreaterThanOrEqual(F / 2);
    expect(new Set(aborted.map((e) => e.reason))).toEqual(new Set(["LostRemote"]));
  });
});
