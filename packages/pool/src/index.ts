// @zrpc/pool: a bounded pool of zerorpc clients over one or more servers, with LIFO reuse, FIFO
// waiters, health checks, ejection of failing endpoints and DNS expansion.

// For users.
export { createPool } from "./pool.js";
export type { Pool, PoolCallRest } from "./pool.js";
export type { EndpointState } from "./endpoint.js";
export type { EndpointMetrics, PoolMetrics } from "./metrics.js";
export { poolDefaults } from "./options.js";
export type {
  AcquireOptions,
  BalancePolicy,
  ConnectFactory,
  EjectionOptions,
  EvictReason,
  Lookup,
  LookupAddress,
  PoolCallOptions,
  PoolEvent,
  PoolOptions,
  ReleaseOptions,
} from "./options.js";
export { PoolTimeoutError } from "./errors.js";
