import { ZrpcExtensions, createMultiplexer } from "@zrpc/channel";
import type { Channel, Clock, Multiplexer, Transport } from "@zrpc/channel";
import { ZrpcError } from "@zrpc/wire";
import { collectCall } from "./call-engine.js";
import { CallCore, CallResultImpl } from "./call-result.js";
import type { CallHost, CallResult, OpenExtras } from "./call.js";
import { appendCallSiteNow, captureCallSite } from "./errors.js";
import { outgoingHeader } from "./middleware.js";
import type { ClientMiddleware, ClientRequest } from "./middleware.js";
import { ConnectionWait } from "./connection-wait.js";
import { DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_TIMEOUT_MS } from "./options.js";
import type { CallOptions, ClientOptions } from "./options.js";
import type { CallValue, ClientProxy, MethodArgs, MethodName, StreamValue, TypedCallRest, UnknownMethodName } from "./typed.js";

/**
 * A zerorpc client: calls methods of one server over one DEALER-style transport. Many calls run
 * at once on it, each in its own channel (docs/protocol section 5).
 *
 * Give it a service type (`createClient<MyService>(...)`, `connect<MyService>(...)`) to check
 * method names, arguments and results at compile time; see {@link ClientProxy}.
 */
export interface Client<TService = unknown> extends AsyncDisposable {
  /**
   * Calls a method of `TService` and resolves with its result (typed overload; see the untyped
   * one for the behaviour).
   */
  call<TName extends MethodName<TService>>(
    method: TName,
    ...rest: TypedCallRest<MethodArgs<TService, TName>>
  ): Promise<CallValue<TService, TName>>;
  /**
   * Calls `method(...args)` and resolves with the value of the `OK` reply.
   *
   * - `ERR` rejects with a `RemoteError` (or what an `onRemoteError` middleware returns);
   * - a streamed reply (`STREAM`... `STREAM_DONE`) resolves with the array of all items;
   * - no first reply within the timeout rejects with `TimeoutExpired`, an aborted signal with
   *   `CanceledError`, a server that stopped heartbeating with `LostRemote`, a malformed or
   *   unknown reply with `ProtocolError`, a closed client with a `ZrpcError` of code `"closed"`.
   *
   * With a service type, this overload takes only the names of zerorpc's introspection methods
   * (`_zerorpc_*`, also with an explicit result type: `call<string[]>("_zerorpc_list")`); a name
   * the service does not declare fails to compile. `untyped(client)` returns the same client
   * without its service type, for names the type does not know. Without a service type any name
   * is accepted (`call<number>("x")` sets the result type).
   */
  call<T = unknown, TName extends string = string>(
    method: TName & UnknownMethodName<TService, TName>,
    args?: readonly unknown[],
    options?: CallOptions,
  ): Promise<T>;

  /** Streams a method of `TService` (typed overload; see the untyped one). */
  stream<TName extends MethodName<TService>>(
    method: TName,
    ...rest: TypedCallRest<MethodArgs<TService, TName>>
  ): AsyncIterable<StreamValue<TService, TName>>;
  /**
   * Calls a streaming method and yields each `STREAM` item; `STREAM_DONE` ends the iteration and
   * `ERR` makes it throw a `RemoteError`. An `OK` reply yields its single value once.
   *
   * The request is sent on the first `next()` (the first turn of `for await`), and each iteration
   * of the returned iterable is a new call. Credit (`_zpc_more`) is granted as items are taken, so
   * a slow consumer slows the server down. Leaving `for await` early (`break`, `return`, `throw`)
   * closes the call: no more credit and no more heartbeats go out, and the server gives up on it
   * when it notices the missing heartbeats. The timeout bounds only the first reply.
   *
   * Names are checked as for `call`: with a service type, only its methods (typed overload) and
   * `_zerorpc_*` are accepted.
   */
  stream<T = unknown, TName extends string = string>(
    method: TName & UnknownMethodName<TService, TName>,
    args?: readonly unknown[],
    options?: CallOptions,
  ): AsyncIterable<T>;

