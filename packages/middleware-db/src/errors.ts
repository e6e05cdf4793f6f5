// Errors of @zrpc/middleware-db. Identity is decided by a `Symbol.for` brand (STYLE.md section 3):
// each entry point (`.`, `./pg`, `./pglite`, `./kysely`) and each format (ESM, CJS) bundles its own
// copy of this class, and a check must work across all of them.

/** What went wrong, see {@link DbMiddlewareError}. */
export type DbMiddlewareErrorCode =
  /** `db()` / `getDb()` was called outside a call (no `CallContext`). */
  | "no-call"
  /** The call has no state of this middleware: it is not in the server's `middleware`, or it runs after the code asking. */
  | "not-installed"
  /** The call already ended (its connections were given back): a handler still running after a lost client, a timeout or a shutdown. */
  | "call-ended"
  /** A connection handed out for this call was released already. */
  | "released"
  /** `atomic`: the transaction was aborted by an earlier error, so it was rolled back instead of committed. */
  | "transaction-aborted"
  /** No usable connection after discarding broken or expired ones many times in a row. */
  | "no-connection";

const BRAND = Symbol.for("zrpc.middleware-db.DbMiddlewareError");

/**
 * An error of the database middleware. Handlers see it when they use a database handle in a way
 * the middleware cannot honour (outside a call, after the call ended); the client sees it as
 * `ERR ["DbMiddlewareError", message, ...]` when it escapes a handler, e.g. an `atomic` call whose
 * transaction was aborted.
 */
export class DbMiddlewareError extends Error {
  /** Machine-readable reason, see {@link DbMiddlewareErrorCode}. */
  readonly code: DbMiddlewareErrorCode;

  /**
   * @param code - machine-readable reason
   * @param message - human-readable description
   * @param options - standard `ErrorOptions` (`cause`)
   */
  constructor(code: DbMiddlewareErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "DbMiddlewareError";
    this.code = code;
  }

  /** True for a `DbMiddlewareError` from any loaded copy of this package. */
  static isInstance(value: unknown): value is DbMiddlewareError {
    return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
  }
}
Object.defineProperty(DbMiddlewareError.prototype, BRAND, { value: true, configurable: true });
