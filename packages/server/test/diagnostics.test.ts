// The node:diagnostics_channel events of served calls, over real loopback sockets (the default
// zmtp transport) with a raw client: which events, in which order, with which message.
import { AsyncLocalStorage } from "node:async_hooks";
import diagnosticsChannel from "node:diagnostics_channel";
import type { Channel } from "node:diagnostics_channel";
import { afterEach, describe, expect, it } from "vitest";
import { connectDealer } from "@zrpc/transport-zmtp";
import { messageIdKey, newMessageId } from "@zrpc/wire";
import type { MessageId } from "@zrpc/wire";
import { CallCanceled, SERVER_CALL_CHANNELS, createRegistry, createServer, getCallContext } from "../src/index.js";
import type { CallOutcome, Server, ServerCallMessage } from "../src/index.js";
import { RawClient, deferred } from "./helpers.js";

type EventName = keyof typeof SERVER_CALL_CHANNELS;
const EVENT_NAMES = Object.keys(SERVER_CALL_CHANNELS) as EventName[];

/** One event as seen when it was published (the message changes as the call goes on). */
interface Seen {
  readonly name: EventName;
  readonly message: ServerCallMessage;
  readonly items: number;
  readonly item: unknown;
  readonly outcome: CallOutcome | undefined;
  readonly error: unknown;
}

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Subscribes to `names` (default all four) and records every event. */
function record(names: readonly EventName[] = EVENT_NAMES): Seen[] {
  const seen: Seen[] = [];
  for (const name of names) {
    const listener = (raw: unknown): void => {
      const message = raw as ServerCallMessage;
      seen.push({ name, message, items: message.items, item: message.item, outcome: message.outcome, error: message.error });
    };
    diagnosticsChannel.subscribe(SERVER_CALL_CHANNELS[name], listener);
    cleanups.push(() => void diagnosticsChannel.unsubscribe(SERVER_CALL_CHANNELS[name], listener));
  }
  return seen;
}

/**
 * Counts the `publish` calls of each call channel (a wrapper that calls whatever `publish` the
 * channel's prototype has at the time: subscribing and unsubscribing switch it).
 */
function countPublishes(): number[] {
  const counts = EVENT_NAMES.map(() => 0);
  EVENT_NAMES.forEach((name, index) => {
    const channel = diagnosticsChannel.channel(SERVER_CALL_CHANNELS[name]);
    Object.defineProperty(channel, "publish", {
      configurable: true,
      value(this: Channel, message: unknown): void {
        counts[index]! += 1;
        (Object.getPrototypeOf(this) as Channel).publish.call(this, message);
      },
    });
    cleanups.push(() => void delete (channel as Partial<Channel>).publish);
  });
  return counts;
}

/** The events of the call with message id `id`. */
function of(seen: readonly Seen[], id: MessageId): Seen[] {
  return seen.filter((event) => messageIdKey(event.message.id) === messageIdKey(id));
}

const CAPS = { zrpc_caps: ["cancel"] };

function service(gate: { started?: () => void; release?: Promise<string> } = {}) {
  const registry = createRegistry();
  registry.register((a: number, b: number) => a + b, { name: "add", args: ["a", "b"] });
  registry.register(
    (message: string) => {
      const error = new Error(message);
      error.name = "ValueError";
      throw error;
    },
    { name: "fail", args: ["message"] },
  );
  registry.register(
    function* (n: number) {
      for (let i = 0; i < n; i++) yield i * 10;
    },
    { name: "range", args: ["n"], stream: true },
  );
  registry.register(
    async () => {
      const signal = getCallContext()!.signal;
      gate.started?.();
      if (gate.release !== undefined) return gate.release;
      await new Promise((_resolve, reject) => signal.addEventListener("abort", () => reject(signal.reason as Error), { once: true }));
      return "unreachable";
    },
    { name: "wait", args: [] },
  );
  return registry;
}

