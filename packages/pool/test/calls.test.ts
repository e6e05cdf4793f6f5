// Pooled calls on real sockets: pool.call, the proxy, withClient, and streams holding their
// connection until they end or are abandoned.
import { afterEach, describe, expect, it } from "vitest";
import { RemoteError } from "@zrpc/client";
import { zeromq } from "@zrpc/transport-zeromq";
import { zmtp } from "@zrpc/transport-zmtp";
import { createPool } from "../src/index.js";
import type { Pool } from "../src/index.js";
import { closeAll, startServer, trackPool } from "./helpers.js";
import type { TestService } from "./helpers.js";

afterEach(closeAll);

async function setup(max = 2): Promise<{ pool: Pool<TestService>; service: TestService }> {
  const server = await startServer("s1");
  const pool = trackPool(createPool<TestService>({ endpoints: server.endpoint, max, heartbeatMs: 1000 }));
  return { pool, service: server.service };
}

describe("pooled calls", () => {
  it("call() runs on a pooled connection and gives it back", async () => {
    const { pool } = await setup();
    await expect(pool.call("add", [2, 3])).resolves.toBe(5);
    await expect(pool.call<string>("_zerorpc_ping")).resolves.toEqual(["pong", "TestService"]);
    await expect(pool.call("range", [4])).resolves.toEqual([0, 1, 2, 3]);
    expect(pool.metrics()).toMatchObject({ size: 1, idle: 1, inUse: 0, created: 1 });
  });

  it("passes remote errors through and keeps the connection", async () => {
    const { pool } = await setup();
    const error = await pool.call("fail", ["bad input"]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RemoteError);
    expect((error as RemoteError).remoteName).toBe("ValueError");
    expect(pool.metrics()).toMatchObject({ evictions: 0, idle: 1 });
  });

  it("proxy: awaited for a value, iterated for a stream, like the seed's __getattr__", async () => {
    const { pool } = await setup();
    await expect(pool.proxy.add(1, 2)).resolves.toBe(3);
    await expect(pool.proxy.whoami()).resolves.toBe("s1");
    const items: number[] = [];
    for await (const item of pool.proxy.range(5)) items.push(item);
    expect(items).toEqual([0, 1, 2, 3, 4]);
    // `await pool.proxy` is safe: it is not a thenable.
    expect((pool.proxy as unknown as { then?: unknown }).then).toBeUndefined();
    const [a, b] = await Promise.all([pool.proxy.add(1, 1), pool.proxy.add(2, 2)]);
    expect([a, b]).toEqual([2, 4]);
    expect(pool.metrics().inUse).toBe(0);
  });

  it("proxy: a result left alone still runs (fire and forget) and can no longer be iterated", async () => {
    const { pool, service } = await setup();
    const result = pool.proxy.hold();
    await service.whenHeld(1); // the call reached the server without being awaited
    expect(pool.metrics().inUse).toBe(1);
    expect(() => (result as unknown as AsyncIterable<unknown>)[Symbol.asyncIterator]()).toThrow(TypeError);
    service.open();
    await expect(result).resolves.toBe("s1");
    expect(pool.metrics().inUse).toBe(0);
  });

  it("withClient() lends a client for several calls and releases it, also when fn throws", async () => {
    const { pool } = await setup(1);
    const sum = await pool.withClient(async (client) => {
      expect(pool.metrics().inUse).toBe(1);
      return (await client.proxy.add(1, 2)) + (await client.proxy.add(3, 4));
    });
    expect(sum).toBe(10);
    expect(pool.metrics().inUse).toBe(0);
    await expect(
      pool.withClient(() => {
        throw new Error("boom");
      }),
    ).rejects.toThrow("boom");
    expect(pool.metrics()).toMatchObject({ inUse: 0, idle: 1, evictions: 0 });
  });
});

describe("pooled streams", () => {
  it("a stream holds its connection until it ends", async () => {
    const { pool } = await setup(1);
    const seen: number[] = [];
    for await (const item of pool.stream("range", [300])) {
      seen.push(item);
      if (item === 0) expect(pool.metrics().inUse).toBe(1);
    }
    expect(seen).toHaveLength(300);
    expect(pool.metrics()).toMatchObject({ inUse: 0, idle: 1, evictions: 0 });
  });

  it("leaving for-await early releases the connection, which keeps working", async () => {
    const { pool } = await setup(1);
    const first = await pool.acquire();
    pool.release(first);
    for await (const item of pool.stream("range", [10_000])) {
      if (item === 150) break;
    }
    expect(pool.metrics()).toMatchObject({ inUse: 0, idle: 1, created: 1 });
    // The same connection (LIFO, and max is 1) serves the next call.
    const again = await pool.acquire();
    expect(again).toBe(first);
    await expect(again.call("add", [1, 1])).resolves.toBe(2);
    pool.release(again);
  });

  it("a proxy stream left early releases its connection too", async () => {
    const { pool } = await setup(1);
    for await (const item of pool.proxy.range(1000)) {
      if (item === 3) break;
    }
    expect(pool.metrics().inUse).toBe(0);
    await expect(pool.proxy.add(2, 2)).resolves.toBe(4);
  });

  it("a stream that was never iterated takes no connection", async () => {
    const { pool } = await setup(1);
    const stream = pool.stream("range", [3]);
    expect(pool.metrics().size).toBe(0);
    const iterator = stream[Symbol.asyncIterator]();
    await iterator.return?.();
    expect(pool.metrics()).toMatchObject({ size: 0, inUse: 0 });
  });

  it("a stream that fails releases its connection and throws the error", async () => {
    const { pool } = await setup(1);
    const error = await (async () => {
      for await (const item of pool.stream("fail", ["nope"])) expect.unreachable(`got ${String(item)}`);
    })().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RemoteError);
    expect(pool.metrics()).toMatchObject({ inUse: 0, idle: 1 });
  });
});

describe("the transport of pooled connections", () => {
  it("is the client's default (ZMTP, whose options pass through), or zeromq.js when asked for", async () => {
    const server = await startServer("s1");
    const handshakes: string[] = [];
    const onZmtp = trackPool(
      createPool<TestService>({
        endpoints: server.endpoint,
        max: 2,
        transport: zmtp({ monitor: (event) => void (event.type === "handshake" && handshakes.push(event.socketType)) }),
      }),
    );
    await expect(onZmtp.call("whoami")).resolves.toBe("s1");
    expect(handshakes).toEqual(["ROUTER"]);
    const onZeromq = trackPool(createPool<TestService>({ endpoints: server.endpoint, max: 2, transport: zeromq() }));
    await expect(onZeromq.call("add", [40, 2])).resolves.toBe(42);
    expect(onZeromq.metrics()).toMatchObject({ created: 1, evictions: 0 });
  });
});
