// Hostile peers against the CURVE mechanism (ZeroMQ RFC 25/26), with the independent raw peer of
// curve-peer.ts: every malformed, out-of-order, replayed or forged command must end only that
// connection, with a reason the transport reports, while the server keeps serving well-behaved
// CURVE clients (a real round trip after each attack) and its connection count returns to zero.
// The client side gets the mirror image: hostile servers, after which the client reconnects and
// talks to a good server, or stops as documented.
import { Buffer } from "node:buffer";
import type { CurveAuthFailure } from "@zrpc/channel";
import { describe, expect, it } from "vitest";
import { ZmtpEndpointError, ZmtpError, createZmtpTransport } from "../src/index.js";
import type { ZmtpMonitorEvent, ZmtpTransport } from "../src/index.js";
import {
  CurveClientPeer,
  CurveServerConnection,
  PeerClosedError,
  RawListener,
  commandBody,
  commandFrame,
  connectRaw,
  errorReason,
  frameBytes,
  greetingBytes,
  portOf,
  rawKeyPair,
} from "./curve-peer.js";
import type { RawConnection, RawKeyPair } from "./curve-peer.js";
import { LOOPBACK, monitor, reader, track } from "./helpers.js";
import type { Monitor } from "./helpers.js";

const isDisconnect = (event: ZmtpMonitorEvent): boolean => event.type === "disconnect";
const isHandshake = (event: ZmtpMonitorEvent): boolean => event.type === "handshake";

/** A CURVE ROUTER that echoes every message, with everything it reports recorded. */
interface Harness {
  readonly keys: RawKeyPair;
  readonly router: ZmtpTransport;
  readonly port: number;
  readonly events: Monitor;
  readonly errors: Error[];
  readonly failures: CurveAuthFailure[];
  readonly received: string[];
  /** Connections an attack opened besides its own, closed after its own was checked. */
  readonly leftovers: RawConnection[];
  /** Disconnects seen so far, for waiting on the next one. */
  closedSoFar: number;
}

const MAX_MESSAGE = 4096;

interface ServerExtra {
  allowedClientKeys?: Uint8Array[];
  authorize?: (client: { publicKey: string; address: string }) => boolean | Promise<boolean>;
  handshakeTimeout?: number;
}

async function curveServer(extra: ServerExtra = {}): Promise<Harness> {
  const keys = rawKeyPair();
  const events = monitor();
  const errors: Error[] = [];
  const failures: CurveAuthFailure[] = [];
  const received: string[] = [];
  const router = track(
    await createZmtpTransport("router", {
      bind: LOOPBACK,
      curve: {
        secretKey: keys.secretKey,
        publicKey: keys.publicKey,
        ...(extra.allowedClientKeys !== undefined && { allowedClientKeys: extra.allowedClientKeys }),
        ...(extra.authorize !== undefined && { authorize: extra.authorize }),
      },
      handshakeTimeout: extra.handshakeTimeout ?? 10_000,
      maxMessageSize: MAX_MESSAGE,
      linger: 0,
      monitor: events.listener,
      onError: (error) => errors.push(error),
      onAuthFailure: (failure: CurveAuthFailure) => failures.push(failure),
    }),
  );
  router.onMessage((peer, payload) => {
    received.push(Buffer.from(payload).toString("latin1"));
    router.send(peer, payload);
  });
  return { keys, router, port: portOf(router.endpoints[0] as string), events, errors, failures, received, leftovers: [], closedSoFar: 0 };
}

/** Waits for the server to report the next closed connection and returns its error. */
async function nextClose(h: Harness): Promise<Error | undefined> {
  h.closedSoFar += 1;
  await h.events.waitForCount(isDisconnect, h.closedSoFar);
  const event = h.events.events.filter(isDisconnect)[h.closedSoFar - 1] as ZmtpMonitorEvent & { error?: Error };
  return event.error;
}

let roundTrips = 0;

/** A well-behaved CURVE client (the raw peer) does a full round trip; the server must still serve. */
async function expectServing(h: Harness): Promise<void> {
  const client = await CurveClientPeer.connect(h.port, h.keys.publicKey);
  await client.handshake();
  const text = `round trip ${++roundTrips}`;
  client.sendMessage([Buffer.alloc(0), Buffer.from(text)]);
  const reply = await client.readMessage();
  expect(Buffer.from(reply.at(-1) as Buffer).toString()).toBe(text);
  client.connection.destroy();
  expect(await nextClose(h)).toBeUndefined();
  expect(h.router.stats().connections).toBe(0);
}

/** Connects and exchanges greetings. */
async function greeted(h: Harness): Promise<CurveClientPeer> {
  const client = await CurveClientPeer.connect(h.port, h.keys.publicKey);
  client.sendGreeting();
  const greeting = await client.readGreeting();
  expect(greeting.mechanism).toBe("CURVE");
  return client;
}

/** Up to a WELCOME. */
async function welcomed(h: Harness): Promise<CurveClientPeer> {
  const client = await greeted(h);
  client.sendHello();
  await client.readWelcome();
  return client;
}

/** A complete handshake. */
async function handshaken(h: Harness): Promise<CurveClientPeer> {
  const client = await CurveClientPeer.connect(h.port, h.keys.publicKey);
  await client.handshake();
  return client;
}

/**
 * Waits until the server closes `connection`, and says whether it sent an ERROR first. A WELCOME,
 * READY or MESSAGE arriving instead means the server took what it should have refused: that fails
 * at once (an attack's own expected answers are read by the attack itself).
 */
