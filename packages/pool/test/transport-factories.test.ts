// Transports as values: every helper that opens a socket (client `connect`, `server.bind` and
// `server.connect`, the pool, the one-way helpers) takes a transport factory as `transport`, and
// does the same over real loopback sockets on both factories, `zmtp()` and `zeromq()`. A
// transport name or a stray socket option is a TypeError that says what to pass. (This file is in
// @zrpc/pool because the pool is the one package above the client, the server and both transports.)
import { afterEach, describe, expect, it } from "vitest";
import { bindPublisher, bindPuller, connect, connectSubscriber, connectPusher, createClient } from "@zrpc/client";
import type { Event, TransportFactory } from "@zrpc/client";
import { createRegistry, createServer } from "@zrpc/server";
import type { Server } from "@zrpc/server";
import { zeromq } from "@zrpc/transport-zeromq";
import { zmtp } from "@zrpc/transport-zmtp";
import { createPool } from "../src/index.js";

const LOOPBACK = "tcp://127.0.0.1:*";

const opened: { close(): unknown }[] = [];
function track<T extends { close(): unknown }>(resource: T): T {
  opened.push(resource);
  return resource;
}
afterEach(async () => {
  for (const resource of opened.splice(0).reverse()) await resource.close();
});

/** A factory that records what it was asked to open before handing the call to `inner`. */
function recording(inner: TransportFactory): { factory: TransportFactory; opens: string[] } {
  const opens: string[] = [];
  const factory: TransportFactory = {
    name: inner.name,
    open(kind, how, endpoint, defaults) {
      opens.push(`${kind} ${how}`);
      return inner.open(kind, how, endpoint, defaults);
    },
  };
  return { factory, opens };
}

function newServer(): Server {
  const registry = createRegistry();
  registry.register((a: number, b: number) => a + b, { name: "add", args: ["a", "b"] });
  return track(createServer(registry, { heartbeatMs: null }));
}

/** Resolves with the first event `subscriber` receives; see the pub/sub test. */
function firstEvent(): { listener: (event: Event) => void; got: Promise<Event> } {
  let listener!: (event: Event) => void;
  const got = new Promise<Event>((resolve) => (listener = resolve));
  return { listener, got };
}

const FACTORIES: readonly [string, () => TransportFactory][] = [
  ["zmtp", () => zmtp({ linger: 0 })],
  ["zeromq", () => zeromq({ linger: 0 })],
];

describe.each(FACTORIES)("transport: %s(...)", (name, make) => {
  it("server.bind and client connect open their sockets with it, and a call goes through", async () => {
    const server = recording(make());
    const client = recording(make());
    expect(server.factory.name).toBe(name);
    const [endpoint] = await newServer().bind(LOOPBACK, { transport: server.factory });
    const caller = track(await connect(endpoint!, { transport: client.factory, heartbeatMs: null }));
    expect(await caller.call("add", [20, 22])).toBe(42);
    expect(server.opens).toEqual(["router bind"]);
    expect(client.opens).toEqual(["dealer connect"]);
  });

  it("server.connect serves a ROUTER that connects to a bound DEALER", async () => {
    const dealer = await make().open("dealer", "bind", LOOPBACK);
    const caller = track(createClient({ transport: dealer, heartbeatMs: null }));
    const server = recording(make());
    await newServer().connect(dealer.endpoints[0]!, { transport: server.factory });
    expect(server.opens).toEqual(["router connect"]);
    expect(await caller.call("add", [1, 2])).toBe(3);
  });

  it("the pool opens each connection with it", async () => {
    const [endpoint] = await newServer().bind(LOOPBACK, { transport: make() });
    const client = recording(make());
    const pool = track(createPool<{ add(a: number, b: number): number }>({ endpoints: endpoint!, max: 2, transport: client.factory }));
    const sums = await Promise.all([pool.call("add", [1, 1]), pool.call("add", [2, 2])]);
    expect(sums).toEqual([2, 4]);
    expect(client.opens.length).toBeGreaterThanOrEqual(1);
    expect(new Set(client.opens)).toEqual(new Set(["dealer connect"]));
  });

  it("push -> pull: bindPuller and connectPusher open their sockets with it", async () => {
    const factory = recording(make());
    const received: unknown[][] = [];
    let done!: () => void;
    const all = new Promise<void>((resolve) => (done = resolve));
    const record = (...args: unknown[]): void => {
      received.push(args);
      if (received.length === 2) done();
    };
    const puller = track(await bindPuller(LOOPBACK, { echo: record }, { transport: factory.factory }));
    const pusher = track(await connectPusher(puller.endpoints[0]!, { transport: factory.factory }));
    pusher.send("echo", ["one"]);
    pusher.send("echo", ["two", 2]);
    await all;
    expect(received).toEqual([["one"], ["two", 2]]);
    expect(factory.opens).toEqual(["pull bind", "push connect"]);
  });

  it("pub -> sub: bindPublisher and connectSubscriber open their sockets with it", async () => {
    const factory = recording(make());
    const { listener, got } = firstEvent();
    const publisher = track(await bindPublisher(LOOPBACK, { transport: factory.factory }));
    track(await connectSubscriber(publisher.endpoints[0]!, listener, { transport: factory.factory }));
    expect(factory.opens).toEqual(["pub bind", "sub connect"]);
    // A SUB misses what was published before its subscription reached the PUB (docs/protocol §6.4):
    // publish until one arrives, each round waiting for the delivery or a short tick.
    let event: Event | undefined;
    void got.then((value) => (event = value));
    while (event === undefined) {
      publisher.send("add", [1, 2]);
      await Promise.race([got, new Promise((resolve) => setTimeout(resolve, 10))]);
    }
    expect(event.name).toBe("add");
    expect(event.args).toEqual([1, 2]);
  });

  it("the factory's maxMessageSize wins over the caller's maxMessageBytes, which it takes otherwise", async () => {
    const seen: (number | undefined)[] = [];
    const spy: TransportFactory = {
      name: "spy",
      open: (kind, how, endpoint, defaults) => {
        seen.push(defaults?.maxMessageSize);
        return make().open(kind, how, endpoint, defaults);
      },
    };
    const registry = createRegistry();
    registry.register((size: number) => new Uint8Array(size), { name: "blob", args: ["size"] });
    const server = track(createServer(registry, { heartbeatMs: null, maxMessageBytes: 4096 }));
    const [endpoint] = await server.bind(LOOPBACK, { transport: spy });
    const small = track(await connect(endpoint!, { transport: spy, heartbeatMs: null, maxMessageBytes: 2048 }));
    expect(seen).toEqual([4096, 2048]);
    expect(await small.call("blob", [100])).toEqual(new Uint8Array(100));
  });
});

