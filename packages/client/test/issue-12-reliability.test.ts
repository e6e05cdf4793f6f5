// Issue #12: deadlines (zrpc_deadline), cancellation (zrpc_caps / _zrpc_cancel) and message size
// limits on the calling side, against a hand-driven fake server and against @zrpc/server.
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import { createMemoryServer } from "@zrpc/channel/testing";
import { CallCanceled, DeadlineExceeded, createRegistry, createServer } from "@zrpc/server";
import type { CallContext, CallOutcome } from "@zrpc/server";
import { CanceledError, TimeoutExpired, createClient } from "../src/index.js";
import type { Client, ClientOptions } from "../src/index.js";
import { FakeServer, rejectionOf } from "./helpers.js";

const opened: { close(): Promise<unknown> }[] = [];
afterEach(async () => {
  for (const resource of opened.splice(0).reverse()) await resource.close();
});

function fake(options: Partial<ClientOptions> = {}, handler?: ConstructorParameters<typeof FakeServer>[0]): { server: FakeServer; client: Client } {
  const server = new FakeServer(handler);
  const client = server.client({ heartbeatMs: 0, ...options });
  opened.push(server, client);
  return { server, client };
}

async function until(predicate: () => boolean, ms = 5_000): Promise<void> {
  const started = Date.now();
  while (!predicate()) {
    if (Date.now() - started > ms) throw new Error("condition not reached");
    await sleep(2);
  }
}

describe("deadlines", () => {
  it("a default client sends no extension keys (requests stay zerorpc-python's)", async () => {
    const { server, client } = fake({}, (request, s) => s.ok(request, 1));
    await client.call("f", [], { signal: new AbortController().signal, timeoutMs: 500 });
    expect(Object.keys((await server.request()).event.header)).toEqual(["message_id", "v"]);
  });

  it("with the deadline extension each request carries now + timeout", async () => {
    const { server, client } = fake({ extensions: ["deadline"], timeoutMs: 5_000 }, (request, s) => s.ok(request, 1));
    const before = Date.now();
    await client.call("f", [], { header: { trace: "t" } });
    await client.call("g", [], { timeoutMs: 250 });
    await client.call("h", [], { timeoutMs: 0 });
    const after = Date.now();
    const [f, g, h] = [await server.request(1), await server.request(2), await server.request(3)];
    expect(Object.keys(f.event.header)).toEqual(["message_id", "v", "trace", "zrpc_deadline"]);
    expect(f.event.header.zrpc_deadline).toBeGreaterThanOrEqual(before + 5_000);
    expect(f.event.header.zrpc_deadline).toBeLessThanOrEqual(after + 5_000);
    expect(g.event.header.zrpc_deadline).toBeLessThanOrEqual(after + 250);
    expect(Number.isInteger(g.event.header.zrpc_deadline)).toBe(true);
    expect(h.event.header.zrpc_deadline).toBeUndefined(); // no timeout, no deadline
  });

  it("an explicit deadline is sent even without the extension and bounds the wait", async () => {
    const { server, client } = fake({ timeoutMs: 60_000 });
    const deadline = Date.now() + 80;
    const started = Date.now();
    const error = await rejectionOf(client.call("slow", [], { deadline: new Date(deadline) }));
    expect(error).toBeInstanceOf(TimeoutExpired);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect((await server.request()).event.header.zrpc_deadline).toBe(deadline);
  });

  it("the earlier of timeoutMs and deadline wins", async () => {
    const { server, client } = fake({ timeoutMs: 50 });
    const far = Date.now() + 60_000;
    await rejectionOf(client.call("slow", [], { deadline: far }));
    expect((await server.request()).event.header.zrpc_deadline).toBeLessThan(far);
  });

  it("a deadline already past fails at once with TimeoutExpired and sends nothing", async () => {
    const { server, client } = fake();
    const error = await rejectionOf(client.call("f", [], { deadline: Date.now() - 1 }));
    expect(error).toBeInstanceOf(TimeoutExpired);
    await sleep(10);
    expect(server.received).toEqual([]);
    await expect(client.call("f", [], { deadline: Number.NaN })).rejects.toThrow(RangeError);
  });
});

