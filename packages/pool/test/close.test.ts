// close(): waits for calls in flight (with a grace period), rejects waiters, closes everything.
import { afterEach, describe, expect, it } from "vitest";
import { ZrpcError } from "@zrpc/client";
import { createPool } from "../src/index.js";
import { ManualClock, closeAll, startServer, trackPool } from "./helpers.js";

afterEach(closeAll);

function state(promise: Promise<unknown>): { settled: boolean } {
  const tracker = { settled: false };
  void promise.then(
    () => (tracker.settled = true),
    () => (tracker.settled = true),
  );
  return tracker;
}

describe("close()", () => {
  it("waits for calls in flight, then closes every connection", async () => {
    const server = await startServer("s1");
    const pool = trackPool(createPool({ endpoints: server.endpoint, max: 3 }));
    const [idle, b, c] = await Promise.all([pool.acquire(), pool.acquire(), pool.acquire()]);
    for (const client of [idle, b, c]) pool.release(client);
    const calls = [pool.call("hold"), pool.call("hold")]; // LIFO: on c and b; idle stays idle
    await server.service.whenHeld(2);

    const closing = pool.close();
    const closed = state(closing);
    expect(pool.isClosed).toBe(true);
    await idle.closed; // idle connections are closed at once
    for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
    expect(closed.settled).toBe(false);
    await expect(pool.call("add", [1, 1])).rejects.toMatchObject({ code: "closed" });
    await expect(pool.acquire()).rejects.toMatchObject({ code: "closed" });

    server.service.open();
    await expect(Promise.all(calls)).resolves.toEqual(["s1", "s1"]);
    await closing;
    await pool.closed;
    expect(pool.metrics()).toMatchObject({ size: 0, idle: 0, inUse: 0 });
    expect(pool.close()).toBe(closing); // idempotent
  });

  it("closes connections still in use once the grace period is over; their calls fail with 'closed'", async () => {
    const clock = new ManualClock();
    const server = await startServer("s1");
    const pool = trackPool(createPool({ endpoints: server.endpoint, clock, closeGraceMs: 5_000 }));
    const call = pool.call("hold").catch((e: unknown) => e);
    const lent = await pool.acquire();
    await server.service.whenHeld(1);
    const closing = pool.close();
    await clock.advance(4_999);
    expect(state(closing).settled).toBe(false);
    await clock.advance(1);
    await closing;
    const error = (await call) as ZrpcError;
    expect(error).toBeInstanceOf(ZrpcError);
    expect(error.code).toBe("closed");
    expect(lent.isClosed).toBe(true);
    pool.release(lent); // releasing a connection the pool closed is a no-op
    expect(pool.metrics()).toMatchObject({ size: 0, inUse: 0 });
  });

  it("rejects callers waiting for a connection", async () => {
    const server = await startServer("s1");
    const pool = trackPool(createPool({ endpoints: server.endpoint, max: 1 }));
    const holder = await pool.acquire();
    const waiting = pool.acquire().catch((e: unknown) => e);
    const closing = pool.close(0);
    expect(await waiting).toMatchObject({ code: "closed" });
    await closing;
    expect(holder.isClosed).toBe(true);
  });

  it("supports await using", async () => {
    const server = await startServer("s1");
    let captured: { isClosed: boolean } | undefined;
    {
      await using pool = createPool({ endpoints: server.endpoint });
      captured = pool;
      await expect(pool.call("add", [1, 2])).resolves.toBe(3);
    }
    expect(captured.isClosed).toBe(true);
  });
});
