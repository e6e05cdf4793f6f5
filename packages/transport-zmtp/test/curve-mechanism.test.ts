// The CURVE handshake and MESSAGE framing as byte-level units: the client and server state
// machines talk through in-memory hosts; commands are parsed from the bytes they write.
import { Buffer } from "node:buffer";
import { z85Decode } from "@zrpc/channel";
import { describe, expect, it, vi } from "vitest";
import { ZmtpError, curveKeyPair } from "../src/index.js";
import { AuthReporter, REPORTS_PER_SECOND } from "../src/curve/auth-report.js";
import { nobleX25519Impl, setX25519ForTesting } from "../src/curve/x25519.js";
import type { CurveCodec } from "../src/curve/codec.js";
import { CurveClientHandshake, CurveServerHandshake } from "../src/curve/handshake.js";
import type { CurveHandshake, HandshakeFailure, HandshakeHost } from "../src/curve/handshake.js";
import { resolveCurve } from "../src/curve/options.js";
import type { CurveClientConfig, CurveServerConfig } from "../src/curve/options.js";
import { FLAG_COMMAND, FLAG_LONG, encodeCommand, encodeMetadata } from "../src/protocol.js";

interface Command {
  name: string;
  data: Uint8Array;
  size: number;
}

function parseCommand(bytes: Uint8Array): Command {
  expect(bytes[0]! & FLAG_COMMAND).toBe(FLAG_COMMAND);
  const header = (bytes[0]! & FLAG_LONG) === 0 ? 2 : 9;
  const body = bytes.subarray(header);
  const nameLength = body[0]!;
  return { name: Buffer.from(body.subarray(1, 1 + nameLength)).toString("latin1"), data: body.subarray(1 + nameLength), size: body.byteLength };
}

class TestHost implements HandshakeHost {
  readonly address = "127.0.0.1:5555";
  readonly metadata: Uint8Array;
  closed = false;
  readonly sent: Command[] = [];
  codec: CurveCodec | undefined;
  peerMetadata: Uint8Array | undefined;
  failure: HandshakeFailure | undefined;

  constructor(type: "DEALER" | "ROUTER") {
    this.metadata = encodeMetadata(type, undefined);
  }

  send(bytes: Buffer): void {
    this.sent.push(parseCommand(bytes));
  }

  done(codec: CurveCodec, metadata: Uint8Array): void {
    this.codec = codec;
    this.peerMetadata = metadata;
  }

  fail(failure: HandshakeFailure): void {
    this.failure = failure;
    this.closed = true;
  }

  metadataProblem(metadata: Uint8Array): HandshakeFailure | undefined {
    return metadata.byteLength === 0 ? { kind: "protocol", message: "no metadata", reply: "malformed READY" } : undefined;
  }

  last(): Command {
    return this.sent[this.sent.length - 1]!;
  }
}

const serverPair = curveKeyPair();
const clientPair = curveKeyPair();

function serverConfig(extra: Record<string, unknown> = {}): CurveServerConfig {
  return resolveCurve({ secretKey: serverPair.secretKey, ...extra }) as CurveServerConfig;
}

function clientConfig(serverKey = serverPair.publicKey): CurveClientConfig {
  return resolveCurve({ serverKey, ...clientPair }) as CurveClientConfig;
}

function pair(server = serverConfig(), client = clientConfig()): { s: TestHost; c: TestHost; server: CurveHandshake; client: CurveHandshake } {
  const s = new TestHost("ROUTER");
  const c = new TestHost("DEALER");
  return { s, c, server: new CurveServerHandshake(s, server), client: new CurveClientHandshake(c, client) };
}

/** Runs the handshake until one side is done or failed (async authorize: awaits a turn). */
async function run(p: ReturnType<typeof pair>): Promise<void> {
  p.client.start();
  let fromClient = 0;
  let fromServer = 0;
  for (let round = 0; round < 10; round++) {
    while (fromClient < p.c.sent.length && p.s.failure === undefined) {
      const command = p.c.sent[fromClient++]!;
      p.server.onCommand(command.name, command.data);
    }
    await new Promise((resolve) => setImmediate(resolve));
    while (fromServer < p.s.sent.length && p.c.failure === undefined) {
      const command = p.s.sent[fromServer++]!;
      p.client.onCommand(command.name, command.data);
    }
    if ((p.c.codec !== undefined && p.s.codec !== undefined) || p.s.failure !== undefined || p.c.failure !== undefined) return;
  }
}

