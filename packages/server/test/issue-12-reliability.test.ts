// Issue #12: deadlines, cancellation, per-peer channel limits, message size limits and CURVE on
// the server side.
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { connectDealer, curveKeyPair, zeromq } from "@zrpc/transport-zeromq";
import { decodeEvent, encodeValue, newMessageId } from "@zrpc/wire";
import {
  CallCanceled,
  DeadlineExceeded,
  createRegistry,
  createServer,
} from "../src/index.js";
import type { CallContext, CallOutcome, Logger } from "../src/index.js";
import { deferred, setup } from "./helpers.js";

const CAPS = { zrpc_caps: ["cancel"] };

/** A registry with `wait` (until aborted), `quick`, and the stream `ticks`. */
function service(seen: { signal?: AbortSignal; call?: CallContext; finished?: boolean; started: number }) {
  const registry = createRegistry();
  registry.register(
    function (this: CallContext) {
      seen.started += 1;
      seen.signal = this.signal;
      seen.call = this;
      return new Promise((resolve) => this.signal.addEventListener("abort", () => resolve("too late")));
    },
    { name: "wait", args: [] },
  );
  registry.register(
    function (this: CallContext) {
      seen.started += 1;
      seen.call = this;
      return [this.deadline ?? null, this.remainingMs()];
    },
    { name: "quick", args: [] },
  );
  registry.register(
    async function* (this: CallContext, n: number, delayMs: number) {
      seen.started += 1;
      seen.signal = this.signal;
      try {
        for (let i = 0; i < n; i++) {
          yield i;
          await sleep(delayMs);
        }
      } finally {
        seen.finished = true;
      }
    },
    { name: "ticks", args: ["n", "delayMs"], stream: true },
  );
  return registry;
}

function outcomes(): { list: CallOutcome[]; middleware: { onEnd: (call: CallContext, outcome: CallOutcome) => void } } {
  const list: CallOutcome[] = [];
  return { list, middleware: { onEnd: (_call, outcome) => void list.push(outcome) } };
}

async function until(predicate: () => boolean, ms = 5_000): Promise<void> {
  const started = Date.now();
  while (!predicate()) {
    if (Date.now() - started > ms) throw new Error("condition not reached");
    await sleep(5);
  }
}

describe("deadlines (zrpc_deadline)", () => {
  it("drops a request whose deadline passed on arrival: no handler, outcome timed-out, no reply", async () => {
    const seen = { started: 0 };
    const ended = outcomes();
    const { client } = setup(service(seen), { middleware: [ended.middleware] });
    const id = client.request("quick", [], { header: { zrpc_deadline: Date.now() - 1 } });
    await until(() => ended.list.length === 1);
    expect(ended.list).toEqual([{ kind: "timed-out" }]);
    expect(seen.started).toBe(0);
    await sleep(20);
    expect(client.replies(id)).toEqual([]);
  });

  it("exposes call.deadline and remainingMs(); a quick call answers normally", async () => {
    const seen: { call?: CallContext; started: number } = { started: 0 };
    const { client } = setup(service(seen));
    const deadline = Date.now() + 60_000;
    const reply = await client.call("quick", [], { header: { zrpc_deadline: deadline } });
    expect(reply.name).toBe("OK");
    const [seenDeadline, remaining] = (reply.args as [number, number])[0] as unknown as [number, number];
    expect(seenDeadline).toBe(deadline);
    expect(remaining).toBeGreaterThan(50_000);
    expect(remaining).toBeLessThanOrEqual(60_000);
    const plain = await client.call("quick");
    expect(plain.args).toEqual([[null, Number.POSITIVE_INFINITY]]);
  });

  it("aborts the handler when the deadline passes before the first reply: DeadlineExceeded, timed-out, no reply", async () => {
    const seen: { signal?: AbortSignal; started: number } = { started: 0 };
    const ended = outcomes();
    const { client, server } = setup(service(seen), { middleware: [ended.middleware] });
    const id = client.request("wait", [], { header: { zrpc_deadline: Date.now() + 80 } });
    await until(() => seen.signal !== undefined);
    expect(seen.signal!.aborted).toBe(false);
    await until(() => seen.signal!.aborted);
    expect(seen.signal!.reason).toBeInstanceOf(DeadlineExceeded);
    expect((seen.signal!.reason as DeadlineExceeded).code).toBe("timeout");
    await until(() => ended.list.length === 1);
    expect(ended.list).toEqual([{ kind: "timed-out" }]);
    expect(server.inFlight).toBe(0);
    await sleep(20);
    expect(client.replies(id)).toEqual([]);
  });

  it("does not cut a stream whose first item went out before the deadline", async () => {
    const seen: { finished?: boolean; started: number } = { started: 0 };
    const ended = outcomes();
    const { client } = setup(service(seen), { middleware: [ended.middleware] });
    const id = client.request("ticks", [4, 40], { header: { zrpc_deadline: Date.now() + 60 } });
    const first = await client.next(id);
    expect(first.name).toBe("STREAM");
    client.more(id, 100);
    await until(() => ended.list.length === 1);
    expect(ended.list).toEqual([{ kind: "stream-done", items: 4 }]);
  });

  it("waiting for a concurrency slot past the deadline: dropped, never run", async () => {
    const gate = deferred<string>();
    const registry = createRegistry();
    let runs = 0;
    registry.register(() => ((runs += 1), gate.promise), { name: "slow", args: [] });
    const ended = outcomes();
    const { client } = setup(registry, { maxConcurrentCalls: 1, middleware: [ended.middleware] });
    const first = client.request("slow");
    client.request("slow", [], { header: { zrpc_deadline: Date.now() + 50 } });
    await until(() => ended.list.length === 1);
    expect(ended.list).toEqual([{ kind: "timed-out" }]);
    gate.resolve("done");
    expect((await client.next(first)).args).toEqual(["done"]);
    expect(runs).toBe(1);
  });

  it("ignores deadlines with extensions: false (or without \"deadline\")", async () => {
    for (const extensions of [false, ["cancel"] as const]) {
      const seen = { started: 0 };
      const { client } = setup(service(seen), { extensions });
      const reply = await client.call("quick", [], { header: { zrpc_deadline: Date.now() - 1_000 } });
      expect(reply.args).toEqual([[null, Number.POSITIVE_INFINITY]]);
    }
  });

  it("ignores malformed deadlines", async () => {
    const seen = { started: 0 };
    const { client } = setup(service(seen));
    for (const bad of ["soon", -1, null, [1]]) {
      const reply = await client.call("quick", [], { header: { zrpc_deadline: bad } });
      expect(reply.name).toBe("OK");
    }
  });
});

