// The CURVE handshake of one connection (RFC 26 CurveZMQ over RFC 25 ZMTP-CURVE), client and
// server roles, as state machines fed the commands the decoder parsed:
//
//   client                                   server
//   HELLO   C', box[64 zeros](C'->S)  --->
//                                      <---  WELCOME  box[S' + cookie](S->C')
//   INITIATE cookie, box[C + vouch + metadata](C'->S')  --->
//                                      <---  READY    box[metadata](S'->C')   (or ERROR)
//
// The vouch is box[C' + S](C->S'): the client's long-term key C speaks for its short-term C'.
// The cookie is box[C' + s'](K) under the server's rotating cookie key K. RFC 26 has it so that a
// server may forget s' after WELCOME; this one keeps its S' pair for the connection until the
// INITIATE, as libzmq does, and the cookie must still hold that s' (see CurveServerHandshake).

import { randomBytes, timingSafeEqual } from "node:crypto";
import { Buffer } from "node:buffer";
import { z85Encode } from "@zrpc/channel";
import { encodeCommand } from "../protocol.js";
import { BOX_OVERHEAD, boxKey, nonce, open, seal } from "./box.js";
import { CurveCodec } from "./codec.js";
import type { CurveClientConfig, CurveServerConfig } from "./options.js";
import { concat, counterBytes } from "./hello.js";
import { longTermKey, transientKeyPair } from "./x25519.js";

/** Body sizes (after the command name) fixed by RFC 26. */
const HELLO_DATA = 2 + 72 + 32 + 8 + BOX_OVERHEAD + 64;
const WELCOME_DATA = 16 + BOX_OVERHEAD + 32 + 96;
const COOKIE_SIZE = 16 + BOX_OVERHEAD + 64;
const INITIATE_MIN_DATA = COOKIE_SIZE + 8 + BOX_OVERHEAD + 32 + 16 + BOX_OVERHEAD + 64;
const READY_MIN_DATA = 8 + BOX_OVERHEAD;

/** Why a handshake failed: the report kind, a message, and the ERROR reason to send, if any. @internal */
export interface HandshakeFailure {
  /** As in `CurveAuthFailure.kind`. */
  readonly kind: "auth" | "protocol" | "other";
  readonly message: string;
  /** Send an ERROR command with this reason before closing. */
  readonly reply?: string;
  /** The refused client key (Z85), on a server. */
  readonly publicKey?: string;
  readonly error?: Error;
}

/** What a handshake needs from its connection. @internal */
export interface HandshakeHost {
  /** The peer's address (`ip:port`, or the endpoint), for `authorize` and reports. */
  readonly address: string;
  /** Our metadata (encoded properties: Socket-Type, Identity). */
  readonly metadata: Uint8Array;
  /** True once the connection closed (a late `authorize` answer is then dropped). */
  readonly closed: boolean;
  /** Writes a handshake command. */
  send(bytes: Buffer): void;
  /** The handshake completed: the MESSAGE codec and the peer's metadata (READY properties). */
  done(codec: CurveCodec, metadata: Uint8Array): void;
  /** The handshake failed; the connection closes. */
  fail(failure: HandshakeFailure): void;
  /** Why the peer's metadata is unacceptable (malformed, incompatible Socket-Type), if it is. */
  metadataProblem?(metadata: Uint8Array): HandshakeFailure | undefined;
}

/** A CURVE handshake in progress. @internal */
export interface CurveHandshake {
  /**
   * The client's HELLO, to go out with our greeting (it depends on nothing in the server's), or
   * undefined (a server; a client that cannot make one, which {@link start} then reports). Once
   * given, {@link start} does not send it again.
   */
  early?(): Buffer | undefined;
  /** The greeting exchange is over: the client sends its HELLO (unless it went out with the greeting). */
  start(): void;
  /** A command arrived during the handshake. */
  onCommand(name: string, data: Uint8Array): void;
  /** The peer closed during the handshake: what to report. */
  closedEarly(): HandshakeFailure;
}

function readCounter(bytes: Uint8Array): bigint {
  return Buffer.from(bytes.buffer, bytes.byteOffset, 8).readBigUInt64BE(0);
}