/** The MESSAGE commands a codec writes for `frames`. */
function messages(codec: CurveCodec, frames: Uint8Array[][]): Command[] {
  const [out] = codec.encodeBatch(frames);
  const commands: Command[] = [];
  let at = 0;
  while (at < out!.byteLength) {
    const long = (out![at]! & FLAG_LONG) !== 0;
    const size = long ? Number(out!.readBigUInt64BE(at + 1)) : out![at + 1]!;
    const header = long ? 9 : 2;
    // Data frames starting with the command name, as libzmq writes MESSAGE commands.
    expect(out![at]! & FLAG_COMMAND).toBe(0);
    const body = out!.subarray(at + header, at + header + size);
    expect(body.subarray(0, 8).toString("latin1")).toBe("\x07MESSAGE");
    commands.push({ name: "MESSAGE", data: body.subarray(8), size });
    at += header + size;
  }
  return commands;
}

describe("CURVE handshake (RFC 26)", () => {
  it("completes with the RFC's command sizes and exchanges metadata", async () => {
    const p = pair();
    await run(p);
    expect(p.c.failure).toBeUndefined();
    expect(p.s.failure).toBeUndefined();
    const [hello, initiate] = p.c.sent;
    const [welcome, ready] = p.s.sent;
    expect([hello!.name, hello!.size]).toEqual(["HELLO", 200]);
    expect([...hello!.data.subarray(0, 2)]).toEqual([1, 0]);
    expect(hello!.data.subarray(2, 74).every((byte) => byte === 0)).toBe(true);
    expect([welcome!.name, welcome!.size]).toEqual(["WELCOME", 168]);
    expect(initiate!.name).toBe("INITIATE");
    expect(initiate!.size).toBe(257 + p.c.metadata.byteLength);
    expect(ready!.name).toBe("READY");
    expect(Buffer.from(p.s.peerMetadata!)).toEqual(Buffer.from(p.c.metadata));
    expect(Buffer.from(p.c.peerMetadata!)).toEqual(Buffer.from(p.s.metadata));
  });

  it("gives both sides codecs that talk to each other, nonces increasing, MORE and COMMAND flags kept", async () => {
    const p = pair();
    await run(p);
    const sent = messages(p.c.codec!, [[Buffer.from("a"), Buffer.alloc(300, 9)], encodeCommand("PING", Uint8Array.of(0, 0)) as never]);
    expect(sent.map((command) => command.name)).toEqual(["MESSAGE", "MESSAGE", "MESSAGE"]);
    expect(Buffer.from(sent[0]!.data).readBigUInt64BE(0)).toBe(3n);
    const opened = sent.map((command) => p.s.codec!.open(command.data) as Uint8Array);
    expect(opened.map((plain) => plain[0])).toEqual([1, 0, 2]);
    expect(Buffer.from(opened[0]!.subarray(1)).toString()).toBe("a");
    expect(opened[1]!.byteLength).toBe(301);
    expect(Buffer.from(opened[2]!.subarray(1, 6)).toString("latin1")).toBe("\x04PING");
    const back = messages(p.s.codec!, [[Buffer.from("reply")]]);
    expect(Buffer.from((p.c.codec!.open(back[0]!.data) as Uint8Array).subarray(1)).toString()).toBe("reply");
  });

  it("refuses a replayed, reordered, forged or truncated MESSAGE", async () => {
    const p = pair();
    await run(p);
    const [first, second] = messages(p.c.codec!, [[Buffer.from("1")], [Buffer.from("2")]]);
    expect(p.s.codec!.open(second!.data)).toBeInstanceOf(Uint8Array);
    expect(p.s.codec!.open(first!.data)).toMatch(/nonce did not increase/);
    expect(p.s.codec!.open(second!.data)).toMatch(/nonce did not increase/);
    const [third] = messages(p.c.codec!, [[Buffer.from("3")]]);
    const forged = Buffer.from(third!.data);
    forged[forged.length - 1]! ^= 0x40;
    expect(p.s.codec!.open(forged)).toMatch(/did not authenticate/);
    expect(p.s.codec!.open(third!.data.subarray(0, 20))).toMatch(/too short/);
    expect(p.s.codec!.open(third!.data)).toBeInstanceOf(Uint8Array);
  });

  it("a client with the wrong server key fails at the server's HELLO check (protocol, no ERROR)", async () => {
    const p = pair(serverConfig(), clientConfig(curveKeyPair().publicKey));
    await run(p);
    expect(p.s.failure?.kind).toBe("protocol");
    // No ERROR: libzmq's server hangs up too (its clients then retry instead of giving up).
    expect(p.s.failure?.reply).toBeUndefined();
    expect(p.s.failure?.message).toMatch(/HELLO box did not open/);
    expect(p.s.sent).toHaveLength(0);
  });

  it("rejects HELLO with a wrong length or version", () => {
    for (const [data, pattern] of [
      [new Uint8Array(193), /HELLO of 193 octets, expected 194/],
      [Buffer.concat([Uint8Array.of(2, 0), new Uint8Array(192)]), /version 2\.0/],
    ] as const) {
      const s = new TestHost("ROUTER");
      new CurveServerHandshake(s, serverConfig()).onCommand("HELLO", data);
      expect(s.failure?.message).toMatch(pattern);
      expect(s.sent).toHaveLength(0);
    }
  });

  it("rejects commands out of order on both sides", () => {
    const s = new TestHost("ROUTER");
    new CurveServerHandshake(s, serverConfig()).onCommand("INITIATE", new Uint8Array(300));
    expect(s.failure?.message).toMatch(/unexpected INITIATE command while waiting for HELLO/);
    const c = new TestHost("DEALER");
    const client = new CurveClientHandshake(c, clientConfig());
    client.start();
    client.onCommand("READY", new Uint8Array(30));
    expect(c.failure?.message).toMatch(/unexpected READY command while waiting for WELCOME/);
    const c2 = new TestHost("DEALER");
    const client2 = new CurveClientHandshake(c2, clientConfig());
    client2.start();
    client2.onCommand("MESSAGE", new Uint8Array(40));
    expect(c2.failure?.kind).toBe("protocol");
  });

  it("rejects an INITIATE whose cookie or vouch was tampered with", () => {
    for (const offset of [20, 96 + 8 + 16 + 40]) {
      const p = pair();
      p.client.start();
      p.server.onCommand("HELLO", p.c.sent[0]!.data);
      p.client.onCommand("WELCOME", p.s.sent[0]!.data);
      const initiate = Buffer.from(p.c.sent[1]!.data);
      initiate[offset]! ^= 1;
      p.server.onCommand("INITIATE", initiate);
      expect(p.s.failure?.kind).toBe("protocol");
      expect(p.s.failure?.message).toMatch(offset === 20 ? /cookie/ : /INITIATE box/);
    }
  });

  it("refuses a client key outside allowedClientKeys (auth, ERROR 400, the key reported)", async () => {
    const p = pair(serverConfig({ allowedClientKeys: [curveKeyPair().publicKey] }));
    await run(p);
    expect(p.s.failure).toMatchObject({ kind: "auth", reply: "400", publicKey: clientPair.publicKey });
    expect(p.s.failure?.message).toContain(clientPair.publicKey);
    expect(p.s.failure?.message).toContain("127.0.0.1:5555");
    // The client reads the ERROR as a refusal.
    const c = new TestHost("DEALER");
    const client = new CurveClientHandshake(c, clientConfig());
    client.start();
    client.onCommand("ERROR", Buffer.from("\x03400", "latin1"));
    expect(c.failure?.kind).toBe("auth");
  });

  it("accepts allowed keys given as bytes or Z85, and by function", async () => {
    for (const allowed of [[z85Decode(clientPair.publicKey)], [clientPair.publicKey], (key: string) => key === clientPair.publicKey]) {
      const p = pair(serverConfig({ allowedClientKeys: allowed }));
      await run(p);
      expect(p.s.failure).toBeUndefined();
      expect(p.s.codec).toBeDefined();
    }
  });

  it("waits for an async authorize: accept, refuse, throw, reject", async () => {
    const seen: unknown[] = [];
    const cases: [(client: { publicKey: string; address: string }) => boolean | Promise<boolean>, boolean][] = [
      [(client) => (seen.push(client), Promise.resolve(true)), true],
      [() => Promise.resolve(false), false],
      [() => {
        throw new Error("db down");
      }, false],
      [() => Promise.reject(new Error("no")), false],
    ];
    for (const [authorize, accepted] of cases) {
      const p = pair(serverConfig({ authorize }));
      await run(p);
      expect(p.s.codec !== undefined).toBe(accepted);
      if (!accepted) expect(p.s.failure?.kind).toBe("auth");
    }
    expect(seen).toEqual([{ publicKey: clientPair.publicKey, address: "127.0.0.1:5555" }]);
  });

  it("drops a late authorize answer once the connection closed", async () => {
    let release: (value: boolean) => void = () => undefined;
    const p = pair(serverConfig({ authorize: () => new Promise<boolean>((resolve) => (release = resolve)) }));
    await run(p);
    expect(p.s.codec).toBeUndefined();
    p.s.closed = true;
    release(true);
    await new Promise((resolve) => setImmediate(resolve));
    expect(p.s.codec).toBeUndefined();
    expect(p.s.sent.map((command) => command.name)).toEqual(["WELCOME"]);
  });
});

