// Options of createPool, their defaults and their validation.
import { checkCurveClientOptions, transportFactoryOption } from "@zrpc/channel";
import type { Clock } from "@zrpc/channel";
import type { CallOptions, Client, ConnectOptions } from "@zrpc/client";

/**
 * How the pool picks the endpoint for a call:
 * - `"least-in-flight"` (default): the healthy endpoint with the fewest connections handed out
 *   (or being opened); ties rotate, so sequential calls still spread. An endpoint whose calls
 *   hang (a dead or stuck server) collects in-flight calls and stops being picked by itself.
 * - `"round-robin"`: the healthy endpoints in turn.
 */
export type BalancePolicy = "round-robin" | "least-in-flight";

/** One address returned by a {@link Lookup}, shaped like `dns.lookup(host, { all: true })`'s results. */
export interface LookupAddress {
  readonly address: string;
  /** 4 or 6; when missing, an address containing ":" is taken for IPv6. */
  readonly family?: number;
}

/**
 * Resolves a host name to every address it has (A/AAAA records). The default is
 * `dns.promises.lookup(hostname, { all: true, family: 4 })`: IPv4 only, because the ZeroMQ
 * transport does not enable ZMQ_IPV6.
 */
export type Lookup = (hostname: string) => Promise<readonly (string | LookupAddress)[]>;

/**
 * Opens one client to exactly one endpoint. The default is `@zrpc/client`'s `connect` (one
 * DEALER per client, opened by the `transport` factory of the options). Tests plug in here.
 */
export type ConnectFactory<TService = unknown> = (endpoint: string, options: ConnectOptions) => Promise<Client<TService>>;

/** When and for how long a failing endpoint is taken out of rotation. */
export interface EjectionOptions {
  /** Backoff of the first ejection, in ms; it doubles with each ejection in a row. Default 1000. */
  readonly baseMs?: number;
  /**
   * Cap of the backoff, in ms. Default 30 000. An endpoint that stays healthy this long after
   * recovering starts again from `baseMs` at its next ejection.
   */
  readonly maxMs?: number;
  /**
   * Soft failures in a row (first-reply timeouts, protocol errors) that eject an endpoint.
   * Hard failures (a lost remote, a failed connect, probe or health check) eject at once.
   * Default 3.
   */
  readonly consecutiveFailures?: number;
}

/** What the pool reports through {@link PoolOptions.onEvent}. `endpoint` is the address connected to. */
export type PoolEvent =
  | { readonly type: "create"; readonly endpoint: string }
  | {
      readonly type: "evict";
      readonly endpoint: string;
      readonly reason: EvictReason;
      readonly error?: unknown;
    }
  | { readonly type: "eject"; readonly endpoint: string; readonly backoffMs: number; readonly error?: unknown }
  | { readonly type: "probe-failed"; readonly endpoint: string; readonly backoffMs: number; readonly error?: unknown }
  | { readonly type: "recover"; readonly endpoint: string }
  | { readonly type: "resolve"; readonly source: string; readonly endpoints: readonly string[] }
  | { readonly type: "resolve-error"; readonly source: string; readonly error: unknown };

/**
 * Why a connection was closed:
 * - `"lost-remote"`, `"protocol"`, `"closed"`: a call on it failed that way (or the client was
 *   closed by its user); `"connect"`: a call on it found no connection to its server within the
 *   client's `connectTimeoutMs` (a `ConnectError`: refused, not a ZeroMQ peer, ...);
 *   `"health-check"`: the ping before reuse failed;
 * - `"released"`: `release(client, { destroy: true })`;
 * - `"endpoint-ejected"`, `"endpoint-removed"`: its endpoint was ejected, or disappeared from DNS;
 * - `"rebalance"`: an idle connection closed, with `max` reached, to let an endpoint below its
 *   fair share (`max / healthy endpoints`) open one (a recovered or newly resolved server);
 * - `"idle"`: idle longer than `idleTimeoutMs` (counted in `idleClosed`, not in `evictions`).
 */
export type EvictReason =
  | "lost-remote"
  | "connect"
  | "protocol"
  | "closed"
  | "health-check"
  | "released"
  | "endpoint-ejected"
  | "endpoint-removed"
  | "rebalance"
  | "idle";

