import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ZrpcError } from "@zrpc/wire";
import { CanceledError, LostRemote, TimeoutExpired, isRetryable } from "../src/index.js";
import type { Client, ClientOptions } from "../src/index.js";
import { CLIENT_SETUPS, FakeServer, flush, rejectionOf, track } from "./helpers.js";

let server: FakeServer;
let client: Client;
/** The options of the current client setup (see CLIENT_SETUPS). */
let base: Partial<ClientOptions> = {};
const drops: string[] = [];

function setup(options: Partial<ClientOptions> = {}): void {
  server = new FakeServer();
  drops.length = 0;
  client = server.client({ ...base, heartbeatMs: 0, onDrop: (event) => drops.push(event.name), ...options });
}

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(async () => {
  vi.useRealTimers();
  await client.close();
  await server.close();
});

describe.each(CLIENT_SETUPS)("timeouts (first reply only) ($name)", (clientSetup) => {
  beforeEach(() => {
    base = clientSetup.options;
  });

  it("rejects with TimeoutExpired at exactly the client's timeoutMs", async () => {
    setup({ timeoutMs: 2000 });
    const call = client.call("sleep", [10]);
    const state = track(call);
    await vi.advanceTimersByTimeAsync(1999);
    expect(state.state).toBe("pending");
    await vi.advanceTimersByTimeAsync(1);
    expect(state.state).toBe("rejected");
    const error = state.error as TimeoutExpired;
    expect(error).toBeInstanceOf(TimeoutExpired);
    expect(error.code).toBe("timeout");
    expect(error.timeoutMs).toBe(2000);
    expect(error.method).toBe("sleep");
    expect(error.message).toBe("timeout after 2s, when calling remote method sleep");
    expect(error.stack).toContain("for call at");
    expect(isRetryable(error)).toBe(false);
  });

  it("defaults to 30 s", async () => {
    setup();
    const state = track(client.call("sleep"));
    await vi.advanceTimersByTimeAsync(29_999);
    expect(state.state).toBe("pending");
    await vi.advanceTimersByTimeAsync(1);
    expect(state.error).toBeInstanceOf(TimeoutExpired);
  });

  it("takes a per-call override", async () => {
    setup({ timeoutMs: 10_000 });
    const state = track(client.call("sleep", [], { timeoutMs: 500 }));
    await vi.advanceTimersByTimeAsync(499);
    expect(state.state).toBe("pending");
    await vi.advanceTimersByTimeAsync(1);
    expect((state.error as TimeoutExpired).timeoutMs).toBe(500);
  });

  it("is disabled by timeoutMs: 0 per call, and by timeoutMs: null on the client", async () => {
    setup({ timeoutMs: 1000 });
    const perCall = track(client.call("sleep", [], { timeoutMs: 0 }));
    await vi.advanceTimersByTimeAsync(120_000);
    expect(perCall.state).toBe("pending");
    await client.close();
    await server.close();

    setup({ timeoutMs: null });
    const off = track(client.call("sleep"));
    await vi.advanceTimersByTimeAsync(120_000);
    expect(off.state).toBe("pending");
    server.ok(server.requests[0]!, "late but fine");
    await flush();
    expect(off.value).toBe("late but fine");
  });

  it("drops the late reply and keeps working", async () => {
    setup({ timeoutMs: 1000 });
    const state = track(client.call("sleep"));
    const request = await server.request();
    await vi.advanceTimersByTimeAsync(1000);
    expect(state.error).toBeInstanceOf(TimeoutExpired);
    // The channel is closed locally and nothing was sent for it.
    expect(server.channelEvents(request)).toEqual([]);
    server.ok(request, "late");
    await flush();
    expect(drops).toEqual(["OK"]);
    server.handler = (r, s) => s.ok(r, "fresh");
    await expect(client.call("again")).resolves.toBe("fresh");
  });

  it("does not bound later stream items", async () => {
    setup({ timeoutMs: 1000 });
    const iterator = client.stream("range")[Symbol.asyncIterator]();
    const first = iterator.next();
    const request = await server.request();
    server.send(request, "STREAM", 0);
    await expect(first).resolves.toEqual({ done: false, value: 0 });
    const second = track(iterator.next());
    await vi.advanceTimersByTimeAsync(60_000);
    expect(second.state).toBe("pending");
    server.send(request, "STREAM_DONE", null);
    await flush();
    expect(second.value).toEqual({ done: true, value: undefined });
  });

  it("runs on the clock option when one is given", async () => {
    const timers: { fn: () => void; ms: number }[] = [];
    const clock = {
      now: () => 0,
      setTimeout: (fn: () => void, ms: number) => timers.push({ fn, ms }),
      clearTimeout: () => undefined,
    };
    setup({ clock, timeoutMs: 1234, heartbeatMs: 0 });
    const state = track(client.call("sleep"));
    await server.request();
    expect(timers.map((t) => t.ms)).toEqual([1234]);
    timers[0]!.fn();
    await flush();
    expect(state.error).toBeInstanceOf(TimeoutExpired);
  });

  it("applies to a stream's first reply", async () => {
    setup({ timeoutMs: 1000 });
    const iterator = client.stream("range")[Symbol.asyncIterator]();
    const first = track(iterator.next());
    await vi.advanceTimersByTimeAsync(1000);
    expect(first.error).toBeInstanceOf(TimeoutExpired);
    await expect(iterator.next()).resolves.toEqual({ done: true, value: undefined });
  });
});

