// The lease coordinator of a pool: the connections and who holds them. Callers wait first in
// first out (with a timeout and an abort signal); idle connections are reused last in first out
// (pinged first when they idled too long); the balancer picks the endpoint for a new one; broken
// connections are closed; idle ones are swept down to `min`; close() drains, then closes all.
// Endpoint health (ejection, probes, DNS) is the EndpointSet's, which calls back through
// EndpointSetHost. About 640 lines as one cohesive thing: waiters, leases and the sweep all move
// the same counts (size, idle, in use) and must stay consistent in one place.
import { Fifo } from "@zrpc/channel";
import type { Clock } from "@zrpc/channel";
import { DEFAULT_CONNECT_TIMEOUT_MS } from "@zrpc/client";
import type { Client, ConnectOptions } from "@zrpc/client";
import { ZrpcError } from "@zrpc/wire";
import { Balancer } from "./balancer.js";
import { Connection } from "./endpoint.js";
import type { Endpoint } from "./endpoint.js";
import { EndpointSet } from "./endpoint-set.js";
import type { EndpointSetHost } from "./endpoint-set.js";
import { PoolTimeoutError } from "./errors.js";
import { acquireTimeout } from "./options.js";
import type { ConnectFactory, EvictReason, Lookup, PoolEvent, ResolvedPoolOptions } from "./options.js";
import type { EndpointMetrics, PoolMetrics } from "./metrics.js";
import { clearTimer, noop, startTimer } from "./timers.js";
import { judge } from "./verdict.js";

/** A caller waiting for a connection (queued, or being served by a connect or a health check). */
interface Waiter {
  settled: boolean;
  queued: boolean;
  /** When it started waiting (pool clock). */
  readonly since: number;
  resolve(connection: Connection): void;
  reject(error: unknown): void;
}

/** @internal What the coordinator is built from. */
export interface LeaseCoordinatorOptions {
  readonly options: ResolvedPoolOptions;
  readonly factory: ConnectFactory;
  readonly lookup: Lookup;
  readonly clock: Clock;
  readonly onEvent: ((event: PoolEvent) => void) | undefined;
}

/** @internal */
export function closedError(): ZrpcError {
  return new ZrpcError("closed", "the pool is closed");
}

/** @internal */
export class LeaseCoordinator implements EndpointSetHost {
  readonly options: ResolvedPoolOptions;
  readonly clock: Clock;
  readonly lookup: Lookup;
  readonly closed: Promise<void>;

  readonly #clientOptions: ConnectOptions;
  /** The clients' connectTimeoutMs (0: they wait forever): how long callers wait while every endpoint refuses. */
  readonly #connectWaitMs: number;
  #connectTimer: unknown;
  readonly #factory: ConnectFactory;
  readonly #onEvent: ((event: PoolEvent) => void) | undefined;
  readonly #endpoints: EndpointSet;
  readonly #balancer: Balancer;

  readonly #connections = new Set<Connection>();
  readonly #byClient = new WeakMap<object, Connection>();
  readonly #queue = new Fifo<Waiter>();
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

  #dispatching = false;
  #redispatch = false;
  #sweepTimer: unknown;
  #minRetryAt = 0;
  #isClosed = false;
  #closePromise: Promise<void> | undefined;
  #drained: (() => void) | undefined;
  #resolveClosed: () => void = noop;

  constructor(init: LeaseCoordinatorOptions) {
    this.options = init.options;
    this.clock = init.clock;
    this.lookup = init.lookup;
    this.#clientOptions = init.options.clientOptions;
    const connectTimeoutMs = this.#clientOptions.connectTimeoutMs;
    this.#connectWaitMs =
      connectTimeoutMs === undefined
        ? DEFAULT_CONNECT_TIMEOUT_MS
        : connectTimeoutMs === null || !(connectTimeoutMs > 0) || !Number.isFinite(connectTimeoutMs)
          ? 0
          : connectTimeoutMs;
    this.#factory = init.factory;
    this.#onEvent = init.onEvent;
    this.closed = new Promise<void>((resolve) => {
      this.#resolveClosed = resolve;
    });
    this.#endpoints = new EndpointSet(this);
    this.#balancer = new Balancer(this.#endpoints.byAddress, init.options.max, init.options.balance);
    this.#endpoints.start();
    this.#ensureMin();
  }

