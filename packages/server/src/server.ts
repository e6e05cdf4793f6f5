// The zerorpc server: serves a method table over any number of transports.
import {
  DEFAULT_HEARTBEAT_MS,
  DEFAULT_MAX_CHANNELS_PER_PEER,
  checkCurveServerOptions,
  createMultiplexer,
  systemClock,
  transportFactoryOption,
} from "@zrpc/channel";
import type { Channel, Clock, CurveServerOptions, Multiplexer, OpenedTransport, Peer, Transport, TransportFactory } from "@zrpc/channel";
import { zmtp } from "@zrpc/transport-zmtp";
import { ZrpcError, messageIdToString } from "@zrpc/wire";
import type { DecodeOptions, EncodeOptions, Event } from "@zrpc/wire";
import { AuthFailureLog } from "./auth-log.js";
import { ShutdownError } from "./errors.js";
import { createIntrospection } from "./introspection.js";
import type { MethodTypesTable } from "./method-types.js";
import { pythonExceptionRepr } from "./python.js";
import { RateLimitedLogger } from "./logger.js";
import type { Logger } from "./logger.js";
import type { ServerMiddleware } from "./middleware.js";
import { middlewareHooks } from "./dispatcher.js";
import type { Dispatcher } from "./dispatcher.js";
import { ServerCall } from "./server-call.js";
import { createMethodTable } from "./service.js";
import type { Service, ServiceMethodsOptions } from "./service.js";

/** Default of {@link ServerOptions.closeGraceMs}: 10 s. */
export const DEFAULT_CLOSE_GRACE_MS = 10_000;
/** Default of {@link ServerOptions.logRateLimit}: 10 messages per second. */
export const DEFAULT_LOG_RATE_LIMIT = 10;

/** The zrpc wire extensions a server can honour (docs/protocol/README.md, "zrpc extensions"). */
export type ServerExtension = "deadline" | "cancel";

/** Options of {@link createServer}. */
export interface ServerOptions {
  /**
   * The service name returned by `_zerorpc_name`, `_zerorpc_ping` and `_zerorpc_inspect`.
   * Default: the class name of an object service (like zerorpc-python), else `"zrpc"`.
   */
  readonly name?: string;
  /**
   * Heartbeat interval in ms (docs/protocol section 7). Default 5000, zerorpc-python's default;
   * `null` or `0` turns heartbeats and lost-client detection off. Use the same value as the
   * clients: each side judges the other by its own interval.
   */
  readonly heartbeatMs?: number | null;
  /** Middleware, run in this order (see {@link ServerMiddleware}). */
  readonly middleware?: readonly ServerMiddleware[];
  /** How long `close()` lets calls in flight finish before canceling them. Default 10 000 ms. */
  readonly closeGraceMs?: number;
  /**
   * Send the JavaScript stack as the traceback of `ERR` replies. Default true (zerorpc-python
   * sends its tracebacks); turn it off to keep internals private (the traceback is then `""`).
   */
  readonly tracebacks?: boolean;
  /**
   * Most calls run at once (zerorpc-python's `pool_size`); further requests wait, first come first
   * served, while their channels keep heartbeating. Default: unbounded.
   */
  readonly maxConcurrentCalls?: number;
  /** Decoder limits for incoming events (see `@zrpc/wire`'s `DecodeOptions`). */
  readonly decode?: DecodeOptions;
  /**
   * Largest incoming message in bytes, enforced twice: by the decoder (`decode.maxMessageBytes`,
   * unless `decode` sets it) and by the sockets that `bind()`/`connect()` open
   * (`maxMessageSize`, unless the transport factory's options set it: the transport then drops
   * the connection of a peer that sends a bigger frame). Default: the decoder's 100 MiB and the transport's 100 MiB + 1 KiB.
   */
  readonly maxMessageBytes?: number;
  /**
   * Most calls one client (one peer of a transport) may have open at once, waiting ones included.
   * A request beyond it is answered at once with `ERR LimitExceeded` (the handler does not run,
   * no middleware hook sees it) and a rate-limited warning is logged. Default 10 000;
   * `0` means no limit.
   */
  readonly maxChannelsPerPeer?: number;
  /**
   * Which zrpc wire extensions to honour for clients that use them (zerorpc-python clients never
   * do): `"deadline"` drops requests whose `zrpc_deadline` has passed on arrival and aborts calls
   * whose deadline passes before their first reply (outcome `timed-out`); `"cancel"` lets a client
   * stop a call with `_zrpc_cancel` (outcome `canceled`) and announces that in `zrpc_caps`.
   * Default `true` (both); `false` for none. See docs/protocol/README.md, "zrpc extensions".
   */
  readonly extensions?: boolean | readonly ServerExtension[];
  /** Encoder options for replies (see `@zrpc/wire`'s `EncodeOptions`). */
  readonly encode?: EncodeOptions;
  /**
   * Where diagnostics go: undecodable messages, middleware hooks that threw, replies that could
   * not be sent. Default {@link processWarningLogger} (`process.emitWarning`); `null` for none.
   */
  readonly logger?: Logger | null;
  /** At most this many log messages per second reach the logger (default 10); the rest are counted. */
  readonly logRateLimit?: number;
  /** Time source for heartbeats, the close grace period and log rate limiting (for tests). */
  readonly clock?: Clock;
  /**
   * Run each call inside an `AsyncLocalStorage` context so that {@link getCallContext} works from
   * any depth. Default true; turn it off to save its (small) cost per call.
   */
  readonly asyncContext?: boolean;
  /** Stream flags, docs and argument specs for the methods of an object service. */
  readonly methods?: ServiceMethodsOptions;
  /**
   * TypeScript type texts of methods by name (`{ add: { args: ["number", "number"], result: "number" } }`),
   * sent in the `zrpc_types` key of the `_zerorpc_inspect` reply so that `zrpc types` can write a
   * typed interface. Methods without an entry are described with `unknown` types.
   */
  readonly types?: MethodTypesTable;
}