describe("curve option checks", () => {
  it("TypeErrors for malformed keys and combinations", () => {
    expect(() => resolveCurve({ serverKey: "abc" })).toThrow(/curve\.serverKey/);
    expect(() => resolveCurve({ serverKey: serverPair.publicKey, publicKey: clientPair.publicKey })).toThrow(/go together/);
    expect(() => resolveCurve({ serverKey: serverPair.publicKey, publicKey: serverPair.publicKey, secretKey: clientPair.secretKey })).toThrow(
      /not the public key/,
    );
    expect(() => resolveCurve({ secretKey: new Uint8Array(3) })).toThrow(/curve\.secretKey/);
    expect(() => resolveCurve({ secretKey: serverPair.secretKey, allowedClientKeys: ["nope"] })).toThrow(/allowedClientKeys\[0\]/);
    expect(() => resolveCurve({} as never)).toThrow(/serverKey .* or secretKey/);
  });

  it("a client without keys gets a fresh pair each time", () => {
    const a = resolveCurve({ serverKey: serverPair.publicKey }) as CurveClientConfig;
    const b = resolveCurve({ serverKey: serverPair.publicKey }) as CurveClientConfig;
    expect(Buffer.from(a.publicKey)).not.toEqual(Buffer.from(b.publicKey));
  });
});

