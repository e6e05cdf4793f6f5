// The pool: a bounded set of clients, one per connection, each connected to exactly one server.
// Idle connections are reused last-in first-out; callers wait first-in first-out; broken
// connections are closed; failing endpoints are ejected with exponential backoff and probed back.
import { CanceledError, connect as connectClient, isRetryable } from "@zrpc/client";
import type { CallValue, Client, ClientProxy, Clock, ConnectOptions, MethodArgs, MethodName, StreamValue, UnknownMethodName } from "@zrpc/client";
import { ZrpcError } from "@zrpc/wire";
import { PoolCallResult } from "./call-result.js";
import { addressEndpoint, defaultLookup, namedEndpoint } from "./endpoints.js";
import type { NamedEndpoint } from "./endpoints.js";
import { PoolTimeoutError } from "./errors.js";
import { acquireTimeout, resolvePoolOptions } from "./options.js";
import type {
  AcquireOptions,
  ConnectFactory,
  EvictReason,
  Lookup,
  PoolCallOptions,
  PoolEvent,
  PoolOptions,
  ReleaseOptions,
  ResolvedPoolOptions,
} from "./options.js";

/** The arguments after the method name of a typed pooled `call`/`stream`. */
export type PoolCallRest<TArgs extends readonly unknown[]> = [] extends TArgs
  ? [args?: TArgs, options?: PoolCallOptions]
  : [args: TArgs, options?: PoolCallOptions];

/** Health of an endpoint: in rotation, ejected until a probe succeeds, or gone from DNS (draining). */
export type EndpointState = "healthy" | "ejected" | "removed";

/** Per-endpoint figures of {@link PoolMetrics}. */
export interface EndpointMetrics {
  /** The address connected to, e.g. `tcp://10.0.0.7:4242`. */
  readonly endpoint: string;
  /** The configured endpoints it comes from (a host name resolves to several addresses). */
  readonly sources: readonly string[];
  readonly state: EndpointState;
  /** Connections open to it (idle, in use and being opened). */
  readonly size: number;
  readonly idle: number;
  /** Connections handed out or being opened: what `"least-in-flight"` balances on. */
  readonly inFlight: number;
  /** Times it was ejected. */
  readonly ejections: number;
  /** Soft failures (timeouts, protocol errors) in a row. */
  readonly consecutiveFailures: number;
  /** While ejected: when the next probe runs (pool clock, ms), and the backoff that led to it. */
  readonly ejectedUntil?: number;
  readonly backoffMs?: number;
}

/** A snapshot of the pool, from {@link Pool.metrics}. Counters run from the pool's creation. */
export interface PoolMetrics {
  /** Connections open: idle + in use + being opened. Never above `max`. */
  readonly size: number;
  readonly idle: number;
  /** Connections handed out (to `acquire`, a call or a stream), including those being health-checked for a caller. */
  readonly inUse: number;
  /** Connections being opened. */
  readonly pending: number;
  /** Callers waiting for a connection. */
  readonly waiting: number;
  /** High-water marks of `size` and `inUse`. */
  readonly maxSize: number;
  readonly maxInUse: number;
  /** Connections opened. */
  readonly created: number;
  /**
   * Connections closed before the pool closed, except for idleness: they broke, failed a health
   * check, belonged to an ejected or removed endpoint, were released with `destroy`, or made room
   * for an endpoint below its fair share (see `EvictReason`).
   */
  readonly evictions: number;
  /** Connections closed for being idle longer than `idleTimeoutMs`. */
  readonly idleClosed: number;
  /** Acquires that failed with `PoolTimeoutError`. */
  readonly timeouts: number;
  /** Health-check pings before reuse, and how many failed. */
  readonly healthChecks: number;
  readonly healthCheckFailures: number;
  readonly endpoints: readonly EndpointMetrics[];
}

/**
 * A pool of zerorpc clients over one or more servers. Calls through the pool (`call`, `stream`,
 * `proxy`, `withClient`) take a connection, use it alone, and give it back; at most `max`
 * connections exist, so at most `max` calls run at once.
 */
export interface Pool<TService = unknown> extends AsyncDisposable {
  /**
   * Takes a connection: the most recently released idle one (LIFO; pinged first when it was idle
   * longer than `healthCheckAfterMs`), or a new one while fewer than `max` are open. Otherwise waits,
   * first come first served, and rejects with a `PoolTimeoutError` after `acquireTimeoutMs`, with a
   * `ZrpcError` of code `"canceled"` when `signal` aborts, or of code `"closed"` when the pool closes.
   *
   * The client is yours until {@link Pool.release}: run any number of calls on it, concurrently if
   * you like. Do not close it (that is `release(client, { destroy: true })`).
   */
  acquire(options?: AcquireOptions): Promise<Client<TService>>;
  /**
   * Gives a client back. Pass the error its last call failed with, if any (see
   * {@link ReleaseOptions.error}), or `destroy: true` to close it. Releasing a client twice, or one
   * of another pool, throws a `TypeError`; releasing one the pool closed at `close()` does nothing.
   */
  release(client: Client<TService>, options?: ReleaseOptions): void;
  /**
   * Acquires a client, runs `fn` with it and releases it when `fn` settles; an error thrown by
   * `fn` is judged as in {@link ReleaseOptions.error}. Do not let a stream escape `fn`: the
   * connection is back in the pool once `fn` returns.
   */
  withClient<T>(fn: (client: Client<TService>) => T | PromiseLike<T>, options?: AcquireOptions): Promise<T>;

