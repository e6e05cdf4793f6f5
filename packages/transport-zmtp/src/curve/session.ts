// The CURVE side of one ZMTP connection: runs the handshake (handshake.ts) between the greeting
// and the peer's metadata, then seals outgoing frames and opens incoming MESSAGE commands
// (codec.ts), reassembling multipart messages under the connection's limits. The connection
// creates one only when its socket has the `curve` option: a NULL connection never reaches here.

import { Buffer } from "node:buffer";
import type { OutEntry } from "../encoder.js";
import { ZmtpError } from "../errors.js";
import { encodeGreeting } from "../protocol.js";
import type { Greeting } from "../protocol.js";
import type { CurveCodec} from "./codec.js";
import { CURVE_COMMAND, CURVE_MORE, MESSAGE_OVERHEAD } from "./codec.js";
import { CurveClientHandshake, CurveServerHandshake } from "./handshake.js";
import type { CurveHandshake, HandshakeFailure, HandshakeHost } from "./handshake.js";
import type { CurveConfig } from "./options.js";

/** What a {@link CurveSession} needs from its connection. @internal */
export interface CurveSessionOwner {
  /** True once the connection closed. */
  isClosed(): boolean;
  /** Writes handshake bytes straight to the socket. */
  write(bytes: Buffer): void;
  /** The handshake completed: open the connection with the peer's metadata. */
  opened(metadata: Uint8Array): void;
  /** Why the peer's metadata is unacceptable, if it is: a reason and the ERROR reason to send. */
  metadataProblem(metadata: Uint8Array): { message: string; reply: string } | undefined;
  /** The handshake failed: report it and close. */
  failed(failure: HandshakeFailure): void;
  /** A complete message arrived. */
  frames(frames: Uint8Array[]): void;
  /** A command (PING, SUBSCRIBE, ...) arrived inside a MESSAGE. */
  command(name: string, data: Uint8Array): void;
  /** The peer broke the protocol or a limit after the handshake: close. */
  broken(code: "protocol" | "limit", message: string): void;
}

/** What a session is created with. @internal */
export interface CurveSessionInit {
  readonly config: CurveConfig;
  readonly owner: CurveSessionOwner;
  /** The peer's address (`ip:port`, or the endpoint). */
  readonly address: string;
  /** Our metadata (Socket-Type, Identity), encoded. */
  readonly metadata: Uint8Array;
  readonly maxMessageSize: number;
  readonly maxFramesPerMessage: number;
}

/** One connection's CURVE state. @internal */
export class CurveSession implements HandshakeHost {
  readonly address: string;
  readonly metadata: Uint8Array;
  readonly #config: CurveConfig;
  readonly #owner: CurveSessionOwner;
  readonly #maxMessageSize: number;
  readonly #maxFrames: number;
  #handshake: CurveHandshake | undefined;
  #codec: CurveCodec | undefined;
  /** Our HELLO went out with our greeting (a client), before the peer's greeting was read. */
  #helloSent = false;
  /** Set once a failure was reported (the close that follows adds nothing). */
  failure: HandshakeFailure | undefined;
  #frames: Uint8Array[] = [];
  #messageBytes = 0;

  constructor(init: CurveSessionInit) {
    this.#config = init.config;
    this.#owner = init.owner;
    this.address = init.address;
    this.metadata = init.metadata;
    this.#maxMessageSize = init.maxMessageSize;
    this.#maxFrames = init.maxFramesPerMessage;
  }

  /** True on a CURVE server socket (its greeting says as-server). */
  get server(): boolean {
    return this.#config.role === "server";
  }

  /** True once the handshake completed. */
  get established(): boolean {
    return this.#codec !== undefined;
  }

  /** The largest MESSAGE command the decoder must accept once the handshake is done. */
  get maxCommandSize(): number {
    return this.#maxMessageSize + MESSAGE_OVERHEAD;
  }

  get closed(): boolean {
    return this.#owner.isClosed();
  }