/**
 * The socket of {@link Server.bind} and {@link Server.connect}: which transport opens the ROUTER,
 * and its CURVE security.
 */
export interface ServerTransportOptions {
  /**
   * The factory that opens the ROUTER socket: `zmtp(options)` from `@zrpc/transport-zmtp` (the
   * default, `zmtp()`: ZMTP 3.1 in TypeScript, no native addon), `zeromq(options)` from the
   * zeromq.js transport package (install it yourself: for libzmq, for instance), or your own.
   * Socket options (high-water marks, linger, ...) are the factory's. The factory's
   * `maxMessageSize` and `curve` win over the server's `maxMessageBytes` and this `curve`.
   */
  readonly transport?: TransportFactory;
  /**
   * CURVE encryption and client authentication (ZMTP-CURVE): `{ secretKey }` (this server's key
   * pair; clients connect with its public key as their `serverKey`), plus `allowedClientKeys`
   * and/or an `authorize({ publicKey, address })` hook to accept only known clients. Keys are 40
   * characters of Z85 or 32 bytes; a malformed one is a `TypeError` naming it. Every connection on
   * this socket is then encrypted and plaintext clients are refused. Handshakes that fail (a
   * refused key, a plaintext or wrong-key client) are logged through the server's `logger`, at
   * most 5 lines per 10 s plus a count of the rest, unless the factory has its own
   * `onAuthFailure`. Default: none (plaintext, as zerorpc-python).
   */
  readonly curve?: CurveServerOptions;
}

const SERVER_TRANSPORT_KEYS: ReadonlySet<string> = new Set(["transport", "curve"]);

/**
 * A zerorpc server. It answers requests on every transport it serves, runs calls concurrently,
 * and answers zerorpc's introspection methods.
 */
export interface Server extends AsyncDisposable {
  /** The service name. */
  readonly name: string;
  /** Calls accepted and not finished yet (running, or waiting for a `maxConcurrentCalls` slot). */
  readonly inFlight: number;
  /** True once `close()` was called. */
  readonly isClosing: boolean;
  /** Resolves (never rejects) once `close()` has finished. */
  readonly closed: Promise<void>;
  /**
   * Serves requests arriving on `transport` (a ROUTER-style transport: ZeroMQ, in-memory, or your
   * own). Any number of transports may be served; the server owns them and closes them in
   * `close()`. Throws a `ZrpcError` (`"closed"`) once the server is closing.
   */
  serve(transport: Transport): void;
  /**
   * Binds a ROUTER socket to `endpoint`(s) (`tcp://127.0.0.1:4242`, `tcp://*:0`, `tcp://[::1]:0`,
   * `ipc://...`) and serves it; the socket is opened by `options.transport` (default `zmtp()`, see
   * {@link ServerTransportOptions}). Resolves with the bound endpoints (with the actual port for a
   * wildcard one). A `TypeError` for a transport name instead of a factory, or any other key.
   */
  bind(endpoint: string | readonly string[], options?: ServerTransportOptions): Promise<string[]>;
  /**
   * Connects a ROUTER socket to `endpoint`(s) and serves it; zerorpc allows the server to be the
   * connecting side. Resolves once the socket is set up (it connects in the background).
   */
  connect(endpoint: string | readonly string[], options?: ServerTransportOptions): Promise<void>;
  /**
   * Stops the server: new requests are dropped at once (no reply; their clients time out), calls
   * in flight get `graceMs` (default {@link ServerOptions.closeGraceMs}) to finish and reply, then
   * the rest are canceled (their `signal` aborts with a `ShutdownError`, their outcome is
   * `shutdown`, nothing more is sent for them) and the transports are closed. Idempotent: later
   * calls return the same promise.
   */
  close(graceMs?: number): Promise<void>;
}

