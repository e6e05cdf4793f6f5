// A raw CurveZMQ peer for tests, written from the specifications (ZeroMQ RFC 23/37 for the ZMTP
// framing, RFC 25 ZMTP-CURVE and RFC 26 CurveZMQ for the commands), independent of the
// transport's own mechanism: it shares no code with src/ and does its crypto with @noble directly.
// Every step is a separate call that returns or takes the raw bytes, so a test can play a
// well-behaved client or server, or corrupt, replace, omit, repeat or reorder any command.
import { Buffer } from "node:buffer";
import { randomBytes } from "node:crypto";
import { Socket, createConnection, createServer } from "node:net";
import type { AddressInfo, Server } from "node:net";
import { hsalsa, xsalsa20poly1305 } from "@noble/ciphers/salsa.js";
import { x25519 } from "@noble/curves/ed25519.js";

// ------------------------------------------------------------------ crypto (NaCl crypto_box)

/** A Curve25519 key pair as raw bytes. */
export interface RawKeyPair {
  readonly publicKey: Uint8Array;
  readonly secretKey: Uint8Array;
}

/** A fresh key pair. */
export function rawKeyPair(): RawKeyPair {
  const secretKey = x25519.utils.randomSecretKey();
  return { publicKey: x25519.getPublicKey(secretKey), secretKey };
}

/** "expand 32-byte k" as little-endian words. */
const SIGMA = new Uint32Array([0x61707865, 0x3320646e, 0x79622d32, 0x6b206574]);

function wordsOf(bytes: Uint8Array): Uint32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const words = new Uint32Array(bytes.byteLength / 4);
  for (let i = 0; i < words.length; i++) words[i] = view.getUint32(i * 4, true);
  return words;
}

/** HSalsa20 of a 32-byte key and a 16-byte input (the XSalsa20 subkey derivation). */
export function hsalsa20(key: Uint8Array, input: Uint8Array): Uint8Array {
  const out = new Uint32Array(8);
  hsalsa(SIGMA, wordsOf(key), wordsOf(input), out);
  const bytes = new Uint8Array(32);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < 8; i++) view.setUint32(i * 4, out[i] as number, true);
  return bytes;
}

/** crypto_box_beforenm: the symmetric key of a box between `secretKey` and `publicKey`. */
export function boxKey(secretKey: Uint8Array, publicKey: Uint8Array): Uint8Array {
  return hsalsa20(x25519.getSharedSecret(secretKey, publicKey), new Uint8Array(16));
}

/** A box (16-octet tag then ciphertext) of `plaintext` under a precomputed key and a 24-octet nonce. */
export function seal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array): Buffer {
  return Buffer.from(xsalsa20poly1305(key, nonce).encrypt(plaintext));
}

/** The plaintext of a box, or undefined when it does not open. */
export function unseal(key: Uint8Array, nonce: Uint8Array, box: Uint8Array): Buffer | undefined {
  if (box.byteLength < 16) return undefined;
  try {
    return Buffer.from(xsalsa20poly1305(key, nonce).decrypt(box));
  } catch {
    return undefined;
  }
}

/** A 24-octet nonce: a 16-character prefix and an 8-octet big-endian counter. */
export function shortNonce(prefix: string, counter: bigint): Buffer {
  const nonce = Buffer.alloc(24);
  nonce.write(prefix, 0, 16, "latin1");
  nonce.writeBigUInt64BE(counter, 16);
  return nonce;
}

/** A 24-octet nonce: an 8-character prefix and 16 octets (random unless given). */
export function longNonce(prefix: string, tail: Uint8Array = randomBytes(16)): Buffer {
  const nonce = Buffer.alloc(24);
  nonce.write(prefix, 0, 8, "latin1");
  nonce.set(tail.subarray(0, 16), 8);
  return nonce;
}

// ------------------------------------------------------------------ ZMTP framing

/** Greeting fields (RFC 23/37); every one can be set to something wrong. */
export interface GreetingSpec {
  major?: number;
  minor?: number;
  mechanism?: string;
  asServer?: boolean;
}