async function closedByServer(connection: RawConnection): Promise<{ error?: string }> {
  let error: string | undefined;
  try {
    for (;;) {
      const frame = await connection.readFrame();
      if (frame.command?.name === "ERROR") error = errorReason(frame.command.data);
      const name = frame.command?.name ?? frame.body.toString("latin1", 1, 8);
      if (name === "WELCOME" || name === "READY" || name === "MESSAGE") throw new Error(`the server answered with ${name} instead of closing the connection`);
    }
  } catch (caught) {
    if (!(caught instanceof PeerClosedError)) throw caught;
  }
  await connection.closed;
  return error === undefined ? {} : { error };
}

interface Expected {
  readonly code: string | readonly string[];
  readonly message: RegExp;
}

/** The connection closed with a ZmtpError of the expected code and message. */
function expectReason(error: Error | undefined, expected: Expected): ZmtpError {
  expect(error).toBeInstanceOf(ZmtpError);
  const zmtp = error as ZmtpError;
  const codes = typeof expected.code === "string" ? [expected.code] : expected.code;
  expect(codes).toContain(zmtp.code);
  expect(zmtp.message).toMatch(expected.message);
  return zmtp;
}

interface Attack {
  readonly name: string;
  readonly run: (h: Harness) => Promise<CurveClientPeer | RawConnection>;
  readonly expected: Expected;
}

const flipAt = (bytes: Buffer, at: number): Buffer => {
  const copy = Buffer.from(bytes);
  const index = at < 0 ? copy.length + at : at;
  copy[index] = (copy[index] as number) ^ 0x01;
  return copy;
};

const PROTOCOL = "protocol";

