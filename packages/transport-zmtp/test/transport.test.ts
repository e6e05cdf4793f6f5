import { Buffer } from "node:buffer";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { connect as netConnect, createServer } from "node:net";
import type { Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ZrpcError } from "@zrpc/wire";
import { ZmtpEndpointError, ZmtpError, bindRouter, connectDealer, createZmtpTransport } from "../src/index.js";
import { frame, greeting, readyCommand } from "./codec-helpers.js";
import { LOOPBACK, bytes, isHandshake, monitor, pattern, reader, text, track } from "./helpers.js";

/** Resolves with the first error passed to an onError option. */
function errorCatcher(): { onError: (error: Error) => void; next: Promise<Error> } {
  let resolve: (error: Error) => void = () => undefined;
  const next = new Promise<Error>((done) => (resolve = done));
  return { onError: (error) => resolve(error), next };
}

/** A raw TCP client that sends `data` and collects what comes back until the server closes. */
function rawClient(endpoint: string, data: Buffer): { socket: Socket; received: Promise<Buffer> } {
  const url = new URL(endpoint.replace("tcp://", "http://"));
  const socket = netConnect({ host: url.hostname, port: Number(url.port) });
  const chunks: Buffer[] = [];
  socket.on("data", (chunk: Buffer) => chunks.push(chunk));
  socket.write(data);
  const received = new Promise<Buffer>((resolve) => socket.on("close", () => resolve(Buffer.concat(chunks))));
  socket.on("error", () => undefined);
  return { socket, received };
}

