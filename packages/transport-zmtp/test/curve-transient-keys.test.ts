// Transient (short-term) CURVE keys, C' and S' of RFC 26: made ahead of the handshakes that use
// them, each handed out once, so that every connection has keys of its own on both sides; and
// the client's HELLO, which goes out with its greeting. Checked with the independent raw peer of
// curve-peer.ts over loopback, and on the key pool itself.
import { Buffer } from "node:buffer";
import { afterEach, describe, expect, it } from "vitest";
import { createZmtpTransport } from "../src/index.js";
import { CurveClientHandshake } from "../src/curve/handshake.js";
import type { HandshakeFailure, HandshakeHost } from "../src/curve/handshake.js";
import { resolveCurve } from "../src/curve/options.js";
import type { CurveClientConfig } from "../src/curve/options.js";
import { TRANSIENT_SPARES, longTermKey, prepareTransientKeys, transientKeyPair, transientKeysReady } from "../src/curve/x25519.js";
import { encodeMetadata } from "../src/protocol.js";
import { CurveClientPeer, CurveServerConnection, RawListener, portOf, rawKeyPair } from "./curve-peer.js";
import { LOOPBACK, track } from "./helpers.js";

const listeners: RawListener[] = [];
afterEach(async () => {
  await Promise.all(listeners.splice(0).map((listener) => listener.close()));
});

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex");
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** A handshake host for a client handshake driven by hand: what it sends is dropped. */
function dealerHost(fail: (failure: HandshakeFailure) => void = () => undefined): HandshakeHost {
  return { address: "127.0.0.1:1", metadata: encodeMetadata("DEALER", undefined), closed: false, send: () => undefined, done: () => undefined, fail };
}

describe("transient key pairs made ahead", () => {
  it("are made in idle turns of the event loop, up to TRANSIENT_SPARES", async () => {
    prepareTransientKeys();
    for (let i = 0; i <= TRANSIENT_SPARES; i++) await turn();
    expect(transientKeysReady()).toBe(TRANSIENT_SPARES);
    transientKeyPair();
    expect(transientKeysReady()).toBe(TRANSIENT_SPARES - 1);
    await turn();
    expect(transientKeysReady()).toBe(TRANSIENT_SPARES);
  });

  it("are handed out once each, whether made ahead or on demand", async () => {
    const publicKeys = new Set<string>();
    const secretKeys = new Set<string>();
    for (let i = 0; i < 60; i++) {
      // Some taken in a burst (the pool runs dry: made on demand), some after idle turns.
      if (i % 7 === 0) for (let t = 0; t <= TRANSIENT_SPARES; t++) await turn();
      const pair = transientKeyPair();
      publicKeys.add(hex(pair.publicKey));
      secretKeys.add(hex(pair.secretKey));
    }
    expect(publicKeys.size).toBe(60);
    expect(secretKeys.size).toBe(60);
  });
});

describe("a client socket's HELLO made ahead", () => {
  it("is made right after the socket's creation and taken by one handshake only", async () => {
    const config = resolveCurve({ serverKey: rawKeyPair().publicKey }) as CurveClientConfig;
    expect(config.hellos.ready).toBe(false);
    await Promise.resolve();
    expect(config.hellos.ready).toBe(true);
    const host = dealerHost();
    const first = new CurveClientHandshake(host, config).early() as Buffer;
    expect(config.hellos.ready).toBe(false);
    // The next handshake, before the next idle turn, makes its own.
    const second = new CurveClientHandshake(host, config).early() as Buffer;
    // HELLO command: flags, size, name (6), version (2), padding (72), then C' (32).
    const transient = (hello: Buffer): string => hex(hello.subarray(2 + 6 + 2 + 72, 2 + 6 + 2 + 72 + 32));
    expect(transient(first)).not.toBe(transient(second));
    expect(first.byteLength).toBe(202);
  });

  it("is not made twice when the first connection starts before it was made ahead", async () => {
    const config = resolveCurve({ serverKey: rawKeyPair().publicKey }) as CurveClientConfig;
    const host = dealerHost();
    expect(new CurveClientHandshake(host, config).early()).toBeDefined();
    await Promise.resolve();
    await turn();
    // Nothing made ahead for nobody: the next connection makes its own.
    expect(config.hellos.ready).toBe(false);
  });
});