  /** Calls a method of `TService` on a pooled connection (typed overload; see the untyped one). */
  call<TName extends MethodName<TService>>(
    method: TName,
    ...rest: PoolCallRest<MethodArgs<TService, TName>>
  ): Promise<CallValue<TService, TName>>;
  /**
   * Acquires a connection, runs `client.call(method, args, options)` on it and releases it: the
   * result and errors are the client's (`RemoteError`, `TimeoutExpired`, `LostRemote`, ...), plus
   * `PoolTimeoutError` when no connection came in time. `retries` repeats retryable failures.
   * `options.timeoutMs` bounds the first reply only; the wait for a connection is bounded by
   * `acquireTimeoutMs`, and `signal` stops both (`CanceledError`).
   */
  call<T = unknown, TName extends string = string>(
    method: TName & UnknownMethodName<TService, TName>,
    args?: readonly unknown[],
    options?: PoolCallOptions,
  ): Promise<T>;

  /** Streams a method of `TService` on a pooled connection (typed overload; see the untyped one). */
  stream<TName extends MethodName<TService>>(
    method: TName,
    ...rest: PoolCallRest<MethodArgs<TService, TName>>
  ): AsyncIterable<StreamValue<TService, TName>>;
  /**
   * `client.stream(method, args, options)` on a pooled connection. The connection is acquired on
   * the first `next()` and kept until the stream ends, fails, or is left (`break`, `return` or
   * `throw` in `for await`), then released. Each iteration of the returned iterable is a new call.
   */
  stream<T = unknown, TName extends string = string>(
    method: TName & UnknownMethodName<TService, TName>,
    args?: readonly unknown[],
    options?: PoolCallOptions,
  ): AsyncIterable<T>;

  /**
   * The remote methods as functions: `await pool.proxy.get_ticket(1)` is
   * `await pool.call("get_ticket", [1])`, and `for await (const x of pool.proxy.range(3))` is
   * `pool.stream("range", [3])`. Use the result in the same turn it was made (await it, pass it to
   * `Promise.all`, or start iterating): one left alone is then awaited by the pool, so that a
   * fire-and-forget call still runs, and can no longer be iterated. Safe to `await` itself.
   */
  readonly proxy: ClientProxy<TService>;

  /** Counters and gauges of the pool and each endpoint. */
  metrics(): PoolMetrics;

  /**
   * Closes the pool: waiting callers are rejected (`ZrpcError` `"closed"`), idle connections are
   * closed, connections in use get `graceMs` (default `closeGraceMs`, 10 s) to be released (every
   * pooled call releases its connection when it ends), then every connection is closed, which
   * fails calls still running with a `ZrpcError` `"closed"`. Idempotent.
   */
  close(graceMs?: number): Promise<void>;
  /** Resolves (never rejects) once `close()` has finished. */
  readonly closed: Promise<void>;
  /** True once `close()` was called. */
  readonly isClosed: boolean;
  /** `close()`, for `await using pool = createPool(...)`. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** The real clock, read at call time so that vitest's fake timers apply. */
const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof globalThis.setTimeout>),
};

/** The ping zerorpc servers (Python ones too) answer `["pong", name]` to (docs/protocol section 10). */
const PING = "_zerorpc_ping";

function noop(): void {}

class Endpoint {
  readonly address: string;
  readonly sources = new Set<string>();
  state: EndpointState = "healthy";
  /** Idle connections, oldest first; reuse pops the newest (LIFO). */
  readonly idle: Connection[] = [];
  /** Connections handed out or being health-checked. */
  busy = 0;
  /** Connections being opened. */
  pending = 0;
  softFailures = 0;
  /** Ejections in a row: the backoff exponent. */
  level = 0;
  ejections = 0;
  backoffMs = 0;
  ejectedUntil: number | undefined;
  recoveredAt: number | undefined;
  probeTimer: unknown;
  probeClient: Client | undefined;

  constructor(address: string) {
    this.address = address;
  }

  get inFlight(): number {
    return this.busy + this.pending;
  }

  get size(): number {
    return this.idle.length + this.busy + this.pending;
  }
}

class Connection {
  readonly client: Client;
  readonly endpoint: Endpoint;
  state: "idle" | "checking" | "busy" | "closed" = "busy";
  idleSince = 0;

  constructor(client: Client, endpoint: Endpoint) {
    this.client = client;
    this.endpoint = endpoint;
  }
}

/** A caller waiting for a connection (queued, or being served by a connect or a health check). */
interface Waiter {
  settled: boolean;
  queued: boolean;
  resolve(connection: Connection): void;
  reject(error: unknown): void;
}

/** A configured endpoint: a fixed address, or a host name resolved to addresses. */
interface Source {
  readonly text: string;
  readonly named: NamedEndpoint | undefined;
  addresses: readonly string[];
  failures: number;
  timer: unknown;
  lastError: unknown;
}

/** How a call's outcome reflects on its connection and endpoint. */
interface Verdict {
  readonly health: "success" | "soft" | "hard" | "neutral";
  readonly evict?: EvictReason;
}

const SUCCESS: Verdict = { health: "success" };
const NEUTRAL: Verdict = { health: "neutral" };

/**
 * What an error says about the server: a lost remote (no heartbeat) is a dead or stuck server and
 * its connection is unusable; a protocol error closes the connection too; a timeout may be a slow
 * call or a sick server (soft); `ERR` and cancellation prove nothing against the server.
 */
function judge(error: unknown): Verdict {
  if (error === undefined) return SUCCESS;
  if (!(error instanceof ZrpcError)) return NEUTRAL;
  // Not a switch: ZrpcErrorCode grows with the stack, and any code not listed proves nothing.
  const code = error.code;
  if (code === "lost-remote") return { health: "hard", evict: "lost-remote" };
  if (code === "protocol") return { health: "soft", evict: "protocol" };
  if (code === "timeout") return { health: "soft" };
  if (code === "closed") return { health: "neutral", evict: "closed" };
  if (code === "remote") return SUCCESS;
  return NEUTRAL;
}