async function start(gate?: Parameters<typeof service>[0]): Promise<{ server: Server; client: RawClient }> {
  const server = createServer(service(gate), { logger: null, heartbeatMs: null, name: "diag" });
  cleanups.push(() => server.close(0));
  const [endpoint] = await server.bind("tcp://127.0.0.1:*");
  const client = new RawClient(await connectDealer(endpoint!));
  cleanups.push(() => client.close());
  return { server, client };
}

/** Resolves once `seen` holds an event `name` of call `id`. */
async function until(client: RawClient, seen: readonly Seen[], id: MessageId, name: EventName): Promise<void> {
  await client.until(() => of(seen, id).some((event) => event.name === name));
}

describe("server diagnostics channels", () => {
  it("publishes start and end of a unary call with one message object", async () => {
    const seen = record();
    const { client } = await start();
    const id = newMessageId();
    const reply = await client.call("add", [2, 3], { id, header: { traceparent: "00-abc-def-01" } });
    expect(reply.args).toEqual([5]);
    await until(client, seen, id, "end");
    const events = of(seen, id);
    expect(events.map((event) => event.name)).toEqual(["start", "end"]);
    const message = events[0]!.message;
    expect(events[1]!.message).toBe(message);
    expect(message).toMatchObject({ method: "add", args: [2, 3], serverName: "diag", items: 0, error: undefined });
    expect(message.header.traceparent).toBe("00-abc-def-01");
    expect(messageIdKey(message.header.message_id!)).toBe(messageIdKey(id));
    expect(typeof message.peer.key).toBe("string");
    expect(message.context.method).toBe("add");
    expect(message.context.args).toBe(message.args);
    expect(events[0]!.outcome).toBeUndefined();
    expect(events[1]!.outcome).toEqual({ kind: "ok", result: 5 });
  });

  it("publishes error before end when the call answers ERR", async () => {
    const seen = record();
    const { client } = await start();
    const id = newMessageId();
    expect((await client.call("fail", ["bad input"], { id })).name).toBe("ERR");
    await until(client, seen, id, "end");
    const events = of(seen, id);
    expect(events.map((event) => event.name)).toEqual(["start", "error", "end"]);
    const error = events[1]!.error as Error;
    expect(error).toBeInstanceOf(Error);
    expect(error.message).toBe("bad input");
    expect(events[2]!.outcome).toEqual({ kind: "error", error });
    // An unknown method: the same sequence, with the NameError.
    const unknown = newMessageId();
    expect((await client.call("nope", [], { id: unknown })).name).toBe("ERR");
    await until(client, seen, unknown, "end");
    expect(of(seen, unknown).map((event) => event.name)).toEqual(["start", "error", "end"]);
    expect(of(seen, unknown)[1]!.error).toMatchObject({ name: "NameError", message: "nope" });
  });

  it("publishes an item event per STREAM item sent", async () => {
    const seen = record();
    const { client } = await start();
    const events = await client.stream("range", [3]);
    expect(events.map((event) => event.name)).toEqual(["STREAM", "STREAM", "STREAM", "STREAM_DONE"]);
    const id = seen[0]!.message.id;
    await until(client, seen, id, "end");
    const mine = of(seen, id);
    expect(mine.map((event) => event.name)).toEqual(["start", "item", "item", "item", "end"]);
    expect(mine.filter((event) => event.name === "item").map((event) => [event.items, event.item])).toEqual([
      [1, 0],
      [2, 10],
      [3, 20],
    ]);
    expect(mine[4]!.outcome).toEqual({ kind: "stream-done", items: 3 });
    expect(new Set(mine.map((event) => event.message)).size).toBe(1);
  });

  it("ends a call the client gives up on (its timeout) with outcome timed-out, no error event", async () => {
    const seen = record();
    const { client } = await start();
    const id = client.request("wait", [], { header: CAPS });
    await until(client, seen, id, "start");
    client.sendRaw({ message_id: newMessageId(), v: 3, response_to: id }, "_zrpc_cancel", ["timeout"]);
    await until(client, seen, id, "end");
    expect(of(seen, id).map((event) => [event.name, event.outcome])).toEqual([
      ["start", undefined],
      ["end", { kind: "timed-out" }],
    ]);
    expect(client.replies(id)).toEqual([]);
  });

  it("ends a call the client cancels with outcome canceled", async () => {
    const seen = record();
    const { client } = await start();
    const id = client.request("wait", [], { header: CAPS });
    await until(client, seen, id, "start");
    client.sendRaw({ message_id: newMessageId(), v: 3, response_to: id }, "_zrpc_cancel", ["canceled"]);
    await until(client, seen, id, "end");
    const events = of(seen, id);
    expect(events.map((event) => event.name)).toEqual(["start", "end"]);
    expect(events[1]!.outcome).toMatchObject({ kind: "canceled" });
    expect((events[1]!.outcome as { reason: unknown }).reason).toBeInstanceOf(CallCanceled);
  });

  it("publishes only on the channels subscribed to", async () => {
    const seen = record(["end"]);
    const { client } = await start();
    const counts = countPublishes();
    await client.stream("range", [2]);
    await client.call("fail", ["x"]);
    await client.until(() => seen.length === 2);
    expect(seen.map((event) => event.outcome?.kind)).toEqual(["stream-done", "error"]);
    // [start, item, error, end]
    expect(counts).toEqual([0, 0, 0, 2]);
  });

  it("publishes nothing without subscribers; a subscriber sees the calls started after it", async () => {
    const gate = deferred<string>();
    let started!: () => void;
    const running = new Promise<void>((resolve) => (started = resolve));
    const { client } = await start({ started, release: gate.promise });
    const counts = countPublishes();
    expect(EVENT_NAMES.some((name) => diagnosticsChannel.hasSubscribers(SERVER_CALL_CHANNELS[name]))).toBe(false);
    expect((await client.call("add", [1, 1])).args).toEqual([2]);
    expect((await client.stream("range", [2])).map((event) => event.name)).toEqual(["STREAM", "STREAM", "STREAM_DONE"]);
    const early = client.request("wait");
    await running;
    // Subscribed while `early` runs: it started unobserved, so it publishes nothing.
    const seen = record();
    gate.resolve("done");
    expect((await client.next(early)).args).toEqual(["done"]);
    const later = newMessageId();
    expect((await client.call("add", [2, 2], { id: later })).args).toEqual([4]);
    await until(client, seen, later, "end");
    expect(of(seen, early)).toEqual([]);
    expect(seen.map((event) => event.name)).toEqual(["start", "end"]);
    // Nothing before the subscription; then (no start: runStores publishes it) item 0, error 0, end 1.
    expect(counts.slice(1)).toEqual([0, 0, 1]);
  });

  it("runs the call inside the stores bound to the start channel", async () => {
    const store = new AsyncLocalStorage<{ span: string; message: unknown }>();
    const startChannel = diagnosticsChannel.channel(SERVER_CALL_CHANNELS.start);
    startChannel.bindStore(store, (message) => ({ span: `span of ${(message as ServerCallMessage).method}`, message }));
    cleanups.push(() => void startChannel.unbindStore(store));
    const registry = createRegistry();
    registry.register(
      async () => {
        await Promise.resolve();
        return store.getStore()?.span ?? "no store";
      },
      { name: "whoami", args: [] },
    );
    const seen = record(["end"]);
    const server = createServer(registry, { logger: null, heartbeatMs: null });
    cleanups.push(() => server.close(0));
    const [endpoint] = await server.bind("tcp://127.0.0.1:*");
    const client = new RawClient(await connectDealer(endpoint!));
    cleanups.push(() => client.close());
    expect((await client.call("whoami")).args).toEqual(["span of whoami"]);
    await client.until(() => seen.length === 1);
    expect(seen[0]!.outcome).toEqual({ kind: "ok", result: "span of whoami" });
  });
});
