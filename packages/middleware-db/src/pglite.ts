// `@zrpc/middleware-db/pglite`: PGlite (PostgreSQL compiled to WebAssembly, in process) as the
// embedded default. It goes through node-postgres (`@electric-sql/pglite/node-postgres`), so
// handlers get the same `PgHandle` as with a real server and run unchanged on both.
import { PGlite } from "@electric-sql/pglite";
import { createPgConfig } from "@electric-sql/pglite/node-postgres";
import pg from "pg";
import type { Pool, PoolClient, PoolConfig } from "pg";
import type { DbAdapter } from "./adapter.js";
import { pgAdapter } from "./pg.js";
import { createPgHandle } from "./pg-handle.js";
import type { PgHandle } from "./pg-handle.js";

export type { PgHandle } from "./pg-handle.js";

/** Options of {@link pgliteAdapter}. */
export interface PgliteAdapterOptions {
  /**
   * Close the PGlite database in `close()`. Default: true when the adapter created it (no
   * instance given), false for an instance you passed in.
   */
  readonly ownsDatabase?: boolean;
}

/** The PGlite adapter: `db` is the database, `pool` the one-connection node-postgres pool over it. */
export interface PgliteAdapter extends DbAdapter<PoolClient, PgHandle> {
  /** The PGlite database. */
  readonly db: PGlite;
  /** The node-postgres pool over it (one client: PGlite is a single session). */
  readonly pool: Pool;
}

/**
 * An adapter for PGlite: pass a `PGlite` instance, a data directory (`"memory://"`, a path), or
 * nothing for a new in-memory database (started in the background; closed by `close()`).
 *
 * PGlite is one PostgreSQL session inside this process, so the adapter differs from `pgAdapter`:
 * - one connection: calls that use the database take turns (each holds it until it ends);
 *   `connect()` on the handle returns the call's connection;
 * - nothing to recycle: `maxAge` closes nothing (there is no server session to renew), but a
 *   transaction left open is still rolled back after every call;
 * - broken means the database was closed.
 */
export function pgliteAdapter(db?: PGlite | string, options: PgliteAdapterOptions = {}): PgliteAdapter {
  const given = typeof db === "object" && db !== null;
  const database = given ? db : new PGlite(db);
  const ownsDatabase = options.ownsDatabase ?? !given;
  // No idle timeout: every pg client shares the one PGlite connection object, and a client closed
  // by the pool would deliver its "end" to the next one.
  const config = Object.assign(createPgConfig(database), { max: 1, idleTimeoutMillis: 0 }) as unknown as PoolConfig;
  const pool = new pg.Pool(config);
  const base = pgAdapter(pool, { ownsPool: true, terminateAbandoned: false });
  let closing: Promise<void> | undefined;

  return {
    name: "pglite",
    db: database,
    pool,
    acquire: () => base.acquire(),
    async release(client: PoolClient, destroy: boolean): Promise<void> {
      if (database.closed) {
        await base.release(client, true);
        return;
      }
      // Never destroy: a new client would reuse the same PGlite session anyway (and could get the
      // old client's "end"). Leave the session clean instead.
      if (destroy && base.transactionStatus(client) !== "idle") await client.query("ROLLBACK").catch(() => undefined);
      await base.release(client, false);
    },
    isBroken: (client) => database.closed || base.isBroken(client),
    validate: async (client) => !database.closed && (await base.validate?.(client)) === true,
    age: () => undefined,
    begin: (client) => base.begin(client),
    commit: (client) => base.commit(client),
    rollback: (client) => base.rollback(client),
    transactionStatus: (client) => base.transactionStatus(client),
    createHandle: (scope) => createPgHandle(scope, { transactionStatus: (client) => base.transactionStatus(client), singleSession: true }),
    close(): Promise<void> {
      closing ??= (async () => {
        await base.close();
        if (ownsDatabase && !database.closed) await database.close();
      })();
      return closing;
    },
  };
}