function same(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
}

/** The reason of an ERROR command's data (`length reason`). */
export function errorReason(data: Uint8Array): string {
  const length = data[0] ?? 0;
  return Buffer.from(data.subarray(1, 1 + length)).toString("latin1");
}

function protocol(message: string, reply?: string): HandshakeFailure {
  return { kind: "protocol", message, ...(reply !== undefined && { reply }) };
}

/**
 * The client side: sends HELLO, answers WELCOME with INITIATE, completes on READY. Its HELLO is
 * the one its socket made ahead (`ClientHellos` in hello.ts), or made when the handshake is created
 * (before our greeting goes out: the HELLO goes with it).
 * @internal
 */
export class CurveClientHandshake implements CurveHandshake {
  readonly #host: HandshakeHost;
  readonly #config: CurveClientConfig;
  #state: "idle" | "welcome" | "ready" | "done" = "idle";
  /** Our short-term key pair (C', c'), this connection's alone. */
  readonly #short: { publicKey: Uint8Array; secretKey: Uint8Array };
  /** The beforenm key of c' and S' (after WELCOME). */
  #key: Uint8Array | undefined;
  /** The beforenm key of c' and S (HELLO and WELCOME boxes); undefined when S is not a usable key. */
  readonly #helloKey: Uint8Array | undefined;
  /** The HELLO command. */
  readonly #hello: Buffer | undefined;
  /** The MESSAGE codec, made while READY is on its way. */
  #codec: CurveCodec | undefined;

  constructor(host: HandshakeHost, config: CurveClientConfig) {
    this.#host = host;
    this.#config = config;
    const hello = config.hellos.take();
    this.#short = hello.short;
    this.#helloKey = hello.helloKey;
    this.#hello = hello.hello;
  }

