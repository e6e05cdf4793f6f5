// The lease logic of the database middleware: which connections a call holds, checking them out
// (discarding broken, expired or unhealthy ones) and giving them back at the end of the call
// (commit or roll back, wait for or terminate statements still running, close instead of pool).
// The hooks that drive it are in middleware.ts.
import type { CallContext, Logger } from "@zrpc/server";
import type { DbAdapter, DbScope } from "./adapter.js";
import { DbMiddlewareError } from "./errors.js";

/**
 * Checking out a connection gives up after this many broken or expired ones in a row. A pool
 * holds at most `max` reused connections and a fresh one is never discarded, so reaching it
 * means something is badly wrong (the database closes every new session at once).
 */
const MAX_CHECKOUT_ATTEMPTS = 64;

/** Counters of a {@link DbMiddleware}, since it was created. */
export interface DbMiddlewareStats {
  /** Calls that started (introspection calls are not counted). */
  readonly calls: number;
  /** Calls started and not cleaned up yet. */
  readonly activeCalls: number;
  /** Connections checked out through the middleware (including those then discarded). */
  readonly checkouts: number;
  /** Connections checked out through the middleware and not given back yet. */
  readonly checkedOut: number;
  /** Connections discarded when checked out: broken, older than `maxAge`, or failing the health check. */
  readonly discarded: number;
  /** Connections closed instead of pooled when given back: `maxAge`, broken, or abandoned mid-statement. */
  readonly closed: number;
  /** Backends terminated because an abandoned call left a statement running on them. */
  readonly terminated: number;
  /** Connections a handler checked out and did not give back (each one warned about). */
  readonly leakedConnections: number;
  /** Transactions a handler left open and the middleware rolled back (each one warned about). */
  readonly leakedTransactions: number;
  /** `atomic` transactions committed. */
  readonly commits: number;
  /** `atomic` transactions rolled back (handler error, abandoned call, aborted transaction). */
  readonly rollbacks: number;
}

/** One connection lent to a call. */
export interface Lease<TConnection extends object> {
  readonly connection: TConnection;
  /** `main`: the call's own connection (the middleware gives it back); `extra`: the handler's to release. */
  readonly role: "main" | "extra";
  /** Statements in flight through the handle. */
  readonly inflight: Set<Promise<unknown>>;
  released: boolean;
}

/** How a cleanup pass runs. */
export interface CleanupMode {
  /** The call is over: nothing may be used any more. */
  readonly final: boolean;
  /** Lost client, cancellation, timeout or shutdown: the handler may still be running. */
  readonly abandoned: boolean;
  /** Commit the `atomic` transaction (the handler returned). */
  readonly commit: boolean;
  /** For warnings: "when it returned", "when the call was abandoned (lost-remote)", ... */
  readonly when: string;
}

/** Per-call state, stored in `call.locals`; also the scope handed to the adapter. */
export class CallState<TConnection extends object, THandle> implements DbScope<TConnection> {
  readonly call: CallContext;
  readonly leases = new Map<TConnection, Lease<TConnection>>();
  /** The main connection, once asked for (a promise: concurrent first uses share it). */
  main: Promise<TConnection> | undefined;
  /** The call is atomic and its handler has not finished. */
  atomicWanted: boolean;
  /** The atomic transaction was begun on the main connection and is not finished. */
  atomicOpen = false;
  closed = false;
  handle: { value: THandle } | undefined;
  /** Cleanup work, serialised: releases by the handler, the end of the handler, the end of the call. */
  chain: Promise<void> = Promise.resolve();
  private readonly owner: LeaseManager<TConnection, THandle>;