describe("the X25519 fallback", () => {
  it("runs the whole handshake on @noble/curves when node:crypto lacks X25519", async () => {
    setX25519ForTesting(nobleX25519Impl);
    try {
      const p = pair(serverConfig(), resolveCurve({ serverKey: serverPair.publicKey }) as CurveClientConfig);
      await run(p);
      expect(p.s.failure).toBeUndefined();
      const [message] = messages(p.c.codec!, [[Buffer.from("noble")]]);
      expect(Buffer.from((p.s.codec!.open(message!.data) as Uint8Array).subarray(1)).toString()).toBe("noble");
    } finally {
      setX25519ForTesting(undefined);
    }
  });
});

describe("failure reports without a handler", () => {
  it("go to onError at most REPORTS_PER_SECOND a second, then one line counting the rest", () => {
    vi.useFakeTimers();
    try {
      const reported: Error[] = [];
      const reporter = new AuthReporter({ kind: "router", onAuthFailure: undefined, closeOnAuthFailure: false, report: (error) => reported.push(error), shutdown: () => undefined });
      for (let i = 0; i < REPORTS_PER_SECOND + 7; i++) {
        reporter.failed("tcp://127.0.0.1:1", "127.0.0.1:2", { kind: "auth", message: "refused", publicKey: "k" }, new ZmtpError("auth", `refused ${i}`));
      }
      expect(reported).toHaveLength(REPORTS_PER_SECOND);
      vi.advanceTimersByTime(1000);
      expect(reported).toHaveLength(REPORTS_PER_SECOND + 1);
      expect(reported[REPORTS_PER_SECOND]?.message).toMatch(/7 more failed security handshakes not reported/);
      reporter.stop();
    } finally {
      vi.useRealTimers();
    }
  });

  it("a handler gets every failure, and closeOnAuthFailure shuts the transport on auth/protocol only", () => {
    const seen: string[] = [];
    const shutdowns: Error[] = [];
    const reporter = new AuthReporter({ kind: "dealer", onAuthFailure: (failure) => seen.push(failure.kind), closeOnAuthFailure: true, report: () => undefined, shutdown: (error) => shutdowns.push(error) });
    reporter.failed("tcp://h:1", "h:1", { kind: "other", message: "timeout" }, new ZmtpError("timeout", "timeout"));
    expect(shutdowns).toHaveLength(0);
    const error = new ZmtpError("auth", "refused this client's key");
    reporter.failed("tcp://h:1", "h:1", { kind: "auth", message: "refused" }, error);
    expect(seen).toEqual(["other", "auth"]);
    expect(shutdowns[0]?.message).toMatch(/zmtp dealer transport closed: refused this client's key/);
    expect(reporter.reported(error)).toBe(true);
  });
});
