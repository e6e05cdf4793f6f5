import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ProtocolError } from "@zrpc/wire";
import { RemoteError } from "../src/index.js";
import type { Client, ClientOptions } from "../src/index.js";
import { CLIENT_SETUPS, FakeServer, flush, rejectionOf } from "./helpers.js";

let server: FakeServer;
let client: Client;
/** The options of the current client setup (see CLIENT_SETUPS). */
let base: Partial<ClientOptions> = {};

afterEach(async () => {
  vi.useRealTimers();
  await client.close();
  await server.close();
});

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}

describe.each(CLIENT_SETUPS)("streams ($name)", (clientSetup) => {
  beforeEach(() => {
    base = clientSetup.options;
  });

  it("yields each STREAM item and ends at STREAM_DONE", async () => {
    server = new FakeServer((request, s) => void s.stream(request, [0, "one", [2], { three: 3 }]));
    client = server.client({ ...base, heartbeatMs: 0 });
    await expect(collect(client.stream("range", [4]))).resolves.toEqual([0, "one", [2], { three: 3 }]);
  });

  it("sends the request on the first iteration, not before", async () => {
    server = new FakeServer((request, s) => void s.stream(request, [1]));
    client = server.client({ ...base, heartbeatMs: 0 });
    const stream = client.stream("range", [1]);
    await flush();
    expect(server.requests).toHaveLength(0);
    await expect(collect(stream)).resolves.toEqual([1]);
    expect(server.requests).toHaveLength(1);
    // Each iteration is a new call.
    await expect(collect(stream)).resolves.toEqual([1]);
    expect(server.requests).toHaveLength(2);
  });

  it("yields nothing for an empty stream", async () => {
    server = new FakeServer((request, s) => s.send(request, "STREAM_DONE", null));
    client = server.client({ ...base, heartbeatMs: 0 });
    await expect(collect(client.stream("range", [0]))).resolves.toEqual([]);
  });

  it("yields the single value of an OK reply once", async () => {
    server = new FakeServer((request, s) => s.ok(request, "hello"));
    client = server.client({ ...base, heartbeatMs: 0 });
    await expect(collect(client.stream("hello"))).resolves.toEqual(["hello"]);
  });

  it("throws a RemoteError from the iterator on ERR mid-stream", async () => {
    server = new FakeServer(async (request, s) => {
      await s.stream(request, [1, 2], false);
      await s.sendWithCredit(request, "ERR", ["RuntimeError", "mid-stream failure", null]);
    });
    client = server.client({ ...base, heartbeatMs: 0 });
    const seen: unknown[] = [];
    const error = await rejectionOf(
      (async () => {
        for await (const item of client.stream("range")) seen.push(item);
      })(),
    );
    expect(seen).toEqual([1, 2]);
    expect(error).toBeInstanceOf(RemoteError);
    expect((error as RemoteError).remoteName).toBe("RuntimeError");
    expect((error as RemoteError).rawMessage).toBe("mid-stream failure");
  });

  it("throws a ProtocolError on an unexpected event in the middle of a stream", async () => {
    server = new FakeServer(async (request, s) => {
      await s.stream(request, [1], false);
      await s.sendWithCredit(request, "OK", [2]);
    });
    client = server.client({ ...base, heartbeatMs: 0 });
    await expect(collect(client.stream("range"))).rejects.toBeInstanceOf(ProtocolError);
  });

  it("grants _zpc_more [100] then [51]s over a 300-item stream (B = 100)", async () => {
    const items = Array.from({ length: 300 }, (_, i) => i);
    server = new FakeServer((request, s) => void s.stream(request, items));
    client = server.client({ ...base, heartbeatMs: 0 });
    await expect(collect(client.stream("range", [300]))).resolves.toEqual(items);
    expect(server.grants(server.requests[0]!)).toEqual([100, 51, 51, 51, 51, 51]);
  });

  it("grants [10] then [6]s with receiveBuffer 10 (Python's slots=10)", async () => {
    const items = Array.from({ length: 30 }, (_, i) => i);
    server = new FakeServer((request, s) => void s.stream(request, items));
    client = server.client({ ...base, heartbeatMs: 0 });
    await expect(collect(client.stream("range", [30], { receiveBuffer: 10 }))).resolves.toEqual(items);
    expect(server.grants(server.requests[0]!)).toEqual([10, 6, 6, 6, 6]);
  });

  it("grants credit as items are consumed, not as they arrive", async () => {
    const items = Array.from({ length: 20 }, (_, i) => i);
    server = new FakeServer((request, s) => void s.stream(request, items));
    client = server.client({ ...base, heartbeatMs: 0 });
    const iterator = client.stream("range", [20])[Symbol.asyncIterator]();
    await expect(iterator.next()).resolves.toEqual({ done: false, value: 0 });
    await flush();
    // One item taken: no credit yet, so the server could send nothing more.
    expect(server.grants(server.requests[0]!)).toEqual([]);
    await expect(iterator.next()).resolves.toEqual({ done: false, value: 1 });
    await server.waitFor(() => server.grants(server.requests[0]!).length === 1);
    expect(server.grants(server.requests[0]!)).toEqual([100]);
    await iterator.return!();
  });

  it("closes the channel when for-await is left early: no more credit, no heartbeat", async () => {
    vi.useFakeTimers();
    const items = Array.from({ length: 500 }, (_, i) => i);
    server = new FakeServer(async (request, s) => {
      s.heartbeat(request);
      await s.stream(request, items);
    });
    client = server.client({ ...base, heartbeatMs: 1000 });
    const seen: number[] = [];
    for await (const item of client.stream<number>("range", [500])) {
      seen.push(item);
      if (item === 60) break;
    }
    expect(seen).toHaveLength(61);
    const request = server.requests[0]!;
    const before = server.channelEvents(request).length;
    expect(server.grants(request)).toEqual([100, 51]);
    // Keep the server alive-looking and let plenty of heartbeat intervals pass.
    for (let i = 0; i < 20; i++) {
      server.heartbeat(request);
      await vi.advanceTimersByTimeAsync(1000);
    }
    expect(server.channelEvents(request).slice(before)).toEqual([]);
    expect(server.channelNames(request)).not.toContain("_zpc_hb");
  });

  it("closes the channel when the loop body throws", async () => {
    server = new FakeServer((request, s) => void s.stream(request, [1, 2, 3, 4, 5]));
    client = server.client({ ...base, heartbeatMs: 0 });
    await expect(
      (async () => {
        for await (const item of client.stream("range")) if (item === 2) throw new Error("consumer failed");
      })(),
    ).rejects.toThrow("consumer failed");
    // The call's channel is gone: a later call works and nothing else is pending.
    server.handler = (request, s) => s.ok(request, "next");
    await expect(client.call("f")).resolves.toBe("next");
  });

  it("heartbeats an open stream while the consumer is slow", async () => {
    vi.useFakeTimers();
    server = new FakeServer(async (request, s) => {
      s.heartbeat(request);
      await s.stream(request, [1, 2]);
    });
    client = server.client({ ...base, heartbeatMs: 1000 });
    const iterator = client.stream("range")[Symbol.asyncIterator]();
    await expect(iterator.next()).resolves.toEqual({ done: false, value: 1 });
    const request = server.requests[0]!;
    for (let i = 0; i < 3; i++) {
      server.heartbeat(request);
      await vi.advanceTimersByTimeAsync(1000);
    }
    expect(server.channelNames(request).filter((n) => n === "_zpc_hb")).toHaveLength(3);
    await expect(iterator.next()).resolves.toEqual({ done: false, value: 2 });
    await expect(iterator.next()).resolves.toEqual({ done: true, value: undefined });
  });

  it("return() while a next() is pending ends both at once", async () => {
    server = new FakeServer((request, s) => s.send(request, "STREAM", 0));
    client = server.client({ ...base, heartbeatMs: 0 });
    const iterator = client.stream("range")[Symbol.asyncIterator]();
    await expect(iterator.next()).resolves.toEqual({ done: false, value: 0 });
    const pending = iterator.next();
    await flush();
    await expect(iterator.return!()).resolves.toEqual({ done: true, value: undefined });
    await expect(pending).resolves.toEqual({ done: true, value: undefined });
  });

  it("a returned iterator before the first next() sends nothing", async () => {
    server = new FakeServer();
    client = server.client({ ...base, heartbeatMs: 0 });
    const iterator = client.stream("range")[Symbol.asyncIterator]();
    await expect(iterator.return!()).resolves.toEqual({ done: true, value: undefined });
    await expect(iterator.next()).resolves.toEqual({ done: true, value: undefined });
    await flush();
    expect(server.requests).toHaveLength(0);
  });

  it("runs 10 concurrent streams", async () => {
    server = new FakeServer((request, s) => {
      const n = (request.args as number[])[0]!;
      void s.stream(
        request,
        Array.from({ length: n }, (_, i) => i),
      );
    });
    client = server.client({ ...base, heartbeatMs: 0 });
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => collect(client.stream("range", [i * 25]))));
    results.forEach((items, i) => expect(items).toEqual(Array.from({ length: i * 25 }, (_, j) => j)));
  });
});
