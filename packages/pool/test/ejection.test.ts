// Ejection of failing endpoints: exponential backoff, probing with _zerorpc_ping, recovery, soft
// failures (timeouts), connect failures. Real sockets; the pool's timers on a manual clock.
import { afterEach, describe, expect, it } from "vitest";
import { LostRemote, TimeoutExpired, connect } from "@zrpc/client";
import { PoolTimeoutError, createPool } from "../src/index.js";
import { EventLog, ManualClock, closeAll, startServer, trackPool } from "./helpers.js";

afterEach(closeAll);

describe("ejection", () => {
  it("ejects on a lost remote, probes with doubling backoff, and takes the endpoint back once it answers", async () => {
    const clock = new ManualClock();
    const log = new EventLog();
    const [a, b] = [await startServer("a"), await startServer("b")];
    const pool = trackPool(
      createPool({
        endpoints: [a.endpoint, b.endpoint],
        ejection: { baseMs: 1_000, maxMs: 4_000 },
        healthCheckTimeoutMs: 1_000,
        clock,
        onEvent: log.onEvent,
      }),
    );
    const client = await pool.acquire(); // a fresh pool starts with the first endpoint
    expect(await client.call("whoami")).toBe("a");
    a.stats.failPing = true;
    pool.release(client, { error: new LostRemote(1000) });
    expect(log.of("eject")).toEqual([expect.objectContaining({ endpoint: a.endpoint, backoffMs: 1_000 })]);
    expect(log.of("evict")).toEqual([expect.objectContaining({ endpoint: a.endpoint, reason: "lost-remote" })]);
    expect(pool.metrics().endpoints[0]).toMatchObject({ state: "ejected", ejections: 1, backoffMs: 1_000, ejectedUntil: clock.now() + 1_000 });

    // While a is out, every call goes to b.
    for (let i = 0; i < 4; i++) await expect(pool.call("whoami")).resolves.toBe("b");

    const backoffs: number[] = [];
    for (const step of [1_000, 2_000, 4_000]) {
      await clock.advance(step);
      const failed = await log.waitFor((e) => e.type === "probe-failed", backoffs.length);
      backoffs.push((failed as { backoffMs: number }).backoffMs);
    }
    expect(backoffs).toEqual([2_000, 4_000, 4_000]); // doubling, capped at maxMs
    expect(a.stats.pings).toBe(3);

    a.stats.failPing = false;
    await clock.advance(4_000);
    await log.waitFor((e) => e.type === "recover");
    expect(pool.metrics().endpoints[0]).toMatchObject({ state: "healthy", size: 1, idle: 1 }); // the probe's connection is kept
    const seen = new Set<string>();
    for (let i = 0; i < 4; i++) seen.add(await pool.call<string>("whoami"));
    expect(seen).toEqual(new Set(["a", "b"]));

    // Healthy for maxMs: the next ejection starts from baseMs again.
    await clock.advance(4_000);
    const again = await pool.acquire();
    pool.release(again, { error: new LostRemote(1000) });
    expect(log.of("eject")[1]).toMatchObject({ backoffMs: 1_000 });
  });

  it("ejects after consecutive timeouts (a success in between resets the count), then waits for recovery", async () => {
    const clock = new ManualClock();
    const log = new EventLog();
    const server = await startServer("s1");
    const pool = trackPool(
      createPool({ endpoints: server.endpoint, clock, onEvent: log.onEvent, acquireTimeoutMs: 500, ejection: { consecutiveFailures: 3 } }),
    );
    const slow = (): Promise<unknown> => pool.call("sleep", [2_000], { timeoutMs: 20 }).catch((e: unknown) => e);
    expect(await slow()).toBeInstanceOf(TimeoutExpired);
    expect(await slow()).toBeInstanceOf(TimeoutExpired);
    await pool.call("add", [1, 1]);
    expect(await slow()).toBeInstanceOf(TimeoutExpired);
    expect(await slow()).toBeInstanceOf(TimeoutExpired);
    expect(pool.metrics().endpoints[0]).toMatchObject({ state: "healthy", consecutiveFailures: 2 });
    const third = await slow();
    expect(log.of("eject")).toEqual([expect.objectContaining({ error: third, backoffMs: 1_000 })]);
    expect(pool.metrics()).toMatchObject({ size: 0, evictions: 1 }); // timeouts keep a connection; the ejection closes it

    // The only endpoint is out: callers wait, and time out with the reason and the last failure.
    const waiting = pool.call("add", [2, 2]).catch((e: unknown) => e);
    await clock.advance(500);
    const error = (await waiting) as PoolTimeoutError;
    expect(error).toBeInstanceOf(PoolTimeoutError);
    expect(error.message).toBe("no pooled connection within 500 ms: no healthy endpoint (1 ejected)");
    expect(error.cause).toBe(third);

    // A caller waiting when the probe succeeds is served.
    const served = pool.call("add", [3, 3], { acquireTimeoutMs: 0 });
    await clock.advance(500);
    await log.waitFor((e) => e.type === "recover");
    await expect(served).resolves.toBe(6);
  });

  it("ejects an endpoint whose connect fails and serves the caller from another", async () => {
    const log = new EventLog();
    const server = await startServer("good");
    const bad = "tcp://127.0.0.1:1"; // never dialled: the factory refuses it
    let refused = 0;
    const pool = trackPool(
      createPool({
        endpoints: [bad, server.endpoint],
        onEvent: log.onEvent,
        connect: async (endpoint, options) => {
          if (endpoint === bad) {
            refused += 1;
            throw new Error("connection refused by the test");
          }
          return connect(endpoint, options);
        },
      }),
    );
    await expect(pool.call("whoami")).resolves.toBe("good");
    expect(refused).toBe(1);
    expect(log.of("eject")).toEqual([expect.objectContaining({ endpoint: bad })]);
    expect(pool.metrics().endpoints.map((e) => [e.state, e.size])).toEqual([
      ["ejected", 0],
      ["healthy", 1],
    ]);
  });

  it("with ejection off, a connect failure reaches the caller and broken connections are still closed", async () => {
    const pool = trackPool(
      createPool({
        endpoints: "tcp://127.0.0.1:1",
        ejection: false,
        connect: () => Promise.reject(new Error("connection refused by the test")),
      }),
    );
    await expect(pool.call("whoami")).rejects.toThrow("connection refused by the test");
    const server = await startServer("s1");
    const pool2 = trackPool(createPool({ endpoints: server.endpoint, ejection: false }));
    const client = await pool2.acquire();
    pool2.release(client, { error: new LostRemote(1000) });
    expect(pool2.metrics()).toMatchObject({ evictions: 1, size: 0 });
    expect(pool2.metrics().endpoints[0]!.state).toBe("healthy");
    await expect(pool2.call("add", [1, 1])).resolves.toBe(2);
  });

  it("survives an onEvent hook that throws", async () => {
    const server = await startServer("s1");
    const pool = trackPool(
      createPool({
        endpoints: server.endpoint,
        onEvent: () => {
          throw new Error("listener bug");
        },
      }),
    );
    await expect(pool.call("add", [1, 1])).resolves.toBe(2);
    const client = await pool.acquire();
    pool.release(client, { error: new LostRemote(1000) });
    expect(pool.metrics()).toMatchObject({ evictions: 1 });
  });
});