describe("request/reply between our DEALER and ROUTER", () => {
  it("round-trips with a generated 5-byte routing id (00 + 4 bytes)", async () => {
    const router = track(await bindRouter(LOOPBACK));
    const dealer = track(await connectDealer(router.endpoints[0] as string));
    const fromRouter = reader(router);
    const fromDealer = reader(dealer);
    dealer.send(undefined, bytes("ping"));
    const request = await fromRouter.next();
    expect(text(request.payload)).toBe("ping");
    expect(request.peer.envelope).toHaveLength(1);
    const id = request.peer.envelope[0] as Uint8Array;
    expect(id).toHaveLength(5);
    expect(id[0]).toBe(0);
    expect(request.peer.key).toBe(Buffer.from(id).toString("hex"));
    router.send(request.peer, bytes("pong"));
    expect(text((await fromDealer.next()).payload)).toBe("pong");
    expect(router.peers).toBe(1);
    expect(dealer.peers).toBe(1);
  });

  it("uses the DEALER's routingId as its identity", async () => {
    const router = track(await bindRouter(LOOPBACK));
    const dealer = track(await connectDealer(router.endpoints[0] as string, { routingId: "client-7" }));
    const fromRouter = reader(router);
    dealer.send(undefined, bytes("hi"));
    const request = await fromRouter.next();
    expect(text(request.peer.envelope[0] as Uint8Array)).toBe("client-7");
    expect(request.peer.key).toBe(Buffer.from("client-7").toString("hex"));
  });

  it("gives each of several DEALERs only its own replies, in order", async () => {
    const router = track(await bindRouter(LOOPBACK));
    const endpoint = router.endpoints[0] as string;
    const dealers = await Promise.all([0, 1, 2].map(() => connectDealer(endpoint).then(track)));
    const fromRouter = reader(router);
    const readers = dealers.map(reader);
    dealers.forEach((dealer, index) => {
      for (let i = 0; i < 50; i++) dealer.send(undefined, bytes(`${index}:${i}`));
    });
    // Echo server.
    void (async () => {
      for (let i = 0; i < 150; i++) {
        const message = await fromRouter.next();
        router.send(message.peer, message.payload);
      }
    })();
    for (const [index, dealerReader] of readers.entries()) {
      const replies = await dealerReader.take(50);
      expect(replies.map((reply) => text(reply.payload))).toEqual(Array.from({ length: 50 }, (_, i) => `${index}:${i}`));
    }
  });

  it("drops a reply to an unknown or gone peer silently", async () => {
    const router = track(await bindRouter(LOOPBACK));
    expect(() => router.send({ key: "00aabbccdd", envelope: [Buffer.from("00aabbccdd", "hex")] }, bytes("lost"))).not.toThrow();
    expect(() => router.send(undefined, bytes("x"))).toThrow(TypeError);
  });

  it("retries a refused connect every reconnectInterval by default, and backs off up to reconnectMaxInterval when asked", async () => {
    const probe = track(await bindRouter(LOOPBACK));
    const endpoint = probe.endpoints[0] as string;
    await probe.unbind(endpoint);
    const isRetry = (event: { type: string }): boolean => event.type === "retry";
    const delays = (events: readonly { type: string; delayMs?: number }[]): number[] =>
      events.filter(isRetry).map((event) => event.delayMs ?? Number.NaN);
    const fixed = monitor();
    track(await connectDealer(endpoint, { reconnectInterval: 20, monitor: fixed.listener }));
    await fixed.waitForCount(isRetry, 6);
    // libzmq's default: no back-off, 20 ms +-25 % every time.
    for (const delay of delays(fixed.events).slice(0, 6)) {
      expect(delay).toBeGreaterThanOrEqual(15);
      expect(delay).toBeLessThanOrEqual(25);
    }
    const backoff = monitor();
    track(await connectDealer(endpoint, { reconnectInterval: 10, reconnectMaxInterval: 80, monitor: backoff.listener }));
    await backoff.waitForCount(isRetry, 6);
    // 10, 20, 40, 80, 80, 80 ms, each +-25 %.
    const expected = [10, 20, 40, 80, 80, 80];
    delays(backoff.events)
      .slice(0, 6)
      .forEach((delay, i) => {
        expect(delay).toBeGreaterThanOrEqual(expected[i]! * 0.75);
        expect(delay).toBeLessThanOrEqual(expected[i]! * 1.25);
      });
  });

  it("queues DEALER messages until a peer connects, then delivers them in order", async () => {
    const probe = track(await bindRouter(LOOPBACK));
    const endpoint = probe.endpoints[0] as string;
    await probe.unbind(endpoint);
    const dealer = track(await connectDealer(endpoint, { reconnectInterval: 20, reconnectMaxInterval: 50 }));
    for (let i = 0; i < 100; i++) dealer.send(undefined, bytes(`m${i}`));
    expect(dealer.stats().queued).toBe(100);
    const router = track(await bindRouter(endpoint));
    const messages = await reader(router).take(100);
    expect(messages.map((message) => text(message.payload))).toEqual(Array.from({ length: 100 }, (_, i) => `m${i}`));
  });

  it("round-robins a DEALER's messages across two ROUTERs", async () => {
    const a = track(await bindRouter(LOOPBACK));
    const b = track(await bindRouter(LOOPBACK));
    const events = monitor();
    const dealer = track(await createZmtpTransport("dealer", { connect: [a.endpoints[0] as string, b.endpoints[0] as string], monitor: events.listener }));
    await events.waitForCount(isHandshake, 2);
    for (let i = 0; i < 10; i++) dealer.send(undefined, bytes(`r${i}`));
    const [fromA, fromB] = await Promise.all([reader(a).take(5), reader(b).take(5)]);
    const all = [...fromA, ...fromB].map((message) => text(message.payload)).sort();
    expect(all).toEqual(Array.from({ length: 10 }, (_, i) => `r${i}`).sort());
  });

  it("reconnects after the ROUTER restarts on the same port", async () => {
    const first = await bindRouter(LOOPBACK);
    const endpoint = first.endpoints[0] as string;
    const events = monitor();
    const dealer = track(await connectDealer(endpoint, { monitor: events.listener }));
    const fromDealer = reader(dealer);
    dealer.send(undefined, bytes("one"));
    const fromFirst = reader(first);
    const request = await fromFirst.next();
    first.send(request.peer, bytes("ack-one"));
    expect(text((await fromDealer.next()).payload)).toBe("ack-one");
    await first.close();
    await events.waitFor((event) => event.type === "disconnect");
    const second = track(await bindRouter(endpoint));
    await events.waitFor(isHandshake, events.events.findIndex((event) => event.type === "disconnect"));
    dealer.send(undefined, bytes("two"));
    const again = await reader(second).next();
    expect(text(again.payload)).toBe("two");
    second.send(again.peer, bytes("ack-two"));
    expect(text((await fromDealer.next()).payload)).toBe("ack-two");
  });

  it("delivers messages of every size intact to a connecting DEALER (read into the frame directly)", async () => {
    const router = track(await bindRouter(LOOPBACK));
    const dealer = track(await connectDealer(router.endpoints[0] as string));
    const fromRouter = reader(router);
    const fromDealer = reader(dealer);
    dealer.send(undefined, bytes("hello"));
    const { peer } = await fromRouter.next();
    const sizes = [0, 1, 255, 256, 16_383, 16_384, 16_385, 65_535, 65_536, 200_000, (1 << 20) + 3, 8 << 20];
    const payloads = sizes.map((size, i) => pattern(size, i + 1));
    for (const payload of payloads) router.send(peer, payload);
    for (const payload of payloads) {
      const received = (await fromDealer.next()).payload;
      expect(received.byteLength).toBe(payload.byteLength);
      expect(Buffer.from(received.buffer, received.byteOffset, received.byteLength).equals(payload)).toBe(true);
    }
    // And the other way round (the ROUTER reads through 'data' events).
    for (const payload of payloads) dealer.send(undefined, payload);
    for (const payload of payloads) {
      const received = (await fromRouter.next()).payload;
      expect(Buffer.from(received.buffer, received.byteOffset, received.byteLength).equals(payload)).toBe(true);
    }
  });

  it("the onMessage fast path receives synchronously and excludes the iterator", async () => {
    const router = track(await bindRouter(LOOPBACK));
    const dealer = track(await connectDealer(router.endpoints[0] as string));
    const got: string[] = [];
    let done: () => void = () => undefined;
    const all = new Promise<void>((resolve) => (done = resolve));
    router.onMessage((peer, payload) => {
      got.push(text(payload));
      router.send(peer, payload);
      if (got.length === 1000) done();
    });
    expect(() => router[Symbol.asyncIterator]()).toThrow(/only one consumer/);
    expect(() => router.onMessage(() => undefined)).toThrow(/only one consumer/);
    for (let i = 0; i < 1000; i++) dealer.send(undefined, bytes(String(i)));
    await all;
    expect(got).toEqual(Array.from({ length: 1000 }, (_, i) => String(i)));
    const echoed = await reader(dealer).take(1000);
    expect(echoed.at(-1)?.payload).toEqual(bytes("999"));
  });
});

