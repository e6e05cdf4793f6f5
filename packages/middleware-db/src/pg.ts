// `@zrpc/middleware-db/pg`: the node-postgres adapter (a `pg.Pool`).
import pg from "pg";
import type { Pool, PoolClient, PoolConfig } from "pg";
import type { DbAdapter, TransactionStatus } from "./adapter.js";
import { DbMiddlewareError } from "./errors.js";
import { createPgHandle } from "./pg-handle.js";
import type { PgHandle } from "./pg-handle.js";

export type { PgHandle } from "./pg-handle.js";
export type { DbAdapter, DbScope, TransactionStatus } from "./adapter.js";

/** A time source in milliseconds (for tests: a fake clock to age connections). */
export interface AdapterClock {
  now(): number;
}

/** Options of {@link pgAdapter}. */
export interface PgAdapterOptions {
  /**
   * End the pool in `close()`. Default: true when the adapter created the pool (from a config or
   * a connection string), false for a pool you passed in.
   */
  readonly ownsPool?: boolean;
  /** Clock for connection ages (`maxAge`). Default `Date.now`. */
  readonly clock?: AdapterClock;
  /**
   * When an abandoned call (lost client, shutdown) still has a statement running, terminate its
   * backend with `pg_terminate_backend` from a separate short-lived connection before the client
   * is destroyed, so that its transaction and locks go away now instead of when the statement
   * ends. Needs the right to terminate the pool's own sessions (the same role, or
   * `pg_signal_backend`). Default true.
   */
  readonly terminateAbandoned?: boolean;
}

/** The node-postgres adapter; `pool` is the pool it checks connections out of. */
export interface PgAdapter extends DbAdapter<PoolClient, PgHandle> {
  /** The pool (yours, or the one created from the config). */
  readonly pool: Pool;
}

function isPool(value: unknown): value is Pool {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as Pool).connect === "function" &&
    typeof (value as Pool).end === "function" &&
    typeof (value as Pool).totalCount === "number"
  );
}

function abortedTransaction(): DbMiddlewareError {
  return new DbMiddlewareError("transaction-aborted", "the transaction was aborted by an earlier error and has been rolled back, not committed");
}

const STATUS: Record<string, TransactionStatus> = { I: "idle", T: "in-transaction", E: "failed" };

/**
 * An adapter for a node-postgres `pg.Pool`: pass your pool (it stays yours), or a `PoolConfig` /
 * connection string to have one created (and ended by `close()`).
 *
 * What it adds to the pool, on purpose:
 * - an `"error"` listener on the pool and on every client: pg.Pool emits the errors of idle
 *   clients (a terminated backend, `idle_session_timeout`) as `"error"` events, and an
 *   `EventEmitter` with no listener throws them, which would crash the server. The clients are
 *   marked broken instead and discarded on their next checkout;
 * - the time each client connected, for `maxAge`.
 */
export function pgAdapter(pool: Pool | PoolConfig | string, options: PgAdapterOptions = {}): PgAdapter {
  const created = !isPool(pool);
  const thePool: Pool = isPool(pool) ? pool : new pg.Pool(typeof pool === "string" ? { connectionString: pool } : pool);
  const ownsPool = options.ownsPool ?? created;
  const clock = options.clock ?? { now: () => Date.now() };
  const terminateAbandoned = options.terminateAbandoned ?? true;
  const born = new WeakMap<PoolClient, number>();
  const broken = new WeakSet<PoolClient>();
  const watched = new WeakSet<PoolClient>();
  let closing: Promise<void> | undefined;

  const watch = (client: PoolClient): void => {
    if (watched.has(client)) return;
    watched.add(client);
    if (!born.has(client)) born.set(client, clock.now());
    // Also keeps the error of a checked-out client (the pool listens only to idle ones) from
    // being thrown by the EventEmitter.
    client.on("error", () => broken.add(client));
    client.on("end", () => broken.add(client));
  };
  thePool.on("connect", watch);
  thePool.on("error", (_error: Error, client: PoolClient) => {
    broken.add(client);
  });

  const transactionStatus = (client: PoolClient): TransactionStatus => {
    const status = typeof client.getTransactionStatus === "function" ? client.getTransactionStatus() : null;
    return (status === null ? undefined : STATUS[status]) ?? "unknown";
  };

  return {
    name: "pg",
    pool: thePool,
    async acquire(): Promise<PoolClient> {
      const client = await thePool.connect();
      watch(client);
      return client;
    },
    release(client: PoolClient, destroy: boolean): void {
      // pg.Pool closes a client released with an error instead of pooling it.
      client.release(destroy ? new Error("zrpc db: connection discarded") : undefined);
    },
    isBroken(client: PoolClient): boolean {
      // `_queryable` / `_ending` are what pg.Pool itself checks on release (it has no public API).
      const internals = client as unknown as { _queryable?: boolean; _ending?: boolean };
      return broken.has(client) || internals._queryable === false || internals._ending === true;
    },
    async validate(client: PoolClient): Promise<boolean> {
      try {
        await client.query("SELECT 1");
        return true;
      } catch {
        broken.add(client);
        return false;
      }
    },
    age(client: PoolClient): number {
      const at = born.get(client);
      return at === undefined ? 0 : clock.now() - at;
    },
    async begin(client: PoolClient): Promise<void> {
      await client.query("BEGIN");
    },
    async commit(client: PoolClient): Promise<void> {
      const result = await client.query("COMMIT");
      // COMMIT of an aborted transaction "succeeds" with the tag ROLLBACK.
      if (result.command === "ROLLBACK") throw abortedTransaction();
    },
    async rollback(client: PoolClient): Promise<void> {
      await client.query("ROLLBACK");
    },
    transactionStatus,
    ...(terminateAbandoned
      ? {
          async terminate(client: PoolClient): Promise<void> {
            const pid = (client as unknown as { processID?: unknown }).processID;
            if (typeof pid !== "number") return;
            const ClientClass = (thePool as unknown as { Client?: typeof pg.Client }).Client ?? pg.Client;
            const killer = new ClientClass(thePool.options);
            killer.on("error", () => undefined);
            try {
              await killer.connect();
              await killer.query("SELECT pg_terminate_backend($1)", [pid]);
            } finally {
              await killer.end().catch(() => undefined);
            }
          },
        }
      : {}),
    createHandle: (scope) => createPgHandle(scope, { transactionStatus }),
    close(): Promise<void> {
      if (!ownsPool) return Promise.resolve();
      closing ??= thePool.ended || thePool.ending ? Promise.resolve() : thePool.end();
      return closing;
    },
  };
}