const serverAttacks: Attack[] = [
  {
    name: "a NULL greeting (downgrade attempt)",
    run: async (h) => {
      const connection = await connectRaw(h.port);
      connection.write(greetingBytes({ mechanism: "NULL" }));
      return connection;
    },
    expected: { code: PROTOCOL, message: /mechanism|NULL|CURVE/i },
  },
  {
    name: "a PLAIN greeting",
    run: async (h) => {
      const connection = await connectRaw(h.port);
      connection.write(greetingBytes({ mechanism: "PLAIN" }));
      return connection;
    },
    expected: { code: PROTOCOL, message: /mechanism|PLAIN|CURVE/i },
  },
  {
    name: "a HELLO one octet short",
    run: async (h) => {
      const client = await greeted(h);
      client.sendCommandBody(client.helloBody().subarray(0, 199));
      return client;
    },
    expected: { code: PROTOCOL, message: /HELLO/ },
  },
  {
    name: "a HELLO one octet long",
    run: async (h) => {
      const client = await greeted(h);
      client.sendCommandBody(Buffer.concat([client.helloBody(), Buffer.from([0])]));
      return client;
    },
    expected: { code: PROTOCOL, message: /HELLO/ },
  },
  {
    name: "a HELLO of version 2.0",
    run: async (h) => {
      const client = await greeted(h);
      client.sendHello({ version: [2, 0] });
      return client;
    },
    expected: { code: PROTOCOL, message: /version|HELLO/i },
  },
  {
    name: "a HELLO of version 1.1",
    run: async (h) => {
      const client = await greeted(h);
      client.sendHello({ version: [1, 1] });
      return client;
    },
    expected: { code: PROTOCOL, message: /version|HELLO/i },
  },
  {
    name: "a HELLO whose signature box is corrupted",
    run: async (h) => {
      const client = await greeted(h);
      client.sendCommandBody(flipAt(client.helloBody(), -1));
      return client;
    },
    expected: { code: PROTOCOL, message: /HELLO/ },
  },
  {
    name: "a HELLO whose signature box holds something else than 64 zeros",
    run: async (h) => {
      const client = await greeted(h);
      client.sendHello({ signature: new Uint8Array(64).fill(1) });
      return client;
    },
    expected: { code: PROTOCOL, message: /HELLO/ },
  },
  {
    name: "a HELLO for another server key",
    run: async (h) => {
      const client = await CurveClientPeer.connect(h.port, rawKeyPair().publicKey);
      client.sendGreeting();
      await client.readGreeting();
      client.sendHello();
      return client;
    },
    expected: { code: PROTOCOL, message: /HELLO/ },
  },
  {
    name: "a HELLO with an all-zero (low-order) transient key",
    run: async (h) => {
      const client = await greeted(h);
      const body = client.helloBody();
      body.fill(0, 80, 112);
      client.sendCommandBody(body);
      return client;
    },
    expected: { code: PROTOCOL, message: /HELLO|key/ },
  },
  {
    name: "INITIATE instead of HELLO",
    run: async (h) => {
      const client = await greeted(h);
      client.sendCommandBody(commandBody("INITIATE", Buffer.alloc(300)));
      return client;
    },
    expected: { code: PROTOCOL, message: /HELLO|INITIATE/ },
  },
  {
    name: "READY (a NULL handshake) instead of HELLO",
    run: async (h) => {
      const client = await greeted(h);
      client.connection.write(commandFrame("READY", Buffer.from("\x0bSocket-Type\x00\x00\x00\x06DEALER", "latin1")));
      return client;
    },
    expected: { code: PROTOCOL, message: /HELLO|READY/ },
  },
  {
    name: "a MESSAGE before the handshake",
    run: async (h) => {
      const client = await greeted(h);
      client.connection.write(frameBytes(Buffer.concat([commandBody("MESSAGE"), Buffer.alloc(30)]), 0));
      return client;
    },
    expected: { code: PROTOCOL, message: /HELLO|MESSAGE|message/ },
  },
  {
    name: "a plaintext message frame before the handshake",
    run: async (h) => {
      const client = await greeted(h);
      client.connection.write(frameBytes(Buffer.from("plain"), 0));
      return client;
    },
    expected: { code: PROTOCOL, message: /HELLO|message/ },
  },
  {
    name: "an ERROR command from the client",
    run: async (h) => {
      const client = await greeted(h);
      client.connection.write(commandFrame("ERROR", Buffer.from("\x03bad", "latin1")));
      return client;
    },
    expected: { code: PROTOCOL, message: /ERROR|HELLO/ },
  },
  {
    name: "a second HELLO instead of INITIATE",
    run: async (h) => {
      const client = await welcomed(h);
      client.sendHello();
      return client;
    },
    expected: { code: PROTOCOL, message: /INITIATE|HELLO/ },
  },
  {
    name: "a MESSAGE instead of INITIATE (MESSAGE before READY)",
    run: async (h) => {
      const client = await welcomed(h);
      client.sendMessageBody(client.messageBody({ data: Buffer.from("early") }));
      return client;
    },
    expected: { code: PROTOCOL, message: /INITIATE|MESSAGE|message/ },
  },
  {
    name: "an INITIATE with a forged cookie",
    run: async (h) => {
      const client = await welcomed(h);
      client.sendInitiate({ cookie: Buffer.alloc(96, 0x5a) });
      return client;
    },
    expected: { code: PROTOCOL, message: /cookie|INITIATE/i },
  },
  {
    name: "an INITIATE with a corrupted cookie box",
    run: async (h) => {
      const client = await welcomed(h);
      client.sendInitiate({ cookie: flipAt(client.cookie as Buffer, 40) });
      return client;
    },
    expected: { code: PROTOCOL, message: /cookie|INITIATE/i },
  },
  {
    name: "an INITIATE replaying the cookie of another connection",
    run: async (h) => {
      const other = await welcomed(h);
      const client = await welcomed(h);
      // Same transient key pair as the other connection's cookie would need: it is not ours.
      client.sendInitiate({ cookie: other.cookie as Buffer });
      h.leftovers.push(other.connection);
      return client;
    },
    expected: { code: PROTOCOL, message: /cookie|INITIATE/i },
  },
  {
    name: "an INITIATE whose box is corrupted",
    run: async (h) => {
      const client = await welcomed(h);
      client.sendCommandBody(flipAt(client.initiateBody(), -3));
      return client;
    },
    expected: { code: PROTOCOL, message: /INITIATE/ },
  },
  {
    name: "an INITIATE one octet shorter than the smallest",
    run: async (h) => {
      const client = await welcomed(h);
      client.sendCommandBody(client.initiateBody({ metadata: {} }).subarray(0, 256));
      return client;
    },
    expected: { code: PROTOCOL, message: /INITIATE/ },
  },
  {
    name: "an INITIATE whose box holds less than a key and a vouch",
    run: async (h) => {
      const client = await welcomed(h);
      client.sendInitiate({ plaintext: Buffer.alloc(100) });
      return client;
    },
    expected: { code: PROTOCOL, message: /INITIATE/ },
  },
  {
    name: "an INITIATE reusing the HELLO nonce",
    run: async (h) => {
      const client = await welcomed(h);
      client.sendInitiate({ nonce: 1n });
      return client;
    },
    expected: { code: PROTOCOL, message: /nonce/i },
  },
  {
    name: "an INITIATE whose vouch names another transient key",
    run: async (h) => {
      const client = await welcomed(h);
      client.sendInitiate({ vouch: client.vouch({ transient: rawKeyPair().publicKey }) });
      return client;
    },
    expected: { code: PROTOCOL, message: /vouch/i },
  },
  {
    name: "an INITIATE whose vouch names another server",
    run: async (h) => {
      const client = await welcomed(h);
      client.sendInitiate({ vouch: client.vouch({ server: rawKeyPair().publicKey }) });
      return client;
    },
    expected: { code: PROTOCOL, message: /vouch/i },
  },
  {
    name: "an INITIATE whose vouch is signed by another key than the one it claims",
    run: async (h) => {
      const client = await welcomed(h);
      client.sendInitiate({ vouch: client.vouch({ signer: rawKeyPair() }) });
      return client;
    },
    expected: { code: PROTOCOL, message: /vouch/i },
  },
  {
    name: "an INITIATE whose vouch box is corrupted",
    run: async (h) => {
      const client = await welcomed(h);
      client.sendInitiate({ vouch: flipAt(client.vouch(), 50) });
      return client;
    },
    expected: { code: PROTOCOL, message: /vouch/i },
  },
  {
    name: "an INITIATE whose metadata is malformed",
    run: async (h) => {
      const client = await welcomed(h);
      const c = client.permanent.publicKey;
      client.sendInitiate({ plaintext: Buffer.concat([c, client.vouch(), Buffer.from([11]), Buffer.from("Socket-Type"), Buffer.from([0, 0, 0, 99])]) });
      return client;
    },
    expected: { code: PROTOCOL, message: /metadata|INITIATE|malformed/i },
  },
  {
    name: "an INITIATE from an incompatible socket type",
    run: async (h) => {
      const client = await welcomed(h);
      client.sendInitiate({ metadata: { "Socket-Type": "PUB" } });
      return client;
    },
    expected: { code: PROTOCOL, message: /Socket-Type|socket type/i },
  },
  {
    name: "two INITIATEs",
    run: async (h) => {
      const client = await welcomed(h);
      client.sendInitiate();
      await client.readReady();
      client.sendInitiate();
      return client;
    },
    expected: { code: PROTOCOL, message: /INITIATE|command/i },
  },
  {
    name: "a MESSAGE whose box is corrupted",
    run: async (h) => {
      const client = await handshaken(h);
      client.sendMessageBody(flipAt(client.messageBody({ data: Buffer.from("tampered") }), -1));
      return client;
    },
    expected: { code: PROTOCOL, message: /MESSAGE|box|decrypt/i },
  },
  {
    name: "a MESSAGE boxed with the server's nonce prefix (a reflected MESSAGE)",
    run: async (h) => {
      const client = await handshaken(h);
      client.sendMessageBody(client.messageBody({ data: Buffer.from("reflected") }, { prefix: "CurveZMQMESSAGES" }));
      return client;
    },
    expected: { code: PROTOCOL, message: /MESSAGE|box|decrypt/i },
  },
  {
    name: "a replayed MESSAGE (same nonce twice)",
    run: async (h) => {
      const client = await handshaken(h);
      const body = client.messageBody({ data: Buffer.from("replayed") });
      client.sendMessageBody(body);
      await client.readMessage();
      client.sendMessageBody(body);
      return client;
    },
    expected: { code: PROTOCOL, message: /nonce/i },
  },
  {
    name: "a MESSAGE with a lower nonce than the one before",
    run: async (h) => {
      const client = await handshaken(h);
      client.sendMessageBody(client.messageBody({ data: Buffer.from("n=10") }, { nonce: 10n }));
      await client.readMessage();
      client.sendMessageBody(client.messageBody({ data: Buffer.from("n=9") }, { nonce: 9n }));
      return client;
    },
    expected: { code: PROTOCOL, message: /nonce/i },
  },
  {
    name: "a first MESSAGE reusing the INITIATE nonce",
    run: async (h) => {
      const client = await handshaken(h);
      client.sendMessageBody(client.messageBody({ data: Buffer.from("n=2") }, { nonce: 2n }));
      return client;
    },
    expected: { code: PROTOCOL, message: /nonce/i },
  },
  {
    name: "a first MESSAGE reusing a large INITIATE nonce (2^53 + 1)",
    run: async (h) => {
      const client = await welcomed(h);
      const large = 2n ** 53n + 1n;
      client.sendInitiate({ nonce: large });
      await client.readReady();
      client.sendMessageBody(client.messageBody({ data: Buffer.from("same nonce") }, { nonce: large }));
      return client;
    },
    expected: { code: PROTOCOL, message: /nonce/i },
  },
  {
    name: "a MESSAGE shorter than 33 octets",
    run: async (h) => {
      const client = await handshaken(h);
      client.sendMessageBody(client.messageBody({ data: Buffer.alloc(0) }).subarray(0, 32));
      return client;
    },
    expected: { code: PROTOCOL, message: /MESSAGE/ },
  },
  {
    name: "a plaintext frame after the handshake",
    run: async (h) => {
      const client = await handshaken(h);
      client.connection.write(frameBytes(Buffer.from("not encrypted at all, but long enough to pass a size check"), 0));
      return client;
    },
    expected: { code: PROTOCOL, message: /MESSAGE|plaintext/i },
  },
  {
    name: "a plaintext PING command after the handshake (injected, not inside a MESSAGE)",
    run: async (h) => {
      const client = await handshaken(h);
      client.connection.write(commandFrame("PING", Buffer.from([0, 0])));
      return client;
    },
    expected: { code: PROTOCOL, message: /PING|plaintext|MESSAGE|command/i },
  },
  {
    name: "a MESSAGE with reserved flag bits set inside the box",
    run: async (h) => {
      const client = await handshaken(h);
      client.sendMessageBody(client.messageBody({ data: Buffer.from("flags"), flags: 0x80 }));
      return client;
    },
    expected: { code: PROTOCOL, message: /flag|MESSAGE/i },
  },
  {
    name: "a frame header declaring 2^40 octets during the handshake",
    run: async (h) => {
      const client = await greeted(h);
      const header = Buffer.alloc(9);
      header[0] = 0x06;
      header.writeBigUInt64BE(2n ** 40n, 1);
      client.connection.write(Buffer.concat([header, commandBody("HELLO")]));
      return client;
    },
    expected: { code: ["limit", PROTOCOL], message: /./ },
  },
  {
    name: "a frame header declaring 2^40 octets after the handshake",
    run: async (h) => {
      const client = await handshaken(h);
      const header = Buffer.alloc(9);
      header[0] = 0x02;
      header.writeBigUInt64BE(2n ** 40n, 1);
      client.connection.write(Buffer.concat([header, commandBody("MESSAGE")]));
      return client;
    },
    expected: { code: "limit", message: /./ },
  },
  {
    name: "a message of more frames than maxFramesPerMessage",
    run: async (h) => {
      const client = await handshaken(h);
      client.sendMessage(Array.from({ length: 70 }, () => Buffer.from("f")));
      return client;
    },
    expected: { code: "limit", message: /frames/i },
  },
  {
    name: "an encrypted command with the MORE flag",
    run: async (h) => {
      const client = await handshaken(h);
      client.sendMessageBody(client.messageBody({ data: Buffer.from("\x04PING\x00\x00", "latin1"), flags: 0x03 }));
      return client;
    },
    expected: { code: PROTOCOL, message: /command/i },
  },
  {
    name: "an encrypted command between the frames of a message",
    run: async (h) => {
      const client = await handshaken(h);
      client.sendMessageBody(client.messageBody({ data: Buffer.from("first"), flags: 0x01 }));
      client.sendMessageBody(client.messageBody({ data: Buffer.from("\x04PING\x00\x00", "latin1"), flags: 0x02 }));
      return client;
    },
    expected: { code: PROTOCOL, message: /command/i },
  },
  {
    name: "an encrypted command with a malformed name",
    run: async (h) => {
      const client = await handshaken(h);
      client.sendMessageBody(client.messageBody({ data: Buffer.from([40, 0x41]), flags: 0x02 }));
      return client;
    },
    expected: { code: PROTOCOL, message: /command/i },
  },
  {
    name: "an encrypted second READY",
    run: async (h) => {
      const client = await handshaken(h);
      client.sendMessageBody(client.messageBody({ data: commandBody("READY", Buffer.from("\x0bSocket-Type\x00\x00\x00\x06DEALER", "latin1")), flags: 0x02 }));
      return client;
    },
    expected: { code: PROTOCOL, message: /READY/ },
  },
  {
    name: "a MESSAGE larger than maxMessageSize",
    run: async (h) => {
      const client = await handshaken(h);
      client.sendMessage([Buffer.alloc(MAX_MESSAGE + 1, 1)]);
      return client;
    },
    expected: { code: "limit", message: /maxMessageSize|octets|size/i },
  },
  {
    name: "a HELLO after the handshake",
    run: async (h) => {
      const client = await handshaken(h);
      client.sendHello();
      return client;
    },
    expected: { code: PROTOCOL, message: /HELLO|MESSAGE|command/i },
  },
];