/** A first-in first-out queue with a cheap `shift` and `unshift`. */
class Deque<T> {
  #items: (T | undefined)[] = [];
  #head = 0;

  get length(): number {
    return this.#items.length - this.#head;
  }

  push(item: T): void {
    this.#items.push(item);
  }

  unshift(item: T): void {
    if (this.#head > 0) this.#items[--this.#head] = item;
    else this.#items.unshift(item);
  }

  peek(): T | undefined {
    return this.#items[this.#head];
  }

  shift(): T | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head++] = undefined;
    if (this.#head === this.#items.length) {
      this.#items = [];
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }
}

function closedError(): ZrpcError {
  return new ZrpcError("closed", "the pool is closed");
}

/** @internal The implementation behind {@link createPool}; typed through {@link Pool}. */
export class PoolImpl implements AsyncDisposable {
  readonly proxy: unknown;
  readonly closed: Promise<void>;

  readonly #options: ResolvedPoolOptions;
  readonly #clientOptions: ConnectOptions;
  readonly #factory: ConnectFactory;
  readonly #lookup: Lookup;
  readonly #clock: Clock;
  readonly #onEvent: ((event: PoolEvent) => void) | undefined;

  readonly #endpoints = new Map<string, Endpoint>();
  readonly #sources: Source[] = [];
  readonly #connections = new Set<Connection>();
  readonly #byClient = new WeakMap<object, Connection>();
  readonly #queue = new Deque<Waiter>();
  readonly #waiters = new Set<Waiter>();
  /** Probes and connects in progress, awaited by close(). */
  readonly #tasks = new Set<Promise<unknown>>();
  /** Clients being closed, awaited by close(). */
  readonly #closing = new Set<Promise<unknown>>();

  #size = 0;
  #idle = 0;
  #busy = 0;
  #pending = 0;
  #waiting = 0;
  #maxSize = 0;
  #maxInUse = 0;
  #created = 0;
  #evictions = 0;
  #idleClosed = 0;
  #timeouts = 0;
  #healthChecks = 0;
  #healthCheckFailures = 0;

  #cursor = 0;
  #dispatching = false;
  #redispatch = false;
  #sweepTimer: unknown;
  #minRetryAt = 0;
  /** The last connect, probe or health-check error: the cause of a PoolTimeoutError when no endpoint is healthy. */
  #lastError: unknown;
  #isClosed = false;
  #closePromise: Promise<void> | undefined;
  #drained: (() => void) | undefined;
  #resolveClosed: () => void = noop;

  constructor(options: PoolOptions<unknown>) {
    this.#options = resolvePoolOptions(options);
    this.#clientOptions = this.#options.clientOptions;
    this.#factory = options.connect ?? connectClient;
    this.#lookup = options.lookup ?? defaultLookup;
    this.#clock = options.clock ?? realClock;
    this.#onEvent = options.onEvent;
    this.closed = new Promise<void>((resolve) => {
      this.#resolveClosed = resolve;
    });
    this.proxy = createProxy(this);
    for (const text of new Set(this.#options.endpoints)) {
      const source: Source = { text, named: namedEndpoint(text), addresses: [], failures: 0, timer: undefined, lastError: undefined };
      this.#sources.push(source);
      if (source.named === undefined) this.#applyAddresses(source, [text]);
    }
    for (const source of this.#sources) if (source.named !== undefined) this.#startResolve(source);
    this.#ensureMin();
  }

  get isClosed(): boolean {
    return this.#isClosed;
  }

  // ------------------------------------------------------------------ public API

  async acquire(options: AcquireOptions = {}): Promise<Client> {
    const connection = await this.#acquireConnection(options.signal, options.acquireTimeoutMs, (reason) => {
      return new ZrpcError("canceled", "acquiring a pooled connection was canceled", { cause: reason });
    });
    return connection.client;
  }

  release(client: Client, options: ReleaseOptions = {}): void {
    const connection = typeof client === "object" && client !== null ? this.#byClient.get(client) : undefined;
    if (connection === undefined) throw new TypeError("release(): this client does not belong to this pool");
    if (connection.state === "closed") return;
    if (connection.state !== "busy") throw new TypeError("release(): this client is not checked out (released twice?)");
    this.#takeBack(connection, options.error, options.destroy === true);
  }

  async withClient<T>(fn: (client: Client) => T | PromiseLike<T>, options: AcquireOptions = {}): Promise<T> {
    const client = await this.acquire(options);
    let result: T;
    try {
      result = await fn(client);
    } catch (error) {
      this.release(client, { error });
      throw error;
    }
    this.release(client);
    return result;
  }