describe("long-term peer keys", () => {
  it("are kept as one array per contents (their imported form is reused)", () => {
    const key = rawKeyPair().publicKey;
    const kept = longTermKey(Uint8Array.from(key));
    expect(longTermKey(Uint8Array.from(key))).toBe(kept);
    expect(hex(kept)).toBe(hex(key));
    expect(longTermKey(rawKeyPair().publicKey)).not.toBe(kept);
  });
});

describe("every connection has transient keys of its own", () => {
  it("a server gives each client a fresh S' in its WELCOME", async () => {
    const keys = rawKeyPair();
    const router = track(await createZmtpTransport("router", { bind: LOOPBACK, curve: { secretKey: keys.secretKey }, linger: 0 }));
    const port = portOf(router.endpoints[0] as string);
    const seen = new Set<string>();
    for (let i = 0; i < 12; i++) {
      const client = await CurveClientPeer.connect(port, keys.publicKey);
      await client.handshake();
      seen.add(hex(client.serverTransient as Uint8Array));
      client.connection.destroy();
    }
    expect(seen.size).toBe(12);
    expect(seen.has(hex(keys.publicKey))).toBe(false);
  });

  it("a client sends a fresh C' in each HELLO, also on the same socket reconnecting", async () => {
    const listener = await RawListener.listen();
    listeners.push(listener);
    const serverKeys = rawKeyPair();
    const seen = new Set<string>();
    // Fresh sockets, and one socket that reconnects after each hang-up.
    const dealer = track(
      await createZmtpTransport("dealer", { connect: listener.endpoint, curve: { serverKey: serverKeys.publicKey }, reconnectInterval: 1, linger: 0 }),
    );
    for (let i = 0; i < 6; i++) {
      const server = new CurveServerConnection(await listener.accept(), serverKeys);
      // A completed handshake, then a hang-up: the socket connects again.
      await server.handshake();
      seen.add(hex(server.clientTransient as Uint8Array));
      server.connection.destroy();
    }
    await dealer.close();
    for (let i = 0; i < 6; i++) {
      const fresh = track(await createZmtpTransport("dealer", { connect: listener.endpoint, curve: { serverKey: serverKeys.publicKey }, linger: 0 }));
      const server = new CurveServerConnection(await listener.accept(), serverKeys);
      server.sendGreeting();
      await server.readGreeting();
      await server.readHello();
      seen.add(hex(server.clientTransient as Uint8Array));
      server.connection.destroy();
      await fresh.close();
    }
    expect(seen.size).toBe(12);
  });
});

describe("the client's HELLO", () => {
  it("goes out with its greeting, before the server's greeting arrives", async () => {
    const listener = await RawListener.listen();
    listeners.push(listener);
    const serverKeys = rawKeyPair();
    track(await createZmtpTransport("dealer", { connect: listener.endpoint, curve: { serverKey: serverKeys.publicKey }, linger: 0 }));
    const server = new CurveServerConnection(await listener.accept(), serverKeys);
    // No greeting from this server yet: the client's greeting and a valid HELLO arrive anyway.
    const greeting = await server.readGreeting();
    expect(greeting.mechanism).toBe("CURVE");
    await server.readHello();
    // The rest of the handshake then runs as usual.
    server.sendGreeting();
    server.sendWelcome();
    await server.readInitiate();
    server.sendReady();
    expect(server.clientMetadata?.get("socket-type")?.toString()).toBe("DEALER");
  });

  it("is not made from a low-order server key: the handshake fails with a reason", () => {
    const failures: HandshakeFailure[] = [];
    const host = dealerHost((failure) => failures.push(failure));
    const config = resolveCurve({ serverKey: new Uint8Array(32) }) as CurveClientConfig;
    const handshake = new CurveClientHandshake(host, config);
    expect(handshake.early()).toBeUndefined();
    handshake.start();
    expect(failures).toHaveLength(1);
    expect(failures[0]?.message).toMatch(/low-order/);
  });
});