  /** Sends a method of `TService` now (typed overload: the arguments are checked; see the untyped one). */
  invoke<TName extends MethodName<TService>>(method: TName, ...rest: TypedCallRest<MethodArgs<TService, TName>>): CallResult;
  /**
   * Sends `method(...args)` now and returns a {@link CallResult}: await it for the value (an array
   * of items if the server streams), or iterate it for the items (the `OK` value once). What the
   * proxy calls.
   *
   * With a service type, this overload takes only the introspection names (`_zerorpc_*`), as for
   * `call` and `stream`; `untyped(client)` lifts the check.
   */
  invoke<TName extends string = string>(method: TName & UnknownMethodName<TService, TName>, args?: readonly unknown[], options?: CallOptions): CallResult;

  /**
   * The remote methods as functions: `await client.proxy.hello("x")` is
   * `await client.invoke("hello", ["x"])`. Safe to `await` itself (it has no `then`).
   */
  readonly proxy: ClientProxy<TService>;

  /**
   * Closes the client: every pending call rejects with a `ZrpcError` of code `"closed"`, and the
   * transport is closed. Idempotent; resolves once the transport is closed.
   */
  close(): Promise<void>;
  /** Resolves (never rejects) once the client's transport is closed, with the error that closed it, if any. */
  readonly closed: Promise<Error | undefined>;
  /** True once `close()` was called or the transport ended. */
  readonly isClosed: boolean;
  /** Same as {@link Client.close}, for `await using client = ...`. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** Timers for call timeouts: not unref'ed, so a pending call keeps the process alive until it times out. */
const timeoutClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof globalThis.setTimeout>),
};

/**
 * Throws a `RangeError` unless `value` is `undefined` or a positive integer.
 * @internal
 */
export function checkMaxMessageBytes(value: number | undefined): void {
  if (value !== undefined && !(Number.isSafeInteger(value) && value >= 1)) {
    throw new RangeError(`maxMessageBytes must be a positive integer, got ${String(value)}`);
  }
}

/** `zrpc_caps` of a request from a client with the cancel extension. */
const CANCEL_CAPS: readonly string[] = Object.freeze([ZrpcExtensions.cancelCap]);

function defaultTimeout(value: number | null | undefined): number {
  if (value === undefined) return DEFAULT_TIMEOUT_MS;
  if (value === null) return 0;
  if (typeof value !== "number" || Number.isNaN(value)) throw new RangeError(`timeoutMs must be a number, got ${String(value)}`);
  return value > 0 ? value : 0;
}

/** `connectTimeoutMs` as a finite wait in ms, or 0 to wait forever. */
function connectTimeout(value: number | null | undefined): number {
  if (value === undefined) return DEFAULT_CONNECT_TIMEOUT_MS;
  if (value === null) return 0;
  if (typeof value !== "number" || Number.isNaN(value)) throw new RangeError(`connectTimeoutMs must be a number, got ${String(value)}`);
  return value > 0 && Number.isFinite(value) ? value : 0;
}

function hasKeys(record: Readonly<Record<string, unknown>>): boolean {
  for (const _ in record) return true;
  return false;
}

class ClientImpl implements CallHost, AsyncDisposable {
  readonly middleware: readonly ClientMiddleware[];
  readonly defaultTimeoutMs: number;
  readonly timerClock: Clock;
  readonly extensions: { readonly deadline: boolean; readonly cancel: boolean };
  /** The server announced the cancel extension on some call of this client. */
  serverCancels = false;
  readonly proxy: unknown;
  readonly #multiplexer: Multiplexer;
  /** Some middleware has an `around` hook: awaited calls go through CallCore's promise chain. */
  readonly #hasAround: boolean;
  #closing = false;
  #ended = false;
  /** Why the transport ended by itself (e.g. a refused CURVE key), for later calls' errors. */
  #endError: Error | undefined;
  /** The transport's connections, when it reports them. */
  readonly #connections: ConnectionWait | undefined;
  /** Calls wait for a connection (a finite connectTimeoutMs and a transport that reports connections). */
  readonly #waitForConnection: boolean;

