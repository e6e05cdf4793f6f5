// CURVE over real loopback sockets, zmtp <-> zmtp: every socket pair, both CURVE roles on either
// side of bind/connect, large and multi-frame messages, reconnects, key checks and mismatches.
import { Buffer } from "node:buffer";
import type { CurveAuthFailure } from "@zrpc/channel";
import { describe, expect, it } from "vitest";
import { ZmtpEndpointError, ZmtpError, createZmtpTransport, curveKeyPair, zmtp } from "../src/index.js";
import type { ZmtpTransport, ZmtpTransportOptions } from "../src/index.js";
import { LOOPBACK, bytes, isHandshake, monitor, reader, text, track } from "./helpers.js";

const serverKeys = curveKeyPair();
const clientKeys = curveKeyPair();
const serverCurve = { secretKey: serverKeys.secretKey };
const clientCurve = { serverKey: serverKeys.publicKey, ...clientKeys };

async function open(kind: Parameters<typeof createZmtpTransport>[0], options: ZmtpTransportOptions): Promise<ZmtpTransport> {
  return track(await createZmtpTransport(kind, options));
}

/** Collects auth failures and resolves on the first matching one. */
function failures(): { onAuthFailure: (failure: CurveAuthFailure) => void; seen: CurveAuthFailure[]; next: Promise<CurveAuthFailure> } {
  const seen: CurveAuthFailure[] = [];
  let resolve: (failure: CurveAuthFailure) => void = () => undefined;
  const next = new Promise<CurveAuthFailure>((done) => (resolve = done));
  return {
    seen,
    next,
    onAuthFailure: (failure) => {
      seen.push(failure);
      resolve(failure);
    },
  };
}

describe("CURVE between zmtp transports, every socket pair", () => {
  it("dealer/router with the CURVE server binding", async () => {
    const router = await open("router", { bind: LOOPBACK, curve: serverCurve });
    const dealer = await open("dealer", { connect: router.endpoints[0], curve: clientCurve, routingId: "d-1" });
    const fromRouter = reader(router);
    const fromDealer = reader(dealer);
    dealer.send(undefined, bytes("ping"));
    const request = await fromRouter.next();
    expect(text(request.payload)).toBe("ping");
    expect(text(request.peer.envelope[0] as Uint8Array)).toBe("d-1");
    router.send(request.peer, bytes("pong"));
    expect(text((await fromDealer.next()).payload)).toBe("pong");
  });

  it("dealer/router with the CURVE server connecting (the role is independent of bind/connect)", async () => {
    const dealer = await open("dealer", { bind: LOOPBACK, curve: clientCurve });
    const router = await open("router", { connect: dealer.endpoints[0], curve: serverCurve });
    const fromRouter = reader(router);
    const fromDealer = reader(dealer);
    dealer.send(undefined, bytes("ping"));
    const request = await fromRouter.next();
    router.send(request.peer, bytes(`${text(request.payload)}-pong`));
    expect(text((await fromDealer.next()).payload)).toBe("ping-pong");
  });

  it("push/pull", async () => {
    const pull = await open("pull", { bind: LOOPBACK, curve: serverCurve });
    const push = await open("push", { connect: pull.endpoints[0], curve: clientCurve });
    const fromPull = reader(pull);
    for (let i = 0; i < 50; i++) push.send(undefined, bytes(`m${i}`));
    for (let i = 0; i < 50; i++) expect(text((await fromPull.next()).payload)).toBe(`m${i}`);
  });

  it("pub/sub, subscriptions travelling inside MESSAGE commands", async () => {
    const events = monitor();
    const pub = await open("pub", { bind: LOOPBACK, curve: serverCurve, monitor: events.listener });
    const sub = await open("sub", { connect: pub.endpoints[0], curve: clientCurve, subscribe: ["news"] });
    const fromSub = reader(sub);
    await events.waitFor((event) => event.type === "subscribe");
    pub.send(undefined, bytes("sports: no"));
    pub.send(undefined, bytes("news: yes"));
    expect(text((await fromSub.next()).payload)).toBe("news: yes");
  });

  it("dealer/dealer (pair-like), with ZMTP heartbeats (PING/PONG inside MESSAGE commands)", async () => {
    const events = monitor();
    const a = await open("dealer", { bind: LOOPBACK, curve: serverCurve, heartbeatMs: 20, monitor: events.listener });
    const b = await open("dealer", { connect: a.endpoints[0], curve: clientCurve });
    const fromA = reader(a);
    const fromB = reader(b);
    b.send(undefined, bytes("hi a"));
    expect(text((await fromA.next()).payload)).toBe("hi a");
    a.send(undefined, bytes("hi b"));
    expect(text((await fromB.next()).payload)).toBe("hi b");
    await events.waitFor((event) => event.type === "pong");
  });

  it("multi-frame messages: router envelopes with hops, and chunked payloads", async () => {
    const router = await open("router", { bind: LOOPBACK, curve: serverCurve });
    const dealer = await open("dealer", { connect: router.endpoints[0], curve: clientCurve });
    const fromRouter = reader(router);
    const fromDealer = reader(dealer);
    dealer.sendChunks(undefined, [bytes("a"), Buffer.alloc(20_000, 1), bytes("z")]);
    const request = await fromRouter.next();
    expect(request.payload.byteLength).toBe(20_002);
    const hop = { key: "x", envelope: [...request.peer.envelope, bytes("hop-1"), bytes("hop-2")] };
    router.send(hop, bytes("via hops"));
    const reply = await fromDealer.next();
    expect(text(reply.payload)).toBe("via hops");
  });

  it("8 MiB messages both ways", async () => {
    const router = await open("router", { bind: LOOPBACK, curve: serverCurve });
    const dealer = await open("dealer", { connect: router.endpoints[0], curve: clientCurve });
    const fromRouter = reader(router);
    const fromDealer = reader(dealer);
    const big = Buffer.alloc(8 * 1024 * 1024);
    for (let i = 0; i < big.byteLength; i += 4096) big[i] = (i / 4096) & 0xff;
    dealer.send(undefined, big);
    const request = await fromRouter.next();
    expect(Buffer.from(request.payload).equals(big)).toBe(true);
    router.send(request.peer, request.payload);
    expect(Buffer.from((await fromDealer.next()).payload).equals(big)).toBe(true);
  });

  it("reconnects after the server goes away, with a fresh handshake", async () => {
    const first = await open("router", { bind: LOOPBACK, curve: serverCurve });
    const endpoint = first.endpoints[0] as string;
    const events = monitor();
    const dealer = await open("dealer", { connect: endpoint, curve: clientCurve, monitor: events.listener, reconnectInterval: 20 });
    await events.waitFor(isHandshake);
    await first.close();
    const second = await open("router", { bind: endpoint, curve: serverCurve });
    await events.waitForCount(isHandshake, 2);
    dealer.send(undefined, bytes("again"));
    expect(text((await reader(second).next()).payload)).toBe("again");
  });
});