describe("a CURVE server against hostile clients", () => {
  for (const attack of serverAttacks) {
    it(`closes ${attack.name}, reports why, and keeps serving`, async () => {
      const h = await curveServer();
      await expectServing(h);
      const peer = await attack.run(h);
      // After an attack on an open connection, a good MESSAGE: answered only if the attack was ignored.
      if (peer instanceof CurveClientPeer && peer.serverMetadata !== undefined) peer.sendMessage([Buffer.from("probe")]);
      const connection = peer instanceof CurveClientPeer ? peer.connection : peer;
      const [closed, error] = await Promise.all([closedByServer(connection), nextClose(h)]);
      expectReason(error, attack.expected);
      expect(closed.error === undefined || closed.error.length > 0).toBe(true);
      // A failed handshake is also reported to onAuthFailure, with the very error the connection closed with.
      const reported = h.failures.splice(0);
      expect(reported.length).toBeLessThanOrEqual(1);
      for (const failure of reported) {
        expect(failure.kind).toBe("protocol");
        expect(failure.error).toBe(error);
      }
      for (const leftover of h.leftovers.splice(0)) {
        leftover.destroy();
        await nextClose(h);
      }
      expect(h.router.stats().connections).toBe(0);
      expect(h.router.peers).toBe(0);
      await expectServing(h);
      expect(h.router.stats().connections).toBe(0);
    });
  }

  it("delivers every MESSAGE before a replayed one exactly once, and nothing after it", async () => {
    const h = await curveServer();
    const client = await handshaken(h);
    const first = client.messageBody({ data: Buffer.from("one") });
    client.sendMessageBody(first);
    client.sendMessage([Buffer.from("two")]);
    expect((await client.readMessage()).map(String).at(-1)).toBe("one");
    expect((await client.readMessage()).map(String).at(-1)).toBe("two");
    client.sendMessageBody(first);
    client.sendMessage([Buffer.from("three")]);
    await closedByServer(client.connection);
    expectReason(await nextClose(h), { code: PROTOCOL, message: /nonce/i });
    expect(h.received).toEqual(["one", "two"]);
    await expectServing(h);
  });

  it("refuses a recorded session replayed on a new connection (its HELLO, INITIATE and MESSAGE)", async () => {
    const h = await curveServer();
    // The victim's session, as an eavesdropper records it.
    const victim = await greeted(h);
    const hello = frameBytes(victim.helloBody(), 0x04);
    victim.connection.write(hello);
    await victim.readWelcome();
    const initiate = frameBytes(victim.initiateBody(), 0x04);
    victim.connection.write(initiate);
    await victim.readReady();
    const message = frameBytes(victim.messageBody({ data: Buffer.from("transfer 100") }), 0x04);
    victim.connection.write(message);
    await victim.readMessage();
    victim.connection.destroy();
    await nextClose(h);
    // The replay: the same octets on a new connection (the server's new WELCOME is ignored).
    const replay = await connectRaw(h.port);
    replay.write(greetingBytes());
    await replay.readGreeting();
    replay.write(hello);
    await replay.readCommand("WELCOME");
    replay.write(initiate);
    replay.write(message);
    // A READY (or the echo of the message) here means the server took the replayed INITIATE.
    await closedByServer(replay);
    expectReason(await nextClose(h), { code: PROTOCOL, message: /cookie|INITIATE/i });
    expect(h.received).toEqual(["transfer 100"]);
    expect(h.router.stats().connections).toBe(0);
    await expectServing(h);
  });

  it("takes MESSAGE commands in data frames, as libzmq writes them", async () => {
    const h = await curveServer();
    const client = await handshaken(h);
    client.messageFrameFlags = 0x00;
    client.sendMessage([Buffer.alloc(0), Buffer.from("in data frames")]);
    expect((await client.readMessage()).map(String).at(-1)).toBe("in data frames");
    client.connection.destroy();
    expect(await nextClose(h)).toBeUndefined();
  });

  it("takes a MESSAGE of exactly maxMessageSize octets (the box overhead is not counted)", async () => {
    const h = await curveServer();
    const client = await handshaken(h);
    const payload = Buffer.alloc(MAX_MESSAGE, 0x33);
    client.sendMessage([payload]);
    expect((await client.readMessage()).at(-1)).toEqual(payload);
    client.connection.destroy();
    expect(await nextClose(h)).toBeUndefined();
  });

  it("closes a client that stops after its greeting, after HELLO, after INITIATE's half, with a timeout", async () => {
    const h = await curveServer({ handshakeTimeout: 2000 });
    const silentAfterGreeting = await greeted(h);
    const silentAfterHello = await greeted(h);
    silentAfterHello.sendHello();
    await silentAfterHello.readWelcome();
    const halfInitiate = await welcomed(h);
    const initiate = frameBytes(halfInitiate.initiateBody(), 0x04);
    halfInitiate.connection.write(initiate.subarray(0, 100));
    for (const client of [silentAfterGreeting, silentAfterHello, halfInitiate]) await closedByServer(client.connection);
    for (let i = 0; i < 3; i++) expectReason(await nextClose(h), { code: "timeout", message: /handshake/ });
    // Broken off without detail: "other".
    expect(h.failures.map((failure) => failure.kind)).toEqual(["other", "other", "other"]);
    expect(h.router.stats().connections).toBe(0);
    await expectServing(h);
  });

  it("refuses a client key it does not allow with an ERROR and an auth failure naming the key", async () => {
    const allowed = rawKeyPair();
    const h = await curveServer({ allowedClientKeys: [allowed.publicKey] });
    const stranger = await welcomed(h);
    stranger.sendInitiate();
    const closed = await closedByServer(stranger.connection);
    expect(closed.error).toBeDefined();
    await nextClose(h);
    expect(h.failures.length).toBeGreaterThanOrEqual(1);
    const failure = h.failures.at(-1) as CurveAuthFailure;
    expect(failure.kind).toBe("auth");
    expect(failure.publicKey).toBeDefined();
    // The allowed client still gets through.
    const client = await CurveClientPeer.connect(h.port, h.keys.publicKey, allowed);
    await client.handshake();
    client.sendMessage([Buffer.from("allowed")]);
    expect((await client.readMessage()).map(String).at(-1)).toBe("allowed");
    client.connection.destroy();
    await nextClose(h);
  });

  it("refuses a real plaintext (NULL) dealer and serves CURVE clients meanwhile", async () => {
    const h = await curveServer();
    const plainEvents = monitor();
    const plain = track(
      await createZmtpTransport("dealer", { connect: `tcp://127.0.0.1:${h.port}`, reconnectInterval: -1, linger: 0, monitor: plainEvents.listener, onError: () => undefined }),
    );
    const event = await plainEvents.waitFor(isDisconnect);
    expect((event as { error?: Error }).error).toBeInstanceOf(ZmtpError);
    expectReason(await nextClose(h), { code: PROTOCOL, message: /NULL|CURVE|mechanism/i });
    expect(plain.peers).toBe(0);
    expect(h.router.stats().connections).toBe(0);
    await expectServing(h);
  });

  it("a real CURVE dealer meeting a plaintext router closes with the reason, and the router goes on", async () => {
    const routerEvents = monitor();
    const router = track(await createZmtpTransport("router", { bind: LOOPBACK, linger: 0, monitor: routerEvents.listener, onError: () => undefined }));
    const failures: CurveAuthFailure[] = [];
    const dealer = track(
      await createZmtpTransport("dealer", {
        connect: router.endpoints[0] as string,
        curve: { serverKey: rawKeyPair().publicKey },
        linger: 0,
        onAuthFailure: (failure: CurveAuthFailure) => failures.push(failure),
      }),
    );
    const closedWith = await dealer.closed;
    expect(closedWith).toBeInstanceOf(ZmtpEndpointError);
    expectReason((closedWith as Error).cause as Error, { code: PROTOCOL, message: /NULL|CURVE|mechanism/i });
    expect(failures.map((failure) => failure.kind)).toEqual(["protocol"]);
    await routerEvents.waitFor(isDisconnect);
    expect(router.stats().connections).toBe(0);
  });

  it("answers an encrypted PING inside a MESSAGE with an encrypted PONG", async () => {
    const h = await curveServer();
    const client = await handshaken(h);
    client.sendMessageBody(client.messageBody({ data: Buffer.from("\x04PING\x00\x00ctx", "latin1"), flags: 0x02 }));
    const frame = await client.connection.readFrame();
    const plain = client.openMessage(frame.body);
    expect(plain[0]).toBe(0x02);
    expect(plain.subarray(1).toString("latin1")).toBe("\x04PONGctx");
    client.connection.destroy();
    expect(await nextClose(h)).toBeUndefined();
  });

  it("drops a client whose authorize answer comes after it hung up, and serves the next", async () => {
    let answer: ((accepted: boolean) => void) | undefined;
    let asked: () => void = () => undefined;
    const askedOnce = new Promise<void>((resolve) => {
      asked = resolve;
    });
    let pending = true;
    const h = await curveServer({
      authorize: (identity) => {
        if (!pending) return true;
        pending = false;
        expect(identity.publicKey).toHaveLength(40);
        asked();
        return new Promise<boolean>((accept) => {
          answer = accept;
        });
      },
    });
    const client = await welcomed(h);
    client.sendInitiate();
    await askedOnce;
    client.connection.destroy();
    await nextClose(h);
    answer?.(true);
    expect(h.router.stats().connections).toBe(0);
    expect(h.router.peers).toBe(0);
    await expectServing(h);
    expect(h.router.peers).toBe(0);
  });

  it("refuses a client whose authorize hook throws or rejects, with an auth failure carrying the error", async () => {
    let mode: "throw" | "reject" = "throw";
    const h = await curveServer({
      authorize: () => {
        if (mode === "throw") throw new Error("hook exploded");
        return Promise.reject(new Error("hook rejected"));
      },
    });
    for (const current of ["throw", "reject"] as const) {
      mode = current;
      const client = await welcomed(h);
      client.sendInitiate();
      await closedByServer(client.connection);
      const error = await nextClose(h);
      expect((error as ZmtpError).code).toBe("auth");
      const failure = h.failures.at(-1) as CurveAuthFailure;
      expect(failure.kind).toBe("auth");
      expect(failure.message).toMatch(current === "throw" ? /hook exploded/ : /hook rejected/);
    }
    expect(h.router.stats().connections).toBe(0);
  });

  it("survives many attacks at once and still has no connection left", async () => {
    const h = await curveServer();
    const attacks = serverAttacks.filter((attack) => !attack.name.includes("another connection"));
    const peers = await Promise.all(attacks.map((attack) => attack.run(h)));
    await Promise.all(peers.map((peer) => closedByServer(peer instanceof CurveClientPeer ? peer.connection : peer)));
    await h.events.waitForCount(isDisconnect, attacks.length);
    h.closedSoFar = attacks.length;
    expect(h.router.stats().connections).toBe(0);
    expect(h.events.events.filter(isDisconnect).every((event) => (event as { error?: Error }).error instanceof ZmtpError)).toBe(true);
    await expectServing(h);
  });
});

