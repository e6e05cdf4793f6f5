// @zrpc/middleware-db: database connections for zrpc servers, the way Django's
// close_old_connections, CONN_MAX_AGE and ATOMIC_REQUESTS handle them. Adapters live in their own
// entry points so that each pulls in only its driver: `./pg`, `./pglite`, `./kysely`.

export { createDbMiddleware, getDb, DEFAULT_CLEANUP_TIMEOUT_MS } from "./middleware.js";
export type { DbMiddleware, DbMiddlewareOptions } from "./middleware.js";
export type { DbMiddlewareStats } from "./leases.js";
export type { DbAdapter, DbScope, TransactionStatus } from "./adapter.js";
export { DbMiddlewareError } from "./errors.js";
export type { DbMiddlewareErrorCode } from "./errors.js";
