// The pool's default clock reads the timer globals when it needs them, so vitest's fake timers
// drive it too. No sockets here: the connect factory hands out minimal fake clients.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Client } from "@zrpc/client";
import { PoolTimeoutError, createPool } from "../src/index.js";
import type { ConnectFactory } from "../src/index.js";

/** A client that answers every call with `endpoint` and every ping with "pong". */
function fakeClient(endpoint: string, counters: { pings: number; closed: number }): Client {
  let closed = false;
  const client = {
    call: (method: string) => {
      if (closed) return Promise.reject(new Error("closed"));
      if (method === "_zerorpc_ping") counters.pings += 1;
      return Promise.resolve(method === "_zerorpc_ping" ? ["pong", "fake"] : endpoint);
    },
    close: () => {
      if (!closed) counters.closed += 1;
      closed = true;
      return Promise.resolve();
    },
    get isClosed() {
      return closed;
    },
    closed: Promise.resolve(undefined),
  };
  return client as unknown as Client;
}

describe("with vitest fake timers and fake clients", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("times out acquires, health-checks and closes idle connections on the faked clock", async () => {
    const counters = { pings: 0, closed: 0 };
    const connect: ConnectFactory = (endpoint) => Promise.resolve(fakeClient(endpoint, counters));
    const pool = createPool({ endpoints: "fake://a", connect, max: 1, acquireTimeoutMs: 1_000, healthCheckAfterMs: 5_000, idleTimeoutMs: 60_000 });

    const holder = await pool.acquire();
    const waiting = pool.acquire().catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(await waiting).toBeInstanceOf(PoolTimeoutError);
    pool.release(holder);

    await vi.advanceTimersByTimeAsync(5_000);
    await expect(pool.call("whoami")).resolves.toBe("fake://a");
    expect(counters.pings).toBe(1);

    await vi.advanceTimersByTimeAsync(60_000);
    expect(pool.metrics()).toMatchObject({ size: 0, idleClosed: 1 });
    expect(counters.closed).toBe(1);
    await pool.close();
  });

  it("backs off an ejected endpoint on the faked clock", async () => {
    const counters = { pings: 0, closed: 0 };
    let down = true;
    const connect: ConnectFactory = (endpoint) =>
      down ? Promise.reject(new Error("refused")) : Promise.resolve(fakeClient(endpoint, counters));
    const events: string[] = [];
    const pool = createPool({
      endpoints: "fake://a",
      connect,
      ejection: { baseMs: 100, maxMs: 800 },
      onEvent: (event) => events.push(`${event.type}${"backoffMs" in event ? `:${event.backoffMs}` : ""}`),
    });
    const call = pool.call("whoami");
    await vi.advanceTimersByTimeAsync(100 + 200 + 400);
    down = false;
    await vi.advanceTimersByTimeAsync(800);
    await expect(call).resolves.toBe("fake://a");
    expect(events).toEqual(["eject:100", "probe-failed:200", "probe-failed:400", "probe-failed:800", "recover", "create"]);
    await pool.close();
  });
});
