// The database middleware: Django's `close_old_connections` (run on `request_started` and
// `request_finished`), `CONN_MAX_AGE`, `CONN_HEALTH_CHECKS` and `ATOMIC_REQUESTS`, re-created for
// zrpc calls on top of a connection pool. See README.md for the reasoning. This module holds the
// options, the server hooks and the public API; the lease logic is in leases.ts.
import { createProcessWarningLogger, getCallContext } from "@zrpc/server";
import type { CallContext, CallOutcome, Logger, ServerMiddleware } from "@zrpc/server";
import type { DbAdapter } from "./adapter.js";
import { DbMiddlewareError } from "./errors.js";
import { CallState, LeaseManager } from "./leases.js";
import type { DbMiddlewareStats } from "./leases.js";

/** Default of {@link DbMiddlewareOptions.cleanupTimeoutMs}: 5 s. */
export const DEFAULT_CLEANUP_TIMEOUT_MS = 5_000;


/** The `locals` key under which the first database middleware of a call publishes its handle for {@link getDb}. */
const DEFAULT_HANDLE_KEY = Symbol.for("zrpc.middleware-db.defaultHandle");

/** Options of {@link createDbMiddleware}. */
export interface DbMiddlewareOptions<TConnection extends object, THandle> {
  /** The database: `pgAdapter(pool)`, `pgliteAdapter(db)`, `kyselyAdapter(...)` or your own {@link DbAdapter}. */
  readonly adapter: DbAdapter<TConnection, THandle>;
  /**
   * Django's `CONN_MAX_AGE`, in milliseconds: how long a connection may be reused.
   * - `0`: every connection a call used is closed when the call ends (Django's default; one new
   *   session per call);
   * - `N`: a connection older than `N` ms is not handed to a call (it is closed and another one is
   *   checked out) and is closed instead of pooled when a call gives it back;
   * - `null` (the default here, because a pool exists to keep connections): no age limit; the
   *   pool's own `idleTimeoutMillis` / `maxLifetimeSeconds` still apply.
   */
  readonly maxAge?: number | null;
  /**
   * Django's `ATOMIC_REQUESTS`: run each call in a transaction on its connection, begun on the
   * first database use, committed when the handler returns (for a stream: after its last item,
   * before `STREAM_DONE`) and rolled back when it throws, or when the call is abandoned (lost
   * client, cancellation, shutdown). A function decides per call (Django's
   * `non_atomic_requests`). Default false.
   */
  readonly atomic?: boolean | ((call: CallContext) => boolean);
  /**
   * Django's `CONN_HEALTH_CHECKS`: before a call uses a connection that served an earlier call,
   * check it with a round trip (`SELECT 1`) and replace it when that fails. Closes the window in
   * which the server has dropped a session (restart, `pg_terminate_backend`, idle timeout) but the
   * driver has not noticed yet. Costs one round trip per call that uses the database. Default false.
   */
  readonly healthChecks?: boolean;
  /**
   * Where warnings go (a handler leaked a connection or left a transaction open; each names the
   * method). Default: `process.emitWarning(message, { type: "ZrpcDbWarning" })`; `null` for none.
   * The `Logger` type of `@zrpc/server`, so the server's logger can be passed.
   */
  readonly logger?: Logger | null;
  /** The middleware's name in the server's logs. Default `"db"`. */
  readonly name?: string;
  /**
   * How long the end-of-call cleanup waits for one step (a statement still running, `ROLLBACK`,
   * `COMMIT`, terminating a backend) before it destroys the connection instead. Default 5000 ms.
   */
  readonly cleanupTimeoutMs?: number;
}



/**
 * The database middleware: put it in `createServer(service, { middleware: [database] })` and get
 * the call's database handle in handlers with `database.db()` (or {@link getDb}).
 */