describe("cancellation", () => {
  it("announces the capability, and sends _zrpc_cancel only once the server announced it", async () => {
    const { server, client } = fake({ extensions: ["cancel"] });
    const first = new AbortController();
    const call1 = client.call("wait", [], { signal: first.signal });
    const request1 = await server.request(1);
    expect(request1.event.header.zrpc_caps).toEqual(["cancel"]);
    expect(request1.event.header.zrpc_deadline).toBeUndefined();
    first.abort();
    expect(await rejectionOf(call1)).toBeInstanceOf(CanceledError);
    await sleep(10);
    // This server never said it understands: nothing was sent.
    expect(server.channelNames(request1)).toEqual([]);

    // Now it announces in a heartbeat; an abort then sends the cancel.
    const second = new AbortController();
    const call2 = client.call("wait", [], { signal: second.signal });
    const request2 = await server.request(2);
    server.send(request2, "_zpc_hb", [0], { extra: { zrpc_caps: ["cancel"] } });
    await sleep(10);
    second.abort();
    await rejectionOf(call2);
    await server.waitFor(() => server.channelNames(request2).includes("_zrpc_cancel"));
    const cancel = server.channelEvents(request2).find((e) => e.name === "_zrpc_cancel")!;
    expect(cancel.args).toEqual(["canceled"]);

    // The client remembers: a third call canceled before any announcement still sends it.
    const third = new AbortController();
    const call3 = client.call("wait", [], { signal: third.signal });
    const request3 = await server.request(3);
    third.abort();
    await rejectionOf(call3);
    await server.waitFor(() => server.channelNames(request3).includes("_zrpc_cancel"));
  });

  it("sends reason timeout on a timeout and abandoned when a stream is left early", async () => {
    const { server, client } = fake({ extensions: true, timeoutMs: 60 });
    client.call("warmup").catch(() => undefined);
    const warm = await server.request(1);
    server.send(warm, "OK", [null], { extra: { zrpc_caps: ["cancel"] } });
    await sleep(10);

    const timedOut = rejectionOf(client.call("slow"));
    const slow = await server.request(2);
    expect(await timedOut).toBeInstanceOf(TimeoutExpired);
    await server.waitFor(() => server.channelNames(slow).includes("_zrpc_cancel"));
    expect(server.channelEvents(slow).find((e) => e.name === "_zrpc_cancel")!.args).toEqual(["timeout"]);

    const iterating = (async () => {
      for await (const item of client.stream("range", [100])) if (item === 1) break;
    })();
    const range = await server.request(3);
    void server.stream(range, [0, 1, 2, 3], false);
    await iterating;
    await server.waitFor(() => server.channelNames(range).includes("_zrpc_cancel"));
    expect(server.channelEvents(range).find((e) => e.name === "_zrpc_cancel")!.args).toEqual(["abandoned"]);
  });
});

describe("against @zrpc/server (in memory)", () => {
  /**
   * Heartbeat of both sides. Losing the peer takes at least two intervals, so "ended in less than
   * one interval" tells the extension's path from the heartbeat's, with a margin that does not
   * depend on how fast a loaded machine runs the few steps in between.
   */
  const HEARTBEAT_MS = 5_000;

  function serve(onEnd: CallOutcome[], seen: { signal?: AbortSignal }) {
    const registry = createRegistry();
    registry.register(
      function (this: CallContext) {
        seen.signal = this.signal;
        return new Promise((resolve) => this.signal.addEventListener("abort", () => resolve("late")));
      },
      { name: "wait", args: [] },
    );
    registry.register(() => "pong", { name: "ping", args: [] });
    const network = createMemoryServer();
    const server = createServer(registry, { logger: null, heartbeatMs: HEARTBEAT_MS, middleware: [{ onEnd: (_c, o) => void onEnd.push(o) }] });
    server.serve(network.transport);
    opened.push({ close: () => server.close(0) });
    return (options: Partial<ClientOptions> = {}): Client => {
      const client = createClient({ transport: network.connect(), heartbeatMs: HEARTBEAT_MS, ...options });
      opened.push(client);
      return client;
    };
  }

  it("aborting a call aborts the handler at once (CallCanceled, outcome canceled)", async () => {
    const outcomes: CallOutcome[] = [];
    const seen: { signal?: AbortSignal } = {};
    const connect = serve(outcomes, seen);
    const client = connect({ extensions: true });
    await client.call("ping"); // learns the server's capabilities
    const controller = new AbortController();
    const pending = client.call("wait", [], { signal: controller.signal });
    await until(() => seen.signal !== undefined);
    const started = Date.now();
    controller.abort();
    expect(await rejectionOf(pending)).toBeInstanceOf(CanceledError);
    await until(() => seen.signal!.aborted);
    expect(Date.now() - started).toBeLessThan(HEARTBEAT_MS); // not the 2-3 heartbeat intervals of a lost peer
    expect(seen.signal!.reason).toBeInstanceOf(CallCanceled);
    await until(() => outcomes.length === 2);
    expect(outcomes.map((o) => o.kind)).toEqual(["ok", "canceled"]);
  });

  it("a client timeout ends the handler through the deadline (outcome timed-out)", async () => {
    const outcomes: CallOutcome[] = [];
    const seen: { signal?: AbortSignal } = {};
    const connect = serve(outcomes, seen);
    const client = connect({ extensions: ["deadline"] });
    const started = Date.now();
    expect(await rejectionOf(client.call("wait", [], { timeoutMs: 100 }))).toBeInstanceOf(TimeoutExpired);
    await until(() => seen.signal?.aborted === true);
    expect(seen.signal!.reason).toBeInstanceOf(DeadlineExceeded);
    expect(Date.now() - started).toBeLessThan(HEARTBEAT_MS);
    await until(() => outcomes.length === 1);
    expect(outcomes).toEqual([{ kind: "timed-out" }]);
  });
});

describe("maxMessageBytes", () => {
  it("drops a reply over the limit (reported to onProtocolError) and validates the option", async () => {
    const problems: string[] = [];
    const { server, client } = fake({ maxMessageBytes: 200, timeoutMs: 200, onProtocolError: (error) => void problems.push(error.reason) });
    const pending = rejectionOf(client.call("big"));
    server.ok(await server.request(), "x".repeat(500));
    expect(await pending).toBeInstanceOf(TimeoutExpired);
    expect(problems).toEqual(["too-large"]);
    expect(() => fake({ maxMessageBytes: 0 })).toThrow(RangeError);
  });

});