  early(): Buffer | undefined {
    if (this.#state !== "idle" || this.#hello === undefined) return undefined;
    this.#state = "welcome";
    return this.#hello;
  }

  start(): void {
    if (this.#state !== "idle") return;
    if (this.#hello === undefined) {
      this.#host.fail(protocol("CURVE handshake: curve.serverKey is not a usable Curve25519 public key (a low-order point)"));
      return;
    }
    this.#state = "welcome";
    this.#host.send(this.#hello);
  }

  onCommand(name: string, data: Uint8Array): void {
    if (name === "ERROR") {
      const reason = errorReason(data);
      const refused = /^4\d\d/.test(reason);
      this.#host.fail({
        kind: refused ? "auth" : "protocol",
        message: refused
          ? `CURVE authentication failed: the server refused this client's key (ERROR ${JSON.stringify(reason)})`
          : `CURVE handshake failed: the server sent ERROR ${JSON.stringify(reason)}${this.#state === "welcome" ? " (is curve.serverKey the server's public key?)" : ""}`,
      });
      return;
    }
    if (this.#state === "welcome" && name === "WELCOME") this.#onWelcome(data);
    else if (this.#state === "ready" && name === "READY") this.#onReady(data);
    else this.#host.fail(protocol(`CURVE handshake: unexpected ${name} command while waiting for ${this.#state === "welcome" ? "WELCOME" : "READY"}`, "unexpected command"));
  }

  #onWelcome(data: Uint8Array): void {
    if (data.byteLength !== WELCOME_DATA) {
      this.#host.fail(protocol(`CURVE handshake: WELCOME of ${data.byteLength} octets, expected ${WELCOME_DATA}`, "malformed WELCOME"));
      return;
    }
    const config = this.#config;
    const welcomeKey = this.#helloKey as Uint8Array;
    const plain = open(welcomeKey, nonce("WELCOME-", data.subarray(0, 16)), data.subarray(16));
    if (plain === undefined) {
      this.#host.fail(protocol("CURVE handshake: the WELCOME box did not open: the server's key is not curve.serverKey", "invalid WELCOME"));
      return;
    }
    const serverShort = plain.subarray(0, 32);
    const cookie = plain.subarray(32, 128);
    let key: Uint8Array;
    let vouchKey: Uint8Array;
    try {
      // S' is imported once (cached for this array) for both.
      key = boxKey(this.#short.secretKey, serverShort);
      vouchKey = boxKey(config.secretKey, serverShort);
    } catch (error) {
      this.#host.fail({ ...protocol("CURVE handshake: the server's short-term key is invalid", "invalid WELCOME"), error: error as Error });
      return;
    }
    this.#key = key;
    const vouchNonce = randomBytes(16);
    const vouch = seal(vouchKey, nonce("VOUCH---", vouchNonce), concat(this.#short.publicKey, config.serverKey));
    const counter = counterBytes(2);
    const box = seal(key, nonce("CurveZMQINITIATE", counter), concat(config.publicKey, vouchNonce, vouch, this.#host.metadata));
    this.#state = "ready";
    this.#host.send(encodeCommand("INITIATE", concat(cookie, counter, box)));
    // While the server checks the INITIATE: the MESSAGE boxes (their subkeys) of this connection.
    if (!this.#host.closed) this.#codec = new CurveCodec(key, true, 3, 0);
  }

  #onReady(data: Uint8Array): void {
    if (data.byteLength < READY_MIN_DATA) {
      this.#host.fail(protocol(`CURVE handshake: READY of ${data.byteLength} octets is too short`, "malformed READY"));
      return;
    }
    const key = this.#key as Uint8Array;
    const counter = data.subarray(0, 8);
    const plain = open(key, nonce("CurveZMQREADY---", counter), data.subarray(8));
    if (plain === undefined) {
      this.#host.fail(protocol("CURVE handshake: the READY box did not open", "invalid READY"));
      return;
    }
    // The server's metadata is part of the handshake: an incompatible socket type fails it.
    const problem = this.#host.metadataProblem?.(plain);
    if (problem !== undefined) {
      this.#host.fail(problem);
      return;
    }
    this.#state = "done";
    const codec = this.#codec ?? new CurveCodec(key, true, 3, 0);
    this.#codec = undefined;
    // MESSAGE nonces of the server continue after its READY's.
    codec.peerNonceFrom(counter);
    this.#host.done(codec, plain);
  }

  closedEarly(): HandshakeFailure {
    if (this.#state === "welcome") {
      return protocol("CURVE handshake: the server closed the connection after our HELLO: curve.serverKey is probably not its public key");
    }
    return { kind: "other", message: "CURVE handshake: the server closed the connection during the handshake" };
  }
}

/**
 * The server side: answers HELLO with WELCOME, checks INITIATE (cookie, vouch, client key),
 * answers with READY or ERROR.
 * @internal
 */
export class CurveServerHandshake implements CurveHandshake {
  readonly #host: HandshakeHost;
  readonly #config: CurveServerConfig;
  #state: "hello" | "initiate" | "authorizing" | "done" = "hello";
  /** The client's short-term public key C' from its HELLO (public; the cookie must match it). */
  #clientShort: Uint8Array | undefined;
  #helloNonce = 0n;
  /** The nonce of the cookie our WELCOME carried (public): a cookie recorded on another connection is refused. */
  #cookieNonce: Uint8Array | undefined;
  /**
   * Our short-term pair (S', s') of this connection. RFC 26 lets a server forget it after WELCOME
   * (the cookie brings s' back); this one keeps it, as libzmq does, so that the INITIATE needs no
   * import of s' and the key of s' and C' is ready: the cookie must still open and hold C' and s'.
   */
  #short: { publicKey: Uint8Array; secretKey: Uint8Array } | undefined;
  /** The beforenm key of s' and C', computed once WELCOME is sent. */
  #key: Uint8Array | undefined;

  constructor(host: HandshakeHost, config: CurveServerConfig) {
    this.#host = host;
    this.#config = config;
  }

  start(): void {
    // The client speaks first.
  }

  onCommand(name: string, data: Uint8Array): void {
    if (name === "ERROR") {
      this.#host.fail(protocol(`CURVE handshake: the client sent ERROR ${JSON.stringify(errorReason(data))}`));
      return;
    }
    if (this.#state === "hello" && name === "HELLO") this.#onHello(data);
    else if (this.#state === "initiate" && name === "INITIATE") this.#onInitiate(data);
    else this.#host.fail(protocol(`CURVE handshake: unexpected ${name} command while waiting for ${this.#state === "hello" ? "HELLO" : "INITIATE"}`, "unexpected command"));
  }

  #onHello(data: Uint8Array): void {
    if (data.byteLength !== HELLO_DATA) {
      this.#host.fail(protocol(`CURVE handshake: HELLO of ${data.byteLength} octets, expected ${HELLO_DATA}`, "malformed HELLO"));
      return;
    }
    if (data[0] !== 1 || data[1] !== 0) {
      this.#host.fail(protocol(`CURVE handshake: HELLO version ${String(data[0])}.${String(data[1])}, expected 1.0`, "unsupported CURVE version"));
      return;
    }
    const clientShort = Uint8Array.from(data.subarray(74, 106));
    const counter = data.subarray(106, 114);
    let helloKey: Uint8Array;
    try {
      helloKey = boxKey(this.#config.secretKey, clientShort);
    } catch (error) {
      this.#host.fail({ ...protocol("CURVE handshake: HELLO carries an invalid short-term key", "invalid HELLO"), error: error as Error });
      return;
    }
    const zeros = open(helloKey, nonce("CurveZMQHELLO---", counter), data.subarray(114));
    if (zeros !== undefined && !zeros.every((byte) => byte === 0)) {
      this.#host.fail(protocol("CURVE handshake: the HELLO signature box does not hold 64 zero octets", "invalid HELLO"));
      return;
    }
    if (zeros === undefined) {
      // No ERROR here, as libzmq's server: libzmq clients treat an ERROR without a ZAP status as
      // fatal (no handshake event, no reconnect), a plain hang-up as a failed handshake to retry.
      this.#host.fail(protocol("CURVE handshake: the HELLO box did not open: the client's curve.serverKey is not this server's public key"));
      return;
    }
    this.#clientShort = clientShort;
    this.#helloNonce = readCounter(counter);
    // A fresh short-term pair for this client (made ahead); its secret travels in the cookie.
    const short = transientKeyPair();
    this.#short = short;
    const cookieNonce = randomBytes(16);
    this.#cookieNonce = cookieNonce;
    const cookieBox = seal(this.#config.cookies.current(), nonce("COOKIE--", cookieNonce), concat(clientShort, short.secretKey));
    const welcomeNonce = randomBytes(16);
    const box = seal(helloKey, nonce("WELCOME-", welcomeNonce), concat(short.publicKey, cookieNonce, cookieBox));
    this.#state = "initiate";
    this.#host.send(encodeCommand("WELCOME", concat(welcomeNonce, box)));
    // While the client answers: the key of its INITIATE and of the MESSAGE boxes (C' is valid:
    // the HELLO key above was computed with it).
    if (!this.#host.closed) this.#key = boxKey(short.secretKey, clientShort);
  }

  /** The short-term secret s' inside a cookie, when the cookie opens with a current key and names C'. */
  #openCookie(cookie: Uint8Array): Uint8Array | undefined {
    if (!same(cookie.subarray(0, 16), this.#cookieNonce as Uint8Array)) return undefined;
    const cookieNonce = nonce("COOKIE--", cookie.subarray(0, 16));
    for (const key of this.#config.cookies.candidates()) {
      const plain = open(key, cookieNonce, cookie.subarray(16));
      if (plain === undefined) continue;
      const short = this.#short as { secretKey: Uint8Array };
      const secret = plain.subarray(32, 64);
      // The cookie names this connection's C' and holds the s' we made for it; s' is then ours.
      return same(plain.subarray(0, 32), this.#clientShort as Uint8Array) && timingSafeEqual(secret, short.secretKey) ? short.secretKey : undefined;
    }
    return undefined;
  }

  #onInitiate(data: Uint8Array): void {
    const host = this.#host;
    if (data.byteLength < INITIATE_MIN_DATA) {
      host.fail(protocol(`CURVE handshake: INITIATE of ${data.byteLength} octets is too short`, "malformed INITIATE"));
      return;
    }
    const serverShortSecret = this.#openCookie(data.subarray(0, COOKIE_SIZE));
    if (serverShortSecret === undefined) {
      host.fail(protocol("CURVE handshake: INITIATE carries an invalid, expired or replayed cookie", "invalid cookie"));
      return;
    }
    const counter = Uint8Array.from(data.subarray(COOKIE_SIZE, COOKIE_SIZE + 8));
    const initiateNonce = readCounter(counter);
    if (initiateNonce <= this.#helloNonce) {
      host.fail(protocol("CURVE handshake: INITIATE short nonce did not increase", "invalid INITIATE"));
      return;
    }
    const clientShort = this.#clientShort as Uint8Array;
    const key = this.#key ?? boxKey(serverShortSecret, clientShort);
    const plain = open(key, nonce("CurveZMQINITIATE", counter), data.subarray(COOKIE_SIZE + 8));
    if (plain === undefined) {
      host.fail(protocol("CURVE handshake: the INITIATE box did not open", "invalid INITIATE"));
      return;
    }
    const clientKey = longTermKey(plain.subarray(0, 32));
    let vouchKey: Uint8Array;
    try {
      // The client's key is long-term: its imported form is kept for its next connections.
      vouchKey = boxKey(serverShortSecret, clientKey);
    } catch (error) {
      host.fail({ ...protocol("CURVE handshake: INITIATE carries an invalid client key", "invalid INITIATE"), error: error as Error });
      return;
    }
    const vouch = open(vouchKey, nonce("VOUCH---", plain.subarray(32, 48)), plain.subarray(48, 128));
    if (vouch === undefined || !same(vouch.subarray(0, 32), clientShort) || !same(vouch.subarray(32, 64), this.#config.publicKey)) {
      host.fail(protocol("CURVE handshake: the INITIATE vouch is invalid (the client's keys do not match)", "invalid vouch"));
      return;
    }
    const metadata = Uint8Array.from(plain.subarray(128));
    const problem = host.metadataProblem?.(metadata);
    if (problem !== undefined) {
      host.fail(problem);
      return;
    }
    this.#state = "authorizing";
    const publicKey = z85Encode(clientKey);
    const decided = (accepted: boolean, error?: Error): void => {
      if (host.closed) return;
      if (!accepted) {
        host.fail({
          kind: "auth",
          publicKey,
          reply: "400",
          message: `CURVE authentication failed: refused client key ${publicKey} from ${host.address}${error === undefined ? "" : ` (authorize threw: ${error.message})`}`,
          ...(error !== undefined && { error }),
        });
        return;
      }
      this.#ready(key, counter, metadata);
    };
    this.#authorize(publicKey, decided);
  }

  /** Runs `allowedClientKeys`, then `authorize`; calls `decided` once (maybe later). */
  #authorize(publicKey: string, decided: (accepted: boolean, error?: Error) => void): void {
    const { allowed, authorize } = this.#config;
    const address = this.#host.address;
    try {
      if (allowed !== undefined && !allowed(publicKey, address)) {
        decided(false);
        return;
      }
      if (authorize === undefined) {
        decided(true);
        return;
      }
      const answer = authorize({ publicKey, address });
      if (typeof answer === "boolean") {
        decided(answer);
        return;
      }
      Promise.resolve(answer).then(
        (accepted) => decided(accepted === true),
        (error: unknown) => decided(false, error instanceof Error ? error : new Error(String(error))),
      );
    } catch (error) {
      decided(false, error instanceof Error ? error : new Error(String(error)));
    }
  }

  #ready(key: Uint8Array, initiateNonce: Uint8Array, metadata: Uint8Array): void {
    const counter = counterBytes(1);
    const box = seal(key, nonce("CurveZMQREADY---", counter), this.#host.metadata);
    this.#state = "done";
    this.#host.send(encodeCommand("READY", concat(counter, box)));
    this.#host.done(new CurveCodec(key, false, 2, initiateNonce), metadata);
  }

  closedEarly(): HandshakeFailure {
    return { kind: "other", message: `CURVE handshake: the client closed the connection during the handshake (${this.#state === "hello" ? "before its HELLO" : "before its INITIATE"})` };
  }
}
