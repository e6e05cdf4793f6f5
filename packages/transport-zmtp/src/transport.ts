// The Transport port over ZMTP connections: socket kinds (DEALER, ROUTER, PUSH, PULL, PUB, SUB),
// their routing and per-peer send queues, and the receive inbox. Bound endpoints are in
// listener.ts, connected ones (with reconnection) in connector.ts, connection states for
// `watchConnections` in connection-state.ts. A little over 600 lines as one cohesive thing: the
// class is the state every socket kind shares (connections, routes, inbox, close), and splitting
// it per kind would copy that state into each.
import { Buffer } from "node:buffer";
import type { Socket } from "node:net";
import { ConnectionWatchers, Fifo, SINGLE_PEER, TransportInbox, envelopeKey, joinDealerFrames, joinRouterFrames, joinSingleFrame, splitDealerFrames, splitRouterFrames } from "@zrpc/channel";
import type { ConnectionEvent, Peer, TransportKind, TransportMessage } from "@zrpc/channel";
import { ZmtpConnection } from "./connection.js";
import type { ConnectionOwner } from "./connection.js";
import { handshakeFailure } from "./connection-state.js";
import { AuthReporter } from "./curve/auth-report.js";
import type { HandshakeFailure } from "./curve/handshake.js";
import { Connector } from "./connector.js";
import type { ConnectorHost } from "./connector.js";
import { ChunkedBody } from "./encoder.js";
import type { OutFrame } from "./encoder.js";
import { parseEndpoint } from "./endpoint.js";
import type { Endpoint } from "./endpoint.js";
import { ZmtpEndpointError, ZmtpError, toError } from "./errors.js";
import { closeServer, listenOn } from "./listener.js";
import type { Listener } from "./listener.js";
import type { ResolvedOptions, ZmtpMonitorEvent } from "./options.js";
import { socketTypeOf } from "./protocol.js";
import type { SocketType } from "./protocol.js";
import type { SocketReader } from "./reader.js";
import { routingKey, sameBytes, startsWith, toBytes } from "./routing.js";
import type { ZmtpTransport, ZmtpTransportStats } from "./transport-api.js";

/** Most subscriptions one subscriber may hold on a PUB transport. */
const MAX_SUBSCRIPTIONS = 10_000;

/**
 * A ZMTP transport of one kind; {@link createZmtpTransport} opens one.
 * @internal
 */
export class ZmtpSocketTransport implements ZmtpTransport, ConnectionOwner {
  readonly kind: TransportKind;
  readonly closed: Promise<Error | undefined>;

  readonly #options: ResolvedOptions;
  readonly #socketType: SocketType;
  #resolveClosed: (error: Error | undefined) => void = () => undefined;
  #closing = false;
  #closeDone: Promise<void> | undefined;

  readonly #listeners: Listener[] = [];
  readonly #connectors: Connector[] = [];
  readonly #connectorHost: ConnectorHost;
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

  readonly #inbox: TransportInbox;
  readonly #auth: AuthReporter;
  /** State of each connect endpoint, for watchConnections(). */
  readonly #watchers = new ConnectionWatchers();

