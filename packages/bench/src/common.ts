// Shared by the orchestrator (run.ts) and the child processes (server.ts, client.ts): the stacks,
// the workloads, the IPC messages between them, and small helpers.

/** The three stacks measured: the raw limit and zrpc on its two transports. */
export const STACKS = ["limit", "zrpc-zeromq", "zrpc-zmtp"] as const;
export type Stack = (typeof STACKS)[number];

/** The workloads. `mib` is a 1 MiB echo, one call in flight; `stream` is one 100,000-item stream. */
export const WORKLOADS = ["sequential", "inflight100", "inflight1000", "mib", "stream"] as const;
export type Workload = (typeof WORKLOADS)[number];

/** Calls in flight per workload (for the call workloads). */
export const IN_FLIGHT: Record<Exclude<Workload, "stream">, number> = {
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
  /** Calls (or stream items) completed in the measured window. */
  readonly ops: number;
  readonly seconds: number;
  /** Latency percentiles of the calls in microseconds; null for the stream. */
  readonly p50Us: number | null;
  readonly p99Us: number | null;
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
  readonly unit: "calls/s" | "items/s";
  readonly p50_us: number | null;
  readonly p99_us: number | null;
  /** CPU of both processes (client + server, user + system) per call or item, in µs. */
  readonly cpu_us_per_op: number;
  /** RSS of both processes (client + server) at the end of the measurement, in MiB. */
  readonly rss_mb: number;
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