/** The 64-octet ZMTP greeting. */
export function greetingBytes(spec: GreetingSpec = {}): Buffer {
  const data = Buffer.alloc(64);
  data[0] = 0xff;
  data[9] = 0x7f;
  data[10] = spec.major ?? 3;
  data[11] = spec.minor ?? 1;
  data.write(spec.mechanism ?? "CURVE", 12, 20, "latin1");
  data[32] = spec.asServer === true ? 1 : 0;
  return data;
}

/** A frame with the given flag bits (0x01 MORE, 0x04 COMMAND); long when needed or forced. */
export function frameBytes(body: Uint8Array, flags: number, forceLong = false): Buffer {
  if (body.byteLength > 255 || forceLong) {
    const header = Buffer.alloc(9);
    header[0] = flags | 0x02;
    header.writeBigUInt64BE(BigInt(body.byteLength), 1);
    return Buffer.concat([header, body]);
  }
  return Buffer.concat([Buffer.from([flags, body.byteLength]), body]);
}

/** A command body: the length-prefixed name, then the data. */
export function commandBody(name: string, data: Uint8Array = Buffer.alloc(0)): Buffer {
  return Buffer.concat([Buffer.from([name.length]), Buffer.from(name, "latin1"), data]);
}

/** A command frame. */
export function commandFrame(name: string, data?: Uint8Array): Buffer {
  return frameBytes(commandBody(name, data), 0x04);
}

/** ZMTP metadata: properties as name-length, name, 4-octet value size, value. */
export function metadataBytes(properties: Record<string, string | Uint8Array>): Buffer {
  const parts: Buffer[] = [];
  for (const [name, value] of Object.entries(properties)) {
    const data = typeof value === "string" ? Buffer.from(value, "latin1") : Buffer.from(value);
    const size = Buffer.alloc(4);
    size.writeUInt32BE(data.byteLength);
    parts.push(Buffer.from([name.length]), Buffer.from(name, "latin1"), size, data);
  }
  return Buffer.concat(parts);
}

/** Parses metadata; undefined when malformed. Names are lower-cased. */
export function parseMetadata(data: Uint8Array): Map<string, Buffer> | undefined {
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const out = new Map<string, Buffer>();
  let at = 0;
  while (at < bytes.length) {
    const nameLength = bytes[at] as number;
    if (nameLength === 0 || at + 1 + nameLength + 4 > bytes.length) return undefined;
    const name = bytes.toString("latin1", at + 1, at + 1 + nameLength).toLowerCase();
    at += 1 + nameLength;
    const size = bytes.readUInt32BE(at);
    at += 4;
    if (at + size > bytes.length) return undefined;
    out.set(name, Buffer.from(bytes.subarray(at, at + size)));
    at += size;
  }
  return out;
}

/** A frame read from the peer. */
export interface RawFrame {
  readonly flags: number;
  readonly body: Buffer;
  /** For a command frame: its name and data. */
  readonly command?: { readonly name: string; readonly data: Buffer };
}

/** The peer's 64-octet greeting, parsed. */
export interface RawGreeting {
  readonly bytes: Buffer;
  readonly major: number;
  readonly minor: number;
  readonly mechanism: string;
  readonly asServer: boolean;
}

/** Thrown by a read when the connection closed first. */
export class PeerClosedError extends Error {
  constructor(what: string) {
    super(`connection closed while waiting for ${what}`);
    this.name = "PeerClosedError";
  }
}

/**
 * A raw stream connection: bytes in, pulled as greeting and frames with promises that resolve
 * when enough has arrived (or reject with {@link PeerClosedError} once the peer closed).
 */
export class RawConnection {
  readonly socket: Socket;
  /** Resolves when the socket closed (by either side). */
  readonly closed: Promise<void>;
  #buffer: Buffer = Buffer.alloc(0);
  #ended = false;
  #wake: (() => void) | undefined;

