// The zeromq.js transport: one class around one zeromq.js socket (its read loop into the shared
// TransportInbox, its send queue and pump, bind/unbind gating, the handshake monitor and its
// retirement, close), then the create function and shorthands. About 650 lines on purpose: every
// part touches the same socket's lifecycle, and the monitor's end depends on close and linger.
// (What a connection's monitor events mean for `watchConnections` is in connection-events.ts.)
import { Context, version } from "zeromq";
import type { Event as ZmqEvent, Readable, Socket, Writable } from "zeromq";
import { ZapHandler } from "./curve.js";
import { TransportError } from "./errors.js";
import { ConnectionWatchers, Fifo, SINGLE_PEER, TransportInbox, envelopeKey, joinDealerFrames, joinRouterFrames, joinSingleFrame, openSocketTransport, socketShorthands, splitDealerFrames, splitRouterFrames } from "@zrpc/channel";
import { needsZap, resolveOptions } from "./options.js";
import type { AuthFailure, ResolvedOptions, ZeromqTransportOptions } from "./options.js";
import { createSocket } from "./socket.js";
import type { ConnectionEvent, Peer, SocketShorthands, Transport, TransportKind, TransportMessage } from "@zrpc/channel";
import { ConnectionTracker } from "./connection-events.js";

/** Version of the libzmq that zeromq.js was built with (for example `"4.3.5"`), for diagnostics. */
export const zeromqVersion: string = version;

/**
 * A {@link Transport} over one zeromq.js socket, plus endpoint management.
 *
 * Bind and unbind are serialised with the transport's own read and send loops (zeromq.js forbids
 * any other call on a socket while a bind is running), so they may be called at any time.
 */
export interface ZeromqTransport extends Transport {
  /**
   * Endpoints currently bound, as resolved by libzmq: `tcp://127.0.0.1:*` shows up with the port
   * the system picked, `ipc://*` with the generated path. In bind order.
   */
  readonly endpoints: readonly string[];
  /**
   * Binds one more endpoint and resolves with it as resolved by libzmq (see {@link endpoints}).
   * Rejects with a `TransportError` of code `"bind"` naming the endpoint (for example when the
   * address is in use), or `"closed"` after `close()`.
   */
  bind(endpoint: string): Promise<string>;
  /**
   * Unbinds an endpoint, given as passed to `bind` or as resolved. Rejects with a `TransportError`
   * of code `"bind"` when it is not bound.
   */
  unbind(endpoint: string): Promise<void>;
  /**
   * Connects to an endpoint. Returns at once; ZeroMQ connects and reconnects in the background.
   * Throws a `TransportError` of code `"connect"` for an invalid endpoint or while a `bind`/`unbind`
   * is still running (await it first), `"closed"` after `close()`.
   */
  connect(endpoint: string): void;
  /** Disconnects from an endpoint passed to `connect`. Throws like {@link connect}. */
  disconnect(endpoint: string): void;
  /**
   * Fast path: hands every received message to `listener` synchronously, as the read loop takes
   * it from libzmq, instead of through the async iterator (no promise per message). It replaces
   * the iterator (a transport has one consumer): throws once iteration started or a listener is
   * set. Messages received before the call are delivered to it at once. A throwing listener is
   * reported to `onError` and reading goes on.
   */
  onMessage(listener: (peer: Peer, payload: Uint8Array) => void): void;
  /**
   * Connection state of the endpoints passed to `connect` (the `Transport` capability), read from
   * libzmq's socket monitor: `handshaking` (TCP up), `connected` (ZMTP handshake done), `failed`
   * and `disconnected`; at once the latest event of each endpoint. libzmq does not say why a
   * connect failed, so the causes are best effort: "connection refused or unreachable" (code
   * `ECONNREFUSED`), "the address did not resolve" (`ENOTFOUND`), "not a ZeroMQ peer: ..." for a
   * listener that broke the ZMTP handshake off. Returns the function that removes the listener.
   */
  watchConnections(listener: (event: ConnectionEvent) => void): () => void;
}

/**
 * Once the consumer lags this many messages behind, the read loop stops pulling from libzmq; it
 * resumes once the consumer is back down to half of it.
 */
const RECEIVE_BACKLOG = 1024;
/** Bound of the ROUTER peer cache (least recently seen peers are forgotten first). */
const MAX_CACHED_PEERS = 100_000;