  /** The peer greeted with CURVE: check the roles and start the handshake. */
  onGreeting(greeting: Greeting): void {
    // libzmq's servers leave as-server 0 in their greeting, so a client cannot rely on it; a peer
    // that says it is a server is wrong for a server, though.
    if (this.server && greeting.asServer) {
      this.fail({
        kind: "protocol",
        message: "CURVE handshake: both peers are CURVE servers (one side needs curve.serverKey instead of curve.secretKey)",
        reply: "CURVE role mismatch",
      });
      return;
    }
    this.prepare();
    (this.#handshake as CurveHandshake).start();
  }

  /**
   * What the connection writes first: our greeting (CURVE, as-server on a server), and on a
   * client its HELLO in the same write. Nothing in a HELLO depends on the server's greeting, and
   * the server reads it after its greeting check: a round trip less than waiting for the
   * server's greeting, as the client's first handshake command (and one write less).
   */
  opening(): Buffer {
    const greeting = encodeGreeting("CURVE", this.server);
    this.prepare();
    const hello = (this.#handshake as CurveHandshake).early?.();
    if (hello === undefined) return greeting;
    this.#helloSent = true;
    return Buffer.concat([greeting, hello]);
  }

  /** Creates the handshake (a client's short-term key pair, its HELLO). */
  prepare(): void {
    const config = this.#config;
    this.#handshake ??= config.role === "server" ? new CurveServerHandshake(this, config) : new CurveClientHandshake(this, config);
  }

  /** A command during the handshake. */
  onHandshakeCommand(name: string, data: Uint8Array): void {
    this.#handshake?.onCommand(name, data);
  }

  /** What to report when the connection closed before the handshake completed (undefined: reported already). */
  /** Our HELLO went out with our greeting, before the peer's greeting was read. */
  get helloSent(): boolean {
    return this.#helloSent;
  }

  closedEarly(greeted: boolean): HandshakeFailure | undefined {
    if (this.failure !== undefined || this.#codec !== undefined) return undefined;
    if (this.#handshake !== undefined && greeted) return this.#handshake.closedEarly();
    if (!greeted && this.#helloSent) {
      // libzmq reads our greeting and HELLO in one go; when the HELLO box does not open (another
      // server key) it closes at once, and the kernel may drop its greeting unsent (RST).
      return {
        kind: "protocol",
        message:
          "CURVE handshake: the peer closed the connection after our HELLO without completing its ZMTP greeting: a libzmq CURVE server does this when curve.serverKey is not its public key (otherwise the peer is not a ZeroMQ CURVE server)",
      };
    }
    return { kind: "other", message: greeted ? "CURVE handshake broke off" : "the peer closed the connection before its ZMTP greeting" };
  }

  /**
   * The connection closed before the handshake completed: the failure to report (a timeout as
   * `"other"`) and the connection's close error, or undefined when it was reported already.
   */
  closedEarlyReport(greeted: boolean, closeError: Error | undefined, endpoint: string): { failure: HandshakeFailure; error: ZmtpError } | undefined {
    const failure = this.closedEarly(greeted);
    if (failure === undefined) return undefined;
    this.failure = failure;
    // Our own verdict (a broken frame, a limit, a timeout) says more than "the peer closed".
    const ours = closeError !== undefined && ZmtpError.isInstance(closeError) ? closeError : undefined;
    const reported: HandshakeFailure =
      ours === undefined
        ? failure
        : { kind: ours.code === "timeout" ? "other" : ours.code === "auth" ? "auth" : "protocol", message: `CURVE handshake: ${ours.message}`, error: ours };
    const error = ZmtpError.isInstance(closeError)
      ? closeError
      : new ZmtpError(reported.kind === "auth" ? "auth" : "protocol", `${reported.message} (peer of ${endpoint})`, {
          endpoint,
          ...(closeError !== undefined && { cause: closeError }),
        });
    return { failure: reported, error };
  }

  // ------------------------------------------------------------------ HandshakeHost

  send(bytes: Buffer): void {
    if (!this.#owner.isClosed()) this.#owner.write(bytes);
  }

  done(codec: CurveCodec, metadata: Uint8Array): void {
    this.#codec = codec;
    this.#handshake = undefined;
    this.#owner.opened(metadata);
  }

  metadataProblem(metadata: Uint8Array): HandshakeFailure | undefined {
    const problem = this.#owner.metadataProblem(metadata);
    return problem === undefined ? undefined : { kind: "protocol", message: `CURVE handshake: ${problem.message}`, reply: problem.reply };
  }

  fail(failure: HandshakeFailure): void {
    if (this.failure !== undefined) return;
    this.failure = failure;
    this.#owner.failed(failure);
  }

  // ------------------------------------------------------------------ after the handshake

  /** Seals a batch of queued entries. */
  encodeBatch(entries: readonly OutEntry[]): Buffer[] {
    return (this.#codec as CurveCodec).encodeBatch(entries);
  }

  /** Data frames after the handshake: MESSAGE commands as libzmq writes them (starting with `07 "MESSAGE"`). */
  onDataFrames(frames: Uint8Array[]): void {
    for (const frame of frames) {
      if (this.#owner.isClosed()) return;
      if (!startsWithMessageName(frame)) {
        this.#owner.broken("protocol", "plaintext message frame on a CURVE connection");
        return;
      }
      this.#onMessage(frame, 8);
    }
  }

  /** A MESSAGE command arrived (after the handshake). */
  onMessageCommand(data: Uint8Array): void {
    this.#onMessage(data, 0);
  }

  /** A MESSAGE command's data (after its name) at `at` of `data`. */
  #onMessage(data: Uint8Array, at: number): void {
    const owner = this.#owner;
    const plain = (this.#codec as CurveCodec).open(data, at);
    if (typeof plain === "string") {
      owner.broken("protocol", plain);
      return;
    }
    const flags = plain[0] as number;
    if ((flags & ~(CURVE_MORE | CURVE_COMMAND)) !== 0) {
      owner.broken("protocol", `MESSAGE flags ${flags.toString(16).padStart(2, "0")} use reserved bits`);
      return;
    }
    if ((flags & CURVE_COMMAND) !== 0) {
      const body = plain.subarray(1);
      if ((flags & CURVE_MORE) !== 0 || this.#frames.length > 0) {
        owner.broken("protocol", "command inside a multipart message");
        return;
      }
      const nameLength = body[0] ?? 0;
      if (nameLength === 0 || 1 + nameLength > body.byteLength) {
        owner.broken("protocol", "malformed command name inside a MESSAGE");
        return;
      }
      const name = Buffer.from(body.subarray(1, 1 + nameLength)).toString("latin1");
      owner.command(name, body.subarray(1 + nameLength));
      return;
    }
    if (this.#frames.length >= this.#maxFrames) {
      owner.broken("limit", `message has more than ${this.#maxFrames} frames (maxFramesPerMessage)`);
      return;
    }
    const size = plain.byteLength - 1;
    this.#messageBytes += size;
    if (this.#messageBytes > this.#maxMessageSize) {
      owner.broken("limit", `message exceeds maxMessageSize (${this.#maxMessageSize} octets)`);
      return;
    }
    // An empty frame (zerorpc's delimiter) is one shared empty buffer: nothing can be written to it.
    this.#frames.push(size === 0 ? EMPTY_FRAME : plain.subarray(1));
    if ((flags & CURVE_MORE) !== 0) return;
    const frames = this.#frames;
    this.#frames = [];
    this.#messageBytes = 0;
    owner.frames(frames);
  }
}

const MESSAGE_NAME = [7, 0x4d, 0x45, 0x53, 0x53, 0x41, 0x47, 0x45];
const EMPTY_FRAME: Uint8Array = Buffer.alloc(0);

/** True when a frame starts with `07 "MESSAGE"`. */
function startsWithMessageName(frame: Uint8Array): boolean {
  if (frame.byteLength < 8) return false;
  for (let i = 0; i < 8; i++) if (frame[i] !== MESSAGE_NAME[i]) return false;
  return true;
}