  constructor(socket: Socket) {
    this.socket = socket;
    socket.on("data", (chunk: Buffer) => {
      this.#buffer = Buffer.concat([this.#buffer, chunk]);
      this.#notify();
    });
    socket.on("error", () => undefined);
    this.closed = new Promise((resolve) => {
      socket.on("close", () => {
        this.#ended = true;
        this.#notify();
        resolve();
      });
    });
    socket.on("end", () => {
      this.#ended = true;
      this.#notify();
    });
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  /** A connection on an unconnected socket, for the byte-level (offline) use of the peer roles. */
  static detached(): RawConnection {
    return new RawConnection(new Socket());
  }

  /** Whether the socket is closed. */
  get isClosed(): boolean {
    return this.socket.destroyed;
  }

  /** Resolves with exactly `count` octets. */
  async readBytes(count: number, what = `${count} octets`): Promise<Buffer> {
    while (this.#buffer.length < count) {
      if (this.#ended) throw new PeerClosedError(what);
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
    }
    const out = this.#buffer.subarray(0, count);
    this.#buffer = this.#buffer.subarray(count);
    return Buffer.from(out);
  }

  /** Reads the peer's greeting. */
  async readGreeting(): Promise<RawGreeting> {
    const bytes = await this.readBytes(64, "the greeting");
    const mechanism = bytes.toString("latin1", 12, 32).replace(/\0+$/, "");
    return { bytes, major: bytes[10] as number, minor: bytes[11] as number, mechanism, asServer: bytes[32] === 1 };
  }

  /** Reads one frame. */
  async readFrame(what = "a frame"): Promise<RawFrame> {
    const head = await this.readBytes(2, what);
    const flags = head[0] as number;
    let size: number;
    if ((flags & 0x02) !== 0) {
      const rest = await this.readBytes(7, what);
      size = Number(Buffer.concat([head.subarray(1), rest]).readBigUInt64BE(0));
    } else {
      size = head[1] as number;
    }
    const body = await this.readBytes(size, what);
    if ((flags & 0x04) === 0) return { flags, body };
    const nameLength = body[0] ?? 0;
    return { flags, body, command: { name: body.toString("latin1", 1, 1 + nameLength), data: body.subarray(1 + nameLength) } };
  }

  /** Reads one command frame and checks its name; throws when it is something else. */
  async readCommand(name: string): Promise<Buffer> {
    const frame = await this.readFrame(`${name}`);
    if (frame.command?.name !== name) {
      const got = frame.command === undefined ? "a message frame" : `${frame.command.name} ${describeError(frame.command)}`;
      throw new Error(`expected ${name}, got ${got}`);
    }
    return frame.command.data;
  }

  /** Writes raw bytes. */
  write(bytes: Uint8Array): void {
    if (!this.socket.destroyed) this.socket.write(bytes);
  }

  /** Closes at once. */
  destroy(): void {
    this.socket.destroy();
  }
}

function describeError(command: { name: string; data: Buffer }): string {
  if (command.name !== "ERROR") return "";
  return JSON.stringify(command.data.toString("latin1", 1, 1 + (command.data[0] ?? 0)));
}

/** The reason text of an ERROR command's data. */
export function errorReason(data: Uint8Array): string {
  return Buffer.from(data).toString("latin1", 1, 1 + (data[0] ?? 0));
}

/** Splits bytes into the frames they hold (a trailing partial frame is left out). */
export function parseFrames(bytes: Buffer): RawFrame[] {
  const frames: RawFrame[] = [];
  let at = 0;
  for (;;) {
    if (at + 2 > bytes.length) return frames;
    const flags = bytes[at] as number;
    let header = 2;
    let size = bytes[at + 1] as number;
    if ((flags & 0x02) !== 0) {
      if (at + 9 > bytes.length) return frames;
      header = 9;
      size = Number(bytes.readBigUInt64BE(at + 1));
    }
    if (at + header + size > bytes.length) return frames;
    const body = bytes.subarray(at + header, at + header + size);
    at += header + size;
    if ((flags & 0x04) === 0) {
      frames.push({ flags, body });
    } else {
      const nameLength = body[0] ?? 0;
      frames.push({ flags, body, command: { name: body.toString("latin1", 1, 1 + nameLength), data: body.subarray(1 + nameLength) } });
    }
  }
}

/** Opens a TCP connection to `port` on loopback. */
export function connectRaw(port: number): Promise<RawConnection> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: "127.0.0.1", port });
    socket.once("error", reject);
    socket.once("connect", () => {
      socket.off("error", reject);
      resolve(new RawConnection(socket));
    });
  });
}