// ------------------------------------------------------------------ the client side

interface ClientHarness {
  readonly listener: RawListener;
  readonly keys: RawKeyPair;
  readonly dealer: ZmtpTransport;
  readonly events: Monitor;
  readonly errors: Error[];
  readonly failures: CurveAuthFailure[];
}

async function curveClient(closeOnAuthFailure?: boolean): Promise<ClientHarness> {
  const listener = track(await RawListener.listen());
  const keys = rawKeyPair();
  const events = monitor();
  const errors: Error[] = [];
  const failures: CurveAuthFailure[] = [];
  const dealer = track(
    await createZmtpTransport("dealer", {
      connect: listener.endpoint,
      curve: { serverKey: keys.publicKey },
      ...(closeOnAuthFailure !== undefined && { closeOnAuthFailure }),
      reconnectInterval: 20,
      handshakeTimeout: 10_000,
      linger: 0,
      monitor: events.listener,
      onError: (error) => errors.push(error),
      onAuthFailure: (failure: CurveAuthFailure) => failures.push(failure),
    }),
  );
  return { listener, keys, dealer, events, errors, failures };
}

/** The dealer's next connection is served well: a full handshake and a message each way. */
async function expectClientRecovers(c: ClientHarness): Promise<void> {
  const handshakes = c.events.events.filter(isHandshake).length + 1;
  const server = new CurveServerConnection(await c.listener.accept(), c.keys);
  await server.handshake();
  await c.events.waitForCount(isHandshake, handshakes);
  c.dealer.send(undefined, Buffer.from("after the attack"));
  expect((await server.readMessage()).map(String).at(-1)).toBe("after the attack");
}

