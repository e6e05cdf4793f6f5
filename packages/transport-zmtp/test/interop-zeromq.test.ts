// Interop with libzmq through zeromq.js (a devDependency, used by tests only), both directions.
import { Buffer } from "node:buffer";
import * as zmq from "zeromq";
import { describe, expect, it } from "vitest";
import { bindRouter, connectDealer, createZmtpTransport } from "../src/index.js";
import type { Peer } from "../src/index.js";
import { LOOPBACK, bytes, isHandshake, monitor, pattern, reader, text, track } from "./helpers.js";

const EMPTY = Buffer.alloc(0);
const MiB = 1024 * 1024;

/** A zeromq.js socket closed after the test. */
function z<T extends zmq.Socket>(socket: T): T {
  return track({ close: () => socket.close(), socket }).socket;
}

/** The message shapes every interop test sends: payload sizes around the short/long boundary and large. */
const SHAPES: { name: string; payload: Buffer }[] = [
  { name: "0-byte", payload: EMPTY },
  { name: "1-byte", payload: Buffer.from([0x7f]) },
  { name: "255-byte", payload: pattern(255, 1) },
  { name: "256-byte", payload: pattern(256, 2) },
  { name: "64 KiB", payload: pattern(65536, 3) },
  { name: "8 MiB", payload: pattern(8 * MiB, 4) },
];

/** Echoes on a zeromq.js ROUTER: [id, ..., payload] back as received. */
async function zmqEcho(router: zmq.Router, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const frames = await router.receive();
    await router.send(frames);
  }
}