describe.each(CLIENT_SETUPS)("heartbeat loss ($name)", (clientSetup) => {
  beforeEach(() => {
    base = clientSetup.options;
  });

  it("rejects with LostRemote after 3 intervals when the server never heartbeats", async () => {
    setup({ heartbeatMs: 1000 });
    const state = track(client.call("sleep"));
    const request = await server.request();
    await vi.advanceTimersByTimeAsync(2999);
    expect(state.state).toBe("pending");
    // The client heartbeats meanwhile, first after one interval.
    expect(server.channelNames(request)).toEqual(["_zpc_hb", "_zpc_hb"]);
    await vi.advanceTimersByTimeAsync(1);
    expect(state.state).toBe("rejected");
    expect(state.error).toBeInstanceOf(LostRemote);
    expect((state.error as LostRemote).code).toBe("lost-remote");
    expect((state.error as Error).message).toBe("Lost remote: no heartbeat from the server for 3 s (heartbeat 1 s)");
    // No reply had arrived: safe to retry.
    expect(isRetryable(state.error)).toBe(true);
  });

  it("keeps a call alive while the server heartbeats", async () => {
    setup({ heartbeatMs: 1000, timeoutMs: 0 });
    const state = track(client.call("sleep"));
    const request = await server.request();
    for (let i = 0; i < 10; i++) {
      server.heartbeat(request);
      await vi.advanceTimersByTimeAsync(1000);
    }
    expect(state.state).toBe("pending");
    server.ok(request, 6);
    await flush();
    expect(state.value).toBe(6);
  });

  it("marks a loss after a reply as not retryable", async () => {
    setup({ heartbeatMs: 1000 });
    const iterator = client.stream("range")[Symbol.asyncIterator]();
    const first = iterator.next();
    const request = await server.request();
    server.send(request, "STREAM", 0);
    await expect(first).resolves.toEqual({ done: false, value: 0 });
    const second = track(iterator.next());
    await vi.advanceTimersByTimeAsync(3000);
    expect(second.error).toBeInstanceOf(LostRemote);
    expect(isRetryable(second.error)).toBe(false);
  });

  it("waits for the server's first heartbeat in passive mode", async () => {
    setup({ heartbeatMs: 1000, passiveHeartbeat: true, timeoutMs: 0 });
    const state = track(client.call("sleep"));
    const request = await server.request();
    await vi.advanceTimersByTimeAsync(5000);
    expect(server.channelNames(request)).toEqual([]);
    server.heartbeat(request);
    await vi.advanceTimersByTimeAsync(1000);
    expect(server.channelNames(request)).toEqual(["_zpc_hb"]);
    server.ok(request, 1);
    await flush();
    expect(state.value).toBe(1);
  });
});

describe.each(CLIENT_SETUPS)("cancellation ($name)", (clientSetup) => {
  beforeEach(() => {
    base = clientSetup.options;
  });

  it("rejects a pending call with CanceledError and closes it locally", async () => {
    setup({ heartbeatMs: 1000 });
    const controller = new AbortController();
    const state = track(client.call("sleep", [], { signal: controller.signal }));
    const request = await server.request();
    server.heartbeat(request);
    controller.abort(new Error("user gave up"));
    await flush();
    expect(state.error).toBeInstanceOf(CanceledError);
    expect((state.error as CanceledError).code).toBe("canceled");
    expect((state.error as Error).cause).toEqual(new Error("user gave up"));
    // Nothing on the wire, now or later (no heartbeat for a closed call).
    await vi.advanceTimersByTimeAsync(10_000);
    expect(server.channelEvents(request)).toEqual([]);
  });

  it("does not send a call whose signal is already aborted", async () => {
    setup();
    const error = await rejectionOf(client.call("f", [], { signal: AbortSignal.abort() }));
    expect(error).toBeInstanceOf(CanceledError);
    await flush();
    expect(server.requests).toHaveLength(0);
  });

  it("ends a stream iteration with CanceledError", async () => {
    setup();
    const controller = new AbortController();
    const iterator = client.stream("range", [], { signal: controller.signal })[Symbol.asyncIterator]();
    const first = iterator.next();
    const request = await server.request();
    server.send(request, "STREAM", 0);
    await expect(first).resolves.toEqual({ done: false, value: 0 });
    const second = track(iterator.next());
    controller.abort();
    await flush();
    expect(second).toMatchObject({ state: "rejected" });
    expect(second.error).toBeInstanceOf(CanceledError);
    await expect(iterator.next()).resolves.toEqual({ done: true, value: undefined });
  });

  it("ignores an abort after the call completed", async () => {
    setup();
    server.handler = (r, s) => s.ok(r, 1);
    const controller = new AbortController();
    await expect(client.call("f", [], { signal: controller.signal })).resolves.toBe(1);
    controller.abort();
    await flush();
  });

  it("the client still works after cancellations", async () => {
    setup();
    const controller = new AbortController();
    const canceled = client.call("a", [], { signal: controller.signal });
    controller.abort();
    await expect(canceled).rejects.toBeInstanceOf(ZrpcError);
    server.handler = (r, s) => s.ok(r, "b");
    await expect(client.call("b")).resolves.toBe("b");
  });
});