  constructor(owner: LeaseManager<TConnection, THandle>, call: CallContext, atomic: boolean) {
    this.owner = owner;
    this.call = call;
    this.atomicWanted = atomic;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  connection(): Promise<TConnection> {
    if (this.closed) return rejected(this.owner.ended(this));
    this.main ??= this.owner.openMain(this);
    return this.main;
  }

  acquire(): Promise<TConnection> {
    if (this.closed) return rejected(this.owner.ended(this));
    return this.owner.checkout(this, "extra");
  }

  release(connection: TConnection, destroy = false): void {
    this.owner.releaseExtra(this, connection, destroy);
  }

  run<T>(connection: TConnection, work: () => Promise<T>): Promise<T> {
    let lease: Lease<TConnection>;
    let promise: Promise<T>;
    try {
      lease = this.lease(connection);
      promise = work();
    } catch (error) {
      return rejected(error);
    }
    lease.inflight.add(promise);
    const done = (): void => {
      lease.inflight.delete(promise);
    };
    promise.then(done, done);
    return promise;
  }

  check(connection: TConnection): void {
    this.lease(connection);
  }

  private lease(connection: TConnection): Lease<TConnection> {
    if (this.closed) throw this.owner.ended(this);
    const lease = this.leases.get(connection);
    if (lease === undefined || lease.released) {
      throw new DbMiddlewareError("released", `this connection was already given back (method ${this.call.method})`);
    }
    return lease;
  }

  /** Queues `task` after the cleanup work already queued; the returned promise carries its outcome. */
  enqueue(task: () => Promise<void>): Promise<void> {
    const run = this.chain.then(task);
    this.chain = run.catch(() => undefined);
    return run;
  }
}

/** A promise rejected with whatever was thrown (drivers may throw anything). */
function rejected<T>(error: unknown): Promise<T> {
  // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- passes on what was thrown
  return Promise.reject(error);
}

/** Rejects with a timeout error if `promise` has not settled after `ms`. */
function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
    timer.unref?.();
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- passes on what the work rejected with
        reject(error);
      },
    );
  });
}

/** What the middleware's options say about leases. */
export interface LeaseSettings {
  readonly maxAge: number | null;
  readonly healthChecks: boolean;
  readonly log: Logger;
  readonly cleanupTimeoutMs: number;
}

/** @internal The connections of every call of one database middleware, and its counters. */
export class LeaseManager<TConnection extends object, THandle> {
  /** The counters behind {@link DbMiddlewareStats}; the hooks count calls. */
  readonly counters = {
    calls: 0,
    activeCalls: 0,
    checkouts: 0,
    checkedOut: 0,
    discarded: 0,
    closed: 0,
    terminated: 0,
    leakedConnections: 0,
    leakedTransactions: 0,
    commits: 0,
    rollbacks: 0,
  };
  private readonly adapter: DbAdapter<TConnection, THandle>;
  private readonly maxAge: number | null;
  private readonly healthChecks: boolean;
  private readonly log: Logger;
  private readonly cleanupTimeoutMs: number;
  /** Connections this middleware handed to a call before: only these are checked for age and health. */
  private readonly seen = new WeakSet<TConnection>();

  constructor(adapter: DbAdapter<TConnection, THandle>, settings: LeaseSettings) {
    this.adapter = adapter;
    this.maxAge = settings.maxAge;
    this.healthChecks = settings.healthChecks;
    this.log = settings.log;
    this.cleanupTimeoutMs = settings.cleanupTimeoutMs;
  }

  ended(state: CallState<TConnection, THandle>): DbMiddlewareError {
    return new DbMiddlewareError(
      "call-ended",
      `the call ${state.call.method} has ended (its database connections were given back); a handler still running after a lost client, a timeout or a shutdown cannot use the database`,
    );
  }

  async openMain(state: CallState<TConnection, THandle>): Promise<TConnection> {
    const connection = await this.checkout(state, "main");
    if (state.atomicWanted) {
      await state.run(connection, () => this.adapter.begin(connection));
      state.atomicOpen = true;
    }
    return connection;
  }

