// Real sockets: the server's ROUTER (bind(), connect(), or bindRouter() + serve()) against a raw
// zeromq.js DEALER speaking hand-encoded events.
import { afterEach, describe, expect, it } from "vitest";
import { Dealer } from "zeromq";
import { bindRouter, zeromq } from "@zrpc/transport-zeromq";
import { zmtp } from "@zrpc/transport-zmtp";
import { decodeEvent, encodeValue, newMessageId } from "@zrpc/wire";
import type { Event, MessageId } from "@zrpc/wire";
import { createRegistry, createServer } from "../src/index.js";
import type { Server } from "../src/index.js";

const opened: { close(): unknown }[] = [];

afterEach(async () => {
  for (const resource of opened.splice(0).reverse()) await resource.close();
});

function track<T extends { close(): unknown }>(resource: T): T {
  opened.push(resource);
  return resource;
}

function service() {
  const registry = createRegistry();
  registry.register(function add(a: number, b: number) {
    return a + b;
  });
  registry.register(function* range(n: number) {
    for (let i = 0; i < n; i++) yield i;
  });
  registry.register(async function sleep(ms: number) {
    await new Promise((resolve) => setTimeout(resolve, ms));
    return ms;
  });
  return registry;
}

function newServer(options = {}): Server {
  const server = createServer(service(), { logger: null, name: "TestService", ...options });
  track({ close: () => server.close(0) });
  return server;
}

/** A zeromq.js DEALER that speaks raw zerorpc events. */
class RawDealer {
  readonly socket = new Dealer({ receiveTimeout: 5_000, linger: 0 });

  send(header: Record<string, unknown>, name: string, args: unknown): Promise<void> {
    return this.socket.send(["", encodeValue([header, name, args])]);
  }

  async request(name: string, args: unknown[]): Promise<MessageId> {
    const id = newMessageId();
    await this.send({ message_id: id, v: 3 }, name, args);
    return id;
  }

  /** The next event, with the frames it came in. */
  async receive(): Promise<{ frames: Buffer[]; event: Event }> {
    const frames = await this.socket.receive();
    return { frames, event: decodeEvent(frames[frames.length - 1]!) };
  }

  /** The next event that is not a heartbeat. */
  async reply(): Promise<Event> {
    for (;;) {
      const { event } = await this.receive();
      if (event.name !== "_zpc_hb") return event;
    }
  }

  close(): void {
    this.socket.close();
  }
}

describe("over ZeroMQ", () => {
  it("bind() serves a ROUTER; replies come back as [empty, payload]", async () => {
    const server = newServer();
    const endpoints = await server.bind("tcp://127.0.0.1:*");
    expect(endpoints).toHaveLength(1);
    expect(endpoints[0]).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
    const dealer = track(new RawDealer());
    dealer.socket.connect(endpoints[0]!);
    const id = await dealer.request("add", [2, 3]);
    const { frames, event } = await dealer.receive();
    expect(frames).toHaveLength(2);
    expect(frames[0]!.length).toBe(0);
    expect(event.name).toBe("OK");
    expect(event.args).toEqual([5]);
    expect(event.header.response_to).toEqual(id);
    const ping = await dealer.request("_zerorpc_ping", []);
    const pong = await dealer.reply();
    expect(pong.header.response_to).toEqual(ping);
    expect(pong.args).toEqual([["pong", "TestService"]]);
  });

  it("streams under _zpc_more credit over a real socket", async () => {
    const server = newServer();
    const [endpoint] = await server.bind("tcp://127.0.0.1:*");
    const dealer = track(new RawDealer());
    dealer.socket.connect(endpoint!);
    const id = await dealer.request("range", [5]);
    const first = await dealer.reply();
    expect([first.name, first.args]).toEqual(["STREAM", 0]);
    await dealer.send({ message_id: newMessageId(), v: 3, response_to: id }, "_zpc_more", [100]);
    const rest: unknown[] = [];
    for (;;) {
      const event = await dealer.reply();
      rest.push([event.name, event.args]);
      if (event.name !== "STREAM") break;
    }
    expect(rest).toEqual([
      ["STREAM", 1],
      ["STREAM", 2],
      ["STREAM", 3],
      ["STREAM", 4],
      ["STREAM_DONE", null],
    ]);
  });

  it("heartbeats on an open call", async () => {
    const server = newServer({ heartbeatMs: 100 });
    const [endpoint] = await server.bind("tcp://127.0.0.1:*");
    const dealer = track(new RawDealer());
    dealer.socket.connect(endpoint!);
    const id = await dealer.request("sleep", [400]);
    const { event } = await dealer.receive();
    expect(event.name).toBe("_zpc_hb");
    expect(event.args).toEqual([0]);
    expect(event.header.response_to).toEqual(id);
  });

  it("serve() takes a ROUTER made with bindRouter()", async () => {
    const transport = await bindRouter("tcp://127.0.0.1:*");
    const server = newServer();
    server.serve(transport);
    const dealer = track(new RawDealer());
    dealer.socket.connect(transport.endpoints[0]!);
    await dealer.request("add", [1, 1]);
    expect((await dealer.reply()).args).toEqual([2]);
    await server.close(0);
    await expect(transport.closed).resolves.toBeUndefined();
  });

  it("connect() makes the server the connecting side", async () => {
    const dealer = track(new RawDealer());
    await dealer.socket.bind("tcp://127.0.0.1:*");
    const server = newServer();
    await server.connect(dealer.socket.lastEndpoint!);
    await dealer.request("add", [20, 22]);
    expect((await dealer.reply()).args).toEqual([42]);
  });

  it("close() resolves with the sockets closed; bind() afterwards rejects", async () => {
    const server = newServer();
    await server.bind("tcp://127.0.0.1:*");
    await server.close(0);
    await expect(server.closed).resolves.toBeUndefined();
    await expect(server.bind("tcp://127.0.0.1:*")).rejects.toThrow(/closed/);
    await expect(server.connect("tcp://127.0.0.1:1")).rejects.toThrow(/closed/);
  });

  it("a bind() still in progress when close() runs is closed and rejects", async () => {
    const server = newServer();
    const binding = server.bind("tcp://127.0.0.1:*");
    await server.close(0);
    await expect(binding).rejects.toThrow(/closed while binding/);
  });
});

