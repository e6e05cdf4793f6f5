// `@zrpc/middleware-db/kysely`: the same connections as the pg (or pglite) adapter, with a
// `Kysely<DB>` as the handle. Kysely's own PostgreSQL driver runs on the call's connection, so
// `atomic`, leak cleanup and `maxAge` work as for raw queries; transactions opened with
// `db.transaction()` inside an atomic call become savepoints.
import { CompiledQuery, Kysely, PostgresAdapter, PostgresDriver, PostgresIntrospector, PostgresQueryCompiler } from "kysely";
import type { DatabaseConnection, KyselyPlugin, LogConfig, PostgresCursorConstructor, PostgresPool, TransactionSettings } from "kysely";
import type { Pool, PoolClient, PoolConfig } from "pg";
import type { DbAdapter, DbScope, TransactionStatus } from "./adapter.js";
import { pgAdapter } from "./pg.js";
import type { PgHandle } from "./pg-handle.js";

/** Options of {@link kyselyAdapter}. */
export interface KyselyAdapterOptions {
  /** Kysely plugins for every call's instance (e.g. `CamelCasePlugin`). */
  readonly plugins?: KyselyPlugin[];
  /** Kysely's `log` option. */
  readonly log?: LogConfig;
  /** `pg-cursor`'s `Cursor`, to enable `.stream()` (as in Kysely's `PostgresDialect`). */
  readonly cursor?: PostgresCursorConstructor;
}

/** The kysely adapter; `base` is the pg or pglite adapter whose connections it uses. */
export interface KyselyAdapter<TDatabase> extends DbAdapter<PoolClient, Kysely<TDatabase>> {
  /** The adapter that checks out the connections. */
  readonly base: DbAdapter<PoolClient, PgHandle>;
}

function isAdapter(value: unknown): value is DbAdapter<PoolClient, PgHandle> {
  return typeof value === "object" && value !== null && typeof (value as { createHandle?: unknown }).createHandle === "function";
}

/**
 * Kysely's PostgreSQL driver on one call's connection. A transaction begun while the connection is
 * already in one (the call is `atomic`, or the handler began one) becomes a savepoint, as nested
 * `transaction.atomic()` blocks do in Django; otherwise it is Kysely's own `BEGIN`/`COMMIT`.
 */
class CallDriver extends PostgresDriver {
  /** One entry per open Kysely transaction: the savepoint name, or undefined for a real transaction. */
  readonly #stack: (string | undefined)[] = [];
  readonly #status: () => Promise<TransactionStatus>;

  constructor(pool: PostgresPool, status: () => Promise<TransactionStatus>, cursor: PostgresCursorConstructor | undefined) {
    super({ pool, ...(cursor === undefined ? {} : { cursor }) });
    this.#status = status;
  }

  override async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    const status = await this.#status();
    if (status === "idle" || status === "unknown") {
      this.#stack.push(undefined);
      await super.beginTransaction(connection, settings);
      return;
    }
    if (settings.isolationLevel !== undefined || settings.accessMode !== undefined) {
      throw new Error("cannot set the isolation level or access mode of a transaction nested in the call's transaction (atomic)");
    }
    const name = `zrpc_kysely_${this.#stack.length + 1}`;
    this.#stack.push(name);
    await connection.executeQuery(CompiledQuery.raw(`savepoint ${name}`));
  }

  override async commitTransaction(connection: DatabaseConnection): Promise<void> {
    const name = this.#stack.pop();
    if (name === undefined) await super.commitTransaction(connection);
    else await connection.executeQuery(CompiledQuery.raw(`release savepoint ${name}`));
  }

  override async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    const name = this.#stack.pop();
    if (name === undefined) await super.rollbackTransaction(connection);
    else await connection.executeQuery(CompiledQuery.raw(`rollback to savepoint ${name}`));
  }
}

/**
 * An adapter whose handle is a `Kysely<TDatabase>` bound to the call: pass the pg or pglite
 * adapter whose connections it should use, or a `pg.Pool` / `PoolConfig` / connection string (a
 * `pgAdapter` is made for it).
 *
 * ```ts
 * const database = createDbMiddleware({ adapter: kyselyAdapter<Database>(pool), atomic: true });
 * const user = await database.db().selectFrom("users").selectAll().where("id", "=", id).executeTakeFirst();
 * ```
 *
 * Each call gets its own small `Kysely` instance (built on first use, never `destroy()`ed: it
 * owns nothing); its queries run on the call's connection. Streaming needs `cursor`.
 */
export function kyselyAdapter<TDatabase>(
  base: DbAdapter<PoolClient, PgHandle> | Pool | PoolConfig | string,
  options: KyselyAdapterOptions = {},
): KyselyAdapter<TDatabase> {
  const adapter = isAdapter(base) ? base : pgAdapter(base);
  return {
    name: "kysely",
    base: adapter,
    acquire: () => adapter.acquire(),
    release: (connection, destroy) => adapter.release(connection, destroy),
    isBroken: (connection) => adapter.isBroken(connection),
    ...(adapter.validate === undefined ? {} : { validate: adapter.validate.bind(adapter) }),
    age: (connection) => adapter.age(connection),
    begin: (connection) => adapter.begin(connection),
    commit: (connection) => adapter.commit(connection),
    rollback: (connection) => adapter.rollback(connection),
    transactionStatus: (connection) => adapter.transactionStatus(connection),
    ...(adapter.terminate === undefined ? {} : { terminate: adapter.terminate.bind(adapter) }),
    createHandle(scope: DbScope<PoolClient>): Kysely<TDatabase> {
      const handle = adapter.createHandle(scope);
      // The call's connection, whose release() does nothing: Kysely "releases" it after each query.
      const pool: PostgresPool = {
        connect: () => handle.client(),
        end: () => Promise.resolve(),
      };
      const status = async (): Promise<TransactionStatus> => adapter.transactionStatus(await scope.connection());
      const driver = new CallDriver(pool, status, options.cursor);
      return new Kysely<TDatabase>({
        dialect: {
          createAdapter: () => new PostgresAdapter(),
          createDriver: () => driver,
          createIntrospector: (db) => new PostgresIntrospector(db),
          createQueryCompiler: () => new PostgresQueryCompiler(),
        },
        ...(options.plugins === undefined ? {} : { plugins: options.plugins }),
        ...(options.log === undefined ? {} : { log: options.log }),
      });
    },
    close: () => adapter.close(),
  };
}
