// The Transport port over ZMTP connections: socket kinds (DEALER, ROUTER, PUSH, PULL, PUB, SUB),
// listeners and reconnecting connectors, per-peer send queues, the receive queue and its consumer.
import { Buffer } from "node:buffer";
import { lstat, unlink } from "node:fs/promises";
import { connect as netConnect, createServer } from "node:net";
import type { Server, Socket } from "node:net";
import type { Peer, Transport, TransportKind, TransportMessage } from "@zrpc/channel";
import { ZmtpConnection } from "./connection.js";
import { ChunkedBody } from "./encoder.js";
import type { OutFrame } from "./encoder.js";
import { SocketReader } from "./reader.js";
import type { ConnectionOwner } from "./connection.js";
import { formatTcp, parseEndpoint, resolveHost } from "./endpoint.js";
import type { Endpoint } from "./endpoint.js";
import { ZmtpEndpointError, ZmtpError } from "./errors.js";
import { Fifo } from "@zrpc/channel";
import { resolveOptions } from "./options.js";
import type { ResolvedOptions, ZmtpMonitorEvent, ZmtpTransportOptions } from "./options.js";
import { socketTypeOf } from "./protocol.js";
import type { SocketType } from "./protocol.js";

/** Counters of a {@link ZmtpTransport}, for monitoring and tests. */
export interface ZmtpTransportStats {
  /** Connections that completed their handshake. */
  readonly peers: number;
  /** Connections in any state (handshaking included). */
  readonly connections: number;
  /** Messages received and not yet taken by the consumer. */
  readonly received: number;
  /** Messages in the transport's own send queue (DEALER, PUSH), waiting for a peer with room. */
  readonly queued: number;
  /** Messages in the per-peer send queues, not yet written to the sockets. */
  readonly queuedToPeers: number;
  /** True while reading is paused because the consumer is behind. */
  readonly readingPaused: boolean;
}

/**
 * A {@link Transport} speaking ZMTP 3.1 over node:net, plus endpoint management.
 *
 * Payloads passed to `send()` are not copied until the transport writes them (small ones later in
 * the same tick, large ones by reference): do not modify them after `send()`.
 */
export interface ZmtpTransport extends Transport {
  /**
   * Queues one message whose payload is the concatenation of `chunks`, written as one ZMTP frame
   * without joining them: chunks of 16 KiB and more by reference (do not modify them until
   * written), smaller ones copied into the batch. The channel layer uses it for events with large
   * bins. Same errors as `send`; a PUB joins the chunks (its subscriptions match the payload).
   */
  sendChunks(peer: Peer | undefined, chunks: readonly Uint8Array[]): void;
  /** Endpoints currently bound, with wildcards resolved (`tcp://127.0.0.1:*` shows the port picked). In bind order. */
  readonly endpoints: readonly string[];
  /** Number of connected peers (connections that completed the ZMTP handshake). */
  readonly peers: number;
  /**
   * Binds one more endpoint and resolves with it as resolved (see {@link endpoints}). Rejects
   * with a {@link ZmtpEndpointError} of code `"bind"` naming the endpoint (for example when the
   * address is in use), or a `ZmtpError` with code `"closed"` after `close()`.
   */
  bind(endpoint: string): Promise<string>;
  /**
   * Stops listening on an endpoint (given as passed to `bind` or as resolved) and closes the
   * connections accepted through it. Rejects with a {@link ZmtpEndpointError} when it is not bound.
   */
  unbind(endpoint: string): Promise<void>;
  /**
   * Connects to an endpoint. Returns at once; the transport connects, and reconnects with
   * back-off, in the background. Throws a {@link ZmtpEndpointError} of code `"connect"` for an
   * invalid endpoint, a `ZmtpError` with code `"closed"` after `close()`.
   */
  connect(endpoint: string): void;
  /** Stops connecting to an endpoint passed to `connect` and closes its connection. Throws like {@link connect}. */
  disconnect(endpoint: string): void;
  /**
   * Optional fast path: delivers every received message synchronously to `listener` instead of
   * through the async iterator (no promise per message). It replaces the iterator: a transport has
   * one consumer, so this throws once iteration started or a listener is set. Messages received
   * before the call are delivered to it at once. `receiveHighWaterMark` does not apply.
   */
  onMessage(listener: (peer: Peer, payload: Uint8Array) => void): void;
  /** SUB only: adds a topic prefix subscription (sent to every connected publisher). */
  subscribe(topic: string | Uint8Array): void;
  /** SUB only: cancels one subscription to this topic prefix. */
  unsubscribe(topic: string | Uint8Array): void;
  /** Current counters. */
  stats(): ZmtpTransportStats;
}

