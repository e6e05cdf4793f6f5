// A server killed hard (SIGKILL of a child process): its connections are evicted, its endpoint
// ejected, calls continue on the live servers, and the restarted server (same endpoint) is used
// again. Real time throughout (heartbeat 400 ms); synchronised on pool events, never on sleeps.
import { afterEach, describe, expect, it } from "vitest";
import { LostRemote } from "@zrpc/client";
import { createPool } from "../src/index.js";
import { EventLog, closeAll, startChildServer, startServer, trackPool } from "./helpers.js";

afterEach(closeAll);

/** Short for fast failover, long enough that a busy machine does not lose live servers. */
const HEARTBEAT_MS = 400;

describe("a killed server", () => {
  it("is evicted and ejected; calls continue on the live servers; it is used again once restarted", async () => {
    const log = new EventLog();
    const a = await startServer("a", { heartbeatMs: HEARTBEAT_MS });
    const b = await startServer("b", { heartbeatMs: HEARTBEAT_MS });
    const child = await startChildServer("child", "tcp://127.0.0.1:*", HEARTBEAT_MS);
    const endpoint = child.endpoint;
    const pool = trackPool(
      createPool({
        endpoints: [a.endpoint, b.endpoint, endpoint],
        max: 9,
        heartbeatMs: HEARTBEAT_MS,
        healthCheckAfterMs: null, // stale connections are found out by the calls themselves
        retries: 2,
        ejection: { baseMs: 100, maxMs: 400 },
        healthCheckTimeoutMs: 500,
        onEvent: log.onEvent,
      }),
    );

    // Warm up: connections to all three servers.
    const warm = await Promise.all(Array.from({ length: 30 }, () => pool.call<string>("whoami")));
    expect(new Set(warm)).toEqual(new Set(["a", "b", "child"]));
    expect(pool.metrics().endpoints[2]!.size).toBeGreaterThan(0);

    // A call in flight on the child when it dies (acquired by hand: we want it on the child).
    const held = await (async () => {
      for (;;) {
        const client = await pool.acquire();
        if ((await client.call("whoami")) === "child") return client;
        pool.release(client);
      }
    })();
    const inFlight = held.call("sleep", [60_000]).catch((e: unknown) => e);

    await child.kill();

    // Calls keep succeeding: any that lands on the dead server fails with LostRemote before a
    // reply (retryable), which ejects it, and is repeated on a live one.
    const during = await Promise.all(Array.from({ length: 30 }, () => pool.call<string>("whoami")));
    expect(during.every((id) => id === "a" || id === "b")).toBe(true);

    const lost = await inFlight;
    expect(lost).toBeInstanceOf(LostRemote);
    pool.release(held, { error: lost });
    await log.waitFor((e) => e.type === "eject" && e.endpoint === endpoint);
    const evicted = log.of("evict").filter((e) => e.endpoint === endpoint);
    const created = log.of("create").filter((e) => e.endpoint === endpoint);
    expect(evicted.length).toBe(created.length); // every connection ever opened to the dead server is gone
    expect(evicted.some((e) => e.reason === "lost-remote")).toBe(true);
    expect(pool.metrics().endpoints[2]).toMatchObject({ state: "ejected", size: 0, inFlight: 0 });

    const after = await Promise.all(Array.from({ length: 50 }, () => pool.call<string>("whoami")));
    expect(new Set(after)).toEqual(new Set(["a", "b"]));

    // While it is down, probes fail and back off (100, 200, 400, 400 ms...).
    await log.waitFor((e) => e.type === "probe-failed" && e.endpoint === endpoint);

    // Restart on the same endpoint: a probe succeeds and calls reach it again.
    await startChildServer("child-2", endpoint, HEARTBEAT_MS); // closed (killed) after the test
    await log.waitFor((e) => e.type === "recover" && e.endpoint === endpoint);
    expect(pool.metrics().endpoints[2]!.state).toBe("healthy");
    const back = await Promise.all(Array.from({ length: 30 }, () => pool.call<string>("whoami")));
    expect(back).toContain("child-2");
    expect(log.of("probe-failed").every((e) => e.backoffMs <= 400)).toBe(true);
  }, 30_000);
});