describe("CURVE authentication", () => {
  it("accepts an allowed key and refuses another: ERROR to the client, onAuthFailure with key and address", async () => {
    const serverFailures = failures();
    const router = await open("router", {
      bind: LOOPBACK,
      curve: { ...serverCurve, allowedClientKeys: [clientKeys.publicKey] },
      onAuthFailure: serverFailures.onAuthFailure,
    });
    const endpoint = router.endpoints[0] as string;
    const good = await open("dealer", { connect: endpoint, curve: clientCurve });
    good.send(undefined, bytes("allowed"));
    expect(text((await reader(router).next()).payload)).toBe("allowed");

    const stranger = curveKeyPair();
    const clientFailures = failures();
    const bad = await open("dealer", { connect: endpoint, curve: { serverKey: serverKeys.publicKey, ...stranger }, onAuthFailure: clientFailures.onAuthFailure });
    const refused = await serverFailures.next;
    expect(refused).toMatchObject({ kind: "auth", publicKey: stranger.publicKey });
    expect(refused.address).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(refused.message).toContain(stranger.publicKey);
    expect((await clientFailures.next).kind).toBe("auth");
    // closeOnAuthFailure (default for a CURVE client): the transport closed with the reason.
    const closedWith = await bad.closed;
    expect(ZmtpEndpointError.isInstance(closedWith)).toBe(true);
    expect((closedWith as ZmtpEndpointError).code).toBe("connect");
    expect(closedWith?.message).toMatch(/refused this client's key/);
    expect(ZmtpError.isInstance((closedWith as Error).cause)).toBe(true);
    expect(((closedWith as Error).cause as ZmtpError).code).toBe("auth");
    await expect(reader(bad).next()).rejects.toThrow(/refused this client's key/);
    expect(() => bad.send(undefined, bytes("x"))).toThrow();
  });

  it("authorize: async accept, refuse, and throw", async () => {
    const seen: string[] = [];
    const serverFailures = failures();
    const router = await open("router", {
      bind: LOOPBACK,
      onAuthFailure: serverFailures.onAuthFailure,
      curve: {
        ...serverCurve,
        authorize: async ({ publicKey }) => {
          seen.push(publicKey);
          await new Promise((resolve) => setTimeout(resolve, 5));
          if (publicKey === clientKeys.publicKey) return true;
          if (seen.length === 2) return false;
          throw new Error("directory unavailable");
        },
      },
    });
    const endpoint = router.endpoints[0] as string;
    const good = await open("dealer", { connect: endpoint, curve: clientCurve });
    good.send(undefined, bytes("ok"));
    expect(text((await reader(router).next()).payload)).toBe("ok");
    const refused = await open("dealer", { connect: endpoint, curve: { serverKey: serverKeys.publicKey } });
    expect((await refused.closed)?.message).toMatch(/refused/);
    const thrown = await open("dealer", { connect: endpoint, curve: { serverKey: serverKeys.publicKey } });
    expect((await thrown.closed)?.message).toMatch(/refused/);
    expect(serverFailures.seen.map((failure) => failure.kind)).toEqual(["auth", "auth"]);
    expect(serverFailures.seen[1]?.message).toMatch(/directory unavailable/);
  });

  it("a slow authorize runs into the handshake timeout", async () => {
    const serverFailures = failures();
    const router = await open("router", {
      bind: LOOPBACK,
      handshakeTimeout: 150,
      onAuthFailure: serverFailures.onAuthFailure,
      curve: { ...serverCurve, authorize: () => new Promise<boolean>(() => undefined) },
    });
    await open("dealer", { connect: router.endpoints[0], curve: { serverKey: serverKeys.publicKey }, handshakeTimeout: 0 });
    const failure = await serverFailures.next;
    expect(failure.kind).toBe("other");
    expect(failure.message).toMatch(/handshake not completed within 150 ms/);
  });

  it("a client with the wrong server key: its transport closes, the server reports a protocol failure", async () => {
    const serverFailures = failures();
    const router = await open("router", { bind: LOOPBACK, curve: serverCurve, onAuthFailure: serverFailures.onAuthFailure });
    const dealer = await open("dealer", { connect: router.endpoints[0], curve: { serverKey: curveKeyPair().publicKey } });
    const closedWith = await dealer.closed;
    expect(closedWith?.message).toMatch(/curve\.serverKey/);
    expect((await serverFailures.next).kind).toBe("protocol");
  });

  it("without onAuthFailure, refusals go to onError", async () => {
    const errors: Error[] = [];
    let resolve: () => void = () => undefined;
    const reported = new Promise<void>((done) => (resolve = done));
    const router = await open("router", {
      bind: LOOPBACK,
      curve: { ...serverCurve, allowedClientKeys: () => false },
      onError: (error) => {
        errors.push(error);
        resolve();
      },
    });
    const dealer = await open("dealer", { connect: router.endpoints[0], curve: clientCurve });
    await reported;
    await dealer.closed;
    expect(errors[0]?.message).toMatch(/refused client key/);
    expect((errors[0] as ZmtpError).code).toBe("auth");
  });
});

describe("NULL against CURVE", () => {
  it("a plaintext client meets a CURVE server: both sides report the mismatch", async () => {
    const serverFailures = failures();
    const router = await open("router", { bind: LOOPBACK, curve: serverCurve, onAuthFailure: serverFailures.onAuthFailure });
    let clientError: (error: Error) => void = () => undefined;
    const clientErrored = new Promise<Error>((done) => (clientError = done));
    await open("dealer", { connect: router.endpoints[0], onError: (error) => clientError(error) });
    const failure = await serverFailures.next;
    expect(failure.kind).toBe("protocol");
    expect(failure.message).toMatch(/mechanism mismatch: the peer speaks plaintext/);
    expect((await clientErrored).message).toMatch(/mechanism mismatch: the peer uses CURVE/);
  });

  it("a CURVE client meets a plaintext server: the client transport closes with the reason", async () => {
    const router = await open("router", { bind: LOOPBACK, onError: () => undefined });
    const dealer = await open("dealer", { connect: router.endpoints[0], curve: clientCurve });
    const closedWith = await dealer.closed;
    expect(closedWith?.message).toMatch(/mechanism mismatch/);
    expect(router.peers).toBe(0);
  });

  it("two CURVE servers (or clients) do not pair", async () => {
    const serverFailures = failures();
    const a = await open("dealer", { bind: LOOPBACK, curve: serverCurve, onAuthFailure: serverFailures.onAuthFailure });
    await open("dealer", { connect: a.endpoints[0], curve: serverCurve, onError: () => undefined });
    expect((await serverFailures.next).message).toMatch(/both peers are CURVE servers/);
  });
});

describe("the zmtp() factory", () => {
  it("takes the caller's curve and onAuthFailure, its own curve winning", async () => {
    const serverFailures = failures();
    const server = await zmtp().open("router", "bind", LOOPBACK, { curve: serverCurve, onAuthFailure: serverFailures.onAuthFailure as (failure: unknown) => void });
    const transport = track(server as ZmtpTransport);
    const endpoint = transport.endpoints[0] as string;
    const client = track((await zmtp({ curve: clientCurve }).open("dealer", "connect", endpoint, { curve: { serverKey: curveKeyPair().publicKey } })) as ZmtpTransport);
    client.send(undefined, bytes("factory"));
    expect(text((await reader(transport).next()).payload)).toBe("factory");
    const stranger = track((await zmtp().open("dealer", "connect", endpoint, { curve: { serverKey: curveKeyPair().publicKey } })) as ZmtpTransport);
    expect((await stranger.closed)?.message).toMatch(/serverKey/);
    expect((await serverFailures.next).kind).toBe("protocol");
  });
});
