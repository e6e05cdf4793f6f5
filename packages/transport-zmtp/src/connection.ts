// One ZMTP connection over a node:net socket: greeting and NULL handshake (or the CURVE one of
// curve/session.ts, chosen once per connection), heartbeats, the bounded send queue with its
// batched writer, and paused reading. A little over 600 lines: the CURVE hooks are the few that
// need this class's private state; the mechanism itself lives in curve/.
import { Buffer } from "node:buffer";
import type { Socket } from "node:net";
import type { Peer } from "@zrpc/channel";
import { ZmtpDecoder } from "./decoder.js";
import type { DecoderSink } from "./decoder.js";
import { encodeBatch } from "./encoder.js";
import type { OutEntry, OutFrame } from "./encoder.js";
import { CurveSession } from "./curve/session.js";
import type { HandshakeFailure } from "./curve/handshake.js";
import type { CurveSessionOwner } from "./curve/session.js";
import { ZmtpError } from "./errors.js";
import type { ZmtpErrorCode } from "./errors.js";
import type { ResolvedOptions } from "./options.js";
import type { ReadTarget, SocketReader } from "./reader.js";
import {
  compatibleSocketTypes,
  encodeCommand,
  encodeError,
  encodeGreeting,
  encodeMetadata,
  encodePing,
  encodePong,
  encodeReady,
  encodeSubscriptionMessage,
  MECHANISM_MISMATCH,
  parseProperties,
} from "./protocol.js";
import type { Greeting, SocketType } from "./protocol.js";

/**
 * What a {@link ZmtpConnection} is created with.
 * @internal
 */
export interface ConnectionInit {
  /** A connected socket (accepted or connected). */
  readonly socket: Socket;
  /** The endpoint it belongs to, for reports. */
  readonly endpoint: string;
  /** The transport. */
  readonly owner: ConnectionOwner;
  /** The transport's options. */
  readonly options: ResolvedOptions;
  /** Our Socket-Type. */
  readonly socketType: SocketType;
}

/**
 * What a connection reports to the transport that owns it.
 * @internal
 */
export interface ConnectionOwner {
  /** The handshake completed: the connection may carry messages. */
  onHandshake(connection: ZmtpConnection): void;
  /** A message arrived (after the handshake). */
  onFrames(connection: ZmtpConnection, frames: Uint8Array[]): void;
  /** A SUBSCRIBE (`subscribe` true) or CANCEL arrived, as a 3.1 command or a 3.0 message. */
  onSubscription(connection: ZmtpConnection, topic: Uint8Array, subscribe: boolean): void;
  /** A PING (answered already) or a PONG arrived. */
  onHeartbeat(connection: ZmtpConnection, type: "ping" | "pong"): void;
  /** The send queue went from full (or unwritable) back to having room. */
  onWritable(connection: ZmtpConnection): void;
  /**
   * A CURVE handshake failed (or a peer's greeting named another security mechanism); `error` is
   * what the connection closes with.
   */
  onAuthFailure?(connection: ZmtpConnection, failure: HandshakeFailure, error: ZmtpError): void;
  /** The connection has closed; `error` says why when it was not a normal close. */
  onClose(connection: ZmtpConnection, error: Error | undefined): void;
  /** Asks for {@link ZmtpConnection.scheduledFlush} to run soon (once per tick for all connections). */
  scheduleFlush(connection: ZmtpConnection): void;
}

const STATE_GREETING = 0;
const STATE_READY_WAIT = 1;
const STATE_OPEN = 2;
const STATE_CLOSED = 3;

const GREETING = encodeGreeting();
/** How many of a peer's first octets a connection keeps until its greeting is complete (for reports). */
const FIRST_BYTES_KEPT = 32;
const EMPTY_BYTES = new Uint8Array(0);
/**
 * A batch is written at once (not at the end of the tick) when it reaches this many messages or
 * octets: the high-water mark then only counts messages the socket could not take.
 */
const BATCH_MESSAGES = 256;
const BATCH_BYTES = 256 * 1024;

/**
 * A ZMTP connection. The owner creates it for an accepted or connected socket and feeds it
 * messages with {@link enqueue}; the connection reports back through its {@link ConnectionOwner}.
 * @internal
 */
