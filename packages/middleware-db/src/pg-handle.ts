// The handle handlers get with the pg and pglite adapters: a small pool-like object whose queries
// run on the call's connection, and guarded clients that the middleware can account for.
import type { PoolClient, QueryConfig, QueryConfigValues, QueryResult, QueryResultRow } from "pg";
import type { DbScope, TransactionStatus } from "./adapter.js";
import { DbMiddlewareError } from "./errors.js";

/**
 * The database handle of one call, for the `pg` and `pglite` adapters. Write handlers against it
 * and they run unchanged on PGlite and on PostgreSQL.
 *
 * ```ts
 * const { rows } = await database.db().query("SELECT name FROM users WHERE id = $1", [id]);
 * ```
 */
export interface PgHandle {
  /**
   * Runs a statement on the call's connection, which is checked out on the first use and kept for
   * the whole call (so `SET`, temporary tables and transactions behave as on one session; with
   * `atomic` everything runs in the call's transaction). Same arguments as `pg`'s `query`.
   */
  query<TRow extends QueryResultRow = QueryResultRow, TValues = unknown[]>(
    text: string | QueryConfig<TValues>,
    values?: QueryConfigValues<TValues>,
  ): Promise<QueryResult<TRow>>;
  /**
   * The call's connection itself, for what needs a client (cursors, `COPY`, `LISTEN`). Its
   * `release()` does nothing: the middleware gives it back when the call ends.
   */
  client(): Promise<PoolClient>;
  /**
   * Checks out another connection, like `pool.connect()`: a separate session outside the call's
   * transaction. Release it yourself; a connection still checked out when the call ends is rolled
   * back and released, with a warning naming the method. With `pglite` (one session) this is the
   * call's connection, as with {@link PgHandle.client}.
   */
  connect(): Promise<PoolClient>;
  /**
   * Runs `fn` in a transaction on the call's connection: `BEGIN` ... `COMMIT`, or a savepoint when
   * the connection is already in a transaction (an `atomic` call, a nested `transaction`); rolled
   * back when `fn` throws. Like Django's `transaction.atomic()` block.
   */
  transaction<T>(fn: (db: PgHandle) => Promise<T>): Promise<T>;
}

/** Options of {@link createPgHandle}. @internal */
export interface PgHandleOptions {
  /** The adapter's view of a session's transaction state. */
  readonly transactionStatus: (client: PoolClient) => TransactionStatus;
  /** One session only (PGlite): `connect()` returns the call's connection. */
  readonly singleSession?: boolean;
}

type QueryArgs = Parameters<PoolClient["query"]>;

/**
 * A client that routes `query` through the scope (so the middleware knows what is in flight and
 * refuses use after the call ended) and `release` to the scope (or nowhere, for the call's own
 * connection). Everything else is the real client.
 */
function guardClient(scope: DbScope<PoolClient>, client: PoolClient, role: "main" | "extra"): PoolClient {
  const query = (...args: QueryArgs): unknown => {
    const first = args[0] as unknown;
    const last = args[args.length - 1] as unknown;
    const submittable = typeof first === "object" && first !== null && typeof (first as { submit?: unknown }).submit === "function";
    if (typeof last === "function" || submittable) {
      // Callback style and submittables (cursors, streams) return no promise to track.
      scope.check(client);
      return (client.query as (...rest: QueryArgs) => unknown)(...args);
    }
    return scope.run(client, () => (client.query as (...rest: QueryArgs) => Promise<unknown>)(...args));
  };
  const release = role === "main" ? (): void => undefined : (error?: Error | boolean): void => scope.release(client, error !== undefined && error !== false);
  return new Proxy(client, {
    get(target, property) {
      if (property === "query") return query;
      if (property === "release") return release;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === "function" ? (value as (...rest: unknown[]) => unknown).bind(target) : value;
    },
    set(target, property, value) {
      return Reflect.set(target, property, value, target);
    },
  });
}

/**
 * Builds a {@link PgHandle} on a call's scope.
 * @internal
 */
export function createPgHandle(scope: DbScope<PoolClient>, options: PgHandleOptions): PgHandle {
  const guarded = new WeakMap<PoolClient, PoolClient>();
  let savepoints = 0;

  const mainClient = async (): Promise<PoolClient> => {
    const client = await scope.connection();
    let proxy = guarded.get(client);
    if (proxy === undefined) guarded.set(client, (proxy = guardClient(scope, client, "main")));
    return proxy;
  };

  const run = async (sql: string): Promise<string> => {
    const client = await scope.connection();
    const result = await scope.run(client, () => client.query(sql));
    return result.command;
  };

  const handle: PgHandle = {
    async query<TRow extends QueryResultRow = QueryResultRow, TValues = unknown[]>(
      text: string | QueryConfig<TValues>,
      values?: QueryConfigValues<TValues>,
    ): Promise<QueryResult<TRow>> {
      const client = await scope.connection();
      return scope.run(client, () => client.query<TRow, TValues>(text, values));
    },
    client: mainClient,
    async connect(): Promise<PoolClient> {
      if (options.singleSession === true) return mainClient();
      const client = await scope.acquire();
      return guardClient(scope, client, "extra");
    },
    async transaction<T>(fn: (db: PgHandle) => Promise<T>): Promise<T> {
      const client = await scope.connection();
      const nested = options.transactionStatus(client) !== "idle" && options.transactionStatus(client) !== "unknown";
      const savepoint = nested ? `zrpc_savepoint_${++savepoints}` : undefined;
      await run(savepoint === undefined ? "BEGIN" : `SAVEPOINT ${savepoint}`);
      try {
        const result = await fn(handle);
        const aborted = (): DbMiddlewareError =>
          new DbMiddlewareError("transaction-aborted", "the transaction was aborted by an error that the block caught; it has been rolled back");
        if (options.transactionStatus(client) === "failed") throw aborted();
        // COMMIT of an aborted transaction "succeeds" with the tag ROLLBACK.
        if ((await run(savepoint === undefined ? "COMMIT" : `RELEASE SAVEPOINT ${savepoint}`)) === "ROLLBACK") throw aborted();
        return result;
      } catch (error) {
        if (!scope.isClosed && options.transactionStatus(client) !== "idle") {
          await run(savepoint === undefined ? "ROLLBACK" : `ROLLBACK TO SAVEPOINT ${savepoint}`).catch(() => undefined);
        }
        throw error;
      } finally {
        if (savepoint !== undefined) savepoints -= 1;
      }
    },
  };
  return handle;
}