/** The one peer of a dealer, pull or sub transport. */
const SINGLE_PEER: Peer = Object.freeze({ key: "", envelope: Object.freeze([] as Uint8Array[]) });
const EMPTY_FRAME = new Uint8Array(0);
const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });
/** Most subscriptions one subscriber may hold on a PUB transport. */
const MAX_SUBSCRIPTIONS = 10_000;

type Waiter = (result: IteratorResult<TransportMessage, undefined>) => void;

interface Listener {
  readonly requested: string;
  readonly resolved: string;
  readonly server: Server;
  readonly connections: Set<ZmtpConnection>;
}

interface Connector {
  readonly endpoint: string;
  readonly target: Endpoint;
  attempt: number;
  stopped: boolean;
  timer: ReturnType<typeof setTimeout> | undefined;
  /** A socket still connecting (before the TCP/IPC connection is up). */
  dialing: Socket | undefined;
  connection: ZmtpConnection | undefined;
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");
}

/** Map key of a routing id (latin1 maps octets to code units one to one). */
function routingKey(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1");
}

function startsWith(data: Uint8Array, prefix: Uint8Array): boolean {
  if (prefix.byteLength > data.byteLength) return false;
  for (let i = 0; i < prefix.byteLength; i++) if (data[i] !== prefix[i]) return false;
  return true;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && startsWith(a, b);
}

function toError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}

function toBytes(topic: string | Uint8Array): Uint8Array {
  return typeof topic === "string" ? Buffer.from(topic, "utf8") : Buffer.from(topic);
}

/** @internal */
class ZmtpSocketTransport implements ZmtpTransport, ConnectionOwner {
  readonly kind: TransportKind;
  readonly closed: Promise<Error | undefined>;

  readonly #options: ResolvedOptions;
  readonly #socketType: SocketType;
  #resolveClosed: (error: Error | undefined) => void = () => undefined;
  #closing = false;
  #closeDone: Promise<void> | undefined;

  readonly #listeners: Listener[] = [];
  readonly #connectors: Connector[] = [];
  readonly #connections = new Set<ZmtpConnection>();
  /** Open connections in handshake order: round-robin and fan-out go through this list. */
  #open: ZmtpConnection[] = [];
  #roundRobin = 0;
  readonly #routes = new Map<string, ZmtpConnection>();
  readonly #peerConnections = new WeakMap<Peer, ZmtpConnection>();
  #nextRoutingId = (Math.random() * 0x1_0000_0000) >>> 0;
  readonly #pending = new Fifo<readonly OutFrame[]>();
  readonly #subscriptions: Uint8Array[] = [];

  #dirty: ZmtpConnection[] = [];
  #flushScheduled = false;
  #flushWaiter: (() => void) | undefined;
  #closeWaiter: (() => void) | undefined;

  readonly #inbox = new Fifo<TransportMessage>();
  readonly #waiters = new Fifo<Waiter>();
  #listener: ((peer: Peer, payload: Uint8Array) => void) | undefined;
  #iterating = false;
  #iterationOver = false;
  #readingPaused = false;

  constructor(kind: TransportKind, options: ResolvedOptions) {
    this.kind = kind;
    this.#options = options;
    this.#socketType = socketTypeOf(kind);
    this.closed = new Promise((resolve) => {
      this.#resolveClosed = resolve;
    });
    if (kind === "sub") this.#subscriptions.push(...options.subscribe);
  }

  get endpoints(): readonly string[] {
    return this.#listeners.map((listener) => listener.resolved);
  }

  get peers(): number {
    return this.#open.length;
  }

  stats(): ZmtpTransportStats {
    let queuedToPeers = 0;
    for (const connection of this.#connections) queuedToPeers += connection.queuedMessages;
    return {
      peers: this.#open.length,
      connections: this.#connections.size,
      received: this.#inbox.length,
      queued: this.#pending.length,
      queuedToPeers,
      readingPaused: this.#readingPaused,
    };
  }

  #monitor(event: ZmtpMonitorEvent): void {
    const monitor = this.#options.monitor;
    if (monitor === undefined) return;
    try {
      monitor(event);
    } catch {
      // A throwing monitor must not break the transport.
    }
  }

