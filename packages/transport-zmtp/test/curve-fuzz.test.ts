// Fuzzing the CURVE mechanism at the byte level: valid handshake commands and MESSAGE commands,
// made by the independent test peer (curve-peer.ts), are mutated (bit flips, random octets,
// insertions, deletions, truncations, length changes, nonce changes, reordering) and fed to the
// transport's handshake state machines and MESSAGE codec. Every outcome must be a success or a
// reported failure, never a throw; and a mutated command must never be accepted (boxes
// authenticate everything but HELLO's padding). Seeded and deterministic.
import { Buffer } from "node:buffer";
import type { Socket } from "node:net";
import { describe, expect, it } from "vitest";
import { ZmtpConnection } from "../src/connection.js";
import type { ConnectionOwner } from "../src/connection.js";
import { ZmtpError } from "../src/errors.js";
import { resolveOptions } from "../src/options.js";
import { CurveCodec } from "../src/curve/codec.js";
import { CurveClientHandshake, CurveServerHandshake } from "../src/curve/handshake.js";
import type { HandshakeFailure, HandshakeHost } from "../src/curve/handshake.js";
import { resolveCurve } from "../src/curve/options.js";
import type { CurveClientConfig, CurveServerConfig } from "../src/curve/options.js";
import {
  CurveClientPeer,
  CurveServerConnection,
  RawConnection,
  boxKey,
  commandBody,
  frameBytes,
  greetingBytes,
  metadataBytes,
  parseFrames,
  rawKeyPair,
  seal,
  shortNonce,
  unseal,
} from "./curve-peer.js";
import { FakeSocket, prng, randomChunks } from "./codec-helpers.js";

const HANDSHAKES = 500;
const CONNECTIONS = 300;
const MAX_MESSAGE = 2000;
const MAX_FRAMES = 8;
const MESSAGES = 20_000;

/** A handshake host that records what the state machine does. */
class RecordingHost implements HandshakeHost {
  readonly address = "127.0.0.1:1";
  readonly metadata: Uint8Array;
  closed = false;
  readonly sent: Buffer[] = [];
  failure: HandshakeFailure | undefined;
  codec: CurveCodec | undefined;
  peerMetadata: Uint8Array | undefined;

  constructor(socketType: string) {
    this.metadata = metadataBytes({ "Socket-Type": socketType });
  }
  send(bytes: Buffer): void {
    this.sent.push(Buffer.from(bytes));
  }
  done(codec: CurveCodec, metadata: Uint8Array): void {
    this.codec = codec;
    this.peerMetadata = metadata;
  }
  fail(failure: HandshakeFailure): void {
    if (this.failure !== undefined) throw new Error(`second failure: ${failure.message}`);
    this.failure = failure;
    this.closed = true;
  }
  /** The data of the last command sent, by name. */
  lastCommand(name: string): Buffer | undefined {
    const frames = parseFrames(Buffer.concat(this.sent));
    const found = frames.filter((frame) => frame.command?.name === name).at(-1);
    return found?.command?.data;
  }
}

type Random = () => number;

/** A mutation of `data`: 1 to 4 random edits. */
function mutate(data: Buffer, random: Random): Buffer {
  const pick = (n: number): number => Math.floor(random() * n);
  let out = Buffer.from(data);
  const rounds = 1 + pick(4);
  for (let r = 0; r < rounds; r++) {
    const at = pick(Math.max(out.length, 1));
    switch (pick(8)) {
      case 0:
      case 1: // flip a bit
        if (out.length > 0) out[at] = (out[at] as number) ^ (1 << pick(8));
        break;
      case 2: // a random octet
        if (out.length > 0) out[at] = pick(256);
        break;
      case 3: // insert octets
        out = Buffer.concat([out.subarray(0, at), Buffer.from(Array.from({ length: 1 + pick(8) }, () => pick(256))), out.subarray(at)]);
        break;
      case 4: // delete a range
        out = Buffer.concat([out.subarray(0, at), out.subarray(at + 1 + pick(16))]);
        break;
      case 5: // duplicate a range
        out = Buffer.concat([out.subarray(0, at), out.subarray(at, at + 1 + pick(32)), out.subarray(at)]);
        break;
      case 6: // truncate
        out = out.subarray(0, at);
        break;
      default: // change the name length octet (the command's own length field)
        if (out.length > 0) out[0] = pick(2) === 0 ? (out[0] as number) + 1 - 2 * pick(2) : pick(256);
        break;
    }
  }
  return out;
}