/**
 * Options of `createPool`. Besides the pool's own, every option of `@zrpc/client`'s `connect`
 * (`heartbeatMs`, `timeoutMs`, `passiveHeartbeat`, `receiveBuffer`, `middleware`, `decode`,
 * `encode`, `onProtocolError`, `onDrop`, the transport factory `transport`, default `zmtp()`, and
 * CURVE security `curve`) is passed to each client the pool opens; the clients use the real clock.
 * `curve` (`{ serverKey, publicKey?, secretKey? }`) applies to every endpoint: the servers behind
 * one pool share a key pair, and each connection authenticates the server by that public key.
 */
export interface PoolOptions<TService = unknown> extends Omit<ConnectOptions, "clock"> {
  /**
   * The servers: one endpoint or several. Each becomes its own connections (one DEALER per
   * server, never one socket round-robining across servers; docs/protocol section 2.1). A
   * `tcp://name:port` whose host is a name, not an IP address, is resolved to every address it has
   * and re-resolved every `resolveIntervalMs` (a Kubernetes headless service).
   */
  readonly endpoints: string | readonly string[];
  /** Most connections open at once, over all endpoints: the bound on concurrent calls. Default 10. */
  readonly max?: number;
  /** Connections kept open even when idle (opened at start, never closed for idleness). Default 0. */
  readonly min?: number;
  /**
   * How long `acquire()` (and so `call`, `stream`, `withClient`, the proxy) waits for a
   * connection before rejecting with a `PoolTimeoutError`, in ms. Default 20 000 (redis-py's
   * `BlockingConnectionPool(timeout=20)`). `0` or `null` waits forever.
   */
  readonly acquireTimeoutMs?: number | null;
  /** Idle connections older than this are closed (down to `min`), in ms. Default 60 000. `0`/`null`: never. */
  readonly idleTimeoutMs?: number | null;
  /**
   * A connection idle for longer than this is pinged (`_zerorpc_ping`) before it is handed out;
   * if the ping fails it is closed, its endpoint is ejected, and another connection is tried.
   * In ms. Default 10 000. `0` pings before every reuse; `null` never pings.
   */
  readonly healthCheckAfterMs?: number | null;
  /** Timeout of the health-check and probe pings, in ms. Default 2000. */
  readonly healthCheckTimeoutMs?: number;
  /** Endpoint choice, see {@link BalancePolicy}. Default `"least-in-flight"`. */
  readonly balance?: BalancePolicy;
  /** Ejection of failing endpoints, see {@link EjectionOptions}; `false` never ejects (broken connections are still closed). */
  readonly ejection?: EjectionOptions | false;
  /**
   * How many times `call` / `stream` / the proxy repeat a call that failed with a retryable error
   * (`isRetryable`: a lost remote before any reply, a pool timeout is not retried), each time on a
   * freshly acquired connection. Default 0: a server that died while running the call may have
   * run it, so repeating is the caller's decision.
   */
  readonly retries?: number;
  /** How often host names are re-resolved, in ms. Default 30 000. */
  readonly resolveIntervalMs?: number;
  /** Host name resolver, see {@link Lookup}. */
  readonly lookup?: Lookup;
  /** Opens a client to one endpoint, see {@link ConnectFactory}. Default `@zrpc/client`'s `connect`. */
  readonly connect?: ConnectFactory<TService>;
  /** Default grace of `close()`: how long it waits for connections in use, in ms. Default 10 000. */
  readonly closeGraceMs?: number;
  /** Time source of the pool's own timers (acquire timeout, idle, backoff, DNS, close grace). Default: the real clock. */
  readonly clock?: Clock;
  /** Diagnostics: connections opened and closed, endpoints ejected and recovered, DNS results. Must not throw. */
  readonly onEvent?: (event: PoolEvent) => void;
}

/** Options of `acquire()` and `withClient()`. */
export interface AcquireOptions {
  /** Abort to stop waiting: the acquire rejects with a `ZrpcError` of code `"canceled"` (the reason is the `cause`). */
  readonly signal?: AbortSignal;
  /** Overrides the pool's `acquireTimeoutMs` for this acquire. */
  readonly acquireTimeoutMs?: number | null;
}

