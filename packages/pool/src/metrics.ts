// The public shapes of a pool's snapshot (Pool.metrics()).
import type { EndpointState } from "./endpoint.js";

/** Per-endpoint figures of {@link PoolMetrics}. */
export interface EndpointMetrics {
  /** The address connected to, e.g. `tcp://10.0.0.7:4242`. */
  readonly endpoint: string;
  /** The configured endpoints it comes from (a host name resolves to several addresses). */
  readonly sources: readonly string[];
  readonly state: EndpointState;
  /** Connections open to it (idle, in use and being opened). */
  readonly size: number;
  readonly idle: number;
  /** Connections handed out or being opened: what `"least-in-flight"` balances on. */
  readonly inFlight: number;
  /** Times it was ejected. */
  readonly ejections: number;
  /** Soft failures (timeouts, protocol errors) in a row. */
  readonly consecutiveFailures: number;
  /** While ejected: when the next probe runs (pool clock, ms), and the backoff that led to it. */
  readonly ejectedUntil?: number;
  readonly backoffMs?: number;
}

/** A snapshot of the pool, from {@link Pool.metrics}. Counters run from the pool's creation. */
export interface PoolMetrics {
  /** Connections open: idle + in use + being opened. Never above `max`. */
  readonly size: number;
  readonly idle: number;
  /** Connections handed out (to `acquire`, a call or a stream), including those being health-checked for a caller. */
  readonly inUse: number;
  /** Connections being opened. */
  readonly pending: number;
  /** Callers waiting for a connection. */
  readonly waiting: number;
  /** High-water marks of `size` and `inUse`. */
  readonly maxSize: number;
  readonly maxInUse: number;
  /** Connections opened. */
  readonly created: number;
  /**
   * Connections closed before the pool closed, except for idleness: they broke, failed a health
   * check, belonged to an ejected or removed endpoint, were released with `destroy`, or made room
   * for an endpoint below its fair share (see `EvictReason`).
   */
  readonly evictions: number;
  /** Connections closed for being idle longer than `idleTimeoutMs`. */
  readonly idleClosed: number;
  /** Acquires that failed with `PoolTimeoutError`. */
  readonly timeouts: number;
  /** Health-check pings before reuse, and how many failed. */
  readonly healthChecks: number;
  readonly healthCheckFailures: number;
  readonly endpoints: readonly EndpointMetrics[];
}