/** Name and data of a command body, as the ZMTP decoder would split it; undefined if it cannot. */
function split(body: Buffer): { name: string; data: Buffer } | undefined {
  const length = body[0];
  if (length === undefined || length === 0 || 1 + length > body.length) return undefined;
  return { name: body.toString("latin1", 1, 1 + length), data: body.subarray(1 + length) };
}

/** Same length and every difference inside [from, to). */
function changedOnlyWithin(a: Buffer, b: Buffer, from: number, to: number): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i] && (i < from || i >= to)) return false;
  return true;
}

const KINDS = new Set(["protocol", "auth", "other"]);

function checkFailure(failure: HandshakeFailure): void {
  // Plain checks in the loop: expect() per step would dominate the run time.
  if (!KINDS.has(failure.kind)) expect.fail(`failure of kind ${failure.kind}`);
  if (typeof failure.message !== "string" || failure.message.length === 0) expect.fail("failure without a message");
  if (failure.reply !== undefined && (failure.reply.length === 0 || failure.reply.length > 255)) expect.fail(`ERROR reason ${failure.reply}`);
}

/** Feeds a command body; a throw fails the test. */
function feed(target: { onCommand(name: string, data: Uint8Array): void }, body: Buffer): boolean {
  const parts = split(body);
  if (parts === undefined) return false;
  try {
    target.onCommand(parts.name, parts.data);
  } catch (error) {
    expect.fail(`onCommand(${parts.name}) threw: ${String(error)}`);
  }
  return true;
}

