// The pool: a bounded set of clients, one per connection, each connected to exactly one server.
// Idle connections are reused last-in first-out; callers wait first-in first-out; broken
// connections are closed; failing endpoints are ejected with exponential backoff and probed back.
// This module is the public face (Pool, createPool, pooled calls and streams); the waiters and
// leases are the LeaseCoordinator's (leases.ts), the endpoints and their health the EndpointSet's
// (endpoint-set.ts).
import { systemClock } from "@zrpc/channel";
import { CanceledError, connect as connectClient, isRetryable } from "@zrpc/client";
import type { CallValue, Client, ClientProxy, MethodArgs, MethodName, StreamValue, UnknownMethodName } from "@zrpc/client";
import { ZrpcError } from "@zrpc/wire";
import { PoolCallResult } from "./call-result.js";
import type { PooledCalls } from "./call-result.js";
import { defaultLookup } from "./endpoints.js";
import { PoolTimeoutError } from "./errors.js";
import { LeaseCoordinator } from "./leases.js";
import type { PoolMetrics } from "./metrics.js";
import { resolvePoolOptions } from "./options.js";
import type { AcquireOptions, PoolCallOptions, PoolOptions, ReleaseOptions } from "./options.js";

/** The arguments after the method name of a typed pooled `call`/`stream`. */
export type PoolCallRest<TArgs extends readonly unknown[]> = [] extends TArgs
  ? [args?: TArgs, options?: PoolCallOptions]
  : [args: TArgs, options?: PoolCallOptions];


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

/** @internal The implementation behind {@link createPool}; typed through {@link Pool}. */
export class PoolImpl implements AsyncDisposable, PooledCalls {
  readonly proxy: unknown;
  readonly closed: Promise<void>;
  readonly #leases: LeaseCoordinator;
  readonly #retries: number;

  constructor(options: PoolOptions<unknown>) {
    const resolved = resolvePoolOptions(options);
    this.#retries = resolved.retries;
    this.#leases = new LeaseCoordinator({
      options: resolved,
      factory: options.connect ?? connectClient,
      lookup: options.lookup ?? defaultLookup,
      clock: options.clock ?? systemClock,
      onEvent: options.onEvent,
    });
    this.closed = this.#leases.closed;
    this.proxy = createProxy(this);
  }

  get isClosed(): boolean {
    return this.#leases.isClosed;
  }

  async acquire(options: AcquireOptions = {}): Promise<Client> {
    const connection = await this.#leases.acquire(options.signal, options.acquireTimeoutMs, (reason) => {
      return new ZrpcError("canceled", "acquiring a pooled connection was canceled", { cause: reason });
    });
    return connection.client;
  }

  release(client: Client, options: ReleaseOptions = {}): void {
    const connection = this.#leases.connectionOf(client);
    if (connection === undefined) throw new TypeError("release(): this client does not belong to this pool");
    if (connection.state === "closed") return;
    if (connection.state !== "busy") throw new TypeError("release(): this client is not checked out (released twice?)");
    this.#leases.takeBack(connection, options.error, options.destroy === true);
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
      const connection = await this.#leases.acquire(options.signal, options.acquireTimeoutMs, (reason) => {
        return new CanceledError(method, { cause: reason });
      });
      let value: unknown;
      try {
        value = await connection.client.call(method, args, options);
      } catch (error) {
        this.#leases.takeBack(connection, error, false);
        if (this.#shouldRetry(error, attempt, options)) continue;
        throw error;
      }
      this.#leases.takeBack(connection, undefined, false);
      return value;
    }
  }

  stream(method: string, args: readonly unknown[] = [], options: PoolCallOptions = {}): AsyncIterable<unknown> {
    return { [Symbol.asyncIterator]: () => this.#streamItems(method, args, options) };
  }

  metrics(): PoolMetrics {
    return this.#leases.metrics();
  }

  close(graceMs?: number): Promise<void> {
    return this.#leases.close(graceMs);
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  // ------------------------------------------------------------------ pooled calls

  #shouldRetry(error: unknown, attempt: number, options: PoolCallOptions): boolean {
    return (
      attempt < this.#retries &&
      !this.#leases.isClosed &&
      options.signal?.aborted !== true &&
      !PoolTimeoutError.isInstance(error) &&
      isRetryable(error)
    );
  }

  async *#streamItems(method: string, args: readonly unknown[], options: PoolCallOptions): AsyncGenerator<unknown, void, undefined> {
    for (let attempt = 0; ; attempt++) {
      const connection = await this.#leases.acquire(options.signal, options.acquireTimeoutMs, (reason) => {
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
        this.#leases.takeBack(connection, failed ? failure : undefined, false);
      }
      if (!failed) return;
      if (!yielded && this.#shouldRetry(failure, attempt, options)) continue;
      throw failure;
    }
  }
}

function createProxy(pool: PooledCalls): unknown {
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
