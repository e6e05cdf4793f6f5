// Issue #18: watchConnections reads libzmq's socket monitor as per-endpoint connection state:
// a refused port, a listener that is not a ZeroMQ peer, a handshake, a lost connection. libzmq
// does not say why a connect failed, so the causes are the best guesses the events allow.
import { describe, expect, it } from "vitest";
import type { ConnectionEvent } from "@zrpc/channel";
import { answerLikeHttp, freeEndpoint, startTcpStub, watchConnectionEvents } from "@zrpc/test-support";
import { bindRouter, connectDealer } from "../src/index.js";
import { LOOPBACK, track } from "./helpers.js";

const failed = (event: ConnectionEvent): boolean => event.state === "failed";

describe("watchConnections (transport-zeromq)", () => {
  it("a refused port: failed, refused or unreachable (ECONNREFUSED), libzmq retrying", async () => {
    const endpoint = await freeEndpoint();
    const dealer = track(await connectDealer(endpoint, { linger: 0 }));
    const { next } = watchConnectionEvents(dealer);
    const event = await next(failed);
    expect(event.endpoint).toBe(endpoint);
    expect((event.error as NodeJS.ErrnoException).code).toBe("ECONNREFUSED");
    expect(event.error!.message).toBe("connection refused or unreachable (ECONNREFUSED or similar; libzmq retrying)");
  });

  it("a name that does not resolve: failed, the address did not resolve (ENOTFOUND), libzmq retrying", async () => {
    const endpoint = "tcp://zrpc-no-such-host.invalid:4242";
    const dealer = track(await connectDealer(endpoint, { linger: 0 }));
    const event = await watchConnectionEvents(dealer).next(failed);
    expect(event.endpoint).toBe(endpoint);
    expect((event.error as NodeJS.ErrnoException).code).toBe("ENOTFOUND");
    expect(event.error!.message).toBe("the address did not resolve (ENOTFOUND or similar; libzmq retrying)");
  });

  it("a ZeroMQ peer: handshaking, connected, then disconnected when it goes away; a late listener gets the latest state", async () => {
    const router = await bindRouter(LOOPBACK, { linger: 0 });
    const endpoint = router.endpoints[0]!;
    const dealer = track(await connectDealer(endpoint, { linger: 0 }));
    const { events, next } = watchConnectionEvents(dealer);
    await next((event) => event.state === "connected");
    expect(events.map((event) => event.state)).toEqual(["handshaking", "connected"]);
    const late: ConnectionEvent[] = [];
    dealer.watchConnections((event) => late.push(event))();
    expect(late).toEqual([{ endpoint, state: "connected" }]);
    await router.close();
    await next((event) => event.state === "disconnected");
  });

  it("an HTTP server: failed, not a ZeroMQ peer", async () => {
    const { endpoint } = track(await startTcpStub(answerLikeHttp));
    const dealer = track(await connectDealer(endpoint, { linger: 0 }));
    const { events, next } = watchConnectionEvents(dealer);
    const event = await next(failed);
    expect(events[0]!.state).toBe("handshaking");
    expect(event.error!.message).toMatch(/^not a ZeroMQ peer: /);
  });

  it("a server that closes at once: failed, not a ZeroMQ peer", async () => {
    const { endpoint } = track(await startTcpStub((socket) => socket.destroy()));
    const dealer = track(await connectDealer(endpoint, { linger: 0 }));
    const event = await watchConnectionEvents(dealer).next(failed);
    expect(event.error!.message).toMatch(/^not a ZeroMQ peer: /);
  });

  it("a server that sends nothing: handshaking (libzmq waits for its handshake interval)", async () => {
    const { endpoint } = track(await startTcpStub(() => undefined));
    const dealer = track(await connectDealer(endpoint, { linger: 0 }));
    const event = await watchConnectionEvents(dealer).next(() => true);
    expect(event).toEqual({ endpoint, state: "handshaking" });
  });
});