interface ServerAttack {
  readonly name: string;
  /** "session": after READY (an ordinary protocol error, reported through onError, not a handshake failure). */
  readonly stage?: "session";
  readonly run: (server: CurveServerConnection) => Promise<void>;
  readonly expected: Expected;
}

async function helloRead(server: CurveServerConnection): Promise<void> {
  server.sendGreeting();
  const greeting = await server.readGreeting();
  expect(greeting.mechanism).toBe("CURVE");
  await server.readHello();
}

async function initiateRead(server: CurveServerConnection): Promise<void> {
  await helloRead(server);
  server.sendWelcome();
  await server.readInitiate();
}

const clientAttacks: ServerAttack[] = [
  {
    name: "a NULL greeting (the server downgrades)",
    run: async (server) => {
      server.connection.write(greetingBytes({ mechanism: "NULL" }));
      await server.readGreeting();
    },
    expected: { code: PROTOCOL, message: /mechanism|NULL|CURVE/i },
  },
  {
    name: "a WELCOME whose box is corrupted",
    run: async (server) => {
      await helloRead(server);
      server.sendCommandBody(flipAt(commandBody("WELCOME", server.welcomeData()), -1));
    },
    expected: { code: PROTOCOL, message: /WELCOME/ },
  },
  {
    name: "a WELCOME one octet short",
    run: async (server) => {
      await helloRead(server);
      server.sendCommandBody(commandBody("WELCOME", server.welcomeData().subarray(0, 159)));
    },
    expected: { code: PROTOCOL, message: /WELCOME/ },
  },
  {
    name: "a WELCOME from another server key (a man in the middle)",
    run: async (server) => {
      await helloRead(server);
      server.sendWelcome({ signer: rawKeyPair() });
    },
    expected: { code: PROTOCOL, message: /WELCOME|server key/i },
  },
  {
    name: "garbage instead of WELCOME",
    run: async (server) => {
      await helloRead(server);
      server.connection.write(frameBytes(Buffer.alloc(40, 0xee), 0));
    },
    expected: { code: PROTOCOL, message: /WELCOME|message|frame/i },
  },
  {
    name: "READY instead of WELCOME",
    run: async (server) => {
      await helloRead(server);
      server.sendCommandBody(commandBody("READY", Buffer.alloc(30)));
    },
    expected: { code: PROTOCOL, message: /WELCOME|READY/ },
  },
  {
    name: "a READY whose box is corrupted",
    run: async (server) => {
      await initiateRead(server);
      server.sendCommandBody(flipAt(commandBody("READY", server.readyData()), -1));
    },
    expected: { code: PROTOCOL, message: /READY/ },
  },
  {
    name: "a READY sealed with another key",
    run: async (server) => {
      await initiateRead(server);
      server.sendReady({ key: new Uint8Array(32).fill(9) });
    },
    expected: { code: PROTOCOL, message: /READY/ },
  },
  {
    name: "a READY without a Socket-Type a DEALER can talk to",
    run: async (server) => {
      await initiateRead(server);
      server.sendReady({ metadata: { "Socket-Type": "SUB" } });
    },
    expected: { code: PROTOCOL, message: /Socket-Type|socket type/i },
  },
  {
    name: "a MESSAGE instead of READY",
    run: async (server) => {
      await initiateRead(server);
      server.sendMessageBody(server.messageBody({ data: Buffer.from("early") }));
    },
    expected: { code: PROTOCOL, message: /READY|MESSAGE|message/ },
  },
  {
    stage: "session",
    name: "a MESSAGE whose box is corrupted",
    run: async (server) => {
      await initiateRead(server);
      server.sendReady();
      server.sendMessageBody(flipAt(server.messageBody({ data: Buffer.from("bad") }), -1));
    },
    expected: { code: PROTOCOL, message: /MESSAGE|box|decrypt/i },
  },
  {
    stage: "session",
    name: "a MESSAGE reusing the READY nonce",
    run: async (server) => {
      await initiateRead(server);
      server.sendReady();
      server.sendMessageBody(server.messageBody({ data: Buffer.from("n=1") }, { nonce: 1n }));
    },
    expected: { code: PROTOCOL, message: /nonce/i },
  },
  {
    name: "a server that hangs up after WELCOME",
    run: async (server) => {
      await helloRead(server);
      server.sendWelcome();
      await server.readInitiate();
      server.connection.destroy();
    },
    expected: { code: [PROTOCOL, "timeout", "lost-remote"], message: /./ },
  },
];