describe("the transport option refuses what is not a factory", () => {
  const HOW_TO =
    "pass a transport factory: transport: zmtp({ ...options }) from @zrpc/transport-zmtp (the default) " +
    "or transport: zeromq({ ...options }) from @zrpc/transport-zeromq";

  it("a transport name, everywhere, with what to pass instead", async () => {
    const name = { transport: "zeromq" } as never;
    await expect(connect("tcp://127.0.0.1:1", name)).rejects.toThrow(
      new TypeError(`connect(): transport takes a factory, not the name "zeromq": ${HOW_TO}`),
    );
    await expect(newServer().bind(LOOPBACK, name)).rejects.toThrow(`server.bind(): transport takes a factory, not the name "zeromq"`);
    await expect(newServer().connect("tcp://127.0.0.1:1", name)).rejects.toThrow(`server.connect(): transport takes a factory`);
    await expect(connectPusher("tcp://127.0.0.1:1", name)).rejects.toThrow(`connectPusher(): transport takes a factory`);
    await expect(bindPuller(LOOPBACK, {}, name)).rejects.toThrow(`bindPuller(): transport takes a factory`);
    expect(() => createPool({ endpoints: "tcp://127.0.0.1:1", transport: "zmtp" } as never)).toThrow(
      `createPool(): transport takes a factory, not the name "zmtp"`,
    );
  });

  it("stray socket options and the former option bags", async () => {
    await expect(connect("tcp://127.0.0.1:1", { zeromq: { linger: 0 } } as never)).rejects.toThrow(
      new TypeError(`connect(): unknown option zeromq; socket options go to the transport factory: ${HOW_TO}`),
    );
    await expect(newServer().bind(LOOPBACK, { linger: 0, zmtp: {} } as never)).rejects.toThrow(
      new TypeError(`server.bind(): unknown options linger, zmtp; socket options go to the transport factory: ${HOW_TO}`),
    );
    await expect(bindPuller(LOOPBACK, {}, { linger: 0 } as never)).rejects.toThrow(/^bindPuller\(\): unknown option linger;/);
    await expect(connectPusher("tcp://127.0.0.1:1", { zmtp: {} } as never)).rejects.toThrow(/^connectPusher\(\): unknown option zmtp;/);
    expect(() => createPool({ endpoints: "tcp://127.0.0.1:1", zeromq: { curve: {} } } as never)).toThrow(
      /^createPool\(\): unknown option zeromq; socket options go to the transport factory/,
    );
    await expect(connect("tcp://127.0.0.1:1", { transport: { name: "half" } } as never)).rejects.toThrow(
      /transport must be a transport factory \(an object with an open\(\) method\)/,
    );
  });

  it("createClient takes an opened transport, and says so when given a factory", () => {
    expect(() => createClient({ transport: zmtp() as never })).toThrow(
      new TypeError(
        "createClient takes an opened transport, not a transport factory: use connect(endpoint, { transport: factory }) to open one from a factory",
      ),
    );
  });

  it("the factories take no endpoints of their own", () => {
    expect(() => zmtp({ bind: "tcp://127.0.0.1:*" } as never)).toThrow(/zmtp\(\) takes no bind option/);
    expect(() => zeromq({ connect: "tcp://127.0.0.1:1" } as never)).toThrow(/zeromq\(\) takes no connect option/);
  });
});
