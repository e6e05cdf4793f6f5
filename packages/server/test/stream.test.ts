import { afterEach, describe, expect, it, vi } from "vitest";
import { createRegistry } from "../src/index.js";
import type { CallOutcome } from "../src/index.js";
import { deferred, setup } from "./helpers.js";
import type { RawClient } from "./helpers.js";

/** Lets the server run for a few event-loop turns (to show that nothing more is sent). */
async function settle(client: RawClient, turns = 5): Promise<void> {
  let n = 0;
  await client.until(() => ++n > turns);
}

describe("streams (docs/protocol §6.3)", () => {
  it("sends each item bare as STREAM, then STREAM_DONE with nil args", async () => {
    const registry = createRegistry();
    registry.register(function* items() {
      yield 5;
      yield [1, 2];
      yield "x";
    });
    const { client } = setup(registry);
    const events = await client.stream("items");
    expect(events.map((e) => [e.name, e.args])).toEqual([
      ["STREAM", 5],
      ["STREAM", [1, 2]],
      ["STREAM", "x"],
      ["STREAM_DONE", null],
    ]);
  });

  it("answers an empty stream with STREAM_DONE only", async () => {
    const registry = createRegistry();
    registry.register(function* nothing() {
      // no items
    });
    const { client } = setup(registry);
    expect((await client.stream("nothing")).map((e) => e.name)).toEqual(["STREAM_DONE"]);
  });

  it("honours _zpc_more credits: a client that never grants gets exactly one item", async () => {
    const registry = createRegistry();
    let produced = 0;
    registry.register(function* range(n: number) {
      for (let i = 0; i < n; i++) {
        produced += 1;
        yield i;
      }
    });
    const { client } = setup(registry);
    const id = client.request("range", [10]);
    await client.until(() => client.replies(id).length === 1);
    await settle(client);
    expect(client.replies(id).map((e) => e.args)).toEqual([0]);
    // Items are produced only when they can be sent.
    expect(produced).toBe(1);
    client.more(id, 3);
    await client.until(() => client.replies(id).length === 4);
    await settle(client);
    expect(client.replies(id).map((e) => e.args)).toEqual([0, 1, 2, 3]);
    client.more(id, 100);
    await client.until(() => client.replies(id).length === 11);
    expect(client.replies(id).map((e) => e.name).slice(-2)).toEqual(["STREAM", "STREAM_DONE"]);
  });

  it("streams 10,000 items to a client granting like Python", async () => {
    const registry = createRegistry();
    registry.register(function* range(n: number) {
      for (let i = 0; i < n; i++) yield i;
    });
    const { client } = setup(registry);
    const events = await client.stream("range", [10_000]);
    expect(events).toHaveLength(10_001);
    expect(events[9_999]!.args).toBe(9_999);
  });

  it("streams async generators, iterables returned by plain or async functions", async () => {
    const registry = createRegistry();
    registry.register(async function* agen() {
      await Promise.resolve();
      yield "a";
      yield "b";
    });
    registry.register(() => [1, 2], { name: "array", stream: true });
    registry.register(
      async () => {
        await Promise.resolve();
        return new Set(["s"]);
      },
      { name: "asyncSet", stream: true },
    );
    registry.register(() => [Promise.resolve(7)], { name: "promiseItems", stream: true });
    const { client } = setup(registry);
    expect((await client.stream("agen")).map((e) => e.args)).toEqual(["a", "b", null]);
    expect((await client.stream("array")).map((e) => e.args)).toEqual([1, 2, null]);
    expect((await client.stream("asyncSet")).map((e) => e.args)).toEqual(["s", null]);
    expect((await client.stream("promiseItems")).map((e) => e.args)).toEqual([7, null]);
  });

  it("sends ERR in place of the next item when iteration throws", async () => {
    const registry = createRegistry();
    registry.register(function* broken() {
      yield 1;
      yield 2;
      throw Object.assign(new Error("mid-stream"), { name: "RuntimeError" });
    });
    const { client } = setup(registry);
    const events = await client.stream("broken");
    expect(events.map((e) => e.name)).toEqual(["STREAM", "STREAM", "ERR"]);
    expect((events[2]!.args as unknown[]).slice(0, 2)).toEqual(["RuntimeError", "mid-stream"]);
    expect((events[2]!.args as unknown[])).toHaveLength(3);
  });

  it("answers ERR TypeError for a stream method returning a non-iterable", async () => {
    const registry = createRegistry();
    registry.register(() => 5, { name: "five", stream: true });
    registry.register(() => null, { name: "none", stream: true });
    const { client } = setup(registry);
    expect(((await client.call("five")).args as unknown[]).slice(0, 2)).toEqual(["TypeError", "'int' object is not iterable"]);
    expect(((await client.call("none")).args as unknown[]).slice(0, 2)).toEqual(["TypeError", "'NoneType' object is not iterable"]);
  });

  it("answers ERR TypeError for an item that cannot be encoded and closes the generator", async () => {
    const registry = createRegistry();
    let closed = false;
    registry.register(function* bad() {
      try {
        yield 1;
        yield new Map([[1, "int key"]]);
        yield 3;
      } finally {
        closed = true;
      }
    });
    const { client } = setup(registry);
    const events = await client.stream("bad");
    expect(events.map((e) => e.name)).toEqual(["STREAM", "ERR"]);
    expect((events[1]!.args as unknown[])[0]).toBe("TypeError");
    expect(closed).toBe(true);
  });
});

describe("streams and lost clients (fake timers)", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("return()s the generator when the client is lost, so its finally runs", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] });
    const registry = createRegistry();
    let finallyRan = false;
    registry.register(function* forever() {
      try {
        for (let i = 0; ; i++) yield i;
      } finally {
        finallyRan = true;
      }
    });
    const outcomes: CallOutcome[] = [];
    const { client, server } = setup(registry, { heartbeatMs: 1000, middleware: [{ onEnd: (_call, outcome) => void outcomes.push(outcome) }] });
    const id = client.request("forever");
    await client.until(() => client.replies(id).length === 1);
    // The client never grants credit and never heartbeats.
    await vi.advanceTimersByTimeAsync(2_500);
    expect(finallyRan).toBe(false);
    expect(server.inFlight).toBe(1);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(finallyRan).toBe(true);
    expect(outcomes.map((o) => o.kind)).toEqual(["lost-remote"]);
    expect(server.inFlight).toBe(0);
    expect(client.replies(id)).toHaveLength(1);
  });

  it("closes an async generator that is busy when the client is lost, once it yields", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] });
    const registry = createRegistry();
    const gate = deferred();
    let finallyRan = false;
    let afterGate = false;
    registry.register(async function* slow() {
      try {
        yield 0;
        await gate.promise;
        afterGate = true;
        yield 1;
        yield 2;
      } finally {
        finallyRan = true;
      }
    });
    const { client } = setup(registry, { heartbeatMs: 1000 });
    const id = client.request("slow");
    await client.until(() => client.replies(id).length === 1);
    client.more(id, 10);
    await vi.advanceTimersByTimeAsync(3_500);
    expect(finallyRan).toBe(false);
    gate.resolve();
    await vi.advanceTimersByTimeAsync(10);
    expect(afterGate).toBe(true);
    expect(finallyRan).toBe(true);
    // Nothing after the loss: the item produced by the busy next() is dropped.
    expect(client.replies(id).map((e) => e.args)).toEqual([0]);
  });
});