/** A first-come-first-served queue of calls waiting for a concurrency slot. */
class SlotQueue {
  private readonly limit: number;
  private running = 0;
  private readonly waiting: ServerCall[] = [];
  private head = 0;

  constructor(limit: number) {
    this.limit = limit;
  }

  enter(call: ServerCall): void {
    if (this.running < this.limit) this.admit(call);
    else this.waiting.push(call);
  }

  leave(call: ServerCall): void {
    if (!call.holdsSlot) return;
    call.holdsSlot = false;
    this.running -= 1;
    while (this.running < this.limit && this.head < this.waiting.length) {
      const next = this.waiting[this.head]!;
      this.waiting[this.head] = undefined as unknown as ServerCall;
      this.head += 1;
      // A call whose client was lost while it waited has settled already: skip it.
      if (!next.isSettled) this.admit(next);
    }
    if (this.head === this.waiting.length) {
      this.waiting.length = 0;
      this.head = 0;
    }
  }

  private admit(call: ServerCall): void {
    this.running += 1;
    call.holdsSlot = true;
    call.start();
  }
}

class ZrpcServer implements Server {
  readonly name: string;
  private readonly dispatcher: Dispatcher<ServerCall>;
  private readonly options: ServerOptions;
  private readonly clock: Clock;
  private readonly log: RateLimitedLogger;
  private readonly authLog: AuthFailureLog;
  private readonly multiplexers = new Set<Multiplexer>();
  private readonly calls = new Set<ServerCall>();
  private readonly hooks = new Set<Promise<void>>();
  private readonly slots: SlotQueue | undefined;
  private idle: (() => void) | undefined;
  private closing: Promise<void> | undefined;
  private resolveClosed!: () => void;
  readonly closed: Promise<void>;

  constructor(service: Service, options: ServerOptions) {
    this.options = options;
    this.clock = options.clock ?? systemClock;
    const rate = options.logRateLimit ?? DEFAULT_LOG_RATE_LIMIT;
    if (!(rate > 0)) throw new RangeError(`logRateLimit must be a positive number, got ${rate}`);
    this.log = new RateLimitedLogger(options.logger, rate, this.clock);
    this.authLog = new AuthFailureLog((message) => this.log.warn(message), this.clock);
    const limit = options.maxConcurrentCalls;
    if (limit !== undefined && !(Number.isInteger(limit) && limit >= 1)) {
      throw new RangeError(`maxConcurrentCalls must be an integer >= 1, got ${limit}`);
    }
    this.slots = limit === undefined ? undefined : new SlotQueue(limit);
    const grace = options.closeGraceMs;
    if (grace !== undefined && !(grace >= 0)) throw new RangeError(`closeGraceMs must be >= 0, got ${grace}`);
    const table = createMethodTable(service, options.methods);
    this.name = options.name ?? table.defaultName;
    const builtins = createIntrospection(table, () => this.name, options.types);
    const middleware = [...(options.middleware ?? [])];
    const maxBytes = options.maxMessageBytes;
    if (maxBytes !== undefined && !(Number.isSafeInteger(maxBytes) && maxBytes >= 1)) {
      throw new RangeError(`maxMessageBytes must be a positive integer, got ${maxBytes}`);
    }
    const perPeer = options.maxChannelsPerPeer;
    if (perPeer !== undefined && !(perPeer >= 0)) throw new RangeError(`maxChannelsPerPeer must be >= 0, got ${perPeer}`);
    const extensions = options.extensions ?? true;
    this.dispatcher = {
      serverName: this.name,
      middleware,
      hooks: middlewareHooks(middleware),
      tracebacks: options.tracebacks ?? true,
      asyncContext: options.asyncContext ?? true,
      log: this.log,
      clock: this.clock,
      extensions: {
        deadline: extensions === true || (Array.isArray(extensions) && extensions.includes("deadline")),
        cancel: extensions === true || (Array.isArray(extensions) && extensions.includes("cancel")),
      },
      lookup: (method) => {
        const builtin = builtins.get(method);
        if (builtin !== undefined) return { spec: builtin, introspection: true, thisArg: undefined };
        const spec = table.get(method);
        return spec === undefined ? undefined : { spec, introspection: false, thisArg: table.thisArg };
      },
      settled: (call) => this.callSettled(call),
      track: (hooks) => {
        this.hooks.add(hooks);
        void hooks.finally(() => this.hooks.delete(hooks));
      },
    };
    this.closed = new Promise((resolve) => {
      this.resolveClosed = resolve;
    });
  }