  /**
   * Checks out a connection for `state`, discarding broken ones and (for connections that served
   * an earlier call) expired ones and, with `healthChecks`, those failing a round trip: the
   * "before" half of Django's close_old_connections, done when the call first needs a connection.
   */
  async checkout(state: CallState<TConnection, THandle>, role: "main" | "extra"): Promise<TConnection> {
    for (let attempt = 1; ; attempt++) {
      const connection = await this.adapter.acquire();
      this.counters.checkouts += 1;
      this.counters.checkedOut += 1;
      let reason: string | undefined;
      if (!state.closed) {
        const reused = this.seen.has(connection);
        if (this.adapter.isBroken(connection)) reason = "it is broken";
        else if (reused && this.tooOld(connection)) reason = "it is older than maxAge";
        else if (reused && this.healthChecks && this.adapter.validate !== undefined && !(await this.adapter.validate(connection))) {
          reason = "it failed its health check";
        }
      }
      if (state.closed) {
        // The call ended while we waited for the pool: nobody will use this connection.
        await this.giveBack(connection, false);
        throw this.ended(state);
      }
      if (reason === undefined) {
        this.seen.add(connection);
        state.leases.set(connection, { connection, role, inflight: new Set(), released: false });
        return connection;
      }
      this.counters.discarded += 1;
      this.log.debug?.(`zrpc db: discarded a ${this.adapter.name} connection before ${state.call.method}: ${reason}`);
      await this.giveBack(connection, true);
      if (attempt >= MAX_CHECKOUT_ATTEMPTS) {
        throw new DbMiddlewareError("no-connection", `no usable ${this.adapter.name} connection after discarding ${attempt} in a row`);
      }
    }
  }

  releaseExtra(state: CallState<TConnection, THandle>, connection: TConnection, destroy: boolean): void {
    // After the call ended the middleware has given everything back; a handler still running
    // (abandoned call) that releases in a `finally` must not get an error that hides its own.
    if (state.closed) return;
    const lease = state.leases.get(connection);
    if (lease === undefined || lease.released) {
      throw new DbMiddlewareError("released", `release() was called on a connection already given back (method ${state.call.method})`);
    }
    if (lease.role === "main") return; // the middleware gives the call's own connection back
    lease.released = true;
    state.leases.delete(connection);
    void state
      .enqueue(() =>
        this.finishLease(state, lease, { final: false, abandoned: false, commit: false, when: "when it released it" }, {
          atomic: false,
          releasedByHandler: true,
          destroy,
        }),
      )
      .catch((error: unknown) => this.log.warn(`zrpc db: giving back a connection of ${state.call.method} failed`, error));
  }


  /**
   * Commits or rolls back the atomic transaction, rolls back what the handler left open, gives
   * every connection back: the "after" half of close_old_connections. Rejects only when the
   * atomic COMMIT failed (or the transaction was aborted), so that the call answers ERR.
   */
  cleanup(state: CallState<TConnection, THandle>, mode: CleanupMode): Promise<void> {
    // At once, not when the queued work starts: from now on the handle refuses new work.
    if (mode.final) state.closed = true;
    return state.enqueue(async () => {
      const main = state.main;
      state.main = undefined;
      // A first use still checking out (or beginning) finishes first, so that its lease is seen.
      if (main !== undefined) await main.catch(() => undefined);
      const atomicOpen = state.atomicOpen;
      state.atomicOpen = false;
      state.atomicWanted = false;
      let failure: unknown;
      // Main first: it may hold the atomic transaction that the extras' work depends on.
      const leases = [...state.leases.values()].sort((a, b) => (a.role === b.role ? 0 : a.role === "main" ? -1 : 1));
      for (const lease of leases) {
        lease.released = true;
        state.leases.delete(lease.connection);
        try {
          await this.finishLease(state, lease, mode, { atomic: lease.role === "main" && atomicOpen, releasedByHandler: false, destroy: false });
        } catch (error) {
          failure ??= error;
        }
      }
      if (failure !== undefined) throw failure as Error;
    });
  }