  get isClosed(): boolean {
    return this.#isClosed;
  }

  // ------------------------------------------------------------------ leases

  /** Waits for a connection, first come first served; rejects with `canceled(reason)` when `signal` aborts. */
  acquire(signal: AbortSignal | undefined, timeoutOverride: number | null | undefined, canceled: (reason: unknown) => Error): Promise<Connection> {
    if (this.#isClosed) return Promise.reject(closedError());
    if (signal?.aborted === true) return Promise.reject(canceled(signal.reason));
    const timeoutMs = acquireTimeout(timeoutOverride, this.options.acquireTimeoutMs);
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
        if (timer !== undefined) clearTimer(this.clock, timer);
        if (onAbort !== undefined) signal?.removeEventListener("abort", onAbort);
        return true;
      };
      const waiter: Waiter = {
        settled: false,
        queued: false,
        since: this.clock.now(),
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
        timer = startTimer(
          this.clock,
          () => {
            timer = undefined;
            if (waiter.settled) return;
            this.#timeouts += 1;
            const error = this.#timeoutError(timeoutMs, waiter.queued ? 1 : 0);
            waiter.reject(error);
          },
          timeoutMs,
          true,
        );
      }
      if (signal !== undefined) {
        onAbort = () => waiter.reject(canceled(signal.reason));
        signal.addEventListener("abort", onAbort, { once: true });
      }
    });
  }

  /** The connection of a client of this pool, if it is one. */
  connectionOf(client: Client): Connection | undefined {
    return typeof client === "object" && client !== null ? this.#byClient.get(client) : undefined;
  }

  /** A busy connection comes back, with the error its last call failed with, if any. */
  takeBack(connection: Connection, error: unknown, destroy: boolean): void {
    if (connection.state === "closed") return;
    const endpoint = connection.endpoint;
    endpoint.busy -= 1;
    this.#busy -= 1;
    const verdict = judge(error);
    this.#endpoints.record(endpoint, verdict, error);
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

  /** Why a waiter timed out; `self` is 1 when it is still counted as waiting. */
  #timeoutError(timeoutMs: number, self: number): PoolTimeoutError {
    return (
      this.#endpoints.unavailable(timeoutMs) ??
      new PoolTimeoutError(timeoutMs, `all ${this.options.max} connections are in use (${this.#waiting - self} others waiting)`)
    );
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
    else this.#armConnectWait();
  }

  /**
   * Callers wait while every endpoint is ejected; when they were all ejected because no connection
   * could be made (a `ConnectError`), a caller that waited the client's `connectTimeoutMs` gets
   * that error instead of waiting for `acquireTimeoutMs` (probes go on in the background, and a
   * recovered endpoint serves the callers still waiting).
   */
  #armConnectWait(): void {
    const waitMs = this.#connectWaitMs;
    if (this.#connectTimer !== undefined || waitMs === 0 || this.#isClosed) return;
    if (this.#endpoints.connectFailure() === undefined) return;
    this.#connectTimer = startTimer(this.clock, () => this.#connectWaitDue(), waitMs, true);
  }

  #connectWaitDue(): void {
    this.#connectTimer = undefined;
    if (this.#isClosed) return;
    const error = this.#endpoints.connectFailure();
    if (error === undefined) return;
    const cutoff = this.clock.now() - this.#connectWaitMs;
    for (const waiter of [...this.#waiters]) {
      if (waiter.queued && waiter.since <= cutoff) waiter.reject(error);
    }
    if (this.#queue.length > 0) this.#armConnectWait();
  }

  /**
   * The connection (taken from its idle stack) or the endpoint (to open one on) for the next
   * caller, chosen by the balancer; at `max`, an endpoint below its fair share gets room.
   */
  #choose(): Connection | Endpoint | undefined {
    const endpoint = this.#balancer.pick(this.#size);
    if (endpoint === undefined) return undefined;
    const connection = endpoint.idle.pop();
    if (connection === undefined) {
      if (this.#size >= this.options.max) this.#makeRoom(endpoint);
      return endpoint;
    }
    this.#idle -= 1;
    endpoint.busy += 1;
    this.#busy += 1;
    this.#maxInUse = Math.max(this.#maxInUse, this.#busy);
    return connection;
  }

  /**
   * At `max`, closes the oldest idle connection of a donor so that `endpoint`, below its fair
   * share, can open one: without this a recovered or newly resolved endpoint would get nothing
   * until the others' idle connections time out. Returns false when there is no donor.
   */
  #makeRoom(endpoint: Endpoint): boolean {
    const fair = this.#balancer.fairShare();
    if (endpoint.size >= fair) return false;
    const donor = this.#balancer.donor(fair);
    const connection = donor?.idle.shift();
    if (connection === undefined) return false;
    this.#idle -= 1;
    this.#dispose(connection, "rebalance");
    return true;
  }

  /** Gives an idle connection (already counted as busy) to a caller, pinging it first if it idled too long. */
  #handOut(connection: Connection, waiter: Waiter): void {
    const after = this.options.healthCheckAfterMs;
    if (after >= 0 && this.clock.now() - connection.idleSince >= after) {
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
      await this.#endpoints.ping(connection.client);
      ok = true;
    } catch (error) {
      failure = error;
    }
    if (connection.state === "closed") return; // the pool closed meanwhile
    connection.state = "busy";
    if (ok) {
      if (!waiter.settled) waiter.resolve(connection);
      else this.takeBack(connection, undefined, false);
      return;
    }
    this.#healthCheckFailures += 1;
    this.#endpoints.lastError = failure;
    const endpoint = connection.endpoint;
    endpoint.busy -= 1;
    this.#busy -= 1;
    this.#dispose(connection, "health-check", failure);
    this.#endpoints.eject(endpoint, failure);
    this.#enqueue(waiter, true);
    this.#dispatch();
    this.#checkDrained();
  }

  // ------------------------------------------------------------------ opening

  /** Opens a connection on `endpoint`, for `waiter` (or to keep `min` connections when there is none). */
  #open(endpoint: Endpoint, waiter: Waiter | undefined): void {
    endpoint.pending += 1;
    this.#pending += 1;
    this.#size += 1;
    this.#maxSize = Math.max(this.#maxSize, this.#size);
    const task = this.connect(endpoint.address).then(
      (client) => this.#opened(endpoint, client, waiter),
      (error: unknown) => this.#openFailed(endpoint, error, waiter),
    );
    this.track(task);
  }

  connect(address: string): Promise<Client> {
    // new Promise turns a factory that throws synchronously into a rejection.
    return new Promise<Client>((resolve) => resolve(this.#factory(address, this.#clientOptions)));
  }

  #opened(endpoint: Endpoint, client: Client, waiter: Waiter | undefined): void {
    endpoint.pending -= 1;
    this.#pending -= 1;
    endpoint.busy += 1;
    this.#busy += 1;
    this.#maxInUse = Math.max(this.#maxInUse, this.#busy);
    const connection = this.#adopt(endpoint, client);
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
    else this.takeBack(connection, undefined, false);
  }

  /** Registers a new connection (already counted in `size`). */
  #adopt(endpoint: Endpoint, client: Client): Connection {
    const connection = new Connection(client, endpoint);
    this.#connections.add(connection);
    this.#byClient.set(client, connection);
    this.#created += 1;
    this.emit({ type: "create", endpoint: endpoint.address });
    return connection;
  }

  #openFailed(endpoint: Endpoint, error: unknown, waiter: Waiter | undefined): void {
    endpoint.pending -= 1;
    this.#pending -= 1;
    this.#size -= 1;
    this.#endpoints.lastError = error;
    this.#endpoints.forgetIfDrained(endpoint);
    const ejection = this.options.ejection;
    if (waiter === undefined) this.#minRetryAt = this.clock.now() + (ejection === false ? 1000 : ejection.baseMs);
    if (ejection === false) {
      // Nothing takes the endpoint out of rotation, so retrying at once could spin: the caller gets the error.
      waiter?.reject(error);
    } else {
      this.#endpoints.eject(endpoint, error);
      if (waiter !== undefined) this.#enqueue(waiter, true);
    }
    this.#dispatch();
    this.#checkDrained();
  }

  /** Opens connections in the background up to `min`. */
  #ensureMin(): void {
    const min = this.options.min;
    if (min === 0 || this.#isClosed || this.#size >= min || this.clock.now() < this.#minRetryAt) return;
    while (this.#size < min) {
      const endpoint = this.#balancer.pick(this.#size);
      if (endpoint === undefined) return;
      this.#open(endpoint, undefined);
    }
  }

  // ------------------------------------------------------------------ EndpointSetHost

  recovered(endpoint: Endpoint, client: Client): void {
    if (this.#size < this.options.max || this.#makeRoom(endpoint)) {
      // The probe's connection is a good one: keep it.
      this.#size += 1;
      this.#maxSize = Math.max(this.#maxSize, this.#size);
      this.#putIdle(this.#adopt(endpoint, client));
    } else {
      this.closeClient(client);
    }
    this.#dispatch();
  }

  changed(): void {
    this.#dispatch();
  }

  closeIdle(endpoint: Endpoint, reason: EvictReason | undefined): void {
    for (let connection = endpoint.idle.pop(); connection !== undefined; connection = endpoint.idle.pop()) {
      this.#idle -= 1;
      this.#dispose(connection, reason);
    }
  }

  closeClient(client: Client): void {
    const closing = client.close().catch(noop);
    this.#closing.add(closing);
    void closing.then(() => this.#closing.delete(closing));
  }

  track(task: Promise<unknown>): void {
    const settled = task.catch(noop);
    this.#tasks.add(settled);
    void settled.then(() => this.#tasks.delete(settled));
  }

  emit(event: PoolEvent): void {
    if (this.#onEvent === undefined) return;
    try {
      this.#onEvent(event);
    } catch {
      // A diagnostics hook that throws must not break the pool's bookkeeping.
    }
  }

  // ------------------------------------------------------------------ idle connections

  #putIdle(connection: Connection): void {
    connection.state = "idle";
    connection.idleSince = this.clock.now();
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
    this.closeClient(connection.client);
    if (reason !== undefined) {
      if (reason === "idle") this.#idleClosed += 1;
      else this.#evictions += 1;
      this.emit({ type: "evict", endpoint: connection.endpoint.address, reason, ...(error !== undefined && { error }) });
    }
    this.#endpoints.forgetIfDrained(connection.endpoint);
  }

  #scheduleSweep(): void {
    const idleTimeoutMs = this.options.idleTimeoutMs;
    if (idleTimeoutMs === 0 || this.#sweepTimer !== undefined || this.#isClosed || this.#idle === 0) return;
    if (this.#size <= this.options.min) return;
    let oldest = Infinity;
    for (const endpoint of this.#endpoints.byAddress.values()) {
      const first = endpoint.idle[0];
      if (first !== undefined && first.idleSince < oldest) oldest = first.idleSince;
    }
    if (oldest === Infinity) return;
    const delay = Math.max(0, oldest + idleTimeoutMs - this.clock.now());
    this.#sweepTimer = startTimer(this.clock, () => this.#sweep(), delay, false);
  }

  /** Closes idle connections older than `idleTimeoutMs`, oldest first, down to `min`. */
  #sweep(): void {
    this.#sweepTimer = undefined;
    const deadline = this.clock.now() - this.options.idleTimeoutMs;
    while (this.#size > this.options.min) {
      let oldest: Endpoint | undefined;
      for (const endpoint of this.#endpoints.byAddress.values()) {
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

  // ------------------------------------------------------------------ metrics and closing

  metrics(): PoolMetrics {
    const endpoints: EndpointMetrics[] = [];
    for (const endpoint of this.#endpoints.byAddress.values()) {
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
    const grace = graceMs === undefined ? this.options.closeGraceMs : Math.max(0, Number(graceMs) || 0);
    this.#isClosed = true;
    clearTimer(this.clock, this.#sweepTimer);
    this.#sweepTimer = undefined;
    clearTimer(this.clock, this.#connectTimer);
    this.#connectTimer = undefined;
    this.#endpoints.close();
    for (const endpoint of this.#endpoints.byAddress.values()) this.closeIdle(endpoint, undefined);
    for (const waiter of [...this.#waiters]) waiter.reject(closedError());
    this.#closePromise = this.#finishClose(grace);
    return this.#closePromise;
  }

  async #finishClose(graceMs: number): Promise<void> {
    if (this.#busy + this.#pending > 0 && graceMs > 0) {
      await new Promise<void>((resolve) => {
        const timer = startTimer(
          this.clock,
          () => {
            this.#drained = undefined;
            resolve();
          },
          graceMs,
          true,
        );
        this.#drained = () => {
          clearTimer(this.clock, timer);
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
}