describe(`interop with libzmq ${zmq.version} (zeromq.js)`, () => {
  describe("our DEALER -> libzmq ROUTER", () => {
    it("sends [empty, payload]; gets a generated 00+4-byte routing id; all shapes echo back", async () => {
      const router = z(new zmq.Router());
      await router.bind(LOOPBACK);
      const dealer = track(await connectDealer(router.lastEndpoint as string));
      const fromDealer = reader(dealer);
      for (const shape of SHAPES) dealer.send(undefined, shape.payload);
      for (const shape of SHAPES) {
        const [id, delimiter, payload, ...rest] = await router.receive();
        expect(rest).toEqual([]);
        expect(id).toHaveLength(5);
        expect(id?.[0]).toBe(0);
        expect(delimiter).toEqual(EMPTY);
        expect(payload?.equals(shape.payload), shape.name).toBe(true);
        await router.send([id as Buffer, EMPTY, payload as Buffer]);
      }
      for (const shape of SHAPES) {
        const reply = await fromDealer.next();
        expect(Buffer.from(reply.payload).equals(shape.payload), shape.name).toBe(true);
      }
    });

    it("sendChunks: several buffers go out as one frame, byte-identical to their concatenation, both ways", async () => {
      const router = z(new zmq.Router());
      await router.bind(LOOPBACK);
      const dealer = track(await connectDealer(router.lastEndpoint as string));
      const fromDealer = reader(dealer);
      const shapes: Buffer[][] = [
        [pattern(10, 1), pattern(100_000, 2), pattern(3, 3)],
        [pattern(1, 4), pattern(2 * MiB, 5)],
        [EMPTY, pattern(300, 6), EMPTY],
        [pattern(20_000, 7), pattern(17_000, 8), pattern(64, 9)],
      ];
      for (const chunks of shapes) dealer.sendChunks(undefined, chunks);
      for (const chunks of shapes) {
        const [id, delimiter, payload, ...rest] = await router.receive();
        expect(rest).toEqual([]);
        expect(delimiter).toEqual(EMPTY);
        expect(payload?.equals(Buffer.concat(chunks))).toBe(true);
        await router.send([id as Buffer, EMPTY, payload as Buffer]);
      }
      for (const chunks of shapes) expect(Buffer.from((await fromDealer.next()).payload).equals(Buffer.concat(chunks))).toBe(true);
      expect(() => dealer.sendChunks(undefined, ["not bytes" as unknown as Uint8Array])).toThrow(TypeError);
    });

    it("announces its routingId as Identity", async () => {
      const router = z(new zmq.Router());
      await router.bind(LOOPBACK);
      const dealer = track(await connectDealer(router.lastEndpoint as string, { routingId: "our-dealer" }));
      dealer.send(undefined, bytes("who"));
      const [id] = await router.receive();
      expect(id?.toString()).toBe("our-dealer");
    });

    it("keeps 3,000 messages in flight in order", async () => {
      const router = z(new zmq.Router());
      await router.bind(LOOPBACK);
      const dealer = track(await connectDealer(router.lastEndpoint as string));
      const echo = zmqEcho(router, 3000);
      for (let i = 0; i < 3000; i++) dealer.send(undefined, bytes(`n${i}`));
      const replies = await reader(dealer).take(3000);
      await echo;
      expect(replies.map((reply) => text(reply.payload))).toEqual(Array.from({ length: 3000 }, (_, i) => `n${i}`));
    });

    it("several of our DEALERs on one libzmq ROUTER each get only their replies", async () => {
      const router = z(new zmq.Router());
      await router.bind(LOOPBACK);
      const dealers = await Promise.all([0, 1, 2].map(() => connectDealer(router.lastEndpoint as string).then(track)));
      const echo = zmqEcho(router, 300);
      dealers.forEach((dealer, d) => {
        for (let i = 0; i < 100; i++) dealer.send(undefined, bytes(`${d}/${i}`));
      });
      for (const [d, dealer] of dealers.entries()) {
        const replies = await reader(dealer).take(100);
        expect(replies.map((reply) => text(reply.payload))).toEqual(Array.from({ length: 100 }, (_, i) => `${d}/${i}`));
      }
      await echo;
    });

    it("splits requests round-robin over two libzmq ROUTERs", async () => {
      const a = z(new zmq.Router());
      const b = z(new zmq.Router());
      await a.bind(LOOPBACK);
      await b.bind(LOOPBACK);
      const events = monitor();
      const dealer = track(await createZmtpTransport("dealer", { connect: [a.lastEndpoint as string, b.lastEndpoint as string], monitor: events.listener }));
      await events.waitForCount(isHandshake, 2);
      for (let i = 0; i < 10; i++) dealer.send(undefined, bytes(String(i)));
      const take = async (router: zmq.Router): Promise<string[]> => {
        const got: string[] = [];
        for (let i = 0; i < 5; i++) got.push((await router.receive())[2]?.toString() ?? "");
        return got;
      };
      const [fromA, fromB] = await Promise.all([take(a), take(b)]);
      expect([...fromA, ...fromB].sort()).toEqual(Array.from({ length: 10 }, (_, i) => String(i)).sort());
    });

    it("reconnects when the libzmq ROUTER restarts on the same port", async () => {
      const first = new zmq.Router();
      await first.bind(LOOPBACK);
      const endpoint = first.lastEndpoint as string;
      const events = monitor();
      const dealer = track(await connectDealer(endpoint, { monitor: events.listener }));
      dealer.send(undefined, bytes("before"));
      expect((await first.receive())[2]?.toString()).toBe("before");
      first.close();
      await events.waitFor((event) => event.type === "disconnect");
      const mark = events.events.length;
      const second = z(new zmq.Router());
      await second.bind(endpoint);
      await events.waitFor(isHandshake, mark);
      dealer.send(undefined, bytes("after"));
      const [id, , payload] = await second.receive();
      expect(payload?.toString()).toBe("after");
      await second.send([id as Buffer, EMPTY, bytes("welcome back")]);
      expect(text((await reader(dealer).next()).payload)).toBe("welcome back");
    });

    it("answers libzmq's PINGs (heartbeatInterval 100 ms, timeout 1 s) and stays connected past the timeout", async () => {
      // Generous timeout: a stalled test process must not trip it. 15 PINGs span 1.5 s, more than
      // the timeout, so the connection survives only because we answer.
      const router = z(new zmq.Router({ heartbeatInterval: 100, heartbeatTimeout: 1000, heartbeatTimeToLive: 2000 }));
      await router.bind(LOOPBACK);
      let disconnects = 0;
      router.events.on("disconnect", () => (disconnects += 1));
      const events = monitor();
      const dealer = track(await connectDealer(router.lastEndpoint as string, { monitor: events.listener }));
      await events.waitForCount((event) => event.type === "ping", 15);
      expect(disconnects).toBe(0);
      expect(events.events.filter((event) => event.type === "disconnect")).toEqual([]);
      dealer.send(undefined, bytes("alive"));
      expect((await router.receive())[2]?.toString()).toBe("alive");
    });

    it("pings libzmq (heartbeatMs) and gets PONGs", async () => {
      const router = z(new zmq.Router());
      await router.bind(LOOPBACK);
      const events = monitor();
      track(await connectDealer(router.lastEndpoint as string, { heartbeatMs: 30, heartbeatTimeoutMs: 1000, monitor: events.listener }));
      await events.waitForCount((event) => event.type === "pong", 5);
      expect(events.events.filter((event) => event.type === "disconnect")).toEqual([]);
    });
  });

  describe("libzmq DEALER -> our ROUTER", () => {
    it("delivers [empty, payload] with a generated routing id; all shapes echo back", async () => {
      const router = track(await bindRouter(LOOPBACK));
      const dealer = z(new zmq.Dealer());
      dealer.connect(router.endpoints[0] as string);
      const fromRouter = reader(router);
      for (const shape of SHAPES) await dealer.send([EMPTY, shape.payload]);
      for (const shape of SHAPES) {
        const request = await fromRouter.next();
        expect(Buffer.from(request.payload).equals(shape.payload), shape.name).toBe(true);
        expect(request.peer.envelope).toHaveLength(1);
        expect(request.peer.envelope[0]?.[0]).toBe(0);
        router.send(request.peer, request.payload);
      }
      for (const shape of SHAPES) {
        const [delimiter, payload, ...rest] = await dealer.receive();
        expect(rest).toEqual([]);
        expect(delimiter).toEqual(EMPTY);
        expect(payload?.equals(shape.payload), shape.name).toBe(true);
      }
    });

    it("uses a libzmq DEALER's routing id (Identity property) as envelope", async () => {
      const router = track(await bindRouter(LOOPBACK));
      const dealer = z(new zmq.Dealer({ routingId: "py-client-1" }));
      dealer.connect(router.endpoints[0] as string);
      await dealer.send([EMPTY, bytes("hi")]);
      const request = await reader(router).next();
      expect(text(request.peer.envelope[0] as Uint8Array)).toBe("py-client-1");
      router.send(request.peer, bytes("hello py-client-1"));
      expect((await dealer.receive())[1]?.toString()).toBe("hello py-client-1");
    });

    it("echoes extra envelope frames back (zerorpc-python's rule), and one-frame requests get [empty, reply]", async () => {
      const router = track(await bindRouter(LOOPBACK));
      const dealer = z(new zmq.Dealer());
      dealer.connect(router.endpoints[0] as string);
      const fromRouter = reader(router);
      await dealer.send([bytes("hop"), EMPTY, bytes("deep")]);
      const deep = await fromRouter.next();
      expect(deep.peer.envelope.map((frame) => Buffer.from(frame).toString("latin1")).slice(1)).toEqual(["hop"]);
      router.send(deep.peer, bytes("up"));
      expect((await dealer.receive()).map(String)).toEqual(["hop", "", "up"]);
      await dealer.send(bytes("bare"));
      const bare = await fromRouter.next();
      expect(text(bare.payload)).toBe("bare");
      router.send(bare.peer, bytes("dressed"));
      expect((await dealer.receive()).map(String)).toEqual(["", "dressed"]);
    });

    it("accepts a 40-frame message and closes a peer over maxFramesPerMessage (64)", async () => {
      const errors: Error[] = [];
      const events = monitor();
      const router = track(await bindRouter(LOOPBACK, { onError: (error) => errors.push(error), monitor: events.listener }));
      const dealer = z(new zmq.Dealer({ reconnectInterval: -1 }));
      dealer.connect(router.endpoints[0] as string);
      await dealer.send([...Array.from({ length: 39 }, (_, i) => bytes(`f${i}`)), bytes("last")]);
      const request = await reader(router).next();
      expect(text(request.payload)).toBe("last");
      expect(request.peer.envelope).toHaveLength(39);
      await dealer.send(Array.from({ length: 70 }, () => EMPTY));
      await events.waitFor((event) => event.type === "disconnect");
      expect(errors[0]).toMatchObject({ code: "limit" });
    });

    it("keeps 3,000 messages in flight in order, from three libzmq DEALERs, each getting only its replies", async () => {
      const router = track(await bindRouter(LOOPBACK));
      router.onMessage((peer: Peer, payload) => router.send(peer, payload));
      const dealers = [0, 1, 2].map(() => z(new zmq.Dealer()));
      for (const dealer of dealers) dealer.connect(router.endpoints[0] as string);
      await Promise.all(
        dealers.map(async (dealer, d) => {
          const count = d === 0 ? 3000 : 500;
          const sending = (async () => {
            for (let i = 0; i < count; i++) await dealer.send([EMPTY, bytes(`${d}:${i}`)]);
          })();
          for (let i = 0; i < count; i++) {
            const [, payload] = await dealer.receive();
            expect(payload?.toString()).toBe(`${d}:${i}`);
          }
          await sending;
        }),
      );
    });

    it("pings a libzmq DEALER (heartbeatMs) and answers its PINGs", async () => {
      const events = monitor();
      const router = track(await bindRouter(LOOPBACK, { heartbeatMs: 30, heartbeatTimeoutMs: 1000, monitor: events.listener }));
      const dealer = z(new zmq.Dealer({ heartbeatInterval: 50, heartbeatTimeout: 1000 }));
      dealer.connect(router.endpoints[0] as string);
      await events.waitForCount((event) => event.type === "pong", 5);
      await events.waitForCount((event) => event.type === "ping", 5);
      expect(events.events.filter((event) => event.type === "disconnect")).toEqual([]);
      expect(router.peers).toBe(1);
    });

    it("refuses a libzmq PUSH with an ERROR command (incompatible Socket-Type)", async () => {
      const errors: Error[] = [];
      const events = monitor();
      const router = track(await bindRouter(LOOPBACK, { onError: (error) => errors.push(error), monitor: events.listener }));
      const push = z(new zmq.Push({ reconnectInterval: -1 }));
      push.connect(router.endpoints[0] as string);
      await events.waitFor((event) => event.type === "disconnect");
      expect(errors[0]).toMatchObject({ code: "protocol" });
      expect(errors[0]?.message).toContain("PUSH");
    });
  });

  describe("PUSH/PULL", () => {
    it("our PUSH -> libzmq PULL", async () => {
      const pull = z(new zmq.Pull());
      await pull.bind(LOOPBACK);
      const push = track(await createZmtpTransport("push", { connect: pull.lastEndpoint as string }));
      for (const shape of SHAPES) push.send(undefined, shape.payload);
      for (const shape of SHAPES) {
        const frames = await pull.receive();
        expect(frames).toHaveLength(1);
        expect(frames[0]?.equals(shape.payload), shape.name).toBe(true);
      }
    });

    it("libzmq PUSH -> our PULL", async () => {
      const pull = track(await createZmtpTransport("pull", { bind: LOOPBACK }));
      const push = z(new zmq.Push());
      push.connect(pull.endpoints[0] as string);
      for (const shape of SHAPES) await push.send(shape.payload);
      const fromPull = reader(pull);
      for (const shape of SHAPES) expect(Buffer.from((await fromPull.next()).payload).equals(shape.payload), shape.name).toBe(true);
    });
  });

  describe("PUB/SUB", () => {
    it("our PUB -> libzmq SUB: libzmq's subscription arrives, messages are filtered by prefix", async () => {
      const events = monitor();
      const pub = track(await createZmtpTransport("pub", { bind: LOOPBACK, monitor: events.listener }));
      const sub = z(new zmq.Subscriber());
      sub.subscribe("a");
      sub.connect(pub.endpoints[0] as string);
      const subscribed = (await events.waitFor((event) => event.type === "subscribe")) as { topic: Uint8Array };
      expect(text(subscribed.topic)).toBe("a");
      for (const topic of ["b0", "a1", "b1", "a2"]) pub.send(undefined, bytes(topic));
      expect((await sub.receive()).map(String)).toEqual(["a1"]);
      expect((await sub.receive()).map(String)).toEqual(["a2"]);
      sub.unsubscribe("a");
      await events.waitFor((event) => event.type === "cancel");
    });

    it("libzmq XPUB/PUB -> our SUB: our SUBSCRIBE / CANCEL reach libzmq, messages arrive", async () => {
      const xpub = z(new zmq.XPublisher());
      await xpub.bind(LOOPBACK);
      const sub = track(await createZmtpTransport("sub", { connect: xpub.lastEndpoint as string, subscribe: ["t"] }));
      const [subscription] = await xpub.receive();
      expect(subscription).toEqual(Buffer.from("\x01t", "latin1"));
      await xpub.send(bytes("u-no"));
      await xpub.send(bytes("t-yes"));
      expect(text((await reader(sub).next()).payload)).toBe("t-yes");
      sub.unsubscribe("t");
      const [cancel] = await xpub.receive();
      expect(cancel).toEqual(Buffer.from("\x00t", "latin1"));
    });

    it("libzmq PUB -> our SUB (everything, the zerorpc default)", async () => {
      const pub = z(new zmq.Publisher());
      await pub.bind(LOOPBACK);
      const events = monitor();
      const sub = track(await createZmtpTransport("sub", { connect: pub.lastEndpoint as string, monitor: events.listener }));
      await events.waitFor(isHandshake);
      // libzmq applies the subscription once its I/O thread read it: publish until one arrives.
      const fromSub = reader(sub);
      const first = fromSub.next();
      let arrived = false;
      void first.then(() => (arrived = true));
      for (let i = 0; !arrived; i++) {
        await pub.send(bytes(`m${i}`));
        await new Promise((resolve) => setImmediate(resolve));
      }
      expect(text((await first).payload)).toMatch(/^m\d+$/);
    });
  });
});