describe("fuzz: the CURVE handshake", () => {
  it(`server role: ${HANDSHAKES} mutated, reordered and replayed client handshakes end in READY or a reported failure`, () => {
    const random = prng(26_2013);
    const keys = rawKeyPair();
    const config = resolveCurve({ secretKey: keys.secretKey }) as CurveServerConfig;
    const detached = RawConnection.detached();
    const tally = { ready: 0, failedHello: 0, failedInitiate: 0, failedOrder: 0, messages: 0, rejectedMessages: 0 };
    for (let i = 0; i < HANDSHAKES; i++) {
      const host = new RecordingHost("ROUTER");
      const server = new CurveServerHandshake(host, config);
      server.start();
      const client = new CurveClientPeer(detached, keys.publicKey);
      const plan = random();
      if (plan < 0.1) {
        // Out of order: something else than HELLO first.
        const body = [commandBody("INITIATE", Buffer.alloc(300)), commandBody("READY"), commandBody("MESSAGE", Buffer.alloc(40)), commandBody("HELLO", Buffer.alloc(194)), commandBody("WELCOME", Buffer.alloc(160))][Math.floor(random() * 5)] as Buffer;
        feed(server, body);
        if (host.codec !== undefined || host.lastCommand("WELCOME") !== undefined) expect.fail(`accepted ${body.toString("latin1", 1, 9)} first`);
        if (host.failure !== undefined) checkFailure(host.failure);
        tally.failedOrder += 1;
        continue;
      }
      const hello = client.helloBody();
      const sentHello = random() < 0.3 ? mutate(hello, random) : hello;
      if (!feed(server, sentHello)) continue;
      const welcome = host.lastCommand("WELCOME");
      if (welcome === undefined) {
        if (host.failure === undefined) expect.fail("HELLO neither answered nor refused");
        checkFailure(host.failure);
        tally.failedHello += 1;
        continue;
      }
      // Only the anti-amplification padding (octets 8 to 80 of the body) is not authenticated.
      if (!changedOnlyWithin(hello, sentHello, 8, 80)) expect.fail(`a mutated HELLO was answered: ${sentHello.toString("hex")}`);
      client.acceptWelcome(welcome);
      let initiate = client.initiateBody({ metadata: { "Socket-Type": "DEALER" } });
      const twist = random();
      if (twist < 0.05) feed(server, hello); // a second HELLO
      else if (twist < 0.1) initiate = client.initiateBody({ nonce: 1n }); // reuses the HELLO nonce
      const sentInitiate = random() < 0.4 ? mutate(initiate, random) : initiate;
      // An unparsable command never reaches the mechanism (the ZMTP decoder refuses it).
      if (host.failure === undefined && !feed(server, sentInitiate)) continue;
      if (host.codec === undefined) {
        if (host.failure === undefined) expect.fail("INITIATE neither answered nor refused");
        checkFailure(host.failure);
        tally.failedInitiate += 1;
        continue;
      }
      if (!sentInitiate.equals(initiate) || twist < 0.1) expect.fail(`a mutated, repeated or replayed INITIATE was accepted: ${sentInitiate.toString("hex")}`);
      if (!Buffer.from(host.peerMetadata ?? []).equals(metadataBytes({ "Socket-Type": "DEALER" }))) expect.fail("metadata changed");
      client.acceptReady(host.lastCommand("READY") as Buffer);
      tally.ready += 1;
      // A few MESSAGEs, some mutated: a mutated one is refused, and then the connection would end.
      const codec = host.codec;
      for (let m = 0; m < 4; m++) {
        const data = Buffer.from(`message ${i}.${m}`);
        const body = client.messageBody({ data, flags: 0 });
        const sent = random() < 0.3 ? mutate(body, random) : body;
        const parts = split(sent);
        if (parts === undefined || parts.name !== "MESSAGE") break;
        const opened = codec.open(parts.data);
        if (typeof opened === "string") {
          tally.rejectedMessages += 1;
          break;
        }
        if (!sent.equals(body)) expect.fail(`a mutated MESSAGE was accepted: ${sent.toString("hex")}`);
        if (!Buffer.from(opened).equals(Buffer.concat([Buffer.from([0]), data]))) expect.fail("MESSAGE plaintext differs");
        tally.messages += 1;
      }
    }
    // Every path was exercised.
    expect(tally.ready).toBeGreaterThan(HANDSHAKES / 4);
    expect(tally.failedHello).toBeGreaterThan(HANDSHAKES / 20);
    expect(tally.failedInitiate).toBeGreaterThan(HANDSHAKES / 20);
    expect(tally.failedOrder).toBeGreaterThan(HANDSHAKES / 20);
    expect(tally.messages).toBeGreaterThan(HANDSHAKES / 4);
    expect(tally.rejectedMessages).toBeGreaterThan(HANDSHAKES / 20);
    detached.destroy();
  }, 120_000);

  it(`client role: ${HANDSHAKES} mutated server answers end in READY or a reported failure`, () => {
    const random = prng(25_2013);
    const keys = rawKeyPair();
    const config = resolveCurve({ serverKey: keys.publicKey }) as CurveClientConfig;
    const detached = RawConnection.detached();
    const tally = { ready: 0, failedWelcome: 0, failedReady: 0 };
    for (let i = 0; i < HANDSHAKES; i++) {
      const host = new RecordingHost("DEALER");
      const client = new CurveClientHandshake(host, config);
      client.start();
      const server = new CurveServerConnection(detached, keys);
      server.acceptHello(host.lastCommand("HELLO") as Buffer);
      // Now and then a WELCOME from another server key (a man in the middle).
      const forged = random() < 0.05;
      const welcome = commandBody("WELCOME", server.welcomeData(forged ? { signer: rawKeyPair() } : {}));
      const sentWelcome = random() < 0.3 ? mutate(welcome, random) : welcome;
      if (!feed(client, sentWelcome)) continue;
      const initiate = host.lastCommand("INITIATE");
      if (initiate === undefined) {
        if (host.failure === undefined) expect.fail("WELCOME neither answered nor refused");
        checkFailure(host.failure);
        tally.failedWelcome += 1;
        continue;
      }
      if (!sentWelcome.equals(welcome) || forged) expect.fail(`a mutated WELCOME was answered: ${sentWelcome.toString("hex")}`);
      server.acceptInitiate(initiate);
      const ready = commandBody("READY", server.readyData({ metadata: { "Socket-Type": "ROUTER" } }));
      const sentReady = random() < 0.4 ? mutate(ready, random) : ready;
      if (!feed(client, sentReady)) continue;
      if (host.codec === undefined) {
        if (host.failure === undefined) expect.fail("READY neither accepted nor refused");
        checkFailure(host.failure);
        tally.failedReady += 1;
        continue;
      }
      if (!sentReady.equals(ready)) expect.fail(`a mutated READY was accepted: ${sentReady.toString("hex")}`);
      tally.ready += 1;
      // The client's codec opens the server's MESSAGE and refuses it replayed.
      const message = server.messageBody({ data: Buffer.from("from the server") });
      const opened = host.codec.open(message.subarray(8));
      if (typeof opened === "string") expect.fail(`a good MESSAGE was refused: ${opened}`);
      if (typeof host.codec.open(message.subarray(8)) !== "string") expect.fail("a replayed MESSAGE was accepted");
    }
    expect(tally.ready).toBeGreaterThan(HANDSHAKES / 4);
    expect(tally.failedWelcome).toBeGreaterThan(HANDSHAKES / 20);
    expect(tally.failedReady).toBeGreaterThan(HANDSHAKES / 20);
    detached.destroy();
  }, 120_000);
});