export interface DbMiddleware<THandle> extends ServerMiddleware {
  /** The name given in the options (default `"db"`). */
  readonly name: string;
  /**
   * The database handle of `call` (default: the current call, from `getCallContext()`). Cheap: the
   * handle is built once per call and checks out a connection only when first used.
   *
   * Throws a {@link DbMiddlewareError}: `"no-call"` outside a call, `"not-installed"` when this
   * middleware has not run for the call (not in the server's `middleware`, or asked for by an
   * earlier middleware's `beforeCall`).
   */
  db(call?: CallContext): THandle;
  /** Live counters (a snapshot object). */
  readonly stats: DbMiddlewareStats;
  /** Resolves once no call holds middleware state (every end-of-call cleanup finished). */
  idle(): Promise<void>;
  /** Closes the adapter (a pool or database it owns). Close the server first. */
  close(): Promise<void>;
  /** Same as {@link DbMiddleware.close}. */
  [Symbol.asyncDispose](): Promise<void>;
}


/** The default logger: a process warning per message, of type `ZrpcDbWarning`. */
const processWarningLogger: Logger = createProcessWarningLogger("ZrpcDbWarning");
const silentLogger: Logger = { warn: () => undefined };

function isAbandoned(outcome: CallOutcome): boolean {
  switch (outcome.kind) {
    case "lost-remote":
    case "canceled":
    case "timed-out":
    case "shutdown":
      return true;
    case "ok":
    case "error":
    case "stream-done":
      return false;
  }
}

class DbMiddlewareImpl<TConnection extends object, THandle> implements DbMiddleware<THandle> {
  readonly name: string;
  private readonly adapter: DbAdapter<TConnection, THandle>;
  private readonly atomic: boolean | ((call: CallContext) => boolean);
  private readonly log: Logger;
  private readonly leases: LeaseManager<TConnection, THandle>;
  /** The lease counters; the hooks count calls. */
  private readonly counters: LeaseManager<TConnection, THandle>["counters"];
  /** This instance's key in `call.locals`. */
  private readonly key = Symbol("zrpc.middleware-db.state");
  private idleWaiters: (() => void)[] = [];

  constructor(options: DbMiddlewareOptions<TConnection, THandle>) {
    if (options === undefined || options === null || options.adapter === undefined || options.adapter === null) {
      throw new TypeError("createDbMiddleware needs an adapter, e.g. { adapter: pgAdapter(pool) }");
    }
    const maxAge = options.maxAge === undefined ? null : options.maxAge;
    if (maxAge !== null && !(typeof maxAge === "number" && maxAge >= 0)) {
      throw new RangeError(`maxAge must be null or a number >= 0 (ms), got ${String(maxAge)}`);
    }
    const cleanupTimeoutMs = options.cleanupTimeoutMs ?? DEFAULT_CLEANUP_TIMEOUT_MS;
    if (!(cleanupTimeoutMs > 0)) throw new RangeError(`cleanupTimeoutMs must be > 0, got ${cleanupTimeoutMs}`);
    this.adapter = options.adapter;
    this.atomic = options.atomic ?? false;
    this.log = options.logger === null ? silentLogger : (options.logger ?? processWarningLogger);
    this.name = options.name ?? "db";
    this.leases = new LeaseManager(options.adapter, { maxAge, healthChecks: options.healthChecks ?? false, log: this.log, cleanupTimeoutMs });
    this.counters = this.leases.counters;
  }

  get stats(): DbMiddlewareStats {
    return { ...this.counters };
  }

  // ---- ServerMiddleware hooks -------------------------------------------------------------

  beforeCall(call: CallContext): void {
    if (call.introspection) return;
    const atomic = typeof this.atomic === "function" ? this.atomic(call) === true : this.atomic;
    const state = new CallState<TConnection, THandle>(this.leases, call, atomic);
    call.locals.set(this.key, state);
    if (!call.locals.has(DEFAULT_HANDLE_KEY)) call.locals.set(DEFAULT_HANDLE_KEY, () => this.db(call));
    this.counters.calls += 1;
    this.counters.activeCalls += 1;
  }

  async around(call: CallContext, next: () => Promise<unknown>): Promise<unknown> {
    const state = this.stateOf(call);
    if (state === undefined) return next();
    let result: unknown;
    try {
      result = await next();
    } catch (error) {
      // An abandoned call (lost client, shutdown) rejects here while its handler may still be
      // running: onEnd cleans up, destroying connections with statements still in flight.
      if (!call.signal.aborted) {
        await this.leases.cleanup(state, { final: false, abandoned: false, commit: false, when: "when it failed" }).catch((cleanupError: unknown) => {
          this.log.warn(`zrpc db: cleaning up after ${call.method} failed`, cleanupError);
        });
      }
      throw error;
    }
    // Commit (atomic) and give the connections back before the reply goes out, as Django commits
    // before the response: a failed COMMIT answers ERR instead of OK.
    await this.leases.cleanup(state, { final: false, abandoned: false, commit: true, when: "when it returned" });
    return result;
  }

