import { Dealer } from "zeromq";
import { describe, expect, it } from "vitest";
import { TransportError, bindRouter, connectDealer, createZeromqTransport, zeromqTransportDefaults } from "../src/index.js";
import { LOOPBACK, bytes, nextEvent, reader, text, track } from "./helpers.js";

describe("limits", () => {
  it("a message over maxMessageSize is dropped with its connection; other clients are unaffected", async () => {
    const limit = 1024;
    const router = track(await bindRouter(LOOPBACK, { maxMessageSize: limit }));
    const endpoint = router.endpoints[0]!;
    const routerIn = reader(router);

    // The offender is a raw zeromq.js socket so the test can watch its connection events.
    const offender = track(new Dealer({ linger: 0 }));
    const connected = nextEvent(offender, "connect");
    offender.connect(endpoint);
    await connected;
    const dropped = nextEvent(offender, "disconnect");
    const reconnected = nextEvent(offender, "connect");
    await offender.send(["", Buffer.alloc(limit + 1, 1)]);
    // libzmq on the router side refuses the frame and closes the connection.
    await dropped;

    // Another client is served as usual meanwhile.
    const other = track(await connectDealer(endpoint));
    const otherIn = reader(other);
    other.send(undefined, bytes("small"));
    const request = await routerIn.next();
    expect(text(request.payload)).toBe("small");
    router.send(request.peer, bytes("ok"));
    expect(text((await otherIn.next()).payload)).toBe("ok");

    // The offender reconnects by itself and is served again; the big message never showed up.
    await reconnected;
    await offender.send(["", "after"]);
    const after = await routerIn.next();
    expect(text(after.payload)).toBe("after");
    router.send(after.peer, bytes("welcome back"));
    const frames = await offender.receive();
    expect(frames.map((frame) => frame.toString())).toEqual(["", "welcome back"]);
  });

  it("a message exactly at maxMessageSize passes", async () => {
    const limit = 4096;
    const router = track(await bindRouter(LOOPBACK, { maxMessageSize: limit }));
    const dealer = track(await connectDealer(router.endpoints[0]!));
    dealer.send(undefined, new Uint8Array(limit));
    expect((await reader(router).next()).payload.byteLength).toBe(limit);
  });

  it("send() throws backpressure once maxQueuedMessages are waiting, and the queue drains later", async () => {
    // Nothing to send to: a DEALER's send waits in zeromq, so everything stays in our queue.
    const dealer = track(await createZeromqTransport("dealer", { maxQueuedMessages: 3, linger: 0 }));
    for (const message of ["1", "2", "3"]) dealer.send(undefined, bytes(message));
    let error: unknown;
    try {
      dealer.send(undefined, bytes("4"));
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(TransportError);
    expect(error).toMatchObject({ code: "backpressure" });

    // Once a peer shows up the queued messages go out in order.
    const router = track(await bindRouter(LOOPBACK));
    dealer.connect(router.endpoints[0]!);
    const routerIn = reader(router);
    const received = await routerIn.take(3);
    expect(received.map((m) => text(m.payload))).toEqual(["1", "2", "3"]);
    dealer.send(undefined, bytes("4"));
    expect(text((await routerIn.next()).payload)).toBe("4");
  });

  it("has the documented defaults", () => {
    expect(zeromqTransportDefaults).toEqual({
      sendHighWaterMark: 1000,
      receiveHighWaterMark: 1000,
      linger: 1000,
      maxMessageSize: 100 * 1024 * 1024 + 1024,
      maxQueuedMessages: 100_000,
      immediate: false,
      subscribe: [""],
    });
  });

  it("rejects invalid options", async () => {
    await expect(createZeromqTransport("router", { linger: -2 })).rejects.toThrow(RangeError);
    await expect(createZeromqTransport("router", { maxQueuedMessages: 0 })).rejects.toThrow(RangeError);
    await expect(createZeromqTransport("router", { routingId: "x" })).rejects.toThrow(TypeError);
    await expect(createZeromqTransport("dealer", { routingId: "" })).rejects.toThrow(RangeError);
    await expect(createZeromqTransport("dealer", { routingId: Uint8Array.of(0, 1) })).rejects.toThrow(RangeError);
    await expect(createZeromqTransport("pull", { subscribe: [""] })).rejects.toThrow(TypeError);
  });
});