/** Options of a pooled call (`call`, `stream`): the client's call options plus the acquire timeout. */
export interface PoolCallOptions extends CallOptions {
  /** Overrides the pool's `acquireTimeoutMs` for this call. `signal` also stops the wait for a connection. */
  readonly acquireTimeoutMs?: number | null;
}

/** Options of `release()`. */
export interface ReleaseOptions {
  /** Close the connection instead of keeping it (counted as an eviction). */
  readonly destroy?: boolean;
  /**
   * The error the last call on this client failed with, if any. The pool judges it as it does for
   * its own calls: a lost remote or a protocol error closes the connection (a lost remote also
   * ejects the endpoint), a timeout counts towards ejection.
   */
  readonly error?: unknown;
}

/** Defaults of {@link PoolOptions}. */
export const poolDefaults: Readonly<{
  max: number;
  min: number;
  acquireTimeoutMs: number;
  idleTimeoutMs: number;
  healthCheckAfterMs: number;
  healthCheckTimeoutMs: number;
  balance: BalancePolicy;
  ejectionBaseMs: number;
  ejectionMaxMs: number;
  ejectionConsecutiveFailures: number;
  retries: number;
  resolveIntervalMs: number;
  closeGraceMs: number;
}> = Object.freeze({
  max: 10,
  min: 0,
  acquireTimeoutMs: 20_000,
  idleTimeoutMs: 60_000,
  healthCheckAfterMs: 10_000,
  healthCheckTimeoutMs: 2_000,
  balance: "least-in-flight",
  ejectionBaseMs: 1_000,
  ejectionMaxMs: 30_000,
  ejectionConsecutiveFailures: 3,
  retries: 0,
  resolveIntervalMs: 30_000,
  closeGraceMs: 10_000,
});

/**
 * Options after validation and defaults. Durations are ms; 0 means "off" where the option allows it.
 * @internal
 */
export interface ResolvedPoolOptions {
  readonly endpoints: readonly string[];
  readonly max: number;
  readonly min: number;
  readonly acquireTimeoutMs: number;
  readonly idleTimeoutMs: number;
  /** -1: never check. */
  readonly healthCheckAfterMs: number;
  readonly healthCheckTimeoutMs: number;
  readonly balance: BalancePolicy;
  readonly ejection: { readonly baseMs: number; readonly maxMs: number; readonly consecutiveFailures: number } | false;
  readonly retries: number;
  readonly resolveIntervalMs: number;
  readonly closeGraceMs: number;
  readonly clientOptions: ConnectOptions;
}

/** Keys of {@link PoolOptions} that are the pool's own; the rest is passed to `connect`. */
const POOL_KEYS: readonly string[] = [
  "endpoints",
  "max",
  "min",
  "acquireTimeoutMs",
  "idleTimeoutMs",
  "healthCheckAfterMs",
  "healthCheckTimeoutMs",
  "balance",
  "ejection",
  "retries",
  "resolveIntervalMs",
  "lookup",
  "connect",
  "closeGraceMs",
  "clock",
  "onEvent",
];

/** Longest delay `setTimeout` honours. */
const MAX_TIMER_MS = 2_147_483_647;

function integer(name: string, value: number | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min) {
    throw new RangeError(`${name} must be an integer >= ${min}, got ${String(value)}`);
  }
  return value;
}

function duration(name: string, value: number | null | undefined, fallback: number, offValue: number): number {
  if (value === undefined) return fallback;
  if (value === null) return offValue;
  if (typeof value !== "number" || Number.isNaN(value) || value < 0) {
    throw new RangeError(`${name} must be a number of milliseconds >= 0 or null, got ${String(value)}`);
  }
  return Math.min(value, MAX_TIMER_MS);
}

/**
 * Validates the options and applies the defaults.
 * @internal
 */