describe("fuzz: CURVE MESSAGE commands", () => {
  it(`opens ${MESSAGES.toLocaleString("en")} messages sealed by the test peer, refuses every mutated one, and seals what the peer opens`, () => {
    const random = prng(37_2013);
    const client = rawKeyPair();
    const server = rawKeyPair();
    const key = boxKey(client.secretKey, server.publicKey);
    let receiver = new CurveCodec(key, false, 2, 2);
    let peerNonce = 2n;
    const tally = { accepted: 0, refused: 0, sealed: 0 };
    const sizes = [0, 1, 15, 16, 17, 31, 32, 33, 63, 64, 65, 222, 223, 224, 254, 255, 256, 300, 1000, 4096, 65_504, 70_000];
    for (let i = 0; i < MESSAGES; i++) {
      const size = random() < 0.5 ? (sizes[Math.floor(random() * sizes.length)] as number) : Math.floor(random() * 600);
      const payload = Buffer.alloc(size, i & 0xff);
      const flags = Math.floor(random() * 4) & 0x03;
      const plan = random();
      let nonce = peerNonce + 1n + (random() < 0.1 ? BigInt(Math.floor(random() * 1000)) : 0n);
      if (plan < 0.05) nonce = peerNonce; // a replayed nonce
      else if (plan < 0.08) nonce = peerNonce - 1n; // a decreasing nonce
      const inner = Buffer.concat([Buffer.from([flags]), payload]);
      const prefix = plan > 0.97 ? "CurveZMQMESSAGES" : "CurveZMQMESSAGEC";
      const valid = Buffer.concat([shortNonce("", nonce).subarray(16), seal(key, shortNonce(prefix, nonce), inner)]);
      const mutated = plan >= 0.08 && plan < 0.4;
      const data = mutated ? mutate(valid, random) : valid;
      let opened: Uint8Array | string;
      try {
        opened = receiver.open(data);
      } catch (error) {
        expect.fail(`open threw: ${String(error)}`);
      }
      const acceptable = plan >= 0.08 && plan <= 0.97 && data.equals(valid);
      if (typeof opened === "string") {
        if (acceptable) expect.fail(`a good MESSAGE was refused: ${opened}`);
        tally.refused += 1;
        // The connection would close: start a fresh one.
        receiver = new CurveCodec(key, false, 2, 2);
        peerNonce = 2n;
        continue;
      }
      if (!acceptable) expect.fail(`a bad MESSAGE was accepted (plan ${plan}): ${data.toString("hex")}`);
      if (!Buffer.from(opened).equals(inner)) expect.fail("plaintext differs");
      peerNonce = nonce;
      tally.accepted += 1;
    }
    // The other direction: the codec seals batches the peer opens (the in-place Salsa20/Poly1305 path).
    const sender = new CurveCodec(key, false, 1, 0);
    let expectedNonce = 1n;
    for (let i = 0; i < 400; i++) {
      const frames = Array.from({ length: 1 + Math.floor(random() * 4) }, () => Buffer.alloc(sizes[Math.floor(random() * sizes.length)] as number, i & 0xff));
      const batch = Buffer.concat(sender.encodeBatch([frames]));
      const parsed = parseFrames(batch);
      expect(parsed.length).toBe(frames.length);
      parsed.forEach((frame, index) => {
        const body = frame.body;
        if (body.toString("latin1", 0, 8) !== "\x07MESSAGE") expect.fail("not a MESSAGE");
        const nonce = body.readBigUInt64BE(8);
        if (nonce !== expectedNonce) expect.fail(`nonce ${nonce}, expected ${expectedNonce}`);
        expectedNonce += 1n;
        const plain = unseal(key, shortNonce("CurveZMQMESSAGES", nonce), body.subarray(16));
        if (plain === undefined) expect.fail(`the peer cannot open a sealed frame of ${frames[index]?.length} octets`);
        const more = index < frames.length - 1 ? 1 : 0;
        if (!plain.equals(Buffer.concat([Buffer.from([more]), frames[index] as Buffer]))) expect.fail("sealed plaintext differs");
        tally.sealed += 1;
      });
    }
    expect(tally.accepted).toBeGreaterThan(MESSAGES / 3);
    expect(tally.refused).toBeGreaterThan(MESSAGES / 5);
    expect(tally.sealed).toBeGreaterThan(400);
  }, 120_000);
});

