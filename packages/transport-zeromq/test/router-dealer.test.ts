import { Buffer } from "node:buffer";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Dealer, Router } from "zeromq";
import { describe, expect, it } from "vitest";
import { bindRouter, connectDealer, createZeromqTransport } from "../src/index.js";
import type { ZeromqTransport } from "../src/index.js";
import { LOOPBACK, bytes, pattern, reader, text, track } from "./helpers.js";

async function pair(): Promise<{ router: ZeromqTransport; dealer: ZeromqTransport }> {
  const router = track(await bindRouter(LOOPBACK));
  const dealer = track(await connectDealer(router.endpoints[0]!));
  return { router, dealer };
}

/** One request/reply over a router and dealer transport. */
async function roundTrip(router: ZeromqTransport, dealer: ZeromqTransport, request = "ping", reply = "pong"): Promise<void> {
  const routerIn = reader(router);
  const dealerIn = reader(dealer);
  dealer.send(undefined, bytes(request));
  const received = await routerIn.next();
  expect(text(received.payload)).toBe(request);
  router.send(received.peer, bytes(reply));
  expect(text((await dealerIn.next()).payload)).toBe(reply);
}

describe("router <-> dealer", () => {
  it("round trip: the router sees a 5-byte routing id, the reply reaches the dealer", async () => {
    const { router, dealer } = await pair();
    expect(router.kind).toBe("router");
    expect(dealer.kind).toBe("dealer");
    expect(router.endpoints[0]).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
    const routerIn = reader(router);
    const dealerIn = reader(dealer);

    dealer.send(undefined, bytes("hello"));
    const request = await routerIn.next();
    expect(text(request.payload)).toBe("hello");
    expect(request.peer.envelope).toHaveLength(1);
    expect(request.peer.envelope[0]).toHaveLength(5);
    expect(request.peer.envelope[0]![0]).toBe(0);
    expect(request.peer.key).toBe(Buffer.from(request.peer.envelope[0]!).toString("hex"));

    router.send(request.peer, bytes("world"));
    const reply = await dealerIn.next();
    expect(text(reply.payload)).toBe("world");
    expect(reply.peer).toEqual({ key: "", envelope: [] });

    // The next message from the same client yields the identical Peer object.
    dealer.send(undefined, bytes("again"));
    expect((await routerIn.next()).peer).toBe(request.peer);
  });

  it("wire frames: a raw DEALER gets exactly [empty, payload] from the router transport", async () => {
    const router = track(await bindRouter(LOOPBACK));
    const raw = track(new Dealer({ linger: 0 }));
    raw.connect(router.endpoints[0]!);
    const routerIn = reader(router);

    await raw.send(["", "request"]);
    const request = await routerIn.next();
    expect(text(request.payload)).toBe("request");
    router.send(request.peer, bytes("reply"));
    const frames = await raw.receive();
    expect(frames).toHaveLength(2);
    expect(frames[0]).toHaveLength(0);
    expect(frames[1]!.toString()).toBe("reply");
  });

  it("wire frames: a raw ROUTER gets [routing id, empty, payload] from the dealer transport", async () => {
    const raw = track(new Router({ linger: 0 }));
    await raw.bind(LOOPBACK);
    const dealer = track(await connectDealer(raw.lastEndpoint!));
    const dealerIn = reader(dealer);

    dealer.send(undefined, bytes("request"));
    const frames = await raw.receive();
    expect(frames).toHaveLength(3);
    expect(frames[0]).toHaveLength(5);
    expect(frames[1]).toHaveLength(0);
    expect(frames[2]!.toString()).toBe("request");

    // A reply with and without the delimiter both reach the dealer (docs/protocol §2.2).
    await raw.send([frames[0]!, "", "with delimiter"]);
    expect(text((await dealerIn.next()).payload)).toBe("with delimiter");
    await raw.send([frames[0]!, "without delimiter"]);
    expect(text((await dealerIn.next()).payload)).toBe("without delimiter");
  });

  it("a request without delimiter still gets [empty, reply] back", async () => {
    const router = track(await bindRouter(LOOPBACK));
    const raw = track(new Dealer({ linger: 0 }));
    raw.connect(router.endpoints[0]!);
    const routerIn = reader(router);

    await raw.send(["bare"]);
    const request = await routerIn.next();
    expect(text(request.payload)).toBe("bare");
    expect(request.peer.envelope).toHaveLength(1);
    router.send(request.peer, bytes("reply"));
    const frames = await raw.receive();
    expect(frames.map((frame) => frame.toString())).toEqual(["", "reply"]);
  });

  it("extra envelope frames come back: [hop, empty, payload] -> [hop, empty, reply]", async () => {
    const router = track(await bindRouter(LOOPBACK));
    const raw = track(new Dealer({ linger: 0 }));
    raw.connect(router.endpoints[0]!);
    const routerIn = reader(router);

    await raw.send(["hop", "", "request"]);
    const request = await routerIn.next();
    expect(text(request.payload)).toBe("request");
    expect(request.peer.envelope).toHaveLength(2);
    expect(text(request.peer.envelope[1]!)).toBe("hop");
    router.send(request.peer, bytes("reply"));
    const frames = await raw.receive();
    expect(frames.map((frame) => frame.toString())).toEqual(["hop", "", "reply"]);

    // A plain request from the same connection is a different peer (different envelope).
    await raw.send(["", "plain"]);
    const plain = await routerIn.next();
    expect(plain.peer.key).not.toBe(request.peer.key);
  });

  it("two dealers on one router each get only their own replies", async () => {
    const router = track(await bindRouter(LOOPBACK));
    const a = track(await connectDealer(router.endpoints[0]!));
    const b = track(await connectDealer(router.endpoints[0]!));
    const routerIn = reader(router);
    const aIn = reader(a);
    const bIn = reader(b);

    a.send(undefined, bytes("from a"));
    b.send(undefined, bytes("from b"));
    const requests = await routerIn.take(2);
    expect(requests.map((m) => text(m.payload)).sort()).toEqual(["from a", "from b"]);
    expect(requests[0]!.peer.key).not.toBe(requests[1]!.peer.key);
    for (const request of requests) router.send(request.peer, bytes(`reply to ${text(request.payload)}`));

    expect(text((await aIn.next()).payload)).toBe("reply to from a");
    expect(text((await bIn.next()).payload)).toBe("reply to from b");
    // Nothing else is waiting for either of them.
    a.send(undefined, bytes("a2"));
    const second = await routerIn.next();
    router.send(second.peer, bytes("only a"));
    expect(text((await aIn.next()).payload)).toBe("only a");
  });

  it("keeps order: 10,000 requests and 10,000 replies", async () => {
    const { router, dealer } = await pair();
    const count = 10_000;
    const routerIn = reader(router);
    const dealerIn = reader(dealer);
    const index = (data: Uint8Array): number => Buffer.from(data.buffer, data.byteOffset, data.byteLength).readUInt32BE(0);
    const encode = (i: number): Uint8Array => {
      const data = Buffer.alloc(4);
      data.writeUInt32BE(i);
      return data;
    };

    for (let i = 0; i < count; i++) dealer.send(undefined, encode(i));
    const server = (async () => {
      for (let i = 0; i < count; i++) {
        const request = await routerIn.next();
        expect(index(request.payload)).toBe(i);
        router.send(request.peer, encode(i + 1_000_000));
      }
    })();
    for (let i = 0; i < count; i++) {
      expect(index((await dealerIn.next()).payload)).toBe(i + 1_000_000);
    }
    await server;
  });

  it("a slow consumer loses nothing (the read loop pauses and resumes)", async () => {
    const { router, dealer } = await pair();
    const count = 3000;
    const routerIn = reader(router);
    for (let i = 0; i < count; i++) dealer.send(undefined, bytes(String(i)));
    for (let i = 0; i < count; i++) {
      expect(text((await routerIn.next()).payload)).toBe(String(i));
      // Yield to the event loop so the socket runs ahead of this consumer.
      await new Promise((resolve) => setImmediate(resolve));
    }
  });

  it("carries 8 MiB and 16 MiB payloads both ways", async () => {
    const { router, dealer } = await pair();
    const routerIn = reader(router);
    const dealerIn = reader(dealer);
    for (const [size, seed] of [
      [8 * 1024 * 1024, 1],
      [16 * 1024 * 1024, 2],
    ] as const) {
      const request = pattern(size, seed);
      dealer.send(undefined, request);
      const received = await routerIn.next();
      expect(received.payload.byteLength).toBe(size);
      expect(Buffer.from(received.payload).equals(request)).toBe(true);

      const reply = pattern(size, seed + 10);
      router.send(received.peer, reply);
      const back = await dealerIn.next();
      expect(back.payload.byteLength).toBe(size);
      expect(Buffer.from(back.payload).equals(reply)).toBe(true);
    }
  });

  it("works with the dealer bound and the router connecting", async () => {
    const dealer = track(await createZeromqTransport("dealer", { bind: LOOPBACK }));
    const router = track(await createZeromqTransport("router", { connect: dealer.endpoints[0]! }));
    // The dealer's send waits in its queue until the router has connected.
    await roundTrip(router, dealer);
  });

  it("works over ipc:// in a temporary directory", async () => {
    const dir = await mkdtemp(join(tmpdir(), "zrpc-ipc-"));
    try {
      const endpoint = `ipc://${join(dir, "server.sock")}`;
      const router = track(await bindRouter(endpoint));
      expect(router.endpoints).toEqual([endpoint]);
      const dealer = track(await connectDealer(endpoint));
      await roundTrip(router, dealer);
      await router.close();
      await dealer.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("works over inproc://", async () => {
    const router = track(await bindRouter("inproc://zrpc-transport-test"));
    expect(router.endpoints).toEqual(["inproc://zrpc-transport-test"]);
    const dealer = track(await connectDealer("inproc://zrpc-transport-test"));
    await roundTrip(router, dealer);
  });

  it("sends a chosen dealer routing id", async () => {
    const raw = track(new Router({ linger: 0 }));
    await raw.bind(LOOPBACK);
    const binary = Uint8Array.of(1, 0xff, 0x80, 7);
    const a = track(await connectDealer(raw.lastEndpoint!, { routingId: "client-1" }));
    const b = track(await connectDealer(raw.lastEndpoint!, { routingId: binary }));
    a.send(undefined, bytes("a"));
    b.send(undefined, bytes("b"));
    const seen = new Map<string, Buffer>();
    for (let i = 0; i < 2; i++) {
      const frames = await raw.receive();
      seen.set(frames[2]!.toString(), frames[0]!);
    }
    expect(seen.get("a")!.toString()).toBe("client-1");
    expect(Buffer.compare(seen.get("b")!, Buffer.from(binary))).toBe(0);
  });

  it("binds, lists and unbinds endpoints at run time", async () => {
    const router = track(await createZeromqTransport("router"));
    expect(router.endpoints).toEqual([]);
    const first = await router.bind(LOOPBACK);
    const second = await router.bind(LOOPBACK);
    expect(first).not.toBe(second);
    expect(router.endpoints).toEqual([first, second]);
    await router.unbind(first);
    expect(router.endpoints).toEqual([second]);
    await expect(router.unbind(first)).rejects.toMatchObject({ code: "bind" });
    const dealer = track(await connectDealer(second));
    await roundTrip(router, dealer);
  });
});

describe("onMessage (synchronous delivery, the channel layer's fast path)", () => {
  it("delivers every message in order, those sent before the listener was set too; the iterator is then refused", async () => {
    const router = track(await bindRouter(LOOPBACK));
    const dealer = track(await connectDealer(router.endpoints[0]!));
    const dealerIn = reader(dealer);
    // Sent before there is any consumer: it waits in the transport's queue (or in libzmq's).
    dealer.send(undefined, bytes("early"));
    const seen: string[] = [];
    let done!: () => void;
    const allSeen = new Promise<void>((resolve) => (done = resolve));
    router.onMessage((peer, payload) => {
      seen.push(text(payload));
      router.send(peer, payload);
      if (seen.length === 4) done();
    });
    expect(() => router[Symbol.asyncIterator]()).toThrow(/only one consumer/);
    expect(() => router.onMessage(() => undefined)).toThrow(/only one consumer/);
    for (const word of ["one", "two", "three"]) dealer.send(undefined, bytes(word));
    await allSeen;
    expect(seen).toEqual(["early", "one", "two", "three"]);
    const echoed: string[] = [];
    for (let i = 0; i < 4; i++) echoed.push(text((await dealerIn.next()).payload));
    expect(echoed).toEqual(["early", "one", "two", "three"]);
  });

  it("reports a throwing listener to onError and keeps reading", async () => {
    const errors: Error[] = [];
    const router = track(await bindRouter(LOOPBACK, { onError: (error) => errors.push(error) }));
    const dealer = track(await connectDealer(router.endpoints[0]!));
    const seen: string[] = [];
    let done!: () => void;
    const second = new Promise<void>((resolve) => (done = resolve));
    router.onMessage((_peer, payload) => {
      seen.push(text(payload));
      if (seen.length === 1) throw new Error("listener failed");
      done();
    });
    dealer.send(undefined, bytes("first"));
    dealer.send(undefined, bytes("second"));
    await second;
    expect(seen).toEqual(["first", "second"]);
    expect(errors.map((error) => error.message)).toEqual(["listener failed"]);
  });
});
