// 3 × 1,000 calls timing out against an endpoint where nothing listens, measured in a child process
// run with --expose-gc: open fds and heap after each round, then once the server appears.
import { describe, expect, it } from "vitest";
import { connect } from "@zrpc/client";
import { freeEndpoint, kill, mib, report, runFixture, startServer } from "./helpers.js";
import type { FixtureEvent } from "./helpers.js";

interface Measure extends FixtureEvent {
  readonly fds: number;
  readonly heapUsed: number;
}

describe("an unreachable endpoint", () => {
  it("1,000-call rounds of timeouts leak no fds or heap; the client works once the server appears", async () => {
    const endpoint = await freeEndpoint();
    const client = runFixture("unreachable-client.mjs", [endpoint], ["--expose-gc"]);
    await client.waitFor((e) => e.type === "waiting", 60_000);
    const rounds = client.events.filter((e) => e.type === "round") as Measure[];
    expect(rounds.map((r) => [r.round, r.calls, r.timeouts])).toEqual([
      [0, 100, 100],
      [1, 1000, 1000],
      [2, 1000, 1000],
      [3, 1000, 1000],
    ]);

    const server = await startServer({ endpoint, heartbeatMs: 1000 });
    const served = (await client.waitFor((e) => e.type === "served", 40_000)) as Measure;
    await client.exited;
    expect(client.child.exitCode).toBe(0);

    // What the server did with the 3,100 requests that waited in the client's queue.
    const probe = await connect(server.endpoint);
    const stats = await probe.call<{ runs: number; outcomes: Record<string, number> }>("faultsStats");
    await probe.close();
    await kill(server, "SIGTERM");

    const [base, r1, r2, r3] = [rounds[0]!, rounds[1]!, rounds[2]!, rounds[3]!];
    report(
      `unreachable endpoint, 3 rounds of 1,000 timed-out calls: open fds ${[base, r1, r2, r3].map((r) => r.fds).join(" -> ")}, ` +
        `heap after gc ${[base, r1, r2, r3].map((r) => mib(r.heapUsed)).join(" -> ")} MiB (rounds took ${[r1, r2, r3].map((r) => r.ms).join("/")} ms)`,
    );
    report(
      `server appeared: first successful call after ${String(served.attempts)} attempt(s), ${String(served.ms)} ms; then fds ${served.fds}, ` +
        `heap ${mib(served.heapUsed)} MiB; of the stale queued requests the server ran ${stats.runs - 1} and dropped ` +
        `${stats.outcomes["timed-out"] ?? 0} on arrival (deadline passed), outcomes ${JSON.stringify(stats.outcomes)}`,
    );
    // No fd per call: only the (reconnecting, then connected) socket itself may come and go.
    for (const round of [r1, r2, r3, served]) expect(Math.abs(round.fds - base.fds)).toBeLessThanOrEqual(2);
    // The heap does not grow with the number of timed-out calls: rounds 2 and 3 cost what round 1
    // did (the requests still queued for the absent server), and it all goes once they are sent.
    expect(r3.heapUsed - r1.heapUsed).toBeLessThan(2 * 2 ** 20);
    expect(served.heapUsed - base.heapUsed).toBeLessThan(2 * 2 ** 20);
    // Requests that waited past their deadline are not run late (the deadline extension).
    expect(stats.outcomes["timed-out"] ?? 0).toBeGreaterThan(0);
  });
});
