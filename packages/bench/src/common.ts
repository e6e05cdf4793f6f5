// Shared by the orchestrator (run.ts) and the child processes (server.ts, client.ts): the stacks,
// the workloads, the IPC messages between them, and small helpers.

/**
 * The stacks measured: the raw limit, zrpc on its two transports, zrpc on both transports with
 * CURVE security (issue #20; keys made per run by run.ts and handed to the children, see
 * {@link curveKeysFromEnv}), and zrpc on ZMTP with @zrpc/middleware-otel on both sides (issue
 * #22): `zrpc-zmtp-otel` with the OpenTelemetry SDK registered, sampling every call, and
 * `zrpc-zmtp-otel-api` with the API alone (no SDK registered). See otel.ts.
 */
export const STACKS = [
  "limit",
  "zrpc-zeromq",
  "zrpc-zmtp",
  "zrpc-zeromq-curve",
  "zrpc-zmtp-curve",
  "zrpc-zmtp-otel",
  "zrpc-zmtp-otel-api",
  // zrpc on ZMTP with both processes on Bun / on Deno (issue #24; `--only runtimes`, see runtimes.ts).
  "zrpc-zmtp-bun",
  "zrpc-zmtp-deno",
] as const;
export type Stack = (typeof STACKS)[number];

/** The CURVE stacks. */
export const CURVE_STACKS = ["zrpc-zeromq-curve", "zrpc-zmtp-curve"] as const satisfies readonly Stack[];

/**
 * The workloads. `mib` is a 1 MiB echo, one call in flight; `stream` is one 100,000-item stream;
 * `handshake` opens fresh connections one after the other and times each from `connect` to the
 * transport's `connected` event and to the reply of its first call.
 */
export const WORKLOADS = ["sequential", "inflight100", "inflight1000", "mib", "stream", "handshake"] as const;
export type Workload = (typeof WORKLOADS)[number];

/** The workloads of the CURVE comparison (issue #20): `--only curve`, and the CURVE stacks' share of a full run. */
export const CURVE_WORKLOADS = ["sequential", "inflight100", "mib", "stream", "handshake"] as const satisfies readonly Workload[];

/** The stacks of `--only curve`: ZMTP without security as the reference, then CURVE on both transports. */
export const CURVE_ONLY_STACKS = ["zrpc-zmtp", "zrpc-zmtp-curve", "zrpc-zeromq-curve"] as const satisfies readonly Stack[];

export function isCurveStack(stack: Stack): stack is (typeof CURVE_STACKS)[number] {
  return (CURVE_STACKS as readonly Stack[]).includes(stack);
}

/** The OpenTelemetry stacks (issue #22). */
export const OTEL_STACKS = ["zrpc-zmtp-otel", "zrpc-zmtp-otel-api"] as const satisfies readonly Stack[];

/** The workloads of the OpenTelemetry comparison: `--only otel`, and the otel stacks' share of a full run. */
export const OTEL_WORKLOADS = ["sequential", "inflight100"] as const satisfies readonly Workload[];

/** The stacks of `--only otel`: ZMTP without middleware as the reference, then with the middleware. */
export const OTEL_ONLY_STACKS = ["zrpc-zmtp", "zrpc-zmtp-otel", "zrpc-zmtp-otel-api"] as const satisfies readonly Stack[];

export function isOtelStack(stack: Stack): stack is (typeof OTEL_STACKS)[number] {
  return (OTEL_STACKS as readonly Stack[]).includes(stack);
}

/**
 * Whether a run measures `workload` on `stack`: the limit has no handshake workload (it is not a
 * zrpc client), the CURVE stacks run the workloads of issue #20 only ({@link CURVE_WORKLOADS}),
 * the OpenTelemetry stacks those of issue #22 ({@link OTEL_WORKLOADS}).
 */
export function measures(stack: Stack, workload: Workload): boolean {
  if (stack === "limit") return workload !== "handshake";
  if (isCurveStack(stack)) return (CURVE_WORKLOADS as readonly Workload[]).includes(workload);
  if (isOtelStack(stack)) return (OTEL_WORKLOADS as readonly Workload[]).includes(workload);
  // The Bun and Deno stacks (runtimes.ts): sequential and 100 in flight.
  if (stack === "zrpc-zmtp-bun" || stack === "zrpc-zmtp-deno") return workload === "sequential" || workload === "inflight100";
  return true;
}

