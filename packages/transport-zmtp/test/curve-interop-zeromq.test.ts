// ZMTP-CURVE interop with libzmq through zeromq.js (a devDependency, used by tests only), both
// directions: our CURVE client against libzmq CURVE servers (a ZAP handler written here serves as
// libzmq's allow-list) and libzmq CURVE clients against our CURVE server. libzmq's socket events
// show what libzmq made of each handshake.
import { Buffer } from "node:buffer";
import * as zmq from "zeromq";
import { z85Decode, z85Encode } from "@zrpc/channel";
import { describe, expect, it } from "vitest";
import { bindRouter, connectDealer, createZmtpTransport, curveKeyPair } from "../src/index.js";
import type { CurveKeyPair } from "../src/index.js";
import { LOOPBACK, authFailures, bytes, monitor, pattern, reader, text, track } from "./helpers.js";

const EMPTY = Buffer.alloc(0);
const MiB = 1024 * 1024;
const BURST = 10_000;

const SHAPES: { name: string; payload: Buffer }[] = [
  { name: "0-byte", payload: EMPTY },
  { name: "1-byte", payload: Buffer.from([0x7f]) },
  { name: "255-byte", payload: pattern(255, 1) },
  { name: "256-byte", payload: pattern(256, 2) },
  { name: "64 KiB", payload: pattern(65536, 3) },
  { name: "8 MiB", payload: pattern(8 * MiB, 4) },
];

/** A zeromq.js socket (or context helper) closed after the test. */
function z<T extends { close(): unknown }>(socket: T): T {
  return track({ close: () => socket.close(), socket }).socket;
}

type HandshakeEvent = "handshake" | "handshake:error:auth" | "handshake:error:protocol" | "handshake:error:other";

/** Records a zeromq.js socket's handshake events; `first(type)` resolves with the first of a type (past or future). */
function handshakes(socket: zmq.Socket): { types: HandshakeEvent[]; first: (type: HandshakeEvent | "handshake:error") => Promise<zmq.Event> } {
  const types: HandshakeEvent[] = [];
  const seen: zmq.Event[] = [];
  const waiting: { prefix: string; resolve: (event: zmq.Event) => void }[] = [];
  const record = (event: zmq.Event): void => {
    types.push(event.type as HandshakeEvent);
    seen.push(event);
    for (const entry of [...waiting]) {
      if (event.type.startsWith(entry.prefix)) {
        waiting.splice(waiting.indexOf(entry), 1);
        entry.resolve(event);
      }
    }
  };
  for (const type of ["handshake", "handshake:error:auth", "handshake:error:protocol", "handshake:error:other"] as const) socket.events.on(type, record);
  return {
    types,
    first: (prefix) => {
      const found = seen.find((event) => event.type.startsWith(prefix));
      return found !== undefined ? Promise.resolve(found) : new Promise((resolve) => waiting.push({ prefix, resolve }));
    },
  };
}

/** The HTTP-like status libzmq gave a handshake:error:auth event (400 for a refused key). */
function authStatus(event: zmq.Event): number | undefined {
  return (event as { error?: { status?: number } }).error?.status;
}

/**
 * libzmq's allow-list: a ZAP handler (RFC 27) on `context`, answering 200 for the CURVE keys in
 * `allowed` and 400 for any other. Bind it before the server socket takes connections.
 */
async function zapAllowList(context: zmq.Context, allowed: readonly string[]): Promise<void> {
  const handler = z(new zmq.Router({ context, linger: 0 }));
  await handler.bind("inproc://zeromq.zap.01");
  void (async () => {
    for (;;) {
      let frames: Buffer[];
      try {
        frames = await handler.receive();
      } catch {
        return; // closed after the test
      }
      const [routingId, delimiter, , requestId, , , , mechanism, credential] = frames;
      const key = mechanism?.toString("latin1") === "CURVE" && credential?.length === 32 ? z85Encode(credential) : "";
      const ok = allowed.includes(key);
      try {
        await handler.send([routingId ?? EMPTY, delimiter ?? EMPTY, "1.0", requestId ?? EMPTY, ok ? "200" : "400", ok ? "OK" : "not allowed", ok ? key : "", ""]);
      } catch {
        return;
      }
    }
  })();
}

/** A libzmq CURVE server socket with `keys`, in a context of its own (for its ZAP handler), bound on loopback. */
async function zmqServer<T extends zmq.Router | zmq.Pull>(make: (options: { context: zmq.Context; curveServer: true; curveSecretKey: string }) => T, keys: CurveKeyPair, allowed?: readonly string[]): Promise<T> {
  const context = new zmq.Context();
  if (allowed !== undefined) await zapAllowList(context, allowed);
  const socket = z(make({ context, curveServer: true, curveSecretKey: keys.secretKey }));
  await socket.bind(LOOPBACK);
  return socket;
}