export function resolvePoolOptions(options: PoolOptions<unknown>): ResolvedPoolOptions {
  if (typeof options !== "object" || options === null) throw new TypeError("createPool needs an options object");
  // At once, not on the first connection: a transport name or a socket option bag is a mistake.
  transportFactoryOption(options, "createPool()");
  // The clients' `curve`, checked now rather than at the first connection.
  if (options.curve !== undefined) checkCurveClientOptions(options.curve, "createPool()");
  const {
    endpoints,
    max,
    min,
    acquireTimeoutMs,
    idleTimeoutMs,
    healthCheckAfterMs,
    healthCheckTimeoutMs,
    balance,
    ejection,
    retries,
    resolveIntervalMs,
    closeGraceMs,
  } = options;
  // Everything that is not a pool option goes to the clients (and the pool's clock never does).
  const clientOptions: Record<string, unknown> = { ...options };
  for (const key of POOL_KEYS) delete clientOptions[key];
  const list = typeof endpoints === "string" ? [endpoints] : Array.isArray(endpoints) ? [...(endpoints as readonly string[])] : undefined;
  if (list === undefined || list.length === 0) throw new TypeError("createPool needs at least one endpoint");
  for (const endpoint of list) {
    if (typeof endpoint !== "string" || endpoint.length === 0) {
      throw new TypeError(`endpoints must be non-empty strings, got ${String(endpoint)}`);
    }
  }
  const resolvedMax = integer("max", max, poolDefaults.max, 1);
  const resolvedMin = integer("min", min, poolDefaults.min, 0);
  if (resolvedMin > resolvedMax) throw new RangeError(`min (${resolvedMin}) must not exceed max (${resolvedMax})`);
  if (balance !== undefined && balance !== "round-robin" && balance !== "least-in-flight") {
    throw new RangeError(`balance must be "round-robin" or "least-in-flight", got ${String(balance)}`);
  }
  let resolvedEjection: ResolvedPoolOptions["ejection"] = false;
  if (ejection !== false) {
    const baseMs = duration("ejection.baseMs", ejection?.baseMs, poolDefaults.ejectionBaseMs, 0);
    const maxMs = duration("ejection.maxMs", ejection?.maxMs, poolDefaults.ejectionMaxMs, 0);
    if (baseMs <= 0) throw new RangeError("ejection.baseMs must be > 0");
    if (maxMs < baseMs) throw new RangeError(`ejection.maxMs (${maxMs}) must be >= ejection.baseMs (${baseMs})`);
    resolvedEjection = {
      baseMs,
      maxMs,
      consecutiveFailures: integer(
        "ejection.consecutiveFailures",
        ejection?.consecutiveFailures,
        poolDefaults.ejectionConsecutiveFailures,
        1,
      ),
    };
  }
  const resolveInterval = duration("resolveIntervalMs", resolveIntervalMs, poolDefaults.resolveIntervalMs, 0);
  if (resolveInterval <= 0) throw new RangeError("resolveIntervalMs must be > 0");
  const checkTimeout = duration("healthCheckTimeoutMs", healthCheckTimeoutMs, poolDefaults.healthCheckTimeoutMs, 0);
  if (checkTimeout <= 0) throw new RangeError("healthCheckTimeoutMs must be > 0");
  return {
    endpoints: list,
    max: resolvedMax,
    min: resolvedMin,
    acquireTimeoutMs: duration("acquireTimeoutMs", acquireTimeoutMs, poolDefaults.acquireTimeoutMs, 0),
    idleTimeoutMs: duration("idleTimeoutMs", idleTimeoutMs, poolDefaults.idleTimeoutMs, 0),
    healthCheckAfterMs: duration("healthCheckAfterMs", healthCheckAfterMs, poolDefaults.healthCheckAfterMs, -1),
    healthCheckTimeoutMs: checkTimeout,
    balance: balance ?? poolDefaults.balance,
    ejection: resolvedEjection,
    retries: integer("retries", retries, poolDefaults.retries, 0),
    resolveIntervalMs: resolveInterval,
    closeGraceMs: duration("closeGraceMs", closeGraceMs, poolDefaults.closeGraceMs, 0),
    clientOptions: clientOptions,
  };
}

/**
 * An acquire timeout from a per-call override or the pool default; 0 = wait forever.
 * @internal
 */
export function acquireTimeout(value: number | null | undefined, fallback: number): number {
  return duration("acquireTimeoutMs", value, fallback, 0);
}