describe("which transport bind() opens", () => {
  it("the pure-TypeScript ZMTP transport by default: its options apply, and a libzmq DEALER is served", async () => {
    const server = newServer();
    const handshakes: string[] = [];
    const [endpoint] = await server.bind("tcp://127.0.0.1:*", {
      transport: zmtp({ monitor: (event) => void (event.type === "handshake" && handshakes.push(`${event.socketType} ${event.version}`)) }),
    });
    const dealer = track(new RawDealer());
    dealer.socket.connect(endpoint!);
    await dealer.request("add", [20, 22]);
    expect((await dealer.reply()).args).toEqual([42]);
    // libzmq 4.3 speaks ZMTP 3.1 and announces itself as a DEALER.
    expect(handshakes).toEqual(["DEALER 3.1"]);
  });

  it("zeromq.js on request (transport: zeromq(...)), with its own options", async () => {
    const server = newServer();
    const [endpoint] = await server.bind("tcp://127.0.0.1:*", { transport: zeromq({ linger: 0 }) });
    const dealer = track(new RawDealer());
    dealer.socket.connect(endpoint!);
    await dealer.request("add", [1, 2]);
    expect((await dealer.reply()).args).toEqual([3]);
  });

  it("rejects socket options beside the factory, transport names and non-factories with a TypeError", async () => {
    const server = newServer();
    await expect(server.bind("tcp://127.0.0.1:*", { linger: 0 } as never)).rejects.toThrow(
      new TypeError(
        "server.bind(): unknown option linger; socket options go to the transport factory: pass a transport factory: " +
          "transport: zmtp({ ...options }) from @zrpc/transport-zmtp (the default) or transport: zeromq({ ...options }) from @zrpc/transport-zeromq",
      ),
    );
    await expect(server.connect("tcp://127.0.0.1:1", { zmtp: {}, zeromq: {} } as never)).rejects.toThrow(
      /^server\.connect\(\): unknown options zmtp, zeromq; socket options go to the transport factory/,
    );
    await expect(server.bind("tcp://127.0.0.1:*", { transport: "zmtp" } as never)).rejects.toThrow(/transport takes a factory, not the name "zmtp"/);
    await expect(server.bind("tcp://127.0.0.1:*", { transport: { name: "x" } } as never)).rejects.toThrow(/transport must be a transport factory/);
    // Nothing was bound by the refused calls: the server is still empty and usable.
    const [endpoint] = await server.bind("tcp://127.0.0.1:*");
    expect(endpoint).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
  });
});