  get inFlight(): number {
    return this.calls.size;
  }

  get isClosing(): boolean {
    return this.closing !== undefined;
  }

  serve(transport: Transport): void {
    if (this.closing !== undefined) throw new ZrpcError("closed", "the server is closed");
    if (transport.kind !== "router" && transport.kind !== "dealer") {
      throw new TypeError(`a server needs a router (or dealer) transport, got ${transport.kind}`);
    }
    const heartbeatMs = this.options.heartbeatMs === undefined ? DEFAULT_HEARTBEAT_MS : this.options.heartbeatMs;
    const { maxMessageBytes } = this.options;
    const decode: DecodeOptions | undefined =
      maxMessageBytes === undefined || this.options.decode?.maxMessageBytes !== undefined
        ? this.options.decode
        : { ...this.options.decode, maxMessageBytes };
    const maxChannelsPerPeer = this.options.maxChannelsPerPeer ?? DEFAULT_MAX_CHANNELS_PER_PEER;
    const multiplexer = createMultiplexer(transport, {
      role: "server",
      heartbeatMs,
      clock: this.clock,
      maxChannelsPerPeer,
      ...(decode === undefined ? {} : { decode }),
      ...(this.options.encode === undefined ? {} : { encode: this.options.encode }),
      onRequest: (channel, request) => this.accept(channel, request),
      onChannelLimit: (request, peer, answer) => this.refuse(request, peer, answer, maxChannelsPerPeer),
      onProtocolError: (error, peer) => {
        this.log.warn(`zrpc server: dropped an undecodable message from peer ${peer.key || "(dealer)"}: ${error.message}`);
      },
      onDrop: (event, peer, reason) => {
        const id = event.header.message_id;
        const text = `zrpc server: dropped ${event.name} from peer ${peer.key || "(dealer)"} (${reason}${id === undefined ? "" : `, id ${messageIdToString(id)}`})`;
        if (reason === "duplicate-id") this.log.warn(text);
        else this.log.debug(text);
      },
    });
    this.multiplexers.add(multiplexer);
    void multiplexer.closed.then((error) => {
      this.multiplexers.delete(multiplexer);
      if (error !== undefined && this.closing === undefined) this.log.warn("zrpc server: a transport failed", error);
    });
  }

  async bind(endpoint: string | readonly string[], options: ServerTransportOptions = {}): Promise<string[]> {
    const transport = await this.openTransport("bind", endpoint, options);
    return [...transport.endpoints];
  }

  async connect(endpoint: string | readonly string[], options: ServerTransportOptions = {}): Promise<void> {
    await this.openTransport("connect", endpoint, options);
  }

  private async openTransport(
    how: "bind" | "connect",
    endpoint: string | readonly string[],
    options: ServerTransportOptions,
  ): Promise<OpenedTransport> {
    const what = `server.${how}()`;
    const factory = transportFactoryOption(options, what, SERVER_TRANSPORT_KEYS) ?? zmtp();
    const curve = options.curve === undefined ? undefined : checkCurveServerOptions(options.curve, what);
    if (this.closing !== undefined) throw new ZrpcError("closed", "the server is closed");
    const { maxMessageBytes } = this.options;
    const transport = await factory.open("router", how, endpoint, {
      ...(maxMessageBytes !== undefined && { maxMessageSize: maxMessageBytes }),
      ...(curve !== undefined && { curve }),
      onAuthFailure: (failure) => this.authLog.report(failure),
    });
    if (this.closing !== undefined) {
      // close() ran while the socket was being set up.
      await transport.close();
      throw new ZrpcError("closed", `the server was closed while ${how === "bind" ? "binding" : "connecting"}`);
    }
    this.serve(transport);
    return transport;
  }