export class ZmtpConnection implements DecoderSink, ReadTarget {
  /** Endpoint this connection belongs to (bound or connected), for reports. */
  readonly endpoint: string;
  readonly socket: Socket;
  /** The peer's greeting, once received. */
  greeting: Greeting | undefined;
  /** The peer's Socket-Type, once its READY arrived. */
  peerSocketType = "";
  /** The peer's Identity property (undefined when absent or empty). */
  peerIdentity: Uint8Array | undefined;
  /** ROUTER: routing id given to this peer, its map key, and the cached Peer for replies. */
  routingId: Uint8Array | undefined;
  routingKey = "";
  peer: Peer | undefined;
  /** PUB: the peer's subscriptions (a multiset) and how many of them are empty (match all). */
  readonly subscriptions: Uint8Array[] = [];
  matchAll = 0;
  /** The peer's address (`ip:port` over TCP, else the endpoint). */
  readonly peerAddress: string;
  /** Set by the owner while it keeps this connection in its round-robin / routing tables. */
  attached = false;

  readonly #owner: ConnectionOwner;
  readonly #options: ResolvedOptions;
  readonly #socketType: SocketType;
  readonly #decoder: ZmtpDecoder;
  /** The CURVE side, on a socket with the `curve` option only. */
  readonly #curve: CurveSession | undefined;
  /** Encodes a batch: plain ZMTP frames, or CURVE MESSAGE commands once that handshake is done. */
  #encode: (entries: readonly OutEntry[]) => Buffer[] = encodeBatch;
  /**
   * The state in which message frames are accepted: STATE_OPEN for NULL; never for CURVE (its
   * frames come in MESSAGE commands), so that the per-message check stays a single comparison.
   */
  readonly #plainOpen: number;
  #state = STATE_GREETING;
  #closeError: Error | undefined;
  #firstBytes: Uint8Array = EMPTY_BYTES;

  #queue: OutEntry[] = [];
  #queuedMessages = 0;
  #queuedBytes = 0;
  readonly #batchMessages: number;
  #writable = true;
  #scheduled = false;

  /** Counts received chunks: a heartbeat or TTL check compares it with its value at arming. */
  #chunks = 0;
  #handshakeTimer: ReturnType<typeof setTimeout> | undefined;
  #heartbeatTimer: ReturnType<typeof setInterval> | undefined;
  #pingTimer: ReturnType<typeof setTimeout> | undefined;
  /** {@link #chunks} when the pending PING check was armed. */
  #pingChunks = 0;
  #ttlTimer: ReturnType<typeof setTimeout> | undefined;
  #endTimer: ReturnType<typeof setTimeout> | undefined;

  /** @param init - the socket, its endpoint, the owning transport, its options and our Socket-Type */
  constructor(init: ConnectionInit) {
    const { socket, endpoint, owner, options, socketType } = init;
    this.socket = socket;
    this.endpoint = endpoint;
    this.#owner = owner;
    this.#options = options;
    this.#socketType = socketType;
    this.peerAddress = socket.remoteAddress === undefined ? endpoint : `${socket.remoteAddress}:${String(socket.remotePort)}`;
    const curve = options.curve;
    this.#decoder = new ZmtpDecoder(this, options, curve === undefined ? "NULL" : "CURVE");
    this.#plainOpen = curve === undefined ? STATE_OPEN : -1;
    this.#curve =
      curve === undefined
        ? undefined
        : new CurveSession({
            config: curve,
            owner: this.#curveOwner(),
            address: this.peerAddress,
            metadata: encodeMetadata(socketType, options.routingId),
            maxMessageSize: options.maxMessageSize,
            maxFramesPerMessage: options.maxFramesPerMessage,
          });
    const hwm = options.sendHighWaterMark;
    this.#batchMessages = hwm > 0 ? Math.min(hwm, BATCH_MESSAGES) : BATCH_MESSAGES;
  }