describe("PUSH/PULL and PUB/SUB", () => {
  for (const pushBinds of [true, false]) {
    it(`PUSH -> PULL, ${pushBinds ? "push binds" : "pull binds"}`, async () => {
      const binder = track(await createZmtpTransport(pushBinds ? "push" : "pull", { bind: LOOPBACK }));
      const connector = track(await createZmtpTransport(pushBinds ? "pull" : "push", { connect: binder.endpoints[0] }));
      const [push, pull] = pushBinds ? [binder, connector] : [connector, binder];
      for (let i = 0; i < 500; i++) push.send(undefined, bytes(`job ${i}`));
      const jobs = await reader(pull).take(500);
      expect(jobs.map((job) => text(job.payload))).toEqual(Array.from({ length: 500 }, (_, i) => `job ${i}`));
      expect(() => pull.send(undefined, bytes("x"))).toThrow(TypeError);
    });
  }

  for (const pubBinds of [true, false]) {
    it(`PUB -> SUB with prefix filtering, ${pubBinds ? "pub binds" : "sub binds"}`, async () => {
      const events = monitor();
      const binder = track(
        await createZmtpTransport(pubBinds ? "pub" : "sub", { bind: LOOPBACK, ...(pubBinds ? { monitor: events.listener } : { subscribe: ["a"] }) }),
      );
      const connector = track(
        await createZmtpTransport(pubBinds ? "sub" : "pub", {
          connect: binder.endpoints[0],
          ...(pubBinds ? { subscribe: ["a"] } : { monitor: events.listener }),
        }),
      );
      const [pub, sub] = pubBinds ? [binder, connector] : [connector, binder];
      await events.waitFor((event) => event.type === "subscribe");
      for (const topic of ["a1", "b1", "a2", "b2"]) pub.send(undefined, bytes(topic));
      const fromSub = reader(sub);
      expect(text((await fromSub.next()).payload)).toBe("a1");
      expect(text((await fromSub.next()).payload)).toBe("a2");
      sub.subscribe("b");
      await events.waitForCount((event) => event.type === "subscribe", 2);
      sub.unsubscribe("a");
      await events.waitFor((event) => event.type === "cancel");
      pub.send(undefined, bytes("a3"));
      pub.send(undefined, bytes("b3"));
      expect(text((await fromSub.next()).payload)).toBe("b3");
      expect(() => sub.send(undefined, bytes("x"))).toThrow(TypeError);
    });
  }

  it("a ZMTP 3.0 SUB peer subscribes with the 01+topic message form", async () => {
    const events = monitor();
    const pub = track(await createZmtpTransport("pub", { bind: LOOPBACK, monitor: events.listener }));
    const url = new URL((pub.endpoints[0] as string).replace("tcp://", "http://"));
    const socket = netConnect({ host: url.hostname, port: Number(url.port) });
    track({ close: () => socket.destroy() });
    socket.on("error", () => undefined);
    const chunks: Buffer[] = [];
    const news = frame(bytes("news: hello"));
    const gotNews = new Promise<void>((resolve) =>
      socket.on("data", (chunk: Buffer) => {
        chunks.push(chunk);
        if (Buffer.concat(chunks).includes(news)) resolve();
      }),
    );
    socket.write(Buffer.concat([greeting(3, 0), readyCommand({ "Socket-Type": "SUB" }), frame(Buffer.from("\x01news", "latin1"))]));
    const subscribed = (await events.waitFor((event) => event.type === "subscribe")) as { topic: Uint8Array };
    expect(text(subscribed.topic)).toBe("news");
    pub.send(undefined, bytes("sport: no"));
    pub.send(undefined, bytes("news: hello"));
    await gotNews;
    expect(Buffer.concat(chunks).includes(bytes("sport"))).toBe(false);
  });

  it("our SUB sends the 01+topic message form to a ZMTP 3.0 PUB peer and SUBSCRIBE to a 3.1 one", async () => {
    for (const minor of [0, 1]) {
      const received: Buffer[] = [];
      let seen: () => void = () => undefined;
      const subscription = new Promise<void>((resolve) => (seen = resolve));
      const expected = minor === 0 ? frame(Buffer.from("\x01t", "latin1")) : frame(Buffer.from("\x09SUBSCRIBEt", "latin1"), 0x04);
      const server = createServer((socket) => {
        socket.on("error", () => undefined);
        socket.write(Buffer.concat([greeting(3, minor), readyCommand({ "Socket-Type": "PUB" })]));
        socket.on("data", (chunk: Buffer) => {
          received.push(chunk);
          if (Buffer.concat(received).includes(expected)) {
            socket.write(frame(bytes("t-message")));
            seen();
          }
        });
      });
      track({ close: () => server.close() });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      const sub = track(await createZmtpTransport("sub", { connect: `tcp://127.0.0.1:${(server.address() as { port: number }).port}`, subscribe: ["t"] }));
      await subscription;
      expect(text((await reader(sub).next()).payload)).toBe("t-message");
      await sub.close();
    }
  });

  it("SUB subscribes to everything by default (zerorpc)", async () => {
    const events = monitor();
    const pub = track(await createZmtpTransport("pub", { bind: LOOPBACK, monitor: events.listener }));
    const sub = track(await createZmtpTransport("sub", { connect: pub.endpoints[0] }));
    const subscribed = (await events.waitFor((event) => event.type === "subscribe")) as { topic: Uint8Array };
    expect(subscribed.topic).toHaveLength(0);
    pub.send(undefined, Buffer.from([0x93, 1, 2]));
    expect((await reader(sub).next()).payload).toEqual(Buffer.from([0x93, 1, 2]));
  });
});