  async onEnd(call: CallContext, outcome: CallOutcome): Promise<void> {
    const state = this.stateOf(call);
    if (state === undefined) return;
    const abandoned = isAbandoned(outcome);
    try {
      await this.leases.cleanup(state, {
        final: true,
        abandoned,
        commit: false,
        when: abandoned ? `when the call was abandoned (${outcome.kind})` : `when the call ended (${outcome.kind})`,
      });
    } catch (error) {
      this.log.warn(`zrpc db: cleaning up after ${call.method} failed`, error);
    } finally {
      this.counters.activeCalls -= 1;
      if (this.counters.activeCalls === 0) {
        const waiters = this.idleWaiters;
        this.idleWaiters = [];
        for (const wake of waiters) wake();
      }
    }
  }

  // ---- public API -------------------------------------------------------------------------

  db(call: CallContext | undefined = getCallContext()): THandle {
    if (call === undefined) {
      throw new DbMiddlewareError("no-call", "db() was called outside a zrpc call: call it from a handler (or pass the CallContext)");
    }
    const state = this.stateOf(call);
    if (state === undefined) {
      throw new DbMiddlewareError(
        "not-installed",
        `the ${this.name} middleware has not started for call ${call.method}: add it to createServer(..., { middleware: [...] }), before any middleware that uses the database`,
      );
    }
    state.handle ??= { value: this.adapter.createHandle(state) };
    return state.handle.value;
  }

  idle(): Promise<void> {
    if (this.counters.activeCalls === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  close(): Promise<void> {
    return this.adapter.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  // ---- per-call state ---------------------------------------------------------------------

  private stateOf(call: CallContext): CallState<TConnection, THandle> | undefined {
    return call.locals.get(this.key) as CallState<TConnection, THandle> | undefined;
  }
}

/**
 * Creates the database middleware: Django's `close_old_connections` before and after every call,
 * `CONN_MAX_AGE` (`maxAge`), `CONN_HEALTH_CHECKS` (`healthChecks`) and `ATOMIC_REQUESTS`
 * (`atomic`), for a pool of connections shared by concurrent calls.
 *
 * - Before: the first time a call uses the database, a connection is checked out; broken ones and
 *   (once reused) those older than `maxAge` are discarded and replaced.
 * - After, whatever the outcome (`ok`, `error`, `stream-done`, `lost-remote`, `canceled`,
 *   `timed-out`, `shutdown`): the atomic transaction is committed or rolled back, a transaction the
 *   handler left open is rolled back, connections it left checked out are released (each with a
 *   warning naming the method), and connections are closed instead of pooled when `maxAge` says so.
 *
 * Handlers reach the database only through `database.db()` / {@link getDb}, so that the middleware
 * sees every connection and transaction they open.
 */
export function createDbMiddleware<TConnection extends object, THandle>(
  options: DbMiddlewareOptions<TConnection, THandle>,
): DbMiddleware<THandle> {
  return new DbMiddlewareImpl(options);
}

/**
 * The database handle of the current call (or of `call`), from the first database middleware
 * installed on the server: `getDb<PgHandle>()` in a handler, at any depth (it reads
 * `getCallContext()`). With several database middleware, use each one's `db()` instead.
 *
 * Throws a {@link DbMiddlewareError}: `"no-call"` outside a call, `"not-installed"` when no
 * database middleware has run for the call.
 */
export function getDb<THandle = unknown>(call: CallContext | undefined = getCallContext()): THandle {
  if (call === undefined) {
    throw new DbMiddlewareError("no-call", "getDb() was called outside a zrpc call: call it from a handler (or pass the CallContext)");
  }
  const get = call.locals.get(DEFAULT_HANDLE_KEY) as (() => THandle) | undefined;
  if (get === undefined) {
    throw new DbMiddlewareError(
      "not-installed",
      `no database middleware has started for call ${call.method}: add createDbMiddleware(...) to createServer(..., { middleware: [...] })`,
    );
  }
  return get();
}