/** Calls in flight per workload (for the call workloads). */
export const IN_FLIGHT: Record<Exclude<Workload, "stream" | "handshake">, number> = {
  sequential: 1,
  inflight100: 100,
  inflight1000: 1000,
  mib: 1,
};

/** Items of the stream workload, and of the stream run as warm-up. */
export const STREAM_ITEMS = 100_000;
export const STREAM_WARM_ITEMS = 20_000;

/** Receive buffer of a stream (zerorpc's default): credit is granted as `[100]`, then `[51]`. */
export const STREAM_BUFFER = 100;

/**
 * Handshake workload: connections measured (`BENCH_HANDSHAKES`, or `--handshakes` of run.ts) and
 * opened before as warm-up. Counted, not timed, so that a fast stack does not use up the client's
 * ephemeral ports (each closed connection sits in TIME_WAIT for a minute).
 */
export const HANDSHAKES = positiveEnv("BENCH_HANDSHAKES", 500);
export const HANDSHAKE_WARM = 100;

/** The small argument of the call workloads: `echo("hello, zerorpc!")`. */
export const SMALL_ARG = "hello, zerorpc!";
export const MIB = 1024 * 1024;

/**
 * Soak: calls measured, warm-up calls, calls in flight. `BENCH_SOAK_CALLS` and
 * `BENCH_SOAK_WARM_CALLS` override the first two (to look for a slow leak over a longer run).
 */
export const SOAK_CALLS = positiveEnv("BENCH_SOAK_CALLS", 1_000_000);
export const SOAK_WARM_CALLS = positiveEnv("BENCH_SOAK_WARM_CALLS", 100_000);
export const SOAK_IN_FLIGHT = 100;

export function isStack(value: unknown): value is Stack {
  return typeof value === "string" && (STACKS as readonly string[]).includes(value);
}

export function isWorkload(value: unknown): value is Workload {
  return typeof value === "string" && (WORKLOADS as readonly string[]).includes(value);
}

// ------------------------------------------------------------------------------------ IPC

/** Parent to child. */
export type Command =
  | { readonly cmd: "mark" } // server: start counting CPU now
  | { readonly cmd: "report"; readonly gc?: boolean } // both: send a Report (after a forced GC if asked)
  | { readonly cmd: "go" } // client: start the measured run
  | { readonly cmd: "exit" };

/** Child to parent. */
export type Reply =
  | { readonly type: "ready"; readonly endpoint: string } // server listening
  | { readonly type: "marked" }
  | { readonly type: "warm" } // client connected and warmed up
  | { readonly type: "report"; readonly report: Report }
  | { readonly type: "result"; readonly result: RunResult }
  | { readonly type: "error"; readonly message: string };

/** A process's resource use: CPU since `mark` (the server) or over the run (the client). */
export interface Report {
  readonly cpuUs: number;
  readonly rssMb: number;
  readonly heapMb: number;
  /** V8 heap reserved (used + free, new space included). */
  readonly heapTotalMb: number;
  /** Memory outside the V8 heap held by JS objects (Buffers, native addons' external memory). */
  readonly externalMb: number;
}

/** What a client measured in one run. */
export interface RunResult {
  /** Calls (or stream items, or handshakes) completed in the measured window. */
  readonly ops: number;
  readonly seconds: number;
  /**
   * Latency percentiles of the calls in microseconds; null for the stream. For the handshake
   * workload: from `connect` to the reply of the first call.
   */
  readonly p50Us: number | null;
  readonly p99Us: number | null;
  /** Handshake workload only: percentiles from `connect` to the transport's `connected` event, µs. */
  readonly connectedP50Us?: number;
  readonly connectedP99Us?: number;
  /** The client's own CPU (user + system) over the window. */
  readonly cpuUs: number;
  readonly rssMb: number;
}

