import { Buffer } from "node:buffer";
import { createServer } from "node:net";
import type { Socket } from "node:net";
import { describe, expect, it } from "vitest";
import { ZmtpError, bindRouter, connectDealer, createZmtpTransport } from "../src/index.js";
import { frame, greeting, readyCommand } from "./codec-helpers.js";
import { LOOPBACK, isHandshake, monitor, reader, track } from "./helpers.js";

/** Lets I/O callbacks run once (a yield to the event loop, not a timed sleep). */
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** A TCP peer that completes the ZMTP handshake as `socketType` and then never reads again. */
async function deafPeer(socketType: string, extra: Buffer = Buffer.alloc(0)): Promise<{ endpoint: string; handshakes: Promise<void> }> {
  const sockets = new Set<Socket>();
  let handshook: () => void = () => undefined;
  const handshakes = new Promise<void>((resolve) => (handshook = resolve));
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => undefined);
    socket.write(Buffer.concat([greeting(), readyCommand({ "Socket-Type": socketType, Identity: "" }), extra]));
    let seen = 0;
    socket.on("data", (chunk: Buffer) => {
      seen += chunk.length;
      // Greeting (64) + our READY: then stop reading for good.
      if (seen > 64 + 10) {
        socket.pause();
        handshook();
      }
    });
  });
  track({
    close: () => {
      for (const socket of sockets) socket.destroy();
      server.close();
    },
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { endpoint: `tcp://127.0.0.1:${(server.address() as { port: number }).port}`, handshakes };
}

describe("backpressure", () => {
  it("a slow consumer pauses reading at receiveHighWaterMark; the sender's bounded queues fill and send() throws", async () => {
    const events = monitor();
    const router = track(await bindRouter(LOOPBACK, { receiveHighWaterMark: 100, monitor: events.listener }));
    const dealer = track(await connectDealer(router.endpoints[0] as string, { sendHighWaterMark: 10, maxQueuedMessages: 50 }));
    const payload = Buffer.alloc(64 * 1024, 1);
    let accepted = 0;
    let refusal: unknown;
    // Send until the transport refuses: the receiver never reads meanwhile.
    while (refusal === undefined) {
      try {
        for (let i = 0; i < 10; i++) {
          payload.writeUInt32BE(accepted, 0);
          dealer.send(undefined, Buffer.from(payload));
          accepted += 1;
        }
      } catch (error) {
        refusal = error;
      }
      await turn();
    }
    expect(refusal).toBeInstanceOf(ZmtpError);
    expect(refusal).toMatchObject({ code: "backpressure" });
    await events.waitFor((event) => event.type === "pause");
    const receiverStats = router.stats();
    expect(receiverStats.readingPaused).toBe(true);
    expect(receiverStats.received).toBeLessThanOrEqual(100);
    const senderStats = dealer.stats();
    expect(senderStats.queued).toBe(50);
    expect(senderStats.queuedToPeers).toBeLessThanOrEqual(10);
    // The consumer catches up: reading resumes and every accepted message arrives, in order.
    const fromRouter = reader(router);
    for (let i = 0; i < accepted; i++) {
      const message = await fromRouter.next();
      expect(Buffer.from(message.payload).readUInt32BE(0)).toBe(i);
    }
    expect(events.events.some((event) => event.type === "resume")).toBe(true);
    expect(router.stats().received).toBe(0);
  });

  it("a ROUTER drops messages for a peer that stopped reading once its queue is full (libzmq's ROUTER)", async () => {
    const peer = await deafPeer("DEALER");
    const events = monitor();
    const router = track(await createZmtpTransport("router", { connect: peer.endpoint, sendHighWaterMark: 20, monitor: events.listener }));
    await events.waitFor(isHandshake);
    await peer.handshakes;
    const handshake = events.events.find(isHandshake) as { routingId: Uint8Array };
    const target = { key: Buffer.from(handshake.routingId).toString("hex"), envelope: [handshake.routingId] };
    const payload = Buffer.alloc(64 * 1024, 2);
    while (router.stats().queuedToPeers < 20) {
      for (let i = 0; i < 10; i++) router.send(target, payload);
      await turn();
    }
    // Full: more sends are dropped, never queued, never thrown.
    for (let i = 0; i < 1000; i++) expect(() => router.send(target, payload)).not.toThrow();
    expect(router.stats().queuedToPeers).toBe(20);
  });

  it("a PUB drops messages for a subscriber that stopped reading once its queue is full", async () => {
    const subscribeAll = frame(Buffer.from("\x09SUBSCRIBE", "latin1"), 0x04);
    const peer = await deafPeer("SUB", subscribeAll);
    const events = monitor();
    const pub = track(await createZmtpTransport("pub", { connect: peer.endpoint, sendHighWaterMark: 20, monitor: events.listener }));
    await events.waitFor((event) => event.type === "subscribe");
    await peer.handshakes;
    const payload = Buffer.alloc(64 * 1024, 4);
    while (pub.stats().queuedToPeers < 20) {
      for (let i = 0; i < 10; i++) pub.send(undefined, payload);
      await turn();
    }
    for (let i = 0; i < 1000; i++) expect(() => pub.send(undefined, payload)).not.toThrow();
    expect(pub.stats().queuedToPeers).toBe(20);
  });

  it("a DEALER whose only peer stopped reading fills its queues, then send() throws backpressure", async () => {
    const peer = await deafPeer("ROUTER");
    const events = monitor();
    const dealer = track(
      await createZmtpTransport("dealer", { connect: peer.endpoint, sendHighWaterMark: 20, maxQueuedMessages: 100, monitor: events.listener }),
    );
    await events.waitFor(isHandshake);
    const payload = Buffer.alloc(64 * 1024, 3);
    let refusal: unknown;
    while (refusal === undefined) {
      try {
        for (let i = 0; i < 10; i++) dealer.send(undefined, payload);
      } catch (error) {
        refusal = error;
      }
      await turn();
    }
    expect(refusal).toMatchObject({ code: "backpressure" });
    expect(dealer.stats()).toMatchObject({ queued: 100, queuedToPeers: 20 });
  });
});