function toError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}

function describe(error: unknown): string {
  const err = toError(error);
  const code = (err as { code?: unknown }).code;
  return typeof code === "string" && !err.message.includes(code) ? `${err.message} (${code})` : err.message;
}

/** True when zeromq reported `lastEndpoint` for this kind of endpoint. */
function reportsLastEndpoint(endpoint: string): boolean {
  return endpoint.startsWith("tcp://") || endpoint.startsWith("ipc://");
}

/**
 * How long a closed transport keeps reading its socket's monitor for libzmq's last event, beyond
 * the socket's linger period. See `#retireMonitor`.
 */
const MONITOR_END_GRACE_MS = 5_000;

/**
 * Closed socket monitors, kept reachable for a while after they close. zeromq.js names a monitor's
 * inproc endpoint after the address of its native observer, and libzmq unregisters that endpoint
 * only when its reaper thread gets to the closed monitor. An observer collected before then frees
 * an address that the next observer can get, and that one fails with EADDRINUSE.
 */
const retiredObservers = new Set<object>();
const OBSERVER_RETIREMENT_MS = 5_000;

function retireObserver(observer: object): void {
  retiredObservers.add(observer);
  setTimeout(() => retiredObservers.delete(observer), OBSERVER_RETIREMENT_MS).unref();
}

class ZeromqSocketTransport implements ZeromqTransport {
  readonly kind: TransportKind;
  readonly closed: Promise<Error | undefined>;

  readonly #socket: Socket;
  readonly #writer: Writable | undefined;
  readonly #linger: number;
  readonly #maxQueued: number;
  readonly #onError: ((error: Error) => void) | undefined;
  readonly #onAuthFailure: ((failure: AuthFailure) => void) | undefined;
  readonly #closeOnAuthFailure: boolean;
  readonly #zap: ZapHandler | undefined;
  /** The socket's monitor, when handshakes are watched; closed by us (see #finishClose). */
  #events: Socket["events"] | undefined;
  #watchDone: Promise<void> = Promise.resolve();
  /** The monitor reports security handshake failures (CURVE, onAuthFailure). */
  readonly #watchAuth: boolean;
  readonly #curveClient: boolean;
  /** Connection state of the connect endpoints, from the monitor (watchConnections). */
  readonly #watchers = new ConnectionWatchers();
  #tracker: ConnectionTracker | undefined;
  #resolveClosed: (error: Error | undefined) => void = () => undefined;

  /** Set by close() or a fatal error: send() throws, iteration ends, loops wind down. */
  #closing = false;
  #closeDone: Promise<void> | undefined;
  /** Pending while a bind or unbind runs: nothing else may touch the socket meanwhile. */
  #gate: Promise<void> | undefined;
  readonly #bound: { requested: string; resolved: string }[] = [];

  // Receiving: one read loop -> inbox -> the single iterator or the onMessage listener.
  readonly #readLoop: Promise<void>;
  readonly #inbox: TransportInbox;
  /** Set while the read loop waits for the inbox to resume (or for close). */
  #resumeReading: (() => void) | undefined;
  readonly #peers = new Map<string, Peer>();

  // Sending: send() -> outbox -> one send loop ("pump") -> socket.
  readonly #outbox = new Fifo<Uint8Array[]>();
  #pumping = false;
  #pumpDone: Promise<void> = Promise.resolve();

