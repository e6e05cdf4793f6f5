// Health checks before reuse, idle timeout and min, on real sockets; the pool's timers run on a
// manual clock (the clients keep real time).
import { afterEach, describe, expect, it } from "vitest";
import { createPool } from "../src/index.js";
import { EventLog, ManualClock, closeAll, startServer, trackPool } from "./helpers.js";

afterEach(closeAll);

describe("health check before reuse", () => {
  it("pings a connection idle for healthCheckAfterMs before handing it out, not a fresh one", async () => {
    const clock = new ManualClock();
    const server = await startServer("s1");
    const pool = trackPool(createPool({ endpoints: server.endpoint, healthCheckAfterMs: 5_000, clock }));
    const client = await pool.acquire();
    pool.release(client);
    await clock.advance(4_999);
    pool.release(await pool.acquire());
    expect(server.stats.pings).toBe(0);

    await clock.advance(5_000);
    const again = await pool.acquire();
    expect(again).toBe(client);
    expect(server.stats.pings).toBe(1);
    expect(pool.metrics()).toMatchObject({ healthChecks: 1, healthCheckFailures: 0, inUse: 1 });
    pool.release(again);
  });

  it("healthCheckAfterMs: 0 pings before every reuse, null never", async () => {
    const server = await startServer("s1");
    const always = trackPool(createPool({ endpoints: server.endpoint, healthCheckAfterMs: 0 }));
    for (let i = 0; i < 3; i++) await always.call("add", [1, 1]);
    expect(server.stats.pings).toBe(2); // the first use of a new connection is not checked
    const clock = new ManualClock();
    const never = trackPool(createPool({ endpoints: server.endpoint, healthCheckAfterMs: null, clock }));
    await never.call("add", [1, 1]);
    await clock.advance(3_600_000);
    await never.call("add", [1, 1]);
    expect(server.stats.pings).toBe(2);
  });

  it("evicts a connection that fails its check, ejects the endpoint, and serves the caller elsewhere", async () => {
    const clock = new ManualClock();
    const log = new EventLog();
    const [a, b] = [await startServer("a"), await startServer("b")];
    const pool = trackPool(
      createPool({ endpoints: [a.endpoint, b.endpoint], healthCheckAfterMs: 1_000, clock, onEvent: log.onEvent, balance: "round-robin" }),
    );
    // One idle connection on each server.
    const [first, second] = [await pool.acquire(), await pool.acquire()];
    expect(await first.call("whoami")).toBe("a");
    pool.release(second);
    pool.release(first); // a's connection is on top of its endpoint's stack
    await clock.advance(2_000);

    a.stats.failPing = true;
    const served = await pool.acquire(); // round-robin picks a first: its check fails
    await expect(served.call("whoami")).resolves.toBe("b");
    expect(a.stats.pings).toBe(1);
    const evict = log.of("evict")[0]!;
    expect(evict).toMatchObject({ endpoint: a.endpoint, reason: "health-check" });
    expect(log.of("eject")[0]).toMatchObject({ endpoint: a.endpoint, backoffMs: 1_000 });
    expect(pool.metrics()).toMatchObject({ healthChecks: 2, healthCheckFailures: 1, evictions: 1 });
    expect(pool.metrics().endpoints.map((e) => e.state)).toEqual(["ejected", "healthy"]);
    pool.release(served);
  });
});

describe("idle connections", () => {
  it("closes connections idle longer than idleTimeoutMs, oldest first", async () => {
    const clock = new ManualClock();
    const log = new EventLog();
    const server = await startServer("s1");
    const pool = trackPool(
      createPool({ endpoints: server.endpoint, max: 3, idleTimeoutMs: 10_000, healthCheckAfterMs: null, clock, onEvent: log.onEvent }),
    );
    const [x, y, z] = await Promise.all([pool.acquire(), pool.acquire(), pool.acquire()]);
    pool.release(x);
    await clock.advance(4_000);
    pool.release(y);
    await clock.advance(4_000);
    pool.release(z);
    expect(pool.metrics()).toMatchObject({ size: 3, idle: 3 });

    await clock.advance(2_000); // x has idled 10 s
    expect(pool.metrics()).toMatchObject({ size: 2, idle: 2, idleClosed: 1, evictions: 0 });
    await x.closed;
    expect(x.isClosed).toBe(true);
    expect(y.isClosed).toBe(false);

    // Reuse resets the idle time of the connection taken (z, the newest).
    const reused = await pool.acquire();
    expect(reused).toBe(z);
    await clock.advance(3_000);
    pool.release(reused);
    await clock.advance(1_000); // y: 10 s idle
    expect(pool.metrics()).toMatchObject({ size: 1, idleClosed: 2 });
    await clock.advance(9_000); // z: 10 s after its release
    expect(pool.metrics()).toMatchObject({ size: 0, idleClosed: 3 });
    expect(log.of("evict").map((e) => e.reason)).toEqual(["idle", "idle", "idle"]);
    expect(clock.pending).toEqual([]); // nothing left to sweep
    await expect(pool.call("add", [1, 2])).resolves.toBe(3);
  });

  it("keeps min connections open: opened at start and never closed for idleness", async () => {
    const clock = new ManualClock();
    const log = new EventLog();
    const server = await startServer("s1");
    const pool = trackPool(createPool({ endpoints: server.endpoint, min: 2, max: 4, idleTimeoutMs: 1_000, clock, onEvent: log.onEvent }));
    await log.waitFor((e) => e.type === "create", 1);
    expect(pool.metrics()).toMatchObject({ size: 2, idle: 2, created: 2 });
    const clients = await Promise.all([pool.acquire(), pool.acquire(), pool.acquire(), pool.acquire()]);
    for (const client of clients) pool.release(client);
    await clock.advance(1_000);
    expect(pool.metrics()).toMatchObject({ size: 2, idle: 2, idleClosed: 2 });
    await clock.advance(60_000);
    expect(pool.metrics()).toMatchObject({ size: 2, idleClosed: 2 });
  });
});