/** Echoes on a zeromq.js ROUTER: `count` messages back as received. */
async function zmqEcho(router: zmq.Router, count: number): Promise<void> {
  for (let i = 0; i < count; i++) await router.send(await router.receive());
}

describe(`ZMTP-CURVE interop with libzmq ${zmq.version} (zeromq.js)`, { timeout: 60_000 }, () => {
  const server = curveKeyPair();
  const client = curveKeyPair();
  const stranger = curveKeyPair();

  describe("our CURVE client -> libzmq CURVE server", () => {
    it(`DEALER -> ROUTER behind a ZAP allow-list: every shape up to 8 MiB, a 4-frame reply, ${BURST} in order`, async () => {
      const router = await zmqServer((options) => new zmq.Router(options), server, [client.publicKey]);
      const events = handshakes(router);
      const dealer = track(await connectDealer(router.lastEndpoint as string, { curve: { serverKey: server.publicKey, ...client } }));
      const fromDealer = reader(dealer);
      for (const shape of SHAPES) dealer.send(undefined, shape.payload);
      for (const shape of SHAPES) {
        const [id, delimiter, payload, ...rest] = await router.receive();
        expect(rest).toEqual([]);
        expect(delimiter).toEqual(EMPTY);
        expect(payload?.equals(shape.payload), shape.name).toBe(true);
        await router.send([id as Buffer, EMPTY, payload as Buffer]);
      }
      for (const shape of SHAPES) expect(Buffer.from((await fromDealer.next()).payload).equals(shape.payload), shape.name).toBe(true);
      dealer.send(undefined, bytes("multi"));
      const [id] = await router.receive();
      await router.send([id as Buffer, bytes("x"), bytes("y"), EMPTY, pattern(3000, 5)]);
      expect(Buffer.from((await fromDealer.next()).payload).equals(pattern(3000, 5))).toBe(true);
      const echo = zmqEcho(router, BURST);
      for (let i = 0; i < BURST; i++) dealer.send(undefined, bytes(`n${i}`));
      const replies = await fromDealer.take(BURST);
      await echo;
      expect(replies.map((reply) => text(reply.payload))).toEqual(Array.from({ length: BURST }, (_, i) => `n${i}`));
      expect(events.types).toEqual(["handshake"]);
    });

    it(`PUSH -> PULL: every shape, then ${BURST} in order`, async () => {
      const pull = await zmqServer((options) => new zmq.Pull(options), server);
      const push = track(await createZmtpTransport("push", { connect: pull.lastEndpoint as string, curve: { serverKey: server.publicKey } }));
      for (const shape of SHAPES) push.send(undefined, shape.payload);
      for (let i = 0; i < BURST; i++) push.send(undefined, bytes(`n${i}`));
      for (const shape of SHAPES) {
        const frames = await pull.receive();
        expect(frames).toHaveLength(1);
        expect(frames[0]?.equals(shape.payload), shape.name).toBe(true);
      }
      for (let i = 0; i < BURST; i++) expect((await pull.receive())[0]?.toString()).toBe(`n${i}`);
    });

    it("ZMTP heartbeats inside the boxes: we answer libzmq's PINGs, libzmq answers ours, the connection stays up", async () => {
      const router = z(new zmq.Router({ curveServer: true, curveSecretKey: server.secretKey, heartbeatInterval: 50, heartbeatTimeout: 2000, heartbeatTimeToLive: 4000 }));
      await router.bind(LOOPBACK);
      let disconnects = 0;
      router.events.on("disconnect", () => (disconnects += 1));
      const events = monitor();
      const dealer = track(
        await connectDealer(router.lastEndpoint as string, {
          curve: { serverKey: server.publicKey, ...client },
          heartbeatMs: 50,
          heartbeatTimeoutMs: 2000,
          monitor: events.listener,
        }),
      );
      await events.waitForCount((event) => event.type === "ping", 10);
      await events.waitForCount((event) => event.type === "pong", 10);
      expect(events.events.filter((event) => event.type === "disconnect")).toEqual([]);
      expect(disconnects).toBe(0);
      dealer.send(undefined, bytes("alive"));
      const [id, , payload] = await router.receive();
      expect(payload?.toString()).toBe("alive");
      await router.send([id as Buffer, EMPTY, bytes("still encrypted")]);
      expect(text((await reader(dealer).next()).payload)).toBe("still encrypted");
    });

    it("a key outside the ZAP allow-list is refused: libzmq reports auth 400, we report kind auth and close", async () => {
      const router = await zmqServer((options) => new zmq.Router(options), server, [client.publicKey]);
      const events = handshakes(router);
      const seen = authFailures();
      const refused = track(
        await connectDealer(router.lastEndpoint as string, {
          curve: { serverKey: server.publicKey, ...stranger },
          onAuthFailure: seen.push,
          closeOnAuthFailure: true,
        }),
      );
      refused.send(undefined, bytes("let me in"));
      expect(authStatus(await events.first("handshake:error:auth"))).toBe(400);
      expect((await seen.first()).kind).toBe("auth");
      expect(await refused.closed).toBeInstanceOf(Error);
      const allowed = track(await connectDealer(router.lastEndpoint as string, { curve: { serverKey: server.publicKey, ...client } }));
      allowed.send(undefined, bytes("allowed"));
      // The refused client's message never arrived: the first one is the allowed client's.
      expect((await router.receive())[2]?.toString()).toBe("allowed");
      expect(events.types.filter((type) => type === "handshake")).toEqual(["handshake"]);
    });

    it("a wrong server key: libzmq reports a protocol error, we report the failure and close cleanly", async () => {
      const router = await zmqServer((options) => new zmq.Router(options), stranger);
      const events = handshakes(router);
      const seen = authFailures();
      const dealer = await connectDealer(router.lastEndpoint as string, { curve: { serverKey: server.publicKey, ...client }, onAuthFailure: seen.push });
      track(dealer);
      dealer.send(undefined, bytes("for the real server only"));
      await events.first("handshake:error:protocol");
      expect(["other", "protocol"]).toContain((await seen.first()).kind);
      await dealer.close();
      expect(events.types).not.toContain("handshake");
    });
  });

  describe("libzmq CURVE client -> our CURVE server", () => {
    /** A zeromq.js CURVE client of `serverKey` with key pair `keys`. */
    function zmqClient<T extends zmq.Dealer | zmq.Push>(make: (options: { curveServerKey: string; curvePublicKey: string; curveSecretKey: string }) => T, serverKey: string, keys: CurveKeyPair): T {
      return z(make({ curveServerKey: serverKey, curvePublicKey: keys.publicKey, curveSecretKey: keys.secretKey }));
    }

    it(`DEALER -> our ROUTER (allowedClientKeys as a function): every shape up to 8 MiB, 4 frames each way, ${BURST} in order`, async () => {
      const seen = authFailures();
      const router = track(
        await bindRouter(LOOPBACK, { curve: { ...server, allowedClientKeys: (key: string) => key === client.publicKey }, onAuthFailure: seen.push }),
      );
      router.onMessage((peer, payload) => router.send(peer, payload));
      const dealer = zmqClient((options) => new zmq.Dealer(options), server.publicKey, client);
      const events = handshakes(dealer);
      dealer.connect(router.endpoints[0] as string);
      for (const shape of SHAPES) await dealer.send([EMPTY, shape.payload]);
      for (const shape of SHAPES) {
        const [delimiter, payload, ...rest] = await dealer.receive();
        expect(rest).toEqual([]);
        expect(delimiter).toEqual(EMPTY);
        expect(payload?.equals(shape.payload), shape.name).toBe(true);
      }
      await dealer.send([bytes("hop1"), bytes("hop2"), EMPTY, pattern(1000, 6)]);
      const reply = await dealer.receive();
      expect(reply.map((frame) => frame.length)).toEqual([4, 4, 0, 1000]);
      expect(reply[3]?.equals(pattern(1000, 6))).toBe(true);
      const sending = (async () => {
        for (let i = 0; i < BURST; i++) await dealer.send([EMPTY, bytes(`n${i}`)]);
      })();
      for (let i = 0; i < BURST; i++) expect((await dealer.receive())[1]?.toString()).toBe(`n${i}`);
      await sending;
      expect(events.types).toEqual(["handshake"]);
      expect(seen.list).toEqual([]);
    });

    it("three libzmq DEALERs with their own keys (allowedClientKeys as bytes) each get only their replies", async () => {
      const pairs = [client, curveKeyPair(), curveKeyPair()];
      const router = track(await bindRouter(LOOPBACK, { curve: { ...server, allowedClientKeys: pairs.map((pair) => z85Decode(pair.publicKey)) } }));
      router.onMessage((peer, payload) => router.send(peer, payload));
      const dealers = pairs.map((pair) => zmqClient((options) => new zmq.Dealer(options), server.publicKey, pair));
      for (const dealer of dealers) dealer.connect(router.endpoints[0] as string);
      await Promise.all(
        dealers.map(async (dealer, d) => {
          const sending = (async () => {
            for (let i = 0; i < 1000; i++) await dealer.send([EMPTY, bytes(`${d}:${i}`)]);
          })();
          for (let i = 0; i < 1000; i++) expect((await dealer.receive())[1]?.toString()).toBe(`${d}:${i}`);
          await sending;
        }),
      );
    });

    it(`PUSH -> our PULL: every shape, then ${BURST} in order`, async () => {
      const pull = track(await createZmtpTransport("pull", { bind: LOOPBACK, curve: { secretKey: server.secretKey } }));
      const push = zmqClient((options) => new zmq.Push(options), server.publicKey, client);
      push.connect(pull.endpoints[0] as string);
      const sending = (async () => {
        for (const shape of SHAPES) await push.send(shape.payload);
        for (let i = 0; i < BURST; i++) await push.send(bytes(`n${i}`));
      })();
      const fromPull = reader(pull);
      for (const shape of SHAPES) expect(Buffer.from((await fromPull.next()).payload).equals(shape.payload), shape.name).toBe(true);
      const burst = await fromPull.take(BURST);
      expect(burst.map((message) => text(message.payload))).toEqual(Array.from({ length: BURST }, (_, i) => `n${i}`));
      await sending;
    });

    it("ZMTP heartbeats inside the boxes: a libzmq DEALER's PINGs are answered and it answers ours", async () => {
      const events = monitor();
      const router = track(await bindRouter(LOOPBACK, { curve: { secretKey: server.secretKey }, heartbeatMs: 50, heartbeatTimeoutMs: 2000, monitor: events.listener }));
      router.onMessage((peer, payload) => router.send(peer, payload));
      const dealer = zmqClient((options) => new zmq.Dealer({ ...options, heartbeatInterval: 50, heartbeatTimeout: 2000 }), server.publicKey, client);
      let disconnects = 0;
      dealer.events.on("disconnect", () => (disconnects += 1));
      dealer.connect(router.endpoints[0] as string);
      await events.waitForCount((event) => event.type === "pong", 10);
      await events.waitForCount((event) => event.type === "ping", 10);
      expect(events.events.filter((event) => event.type === "disconnect")).toEqual([]);
      expect(disconnects).toBe(0);
      await dealer.send([EMPTY, bytes("alive")]);
      expect((await dealer.receive())[1]?.toString()).toBe("alive");
    });

    it("a key outside allowedClientKeys: libzmq reports auth 400, we report the key; the server keeps serving", async () => {
      const seen = authFailures();
      const router = track(await bindRouter(LOOPBACK, { curve: { ...server, allowedClientKeys: [client.publicKey] }, onAuthFailure: seen.push }));
      const fromRouter = reader(router);
      const refused = zmqClient((options) => new zmq.Dealer({ ...options, reconnectInterval: -1 }), server.publicKey, stranger);
      const refusedEvents = handshakes(refused);
      refused.connect(router.endpoints[0] as string);
      await refused.send([EMPTY, bytes("let me in")]);
      expect(authStatus(await refusedEvents.first("handshake:error:auth"))).toBe(400);
      expect(await seen.first()).toMatchObject({ kind: "auth", publicKey: stranger.publicKey });
      const good = zmqClient((options) => new zmq.Dealer(options), server.publicKey, client);
      good.connect(router.endpoints[0] as string);
      await good.send([EMPTY, bytes("allowed")]);
      expect(text((await fromRouter.next()).payload)).toBe("allowed");
      expect(refusedEvents.types).not.toContain("handshake");
    });

    it("a libzmq client with a wrong server key fails its handshake; our server reports it and keeps serving", async () => {
      const seen = authFailures();
      const router = track(await bindRouter(LOOPBACK, { curve: { ...server }, onAuthFailure: seen.push }));
      router.onMessage((peer, payload) => router.send(peer, payload));
      const wrong = zmqClient((options) => new zmq.Dealer(options), stranger.publicKey, client);
      const wrongEvents = handshakes(wrong);
      wrong.connect(router.endpoints[0] as string);
      await wrong.send([EMPTY, bytes("never")]);
      // libzmq's own server hangs up on a HELLO it cannot open: its client reports
      // handshake:error:other and retries. (An ERROR command whose reason is not a ZAP status
      // would leave libzmq with a bare disconnect, no handshake event, and no more retries.)
      await wrongEvents.first("handshake:error");
      expect(["other", "protocol"]).toContain((await seen.first()).kind);
      expect(router.peers).toBe(0);
      const good = zmqClient((options) => new zmq.Dealer(options), server.publicKey, client);
      good.connect(router.endpoints[0] as string);
      await good.send([EMPTY, pattern(8 * MiB, 7)]);
      expect((await good.receive())[1]?.equals(pattern(8 * MiB, 7))).toBe(true);
      expect(wrongEvents.types).not.toContain("handshake");
    });
  });
});