describe("a CURVE client against hostile servers", () => {
  for (const attack of clientAttacks.filter((candidate) => candidate.stage === "session")) {
    for (const closeOnAuthFailure of [false, true]) {
      it(`drops the connection on ${attack.name}, reports why, then reconnects and works (closeOnAuthFailure: ${closeOnAuthFailure})`, async () => {
        const c = await curveClient(closeOnAuthFailure);
        const server = new CurveServerConnection(await c.listener.accept(), c.keys);
        await attack.run(server);
        await server.connection.closed;
        const event = await c.events.waitFor(isDisconnect);
        expectReason((event as { error?: Error }).error, attack.expected);
        expect(c.errors.some((error) => error === (event as { error?: Error }).error)).toBe(true);
        expect(c.failures).toHaveLength(0);
        await expectClientRecovers(c);
      });
    }
  }

  for (const attack of clientAttacks.filter((candidate) => candidate.stage === undefined)) {
    const hangUp = attack.name.includes("hangs up");
    it(`reports ${attack.name} as a failed handshake, then reconnects and works (closeOnAuthFailure: false)`, async () => {
      const c = await curveClient(false);
      const server = new CurveServerConnection(await c.listener.accept(), c.keys);
      await attack.run(server);
      await server.connection.closed;
      await c.events.waitFor(isDisconnect);
      expect(c.failures).toHaveLength(1);
      const failure = c.failures[0] as CurveAuthFailure;
      expect(failure.kind).toBe(hangUp ? "other" : "protocol");
      expect(failure.address).toBe(c.listener.endpoint);
      if (!hangUp) expectReason(failure.error, attack.expected);
      expect(c.dealer.peers).toBe(0);
      await expectClientRecovers(c);
    });

    it(`${hangUp ? "stays open and reconnects after" : "closes the transport with the reason after"} ${attack.name} (closeOnAuthFailure by default)`, async () => {
      const c = await curveClient();
      const server = new CurveServerConnection(await c.listener.accept(), c.keys);
      await attack.run(server);
      await server.connection.closed;
      if (hangUp) {
        await expectClientRecovers(c);
        return;
      }
      const closedWith = await c.dealer.closed;
      expect(closedWith).toBeInstanceOf(ZmtpEndpointError);
      expect((closedWith as ZmtpEndpointError).code).toBe("connect");
      expectReason((closedWith as Error).cause as Error, attack.expected);
      expect(() => c.dealer.send(undefined, Buffer.from("late"))).toThrow();
    });
  }

  it("connects to a server whose greeting leaves as-server 0 (as libzmq does)", async () => {
    const c = await curveClient(false);
    const server = new CurveServerConnection(await c.listener.accept(), c.keys);
    server.sendGreeting({ asServer: false });
    await server.readGreeting();
    await server.readHello();
    server.sendWelcome();
    await server.readInitiate();
    server.sendReady();
    await c.events.waitFor(isHandshake);
    c.dealer.send(undefined, Buffer.from("hello libzmq-like server"));
    expect((await server.readMessage()).map(String).at(-1)).toBe("hello libzmq-like server");
  });

  it("reads MESSAGE commands in data frames, as libzmq writes them", async () => {
    const c = await curveClient();
    const server = new CurveServerConnection(await c.listener.accept(), c.keys);
    await server.handshake();
    await c.events.waitFor(isHandshake);
    const messages = reader(c.dealer);
    server.messageFrameFlags = 0x00;
    server.sendMessage([Buffer.from("in a data frame")]);
    expect(Buffer.from((await messages.next()).payload).toString()).toBe("in a data frame");
  });

  it("reports an ERROR from the server as an auth failure", async () => {
    const c = await curveClient();
    const server = new CurveServerConnection(await c.listener.accept(), c.keys);
    await initiateRead(server);
    // libzmq's reason for a refused key is the ZAP status code.
    server.sendCommandBody(commandBody("ERROR", Buffer.from("\x03400", "latin1")));
    await server.connection.closed;
    await c.events.waitFor(isDisconnect);
    const failure = c.failures.find((candidate) => candidate.kind === "auth");
    expect(failure?.message).toMatch(/400/);
    const closedWith = await c.dealer.closed;
    expect((closedWith as ZmtpEndpointError).code).toBe("connect");
    expect(((closedWith as Error).cause as ZmtpError).code).toBe("auth");
  });

  it("checks its server's MESSAGE nonces increase", async () => {
    const c = await curveClient(false);
    const server = new CurveServerConnection(await c.listener.accept(), c.keys);
    await server.handshake();
    await c.events.waitFor(isHandshake);
    const messages = reader(c.dealer);
    server.sendMessageBody(server.messageBody({ data: Buffer.from("n=5") }, { nonce: 5n }));
    expect(Buffer.from((await messages.next()).payload).toString()).toBe("n=5");
    server.sendMessageBody(server.messageBody({ data: Buffer.from("n=5 again") }, { nonce: 5n }));
    await server.connection.closed;
    expectReason(((await c.events.waitFor(isDisconnect)) as { error?: Error }).error, { code: PROTOCOL, message: /nonce/i });
    await expectClientRecovers(c);
  });
});
