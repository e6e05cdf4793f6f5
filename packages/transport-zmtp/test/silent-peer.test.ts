// Issue #18: a listener that accepts the connection and then says nothing is reported while the
// connection is still up (a second `handshaking` with an error, 500 ms after it came up), and the
// peer's first octets after that as a plain `handshaking`; a ZMTP peer, which greets at once,
// never causes either. A client uses this to name a silent peer at its connectTimeoutMs.
import type { Socket } from "node:net";
import { describe, expect, it } from "vitest";
import type { ConnectionEvent } from "@zrpc/channel";
import { startTcpStub, watchConnectionEvents } from "@zrpc/test-support";
import { ZmtpError, bindRouter, connectDealer } from "../src/index.js";
import { LOOPBACK, track } from "./helpers.js";

const reportedSilent = (event: ConnectionEvent): boolean => event.state === "handshaking" && event.error !== undefined;

describe("a silent peer (transport-zmtp watchConnections)", () => {
  it("is reported after 500 ms without closing the connection; its first octets are reported too", async () => {
    let accepted: Socket | undefined;
    const { endpoint } = track(
      await startTcpStub((socket) => {
        accepted = socket;
      }),
    );
    const dealer = track(await connectDealer(endpoint, { linger: 0 }));
    const { events, next } = watchConnectionEvents(dealer);
    const silent = await next(reportedSilent);
    expect(silent.endpoint).toBe(endpoint);
    expect(ZmtpError.isInstance(silent.error)).toBe(true);
    expect(silent.error!.message).toBe("not a ZeroMQ peer? it accepted the connection but has sent nothing in 500 ms");
    expect(events.map((event) => [event.state, event.error !== undefined])).toEqual([
      ["handshaking", false],
      ["handshaking", true],
    ]);
    // The peer talks at last (not ZMTP): a plain handshaking, then the failure it earns.
    accepted!.write("hello\n");
    const failed = await next((event) => event.state === "failed");
    expect(events.map((event) => [event.state, event.error !== undefined])).toEqual([
      ["handshaking", false],
      ["handshaking", true],
      ["handshaking", false],
      ["failed", true],
    ]);
    expect(failed.error!.message).toBe('not a ZeroMQ peer: it sent "hello" instead of a ZMTP greeting');
  });

  it("a ZMTP peer greets at once: handshaking and connected only", async () => {
    const router = track(await bindRouter(LOOPBACK, { linger: 0 }));
    const dealer = track(await connectDealer(router.endpoints[0]!, { linger: 0 }));
    const { events, next } = watchConnectionEvents(dealer);
    await next((event) => event.state === "connected");
    expect(events.some((event) => event.error !== undefined)).toBe(false);
    expect(events.map((event) => event.state)).toEqual(["handshaking", "connected"]);
  });
});
