// acquire / release on real sockets: LIFO reuse, lazy creation, FIFO waiters, PoolTimeoutError,
// AbortSignal, misuse of release().
import { afterEach, describe, expect, it } from "vitest";
import { ZrpcError, isRetryable } from "@zrpc/client";
import { PoolTimeoutError, createPool } from "../src/index.js";
import { ManualClock, closeAll, startServer, trackPool } from "./helpers.js";

afterEach(closeAll);

/** Resolves with the order in which promises settle. */
function settleOrder(promises: Promise<unknown>[]): { order: number[] } {
  const result = { order: [] as number[] };
  promises.forEach((promise, index) => {
    promise.then(
      () => result.order.push(index),
      () => result.order.push(index),
    );
  });
  return result;
}

describe("acquire and release", () => {
  it("reuses the most recently released connection first (LIFO)", async () => {
    const server = await startServer("s1");
    const pool = trackPool(createPool({ endpoints: server.endpoint, max: 3 }));
    const a = await pool.acquire();
    const b = await pool.acquire();
    expect(a).not.toBe(b);
    pool.release(a);
    pool.release(b);
    const first = await pool.acquire();
    const second = await pool.acquire();
    expect(first).toBe(b);
    expect(second).toBe(a);
    await expect(first.call("add", [1, 2])).resolves.toBe(3);
    pool.release(first);
    pool.release(second);
    expect(pool.metrics()).toMatchObject({ size: 2, idle: 2, inUse: 0, created: 2, evictions: 0 });
  });

  it("opens connections lazily, only when none is idle, up to max", async () => {
    const server = await startServer("s1");
    const pool = trackPool(createPool({ endpoints: server.endpoint, max: 2 }));
    expect(pool.metrics()).toMatchObject({ size: 0, created: 0 });
    for (let i = 0; i < 5; i++) {
      const client = await pool.acquire();
      await client.call("add", [i, 1]);
      pool.release(client);
    }
    expect(pool.metrics()).toMatchObject({ size: 1, created: 1, maxSize: 1 });
    const clients = await Promise.all([pool.acquire(), pool.acquire()]);
    expect(pool.metrics()).toMatchObject({ size: 2, inUse: 2, idle: 0, created: 2 });
    for (const client of clients) pool.release(client);
  });

  it("makes callers wait when all connections are busy, and serves them first come first served", async () => {
    const server = await startServer("s1");
    const pool = trackPool(createPool({ endpoints: server.endpoint, max: 1 }));
    const holder = await pool.acquire();
    const waiters = [pool.acquire(), pool.acquire(), pool.acquire()];
    const settled = settleOrder(waiters);
    await Promise.resolve();
    expect(pool.metrics()).toMatchObject({ waiting: 3, inUse: 1, size: 1 });
    expect(settled.order).toEqual([]);

    pool.release(holder);
    const first = await waiters[0]!;
    expect(first).toBe(holder); // handed over, not a new connection
    expect(settled.order).toEqual([0]);
    pool.release(first);
    pool.release(await waiters[1]!);
    pool.release(await waiters[2]!);
    expect(settled.order).toEqual([0, 1, 2]);
    expect(pool.metrics()).toMatchObject({ waiting: 0, created: 1, size: 1, idle: 1 });
  });

  it("rejects a waiter with a branded PoolTimeoutError after acquireTimeoutMs", async () => {
    const clock = new ManualClock();
    const server = await startServer("s1");
    const pool = trackPool(createPool({ endpoints: server.endpoint, max: 1, acquireTimeoutMs: 500, clock }));
    const holder = await pool.acquire();
    const waiting = pool.acquire();
    const caught = waiting.catch((error: unknown) => error);
    await clock.advance(499);
    expect(pool.metrics().waiting).toBe(1);
    await clock.advance(1);
    const error = await caught;
    expect(error).toBeInstanceOf(PoolTimeoutError);
    expect(error).toBeInstanceOf(ZrpcError);
    expect(PoolTimeoutError.isInstance(error)).toBe(true);
    const timeout = error as PoolTimeoutError;
    expect(timeout.code).toBe("pool-timeout");
    expect(timeout.name).toBe("PoolTimeoutError");
    expect(timeout.timeoutMs).toBe(500);
    expect(timeout.message).toBe("no pooled connection within 500 ms: all 1 connections are in use (0 others waiting)");
    expect(isRetryable(timeout)).toBe(true);
    // A brand check that ignores the prototype: what another copy of the package would create.
    expect(Object.create(PoolTimeoutError.prototype) instanceof PoolTimeoutError).toBe(true);
    expect(pool.metrics()).toMatchObject({ timeouts: 1, waiting: 0 });

    // The per-call override, and pool.call going through the same wait.
    const viaCall = pool.call("add", [1, 1], { acquireTimeoutMs: 50 }).catch((e: unknown) => e);
    await clock.advance(50);
    expect(await viaCall).toBeInstanceOf(PoolTimeoutError);
    pool.release(holder);
    await expect(pool.call("add", [1, 1])).resolves.toBe(2);
    expect(pool.metrics().timeouts).toBe(2);
  });

  it("stops waiting when the signal aborts", async () => {
    const server = await startServer("s1");
    const pool = trackPool(createPool({ endpoints: server.endpoint, max: 1 }));
    const holder = await pool.acquire();
    const controller = new AbortController();
    const waiting = pool.acquire({ signal: controller.signal }).catch((e: unknown) => e);
    const second = pool.acquire();
    controller.abort(new Error("user gave up"));
    const error = (await waiting) as ZrpcError;
    expect(error).toBeInstanceOf(ZrpcError);
    expect(error.code).toBe("canceled");
    expect((error.cause as Error).message).toBe("user gave up");
    expect(pool.metrics().waiting).toBe(1);

    // An already aborted signal never waits; pool.call rejects with the client's CanceledError.
    const aborted = AbortSignal.abort();
    await expect(pool.acquire({ signal: aborted })).rejects.toMatchObject({ code: "canceled" });
    await expect(pool.call("add", [1, 2], { signal: aborted })).rejects.toMatchObject({ code: "canceled", name: "CanceledError" });

    pool.release(holder);
    expect(await second).toBe(holder);
    pool.release(holder);
  });

  it("refuses to release a client twice or a client of another pool", async () => {
    const server = await startServer("s1");
    const pool = trackPool(createPool({ endpoints: server.endpoint }));
    const other = trackPool(createPool({ endpoints: server.endpoint }));
    const client = await pool.acquire();
    expect(() => other.release(client)).toThrow(TypeError);
    pool.release(client);
    expect(() => pool.release(client)).toThrow(/released twice/);
  });

  it("destroys a connection released with destroy: true, and one whose client was closed", async () => {
    const server = await startServer("s1");
    const pool = trackPool(createPool({ endpoints: server.endpoint, max: 2 }));
    const a = await pool.acquire();
    pool.release(a, { destroy: true });
    await a.closed;
    expect(a.isClosed).toBe(true);
    const b = await pool.acquire();
    expect(b).not.toBe(a);
    await b.close();
    pool.release(b);
    const c = await pool.acquire();
    expect(c).not.toBe(b);
    await expect(c.call("add", [2, 2])).resolves.toBe(4);
    pool.release(c);
    expect(pool.metrics()).toMatchObject({ created: 3, evictions: 2, size: 1 });
  });

  it("judges the error passed to release(): a RemoteError keeps the connection, a protocol error closes it", async () => {
    const server = await startServer("s1");
    const pool = trackPool(createPool({ endpoints: server.endpoint, max: 1 }));
    const client = await pool.acquire();
    const remote = await client.call("fail", ["bad"]).catch((e: unknown) => e);
    pool.release(client, { error: remote });
    expect(await pool.acquire()).toBe(client);
    const { ProtocolError } = await import("@zrpc/client");
    pool.release(client, { error: new ProtocolError("bad-event", "garbage") });
    const next = await pool.acquire();
    expect(next).not.toBe(client);
    pool.release(next);
    expect(pool.metrics()).toMatchObject({ evictions: 1, created: 2 });
  });
});
