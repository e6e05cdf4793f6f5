// Real sockets: @zrpc/client over ZeroMQ against a raw zeromq.js ROUTER written here, and the
// one-way patterns over PUSH/PULL and PUB/SUB.
import { Router } from "zeromq";
import { afterEach, describe, expect, it } from "vitest";
import { decodeEvent, encodeEvent, f64, newMessageId } from "@zrpc/wire";
import type { Event } from "@zrpc/wire";
import { RemoteError, bindPuller, bindSubscriber, connect, connectPublisher, connectPusher } from "../src/index.js";

const LOOPBACK = "tcp://127.0.0.1:*";

const opened: { close(): unknown }[] = [];
function track<T extends { close(): unknown }>(resource: T): T {
  opened.push(resource);
  return resource;
}
afterEach(async () => {
  const resources = opened.splice(0).reverse();
  for (const resource of resources) await resource.close();
});

/** A raw zerorpc server on a zeromq.js ROUTER: answers add(a, b), fail(msg) and range(n) (ignoring credit for n <= 1). */
async function rawServer(): Promise<{ endpoint: string; requests: Event[]; frames: Buffer[][] }> {
  const router = track(new Router({ linger: 0 }));
  await router.bind(LOOPBACK);
  const requests: Event[] = [];
  const frames: Buffer[][] = [];
  void (async () => {
    try {
      for await (const message of router) {
        frames.push(message);
        const [identity, , payload] = message as [Buffer, Buffer, Buffer];
        const event = decodeEvent(payload);
        if (event.header.response_to !== undefined) continue; // heartbeats, credits
        requests.push(event);
        const reply = (name: string, args: unknown): Promise<void> =>
          router.send([
            identity,
            "",
            encodeEvent({ header: { message_id: newMessageId(), v: 3, response_to: event.header.message_id }, name, args }),
          ]);
        const args = event.args as unknown[];
        if (event.name === "add") await reply("OK", [(args[0] as number) + (args[1] as number)]);
        else if (event.name === "fail") await reply("ERR", ["ValueError", args[0], "Traceback ..."]);
        else await reply("ERR", ["NameError", event.name, null]);
      }
    } catch {
      // The router was closed.
    }
  })();
  return { endpoint: router.lastEndpoint!, requests, frames };
}

describe("connect() over ZeroMQ", () => {
  it("calls a raw zeromq.js ROUTER", async () => {
    const server = await rawServer();
    const client = track(await connect(server.endpoint));
    await expect(client.call("add", [2, 3])).resolves.toBe(5);
    await expect(client.call("add", [f64(0.5), 2])).resolves.toBe(2.5);
    const error = await client.call("fail", ["bad input"]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RemoteError);
    expect((error as RemoteError).message).toBe("[ValueError] bad input");
    // DEALER framing: the ROUTER sees [identity, "", payload].
    expect(server.frames[0]).toHaveLength(3);
    expect(server.frames[0]![1]!.length).toBe(0);
    expect(server.requests.map((r) => r.name)).toEqual(["add", "add", "fail"]);
  });

  it("runs concurrent calls over one socket", async () => {
    const server = await rawServer();
    const client = track(await connect(server.endpoint, { heartbeatMs: 1000 }));
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => client.call("add", [i, i])));
    expect(results).toEqual(Array.from({ length: 100 }, (_, i) => 2 * i));
  });

  it("closes its socket with the client", async () => {
    const server = await rawServer();
    const client = await connect(server.endpoint);
    await client.close();
    await expect(client.closed).resolves.toBeUndefined();
  });

  it("rejects an invalid endpoint", async () => {
    await expect(connect("nonsense://x")).rejects.toThrow();
  });
});

describe("one-way patterns over ZeroMQ", () => {
  it("push -> pull", async () => {
    const received: unknown[][] = [];
    let resolveAll!: () => void;
    const all = new Promise<void>((resolve) => (resolveAll = resolve));
    const record = (...args: unknown[]): void => {
      received.push(args);
      if (received.length === 3) resolveAll();
    };
    const puller = track(await bindPuller(LOOPBACK, { echo: record, add: (a: number, b: number) => record(a + b) }));
    const pusher = track(await connectPusher(puller.endpoints[0]!));
    pusher.send("echo", ["pushed"]);
    pusher.send("add", [1, 2]);
    pusher.send("echo", [{ k: [null, true, f64(1.5), new Uint8Array([0, 255]), "\u2603"] }]);
    await all;
    expect(received).toEqual([["pushed"], [3], [{ k: [null, true, 1.5, new Uint8Array([0, 255]), "\u2603"] }]]);
  });

  it("pub -> sub, re-sent until the subscription has arrived", async () => {
    let resolveGot!: (event: Event) => void;
    const got = new Promise<Event>((resolve) => (resolveGot = resolve));
    const subscriber = track(await bindSubscriber(LOOPBACK, (event) => resolveGot(event)));
    const publisher = track(await connectPublisher(subscriber.endpoints[0]!));
    // A SUB misses what was published before its subscription reached the PUB (docs/protocol §6.4):
    // publish until one arrives, each round waiting for the delivery or a short tick (bounded).
    let event: Event | undefined;
    void got.then((e) => (event = e));
    for (let round = 0; round < 500 && event === undefined; round++) {
      publisher.send("add", [1, 2]);
      await Promise.race([got, new Promise((resolve) => setTimeout(resolve, 10))]);
    }
    expect(event?.name).toBe("add");
    expect(event?.args).toEqual([1, 2]);
    expect(event?.header.v).toBe(3);
  });
});