describe("cancellation (zrpc_caps / _zrpc_cancel)", () => {
  it("announces cancel in its heartbeats and first reply, only to requests that announced it", async () => {
    const seen = { started: 0 };
    const { client } = setup(service(seen), { heartbeatMs: 30 });
    const withCaps = client.request("wait", [], { header: CAPS });
    const without = client.request("wait");
    await until(() => client.events.filter((e) => e.name === "_zpc_hb").length >= 4);
    const beats = client.events.filter((e) => e.name === "_zpc_hb");
    const capsOf = (id: unknown) => beats.filter((e) => Buffer.from(e.header.response_to as Uint8Array).equals(Buffer.from(id as Uint8Array))).map((e) => e.header.zrpc_caps);
    expect(capsOf(withCaps).length).toBeGreaterThan(0);
    for (const caps of capsOf(withCaps)) expect(caps).toEqual(["cancel"]);
    for (const caps of capsOf(without)) expect(caps).toBeUndefined();
    const quick = await client.call("quick", [], { header: CAPS });
    expect(quick.header.zrpc_caps).toEqual(["cancel"]);
    expect((await client.call("quick")).header.zrpc_caps).toBeUndefined();
  });

  it("_zrpc_cancel aborts the handler with CallCanceled, outcome canceled, nothing sent", async () => {
    const seen: { signal?: AbortSignal; started: number } = { started: 0 };
    const ended = outcomes();
    const { client, server } = setup(service(seen), { middleware: [ended.middleware] });
    const id = client.request("wait", [], { header: CAPS });
    await until(() => seen.signal !== undefined);
    client.sendRaw({ message_id: newMessageId(), v: 3, response_to: id }, "_zrpc_cancel", ["canceled"]);
    await until(() => ended.list.length === 1);
    expect(seen.signal!.reason).toBeInstanceOf(CallCanceled);
    expect(seen.signal!.reason).toMatchObject({ code: "canceled", reason: "canceled" });
    expect(ended.list[0]!.kind).toBe("canceled");
    expect((ended.list[0] as { reason: unknown }).reason).toBe(seen.signal!.reason);
    expect(server.inFlight).toBe(0);
    await sleep(20);
    expect(client.replies(id)).toEqual([]);
  });

  it("a cancel with reason timeout ends as timed-out", async () => {
    const seen: { signal?: AbortSignal; started: number } = { started: 0 };
    const ended = outcomes();
    const { client } = setup(service(seen), { middleware: [ended.middleware] });
    const id = client.request("wait", [], { header: CAPS });
    await until(() => seen.signal !== undefined);
    client.sendRaw({ message_id: newMessageId(), v: 3, response_to: id }, "_zrpc_cancel", ["timeout"]);
    await until(() => ended.list.length === 1);
    expect(ended.list).toEqual([{ kind: "timed-out" }]);
    expect(seen.signal!.reason).toBeInstanceOf(DeadlineExceeded);
  });

  it("an abandoned stream stops at once: the generator's finally runs", async () => {
    const seen: { finished?: boolean; started: number } = { started: 0 };
    const ended = outcomes();
    const { client } = setup(service(seen), { middleware: [ended.middleware] });
    const id = client.request("ticks", [1_000_000, 1], { header: CAPS });
    await client.next(id);
    client.more(id, 100);
    await client.next(id);
    client.sendRaw({ message_id: newMessageId(), v: 3, response_to: id }, "_zrpc_cancel", ["abandoned"]);
    await until(() => seen.finished === true);
    expect(ended.list[0]).toMatchObject({ kind: "canceled", reason: { reason: "abandoned" } });
  });

  it("without the capability (or with extensions off) _zrpc_cancel changes nothing", async () => {
    for (const [options, header] of [[{}, {}], [{ extensions: false }, CAPS]] as const) {
      const gate = deferred<string>();
      const registry = createRegistry();
      registry.register(() => gate.promise, { name: "work", args: [] });
      const { client } = setup(registry, options);
      const id = client.request("work", [], { header });
      await sleep(10);
      client.sendRaw({ message_id: newMessageId(), v: 3, response_to: id }, "_zrpc_cancel", ["canceled"]);
      await sleep(10);
      gate.resolve("finished");
      const reply = await client.next(id);
      expect([reply.name, reply.args]).toEqual(["OK", ["finished"]]);
      expect(reply.header.zrpc_caps).toBeUndefined();
    }
  });
});

