import { afterEach, describe, expect, it, vi } from "vitest";
import { createMemoryServer } from "@zrpc/channel/testing";
import { createRegistry, createServer, ShutdownError } from "../src/index.js";
import type { CallContext, CallOutcome } from "../src/index.js";
import { RawClient, deferred, setup } from "./helpers.js";

afterEach(() => {
  vi.useRealTimers();
});

describe("close()", () => {
  it("lets calls in flight finish within the grace period and reply", async () => {
    const gate = deferred<string>();
    const registry = createRegistry();
    registry.register(() => gate.promise, { name: "work", args: [] });
    const kinds: string[] = [];
    const { client, server } = setup(registry, { middleware: [{ onEnd: (_c, o) => void kinds.push(o.kind) }] });
    const id = client.request("work");
    await client.until(() => server.inFlight === 1);
    const closing = server.close(10_000);
    expect(server.isClosing).toBe(true);
    gate.resolve("done");
    await closing;
    expect(client.replies(id).map((e) => [e.name, e.args])).toEqual([["OK", ["done"]]]);
    expect(kinds).toEqual(["ok"]);
  });

  it("drops new requests while closing (no reply) and closes the transports at the end", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] });
    const gate = deferred<string>();
    const registry = createRegistry();
    const started: string[] = [];
    registry.register(
      (tag: string) => {
        started.push(tag);
        return gate.promise;
      },
      { name: "work", args: ["tag"] },
    );
    const network = createMemoryServer();
    const server = createServer(registry, { logger: null, heartbeatMs: null });
    server.serve(network.transport);
    const client = new RawClient(network.connect());
    client.request("work", ["first"]);
    await vi.advanceTimersByTimeAsync(1);
    const closing = server.close(1_000);
    const late = client.request("work", ["late"]);
    await vi.advanceTimersByTimeAsync(10);
    expect(started).toEqual(["first"]);
    expect(server.inFlight).toBe(1);
    let transportClosed = false;
    void network.transport.closed.then(() => (transportClosed = true));
    await vi.advanceTimersByTimeAsync(500);
    expect(transportClosed).toBe(false);
    await vi.advanceTimersByTimeAsync(600);
    await closing;
    expect(transportClosed).toBe(true);
    expect(client.replies(late)).toHaveLength(0);
  });

  it("cancels at once with grace 0: signal aborts with ShutdownError, outcome shutdown, no reply", async () => {
    let signal: AbortSignal | undefined;
    const registry = createRegistry();
    registry.register(function (this: CallContext) {
      signal = this.signal;
      return new Promise(() => undefined);
    }, { name: "never", args: [] });
    const outcomes: CallOutcome[] = [];
    const { client, server } = setup(registry, { middleware: [{ onEnd: (_c, o) => void outcomes.push(o) }] });
    const id = client.request("never");
    await client.until(() => signal !== undefined);
    await server.close(0);
    expect(signal!.aborted).toBe(true);
    expect(signal!.reason).toBeInstanceOf(ShutdownError);
    expect(outcomes).toEqual([{ kind: "shutdown" }]);
    expect(server.inFlight).toBe(0);
    expect(client.replies(id)).toHaveLength(0);
  });

  it("stops a stream at shutdown and closes its generator", async () => {
    let finallyRan = false;
    const registry = createRegistry();
    registry.register(function* forever() {
      try {
        for (;;) yield 1;
      } finally {
        finallyRan = true;
      }
    });
    const { client, server } = setup(registry);
    const id = client.request("forever");
    await client.until(() => client.replies(id).length === 1);
    await server.close(0);
    expect(finallyRan).toBe(true);
  });

  it("runs calls still waiting for a slot within the grace period", async () => {
    const gates = [deferred<number>(), deferred<number>()];
    const registry = createRegistry();
    registry.register((n: number) => gates[n]!.promise, { name: "job", args: ["n"] });
    const { client, server } = setup(registry, { maxConcurrentCalls: 1 });
    const ids = [client.request("job", [0]), client.request("job", [1])];
    await client.until(() => server.inFlight === 2);
    const closing = server.close(10_000);
    gates[0]!.resolve(0);
    gates[1]!.resolve(1);
    await closing;
    expect(ids.map((id) => client.replies(id).map((e) => e.args))).toEqual([[[0]], [[1]]]);
  });

  it("never starts calls still waiting for a slot when the grace period is over", async () => {
    const started: number[] = [];
    const registry = createRegistry();
    registry.register(
      (n: number) => {
        started.push(n);
        return new Promise(() => undefined);
      },
      { name: "job", args: ["n"] },
    );
    const outcomes: string[] = [];
    const { client, server } = setup(registry, { maxConcurrentCalls: 1, middleware: [{ onEnd: (c, o) => void outcomes.push(`${String(c.args[0])} ${o.kind}`) }] });
    client.request("job", [0]);
    client.request("job", [1]);
    await client.until(() => server.inFlight === 2);
    await server.close(0);
    expect(started).toEqual([0]);
    expect(outcomes.sort()).toEqual(["0 shutdown", "1 shutdown"]);
  });

  it("is idempotent, resolves closed, and backs await using", async () => {
    const server = createServer(createRegistry(), { logger: null });
    const first = server.close();
    expect(server.close()).toBe(first);
    await first;
    await expect(server.closed).resolves.toBeUndefined();
    const disposable = createServer(createRegistry(), { logger: null });
    await disposable[Symbol.asyncDispose]();
    await expect(disposable.closed).resolves.toBeUndefined();
    expect(disposable.isClosing).toBe(true);
  });

  it("waits for onEnd hooks still running", async () => {
    const hook = deferred();
    let hookDone = false;
    const registry = createRegistry();
    registry.register(() => 1, { name: "one", args: [] });
    const { client, server } = setup(registry, {
      middleware: [
        {
          onEnd: async () => {
            await hook.promise;
            hookDone = true;
          },
        },
      ],
    });
    await client.call("one");
    const closing = server.close(10_000);
    let closed = false;
    void closing.then(() => (closed = true));
    await client.until(() => server.inFlight === 0);
    expect(closed).toBe(false);
    hook.resolve();
    await closing;
    expect(hookDone).toBe(true);
  });

  it("ends calls with outcome shutdown when their transport closes by itself", async () => {
    const registry = createRegistry();
    registry.register(() => new Promise(() => undefined), { name: "never", args: [] });
    const outcomes: string[] = [];
    const { client, server, network } = setup(registry, { middleware: [{ onEnd: (_c, o) => void outcomes.push(o.kind) }] });
    client.request("never");
    await client.until(() => server.inFlight === 1);
    await network.transport.close();
    await client.until(() => outcomes.length === 1);
    expect(outcomes).toEqual(["shutdown"]);
    expect(server.inFlight).toBe(0);
  });
});
