// Issue #18: watchConnections reports each connect endpoint's state with a precise cause: a
// refused port, a listener that is not a ZeroMQ peer (an HTTP server, one that sends garbage, one
// that sends nothing), a handshake, a lost connection.
import { describe, expect, it } from "vitest";
import type { ConnectionEvent } from "@zrpc/channel";
import { answerLikeHttp, freeEndpoint, startTcpStub, watchConnectionEvents } from "@zrpc/test-support";
import { ZmtpError, bindRouter, connectDealer } from "../src/index.js";
import { LOOPBACK, track } from "./helpers.js";

const failed = (event: ConnectionEvent): boolean => event.state === "failed";

describe("watchConnections (transport-zmtp)", () => {
  it("a refused port: failed with the system error (ECONNREFUSED), again on every retry", async () => {
    const endpoint = await freeEndpoint();
    const dealer = track(await connectDealer(endpoint, { linger: 0 }));
    const { events, next } = watchConnectionEvents(dealer);
    const first = await next(failed);
    expect(first.endpoint).toBe(endpoint);
    expect((first.error as NodeJS.ErrnoException).code).toBe("ECONNREFUSED");
    await next((event) => event.state === "failed" && event !== first);
    expect(events.every((event) => event.state === "failed")).toBe(true);
  });

  it("a name that does not resolve: failed with ENOTFOUND", async () => {
    const endpoint = "tcp://no-such-host.invalid:4242";
    const dealer = track(await connectDealer(endpoint, { linger: 0 }));
    const event = await watchConnectionEvents(dealer).next(failed);
    expect(["ENOTFOUND", "EAI_AGAIN"]).toContain((event.error as NodeJS.ErrnoException).code);
  });

  it("a ZMTP peer: handshaking, connected, then disconnected when it goes away; a late listener gets the latest state", async () => {
    const router = await bindRouter(LOOPBACK, { linger: 0 });
    const endpoint = router.endpoints[0]!;
    const dealer = track(await connectDealer(endpoint, { linger: 0 }));
    const { events, next } = watchConnectionEvents(dealer);
    await next((event) => event.state === "connected");
    expect(events.map((event) => event.state)).toEqual(["handshaking", "connected"]);
    const late: ConnectionEvent[] = [];
    const unwatch = dealer.watchConnections((event) => late.push(event));
    expect(late).toEqual([{ endpoint, state: "connected" }]);
    unwatch();
    await router.close();
    await next((event) => event.state === "disconnected");
    expect(late).toHaveLength(1);
  });

  it("an HTTP server: failed, not a ZeroMQ peer, quoting what it answered", async () => {
    const { endpoint } = track(await startTcpStub(answerLikeHttp));
    const dealer = track(await connectDealer(endpoint, { linger: 0 }));
    const event = await watchConnectionEvents(dealer).next(failed);
    expect(ZmtpError.isInstance(event.error)).toBe(true);
    expect((event.error as ZmtpError).code).toBe("protocol");
    expect(event.error!.message).toBe('not a ZeroMQ peer: it sent "HTTP/1.1 400 Bad Request"... instead of a ZMTP greeting (an HTTP server?)');
  });

  it("a server that sends binary garbage: failed, not a ZeroMQ peer, with the octets", async () => {
    const { endpoint } = track(await startTcpStub((socket) => socket.write(Buffer.from([0x16, 0x03, 0x01, 0x00]))));
    const dealer = track(await connectDealer(endpoint, { linger: 0 }));
    const event = await watchConnectionEvents(dealer).next(failed);
    expect(event.error!.message).toBe("not a ZeroMQ peer: it sent octets 16 03 01 00 instead of a ZMTP greeting");
  });

  it("a server that closes at once: failed, not a ZeroMQ peer", async () => {
    const { endpoint } = track(await startTcpStub((socket) => socket.end()));
    const dealer = track(await connectDealer(endpoint, { linger: 0 }));
    const event = await watchConnectionEvents(dealer).next(failed);
    expect(event.error!.message).toBe("not a ZeroMQ peer: it closed the connection without sending a ZMTP greeting");
  });

  it("a server that sends nothing: handshaking, then failed at the handshake timeout, not a ZeroMQ peer", async () => {
    const { endpoint } = track(await startTcpStub(() => undefined));
    const dealer = track(await connectDealer(endpoint, { linger: 0, handshakeTimeout: 300 }));
    const { events, next } = watchConnectionEvents(dealer);
    const event = await next(failed);
    expect(events[0]!.state).toBe("handshaking");
    expect(event.error!.message).toBe(
      "not a ZeroMQ peer: it sent nothing (no ZMTP greeting) within the handshake timeout: ZMTP handshake not completed within 300 ms",
    );
  });

  it("a ZeroMQ peer that refuses us keeps its own error (incompatible socket type)", async () => {
    const pull = track(await bindRouter(LOOPBACK, { linger: 0 }));
    // A DEALER may talk to a ROUTER; a PUB may not: the ROUTER answers ERROR and closes.
    const { createZmtpTransport } = await import("../src/index.js");
    const pub = track(await createZmtpTransport("pub", { connect: pull.endpoints[0]!, linger: 0 }));
    const event = await watchConnectionEvents(pub).next(failed);
    expect(event.error!.message).not.toMatch(/not a ZeroMQ peer/);
  });

  it("a throwing listener does not break the transport; disconnect() forgets the endpoint", async () => {
    const endpoint = await freeEndpoint();
    const dealer = track(await connectDealer(endpoint, { linger: 0 }));
    dealer.watchConnections(() => {
      throw new Error("listener bug");
    });
    const { next } = watchConnectionEvents(dealer);
    await next(failed);
    dealer.disconnect(endpoint);
    const late: ConnectionEvent[] = [];
    dealer.watchConnections((event) => late.push(event));
    expect(late).toEqual([]);
  });
});