  constructor(kind: TransportKind, options: ResolvedOptions) {
    this.kind = kind;
    this.#options = options;
    this.#socketType = socketTypeOf(kind);
    this.#inbox = new TransportInbox({
      highWaterMark: options.receiveHighWaterMark,
      onPause: (queued) => this.#pauseReading(queued),
      onResume: (queued) => this.#resumeReading(queued),
      onListenerError: (error) => this.#report(error),
      secondReaderError: () => new Error(`zmtp ${kind} transport: only one consumer may read a transport`),
    });
    this.closed = new Promise((resolve) => {
      this.#resolveClosed = resolve;
    });
    if (kind === "sub") this.#subscriptions.push(...options.subscribe);
    this.#auth = new AuthReporter({
      kind,
      onAuthFailure: options.onAuthFailure,
      closeOnAuthFailure: options.closeOnAuthFailure,
      report: (error) => this.#report(error),
      shutdown: (error) => void this.#close(error),
    });
    this.#connectorHost = {
      reconnectInterval: options.reconnectInterval,
      reconnectMaxInterval: options.reconnectMaxInterval,
      dialTimeoutMs: options.dialTimeoutMs,
      shuttingDown: () => this.#shuttingDown(),
      adopt: (socket, endpoint, reader) => this.#adopt(socket, endpoint, reader),
      report: (error) => this.#report(error),
      monitor: (event) => this.#monitor(event),
      connectionEvent: (event) => this.#watchers.emit(event),
    };
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
      readingPaused: this.#inbox.paused,
    };
  }

  watchConnections(listener: (event: ConnectionEvent) => void): () => void {
    return this.#watchers.watch(listener);
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
    this.#inbox.onMessage(listener);
  }

  [Symbol.asyncIterator](): AsyncIterator<TransportMessage, undefined> {
    // The iterator's return() (the only consumer stopped) pauses reading from the sockets.
    return this.#inbox[Symbol.asyncIterator]();
  }

  /** The inbox is full (or its reader stopped): every connection stops reading. */
  #pauseReading(queued: number): void {
    for (const connection of this.#connections) connection.pauseReading();
    this.#monitor({ type: "pause", queued });
  }

  /** The consumer caught up: connections read again (until one of them fills the inbox again). */
  #resumeReading(queued: number): void {
    this.#monitor({ type: "resume", queued });
    for (const connection of this.#connections) {
      connection.resumeReading();
      if (this.#inbox.paused) return;
    }
  }

  /**
   * @internal A message arrived on a connection: apply the kind's envelope rules (@zrpc/channel)
   * and deliver it. A ROUTER connection's frames come without the routing id, which is the
   * connection's own: the rules apply to `[routing id, ...frames]`.
   */
  onFrames(connection: ZmtpConnection, frames: Uint8Array[]): void {
    const count = frames.length;
    switch (this.kind) {
      case "router": {
        if (count <= 2) {
          // The common case, [""][payload] or [payload]: the envelope is the routing id alone,
          // whose Peer the connection keeps.
          this.#inbox.push(connection.peer as Peer, frames[count - 1] as Uint8Array);
          return;
        }
        const { envelope, payload } = splitRouterFrames([connection.routingId as Uint8Array, ...frames]);
        this.#inbox.push(Object.freeze({ key: envelopeKey(envelope), envelope: Object.freeze(envelope) }), payload);
        return;
      }
      case "dealer":
      case "pull":
        this.#inbox.push(SINGLE_PEER, splitDealerFrames(frames));
        return;
      case "sub": {
        const first = frames[0] as Uint8Array;
        for (const topic of this.#subscriptions) {
          if (startsWith(first, topic)) {
            this.#inbox.push(SINGLE_PEER, splitDealerFrames(frames));
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
          new ZmtpError("protocol", `routing id ${envelopeKey([id])} is already in use (peer of ${connection.endpoint})`, {
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
      const peer: Peer = Object.freeze({ key: envelopeKey([id]), envelope: Object.freeze([id]) });
      connection.peer = peer;
      this.#routes.set(connection.routingKey, connection);
      this.#peerConnections.set(peer, connection);
    }
    connection.attached = true;
    this.#open.push(connection);
    const connector = this.#connectors.find((candidate) => candidate.connection === connection);
    if (connector !== undefined) {
      connector.connected();
      this.#watchers.emit({ endpoint: connector.endpoint, state: "connected" });
    }
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
  onAuthFailure(connection: ZmtpConnection, failure: HandshakeFailure, error: ZmtpError): void {
    if (!this.#closing) this.#auth.failed(connection.endpoint, connection.peerAddress, failure, error);
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
    const wasOpen = connection.attached;
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
    if (error !== undefined && !this.#closing && !this.#auth.reported(error)) this.#report(error);
    const connector = this.#connectors.find((candidate) => candidate.connection === connection);
    if (connector !== undefined && !this.#closing) {
      const endpoint = connector.endpoint;
      this.#watchers.emit(
        wasOpen
          ? { endpoint, state: "disconnected", ...(error !== undefined && { error }) }
          : { endpoint, state: "failed", error: handshakeFailure(connection, error) },
      );
    }
    connector?.connectionClosed();
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
        // The connection stands for the routing id (the envelope's first frame); hops follow it.
        const envelope = peer.envelope;
        connection.enqueue(envelope.length === 1 ? joinDealerFrames(payload) : joinRouterFrames(envelope.slice(1), payload));
        return;
      }
      case "dealer":
        this.#distribute(joinDealerFrames(payload));
        return;
      case "push":
        this.#distribute(joinSingleFrame(payload));
        return;
      case "pub": {
        const frames = joinSingleFrame(payload);
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
    const connection = new ZmtpConnection({ socket, endpoint, owner: this, options: this.#options, socketType: this.#socketType });
    this.#connections.add(connection);
    connection.start(reader);
    if (this.#inbox.paused) connection.pauseReading();
    return connection;
  }

  async bind(endpoint: string): Promise<string> {
    if (this.#closing) throw this.#closedError();
    const { server, resolved } = await listenOn(this.kind, endpoint);
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
    const connector = new Connector(endpoint, target, this.#connectorHost);
    this.#connectors.push(connector);
    connector.dial();
  }

  disconnect(endpoint: string): void {
    if (this.#closing) throw this.#closedError();
    const matching = this.#connectors.filter((connector) => connector.endpoint === endpoint);
    if (matching.length === 0) throw new ZmtpEndpointError("connect", endpoint, `cannot disconnect from ${endpoint}: not connected`);
    for (const connector of matching) {
      this.#connectors.splice(this.#connectors.indexOf(connector), 1);
      connector.stop();
    }
    this.#watchers.forget(endpoint);
  }

  // ------------------------------------------------------------------ closing

  close(): Promise<void> {
    return this.#close(undefined);
  }

  /** Closes; `error` (a refused CURVE handshake) is what iteration throws and `closed` resolves with. */
  #close(error: Error | undefined): Promise<void> {
    if (this.#closeDone !== undefined) return this.#closeDone;
    this.#closing = true;
    this.#auth.stop();
    this.#watchers.clear();
    this.#inbox.end(error);
    this.#closeDone = this.#finishClose(error);
    return this.#closeDone;
  }

  async #finishClose(error: Error | undefined): Promise<void> {
    const servers = this.#listeners.splice(0).map((listener) => closeServer(listener.server));
    const linger = this.#options.linger;
    const started = Date.now();
    try {
      if (linger !== 0) await this.#flushFor(linger);
    } finally {
      for (const connector of this.#connectors.splice(0)) connector.halt();
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
      this.#resolveClosed(error);
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