describe("limits", () => {
  it("answers ERR LimitExceeded beyond maxChannelsPerPeer, per client, and logs a warning", async () => {
    const warnings: string[] = [];
    const logger: Logger = { warn: (message) => void warnings.push(message) };
    const gate = deferred<string>();
    const registry = createRegistry();
    let runs = 0;
    registry.register(() => ((runs += 1), gate.promise), { name: "work", args: [] });
    const setupResult = setup(registry, { maxChannelsPerPeer: 2, logger });
    const { client } = setupResult;
    const ids = [client.request("work"), client.request("work"), client.request("work"), client.request("work", [], { v: null })];
    const refused = await client.next(ids[2]!);
    expect(refused.name).toBe("ERR");
    expect(refused.args).toEqual(["LimitExceeded", "too many calls in progress from this client (maxChannelsPerPeer is 2)", ""]);
    expect((await client.next(ids[3]!)).args).toEqual(["LimitExceeded('too many calls in progress from this client (maxChannelsPerPeer is 2)')"]);
    // Another client has its own budget.
    const other = setupResult.newClient();
    const otherId = other.request("work");
    await until(() => runs === 3);
    gate.resolve("ok");
    expect((await other.next(otherId)).args).toEqual(["ok"]);
    expect((await client.next(ids[0]!)).args).toEqual(["ok"]);
    expect(warnings.filter((w) => w.includes("LimitExceeded") || w.includes("maxChannelsPerPeer"))).toHaveLength(2);
    // Slots free up again.
    expect((await client.call("work")).args).toEqual(["ok"]);
  });

  it("maxMessageBytes bounds what the decoder accepts", async () => {
    const warnings: string[] = [];
    const registry = createRegistry();
    registry.register((x: string) => x.length, { name: "size", args: ["x"] });
    const { client } = setup(registry, { maxMessageBytes: 1_000, logger: { warn: (m) => void warnings.push(m) } });
    expect((await client.call("size", ["x".repeat(900)])).args).toEqual([900]);
    const big = client.request("size", ["x".repeat(2_000)]);
    await until(() => warnings.some((w) => w.includes("undecodable")));
    expect(warnings.find((w) => w.includes("undecodable"))).toMatch(/1000/);
    await sleep(20);
    expect(client.replies(big)).toEqual([]);
  });

  it("validates the new options", () => {
    const registry = createRegistry();
    expect(() => createServer(registry, { maxMessageBytes: 0 })).toThrow(RangeError);
    expect(() => createServer(registry, { maxMessageBytes: 1.5 })).toThrow(RangeError);
    expect(() => createServer(registry, { maxChannelsPerPeer: -1 })).toThrow(RangeError);
  });
});

describe("CURVE on bind()", () => {
  it("serves an allowed client and logs a refused key through the rate-limited logger", async () => {
    const keys = curveKeyPair();
    const allowed = curveKeyPair();
    const stranger = curveKeyPair();
    const warnings: string[] = [];
    const registry = createRegistry();
    registry.register((a: number, b: number) => a + b, { name: "add", args: ["a", "b"] });
    const server = createServer(registry, { logger: { warn: (m) => void warnings.push(m) }, heartbeatMs: null });
    try {
      const [endpoint] = await server.bind("tcp://127.0.0.1:*", {
        transport: zeromq({ curve: { ...keys, allowedClientKeys: [allowed.publicKey] } }),
      });
      const good = await connectDealer(endpoint!, { curve: { serverKey: keys.publicKey, ...allowed } });
      const bad = await connectDealer(endpoint!, { curve: { serverKey: keys.publicKey, ...stranger } });
      const request = encodeValue([{ message_id: newMessageId(), v: 3 }, "add", [2, 3]]);
      good.send(undefined, request);
      bad.send(undefined, request);
      const reply = await good[Symbol.asyncIterator]().next();
      expect(decodeEvent(reply.value!.payload).args).toEqual([5]);
      expect(await bad.closed).toMatchObject({ code: "connect" });
      await until(() => warnings.some((w) => w.includes(stranger.publicKey)));
      expect(warnings.find((w) => w.includes(stranger.publicKey))).toMatch(/CURVE authentication failed: refused client key/);
      await Promise.all([good.close(), bad.close()]);
    } finally {
      await server.close(0);
    }
  });
});