  constructor(options: ClientOptions) {
    const { transport } = options;
    if (transport === undefined || transport === null) throw new TypeError("createClient needs a transport");
    if ((transport as Partial<Transport>).kind === undefined && typeof (transport as { open?: unknown }).open === "function") {
      throw new TypeError(
        "createClient takes an opened transport, not a transport factory: use connect(endpoint, { transport: factory }) to open one from a factory",
      );
    }
    if (transport.kind !== "dealer") {
      throw new TypeError(`a client needs a dealer transport, got a ${transport.kind} transport`);
    }
    this.middleware = Object.freeze([...(options.middleware ?? [])]);
    this.#hasAround = this.middleware.some((middleware) => middleware.around !== undefined);
    this.defaultTimeoutMs = defaultTimeout(options.timeoutMs);
    this.timerClock = options.clock ?? timeoutClock;
    const extensions = options.extensions ?? false;
    this.extensions = {
      deadline: extensions === true || (Array.isArray(extensions) && extensions.includes("deadline")),
      cancel: extensions === true || (Array.isArray(extensions) && extensions.includes("cancel")),
    };
    const { maxMessageBytes } = options;
    checkMaxMessageBytes(maxMessageBytes);
    const connectTimeoutMs = connectTimeout(options.connectTimeoutMs);
    const connections =
      typeof transport.watchConnections === "function"
        ? new ConnectionWait(transport as Required<Pick<Transport, "watchConnections">>, connectTimeoutMs, this.timerClock)
        : undefined;
    this.#connections = connections;
    this.#waitForConnection = connections !== undefined && connectTimeoutMs > 0;
    const decode =
      maxMessageBytes === undefined || options.decode?.maxMessageBytes !== undefined
        ? options.decode
        : { ...options.decode, maxMessageBytes };
    this.#multiplexer = createMultiplexer(transport, {
      role: "client",
      ...(options.heartbeatMs !== undefined && { heartbeatMs: options.heartbeatMs }),
      ...(options.passiveHeartbeat !== undefined && { passiveHeartbeat: options.passiveHeartbeat }),
      ...(options.receiveBuffer !== undefined && { receiveBuffer: options.receiveBuffer }),
      ...(options.clock !== undefined && { clock: options.clock }),
      ...(decode !== undefined && { decode }),
      ...(options.encode !== undefined && { encode: options.encode }),
      ...(options.onProtocolError !== undefined && { onProtocolError: options.onProtocolError }),
      ...(options.onDrop !== undefined && { onDrop: options.onDrop }),
      ...(connections !== undefined && { peerName: () => connections.endpointNames }),
    });
    void this.#multiplexer.closed.then((error) => {
      this.#ended = true;
      this.#endError = error;
      connections?.close();
    });
    this.proxy = createProxy(this);
  }

  get closed(): Promise<Error | undefined> {
    return this.#multiplexer.closed;
  }

  endpointName(): string | undefined {
    return this.#connections?.endpointNames;
  }

  get isClosed(): boolean {
    return this.#closing || this.#ended;
  }

  open(request: ClientRequest, extras: OpenExtras = {}): Channel {
    if (this.isClosed) {
      const why = this.#closing ? undefined : this.#endError;
      throw new ZrpcError(
        "closed",
        `cannot call ${request.method}: the client is closed${why === undefined ? "" : ` (${why.message})`}`,
        why === undefined ? undefined : { cause: why },
      );
    }
    let header = hasKeys(request.header) ? outgoingHeader(request) : undefined;
    // docs/protocol/README.md, "zrpc extensions": after the task-context keys.
    if (extras.deadline !== undefined) header = { ...header, [ZrpcExtensions.deadlineKey]: extras.deadline };
    if (this.extensions.cancel) header = { ...header, [ZrpcExtensions.capsKey]: CANCEL_CAPS };
    const receiveBuffer = request.options.receiveBuffer;
    const channel =
      header === undefined && receiveBuffer === undefined
        ? this.#multiplexer.open(request.method, request.args)
        : this.#multiplexer.open(request.method, request.args, {
            ...(header !== undefined && { header }),
            ...(receiveBuffer !== undefined && { receiveBuffer }),
          });
    // No connection yet (or any more): the call waits connectTimeoutMs for one, then fails with a ConnectError.
    if (this.#waitForConnection && !this.#connections!.connected) this.#connections!.wait(channel);
    return channel;
  }

  async call(method: string, args: readonly unknown[] = [], options: CallOptions = {}): Promise<unknown> {
    try {
      if (!this.#hasAround) {
        // One promise per call, callbacks for the rest.
        return await new Promise((resolve, reject) => collectCall({ host: this, method, args, options, site: undefined }, resolve, reject));
      }
      return await new CallCore({ host: this, method, args, options, site: undefined }).awaitResult();
    } catch (error) {
      // The call site is captured only now, on failure: resumed here, V8's async stack trace
      // still holds the caller's awaiting frames, so nothing is paid on success.
      throw appendCallSiteNow(error);
    }
  }

  stream(method: string, args: readonly unknown[] = [], options: CallOptions = {}): AsyncIterable<unknown> {
    // eslint-disable-next-line @typescript-eslint/unbound-method -- only its identity is used, to cut the stack there
    const site = captureCallSite(ClientImpl.prototype.stream);
    return {
      [Symbol.asyncIterator]: () => new CallCore({ host: this, method, args, options, site }).iterate(),
    };
  }

  invoke(method: string, args: readonly unknown[] = [], options: CallOptions = {}): CallResult {
    // eslint-disable-next-line @typescript-eslint/unbound-method -- only its identity is used, to cut the stack there
    return this.invokeFrom(method, args, options, captureCallSite(ClientImpl.prototype.invoke));
  }

  invokeFrom(method: string, args: readonly unknown[], options: CallOptions, site: ReturnType<typeof captureCallSite>): CallResult {
    const core = new CallCore({ host: this, method, args, options, site });
    core.start();
    return new CallResultImpl(core);
  }

  close(): Promise<void> {
    this.#closing = true;
    this.#connections?.close();
    return this.#multiplexer.close(new ZrpcError("closed", "the client was closed"));
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

function createProxy(client: ClientImpl): unknown {
  const target = Object.create(null) as object;
  return new Proxy(target, {
    get(_target, name) {
      // Not thenable (so `await client.proxy` is safe), and no symbol-keyed protocol either.
      if (typeof name !== "string" || name === "then") return undefined;
      const method = (...args: unknown[]): CallResult => client.invokeFrom(name, args, {}, captureCallSite(method));
      return method;
    },
  });
}

/**
 * Creates a client over `options.transport`, an opened DEALER transport (the seam for tests and
 * for transports you open yourself). The client owns the transport and closes it in `close()`.
 *
 * It takes an opened `Transport`, not a `TransportFactory`, because it is synchronous: a factory
 * opens its socket asynchronously and may fail doing so. To open the socket from a factory
 * (`zmtp()`, `zeromq()`, your own), use `connect(endpoint, { transport: factory })`, which calls
 * the factory and then this function.
 *
 * Defaults (zerorpc-python's): heartbeat 5 s, active; first-reply timeout 30 s; receive buffer
 * 100. Throws a `TypeError` when the transport is not a dealer, or is a factory.
 */
export function createClient<TService = unknown>(options: ClientOptions): Client<TService> {
  return new ClientImpl(options) as unknown as Client<TService>;
}

/**
 * The same client without its service type: `call`, `stream`, `invoke` and `proxy` take any
 * method name and any arguments, and results are `unknown` (or the type argument given:
 * `untyped(client).call<number>("debug_count")`). For the rare call a typed client's service type
 * does not describe (a method added on the server but not yet in the type, a name chosen at run
 * time); the typed client itself rejects such names at compile time. Returns its argument.
 */
export function untyped<TService>(client: Client<TService>): Client {
  return client as unknown as Client;
}