  /** Settles the work, the transaction and the return of one connection. */
  private async finishLease(
    state: CallState<TConnection, THandle>,
    lease: Lease<TConnection>,
    mode: CleanupMode,
    how: { readonly atomic: boolean; readonly releasedByHandler: boolean; readonly destroy: boolean },
  ): Promise<void> {
    const { adapter } = this;
    const { connection } = lease;
    const { atomic } = how;
    const method = state.call.method;
    let destroy = how.destroy;
    let failure: unknown;

    if (lease.inflight.size > 0) {
      let settled = false;
      if (!mode.abandoned) {
        // The handler finished but left statements running: let them finish first.
        settled = await withTimeout(Promise.allSettled([...lease.inflight]), this.cleanupTimeoutMs, "a statement")
          .then(() => true)
          .catch(() => false);
      }
      if (!settled) {
        // Abandoned mid-statement: the statement's transaction cannot be ended from this session.
        destroy = true;
        if (adapter.terminate !== undefined) {
          this.counters.terminated += 1;
          await withTimeout(adapter.terminate(connection), this.cleanupTimeoutMs, "terminating a backend").catch((error: unknown) => {
            this.log.warn(`zrpc db: could not terminate the backend of an abandoned statement of ${method}`, error);
          });
        }
      }
    }

    let committed = false;
    if (!destroy && !adapter.isBroken(connection)) {
      const status = adapter.transactionStatus(connection);
      if (atomic) {
        if (mode.commit && (status === "in-transaction" || status === "unknown")) {
          try {
            await withTimeout(adapter.commit(connection), this.cleanupTimeoutMs, "COMMIT");
            committed = true;
          } catch (error) {
            // A failed COMMIT (serialization failure, deferred constraint, aborted transaction)
            // leaves nothing committed.
            failure = error;
            if (adapter.transactionStatus(connection) !== "idle" && !(await this.rollback(connection))) destroy = true;
          }
        } else if (mode.commit && status === "failed") {
          // PostgreSQL would answer COMMIT with ROLLBACK and no error: the client must not get OK.
          if (!(await this.rollback(connection))) destroy = true;
          failure = new DbMiddlewareError(
            "transaction-aborted",
            `the atomic transaction of ${method} was aborted by an earlier error (caught by the handler) and has been rolled back`,
          );
        } else if (mode.commit && status === "idle") {
          committed = true; // whatever the handler did, there is nothing left to roll back
          this.log.warn(`zrpc db: method "${method}" ended the atomic transaction itself (COMMIT or ROLLBACK); nothing to commit`);
        } else if (status !== "idle" && !(await this.rollback(connection))) {
          destroy = true;
        }
      } else if (status !== "idle") {
        if (status !== "unknown") {
          this.counters.leakedTransactions += 1;
          this.log.warn(`zrpc db: method "${method}" left a transaction open ${mode.when}; rolled it back`);
        }
        if (!(await this.rollback(connection))) destroy = true;
      }
    }
    // An atomic transaction that did not commit was rolled back: by ROLLBACK, or by closing its
    // session (which the server rolls back).
    if (atomic) {
      if (committed) this.counters.commits += 1;
      else this.counters.rollbacks += 1;
    }

    if (lease.role === "extra" && !how.releasedByHandler) {
      this.counters.leakedConnections += 1;
      this.log.warn(`zrpc db: method "${method}" left a connection checked out ${mode.when}; released it`);
    }

    if (!destroy) {
      destroy = adapter.isBroken(connection) || this.tooOld(connection);
    }
    if (destroy) this.counters.closed += 1;
    await this.giveBack(connection, destroy);
    if (failure !== undefined) throw failure as Error;
  }

  private tooOld(connection: TConnection): boolean {
    if (this.maxAge === null) return false;
    const age = this.adapter.age(connection);
    return age !== undefined && age >= this.maxAge;
  }

  /** ROLLBACK, bounded by the cleanup timeout; false when it failed (the connection should be destroyed). */
  private async rollback(connection: TConnection): Promise<boolean> {
    try {
      await withTimeout(this.adapter.rollback(connection), this.cleanupTimeoutMs, "ROLLBACK");
      return true;
    } catch {
      return false;
    }
  }

  private async giveBack(connection: TConnection, destroy: boolean): Promise<void> {
    this.counters.checkedOut -= 1;
    try {
      await this.adapter.release(connection, destroy);
    } catch (error) {
      this.log.warn(`zrpc db: giving a ${this.adapter.name} connection back failed`, error);
    }
  }
}