/** One row of results/latest.json. */
export interface Row {
  readonly workload: Workload;
  readonly stack: Stack;
  /** Calls/s, or items/s for the stream: median of the rounds. */
  readonly rate: number;
  readonly unit: "calls/s" | "items/s" | "handshakes/s";
  /** Call latency (handshake workload: `connect` to the first reply), µs. */
  readonly p50_us: number | null;
  readonly p99_us: number | null;
  /** Handshake workload only: `connect` to the transport's `connected` event, µs. */
  readonly connected_p50_us?: number | null;
  readonly connected_p99_us?: number | null;
  /** CPU of both processes (client + server, user + system) per call, item or handshake, in µs. */
  readonly cpu_us_per_op: number;
  /** The client's and the server's share of {@link cpu_us_per_op}. */
  readonly client_cpu_us_per_op: number;
  readonly server_cpu_us_per_op: number;
  /** RSS of both processes (client + server) at the end of the measurement, in MiB. */
  readonly rss_mb: number;
}

// ---------------------------------------------------------------------------------- CURVE

/** The CURVE keys of one run (Z85): the server's pair and the one client pair the server allows. */
export interface CurveKeys {
  readonly serverPublic: string;
  readonly serverSecret: string;
  readonly clientPublic: string;
  readonly clientSecret: string;
}

const CURVE_ENV = {
  serverPublic: "BENCH_CURVE_SERVER_PUBLIC",
  serverSecret: "BENCH_CURVE_SERVER_SECRET",
  clientPublic: "BENCH_CURVE_CLIENT_PUBLIC",
  clientSecret: "BENCH_CURVE_CLIENT_SECRET",
} as const satisfies Record<keyof CurveKeys, string>;

/** The environment that hands `keys` to a child process. */
export function curveKeysEnv(keys: CurveKeys): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of Object.keys(CURVE_ENV) as (keyof CurveKeys)[]) env[CURVE_ENV[name]] = keys[name];
  return env;
}

/** The keys run.ts handed to this child process (throws when it did not). */
export function curveKeysFromEnv(): CurveKeys {
  const read = (name: keyof CurveKeys): string => {
    const value = process.env[CURVE_ENV[name]];
    if (value === undefined || value.length !== 40) throw new Error(`a CURVE stack needs ${CURVE_ENV[name]} (40 characters of Z85; run.ts sets it)`);
    return value;
  };
  return { serverPublic: read("serverPublic"), serverSecret: read("serverSecret"), clientPublic: read("clientPublic"), clientSecret: read("clientSecret") };
}

/** Sends a message to the parent (no-op when not forked). */
export function tell(reply: Reply): void {
  process.send?.(reply);
}

export function cpuMicros(): number {
  const usage = process.cpuUsage();
  return usage.user + usage.system;
}

export function rssMb(): number {
  return process.memoryUsage.rss() / MIB;
}

/** This process's report; `gc` forces a full collection first (needs --expose-gc). */
export function report(cpuSince: number, gc = false): Report {
  if (gc) forceGc();
  const memory = process.memoryUsage();
  return {
    cpuUs: cpuMicros() - cpuSince,
    rssMb: memory.rss / MIB,
    heapMb: memory.heapUsed / MIB,
    heapTotalMb: memory.heapTotal / MIB,
    externalMb: memory.external / MIB,
  };
}

export function forceGc(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error("run node with --expose-gc");
  // Twice: the first pass may leave finalizers and weak callbacks whose garbage the second frees.
  gc();
  gc();
}

/** Percentile (0..1) of sorted samples, nearest rank. */
export function percentile(sorted: Float64Array | number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[index]!;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** A growable buffer of latency samples (µs) without boxing. */
export class Samples {
  private data = new Float64Array(1 << 16);
  length = 0;

  push(value: number): void {
    if (this.length === this.data.length) {
      const next = new Float64Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = value;
  }

  sorted(): Float64Array {
    return this.data.slice(0, this.length).sort();
  }
}

function positiveEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value <= 0) throw new RangeError(`${name} must be a positive integer, got ${JSON.stringify(raw)}`);
  return value;
}