  #report(error: Error): void {
    const onError = this.#options.onError;
    if (onError === undefined) return;
    try {
      onError(error);
    } catch {
      // A throwing error listener must not break the transport.
    }
  }

  /** Closing and past the linger flush: no new connections. */
  #shuttingDown(): boolean {
    return this.#closing && this.#flushWaiter === undefined;
  }

  #closedError(): ZmtpError {
    return new ZmtpError("closed", `zmtp ${this.kind} transport is closed`);
  }

  // ------------------------------------------------------------------ receiving

  onMessage(listener: (peer: Peer, payload: Uint8Array) => void): void {
    if (typeof listener !== "function") throw new TypeError("onMessage needs a function");
    if (this.#iterating || this.#listener !== undefined) {
      throw new Error(`zmtp ${this.kind} transport: only one consumer may read a transport`);
    }
    this.#listener = listener;
    for (let message = this.#inbox.shift(); message !== undefined; message = this.#inbox.shift()) {
      this.#callListener(listener, message.peer, message.payload);
    }
    this.#resumeReading();
  }

  #callListener(listener: (peer: Peer, payload: Uint8Array) => void, peer: Peer, payload: Uint8Array): void {
    try {
      listener(peer, payload);
    } catch (error) {
      this.#report(toError(error));
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<TransportMessage, undefined> {
    if (this.#iterating || this.#listener !== undefined) {
      throw new Error(`zmtp ${this.kind} transport: only one consumer may read a transport`);
    }
    this.#iterating = true;
    return {
      next: () => this.#next(),
      return: () => {
        // The only consumer stopped: pending reads end, reading from the sockets pauses.
        this.#endIteration();
        this.#pauseReading();
        return Promise.resolve(DONE);
      },
    };
  }

  #next(): Promise<IteratorResult<TransportMessage, undefined>> {
    if (this.#iterationOver) return Promise.resolve(DONE);
    const message = this.#inbox.shift();
    if (message !== undefined) {
      if (this.#readingPaused && this.#inbox.length <= this.#options.receiveHighWaterMark >> 1) this.#resumeReading();
      return Promise.resolve({ done: false, value: message });
    }
    return new Promise((resolve) => {
      this.#waiters.push(resolve);
    });
  }

  #endIteration(): void {
    this.#iterationOver = true;
    this.#inbox.clear();
    for (let waiter = this.#waiters.shift(); waiter !== undefined; waiter = this.#waiters.shift()) waiter(DONE);
  }

  #deliver(peer: Peer, payload: Uint8Array): void {
    const listener = this.#listener;
    if (listener !== undefined) {
      this.#callListener(listener, peer, payload);
      return;
    }
    if (this.#iterationOver) return;
    const waiter = this.#waiters.shift();
    if (waiter !== undefined) {
      waiter({ done: false, value: { peer, payload } });
      return;
    }
    this.#inbox.push({ peer, payload });
    const hwm = this.#options.receiveHighWaterMark;
    if (hwm > 0 && this.#inbox.length >= hwm && !this.#readingPaused) this.#pauseReading();
  }

  #pauseReading(): void {
    if (this.#readingPaused) return;
    this.#readingPaused = true;
    for (const connection of this.#connections) connection.pauseReading();
    this.#monitor({ type: "pause", queued: this.#inbox.length });
  }

  #resumeReading(): void {
    if (!this.#readingPaused || this.#closing || this.#iterationOver) return;
    this.#readingPaused = false;
    this.#monitor({ type: "resume", queued: this.#inbox.length });
    for (const connection of this.#connections) {
      connection.resumeReading();
      if (this.#readingPaused) return;
    }
  }

  /** @internal A message arrived on a connection: apply the kind's framing and deliver it. */
  onFrames(connection: ZmtpConnection, frames: Uint8Array[]): void {
    const count = frames.length;
    const payload = frames[count - 1] as Uint8Array;
    switch (this.kind) {
      case "router": {
        if (count <= 2) {
          this.#deliver(connection.peer as Peer, payload);
          return;
        }
        const envelope = [connection.routingId as Uint8Array, ...frames.slice(0, count - 2)];
        const peer: Peer = Object.freeze({ key: envelope.map(hex).join("."), envelope: Object.freeze(envelope) });
        this.#deliver(peer, payload);
        return;
      }
      case "dealer":
      case "pull":
        this.#deliver(SINGLE_PEER, payload);
        return;
      case "sub": {
        const first = frames[0] as Uint8Array;
        for (const topic of this.#subscriptions) {
          if (startsWith(first, topic)) {
            this.#deliver(SINGLE_PEER, payload);
            return;
          }
        }
        return;
      }
      case "pub": {
        // ZMTP 3.0 subscribers (and libzmq) send subscriptions as messages: 01/00 + topic.
        const first = frames[0] as Uint8Array;
        if (count === 1 && first.byteLength > 0 && (first[0] === 1 || first[0] === 0)) {
          this.onSubscription(connection, first.subarray(1), first[0] === 1);
        }
        return;
      }
      case "push":
        // A PULL peer has nothing to say: ignored.
        return;
    }
  }

  // ------------------------------------------------------------------ ConnectionOwner

  /** @internal */
  onHandshake(connection: ZmtpConnection): void {
    if (this.#shuttingDown()) {
      connection.destroy();
      return;
    }
    if (this.kind === "router") {
      let id = connection.peerIdentity;
      if (id !== undefined && this.#routes.has(routingKey(id))) {
        // libzmq without ROUTER_HANDOVER: the newcomer with a routing id in use is refused.
        connection.destroy(
          new ZmtpError("protocol", `routing id ${hex(id)} is already in use (peer of ${connection.endpoint})`, {
            endpoint: connection.endpoint,
          }),
        );
        return;
      }
      if (id === undefined) {
        // Like libzmq: a zero octet then a 4-octet counter.
        const generated = Buffer.allocUnsafe(5);
        generated[0] = 0;
        generated.writeUInt32BE(this.#nextRoutingId, 1);
        id = generated;
        this.#nextRoutingId = (this.#nextRoutingId + 1) >>> 0;
      }
      connection.routingId = id;
      connection.routingKey = routingKey(id);
      const peer: Peer = Object.freeze({ key: hex(id), envelope: Object.freeze([id]) });
      connection.peer = peer;
      this.#routes.set(connection.routingKey, connection);
      this.#peerConnections.set(peer, connection);
    }
    connection.attached = true;
    this.#open.push(connection);
    const connector = this.#connectors.find((candidate) => candidate.connection === connection);
    if (connector !== undefined) connector.attempt = 0;
    this.#monitor({
      type: "handshake",
      endpoint: connection.endpoint,
      socketType: connection.peerSocketType,
      version: `${connection.greeting?.major ?? 3}.${connection.greeting?.minor ?? 0}`,
      ...(connection.routingId === undefined ? {} : { routingId: connection.routingId }),
    });
    if (this.kind === "sub") for (const topic of this.#subscriptions) connection.sendSubscription(topic, true);
    if (this.kind === "dealer" || this.kind === "push") this.#drainPending();
  }

  /** @internal */
  onSubscription(connection: ZmtpConnection, topic: Uint8Array, subscribe: boolean): void {
    if (this.kind !== "pub") return;
    const subscriptions = connection.subscriptions;
    if (subscribe) {
      if (subscriptions.length >= MAX_SUBSCRIPTIONS) {
        connection.destroy(
          new ZmtpError("limit", `more than ${MAX_SUBSCRIPTIONS} subscriptions (peer of ${connection.endpoint})`, {
            endpoint: connection.endpoint,
          }),
        );
        return;
      }
      subscriptions.push(Buffer.from(topic));
      if (topic.byteLength === 0) connection.matchAll += 1;
    } else {
      const index = subscriptions.findIndex((candidate) => sameBytes(candidate, topic));
      if (index < 0) return;
      subscriptions.splice(index, 1);
      if (topic.byteLength === 0) connection.matchAll -= 1;
    }
    this.#monitor({ type: subscribe ? "subscribe" : "cancel", endpoint: connection.endpoint, topic: Buffer.from(topic) });
  }

  /** @internal */
  onHeartbeat(connection: ZmtpConnection, type: "ping" | "pong"): void {
    this.#monitor({ type, endpoint: connection.endpoint });
  }

  /** @internal */
  onWritable(connection: ZmtpConnection): void {
    if (connection.attached && (this.kind === "dealer" || this.kind === "push")) this.#drainPending();
    this.#checkFlushed();
  }

  /** @internal */
  onClose(connection: ZmtpConnection, error: Error | undefined): void {
    this.#connections.delete(connection);
    if (connection.attached) {
      connection.attached = false;
      const index = this.#open.indexOf(connection);
      if (index >= 0) this.#open.splice(index, 1);
      if (this.#roundRobin >= this.#open.length) this.#roundRobin = 0;
      if (connection.routingId !== undefined && this.#routes.get(connection.routingKey) === connection) {
        this.#routes.delete(connection.routingKey);
      }
    }
    if (this.kind === "dealer" || this.kind === "push") {
      // Messages this peer never got go to the next peer (or wait for one), in their order.
      this.#pending.unshiftAll(connection.takeUnsent());
      this.#drainPending();
    } else {
      connection.takeUnsent();
    }
    for (const listener of this.#listeners) listener.connections.delete(connection);
    this.#monitor({ type: "disconnect", endpoint: connection.endpoint, ...(error === undefined ? {} : { error }) });
    if (error !== undefined && !this.#closing) this.#report(error);
    const connector = this.#connectors.find((candidate) => candidate.connection === connection);
    if (connector !== undefined) {
      connector.connection = undefined;
      this.#scheduleRetry(connector);
    }
    this.#checkFlushed();
    if (this.#connections.size === 0) this.#closeWaiter?.();
  }

  /** @internal */
  scheduleFlush(connection: ZmtpConnection): void {
    this.#dirty.push(connection);
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    // After the current callback and its microtasks: everything a read chunk (or a burst of
    // promise continuations) produced goes out in one write, and a lone reply without waiting for
    // the check phase of the event loop (setImmediate cost sequential calls about 8% here).
    process.nextTick(this.#flushAll);
  }

  readonly #flushAll = (): void => {
    this.#flushScheduled = false;
    const dirty = this.#dirty;
    this.#dirty = [];
    for (const connection of dirty) connection.scheduledFlush();
    this.#checkFlushed();
  };

  // ------------------------------------------------------------------ sending

  send(peer: Peer | undefined, payload: Uint8Array): void {
    if (this.#closing) throw this.#closedError();
    if (!(payload instanceof Uint8Array)) throw new TypeError("payload must be a Uint8Array");
    this.#send(peer, payload);
  }

  sendChunks(peer: Peer | undefined, chunks: readonly Uint8Array[]): void {
    if (this.#closing) throw this.#closedError();
    if (!Array.isArray(chunks) || !chunks.every((chunk) => chunk instanceof Uint8Array)) {
      throw new TypeError("chunks must be an array of Uint8Array");
    }
    if (this.kind === "pub") {
      // Subscriptions match the start of the payload: join it (PUB is not on any hot path).
      this.#send(peer, Buffer.concat(chunks));
      return;
    }
    this.#send(peer, chunks.length === 1 ? (chunks[0] as Uint8Array) : new ChunkedBody(chunks));
  }

  #send(peer: Peer | undefined, payload: OutFrame): void {
    switch (this.kind) {
      case "router": {
        if (peer === undefined) throw new TypeError("a router transport needs the peer to send to");
        const connection = this.#routeOf(peer);
        // Like libzmq without ROUTER_MANDATORY: unknown peers and full queues drop the message.
        if (connection === undefined || !connection.open || connection.full) return;
        const envelope = peer.envelope;
        connection.enqueue(envelope.length === 1 ? [EMPTY_FRAME, payload] : [...envelope.slice(1), EMPTY_FRAME, payload]);
        return;
      }
      case "dealer":
        this.#distribute([EMPTY_FRAME, payload]);
        return;
      case "push":
        this.#distribute([payload]);
        return;
      case "pub": {
        const frames = [payload];
        const bytes = payload as Uint8Array;
        for (const connection of this.#open) {
          if (connection.full) continue;
          if (connection.matchAll > 0 || connection.subscriptions.some((topic) => startsWith(bytes, topic))) {
            connection.enqueue(frames);
          }
        }
        return;
      }
      case "pull":
      case "sub":
        throw new TypeError(`a ${this.kind} transport cannot send`);
    }
  }

  #routeOf(peer: Peer): ZmtpConnection | undefined {
    const cached = this.#peerConnections.get(peer);
    if (cached !== undefined && cached.open) return cached;
    const id = peer.envelope[0];
    return id === undefined ? undefined : this.#routes.get(routingKey(id));
  }

  /** DEALER / PUSH: to the next peer with room, round-robin; else into the transport's own queue. */
  #distribute(frames: readonly OutFrame[]): void {
    if (this.#pending.length === 0) {
      const connection = this.#nextWithRoom();
      if (connection !== undefined) {
        connection.enqueue(frames);
        return;
      }
    }
    if (this.#pending.length >= this.#options.maxQueuedMessages) {
      throw new ZmtpError(
        "backpressure",
        `zmtp ${this.kind} transport: every peer's queue is full and ${this.#options.maxQueuedMessages} messages are waiting (maxQueuedMessages)`,
      );
    }
    this.#pending.push(frames);
  }

  #nextWithRoom(): ZmtpConnection | undefined {
    const open = this.#open;
    const count = open.length;
    for (let tried = 0; tried < count; tried++) {
      if (this.#roundRobin >= count) this.#roundRobin = 0;
      const connection = open[this.#roundRobin] as ZmtpConnection;
      this.#roundRobin += 1;
      if (!connection.full) return connection;
    }
    return undefined;
  }

  #drainPending(): void {
    while (this.#pending.length > 0) {
      const connection = this.#nextWithRoom();
      if (connection === undefined) return;
      connection.enqueue(this.#pending.shift() as readonly OutFrame[]);
    }
  }

  subscribe(topic: string | Uint8Array): void {
    this.#changeSubscription(topic, true);
  }

  unsubscribe(topic: string | Uint8Array): void {
    this.#changeSubscription(topic, false);
  }

  #changeSubscription(topic: string | Uint8Array, subscribe: boolean): void {
    if (this.kind !== "sub") throw new TypeError(`subscriptions apply to a sub transport, not ${this.kind}`);
    if (this.#closing) throw this.#closedError();
    const bytes = toBytes(topic);
    if (subscribe) {
      this.#subscriptions.push(bytes);
    } else {
      const index = this.#subscriptions.findIndex((candidate) => sameBytes(candidate, bytes));
      if (index < 0) return;
      this.#subscriptions.splice(index, 1);
    }
    for (const connection of this.#open) connection.sendSubscription(bytes, subscribe);
  }

  // ---------------------------------------------------------------- connections

  #adopt(socket: Socket, endpoint: string, reader?: SocketReader): ZmtpConnection {
    const connection = new ZmtpConnection(socket, endpoint, this, this.#options, this.#socketType);
    this.#connections.add(connection);
    connection.start(reader);
    if (this.#readingPaused) connection.pauseReading();
    return connection;
  }

  async bind(endpoint: string): Promise<string> {
    if (this.#closing) throw this.#closedError();
    let target: Endpoint;
    try {
      target = parseEndpoint(endpoint, "bind");
    } catch (error) {
      throw new ZmtpEndpointError("bind", endpoint, `cannot bind ${this.kind} transport to ${endpoint}: ${toError(error).message}`, {
        cause: error,
      });
    }
    const server = createServer({ noDelay: true });
    let resolved: string;
    try {
      if (target.transport === "tcp") {
        const address = await resolveHost(target.host);
        await listen(server, { host: address, port: target.port, exclusive: true });
        const bound = server.address();
        const port = typeof bound === "object" && bound !== null ? bound.port : target.port;
        resolved = formatTcp(address, port);
      } else {
        await listenIpc(server, target.path);
        resolved = `ipc://${target.path}`;
      }
    } catch (error) {
      server.close();
      throw new ZmtpEndpointError("bind", endpoint, `cannot bind ${this.kind} transport to ${endpoint}: ${describe(error)}`, {
        cause: error,
      });
    }
    if (this.#closing) {
      server.close();
      throw this.#closedError();
    }
    const listener: Listener = { requested: endpoint, resolved, server, connections: new Set() };
    server.on("connection", (socket: Socket) => {
      if (this.#closing) {
        socket.destroy();
        return;
      }
      listener.connections.add(this.#adopt(socket, resolved));
    });
    server.on("error", (error: Error) => {
      this.#report(new ZmtpEndpointError("bind", endpoint, `listener on ${resolved} failed: ${error.message}`, { cause: error }));
    });
    this.#listeners.push(listener);
    return resolved;
  }

  async unbind(endpoint: string): Promise<void> {
    const index = this.#listeners.findIndex((entry) => entry.resolved === endpoint || entry.requested === endpoint);
    if (index < 0) throw new ZmtpEndpointError("bind", endpoint, `cannot unbind ${endpoint}: not bound`);
    const listener = this.#listeners[index] as Listener;
    this.#listeners.splice(index, 1);
    for (const connection of listener.connections) connection.destroy();
    await closeServer(listener.server);
  }

  connect(endpoint: string): void {
    if (this.#closing) throw this.#closedError();
    let target: Endpoint;
    try {
      target = parseEndpoint(endpoint, "connect");
    } catch (error) {
      throw new ZmtpEndpointError("connect", endpoint, `cannot connect ${this.kind} transport to ${endpoint}: ${toError(error).message}`, {
        cause: error,
      });
    }
    const connector: Connector = {
      endpoint,
      target,
      attempt: 0,
      stopped: false,
      timer: undefined,
      dialing: undefined,
      connection: undefined,
    };
    this.#connectors.push(connector);
    this.#dial(connector);
  }

  disconnect(endpoint: string): void {
    if (this.#closing) throw this.#closedError();
    const matching = this.#connectors.filter((connector) => connector.endpoint === endpoint);
    if (matching.length === 0) throw new ZmtpEndpointError("connect", endpoint, `cannot disconnect from ${endpoint}: not connected`);
    for (const connector of matching) {
      this.#connectors.splice(this.#connectors.indexOf(connector), 1);
      this.#stopConnector(connector);
    }
  }

  #stopConnector(connector: Connector): void {
    connector.stopped = true;
    clearTimeout(connector.timer);
    connector.timer = undefined;
    connector.dialing?.destroy();
    connector.dialing = undefined;
    connector.connection?.destroy();
  }

  #dial(connector: Connector): void {
    connector.timer = undefined;
    if (connector.stopped || this.#shuttingDown()) return;
    const target = connector.target;
    // Connected sockets read into buffers of our choosing (see reader.ts).
    const reader = new SocketReader();
    const socket =
      target.transport === "tcp"
        ? netConnect({ host: target.host, port: target.port, noDelay: true, onread: reader.onread })
        : netConnect({ path: target.path, onread: reader.onread });
    connector.dialing = socket;
    let failure: Error | undefined;
    const onError = (error: Error): void => {
      failure = error;
    };
    const onClose = (): void => {
      connector.dialing = undefined;
      if (failure !== undefined) this.#report(new ZmtpEndpointError("connect", connector.endpoint, `cannot connect to ${connector.endpoint}: ${describe(failure)}`, { cause: failure }));
      this.#scheduleRetry(connector);
    };
    socket.on("error", onError);
    socket.once("close", onClose);
    socket.once("connect", () => {
      socket.off("error", onError);
      socket.off("close", onClose);
      connector.dialing = undefined;
      if (connector.stopped || this.#shuttingDown()) {
        socket.destroy();
        return;
      }
      connector.connection = this.#adopt(socket, connector.endpoint, reader);
    });
  }

  #scheduleRetry(connector: Connector): void {
    if (connector.stopped || this.#shuttingDown()) return;
    const base = this.#options.reconnectInterval;
    if (base < 0) return;
    const cap = Math.max(base, this.#options.reconnectMaxInterval);
    const raw = Math.min(cap, base * 2 ** Math.min(connector.attempt, 30));
    // Jitter (+-25%) spreads the reconnects of many clients after a server restart.
    const delayMs = Math.round(raw * (0.75 + Math.random() * 0.5));
    connector.attempt += 1;
    this.#monitor({ type: "retry", endpoint: connector.endpoint, delayMs });
    connector.timer = setTimeout(() => this.#dial(connector), delayMs);
  }

  // ------------------------------------------------------------------ closing

  close(): Promise<void> {
    if (this.#closeDone !== undefined) return this.#closeDone;
    this.#closing = true;
    this.#endIteration();
    this.#closeDone = this.#finishClose();
    return this.#closeDone;
  }

  async #finishClose(): Promise<void> {
    const servers = this.#listeners.splice(0).map((listener) => closeServer(listener.server));
    const linger = this.#options.linger;
    const started = Date.now();
    try {
      if (linger !== 0) await this.#flushFor(linger);
    } finally {
      for (const connector of this.#connectors.splice(0)) {
        connector.stopped = true;
        clearTimeout(connector.timer);
        connector.dialing?.destroy();
      }
      this.#pending.clear();
      const grace = linger < 0 ? 1000 : Math.max(0, Math.min(250, linger - (Date.now() - started)));
      const allClosed =
        this.#connections.size === 0
          ? Promise.resolve()
          : new Promise<void>((resolve) => {
              this.#closeWaiter = resolve;
            });
      for (const connection of [...this.#connections]) {
        if (grace === 0) connection.destroy();
        else connection.end(grace);
      }
      await Promise.all([allClosed, ...servers]);
      this.#inbox.clear();
      this.#resolveClosed(undefined);
    }
  }

  /** Waits until every queue is written (or `linger` ms passed; forever when negative). */
  async #flushFor(linger: number): Promise<void> {
    if (this.#flushed()) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await new Promise<void>((resolve) => {
        this.#flushWaiter = resolve;
        if (linger > 0) timer = setTimeout(resolve, linger);
      });
    } finally {
      this.#flushWaiter = undefined;
      clearTimeout(timer);
    }
  }

  #flushed(): boolean {
    if (this.#pending.length > 0 || this.#flushScheduled) return false;
    for (const connection of this.#connections) if (connection.open && !connection.idle) return false;
    return true;
  }

  #checkFlushed(): void {
    if (this.#flushWaiter !== undefined && this.#flushed()) this.#flushWaiter();
  }
}

function describe(error: unknown): string {
  const err = toError(error);
  const code = (err as { code?: unknown }).code;
  return typeof code === "string" && !err.message.includes(code) ? `${err.message} (${code})` : err.message;
}

function listen(server: Server, options: { host?: string; port?: number; path?: string; exclusive?: boolean }): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => reject(error);
    server.once("error", onError);
    server.listen(options, () => {
      server.off("error", onError);
      resolve();
    });
  });
}

/** Listens on a Unix socket path, removing a stale socket file (nobody accepting on it) first. */
async function listenIpc(server: Server, path: string): Promise<void> {
  try {
    await listen(server, { path });
    return;
  } catch (error) {
    if ((error as { code?: unknown }).code !== "EADDRINUSE") throw error;
  }
  const stats = await lstat(path);
  if (!stats.isSocket()) throw Object.assign(new Error(`${path} exists and is not a socket`), { code: "EADDRINUSE" });
  if (await socketAccepts(path)) throw Object.assign(new Error(`${path} is in use`), { code: "EADDRINUSE" });
  await unlink(path);
  await listen(server, { path });
}

function socketAccepts(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = netConnect({ path });
    probe.once("connect", () => {
      probe.destroy();
      resolve(true);
    });
    probe.once("error", () => resolve(false));
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) {
      resolve();
      return;
    }
    server.close(() => resolve());
  });
}

/**
 * Creates a ZMTP transport of the given kind, binds every `bind` endpoint (in order) and connects
 * every `connect` endpoint. Resolves once all binds completed. If a bind fails the transport is
 * closed and the promise rejects with a {@link ZmtpEndpointError} of code `"bind"` naming the
 * endpoint; an invalid connect endpoint rejects with code `"connect"`. Invalid options throw a
 * `TypeError` or `RangeError`.
 *
 * The transport holds the Node.js event loop open (like a listening server) until it is closed.
 */
export async function createZmtpTransport(kind: TransportKind, options: ZmtpTransportOptions = {}): Promise<ZmtpTransport> {
  const resolved = resolveOptions(kind, options);
  const transport = new ZmtpSocketTransport(kind, resolved);
  try {
    for (const endpoint of resolved.bind) await transport.bind(endpoint);
    for (const endpoint of resolved.connect) transport.connect(endpoint);
  } catch (error) {
    await transport.close();
    throw error;
  }
  return transport;
}

/**
 * A ROUTER transport (the server side of request/reply) bound to `endpoint`(s).
 * Shorthand for `createZmtpTransport("router", { ...options, bind: endpoint })`.
 */
export function bindRouter(
  endpoint: string | readonly string[],
  options: Omit<ZmtpTransportOptions, "bind"> = {},
): Promise<ZmtpTransport> {
  return createZmtpTransport("router", { ...options, bind: endpoint });
}

/**
 * A DEALER transport (the client side of request/reply) connected to `endpoint`(s).
 * Shorthand for `createZmtpTransport("dealer", { ...options, connect: endpoint })`.
 */
export function connectDealer(
  endpoint: string | readonly string[],
  options: Omit<ZmtpTransportOptions, "connect"> = {},
): Promise<ZmtpTransport> {
  return createZmtpTransport("dealer", { ...options, connect: endpoint });
}