  /** A client is over `maxChannelsPerPeer`: answer ERR LimitExceeded without running anything. */
  private refuse(request: Event, peer: Peer, answer: (name: string, args: unknown) => void, limit: number): void {
    const message = `too many calls in progress from this client (maxChannelsPerPeer is ${limit})`;
    this.log.warn(`zrpc server: refused ${request.name} from peer ${peer.key || "(dealer)"}: ${message}`);
    if (this.closing !== undefined) return;
    // docs/protocol §4.1: a request without v (or v < 2) is protocol v1 and gets ERR [repr].
    const v = request.header.v;
    const v1 = typeof v !== "number" || v < 2;
    answer("ERR", v1 ? [pythonExceptionRepr("LimitExceeded", message)] : ["LimitExceeded", message, ""]);
  }

  /** A request opened a channel (called by a multiplexer, synchronously: must not throw). */
  private accept(channel: Channel, request: Event): void {
    try {
      if (this.closing !== undefined) {
        // Closing: new requests get no reply (their clients time out), as if we were gone.
        channel.close();
        this.log.debug(`zrpc server: closing, dropped a request for ${request.name}`);
        return;
      }
      const call = new ServerCall(this.dispatcher, channel, request);
      if (call.isSettled) return;
      if (call.armDeadline()) {
        this.log.debug(`zrpc server: dropped a request for ${request.name}: its deadline had passed on arrival`);
        return;
      }
      this.calls.add(call);
      if (this.slots === undefined) {
        call.holdsSlot = true;
        call.start();
      } else {
        this.slots.enter(call);
      }
    } catch (error) {
      channel.close();
      this.log.warn(`zrpc server: could not start a call of ${request.name}`, error);
    }
  }

  private callSettled(call: ServerCall): void {
    this.calls.delete(call);
    if (this.slots === undefined) call.holdsSlot = false;
    else this.slots.leave(call);
    if (this.calls.size === 0) this.idle?.();
  }

  close(graceMs?: number): Promise<void> {
    this.closing ??= this.shutdown(graceMs ?? this.options.closeGraceMs ?? DEFAULT_CLOSE_GRACE_MS);
    return this.closing;
  }

  private async shutdown(graceMs: number): Promise<void> {
    try {
      await this.within(graceMs, new Promise<void>((resolve) => {
        if (this.calls.size === 0) resolve();
        else this.idle = resolve;
      }));
      const reason = new ShutdownError("server closed before the call finished");
      const remaining = [...this.calls];
      // Waiting calls first: canceling a running one frees its slot, which must not start them.
      for (const call of remaining) if (!call.holdsSlot) call.shutdown(reason);
      for (const call of remaining) call.shutdown(reason);
      await Promise.all(
        [...this.multiplexers].map(async (multiplexer) => {
          try {
            await multiplexer.close(reason);
          } catch (error) {
            this.log.warn("zrpc server: closing a transport failed", error);
          }
        }),
      );
      // onEnd hooks of the last calls (e.g. releasing database connections) get one more grace period.
      if (this.hooks.size > 0) await this.within(graceMs, Promise.allSettled([...this.hooks]).then(() => undefined));
    } finally {
      this.authLog.close();
      this.resolveClosed();
    }
  }

  /** Resolves when `promise` does or after `ms` on the server's clock, whichever is first. */
  private within(ms: number, promise: Promise<void>): Promise<void> {
    if (ms <= 0) return Promise.race([promise, Promise.resolve()]);
    return new Promise<void>((resolve) => {
      const timer = this.clock.setTimeout(resolve, ms);
      void promise.then(() => {
        this.clock.clearTimeout(timer);
        resolve();
      });
    });
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/**
 * Creates a server for `service`: a {@link Registry} (from `createRegistry()`, or the default
 * `registry`), or an object whose own and inherited methods are the service (names not starting
 * with `_`, sorted alphabetically like a Python class-based service, called with `this` bound to
 * the object; generator methods stream). Serve it with `bind()`, `connect()` or `serve(transport)`.
 */
export function createServer(service: Service, options: ServerOptions = {}): Server {
  return new ZrpcServer(service, options);
}