/** A fake socket that keeps what is written, and reads it back as frames. */
class RecordingSocket extends FakeSocket {
  constructor() {
    super(true);
  }
  /** Frames written after the greeting. */
  frames(): ReturnType<typeof parseFrames> {
    return parseFrames(Buffer.concat(this.written).subarray(64));
  }
}

describe("fuzz: CURVE MESSAGE framing on a connection", () => {
  it(`${CONNECTIONS} CURVE connections fed valid and mutated MESSAGE streams in random chunkings deliver only what was sent`, () => {
    const random = prng(23_2013);
    const keys = rawKeyPair();
    const base = resolveOptions("router", { curve: { secretKey: keys.secretKey }, maxMessageSize: MAX_MESSAGE, maxFramesPerMessage: MAX_FRAMES, handshakeTimeout: 0 });
    const detached = RawConnection.detached();
    const tally = { clean: 0, errors: 0, delivered: 0, codes: new Map<string, number>() };
    for (let i = 0; i < CONNECTIONS; i++) {
      const socket = new RecordingSocket();
      const delivered: Buffer[][] = [];
      const errors: Error[] = [];
      let handshakes = 0;
      const owner: ConnectionOwner = {
        onHandshake: () => {
          handshakes += 1;
        },
        onFrames: (_connection, frames) => {
          delivered.push(frames.map((frame) => Buffer.from(frame)));
        },
        onSubscription: () => undefined,
        onHeartbeat: () => undefined,
        onWritable: () => undefined,
        onClose: (_connection, error) => {
          if (error !== undefined) errors.push(error);
        },
        scheduleFlush: (connection) => connection.scheduledFlush(),
      };
      const connection = new ZmtpConnection({ socket: socket as unknown as Socket, endpoint: "tcp://fuzz:1", owner, options: base, socketType: "ROUTER" });
      connection.start();
      const client = new CurveClientPeer(detached, keys.publicKey);
      socket.emit("data", Buffer.concat([greetingBytes(), frameBytes(client.helloBody(), 0x04)]));
      client.acceptWelcome(socket.frames().find((frame) => frame.command?.name === "WELCOME")?.command?.data ?? Buffer.alloc(0));
      socket.emit("data", frameBytes(client.initiateBody({ metadata: { "Socket-Type": "DEALER" } }), 0x04));
      client.acceptReady(socket.frames().find((frame) => frame.command?.name === "READY")?.command?.data ?? Buffer.alloc(0));
      if (handshakes !== 1) expect.fail("the handshake did not complete");
      // A stream of messages: 1 to 4 frames each, now and then an encrypted PING among them.
      const sent: Buffer[][] = [];
      const parts: Buffer[] = [];
      const count = 1 + Math.floor(random() * 5);
      for (let m = 0; m < count; m++) {
        if (random() < 0.15) {
          parts.push(frameBytes(client.messageBody({ data: Buffer.from("\x04PING\x00\x00", "latin1"), flags: 0x02 }), random() < 0.5 ? 0 : 0x04));
        }
        const frames = Array.from({ length: 1 + Math.floor(random() * 4) }, (_, f) => Buffer.alloc(random() < 0.1 ? 300 + Math.floor(random() * 200) : Math.floor(random() * 80), (m * 16 + f) & 0xff));
        sent.push(frames);
        frames.forEach((data, f) => {
          const body = client.messageBody({ data, flags: f < frames.length - 1 ? 1 : 0 });
          parts.push(frameBytes(body, random() < 0.5 ? 0 : 0x04, random() < 0.05));
        });
      }
      const valid = Buffer.concat(parts);
      const mutated = random() < 0.6;
      const stream = mutated ? mutate(valid, random) : valid;
      try {
        for (const chunk of randomChunks(stream, random, 1 + Math.floor(random() * 128))) {
          socket.emit("data", chunk);
          if (socket.destroyed || socket.ended) break;
        }
      } catch (error) {
        expect.fail(`the connection threw: ${String(error)}`);
      }
      if (socket.destroyed || socket.ended) socket.emit("close");
      // Only messages that were sent, in order, each whole.
      delivered.forEach((frames, index) => {
        const expected = sent[index];
        if (expected === undefined || frames.length !== expected.length || frames.some((frame, f) => !frame.equals(expected[f] as Buffer))) {
          expect.fail(`message ${index} of connection ${i} was not one that was sent`);
        }
      });
      tally.delivered += delivered.length;
      if (!mutated && (errors.length > 0 || delivered.length !== sent.length)) expect.fail(`a valid stream failed: ${errors.map(String).join("; ")}`);
      for (const error of errors) {
        if (!(error instanceof ZmtpError)) expect.fail(`not a ZmtpError: ${String(error)}`);
        if (error.code !== "protocol" && error.code !== "limit") expect.fail(`unexpected error code ${error.code}: ${error.message}`);
        tally.codes.set(error.code, (tally.codes.get(error.code) ?? 0) + 1);
      }
      if (errors.length > 0) tally.errors += 1;
      else tally.clean += 1;
      connection.destroy();
    }
    detached.destroy();
    expect(tally.clean).toBeGreaterThan(CONNECTIONS / 5);
    expect(tally.errors).toBeGreaterThan(CONNECTIONS / 5);
    expect(tally.delivered).toBeGreaterThan(CONNECTIONS);
    expect(tally.codes.get("protocol")).toBeGreaterThan(CONNECTIONS / 10);
  }, 120_000);
});