describe("endpoints", () => {
  it("binds tcp://*:0 on every IPv4 interface and reports the port", async () => {
    const router = track(await bindRouter("tcp://*:0"));
    const endpoint = router.endpoints[0] as string;
    expect(endpoint).toMatch(/^tcp:\/\/0\.0\.0\.0:\d+$/);
    const port = endpoint.split(":").at(-1) as string;
    const dealer = track(await connectDealer(`tcp://127.0.0.1:${port}`));
    dealer.send(undefined, bytes("any"));
    expect(text((await reader(router).next()).payload)).toBe("any");
  });

  it("resolves host names (localhost) with dns.lookup", async () => {
    const router = track(await bindRouter("tcp://localhost:*"));
    const port = (router.endpoints[0] as string).split(":").at(-1) as string;
    const dealer = track(await connectDealer(`tcp://localhost:${port}`));
    dealer.send(undefined, bytes("named"));
    expect(text((await reader(router).next()).payload)).toBe("named");
  });

  it("speaks IPv6 with [::1]", async () => {
    const router = track(await bindRouter("tcp://[::1]:*"));
    expect(router.endpoints[0]).toMatch(/^tcp:\/\/\[::1\]:\d+$/);
    const dealer = track(await connectDealer(router.endpoints[0] as string));
    dealer.send(undefined, bytes("v6"));
    expect(text((await reader(router).next()).payload)).toBe("v6");
  });

  it("works over ipc://, removes a stale socket file, refuses one in use", async () => {
    const dir = await mkdtemp(join(tmpdir(), "zmtp-ipc-"));
    try {
      const path = join(dir, "s.sock");
      // A stale socket file: its server was killed and could not remove it.
      await new Promise<void>((resolve, reject) => {
        const child = spawn(process.execPath, [
          "-e",
          "require('net').createServer().listen(process.argv[1], () => process.kill(process.pid, 'SIGKILL'))",
          path,
        ]);
        child.on("error", reject);
        child.on("exit", () => resolve());
      });
      expect(existsSync(path)).toBe(true);
      const router = track(await bindRouter(`ipc://${path}`));
      expect(router.endpoints).toEqual([`ipc://${path}`]);
      await expect(bindRouter(`ipc://${path}`)).rejects.toThrow(path);
      const dealer = track(await connectDealer(`ipc://${path}`));
      dealer.send(undefined, bytes("over ipc"));
      const request = await reader(router).next();
      router.send(request.peer, bytes("back over ipc"));
      expect(text((await reader(dealer).next()).payload)).toBe("back over ipc");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("rejects binding a port in use, naming the endpoint", async () => {
    const router = track(await bindRouter(LOOPBACK));
    const endpoint = router.endpoints[0] as string;
    const error: unknown = await bindRouter(endpoint).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ZmtpEndpointError);
    expect(error).toBeInstanceOf(ZrpcError);
    expect(ZmtpEndpointError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ name: "ZmtpEndpointError", code: "bind", endpoint });
    expect((error as Error).message).toContain(endpoint);
    expect((error as Error).message).toContain("EADDRINUSE");
  });

  it("rejects invalid endpoints", async () => {
    await expect(bindRouter("udp://127.0.0.1:1")).rejects.toThrow(ZmtpEndpointError);
    await expect(bindRouter("tcp://127.0.0.1")).rejects.toThrow(/missing port/);
    await expect(connectDealer("tcp://*:5555")).rejects.toMatchObject({ code: "connect" });
    await expect(connectDealer("tcp://::1:5555")).rejects.toThrow(/brackets/);
  });

  it("unbind closes the listener; disconnect stops a connect endpoint", async () => {
    const router = track(await bindRouter(LOOPBACK));
    const endpoint = router.endpoints[0] as string;
    const events = monitor();
    const dealer = track(await connectDealer(endpoint, { monitor: events.listener }));
    await events.waitFor(isHandshake);
    dealer.disconnect(endpoint);
    await events.waitFor((event) => event.type === "disconnect");
    expect(dealer.peers).toBe(0);
    expect(() => dealer.disconnect(endpoint)).toThrow(ZmtpEndpointError);
    await router.unbind(endpoint);
    expect(router.endpoints).toEqual([]);
    await expect(router.unbind(endpoint)).rejects.toThrow(ZmtpEndpointError);
  });
});

describe("protocol enforcement", () => {
  it("answers an incompatible Socket-Type with an ERROR command and closes", async () => {
    const caught = errorCatcher();
    const router = track(await bindRouter(LOOPBACK, { onError: caught.onError }));
    const { received } = rawClient(router.endpoints[0] as string, Buffer.concat([greeting(), readyCommand({ "Socket-Type": "PUSH" })]));
    const reply = await received;
    const error = await caught.next;
    expect(error).toBeInstanceOf(ZmtpError);
    expect(error).toMatchObject({ code: "protocol" });
    expect(error.message).toContain("PUSH");
    // Our greeting, our READY, then ERROR "Invalid socket type".
    expect(reply.subarray(0, 12)).toEqual(greeting().subarray(0, 12));
    expect(reply.includes(Buffer.from("\x05ERROR\x13Invalid socket type", "latin1"))).toBe(true);
  });

  it("closes a peer whose frame exceeds maxMessageSize, keeps serving others", async () => {
    const caught = errorCatcher();
    const router = track(await bindRouter(LOOPBACK, { maxMessageSize: 1000, onError: caught.onError }));
    const endpoint = router.endpoints[0] as string;
    const header = Buffer.from([0x02, 0, 0, 0, 0, 0, 0x10, 0, 0]); // declares 1 MiB, body never sent
    const { received } = rawClient(endpoint, Buffer.concat([greeting(), readyCommand({ "Socket-Type": "DEALER" }), header]));
    await received;
    expect(await caught.next).toMatchObject({ code: "limit" });
    const dealer = track(await connectDealer(endpoint));
    dealer.send(undefined, bytes("still here"));
    expect(text((await reader(router).next()).payload)).toBe("still here");
  });

  it("closes a peer that sends more than maxFramesPerMessage frames", async () => {
    const caught = errorCatcher();
    const router = track(await bindRouter(LOOPBACK, { maxFramesPerMessage: 4, onError: caught.onError }));
    const frames = Array.from({ length: 5 }, (_, i) => frame(Buffer.from("f"), i < 4 ? 1 : 0));
    const { received } = rawClient(router.endpoints[0] as string, Buffer.concat([greeting(), readyCommand({ "Socket-Type": "DEALER" }), ...frames]));
    await received;
    expect(await caught.next).toMatchObject({ code: "limit" });
  });

  it("closes a connection that does not complete the handshake in time", async () => {
    const caught = errorCatcher();
    const router = track(await bindRouter(LOOPBACK, { handshakeTimeout: 100, onError: caught.onError }));
    const { received } = rawClient(router.endpoints[0] as string, greeting().subarray(0, 11));
    await received;
    expect(await caught.next).toMatchObject({ code: "timeout" });
  });

  it("closes a non-ZMTP client at once", async () => {
    const caught = errorCatcher();
    const router = track(await bindRouter(LOOPBACK, { onError: caught.onError }));
    const { received } = rawClient(router.endpoints[0] as string, Buffer.from("GET / HTTP/1.1\r\n\r\n"));
    await received;
    expect(await caught.next).toMatchObject({ code: "protocol" });
  });

  it("accepts a ZMTP 3.0 peer and answers PING with PONG echoing the context", async () => {
    const router = track(await bindRouter(LOOPBACK));
    const ping = frame(Buffer.concat([Buffer.from([4]), Buffer.from("PING"), Buffer.from([0, 0]), Buffer.from("ctx-123")]), 0x04);
    const url = new URL((router.endpoints[0] as string).replace("tcp://", "http://"));
    const socket = netConnect({ host: url.hostname, port: Number(url.port) });
    track({ close: () => socket.destroy() });
    socket.on("error", () => undefined);
    const chunks: Buffer[] = [];
    const pong = Buffer.from("\x04PONGctx-123", "latin1");
    const gotPong = new Promise<void>((resolve) =>
      socket.on("data", (chunk: Buffer) => {
        chunks.push(chunk);
        if (Buffer.concat(chunks).includes(pong)) resolve();
      }),
    );
    socket.write(Buffer.concat([greeting(3, 0), readyCommand({ "Socket-Type": "DEALER", Identity: "" }), ping]));
    await gotPong;
    socket.destroy();
  });

  it("drops a peer that stops answering PINGs (heartbeatMs / heartbeatTimeoutMs) and reconnects", async () => {
    // A server that completes the handshake and then never sends anything again.
    const sockets = new Set<Socket>();
    const server = createServer((socket) => {
      sockets.add(socket);
      socket.on("error", () => undefined);
      socket.write(Buffer.concat([greeting(), readyCommand({ "Socket-Type": "ROUTER", Identity: "" })]));
    });
    track({ close: () => { for (const socket of sockets) socket.destroy(); server.close(); } });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as { port: number }).port;
    const events = monitor();
    const caught = errorCatcher();
    track(
      await connectDealer(`tcp://127.0.0.1:${port}`, {
        heartbeatMs: 50,
        heartbeatTimeoutMs: 150,
        reconnectInterval: 20,
        monitor: events.listener,
        onError: caught.onError,
      }),
    );
    await events.waitFor(isHandshake);
    expect(await caught.next).toMatchObject({ code: "lost-remote" });
    await events.waitFor((event) => event.type === "retry");
    await events.waitForCount(isHandshake, 2);
  });

  it("sends PINGs every heartbeatMs and keeps a peer that answers them", async () => {
    const events = monitor();
    // The timeout is generous so that a stalled test process cannot trip it; the 30 PINGs waited
    // for span more than one timeout, so only answered PINGs keep the connection.
    const router = track(await bindRouter(LOOPBACK, { heartbeatMs: 20, heartbeatTimeoutMs: 500, monitor: events.listener }));
    const url = new URL((router.endpoints[0] as string).replace("tcp://", "http://"));
    const socket = netConnect({ host: url.hostname, port: Number(url.port) });
    track({ close: () => socket.destroy() });
    socket.on("error", () => undefined);
    // A raw DEALER that answers every PING with a PONG (contexts are empty) until it saw 30.
    const ping = Buffer.from("\x04PING", "latin1");
    let pings = 0;
    const manyPings = new Promise<void>((resolve) =>
      socket.on("data", (chunk: Buffer) => {
        for (let at = chunk.indexOf(ping); at >= 0; at = chunk.indexOf(ping, at + 1)) {
          pings += 1;
          socket.write(frame(Buffer.from("\x04PONG", "latin1"), 0x04));
        }
        if (pings >= 30) resolve();
      }),
    );
    socket.write(Buffer.concat([greeting(), readyCommand({ "Socket-Type": "DEALER", Identity: "" })]));
    await manyPings;
    expect(events.events.filter((event) => event.type === "disconnect")).toEqual([]);
    expect(router.peers).toBe(1);
  });

  it("still accepts the deprecated heartbeatIvl / heartbeatTimeout names", async () => {
    const events = monitor();
    const router = track(await bindRouter(LOOPBACK, { heartbeatIvl: 20, heartbeatTimeout: 500, monitor: events.listener }));
    track(await connectDealer(router.endpoints[0] as string));
    // The dealer answers the router's PINGs: a PONG proves the router sends them.
    await events.waitFor((event) => event.type === "pong");
  });
});