  constructor(kind: TransportKind, options: ResolvedOptions, context?: Context) {
    const { socket, reader, writer } = createSocket(kind, options, context);
    this.kind = kind;
    this.#socket = socket;
    this.#writer = writer;
    this.#linger = options.linger;
    this.#maxQueued = options.maxQueuedMessages;
    this.#onError = options.onError;
    this.#onAuthFailure = options.onAuthFailure;
    this.#closeOnAuthFailure = options.closeOnAuthFailure;
    const server = options.curveServer;
    this.#zap =
      server === undefined || !needsZap(server) || context === undefined
        ? undefined
        : new ZapHandler(context, server, ({ publicKey, address, why }) =>
            this.#authFailed({
              kind: "auth",
              address,
              ...(publicKey === "" ? {} : { publicKey }),
              message:
                publicKey === ""
                  ? `CURVE authentication failed: refused ${why} from ${address}`
                  : `CURVE authentication failed: refused client key ${publicKey} from ${address} (${why})`,
            }),
          );
    this.closed = new Promise((resolve) => {
      this.#resolveClosed = resolve;
    });
    this.#inbox = new TransportInbox({
      highWaterMark: RECEIVE_BACKLOG,
      onResume: () => this.#wakeReader(),
      onListenerError: (error) => this.#report(error),
      secondReaderError: (attempt) =>
        new Error(`zeromq ${kind} transport: only one consumer may ${attempt === "iterator" ? "iterate" : "read"} a transport`),
    });
    this.#watchAuth = options.watchHandshakes;
    this.#curveClient = options.curveClient !== undefined;
    if (options.watchHandshakes) this.#startMonitor();
    this.#readLoop = reader === undefined ? Promise.resolve() : this.#read(reader);
  }

  /** @internal Starts the ZAP handler, if any; binds wait for it (libzmq fails closed until then). */
  async init(): Promise<void> {
    await this.#zap?.start();
  }

  // ------------------------------------------------------------- handshakes

  watchConnections(listener: (event: ConnectionEvent) => void): () => void {
    return this.#watchers.watch(listener);
  }

  /**
   * Starts reading the socket's monitor (once): at creation when security handshakes are watched,
   * else before the first `connect`, so that connection events are never missed.
   */
  #startMonitor(): void {
    if (this.#events !== undefined) return;
    this.#watchDone = this.#watchHandshakes(this.#curveClient);
  }

  /**
   * Turns the socket's monitor events into {@link AuthFailure} reports (when security handshakes
   * are watched) and into the connection events of `watchConnections`. The monitor is read by a
   * loop of ours rather than zeromq.js's event-emitter mode: that mode's loop rejects unhandled
   * when the observer is closed under it, and we must close it ourselves (#finishClose).
   */
  #watchHandshakes(curveClient: boolean): Promise<void> {
    const events = this.#socket.events;
    this.#events = events;
    // A refused key is reported by our ZAP handler, with the key; libzmq's event has no key.
    const reportAuth = this.#zap === undefined;
    const tracker = new ConnectionTracker(
      curveClient,
      (event) => {
        if (!this.#closing) this.#watchers.emit(event);
      },
      (address) => this.#bound.some((entry) => entry.resolved === address || entry.requested === address),
    );
    this.#tracker = tracker;
    const onEvent = (event: ZmqEvent): void => {
      tracker.onEvent(event);
      if (!this.#watchAuth) return;
      if (event.type === "handshake:error:auth") {
        if (!reportAuth) return;
        const status = (event.error as { status?: number }).status;
        this.#authFailed({
          kind: "auth",
          address: event.address,
          error: event.error,
          message: curveClient
            ? `CURVE authentication failed: the server at ${event.address} refused this client's key (ZAP status ${String(status)})`
            : `authentication failed with ${event.address}: ${event.error.message} (ZAP status ${String(status)})`,
        });
      } else if (event.type === "handshake:error:protocol") {
        const code = event.error.code;
        const hint =
          code === "ERR_ZMTP_MECHANISM_MISMATCH"
            ? ": the peer uses another security mechanism (CURVE against plaintext)"
            : code === "ERR_ZMTP_CRYPTOGRAPHIC"
              ? ": the peers' CURVE keys do not match (a client with a wrong server key?)"
              : "";
        this.#authFailed({
          kind: "protocol",
          address: event.address,
          error: event.error,
          message: `security handshake with ${event.address} failed: ${event.error.message} (${code})${hint}`,
        });
      } else if (event.type === "handshake:error:other") {
        this.#authFailed({
          kind: "other",
          address: event.address,
          error: event.error,
          message: `security handshake with ${event.address} broke off: ${describe(event.error)}${curveClient ? " (a wrong curve.serverKey looks like this)" : ""}`,
        });
      }
    };
    const loop = async (): Promise<void> => {
      while (!events.closed) {
        let event: ZmqEvent;
        try {
          event = await events.receive();
        } catch {
          return; // the observer was closed (by libzmq's MONITOR_STOPPED or by #finishClose)
        }
        onEvent(event);
      }
    };
    return loop();
  }

  #authFailed(failure: AuthFailure): void {
    if (this.#closing) return;
    try {
      this.#onAuthFailure?.(failure);
    } catch {
      // A throwing listener must not break the handshake watcher.
    }
    if (this.#closeOnAuthFailure && failure.kind !== "other") {
      void this.#shutdown(new TransportError("connect", `zeromq ${this.kind} transport closed: ${failure.message}`, { cause: failure.error }), true);
    }
  }

  get endpoints(): readonly string[] {
    return this.#bound.map((entry) => entry.resolved);
  }

  // ---------------------------------------------------------------- receiving

  async #read(reader: Readable): Promise<void> {
    while (!this.#closing) {
      if (this.#inbox.paused) {
        // The consumer is behind (or stopped): stop pulling so libzmq's receive HWM and TCP push back.
        await new Promise<void>((resolve) => {
          this.#resumeReading = resolve;
        });
        continue;
      }
      if (this.#gate !== undefined) {
        await this.#gate;
        continue;
      }
      let frames: Uint8Array[];
      try {
        frames = await reader.receive();
      } catch (error) {
        // A pending receive rejects with EAGAIN when the socket is closed under it.
        if (!this.#closing && !this.#socket.closed) {
          void this.#shutdown(new Error(`zeromq ${this.kind} socket failed to receive: ${describe(error)}`, { cause: error }));
        }
        return;
      }
      if (this.#closing) return;
      this.#deliver(frames);
    }
  }

  /**
   * Splits a message into its peer and payload by the envelope rules of @zrpc/channel, for the
   * inbox. libzmq never delivers a message without frames; one would be dropped.
   */
  #deliver(frames: readonly Uint8Array[]): void {
    if (frames.length === 0) return;
    if (this.kind === "router") {
      const split = splitRouterFrames(frames);
      this.#inbox.push(this.#peerFor(split.envelope), split.payload);
      return;
    }
    this.#inbox.push(SINGLE_PEER, splitDealerFrames(frames));
  }

  /** The cached Peer of a ROUTER envelope, so one client always yields the same object. */
  #peerFor(envelope: Uint8Array[]): Peer {
    const key = envelopeKey(envelope);
    const peers = this.#peers;
    let peer = peers.get(key);
    if (peer !== undefined) {
      // Refresh its position: Map iteration order is insertion order, so the first key is the
      // least recently seen peer.
      peers.delete(key);
      peers.set(key, peer);
      return peer;
    }
    if (peers.size >= MAX_CACHED_PEERS) {
      const oldest = peers.keys().next();
      if (oldest.done !== true) peers.delete(oldest.value);
    }
    peer = Object.freeze({ key, envelope: Object.freeze(envelope) });
    peers.set(key, peer);
    return peer;
  }

  onMessage(listener: (peer: Peer, payload: Uint8Array) => void): void {
    this.#inbox.onMessage(listener);
  }

  [Symbol.asyncIterator](): AsyncIterator<TransportMessage, undefined> {
    // The consumer stopped (return()): it is the only one, so pending reads end too, and reading
    // from the socket pauses; call close() to release the socket.
    return this.#inbox[Symbol.asyncIterator]();
  }

  /** Lets the read loop go on (the inbox resumed, or the transport is closing). */
  #wakeReader(): void {
    const resume = this.#resumeReading;
    if (resume === undefined) return;
    this.#resumeReading = undefined;
    resume();
  }

  // ------------------------------------------------------------------ sending

  send(peer: Peer | undefined, payload: Uint8Array): void {
    if (this.#closing) {
      throw new TransportError("closed", `zeromq ${this.kind} transport is closed`);
    }
    if (this.#writer === undefined) {
      throw new TypeError(`a ${this.kind} transport cannot send`);
    }
    if (this.#outbox.length >= this.#maxQueued) {
      throw new TransportError(
        "backpressure",
        `zeromq ${this.kind} transport: send queue full (${this.#maxQueued} messages waiting for the socket)`,
      );
    }
    let frames: Uint8Array[];
    switch (this.kind) {
      case "router":
        if (peer === undefined) throw new TypeError("a router transport needs the peer to send to");
        frames = joinRouterFrames(peer.envelope, payload);
        break;
      case "dealer":
        frames = joinDealerFrames(payload);
        break;
      case "push":
      case "pub":
      case "pull":
      case "sub":
        frames = joinSingleFrame(payload);
        break;
    }
    this.#outbox.push(frames);
    if (!this.#pumping) {
      this.#pumping = true;
      this.#pumpDone = this.#pump(this.#writer);
    }
  }

  /**
   * The only sender: zeromq.js allows one pending send per socket. A message stays at the head of
   * the outbox (and counts against maxQueuedMessages) until libzmq has taken it.
   */
  async #pump(writer: Writable): Promise<void> {
    try {
      for (let frames = this.#outbox.peek(); frames !== undefined; frames = this.#outbox.peek()) {
        if (this.#gate !== undefined) {
          await this.#gate;
          continue;
        }
        if (this.#socket.closed) return;
        try {
          await writer.send(frames);
        } catch (error) {
          // A pending send rejects with EAGAIN when the socket is closed under it.
          if (this.#socket.closed) return;
          // One message libzmq refused must not stop the others.
          this.#report(new Error(`zeromq ${this.kind} socket dropped a message it could not send: ${describe(error)}`, { cause: error }));
        }
        this.#outbox.shift();
      }
    } finally {
      this.#pumping = false;
    }
  }

  #report(error: Error): void {
    try {
      this.#onError?.(error);
    } catch {
      // A throwing error listener must not break the send loop.
    }
  }

  // ---------------------------------------------------------------- endpoints

  /** Runs a bind or unbind with nothing else touching the socket (zeromq.js would throw EBUSY). */
  async #exclusive<T>(operation: () => Promise<T>): Promise<T> {
    while (this.#gate !== undefined) await this.#gate;
    this.#throwIfClosing();
    let open: () => void = () => undefined;
    this.#gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    try {
      return await operation();
    } finally {
      this.#gate = undefined;
      open();
    }
  }

  #throwIfClosing(): void {
    if (this.#closing) throw new TransportError("closed", `zeromq ${this.kind} transport is closed`);
  }

  bind(endpoint: string): Promise<string> {
    return this.#exclusive(async () => {
      try {
        await this.#socket.bind(endpoint);
      } catch (error) {
        throw new TransportError("bind", `cannot bind ${this.kind} socket to ${endpoint}: ${describe(error)}`, {
          cause: error,
        });
      }
      // close() during a bind is deferred by zeromq.js until the bind completes.
      if (this.#socket.closed) this.#throwIfClosing();
      const last = reportsLastEndpoint(endpoint) ? this.#socket.lastEndpoint : null;
      const resolved = last ?? endpoint;
      this.#bound.push({ requested: endpoint, resolved });
      return resolved;
    });
  }

  unbind(endpoint: string): Promise<void> {
    return this.#exclusive(async () => {
      const index = this.#bound.findIndex((entry) => entry.resolved === endpoint || entry.requested === endpoint);
      const target = index >= 0 ? (this.#bound[index] as { resolved: string }).resolved : endpoint;
      try {
        await this.#socket.unbind(target);
      } catch (error) {
        throw new TransportError("bind", `cannot unbind ${this.kind} socket from ${target}: ${describe(error)}`, {
          cause: error,
        });
      }
      if (index >= 0) this.#bound.splice(index, 1);
    });
  }

  connect(endpoint: string): void {
    this.#endpointCall("connect", endpoint);
  }

  disconnect(endpoint: string): void {
    this.#endpointCall("disconnect", endpoint);
  }

  #endpointCall(action: "connect" | "disconnect", endpoint: string): void {
    this.#throwIfClosing();
    const preposition = action === "connect" ? "to" : "from";
    if (this.#gate !== undefined) {
      throw new TransportError(
        "connect",
        `cannot ${action} ${this.kind} socket ${preposition} ${endpoint} while a bind or unbind is in progress; await it first`,
      );
    }
    try {
      if (action === "connect") {
        this.#startMonitor();
        this.#socket.connect(endpoint);
        this.#tracker?.add(endpoint);
      } else {
        this.#socket.disconnect(endpoint);
        this.#tracker?.remove(endpoint);
        this.#watchers.forget(endpoint);
      }
    } catch (error) {
      throw new TransportError("connect", `cannot ${action} ${this.kind} socket ${preposition} ${endpoint}: ${describe(error)}`, {
        cause: error,
      });
    }
  }

  // ------------------------------------------------------------------ closing

  close(): Promise<void> {
    return this.#shutdown(undefined);
  }

  /** `toReader`: the reader's iteration throws `error` instead of just ending. */
  #shutdown(error: Error | undefined, toReader = false): Promise<void> {
    if (this.#closeDone !== undefined) return this.#closeDone;
    this.#closing = true;
    this.#watchers.clear();
    this.#inbox.end(toReader ? error : undefined);
    this.#wakeReader();
    this.#closeDone = this.#finishClose(error);
    return this.#closeDone;
  }

  async #finishClose(error: Error | undefined): Promise<void> {
    try {
      if (error === undefined) await this.#flush();
    } finally {
      // ZMQ_LINGER (set at creation) bounds what libzmq still holds; pending receive/send calls
      // reject now, which ends both loops.
      this.#socket.close();
      this.#retireMonitor();
      await Promise.allSettled([this.#readLoop, this.#pumpDone, this.#zap?.close()]);
      this.#outbox.clear();
      this.#peers.clear();
      this.#resolveClosed(error);
    }
  }

  /**
   * Ends the socket's monitor once libzmq is done with it. libzmq keeps a closed socket (and its
   * monitor) alive for up to `linger` ms, and sends each event with a blocking send from its I/O
   * thread: an observer closed while the socket can still report would block that thread, and
   * with it every socket of the context, forever. So the monitor is read until libzmq's last
   * event ("end", after which zeromq.js closes the observer). That event is occasionally
   * dropped (the monitor socket lingers 0), and an observer left open keeps the Node.js event
   * loop alive, so after linger plus a grace period the observer is closed anyway.
   */
  #retireMonitor(): void {
    const events = this.#events;
    if (events === undefined) return;
    const retired = this.#watchDone.then(() => retireObserver(events));
    if (this.#linger < 0) return; // libzmq may hold the socket forever; so must we.
    const timer = setTimeout(() => {
      if (!events.closed) events.close();
    }, this.#linger + MONITOR_END_GRACE_MS);
    timer.unref();
    void retired.then(() => clearTimeout(timer));
  }

  /** Waits for the outbox to drain into libzmq, for at most `linger` ms (forever if negative). */
  async #flush(): Promise<void> {
    if (!this.#pumping || this.#linger === 0) return;
    if (this.#linger < 0) {
      await this.#pumpDone;
      return;
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const expired = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.#linger);
    });
    try {
      await Promise.race([this.#pumpDone, expired]);
    } finally {
      clearTimeout(timer);
    }
  }
}

/**
 * Creates a transport of the given kind on a new zeromq.js socket with the options set, binds
 * every `bind` endpoint (in order) and connects every `connect` endpoint. Resolves once all binds
 * completed. If a bind fails the socket is closed and the promise rejects with a `TransportError`
 * of code `"bind"` whose message names the endpoint; an invalid connect endpoint rejects with
 * code `"connect"`. Invalid options throw a `TypeError` or `RangeError`.
 *
 * The transport holds the Node.js event loop open (like a listening server) until it is closed.
 */
export async function createZeromqTransport(
  kind: TransportKind,
  options: ZeromqTransportOptions = {},
): Promise<ZeromqTransport> {
  const resolved = resolveOptions(kind, options);
  // A CURVE server with an allow-list or an authorize hook gets a context of its own for its ZAP handler, so it never
  // meets another ZAP handler of the process (there is one endpoint per context).
  const context = needsZap(resolved.curveServer) ? new Context() : undefined;
  const transport = new ZeromqSocketTransport(kind, resolved, context);
  return await openSocketTransport(transport, resolved, () => transport.init());
}

const shorthands = socketShorthands(createZeromqTransport);

/**
 * A ROUTER transport (the server side of request/reply) bound to `endpoint`(s).
 * Shorthand for `createZeromqTransport("router", { ...options, bind: endpoint })`.
 */
export const bindRouter: SocketShorthands<ZeromqTransportOptions, ZeromqTransport>["bindRouter"] = shorthands.bindRouter;

/**
 * A DEALER transport (the client side of request/reply) connected to `endpoint`(s).
 * Shorthand for `createZeromqTransport("dealer", { ...options, connect: endpoint })`.
 */
export const connectDealer: SocketShorthands<ZeromqTransportOptions, ZeromqTransport>["connectDealer"] = shorthands.connectDealer;
