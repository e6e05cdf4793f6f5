// The seam between the middleware (when to check out, validate, commit, roll back and give back
// connections) and a database driver (how to do each of those). Adapters in this package: `pg`
// (node-postgres pools), `pglite` (the embedded default) and `kysely` (on top of either).
import type { CallContext } from "@zrpc/server";

/**
 * What a connection's session reports about transactions (PostgreSQL's `ReadyForQuery` status):
 * - `idle`: not in a transaction block;
 * - `in-transaction`: inside `BEGIN` ... (`T`);
 * - `failed`: inside a transaction block that an error aborted (`E`): only `ROLLBACK` works;
 * - `unknown`: the driver cannot tell; the middleware then sends `ROLLBACK` to be safe, without a
 *   warning.
 */
export type TransactionStatus = "idle" | "in-transaction" | "failed" | "unknown";

/**
 * A database driver as the middleware sees it. `TConnection` is one checked-out session (a
 * `pg.PoolClient`); `THandle` is what handlers get from `db()` (for `pg`: a pool-like object whose
 * `query` runs on the call's connection).
 *
 * The middleware calls these methods; an adapter never decides policy (ages, warnings, commit or
 * rollback), it only carries it out. Connections are compared by identity, so `acquire` must hand
 * out the same object each time it lends the same session (pools do).
 */
export interface DbAdapter<TConnection extends object, THandle> {
  /** Shown in warnings (`"pg"`, `"pglite"`, `"kysely"`). */
  readonly name: string;
  /** Checks out a connection (from a pool, opening one when needed). May wait for a free one. */
  acquire(): Promise<TConnection>;
  /**
   * Gives a connection back. With `destroy`, it is closed instead of pooled: it is broken, too
   * old, or was abandoned in the middle of a statement. Must not throw for a broken connection.
   */
  release(connection: TConnection, destroy: boolean): void | Promise<void>;
  /**
   * True when the connection is known to be unusable without a round trip: its socket ended, the
   * server sent a fatal error (terminated backend, `idle_session_timeout`), the driver flagged it.
   */
  isBroken(connection: TConnection): boolean;
  /**
   * A round trip that proves the connection works (`SELECT 1`); resolves false (never rejects)
   * when it does not. Used by `healthChecks` on reused connections. Optional.
   */
  validate?(connection: TConnection): Promise<boolean>;
  /**
   * Milliseconds since the connection was opened (on the adapter's clock), for `maxAge`; undefined
   * when connections are not recycled by age (PGlite: the one session cannot be renewed).
   */
  age(connection: TConnection): number | undefined;
  /** Starts a transaction (`BEGIN`). */
  begin(connection: TConnection): Promise<void>;
  /**
   * Commits the transaction (`COMMIT`). Must reject when nothing was committed, including when the
   * database turned the COMMIT into a rollback (PostgreSQL does that, without an error, for a
   * transaction an earlier statement aborted).
   */
  commit(connection: TConnection): Promise<void>;
  /** Rolls the transaction back (`ROLLBACK`); also used to leave a `failed` transaction. */
  rollback(connection: TConnection): Promise<void>;
  /** The session's transaction state, without a round trip (see {@link TransactionStatus}). */
  transactionStatus(connection: TConnection): TransactionStatus;
  /**
   * Stops whatever the server is executing for a connection that is about to be destroyed while a
   * statement of an abandoned call still runs on it (PostgreSQL: `pg_terminate_backend` from a
   * separate connection), so that its locks and transaction go away now rather than when the
   * statement ends. Best effort; optional.
   */
  terminate?(connection: TConnection): Promise<void>;
  /** Builds the handle a call's handlers use (see {@link DbScope}); called at most once per call. */
  createHandle(scope: DbScope<TConnection>): THandle;
  /** Closes what the adapter owns (a pool it created, an embedded database it started). Idempotent. */
  close(): Promise<void>;
}

/**
 * What a handle can ask of the middleware for one call; given to {@link DbAdapter.createHandle}.
 * Every connection a handle hands to a handler must come from here, so that the middleware can
 * track it and clean up after the call.
 */
export interface DbScope<TConnection extends object> {
  /** The call this scope belongs to. */
  readonly call: CallContext;
  /** True once the call ended: every method then rejects with a `"call-ended"` `DbMiddlewareError`. */
  readonly isClosed: boolean;
  /**
   * The call's own connection: checked out (and validated) on first use, inside a transaction when
   * the call is `atomic`, the same one for every use during the call. The middleware gives it back;
   * a handle must never release it.
   */
  connection(): Promise<TConnection>;
  /**
   * Another connection, checked out for the handler to manage (`pool.connect()`). The handler
   * should give it back with {@link DbScope.release}; whatever it forgets is rolled back and
   * released at the end of the call, with a warning naming the method.
   */
  acquire(): Promise<TConnection>;
  /**
   * Gives back a connection from {@link DbScope.acquire} (an open transaction on it is rolled back
   * first, with a warning). Throws a `"released"` `DbMiddlewareError` when the handler gave it back
   * already; does nothing once the call ended (the middleware gave it back).
   */
  release(connection: TConnection, destroy?: boolean): void;
  /**
   * Runs `work` (a statement) on `connection`, counting it as in flight: at the end of an abandoned
   * call a connection with work in flight is destroyed (and terminated) rather than reused. Rejects
   * without running `work` once the call ended or the connection was given back.
   */
  run<T>(connection: TConnection, work: () => Promise<T>): Promise<T>;
  /** Like {@link DbScope.run} for work that is not a promise (callback APIs): only the checks. */
  check(connection: TConnection): void;
}