/** The port of a `tcp://host:port` endpoint. */
export function portOf(endpoint: string): number {
  return Number(endpoint.slice(endpoint.lastIndexOf(":") + 1));
}

// ------------------------------------------------------------------ the client role

/** A message payload of a MESSAGE box, as it is inside the box. */
export interface MessageSpec {
  /** The frame data. */
  readonly data: Uint8Array;
  /** Inner flags octet (bit 0 MORE, bit 1 COMMAND); default MORE per position. */
  readonly flags?: number;
}

/**
 * A CurveZMQ client on a raw connection. The happy path is
 * `sendGreeting()`, `readGreeting()`, `sendHello()`, `readWelcome()`, `sendInitiate()`,
 * `readReady()`, then `sendMessage()`/`readMessage()`; each `*Body()` builds the bytes without
 * sending them, so a test can change them and send them with `sendCommandBody()`.
 */
export class CurveClientPeer {
  readonly connection: RawConnection;
  /** The client's long-term key pair (C). */
  readonly permanent: RawKeyPair;
  /** The client's transient key pair (C'). */
  readonly transient: RawKeyPair;
  /** The server's long-term public key (S). */
  readonly serverKey: Uint8Array;
  /** The next short nonce this client uses (HELLO is 1). */
  nonce = 1n;
  /** From WELCOME: the server's transient public key (S') and the cookie. */
  serverTransient: Uint8Array | undefined;
  cookie: Buffer | undefined;
  /** The transient box key (C' with S'), once WELCOME arrived. */
  sessionKey: Uint8Array | undefined;
  /** The highest short nonce seen from the server. */
  peerNonce = 0n;
  /** The server's READY metadata. */
  serverMetadata: Map<string, Buffer> | undefined;
  /**
   * ZMTP flags of the frames that carry MESSAGE commands: 0x04 (a command frame) by default;
   * libzmq writes 0x00 (a data frame) and takes either.
   */
  messageFrameFlags = 0x04;

  constructor(connection: RawConnection, serverKey: Uint8Array, permanent: RawKeyPair = rawKeyPair()) {
    this.connection = connection;
    this.serverKey = serverKey;
    this.permanent = permanent;
    this.transient = rawKeyPair();
  }

  /** Connects to `port` on loopback. */
  static async connect(port: number, serverKey: Uint8Array, permanent?: RawKeyPair): Promise<CurveClientPeer> {
    return new CurveClientPeer(await connectRaw(port), serverKey, permanent);
  }

  sendGreeting(spec: GreetingSpec = {}): void {
    this.connection.write(greetingBytes({ asServer: false, ...spec }));
  }

  readGreeting(): Promise<RawGreeting> {
    return this.connection.readGreeting();
  }

  /** Sends a command body (name prefix included) in a command frame. */
  sendCommandBody(body: Uint8Array, forceLong = false): void {
    this.connection.write(frameBytes(body, 0x04, forceLong));
  }

