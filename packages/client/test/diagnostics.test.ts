// The node:diagnostics_channel events of client calls, against @zrpc/server over real loopback
// sockets (the default zmtp transport): which events, in which order, with which message.
import diagnosticsChannel from "node:diagnostics_channel";
import type { Channel } from "node:diagnostics_channel";
import { afterEach, describe, expect, it } from "vitest";
import { createServer, getCallContext } from "@zrpc/server";
import { CLIENT_CALL_CHANNELS, CanceledError, RemoteError, TimeoutExpired, ZrpcError, connect } from "../src/index.js";
import type { Client, ClientCallMessage, ClientCallOutcome } from "../src/index.js";

type EventName = keyof typeof CLIENT_CALL_CHANNELS;
const EVENT_NAMES = Object.keys(CLIENT_CALL_CHANNELS) as EventName[];

/** One event as seen when it was published (the message changes as the call goes on). */
interface Seen {
  readonly name: EventName;
  readonly message: ClientCallMessage;
  readonly id: unknown;
  readonly items: number;
  readonly item: unknown;
  readonly outcome: ClientCallOutcome | undefined;
  readonly result: unknown;
  readonly error: unknown;
}

const cleanups: (() => void | Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Subscribes to `names` (default all four) and records every event; `onStart` runs in `start`. */
function record(names: readonly EventName[] = EVENT_NAMES, onStart?: (message: ClientCallMessage) => void): Seen[] {
  const seen: Seen[] = [];
  for (const name of names) {
    const listener = (raw: unknown): void => {
      const message = raw as ClientCallMessage;
      const { id, items, item, outcome, result, error } = message;
      seen.push({ name, message, id, items, item, outcome, result, error });
      if (name === "start") onStart?.(message);
    };
    diagnosticsChannel.subscribe(CLIENT_CALL_CHANNELS[name], listener);
    cleanups.push(() => void diagnosticsChannel.unsubscribe(CLIENT_CALL_CHANNELS[name], listener));
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
    const channel = diagnosticsChannel.channel(CLIENT_CALL_CHANNELS[name]);
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

function names(seen: readonly Seen[]): EventName[] {
  return seen.map((event) => event.name);
}

class Service {
  /** Resolved by `release()`; `wait` calls return it. */
  gate: Promise<string> = new Promise(() => undefined);
  started = 0;
  add(a: number, b: number): number {
    return a + b;
  }
  trace(): unknown {
    return getCallContext()?.header.traceparent ?? null;
  }
  fail(message: string): never {
    const error = new Error(message);
    error.name = "ValueError";
    throw error;
  }
  *range(n: number): Generator<number> {
    for (let i = 0; i < n; i++) yield i * 10;
  }
  wait(): Promise<string> {
    this.started += 1;
    return this.gate;
  }
}

async function start(): Promise<{ service: Service; endpoint: string; client: Client }> {
  const service = new Service();
  const server = createServer(service, { heartbeatMs: 1000, logger: null });
  // No grace period: a call still waiting (a timed-out or canceled one) is canceled.
  cleanups.push(() => server.close(0));
  const [endpoint] = await server.bind("tcp://127.0.0.1:*");
  const client = await connect(endpoint!, { heartbeatMs: 1000 });
  cleanups.push(() => client.close());
  return { service, endpoint: endpoint!, client };
}

/** Resolves once `predicate` holds, checked after each turn of the event loop. */
async function until(predicate: () => boolean): Promise<void> {
  while (!predicate()) await new Promise<void>((resolve) => setImmediate(resolve));
}

describe("client diagnostics channels", () => {
  it("publishes start and end of a unary call with one message object", async () => {
    const seen = record(EVENT_NAMES, (message) => {
      // A start subscriber's header keys go out with the request.
      if (message.method === "trace") message.header.traceparent = "00-trace-span-01";
    });
    const { client, endpoint } = await start();
    const args = [2, 3];
    await expect(client.call("add", args)).resolves.toBe(5);
    expect(names(seen)).toEqual(["start", "end"]);
    const [begin, end] = seen;
    expect(end!.message).toBe(begin!.message);
    const message = begin!.message;
    expect(message.method).toBe("add");
    expect(message.args).toBe(args);
    // Known once the connection is up (the reply came through it).
    expect(message.endpoint).toBe(endpoint);
    expect(message.options).toEqual({});
    expect([begin!.id, begin!.outcome, begin!.result, begin!.error]).toEqual([undefined, undefined, undefined, undefined]);
    expect(end!.id).toBeInstanceOf(Uint8Array);
    expect([end!.outcome, end!.result, end!.error, end!.items]).toEqual(["ok", 5, undefined, 0]);

    await expect(client.call("trace")).resolves.toBe("00-trace-span-01");
  });

  it("publishes error, then end, with the error the caller gets", async () => {
    const seen = record();
    const { client } = await start();
    const error = await client.call("fail", ["bad input"]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RemoteError);
    expect(names(seen)).toEqual(["start", "error", "end"]);
    expect(seen[1]!.error).toBe(error);
    expect([seen[2]!.outcome, seen[2]!.error]).toEqual(["error", error]);
  });

  it("publishes an item event per STREAM item, iterated or awaited", async () => {
    const seen = record();
    const { client } = await start();
    const got: unknown[] = [];
    for await (const item of client.stream("range", [3])) got.push(item);
    expect(got).toEqual([0, 10, 20]);
    expect(names(seen)).toEqual(["start", "item", "item", "item", "end"]);
    expect(seen.filter((event) => event.name === "item").map((event) => [event.items, event.item])).toEqual([
      [1, 0],
      [2, 10],
      [3, 20],
    ]);
    expect([seen[4]!.outcome, seen[4]!.items]).toEqual(["stream-done", 3]);
    expect(new Set(seen.map((event) => event.message)).size).toBe(1);

    seen.length = 0;
    await expect(client.call("range", [2])).resolves.toEqual([0, 10]);
    expect(names(seen)).toEqual(["start", "item", "item", "end"]);
  });

  it("ends an abandoned stream with outcome abandoned and no error", async () => {
    const seen = record();
    const { client } = await start();
    for await (const item of client.stream("range", [100])) if (item === 10) break;
    expect(names(seen)).toEqual(["start", "item", "item", "end"]);
    expect(seen[3]!.outcome).toBe("abandoned");
  });

  it("publishes the TimeoutExpired of a call that times out", async () => {
    const seen = record();
    const { client } = await start();
    const error = await client.call("wait", [], { timeoutMs: 50 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TimeoutExpired);
    expect(names(seen)).toEqual(["start", "error", "end"]);
    expect([seen[2]!.outcome, seen[2]!.error]).toEqual(["error", error]);
  });

  it("publishes the CanceledError of a canceled call", async () => {
    const seen = record();
    const { client, service } = await start();
    const controller = new AbortController();
    const call = client.call("wait", [], { signal: controller.signal }).catch((e: unknown) => e);
    await until(() => service.started === 1);
    controller.abort(new Error("user left"));
    const error = await call;
    expect(error).toBeInstanceOf(CanceledError);
    expect(names(seen)).toEqual(["start", "error", "end"]);
    expect(seen[0]!.message.options.signal).toBe(controller.signal);
    expect(seen[2]!.error).toBe(error);
  });

  it("publishes a call that cannot be sent (closed client): start, error, end", async () => {
    const seen = record();
    const { client } = await start();
    await client.close();
    const error = await client.call("add", [1, 2]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ZrpcError);
    expect(names(seen)).toEqual(["start", "error", "end"]);
    expect([seen[2]!.id, seen[2]!.error]).toEqual([undefined, error]);
  });

  it("publishes only on the channels subscribed to", async () => {
    const seen = record(["end"]);
    const counts = countPublishes();
    const { client } = await start();
    await expect(client.call("range", [2])).resolves.toEqual([0, 10]);
    await expect(client.call("fail", ["x"])).rejects.toBeInstanceOf(RemoteError);
    expect(seen.map((event) => event.outcome)).toEqual(["stream-done", "error"]);
    // [start, item, error, end]
    expect(counts).toEqual([0, 0, 0, 2]);
  });

  it("publishes nothing without subscribers; a subscriber sees the calls started after it", async () => {
    const counts = countPublishes();
    const { client, service } = await start();
    expect(EVENT_NAMES.some((name) => diagnosticsChannel.hasSubscribers(CLIENT_CALL_CHANNELS[name]))).toBe(false);
    await expect(client.call("add", [1, 1])).resolves.toBe(2);
    const items: unknown[] = [];
    for await (const item of client.stream("range", [2])) items.push(item);
    await expect(client.call("fail", ["x"])).rejects.toBeInstanceOf(RemoteError);
    expect(counts).toEqual([0, 0, 0, 0]);

    let release!: (value: string) => void;
    service.gate = new Promise((resolve) => (release = resolve));
    const early = client.call("wait");
    await until(() => service.started === 1);
    // Subscribed while `early` runs: it started unobserved, so it publishes nothing.
    const seen = record();
    release("done");
    await expect(early).resolves.toBe("done");
    expect(seen).toEqual([]);
    await expect(client.call("add", [2, 2])).resolves.toBe(4);
    expect(names(seen)).toEqual(["start", "end"]);
    expect(counts).toEqual([1, 0, 0, 1]);
  });
});