  async call(method: string, args: readonly unknown[] = [], options: PoolCallOptions = {}): Promise<unknown> {
    for (let attempt = 0; ; attempt++) {
      const connection = await this.#acquireConnection(options.signal, options.acquireTimeoutMs, (reason) => {
        return new CanceledError(method, { cause: reason });
      });
      let value: unknown;
      try {
        value = await connection.client.call(method, args, options);
      } catch (error) {
        this.#takeBack(connection, error, false);
        if (this.#shouldRetry(error, attempt, options)) continue;
        throw error;
      }
      this.#takeBack(connection, undefined, false);
      return value;
    }
  }

  stream(method: string, args: readonly unknown[] = [], options: PoolCallOptions = {}): AsyncIterable<unknown> {
    return { [Symbol.asyncIterator]: () => this.#streamItems(method, args, options) };
  }

  metrics(): PoolMetrics {
    const endpoints: EndpointMetrics[] = [];
    for (const endpoint of this.#endpoints.values()) {
      endpoints.push({
        endpoint: endpoint.address,
        sources: [...endpoint.sources],
        state: endpoint.state,
        size: endpoint.size,
        idle: endpoint.idle.length,
        inFlight: endpoint.inFlight,
        ejections: endpoint.ejections,
        consecutiveFailures: endpoint.softFailures,
        ...(endpoint.state === "ejected" && { ejectedUntil: endpoint.ejectedUntil, backoffMs: endpoint.backoffMs }),
      });
    }
    return {
      size: this.#size,
      idle: this.#idle,
      inUse: this.#busy,
      pending: this.#pending,
      waiting: this.#waiting,
      maxSize: this.#maxSize,
      maxInUse: this.#maxInUse,
      created: this.#created,
      evictions: this.#evictions,
      idleClosed: this.#idleClosed,
      timeouts: this.#timeouts,
      healthChecks: this.#healthChecks,
      healthCheckFailures: this.#healthCheckFailures,
      endpoints,
    };
  }

  close(graceMs?: number): Promise<void> {
    if (this.#closePromise !== undefined) return this.#closePromise;
    const grace = graceMs === undefined ? this.#options.closeGraceMs : Math.max(0, Number(graceMs) || 0);
    this.#isClosed = true;
    this.#clearTimer(this.#sweepTimer);
    this.#sweepTimer = undefined;
    for (const source of this.#sources) {
      this.#clearTimer(source.timer);
      source.timer = undefined;
    }
    for (const endpoint of this.#endpoints.values()) {
      this.#clearTimer(endpoint.probeTimer);
      endpoint.probeTimer = undefined;
      if (endpoint.probeClient !== undefined) this.#closeClient(endpoint.probeClient);
      this.#closeIdle(endpoint, undefined);
    }
    for (const waiter of [...this.#waiters]) waiter.reject(closedError());
    this.#closePromise = this.#finishClose(grace);
    return this.#closePromise;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  // ------------------------------------------------------------------ pooled calls

  #shouldRetry(error: unknown, attempt: number, options: PoolCallOptions): boolean {
    return (
      attempt < this.#options.retries &&
      !this.#isClosed &&
      options.signal?.aborted !== true &&
      !PoolTimeoutError.isInstance(error) &&
      isRetryable(error)
    );
  }

  async *#streamItems(method: string, args: readonly unknown[], options: PoolCallOptions): AsyncGenerator<unknown, void, undefined> {
    for (let attempt = 0; ; attempt++) {
      const connection = await this.#acquireConnection(options.signal, options.acquireTimeoutMs, (reason) => {
        return new CanceledError(method, { cause: reason });
      });
      let yielded = false;
      let failed = false;
      let failure: unknown;
      try {
        for await (const item of connection.client.stream(method, args, options)) {
          yielded = true;
          yield item;
        }
      } catch (error) {
        failed = true;
        failure = error;
      } finally {
        // Also reached when the consumer leaves the loop: the client's stream is closed by then.
        this.#takeBack(connection, failed ? failure : undefined, false);
      }
      if (!failed) return;
      if (!yielded && this.#shouldRetry(failure, attempt, options)) continue;
      throw failure;
    }
  }

  // ------------------------------------------------------------------ acquiring

  #acquireConnection(
    signal: AbortSignal | undefined,
    timeoutOverride: number | null | undefined,
    canceled: (reason: unknown) => Error,
  ): Promise<Connection> {
    if (this.#isClosed) return Promise.reject(closedError());
    if (signal?.aborted === true) return Promise.reject(canceled(signal.reason));
    const timeoutMs = acquireTimeout(timeoutOverride, this.#options.acquireTimeoutMs);
    return new Promise<Connection>((resolve, reject) => {
      let timer: unknown;
      let onAbort: (() => void) | undefined;
      const settle = (): boolean => {
        if (waiter.settled) return false;
        waiter.settled = true;
        this.#waiters.delete(waiter);
        if (waiter.queued) {
          waiter.queued = false;
          this.#waiting -= 1;
        }
        if (timer !== undefined) this.#clearTimer(timer);
        if (onAbort !== undefined) signal?.removeEventListener("abort", onAbort);
        return true;
      };
      const waiter: Waiter = {
        settled: false,
        queued: false,
        resolve: (connection) => {
          if (settle()) resolve(connection);
        },
        reject: (error) => {
          // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- a connect factory's failure is passed on as thrown
          if (settle()) reject(error);
        },
      };
      this.#waiters.add(waiter);
      this.#enqueue(waiter, false);
      this.#dispatch();
      if (waiter.settled) return;
      if (timeoutMs > 0) {
        timer = this.#timer(() => {
          timer = undefined;
          if (waiter.settled) return;
          this.#timeouts += 1;
          const error = this.#timeoutError(timeoutMs, waiter.queued ? 1 : 0);
          waiter.reject(error);
        }, timeoutMs, true);
      }
      if (signal !== undefined) {
        onAbort = () => waiter.reject(canceled(signal.reason));
        signal.addEventListener("abort", onAbort, { once: true });
      }
    });
  }

  /** Why a waiter timed out; `self` is 1 when it is still counted as waiting. */
  #timeoutError(timeoutMs: number, self: number): PoolTimeoutError {
    let live = 0;
    let ejected = 0;
    for (const endpoint of this.#endpoints.values()) {
      if (endpoint.state === "healthy") live += 1;
      else if (endpoint.state === "ejected") ejected += 1;
    }
    if (live === 0 && ejected === 0) {
      const failed = this.#sources.find((source) => source.lastError !== undefined);
      return new PoolTimeoutError(
        timeoutMs,
        failed === undefined ? "no endpoint resolved yet" : `no endpoint: resolving ${failed.text} failed`,
        failed === undefined ? undefined : { cause: failed.lastError },
      );
    }
    if (live === 0) {
      return new PoolTimeoutError(
        timeoutMs,
        `no healthy endpoint (${ejected} ejected)`,
        this.#lastError === undefined ? undefined : { cause: this.#lastError },
      );
    }
    return new PoolTimeoutError(timeoutMs, `all ${this.#options.max} connections are in use (${this.#waiting - self} others waiting)`);
  }

  #enqueue(waiter: Waiter, first: boolean): void {
    if (waiter.settled || waiter.queued) return;
    waiter.queued = true;
    this.#waiting += 1;
    if (first) this.#queue.unshift(waiter);
    else this.#queue.push(waiter);
  }

  /** Serves queued callers, oldest first, while connections can be had. Re-entrant calls fold into the running one. */
  #dispatch(): void {
    if (this.#dispatching) {
      this.#redispatch = true;
      return;
    }
    this.#dispatching = true;
    try {
      do {
        this.#redispatch = false;
        while (this.#queue.length > 0) {
          const waiter = this.#queue.peek()!;
          if (waiter.settled || !waiter.queued) {
            this.#queue.shift();
            continue;
          }
          if (this.#isClosed) break;
          const choice = this.#choose();
          if (choice === undefined) break;
          this.#queue.shift();
          waiter.queued = false;
          this.#waiting -= 1;
          if (choice instanceof Connection) this.#handOut(choice, waiter);
          else this.#open(choice, waiter);
        }
      } while (this.#redispatch);
    } finally {
      this.#dispatching = false;
    }
    if (this.#queue.length === 0) this.#ensureMin();
  }

  /**
   * The connection (taken from its idle stack) or the endpoint (to open one on) for the next
   * caller, chosen by the balancing policy among the healthy endpoints that can serve now: those
   * with an idle connection, any while fewer than `max` are open, and, once `max` are open, those
   * below their fair share that can take over an idle connection of an endpoint above it.
   */
  #choose(): Connection | Endpoint | undefined {
    const endpoint = this.#pickEndpoint();
    if (endpoint === undefined) return undefined;
    const connection = endpoint.idle.pop();
    if (connection === undefined) {
      if (this.#size >= this.#options.max) this.#makeRoom(endpoint);
      return endpoint;
    }
    this.#idle -= 1;
    endpoint.busy += 1;
    this.#busy += 1;
    this.#maxInUse = Math.max(this.#maxInUse, this.#busy);
    return connection;
  }

  /** Connections per healthy endpoint that `max` allows (at least 1): the target of rebalancing. */
  #fairShare(): number {
    let healthy = 0;
    for (const endpoint of this.#endpoints.values()) if (endpoint.state === "healthy") healthy += 1;
    return Math.max(1, Math.floor(this.#options.max / Math.max(1, healthy)));
  }

  /** The endpoint above its fair share with the most connections and an idle one to give up. */
  #donor(fair: number): Endpoint | undefined {
    let donor: Endpoint | undefined;
    for (const endpoint of this.#endpoints.values()) {
      if (endpoint.idle.length > 0 && endpoint.size > fair && (donor === undefined || endpoint.size > donor.size)) donor = endpoint;
    }
    return donor;
  }

  /**
   * At `max`, closes the oldest idle connection of a donor so that `endpoint`, below its fair
   * share, can open one: without this a recovered or newly resolved endpoint would get nothing
   * until the others' idle connections time out. Returns false when there is no donor.
   */
  #makeRoom(endpoint: Endpoint): boolean {
    const fair = this.#fairShare();
    if (endpoint.size >= fair) return false;
    const donor = this.#donor(fair);
    const connection = donor?.idle.shift();
    if (connection === undefined) return false;
    this.#idle -= 1;
    this.#dispose(connection, "rebalance");
    return true;
  }

  #pickEndpoint(): Endpoint | undefined {
    const full = this.#size >= this.#options.max;
    const fair = full ? this.#fairShare() : 0;
    const canTakeOver = full && this.#donor(fair) !== undefined;
    const candidates: Endpoint[] = [];
    for (const endpoint of this.#endpoints.values()) {
      if (endpoint.state !== "healthy") continue;
      if (!full || endpoint.idle.length > 0 || (canTakeOver && endpoint.size < fair)) candidates.push(endpoint);
    }
    const count = candidates.length;
    if (count <= 1) return candidates[0];
    const start = this.#cursor % count;
    this.#cursor = (this.#cursor + 1) % 1_000_000_007;
    if (this.#options.balance === "round-robin") return candidates[start];
    // Least in flight; ties go to the first at or after the rotating start, so equal endpoints take turns.
    let best = candidates[start]!;
    for (let i = 1; i < count; i++) {
      const candidate = candidates[(start + i) % count]!;
      if (candidate.inFlight < best.inFlight) best = candidate;
    }
    return best;
  }

  /** Gives an idle connection (already counted as busy) to a caller, pinging it first if it idled too long. */
  #handOut(connection: Connection, waiter: Waiter): void {
    const after = this.#options.healthCheckAfterMs;
    if (after >= 0 && this.#clock.now() - connection.idleSince >= after) {
      connection.state = "checking";
      void this.#check(connection, waiter);
      return;
    }
    connection.state = "busy";
    waiter.resolve(connection);
  }

  async #check(connection: Connection, waiter: Waiter): Promise<void> {
    this.#healthChecks += 1;
    let failure: unknown;
    let ok = false;
    try {
      await connection.client.call(PING, [], { timeoutMs: this.#options.healthCheckTimeoutMs });
      ok = true;
    } catch (error) {
      failure = error;
    }
    if (connection.state === "closed") return; // the pool closed meanwhile
    connection.state = "busy";
    if (ok) {
      if (!waiter.settled) waiter.resolve(connection);
      else this.#takeBack(connection, undefined, false);
      return;
    }
    this.#healthCheckFailures += 1;
    this.#lastError = failure;
    const endpoint = connection.endpoint;
    endpoint.busy -= 1;
    this.#busy -= 1;
    this.#dispose(connection, "health-check", failure);
    this.#eject(endpoint, failure);
    this.#enqueue(waiter, true);
    this.#dispatch();
    this.#checkDrained();
  }

  /** Opens a connection on `endpoint`, for `waiter` (or to keep `min` connections when there is none). */
  #open(endpoint: Endpoint, waiter: Waiter | undefined): void {
    endpoint.pending += 1;
    this.#pending += 1;
    this.#size += 1;
    this.#maxSize = Math.max(this.#maxSize, this.#size);
    const task = this.#connect(endpoint.address).then(
      (client) => this.#opened(endpoint, client, waiter),
      (error: unknown) => this.#openFailed(endpoint, error, waiter),
    );
    this.#addTask(task);
  }

  #connect(address: string): Promise<Client> {
    // new Promise turns a factory that throws synchronously into a rejection.
    return new Promise<Client>((resolve) => resolve(this.#factory(address, this.#clientOptions)));
  }

  #opened(endpoint: Endpoint, client: Client, waiter: Waiter | undefined): void {
    endpoint.pending -= 1;
    this.#pending -= 1;
    endpoint.busy += 1;
    this.#busy += 1;
    this.#maxInUse = Math.max(this.#maxInUse, this.#busy);
    const connection = new Connection(client, endpoint);
    this.#connections.add(connection);
    this.#byClient.set(client, connection);
    this.#created += 1;
    this.#emit({ type: "create", endpoint: endpoint.address });
    if (this.#isClosed || endpoint.state !== "healthy") {
      // Ejected or removed while connecting: the caller tries elsewhere.
      endpoint.busy -= 1;
      this.#busy -= 1;
      this.#dispose(connection, this.#isClosed ? undefined : endpoint.state === "ejected" ? "endpoint-ejected" : "endpoint-removed");
      if (waiter !== undefined) this.#enqueue(waiter, true);
      this.#dispatch();
      this.#checkDrained();
      return;
    }
    if (waiter !== undefined && !waiter.settled) waiter.resolve(connection);
    else this.#takeBack(connection, undefined, false);
  }

  #openFailed(endpoint: Endpoint, error: unknown, waiter: Waiter | undefined): void {
    endpoint.pending -= 1;
    this.#pending -= 1;
    this.#size -= 1;
    this.#lastError = error;
    this.#forgetIfDrained(endpoint);
    if (waiter === undefined) this.#minRetryAt = this.#clock.now() + (this.#options.ejection === false ? 1000 : this.#options.ejection.baseMs);
    if (this.#options.ejection === false) {
      // Nothing takes the endpoint out of rotation, so retrying at once could spin: the caller gets the error.
      waiter?.reject(error);
    } else {
      this.#eject(endpoint, error);
      if (waiter !== undefined) this.#enqueue(waiter, true);
    }
    this.#dispatch();
    this.#checkDrained();
  }

  /** Opens connections in the background up to `min`. */
  #ensureMin(): void {
    const min = this.#options.min;
    if (min === 0 || this.#isClosed || this.#size >= min || this.#clock.now() < this.#minRetryAt) return;
    while (this.#size < min) {
      const endpoint = this.#pickEndpoint();
      if (endpoint === undefined) return;
      this.#open(endpoint, undefined);
    }
  }

  // ------------------------------------------------------------------ releasing

  /** A busy connection comes back, with the error its last call failed with, if any. */
  #takeBack(connection: Connection, error: unknown, destroy: boolean): void {
    if (connection.state === "closed") return;
    const endpoint = connection.endpoint;
    endpoint.busy -= 1;
    this.#busy -= 1;
    const verdict = judge(error);
    this.#record(endpoint, verdict, error);
    let reason: EvictReason | undefined;
    if (destroy) reason = "released";
    else if (verdict.evict !== undefined) reason = verdict.evict;
    else if (connection.client.isClosed) reason = "closed";
    else if (endpoint.state === "ejected") reason = "endpoint-ejected";
    else if (endpoint.state === "removed") reason = "endpoint-removed";
    if (this.#isClosed) this.#dispose(connection, undefined);
    else if (reason !== undefined) this.#dispose(connection, reason, error);
    else this.#putIdle(connection);
    this.#dispatch();
    this.#checkDrained();
  }

  #record(endpoint: Endpoint, verdict: Verdict, error: unknown): void {
    switch (verdict.health) {
      case "success":
        endpoint.softFailures = 0;
        return;
      case "soft": {
        endpoint.softFailures += 1;
        const ejection = this.#options.ejection;
        if (ejection !== false && endpoint.softFailures >= ejection.consecutiveFailures) this.#eject(endpoint, error);
        return;
      }
      case "hard":
        this.#lastError = error;
        this.#eject(endpoint, error);
        return;
      case "neutral":
        return;
    }
  }

  #putIdle(connection: Connection): void {
    connection.state = "idle";
    connection.idleSince = this.#clock.now();
    connection.endpoint.idle.push(connection);
    this.#idle += 1;
    this.#scheduleSweep();
  }

  /** Closes a connection that is no longer counted as idle or busy. `reason` undefined: the pool is closing. */
  #dispose(connection: Connection, reason: EvictReason | undefined, error?: unknown): void {
    if (connection.state === "closed") return;
    connection.state = "closed";
    this.#size -= 1;
    this.#connections.delete(connection);
    this.#closeClient(connection.client);
    if (reason !== undefined) {
      if (reason === "idle") this.#idleClosed += 1;
      else this.#evictions += 1;
      this.#emit({ type: "evict", endpoint: connection.endpoint.address, reason, ...(error !== undefined && { error }) });
    }
    this.#forgetIfDrained(connection.endpoint);
  }

  #closeIdle(endpoint: Endpoint, reason: EvictReason | undefined): void {
    for (let connection = endpoint.idle.pop(); connection !== undefined; connection = endpoint.idle.pop()) {
      this.#idle -= 1;
      this.#dispose(connection, reason);
    }
  }

  #closeClient(client: Client): void {
    const closing = client.close().catch(noop);
    this.#closing.add(closing);
    void closing.then(() => this.#closing.delete(closing));
  }

  #scheduleSweep(): void {
    const idleTimeoutMs = this.#options.idleTimeoutMs;
    if (idleTimeoutMs === 0 || this.#sweepTimer !== undefined || this.#isClosed || this.#idle === 0) return;
    if (this.#size <= this.#options.min) return;
    let oldest = Infinity;
    for (const endpoint of this.#endpoints.values()) {
      const first = endpoint.idle[0];
      if (first !== undefined && first.idleSince < oldest) oldest = first.idleSince;
    }
    if (oldest === Infinity) return;
    const delay = Math.max(0, oldest + idleTimeoutMs - this.#clock.now());
    this.#sweepTimer = this.#timer(() => this.#sweep(), delay, false);
  }

  /** Closes idle connections older than `idleTimeoutMs`, oldest first, down to `min`. */
  #sweep(): void {
    this.#sweepTimer = undefined;
    const deadline = this.#clock.now() - this.#options.idleTimeoutMs;
    while (this.#size > this.#options.min) {
      let oldest: Endpoint | undefined;
      for (const endpoint of this.#endpoints.values()) {
        const first = endpoint.idle[0];
        if (first !== undefined && first.idleSince <= deadline && (oldest === undefined || first.idleSince < oldest.idle[0]!.idleSince)) {
          oldest = endpoint;
        }
      }
      if (oldest === undefined) break;
      const connection = oldest.idle.shift()!;
      this.#idle -= 1;
      this.#dispose(connection, "idle");
    }
    this.#scheduleSweep();
  }

  // ------------------------------------------------------------------ endpoint health

  #eject(endpoint: Endpoint, error: unknown): void {
    const ejection = this.#options.ejection;
    if (ejection === false || endpoint.state !== "healthy" || this.#isClosed) return;
    const now = this.#clock.now();
    // An endpoint that stayed healthy for a full backoff cap starts over from baseMs.
    if (endpoint.recoveredAt !== undefined && now - endpoint.recoveredAt >= ejection.maxMs) endpoint.level = 0;
    if (error !== undefined) this.#lastError = error;
    endpoint.level += 1;
    endpoint.ejections += 1;
    endpoint.state = "ejected";
    endpoint.softFailures = 0;
    const backoffMs = this.#scheduleProbe(endpoint);
    this.#emit({ type: "eject", endpoint: endpoint.address, backoffMs, ...(error !== undefined && { error }) });
    this.#closeIdle(endpoint, "endpoint-ejected");
  }

  #scheduleProbe(endpoint: Endpoint): number {
    const ejection = this.#options.ejection as Exclude<ResolvedPoolOptions["ejection"], false>;
    const backoffMs = Math.min(ejection.baseMs * 2 ** Math.min(endpoint.level - 1, 30), ejection.maxMs);
    endpoint.backoffMs = backoffMs;
    endpoint.ejectedUntil = this.#clock.now() + backoffMs;
    endpoint.probeTimer = this.#timer(() => this.#addTask(this.#probe(endpoint)), backoffMs, false);
    return backoffMs;
  }

  /** Pings an ejected endpoint on a fresh connection: back in rotation on success, a longer backoff otherwise. */
  async #probe(endpoint: Endpoint): Promise<void> {
    endpoint.probeTimer = undefined;
    if (this.#isClosed || endpoint.state !== "ejected") return;
    let client: Client | undefined;
    let failure: unknown;
    let ok = false;
    try {
      client = await this.#connect(endpoint.address);
      endpoint.probeClient = client;
      if (!this.#isClosed) {
        await client.call(PING, [], { timeoutMs: this.#options.healthCheckTimeoutMs });
        ok = true;
      }
    } catch (error) {
      failure = error;
    }
    endpoint.probeClient = undefined;
    if (this.#isClosed || endpoint.state !== "ejected") {
      if (client !== undefined) this.#closeClient(client);
      return;
    }
    if (!ok) {
      if (client !== undefined) this.#closeClient(client);
      this.#lastError = failure;
      endpoint.level += 1;
      const backoffMs = this.#scheduleProbe(endpoint);
      this.#emit({ type: "probe-failed", endpoint: endpoint.address, backoffMs, ...(failure !== undefined && { error: failure }) });
      return;
    }
    endpoint.state = "healthy";
    endpoint.recoveredAt = this.#clock.now();
    endpoint.ejectedUntil = undefined;
    endpoint.softFailures = 0;
    this.#emit({ type: "recover", endpoint: endpoint.address });
    if (client !== undefined && (this.#size < this.#options.max || this.#makeRoom(endpoint))) {
      // The probe's connection is a good one: keep it.
      const connection = new Connection(client, endpoint);
      this.#connections.add(connection);
      this.#byClient.set(client, connection);
      this.#size += 1;
      this.#maxSize = Math.max(this.#maxSize, this.#size);
      this.#created += 1;
      this.#emit({ type: "create", endpoint: endpoint.address });
      this.#putIdle(connection);
    } else if (client !== undefined) {
      this.#closeClient(client);
    }
    this.#dispatch();
  }

  // ------------------------------------------------------------------ endpoints and DNS

  #startResolve(source: Source): void {
    source.timer = undefined;
    if (this.#isClosed) return;
    // Not a tracked task: close() must not wait for a slow resolver, and a lookup holds nothing to release.
    void this.#resolve(source).catch(noop);
  }

  async #resolve(source: Source): Promise<void> {
    const named = source.named!;
    let addresses: readonly string[] = [];
    let failure: unknown;
    try {
      const found = await this.#lookup(named.host);
      addresses = [...new Set(found.map((address) => addressEndpoint(address, named.port)))];
      if (addresses.length === 0) failure = new Error(`${named.host} has no address`);
    } catch (error) {
      failure = error;
    }
    if (this.#isClosed) return;
    if (failure !== undefined) {
      // Keep the endpoints we had: a DNS hiccup must not empty the pool. Retry sooner than the interval.
      source.failures += 1;
      source.lastError = failure;
      this.#emit({ type: "resolve-error", source: source.text, error: failure });
      const base = this.#options.ejection === false ? 1000 : this.#options.ejection.baseMs;
      const retryMs = Math.min(base * 2 ** Math.min(source.failures - 1, 30), this.#options.resolveIntervalMs);
      source.timer = this.#timer(() => this.#startResolve(source), retryMs, false);
      return;
    }
    source.failures = 0;
    source.lastError = undefined;
    this.#applyAddresses(source, addresses);
    this.#emit({ type: "resolve", source: source.text, endpoints: addresses });
    source.timer = this.#timer(() => this.#startResolve(source), this.#options.resolveIntervalMs, false);
    this.#dispatch();
  }

  /** Makes `addresses` the endpoints of `source`: new ones join the rotation, vanished ones drain. */
  #applyAddresses(source: Source, addresses: readonly string[]): void {
    const next = new Set(addresses);
    for (const address of source.addresses) {
      if (next.has(address)) continue;
      const endpoint = this.#endpoints.get(address);
      if (endpoint === undefined) continue;
      endpoint.sources.delete(source.text);
      if (endpoint.sources.size === 0) this.#removeEndpoint(endpoint);
    }
    for (const address of next) {
      let endpoint = this.#endpoints.get(address);
      if (endpoint === undefined) {
        endpoint = new Endpoint(address);
        this.#endpoints.set(address, endpoint);
      } else if (endpoint.state === "removed") {
        endpoint.state = "healthy";
      }
      endpoint.sources.add(source.text);
    }
    source.addresses = [...next];
  }

  #removeEndpoint(endpoint: Endpoint): void {
    endpoint.state = "removed";
    this.#clearTimer(endpoint.probeTimer);
    endpoint.probeTimer = undefined;
    endpoint.ejectedUntil = undefined;
    this.#closeIdle(endpoint, "endpoint-removed");
    this.#forgetIfDrained(endpoint);
  }

  #forgetIfDrained(endpoint: Endpoint): void {
    if (endpoint.state === "removed" && endpoint.size === 0 && this.#endpoints.get(endpoint.address) === endpoint) {
      this.#endpoints.delete(endpoint.address);
    }
  }

  // ------------------------------------------------------------------ closing and plumbing

  async #finishClose(graceMs: number): Promise<void> {
    if (this.#busy + this.#pending > 0 && graceMs > 0) {
      await new Promise<void>((resolve) => {
        const timer = this.#timer(() => {
          this.#drained = undefined;
          resolve();
        }, graceMs, true);
        this.#drained = () => {
          this.#clearTimer(timer);
          resolve();
        };
        this.#checkDrained();
      });
    }
    // Grace is over: close what is still in use (its calls fail with "closed").
    for (const connection of [...this.#connections]) {
      if (connection.state === "busy" || connection.state === "checking") {
        connection.endpoint.busy -= 1;
        this.#busy -= 1;
      } else if (connection.state === "idle") {
        this.#idle -= 1;
      }
      this.#dispose(connection, undefined);
    }
    while (this.#tasks.size > 0 || this.#closing.size > 0) {
      await Promise.all([...this.#tasks, ...this.#closing]);
    }
    this.#resolveClosed();
  }

  #checkDrained(): void {
    if (this.#drained !== undefined && this.#busy + this.#pending === 0) {
      const drained = this.#drained;
      this.#drained = undefined;
      drained();
    }
  }

  #addTask(task: Promise<unknown>): void {
    const settled = task.catch(noop);
    this.#tasks.add(settled);
    void settled.then(() => this.#tasks.delete(settled));
  }

  /** A timer on the pool's clock; maintenance timers are unref'ed so they never keep a process alive. */
  #timer(fn: () => void, ms: number, keepAlive: boolean): unknown {
    const handle = this.#clock.setTimeout(fn, ms);
    if (!keepAlive) (handle as { unref?: () => void } | undefined)?.unref?.();
    return handle;
  }

  #clearTimer(handle: unknown): void {
    if (handle !== undefined) this.#clock.clearTimeout(handle);
  }

  #emit(event: PoolEvent): void {
    if (this.#onEvent === undefined) return;
    try {
      this.#onEvent(event);
    } catch {
      // A diagnostics hook that throws must not break the pool's bookkeeping.
    }
  }
}

function createProxy(pool: PoolImpl): unknown {
  const target = Object.create(null) as object;
  return new Proxy(target, {
    get(_target, name) {
      // Not thenable (so `await pool.proxy` is safe), and no symbol-keyed protocol either.
      if (typeof name !== "string" || name === "then") return undefined;
      return (...args: unknown[]) => new PoolCallResult(pool, name, args);
    },
  });
}

/**
 * Creates a pool of zerorpc clients over `options.endpoints`. Returns at once: connections are
 * opened on demand (and `min` of them in the background), host names are resolved in the
 * background. Throws a `TypeError` or `RangeError` for invalid options.
 *
 * Defaults: `max` 10, `acquireTimeoutMs` 20 s, `idleTimeoutMs` 60 s, `healthCheckAfterMs` 10 s,
 * balance `"least-in-flight"`, ejection backoff 1 s doubling up to 30 s, no retries, DNS every 30 s.
 */
export function createPool<TService = unknown>(options: PoolOptions<TService>): Pool<TService> {
  return new PoolImpl(options as PoolOptions<unknown>) as unknown as Pool<TService>;
}