  #takeNonce(nonce: bigint | undefined): bigint {
    if (nonce !== undefined) return nonce;
    const value = this.nonce;
    this.nonce += 1n;
    return value;
  }

  /** HELLO: version, 72 zero octets, C', short nonce, Box[64 zeros](C'->S). 200 octets. */
  helloBody(options: { version?: [number, number]; nonce?: bigint; signature?: Uint8Array; padding?: Uint8Array } = {}): Buffer {
    const nonce = this.#takeNonce(options.nonce);
    const key = boxKey(this.transient.secretKey, this.serverKey);
    const signature = seal(key, shortNonce("CurveZMQHELLO---", nonce), options.signature ?? new Uint8Array(64));
    const version = options.version ?? [1, 0];
    const nonceBytes = shortNonce("", nonce).subarray(16);
    return Buffer.concat([commandBody("HELLO"), Buffer.from(version), options.padding ?? Buffer.alloc(72), this.transient.publicKey, nonceBytes, signature]);
  }

  sendHello(options?: Parameters<CurveClientPeer["helloBody"]>[0]): void {
    this.sendCommandBody(this.helloBody(options));
  }

  /** Reads and opens WELCOME: Box[S' + cookie](S->C') under "WELCOME-" + 16 octets. */
  async readWelcome(): Promise<void> {
    this.acceptWelcome(await this.connection.readCommand("WELCOME"));
  }

  /** Opens the data of a WELCOME (after its name); throws when it is not a good one. */
  acceptWelcome(data: Buffer): void {
    if (data.length !== 160) throw new Error(`WELCOME data of ${data.length} octets`);
    const plain = unseal(boxKey(this.transient.secretKey, this.serverKey), longNonce("WELCOME-", data.subarray(0, 16)), data.subarray(16));
    if (plain === undefined) throw new Error("WELCOME box does not open");
    this.serverTransient = plain.subarray(0, 32);
    this.cookie = plain.subarray(32, 128);
    this.sessionKey = boxKey(this.transient.secretKey, this.serverTransient);
  }

  /** The vouch: 16-octet long nonce + Box[C' + S](C->S') under "VOUCH---". */
  vouch(options: { transient?: Uint8Array; server?: Uint8Array; signer?: RawKeyPair; to?: Uint8Array } = {}): Buffer {
    const tail = randomBytes(16);
    const key = boxKey((options.signer ?? this.permanent).secretKey, options.to ?? this.#need(this.serverTransient));
    const box = seal(key, longNonce("VOUCH---", tail), Buffer.concat([options.transient ?? this.transient.publicKey, options.server ?? this.serverKey]));
    return Buffer.concat([tail, box]);
  }

  #need<T>(value: T | undefined): T {
    if (value === undefined) throw new Error("the handshake has not reached this step");
    return value;
  }

  /**
   * INITIATE: cookie, short nonce, Box[C + vouch + metadata](C'->S') under "CurveZMQINITIATE".
   * `plaintext` replaces everything inside the box; `publicKey` only the C inside it.
   */
  initiateBody(
    options: {
      nonce?: bigint;
      cookie?: Uint8Array;
      vouch?: Uint8Array;
      publicKey?: Uint8Array;
      metadata?: Record<string, string | Uint8Array>;
      plaintext?: Uint8Array;
      key?: Uint8Array;
    } = {},
  ): Buffer {
    const nonce = this.#takeNonce(options.nonce);
    const metadata = metadataBytes(options.metadata ?? { "Socket-Type": "DEALER" });
    const plaintext = options.plaintext ?? Buffer.concat([options.publicKey ?? this.permanent.publicKey, options.vouch ?? this.vouch(), metadata]);
    const box = seal(options.key ?? this.#need(this.sessionKey), shortNonce("CurveZMQINITIATE", nonce), plaintext);
    return Buffer.concat([commandBody("INITIATE"), options.cookie ?? this.#need(this.cookie), shortNonce("", nonce).subarray(16), box]);
  }

  sendInitiate(options?: Parameters<CurveClientPeer["initiateBody"]>[0]): void {
    this.sendCommandBody(this.initiateBody(options));
  }

  /** Reads and opens READY (Box[metadata](S'->C') under "CurveZMQREADY---"). */
  async readReady(): Promise<Map<string, Buffer>> {
    return this.acceptReady(await this.connection.readCommand("READY"));
  }

  /** Opens the data of a READY (after its name); throws when it is not a good one. */
  acceptReady(data: Buffer): Map<string, Buffer> {
    if (data.length < 24) throw new Error(`READY data of ${data.length} octets`);
    const nonce = data.readBigUInt64BE(0);
    const plain = unseal(this.#need(this.sessionKey), shortNonce("CurveZMQREADY---", nonce), data.subarray(8));
    if (plain === undefined) throw new Error("READY box does not open");
    const metadata = parseMetadata(plain);
    if (metadata === undefined) throw new Error("READY metadata malformed");
    this.peerNonce = nonce;
    this.serverMetadata = metadata;
    return metadata;
  }

  /** Greeting, HELLO, WELCOME, INITIATE, READY, all well-behaved. */
  async handshake(metadata: Record<string, string | Uint8Array> = { "Socket-Type": "DEALER" }): Promise<void> {
    this.sendGreeting();
    const greeting = await this.readGreeting();
    // Not the as-server octet: libzmq leaves it 0 on servers too.
    if (greeting.mechanism !== "CURVE") throw new Error(`server greeting: ${greeting.mechanism}`);
    this.sendHello();
    await this.readWelcome();
    this.sendInitiate({ metadata });
    await this.readReady();
  }

  /** The data of one MESSAGE: short nonce + Box[flags + data](C'->S') under "CurveZMQMESSAGEC". */
  messageBody(message: MessageSpec, options: { nonce?: bigint; key?: Uint8Array; prefix?: string } = {}): Buffer {
    const nonce = this.#takeNonce(options.nonce);
    const inner = Buffer.concat([Buffer.from([message.flags ?? 0]), message.data]);
    const box = seal(options.key ?? this.#need(this.sessionKey), shortNonce(options.prefix ?? "CurveZMQMESSAGEC", nonce), inner);
    return Buffer.concat([commandBody("MESSAGE"), shortNonce("", nonce).subarray(16), box]);
  }

  /** Sends one ZeroMQ message: its frames, each in its own MESSAGE (MORE inside the box). */
  sendMessage(frames: readonly Uint8Array[]): void {
    frames.forEach((data, index) => {
      const flags = index < frames.length - 1 ? 1 : 0;
      this.sendMessageBody(this.messageBody({ data, flags }));
    });
  }

  /** Sends a MESSAGE body (from {@link messageBody}) in a frame with {@link messageFrameFlags}. */
  sendMessageBody(body: Uint8Array): void {
    this.connection.write(frameBytes(body, this.messageFrameFlags));
  }

  /** Reads one ZeroMQ message (all its frames); checks the nonces increase. */
  async readMessage(): Promise<Buffer[]> {
    const frames: Buffer[] = [];
    for (;;) {
      const plain = this.openMessage((await this.connection.readFrame("MESSAGE")).body);
      const flags = plain[0] as number;
      if ((flags & 0x02) !== 0) continue; // an encrypted command (PING): not a message frame
      frames.push(plain.subarray(1));
      if ((flags & 0x01) === 0) return frames;
    }
  }

  /** Opens one MESSAGE command body from the server: its plaintext, flags octet first. Throws when bad. */
  openMessage(body: Buffer): Buffer {
    if (body.length < 33 || body.toString("latin1", 0, 8) !== "\x07MESSAGE") throw new Error(`not a MESSAGE: ${body.toString("hex", 0, 16)}`);
    const nonce = body.readBigUInt64BE(8);
    if (nonce <= this.peerNonce) throw new Error(`server nonce ${nonce} after ${this.peerNonce}`);
    const plain = unseal(this.#need(this.sessionKey), shortNonce("CurveZMQMESSAGES", nonce), body.subarray(16));
    if (plain === undefined) throw new Error("MESSAGE box does not open");
    this.peerNonce = nonce;
    return plain;
  }
}

// ------------------------------------------------------------------ the server role

/** What the server role does at WELCOME and READY; each can be made wrong. */
export interface ServerScript {
  /** Replaces the WELCOME data (after the name) entirely. */
  welcomeData?: (good: Buffer) => Uint8Array;
  /** Replaces the READY data (after the name) entirely. */
  readyData?: (good: Buffer) => Uint8Array;
}

/**
 * A CurveZMQ server on one accepted raw connection. `readHello()`, `sendWelcome()`,
 * `readInitiate()`, `sendReady()`, then `sendMessage()`/`readMessage()`.
 */
export class CurveServerConnection {
  readonly connection: RawConnection;
  readonly permanent: RawKeyPair;
  /** The client's transient key (C') from HELLO and its permanent key (C) from INITIATE. */
  clientTransient: Uint8Array | undefined;
  clientPermanent: Uint8Array | undefined;
  /** Our transient key pair (S'), made at WELCOME. */
  transient: RawKeyPair | undefined;
  sessionKey: Uint8Array | undefined;
  /** The next short nonce (READY is 1). */
  nonce = 1n;
  peerNonce = 0n;
  clientMetadata: Map<string, Buffer> | undefined;
  readonly #cookieKey = randomBytes(32);

  constructor(connection: RawConnection, permanent: RawKeyPair) {
    this.connection = connection;
    this.permanent = permanent;
  }

  sendGreeting(spec: GreetingSpec = {}): void {
    this.connection.write(greetingBytes({ asServer: true, ...spec }));
  }

  readGreeting(): Promise<RawGreeting> {
    return this.connection.readGreeting();
  }

  sendCommandBody(body: Uint8Array): void {
    this.connection.write(frameBytes(body, 0x04));
  }

  /** Reads and checks HELLO. */
  async readHello(): Promise<void> {
    this.acceptHello(await this.connection.readCommand("HELLO"));
  }

  /** Checks the data of a HELLO (after its name); throws when it is not a good one. */
  acceptHello(data: Buffer): void {
    if (data.length !== 194) throw new Error(`HELLO data of ${data.length} octets`);
    if (data[0] !== 1 || data[1] !== 0) throw new Error(`HELLO version ${data[0]}.${data[1]}`);
    this.clientTransient = Buffer.from(data.subarray(74, 106));
    const nonce = data.readBigUInt64BE(106);
    const plain = unseal(boxKey(this.permanent.secretKey, this.clientTransient), shortNonce("CurveZMQHELLO---", nonce), data.subarray(114));
    if (plain === undefined || plain.some((byte) => byte !== 0)) throw new Error("HELLO signature box does not open");
    this.peerNonce = nonce;
  }

  /** The WELCOME data: long nonce + Box[S' + cookie](S->C'). */
  welcomeData(options: { signer?: RawKeyPair; transient?: RawKeyPair; to?: Uint8Array } = {}): Buffer {
    const clientTransient = options.to ?? need(this.clientTransient);
    this.transient = options.transient ?? rawKeyPair();
    const cookieTail = randomBytes(16);
    const cookieBox = seal(this.#cookieKey, longNonce("COOKIE--", cookieTail), Buffer.concat([clientTransient, this.transient.secretKey]));
    const tail = randomBytes(16);
    const box = seal(
      boxKey((options.signer ?? this.permanent).secretKey, clientTransient),
      longNonce("WELCOME-", tail),
      Buffer.concat([this.transient.publicKey, cookieTail, cookieBox]),
    );
    this.sessionKey = boxKey(this.transient.secretKey, need(this.clientTransient));
    return Buffer.concat([tail, box]);
  }

  sendWelcome(options?: Parameters<CurveServerConnection["welcomeData"]>[0]): void {
    this.sendCommandBody(commandBody("WELCOME", this.welcomeData(options)));
  }

  /** Reads INITIATE, opens the box and the vouch, checks both. */
  async readInitiate(): Promise<void> {
    this.acceptInitiate(await this.connection.readCommand("INITIATE"));
  }

  /** Checks the data of an INITIATE (after its name); throws when it is not a good one. */
  acceptInitiate(data: Buffer): void {
    if (data.length < 96 + 8 + 144) throw new Error(`INITIATE data of ${data.length} octets`);
    const nonce = data.readBigUInt64BE(96);
    const plain = unseal(need(this.sessionKey), shortNonce("CurveZMQINITIATE", nonce), data.subarray(104));
    if (plain === undefined) throw new Error("INITIATE box does not open");
    this.clientPermanent = Buffer.from(plain.subarray(0, 32));
    const vouch = unseal(boxKey(need(this.transient).secretKey, this.clientPermanent), longNonce("VOUCH---", plain.subarray(32, 48)), plain.subarray(48, 128));
    if (vouch === undefined) throw new Error("vouch does not open");
    if (!vouch.subarray(0, 32).equals(need(this.clientTransient)) || !vouch.subarray(32).equals(this.permanent.publicKey)) {
      throw new Error("vouch does not match");
    }
    const metadata = parseMetadata(plain.subarray(128));
    if (metadata === undefined) throw new Error("INITIATE metadata malformed");
    this.clientMetadata = metadata;
    this.peerNonce = nonce;
  }

  /** The READY data: short nonce + Box[metadata](S'->C'). */
  readyData(options: { metadata?: Record<string, string | Uint8Array>; nonce?: bigint; key?: Uint8Array } = {}): Buffer {
    const nonce = options.nonce ?? this.nonce++;
    const box = seal(options.key ?? need(this.sessionKey), shortNonce("CurveZMQREADY---", nonce), metadataBytes(options.metadata ?? { "Socket-Type": "ROUTER" }));
    return Buffer.concat([shortNonce("", nonce).subarray(16), box]);
  }

  sendReady(options?: Parameters<CurveServerConnection["readyData"]>[0]): void {
    this.sendCommandBody(commandBody("READY", this.readyData(options)));
  }

  /** Greeting, HELLO, WELCOME, INITIATE, READY, all well-behaved. */
  async handshake(metadata: Record<string, string | Uint8Array> = { "Socket-Type": "ROUTER" }): Promise<void> {
    this.sendGreeting();
    await this.readGreeting();
    await this.readHello();
    this.sendWelcome();
    await this.readInitiate();
    this.sendReady({ metadata });
  }

  /** The data of one MESSAGE from the server (prefix "CurveZMQMESSAGES"). */
  messageBody(message: MessageSpec, options: { nonce?: bigint; key?: Uint8Array } = {}): Buffer {
    const nonce = options.nonce ?? this.nonce++;
    const inner = Buffer.concat([Buffer.from([message.flags ?? 0]), message.data]);
    const box = seal(options.key ?? need(this.sessionKey), shortNonce("CurveZMQMESSAGES", nonce), inner);
    return Buffer.concat([commandBody("MESSAGE"), shortNonce("", nonce).subarray(16), box]);
  }

  sendMessage(frames: readonly Uint8Array[]): void {
    frames.forEach((data, index) => {
      this.sendMessageBody(this.messageBody({ data, flags: index < frames.length - 1 ? 1 : 0 }));
    });
  }

  /** ZMTP flags of the frames that carry MESSAGE commands (see {@link CurveClientPeer.messageFrameFlags}). */
  messageFrameFlags = 0x04;

  /** Sends a MESSAGE body in a frame with {@link messageFrameFlags}. */
  sendMessageBody(body: Uint8Array): void {
    this.connection.write(frameBytes(body, this.messageFrameFlags));
  }

  /** Reads one ZeroMQ message from the client. */
  async readMessage(): Promise<Buffer[]> {
    const frames: Buffer[] = [];
    for (;;) {
      const frame = await this.connection.readFrame("MESSAGE");
      const body = frame.body;
      if (body.length < 33 || body.toString("latin1", 0, 8) !== "\x07MESSAGE") throw new Error(`not a MESSAGE: ${body.toString("hex", 0, 16)}`);
      const nonce = body.readBigUInt64BE(8);
      if (nonce <= this.peerNonce) throw new Error(`client nonce ${nonce} after ${this.peerNonce}`);
      this.peerNonce = nonce;
      const plain = unseal(need(this.sessionKey), shortNonce("CurveZMQMESSAGEC", nonce), body.subarray(16));
      if (plain === undefined) throw new Error("MESSAGE box does not open");
      const flags = plain[0] as number;
      if ((flags & 0x02) !== 0) continue;
      frames.push(plain.subarray(1));
      if ((flags & 0x01) === 0) return frames;
    }
  }
}

function need<T>(value: T | undefined): T {
  if (value === undefined) throw new Error("the handshake has not reached this step");
  return value;
}

/** A listening raw server: hands out each accepted connection in order. */
export class RawListener {
  readonly server: Server;
  readonly #accepted: RawConnection[] = [];
  readonly #waiting: ((connection: RawConnection) => void)[] = [];
  /** Every connection accepted so far. */
  readonly all: RawConnection[] = [];

  private constructor(server: Server) {
    this.server = server;
    server.on("connection", (socket: Socket) => {
      const connection = new RawConnection(socket);
      this.all.push(connection);
      const waiter = this.#waiting.shift();
      if (waiter === undefined) this.#accepted.push(connection);
      else waiter(connection);
    });
  }

  /** Listens on an ephemeral loopback port. */
  static async listen(): Promise<RawListener> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return new RawListener(server);
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  get endpoint(): string {
    return `tcp://127.0.0.1:${this.port}`;
  }

  /** The next accepted connection. */
  accept(): Promise<RawConnection> {
    const ready = this.#accepted.shift();
    if (ready !== undefined) return Promise.resolve(ready);
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  /** Stops listening and destroys every accepted connection. */
  async close(): Promise<void> {
    for (const connection of this.all) connection.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