  /**
   * Sends our greeting and starts reading: from `reader` when the socket was made with its
   * `onread` option, else through 'data' events.
   */
  start(reader?: SocketReader): void {
    const socket = this.socket;
    if (typeof socket.setNoDelay === "function" && socket.remoteFamily !== undefined) socket.setNoDelay(true);
    if (reader === undefined) socket.on("data", (chunk: Buffer) => this.onChunk(chunk));
    else reader.attach(this);
    socket.on("drain", () => this.#onDrain());
    socket.on("error", (error: Error) => {
      this.#closeError ??= error;
    });
    socket.on("close", () => this.#onSocketClose());
    const curve = this.#curve;
    socket.write(curve === undefined ? GREETING : curve.opening());
    if (this.#options.handshakeTimeout > 0) {
      this.#handshakeTimer = setTimeout(() => {
        this.destroy(
          new ZmtpError("timeout", `ZMTP handshake not completed within ${this.#options.handshakeTimeout} ms`, {
            endpoint: this.endpoint,
          }),
        );
      }, this.#options.handshakeTimeout);
      this.#handshakeTimer.unref();
    }
  }

  /** True once the handshake completed and until the connection closes. */
  get open(): boolean {
    return this.#state === STATE_OPEN;
  }

  /** True once closed (or closing). */
  get closed(): boolean {
    return this.#state === STATE_CLOSED;
  }

  /** Messages queued and not yet written to the socket. */
  get queuedMessages(): number {
    return this.#queuedMessages;
  }

  /** True when the send queue holds `sendHighWaterMark` messages (never with a limit of 0). */
  get full(): boolean {
    const hwm = this.#options.sendHighWaterMark;
    return hwm > 0 && this.#queuedMessages >= hwm;
  }

  /**
   * True when everything queued was handed to the socket and the socket accepted it (no pending
   * 'drain'). What the socket still buffers goes out before its FIN on `end()`.
   */
  get idle(): boolean {
    return this.#queue.length === 0 && this.#writable;
  }

  /** Queues a message; the caller checked {@link full} when it cares. */
  enqueue(frames: readonly OutFrame[]): void {
    this.#queue.push(frames);
    this.#queuedMessages += 1;
    for (const frame of frames) this.#queuedBytes += frame.byteLength;
    if (this.#writable && (this.#queuedMessages >= this.#batchMessages || this.#queuedBytes >= BATCH_BYTES)) {
      this.flush();
      return;
    }
    this.#schedule();
  }

  /** Queues raw encoded bytes (a command), not counted against the high-water mark. */
  enqueueRaw(bytes: Buffer): void {
    this.#queue.push(bytes);
    this.#schedule();
  }

  /** Sends a subscription change: a SUBSCRIBE/CANCEL command to a 3.1 peer, a 3.0 message otherwise. */
  sendSubscription(topic: Uint8Array, subscribe: boolean): void {
    const modern = (this.greeting?.major ?? 3) > 3 || (this.greeting?.minor ?? 0) >= 1;
    this.enqueueRaw(modern ? encodeCommand(subscribe ? "SUBSCRIBE" : "CANCEL", topic) : encodeSubscriptionMessage(topic, subscribe));
  }

  /** Takes the messages not yet written (to give them to another peer); the queue is emptied. */
  takeUnsent(): (readonly OutFrame[])[] {
    const messages: (readonly OutFrame[])[] = [];
    for (const entry of this.#queue) if (!Buffer.isBuffer(entry)) messages.push(entry);
    this.#queue = [];
    this.#queuedMessages = 0;
    this.#queuedBytes = 0;
    return messages;
  }

  #schedule(): void {
    if (this.#scheduled || !this.#writable) return;
    this.#scheduled = true;
    this.#owner.scheduleFlush(this);
  }

  /** The flush asked for with {@link ConnectionOwner.scheduleFlush}. */
  scheduledFlush(): void {
    this.#scheduled = false;
    this.flush();
  }

  /** Writes everything queued as one batch (one write, or a corked few for large bodies). */
  flush(): void {
    if (!this.#writable || this.#state === STATE_CLOSED || this.#queue.length === 0) return;
    const wasFull = this.full;
    const entries = this.#queue;
    this.#queue = [];
    this.#queuedMessages = 0;
    this.#queuedBytes = 0;
    const socket = this.socket;
    const parts = this.#encode(entries);
    let writable: boolean;
    if (parts.length === 1) {
      writable = socket.write(parts[0] as Buffer);
    } else {
      socket.cork();
      writable = true;
      for (const part of parts) writable = socket.write(part);
      socket.uncork();
    }
    if (!writable) this.#writable = false;
    else if (wasFull) this.#owner.onWritable(this);
  }

  #onDrain(): void {
    if (this.#state === STATE_CLOSED) return;
    this.#writable = true;
    if (this.#queue.length > 0) this.flush();
    if (this.#writable) this.#owner.onWritable(this);
  }

  /** Stops reading until {@link resumeReading} (the consumer fell behind). */
  pauseReading(): void {
    this.#decoder.pause();
    this.socket.pause();
  }

  /** Reads again after {@link pauseReading}. */
  resumeReading(): void {
    if (this.#state === STATE_CLOSED) return;
    this.socket.resume();
    this.#decoder.resume();
  }

  /** Closes at once (the socket is destroyed); `error` is reported as the reason. */
  destroy(error?: Error): void {
    if (this.#state === STATE_CLOSED) return;
    this.#closeError ??= error;
    this.#enterClosed();
    this.socket.destroy();
  }

  /**
   * Writes what is queued, then closes the socket gracefully; destroys it after `graceMs` at the
   * latest (unless negative: then it waits for the peer).
   */
  end(graceMs: number, error?: Error): void {
    if (this.#state === STATE_CLOSED) return;
    this.#writable = true;
    this.flush();
    this.#closeError ??= error;
    this.#enterClosed();
    this.socket.end();
    if (graceMs >= 0) {
      this.#endTimer = setTimeout(() => this.socket.destroy(), graceMs);
      this.#endTimer.unref();
    }
  }

  #enterClosed(): void {
    this.#state = STATE_CLOSED;
    this.#decoder.stop();
    this.#clearTimers();
  }

  #clearTimers(): void {
    clearTimeout(this.#handshakeTimer);
    clearInterval(this.#heartbeatTimer);
    clearTimeout(this.#pingTimer);
    clearTimeout(this.#ttlTimer);
    this.#handshakeTimer = this.#heartbeatTimer = this.#pingTimer = this.#ttlTimer = undefined;
  }

  #onSocketClose(): void {
    clearTimeout(this.#endTimer);
    if (this.#curve !== undefined && this.#state !== STATE_OPEN) this.#curveClosedEarly(this.#curve);
    // The peer closed while our reading was paused: what it sent before is still ours to deliver.
    if (this.#state === STATE_OPEN) this.#decoder.drainHeld();
    this.#state = STATE_CLOSED;
    this.#decoder.stop();
    this.#clearTimers();
    this.#owner.onClose(this, this.#closeError);
  }

  /** Closes with a protocol or limit error, after sending an ERROR command when `reason` is given. */
  #reject(error: ZmtpError, reason?: string): void {
    // After a CURVE handshake, a plaintext ERROR would break the peer's framing: just close.
    if (reason !== undefined && this.#state !== STATE_CLOSED && !(this.#curve?.established ?? false)) {
      this.socket.write(encodeError(reason));
      this.end(1000, error);
      return;
    }
    this.destroy(error);
  }

  // ------------------------------------------------------------------ ReadTarget

  /** @internal */
  onChunk(chunk: Uint8Array): void {
    this.#chunks += 1;
    if (this.#state === STATE_GREETING && this.#firstBytes.byteLength < FIRST_BYTES_KEPT) {
      this.#firstBytes = Buffer.concat([this.#firstBytes, chunk.subarray(0, FIRST_BYTES_KEPT - this.#firstBytes.byteLength)]);
    }
    this.#decoder.push(chunk);
  }

  /** A CURVE client whose HELLO went out with its greeting (the peer may close on reading it). */
  get curveHelloSent(): boolean {
    return this.#curve?.helloSent ?? false;
  }

  /**
   * The first octets the peer sent before its greeting was complete (at most 32), to say what a
   * peer that is not a ZeroMQ peer answered.
   */
  get firstBytes(): Uint8Array {
    return this.#firstBytes;
  }

  /** @internal */
  directBody(min: number): Uint8Array | undefined {
    return this.#state === STATE_CLOSED ? undefined : this.#decoder.directBody(min);
  }

  /** @internal */
  onDirectRead(count: number): void {
    this.#chunks += 1;
    this.#decoder.pushDirect(count);
  }

  // ------------------------------------------------------------------ DecoderSink

  /** @internal */
  onGreeting(greeting: Greeting): void {
    this.greeting = greeting;
    this.#state = STATE_READY_WAIT;
    if (this.#curve !== undefined) {
      this.#curve.onGreeting(greeting);
      return;
    }
    this.socket.write(encodeReady(this.#socketType, this.#options.routingId));
  }

  /** @internal */
  onCommand(name: string, data: Uint8Array): void {
    if (this.#state === STATE_READY_WAIT) {
      if (this.#curve !== undefined) this.#curve.onHandshakeCommand(name, data);
      else if (name === "READY") this.#onReady(data);
      else if (name === "ERROR") this.#onPeerError(data);
      else this.#reject(this.#error("protocol", `expected READY during the handshake, got ${name}`));
      return;
    }
    if (this.#state !== STATE_OPEN) return;
    if (this.#curve !== undefined) {
      // CURVE: after the handshake only MESSAGE commands; the commands inside them come back
      // through #onOpenCommand.
      if (name === "MESSAGE") this.#curve.onMessageCommand(data);
      else this.#reject(this.#error("protocol", `plaintext ${name} command after the CURVE handshake (only MESSAGE commands may follow it)`));
      return;
    }
    this.#onOpenCommand(name, data);
  }

  /** A command on an open connection (a plain one, or one from inside a CURVE MESSAGE). */
  #onOpenCommand(name: string, data: Uint8Array): void {
    switch (name) {
      case "PING":
        this.#onPing(data);
        this.#owner.onHeartbeat(this, "ping");
        return;
      case "PONG":
        this.#owner.onHeartbeat(this, "pong");
        return;
      case "SUBSCRIBE":
        this.#owner.onSubscription(this, data, true);
        return;
      case "CANCEL":
        this.#owner.onSubscription(this, data, false);
        return;
      case "ERROR":
        this.#onPeerError(data);
        return;
      case "READY":
        this.#reject(this.#error("protocol", "second READY command"));
        return;
      default:
        // Commands of other mechanisms or later versions: ignored.
        return;
    }
  }

  /** @internal */
  onMessage(frames: Uint8Array[]): void {
    if (this.#state !== this.#plainOpen) {
      if (this.#curve !== undefined && this.#state === STATE_OPEN) {
        this.#curve.onDataFrames(frames);
        return;
      }
      this.#reject(
        this.#error("protocol", this.#curve !== undefined && this.#state === STATE_OPEN ? "plaintext message frame on a CURVE connection" : "message before the handshake completed"),
      );
      return;
    }
    this.#owner.onFrames(this, frames);
  }

  /** @internal */
  onError(error: ZmtpError): void {
    const wrapped = new ZmtpError(error.code as ZmtpErrorCode, `${error.message} (peer of ${this.endpoint})`, { endpoint: this.endpoint });
    if (error.message.startsWith(MECHANISM_MISMATCH)) {
      if (this.#curve !== undefined) this.#curve.failure = { kind: "protocol", message: wrapped.message };
      this.#owner.onAuthFailure?.(this, { kind: "protocol", message: wrapped.message }, wrapped);
    }
    this.destroy(wrapped);
  }

  // ------------------------------------------------------------------ CURVE

  /** The connection as its CURVE session sees it. */
  #curveOwner(): CurveSessionOwner {
    return {
      isClosed: () => this.#state === STATE_CLOSED,
      write: (bytes) => this.socket.write(bytes),
      opened: (metadata) => {
        this.#encode = (entries) => (this.#curve as CurveSession).encodeBatch(entries);
        this.#decoder.setMaxCommandSize(Math.max(this.#options.maxCommandSize, (this.#curve as CurveSession).maxCommandSize));
        this.#onReady(metadata);
      },
      failed: (failure) => {
        const code = failure.kind === "auth" ? "auth" : "protocol";
        const error = new ZmtpError(code, `${failure.message} (peer of ${this.endpoint})`, { endpoint: this.endpoint, ...(failure.error !== undefined && { cause: failure.error }) });
        this.#owner.onAuthFailure?.(this, failure, error);
        this.#reject(error, failure.reply);
      },
      frames: (frames) => this.#owner.onFrames(this, frames),
      command: (name, data) => this.#onOpenCommand(name, data),
      metadataProblem: (metadata) => this.#metadataProblem(metadata),
      broken: (code, message) => this.#reject(this.#error(code, message)),
    };
  }

  /** The connection closed before its CURVE handshake completed: report it (once). */
  #curveClosedEarly(curve: CurveSession): void {
    const report = curve.closedEarlyReport(this.greeting !== undefined, this.#closeError, this.endpoint);
    if (report === undefined) return;
    this.#closeError = report.error;
    this.#owner.onAuthFailure?.(this, report.failure, report.error);
  }


  #error(code: "protocol" | "limit", message: string): ZmtpError {
    return new ZmtpError(code, `${message} (peer of ${this.endpoint})`, { endpoint: this.endpoint });
  }

  /** Why the peer's metadata (READY properties) is unacceptable, if it is. */
  #metadataProblem(data: Uint8Array): { message: string; reply: string } | undefined {
    const properties = parseProperties(data);
    if (typeof properties === "string") return { message: `malformed READY: ${properties}`, reply: "malformed READY" };
    const type = properties.get("socket-type");
    const typeName = type === undefined ? "" : Buffer.from(type).toString("latin1");
    if (!compatibleSocketTypes(this.#socketType, typeName)) {
      return { message: `incompatible peer Socket-Type ${JSON.stringify(typeName)} for a ${this.#socketType} socket`, reply: "Invalid socket type" };
    }
    return undefined;
  }

  #onReady(data: Uint8Array): void {
    const problem = this.#metadataProblem(data);
    if (problem !== undefined) {
      this.#reject(this.#error("protocol", problem.message), problem.reply);
      return;
    }
    const properties = parseProperties(data) as Map<string, Uint8Array>;
    const type = properties.get("socket-type");
    const typeName = type === undefined ? "" : Buffer.from(type).toString("latin1");
    this.peerSocketType = typeName;
    const identity = properties.get("identity");
    // Identities starting with a zero octet are reserved (37/ZMTP); such a peer gets a generated id.
    if (identity !== undefined && identity.byteLength > 0 && identity.byteLength <= 255 && identity[0] !== 0) {
      this.peerIdentity = Buffer.from(identity);
    }
    clearTimeout(this.#handshakeTimer);
    this.#handshakeTimer = undefined;
    this.#state = STATE_OPEN;
    this.#startHeartbeat();
    this.#owner.onHandshake(this);
  }

  #onPeerError(data: Uint8Array): void {
    const length = data[0] ?? 0;
    const reason = Buffer.from(data.subarray(1, 1 + length)).toString("latin1");
    this.destroy(this.#error("protocol", `peer sent ERROR ${JSON.stringify(reason)}`));
  }

  #onPing(data: Uint8Array): void {
    if (data.byteLength < 2) {
      this.#reject(this.#error("protocol", "PING command without a TTL"));
      return;
    }
    this.enqueueRaw(encodePong(data.subarray(2)));
    const ttl = ((data[0] as number) << 8) | (data[1] as number);
    if (ttl > 0) {
      // 37/ZMTP: with a TTL, the peer asks to be dropped if nothing more arrives within it.
      clearTimeout(this.#ttlTimer);
      const chunks = this.#chunks;
      this.#ttlTimer = setTimeout(() => {
        if (this.#chunks === chunks) this.destroy(new ZmtpError("lost-remote", `peer of ${this.endpoint} went silent after its PING TTL of ${ttl * 100} ms`, { endpoint: this.endpoint }));
      }, ttl * 100);
      this.#ttlTimer.unref();
    }
  }

  #startHeartbeat(): void {
    const interval = this.#options.heartbeatMs;
    // PING is a ZMTP 3.1 command: a 3.0 peer (libzmq 4.1) would not know it.
    const modern = (this.greeting?.major ?? 3) > 3 || (this.greeting?.minor ?? 0) >= 1;
    if (interval <= 0 || !modern) return;
    const timeout = this.#options.heartbeatTimeoutMs > 0 ? this.#options.heartbeatTimeoutMs : interval;
    this.#heartbeatTimer = setInterval(() => {
      if (this.#state !== STATE_OPEN) return;
      this.enqueueRaw(encodePing(0));
      // The timeout runs from the first PING after the last traffic, as in libzmq: a check still
      // pending from an earlier PING that was answered since starts over from this one. (Kept
      // instead, it would pass, and a peer that went silent right after answering would be
      // noticed an interval later: up to 2 intervals + the timeout after the silence.)
      if (this.#pingTimer !== undefined) {
        if (this.#chunks === this.#pingChunks) return;
        clearTimeout(this.#pingTimer);
      }
      const chunks = this.#chunks;
      this.#pingChunks = chunks;
      this.#pingTimer = setTimeout(() => {
        this.#pingTimer = undefined;
        if (this.#chunks === chunks && this.#state === STATE_OPEN) {
          this.destroy(new ZmtpError("lost-remote", `no traffic from peer of ${this.endpoint} within ${timeout} ms of a PING`, { endpoint: this.endpoint }));
        }
      }, timeout);
      this.#pingTimer.unref();
    }, interval);
    this.#heartbeatTimer.unref();
  }
}
