// The zrpc end-to-end benchmark (one file over 600 lines on purpose: the argument parsing, the
// round loop and the target table read one set of stack and workload names; the stacks' own code
// lives in stacks.ts, otel.ts, runtimes.ts, limit.ts): every stack (limit, zrpc-zeromq, zrpc-zmtp) on every workload,
// server and client in separate processes (fresh ones for each measurement), several rounds in
// alternating stack order, medians. Writes results/latest.json and prints a Markdown table.
//
//   pnpm --filter @zrpc/bench bench                  (or from the root: pnpm bench)
//   node --expose-gc --import tsx src/run.ts [--rounds 3] [--seconds 2] [--warm 2.5]
//        [--workloads sequential,mib] [--stacks limit,zrpc-zmtp] [--out results/latest.json]
//        [--handshakes 500] [--only curve|otel|runtimes]
//   --only curve: the CURVE comparison of issue #20 alone (zrpc-zmtp, zrpc-zmtp-curve,
//   zrpc-zeromq-curve on sequential, 100 in flight, 1 MiB, stream and handshake), to
//   results/curve.json unless --out says otherwise.
//   --only otel: the OpenTelemetry comparison of issue #22 alone (zrpc-zmtp without middleware,
//   zrpc-zmtp-otel with @zrpc/middleware-otel and the SDK sampling every call, zrpc-zmtp-otel-api
//   with the middleware on the API alone; sequential and 100 in flight), to results/otel.json.
//   --only runtimes: zrpc-zmtp with server and client on Node.js, on Bun and on Deno (issue #24;
//   sequential and 100 in flight, see runtimes.ts), to results/runtimes.json.
//   node --expose-gc --import tsx src/run.ts --soak      (pnpm --filter @zrpc/bench bench:soak)
//   node --expose-gc --import tsx src/run.ts --profile   (pnpm --filter @zrpc/bench bench:profile)
import { fork } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { curveKeyPair, zeromqVersion } from "@zrpc/transport-zeromq";
import {
  CURVE_ONLY_STACKS,
  CURVE_WORKLOADS,
  OTEL_ONLY_STACKS,
  OTEL_WORKLOADS,
  SOAK_CALLS,
  STACKS,
  WORKLOADS,
  curveKeysEnv,
  isCurveStack,
  isOtelStack,
  isStack,
  isWorkload,
  measures,
  median,
} from "./common.js";
import type { Command, CurveKeys, Reply, Report, Row, RunResult, Stack, Workload } from "./common.js";
import { summariseProfiles } from "./profile.js";
import { RUNTIME_ONLY_STACKS, forkOptions, isRuntimeStack, runtimeOf, runtimeVersions } from "./runtimes.js";
import type { Runtime } from "./runtimes.js";

const here = dirname(fileURLToPath(import.meta.url));
const packageDir = dirname(here);

// ------------------------------------------------------------------------------- options

function option(name: string): string | undefined {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? process.argv[index + 1] : undefined;
}

function numberOption(name: string, fallback: number): number {
  const text = option(name);
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!(value > 0)) throw new RangeError(`--${name} must be a positive number, got ${text}`);
  return value;
}

function listOption<T extends string>(name: string, all: readonly T[], check: (value: unknown) => value is T): T[] {
  const text = option(name);
  if (text === undefined) return [...all];
  const list = text.split(",").filter((item) => item !== "");
  for (const item of list) if (!check(item)) throw new RangeError(`--${name}: unknown ${item} (known: ${all.join(", ")})`);
  return list as T[];
}

const flag = (name: string): boolean => process.argv.includes(`--${name}`);

/** `--only curve`: the CURVE comparison alone; `--only otel`: the OpenTelemetry comparison alone. */
function onlyPart(): "curve" | "otel" | "runtimes" | undefined {
  const only = option("only");
  if (only === undefined) return undefined;
  if (only !== "curve" && only !== "otel" && only !== "runtimes") throw new RangeError(`--only: unknown part ${only} (known: curve, otel, runtimes)`);
  return only;
}

/**
 * The environment of every child: this run's CURVE keys (made here, once per run, by libzmq's
 * zmq_curve_keypair; both transports take Z85 keys) and the handshake count of `--handshakes`.
 */
function childEnvironment(): NodeJS.ProcessEnv {
  const server = curveKeyPair();
  const client = curveKeyPair();
  const keys: CurveKeys = { serverPublic: server.publicKey, serverSecret: server.secretKey, clientPublic: client.publicKey, clientSecret: client.secretKey };
  const handshakes = option("handshakes");
  return { ...process.env, ...curveKeysEnv(keys), ...(handshakes !== undefined && { BENCH_HANDSHAKES: String(Math.ceil(numberOption("handshakes", 1))) }) };
}

const childEnv = childEnvironment();

// ------------------------------------------------------------------------------- children

/** A forked child with a queue of its IPC replies. */
class Child {
  readonly process: ChildProcess;
  private readonly inbox: Reply[] = [];
  private waiter: (() => void) | undefined;
  private exitCode: number | null | undefined;
  readonly exited: Promise<void>;

  /** Forks `script` (next to this file) with its command-line `args`, Node flags `execArgv` and `env`. */
  constructor(
    readonly name: string,
    script: string,
    {
      args,
      execArgv,
      env,
      runtime = "node",
    }: { readonly args: string[]; readonly execArgv: string[]; readonly env: NodeJS.ProcessEnv; readonly runtime?: Runtime },
  ) {
    // On Bun and Deno (the runtime stacks) `execArgv` (Node.js flags) does not apply; see runtimes.ts.
    this.process = fork(join(here, script), args, {
      ...forkOptions(runtime, execArgv),
      stdio: ["ignore", "inherit", "inherit", "ipc"],
      env,
    });
    this.process.on("message", (message: Reply) => {
      this.inbox.push(message);
      this.waiter?.();
    });
    this.exited = new Promise((resolve) => {
      this.process.once("exit", (code) => {
        this.exitCode = code;
        this.waiter?.();
        resolve();
      });
    });
  }

  send(command: Command): void {
    if (this.process.connected) this.process.send(command);
  }

  /** The next reply of type `type` (earlier replies of other types are skipped). */
  async expect<T extends Reply["type"]>(type: T, timeoutMs: number): Promise<Extract<Reply, { type: T }>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.inbox.findIndex((reply) => reply.type === type || reply.type === "error");
      if (index >= 0) {
        const [reply] = this.inbox.splice(index, 1);
        if (reply!.type === "error") throw new Error(`${this.name}: ${reply!.message}`);
        return reply as Extract<Reply, { type: T }>;
      }
      if (this.exitCode !== undefined) throw new Error(`${this.name} exited (code ${String(this.exitCode)}) before replying ${type}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${this.name}: no ${type} within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.waiter = undefined;
    }
  }

  async stop(): Promise<void> {
    this.send({ cmd: "exit" });
    const timer = setTimeout(() => this.process.kill("SIGKILL"), 10_000);
    await this.exited;
    clearTimeout(timer);
  }
}

interface Measurement {
  readonly result: RunResult;
  readonly server: Report;
}

interface MeasureOptions {
  readonly seconds: number;
  readonly warm: number;
  /** Profile both processes' measured windows into this directory (see window.ts). */
  readonly profileDir?: string;
}

/**
 * One measurement, tried up to 3 times: a child that fails to start (another build replacing a
 * package's dist/ under it, say) or a run that hangs is retried after a pause.
 */
async function measure(stack: Stack, workload: Workload, options: MeasureOptions): Promise<Measurement> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await measureOnce(stack, workload, options);
    } catch (error) {
      if (attempt >= 3) throw error;
      log(`  ${stack} ${workload}: attempt ${attempt} failed (${(error as Error).message}); retrying in 10 s`);
      await new Promise((resolve) => setTimeout(resolve, 10_000));
    }
  }
}

async function measureOnce(stack: Stack, workload: Workload, options: MeasureOptions): Promise<Measurement> {
  const env = { ...childEnv };
  if (options.profileDir !== undefined) env.BENCH_PROFILE_DIR = options.profileDir;
  const server = new Child(`${stack} server`, "server.ts", { args: [stack], execArgv: [], env, runtime: runtimeOf(stack) });
  let client: Child | undefined;
  try {
    const { endpoint } = await server.expect("ready", 60_000);
    client = new Child(`${stack} client`, "client.ts", {
      args: [stack, endpoint, workload, String(options.seconds), String(options.warm)],
      execArgv: [],
      env,
      runtime: runtimeOf(stack),
    });
    await client.expect("warm", 180_000);
    server.send({ cmd: "mark" });
    await server.expect("marked", 30_000);
    client.send({ cmd: "go" });
    // A stack that loses a reply hangs its lanes: give up well after the window.
    const { result } = await client.expect("result", options.seconds * 1000 + 120_000);
    server.send({ cmd: "report" });
    const { report } = await server.expect("report", 30_000);
    return { result, server: report };
  } finally {
    await Promise.all([client?.stop(), server.stop()]);
  }
}

// ------------------------------------------------------------------------------- formatting

const UNIT: Record<Workload, Row["unit"]> = {
  sequential: "calls/s",
  inflight100: "calls/s",
  inflight1000: "calls/s",
  mib: "calls/s",
  stream: "items/s",
  handshake: "handshakes/s",
};

const LABEL: Record<Workload, string> = {
  sequential: "sequential (1 in flight)",
  inflight100: "100 in flight",
  inflight1000: "1,000 in flight",
  mib: "1 MiB echo",
  stream: "100,000-item stream",
  handshake: "handshake (one at a time)",
};

function toRow(stack: Stack, workload: Workload, runs: Measurement[]): Row {
  const nullable = (pick: (run: Measurement) => number | null): number | null => {
    const values = runs.map(pick).filter((value): value is number => value !== null && Number.isFinite(value));
    return values.length === 0 ? null : Math.round(median(values));
  };
  return {
    workload,
    stack,
    rate: Math.round(median(runs.map((run) => run.result.ops / run.result.seconds)) * 10) / 10,
    unit: UNIT[workload],
    p50_us: nullable((run) => run.result.p50Us),
    p99_us: nullable((run) => run.result.p99Us),
    ...(workload === "handshake" && {
      connected_p50_us: nullable((run) => run.result.connectedP50Us ?? null),
      connected_p99_us: nullable((run) => run.result.connectedP99Us ?? null),
    }),
    cpu_us_per_op: Math.round(median(runs.map((run) => (run.result.cpuUs + run.server.cpuUs) / run.result.ops)) * 10) / 10,
    client_cpu_us_per_op: Math.round(median(runs.map((run) => run.result.cpuUs / run.result.ops)) * 10) / 10,
    server_cpu_us_per_op: Math.round(median(runs.map((run) => run.server.cpuUs / run.result.ops)) * 10) / 10,
    rss_mb: Math.round(median(runs.map((run) => run.result.rssMb + run.server.rssMb)) * 10) / 10,
  };
}

const int = (value: number): string => Math.round(value).toLocaleString("en");
const rate = (value: number): string => (value >= 100 ? int(value) : value.toFixed(1));
const micros = (value: number | null): string => (value === null ? "–" : int(value));
const cpu = (value: number): string => (value >= 1000 ? `${(value / 1000).toFixed(1)} ms` : `${value.toFixed(1)} µs`);
const ratio = (value: number): string => `${value.toFixed(2)}x`;

export function markdownTable(rows: readonly Row[]): string {
  const lines = [
    "| workload | stack | rate | vs limit | p50 µs | p99 µs | CPU/op (both) | CPU vs limit | RSS MiB (both) |",
    "|---|---|---:|---:|---:|---:|---:|---:|---:|",
  ];
  for (const row of rows) {
    if (row.workload === "handshake") continue; // in handshakeTable()
    const limit = rows.find((other) => other.workload === row.workload && other.stack === "limit");
    const rateRatio = limit === undefined ? "–" : ratio(row.rate / limit.rate);
    const cpuRatio = limit === undefined ? "–" : ratio(row.cpu_us_per_op / limit.cpu_us_per_op);
    lines.push(
      `| ${LABEL[row.workload]} | ${row.stack} | ${rate(row.rate)} ${row.unit} | ${rateRatio} | ${micros(row.p50_us)} | ${micros(row.p99_us)} | ${cpu(row.cpu_us_per_op)} | ${cpuRatio} | ${row.rss_mb.toFixed(0)} |`,
    );
  }
  return lines.join("\n");
}

const find = (rows: readonly Row[], stack: Stack, workload: Workload): Row | undefined =>
  rows.find((row) => row.stack === stack && row.workload === workload);

/** Order of the stacks in the CURVE tables: each transport plaintext, then with CURVE. */
const CURVE_TABLE_STACKS: readonly Stack[] = ["zrpc-zmtp", "zrpc-zmtp-curve", "zrpc-zeromq", "zrpc-zeromq-curve"];

/**
 * The CURVE comparison (issue #20): each workload on ZMTP and zeromq.js with and without CURVE,
 * rates against zeromq.js + CURVE and against ZMTP without security, and CPU per call (request and
 * reply) or stream item of each process. Empty without a CURVE row.
 */
export function curveTable(rows: readonly Row[]): string {
  if (!rows.some((row) => isCurveStack(row.stack) && row.workload !== "handshake")) return "";
  const lines = [
    "| workload | stack | rate | vs zeromq+CURVE | vs zmtp NULL | p50 µs | p99 µs | CPU/op client | CPU/op server | CPU/op both | CPU vs zmtp NULL |",
    "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
  ];
  for (const workload of CURVE_WORKLOADS) {
    if (workload === "handshake") continue;
    const zeromqCurve = find(rows, "zrpc-zeromq-curve", workload);
    const zmtpNull = find(rows, "zrpc-zmtp", workload);
    for (const stack of CURVE_TABLE_STACKS) {
      const row = find(rows, stack, workload);
      if (row === undefined) continue;
      const versus = (other: Row | undefined, pick: (row: Row) => number): string => (other === undefined ? "–" : ratio(pick(row) / pick(other)));
      lines.push(
        `| ${LABEL[workload]} | ${stack} | ${rate(row.rate)} ${row.unit} | ${versus(zeromqCurve, (r) => r.rate)} | ${versus(zmtpNull, (r) => r.rate)} | ` +
          `${micros(row.p50_us)} | ${micros(row.p99_us)} | ${cpu(row.client_cpu_us_per_op)} | ${cpu(row.server_cpu_us_per_op)} | ${cpu(row.cpu_us_per_op)} | ` +
          `${versus(zmtpNull, (r) => r.cpu_us_per_op)} |`,
      );
    }
  }
  return lines.join("\n");
}

/** Handshake times: `connect` to the `connected` event and to the first reply, CPU per handshake. Empty without handshake rows. */
export function handshakeTable(rows: readonly Row[]): string {
  const handshakes = STACKS.map((stack) => find(rows, stack, "handshake")).filter((row): row is Row => row !== undefined);
  if (handshakes.length === 0) return "";
  const lines = [
    "| stack | handshakes/s | connect → connected p50 µs | p99 µs | connect → first reply p50 µs | p99 µs | CPU/handshake client | server | both |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
  ];
  for (const row of handshakes) {
    lines.push(
      `| ${row.stack} | ${rate(row.rate)} | ${micros(row.connected_p50_us ?? null)} | ${micros(row.connected_p99_us ?? null)} | ${micros(row.p50_us)} | ${micros(row.p99_us)} | ` +
        `${cpu(row.client_cpu_us_per_op)} | ${cpu(row.server_cpu_us_per_op)} | ${cpu(row.cpu_us_per_op)} |`,
    );
  }
  return lines.join("\n");
}

/** The targets of issue #20 (CURVE), as rows of {@link targetsTable}. */
function curveTargets(rows: readonly Row[]): string[] {
  const lines: string[] = [];
  const versus = (workload: Workload, other: Stack, min: number): void => {
    const row = find(rows, "zrpc-zmtp-curve", workload);
    const base = find(rows, other, workload);
    if (row === undefined || base === undefined) return;
    const value = row.rate / base.rate;
    lines.push(`| zrpc-zmtp-curve / ${other}, ${LABEL[workload]}: rate >= ${min} | ${ratio(value)} | ${value >= min ? "yes" : "no"} |`);
  };
  versus("sequential", "zrpc-zeromq-curve", 2);
  versus("inflight100", "zrpc-zeromq-curve", 2);
  versus("sequential", "zrpc-zmtp", 0.6);
  versus("inflight100", "zrpc-zmtp", 0.6);
  versus("mib", "zrpc-zeromq-curve", 1);
  const handshake = find(rows, "zrpc-zmtp-curve", "handshake");
  const p50 = handshake?.connected_p50_us;
  if (p50 !== undefined && p50 !== null) {
    lines.push(`| zrpc-zmtp-curve handshake (connect → connected) p50 < 2 ms | ${cpu(p50)} | ${p50 < 2000 ? "yes" : "no"} |`);
  }
  return lines;
}

/** Order of the stacks in the OpenTelemetry table: no middleware, then the middleware with the SDK and with the API alone. */
const OTEL_TABLE_STACKS: readonly Stack[] = ["zrpc-zmtp", "zrpc-zmtp-otel", "zrpc-zmtp-otel-api"];

/**
 * The OpenTelemetry comparison (issue #22): each workload on ZMTP without middleware, with
 * @zrpc/middleware-otel and the SDK sampling every call, and with the middleware on the API alone;
 * rates and CPU per call against no middleware. Empty without an OpenTelemetry row.
 */
export function otelTable(rows: readonly Row[]): string {
  if (!rows.some((row) => isOtelStack(row.stack))) return "";
  const lines = [
    "| workload | stack | rate | vs zmtp, no middleware | p50 µs | p99 µs | CPU/op client | CPU/op server | CPU/op both | CPU vs no middleware |",
    "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
  ];
  for (const workload of OTEL_WORKLOADS) {
    const plain = find(rows, "zrpc-zmtp", workload);
    for (const stack of OTEL_TABLE_STACKS) {
      const row = find(rows, stack, workload);
      if (row === undefined) continue;
      const versus = (pick: (row: Row) => number): string => (plain === undefined ? "–" : ratio(pick(row) / pick(plain)));
      lines.push(
        `| ${LABEL[workload]} | ${stack} | ${rate(row.rate)} ${row.unit} | ${versus((r) => r.rate)} | ${micros(row.p50_us)} | ${micros(row.p99_us)} | ` +
          `${cpu(row.client_cpu_us_per_op)} | ${cpu(row.server_cpu_us_per_op)} | ${cpu(row.cpu_us_per_op)} | ${versus((r) => r.cpu_us_per_op)} |`,
      );
    }
  }
  return lines.join("\n");
}

/**
 * The runtime comparison (issue #24): zrpc on ZMTP with server and client on Node.js, on Bun and
 * on Deno; rates and CPU per call (both processes) against Node.js. Empty without a Bun or Deno row.
 */
export function runtimesTable(rows: readonly Row[], versions: string): string {
  if (!rows.some((row) => isRuntimeStack(row.stack))) return "";
  const lines = [
    `Server and client on the same runtime (${versions}).`,
    "",
    "| workload | runtime | rate | vs Node.js | p50 µs | p99 µs | CPU/op (both) | CPU vs Node.js | RSS MiB (both) |",
    "|---|---|---:|---:|---:|---:|---:|---:|---:|",
  ];
  for (const workload of ["sequential", "inflight100"] as const) {
    const node = find(rows, "zrpc-zmtp", workload);
    for (const stack of RUNTIME_ONLY_STACKS) {
      const row = find(rows, stack, workload);
      if (row === undefined) continue;
      const versus = (pick: (row: Row) => number): string => (node === undefined ? "–" : ratio(pick(row) / pick(node)));
      lines.push(
        `| ${LABEL[workload]} | ${runtimeOf(stack)} | ${rate(row.rate)} ${row.unit} | ${versus((r) => r.rate)} | ${micros(row.p50_us)} | ${micros(row.p99_us)} | ` +
          `${cpu(row.cpu_us_per_op)} | ${versus((r) => r.cpu_us_per_op)} | ${row.rss_mb.toFixed(0)} |`,
      );
    }
  }
  return lines.join("\n");
}

/** The targets of issue #22 (OpenTelemetry), as rows of {@link targetsTable}. */
function otelTargets(rows: readonly Row[]): string[] {
  const lines: string[] = [];
  for (const workload of OTEL_WORKLOADS) {
    const plain = find(rows, "zrpc-zmtp", workload);
    if (plain === undefined) continue;
    for (const [stack, min, what] of [
      ["zrpc-zmtp-otel", 0.85, "SDK, 100% sampled"],
      ["zrpc-zmtp-otel-api", 0.97, "API, no SDK"],
    ] as const) {
      const row = find(rows, stack, workload);
      if (row === undefined) continue;
      const value = row.rate / plain.rate;
      lines.push(`| ${stack} (${what}) / zrpc-zmtp, ${LABEL[workload]}: rate >= ${min} | ${ratio(value)} | ${value >= min ? "yes" : "no"} |`);
    }
  }
  return lines;
}

/** The targets of issues #11, #20 and #22, checked against the rows (the lines whose rows were measured). */
export function targetsTable(rows: readonly Row[]): string {
  const get = (stack: Stack, workload: Workload): Row | undefined => find(rows, stack, workload);
  const lines = ["| target | measured | met |", "|---|---:|:---:|"];
  const rateTarget = (stack: Stack, workload: Workload, min: number): void => {
    const row = get(stack, workload);
    const limit = get("limit", workload);
    if (row === undefined || limit === undefined) return;
    const value = row.rate / limit.rate;
    lines.push(`| ${stack} / limit, ${LABEL[workload]}: rate >= ${min} | ${ratio(value)} | ${value >= min ? "yes" : "no"} |`);
  };
  for (const [workload, min] of [["sequential", 0.85], ["inflight100", 0.85], ["mib", 0.9], ["stream", 0.9]] as const) rateTarget("zrpc-zeromq", workload, min);
  for (const [workload, min] of [["sequential", 2.5], ["inflight100", 3], ["mib", 1.5], ["stream", 2]] as const) rateTarget("zrpc-zmtp", workload, min);
  // Issue #11 sets the CPU target for the pure-TS transport only (zrpc-zeromq pays libzmq's I/O
  // thread hand-offs, as the limit does; its CPU ratio is in the main table).
  for (const workload of WORKLOADS) {
    const row = get("zrpc-zmtp", workload);
    const limit = get("limit", workload);
    if (row === undefined || limit === undefined) continue;
    const value = row.cpu_us_per_op / limit.cpu_us_per_op;
    lines.push(`| zrpc-zmtp, ${LABEL[workload]}: CPU per op <= 0.5x limit | ${ratio(value)} | ${value <= 0.5 ? "yes" : "no"} |`);
  }
  lines.push(...curveTargets(rows));
  lines.push(...otelTargets(rows));
  return lines.length === 2 ? "" : lines.join("\n");
}

function machine(): string {
  const model = cpus()[0]?.model.trim() ?? "unknown CPU";
  const load = loadavg().map((value) => value.toFixed(1)).join(" ");
  return `node ${process.version}, ${cpus().length} × ${model}, libzmq ${zeromqVersion} (zeromq.js), load average ${load}`;
}

const log = (text: string): void => {
  process.stderr.write(`${text}\n`);
};

// ------------------------------------------------------------------------------- modes

async function bench(): Promise<void> {
  const rounds = numberOption("rounds", 3);
  const seconds = numberOption("seconds", 2);
  const warm = numberOption("warm", 2.5);
  const only = onlyPart();
  const curveOnly = only === "curve";
  const otelOnly = only === "otel";
  const runtimesOnly = only === "runtimes";
  // The Bun and Deno stacks run with --only runtimes (or when named in --stacks), not by default.
  const defaultStacks = curveOnly ? CURVE_ONLY_STACKS : otelOnly ? OTEL_ONLY_STACKS : runtimesOnly ? RUNTIME_ONLY_STACKS : STACKS.filter((stack) => !isRuntimeStack(stack));
  const stacks = listOption("stacks", defaultStacks, isStack);
  const workloads = listOption(
    "workloads",
    curveOnly ? CURVE_WORKLOADS : otelOnly ? OTEL_WORKLOADS : runtimesOnly ? (["sequential", "inflight100"] as const) : WORKLOADS,
    isWorkload,
  );
  const versions = runtimeVersions(stacks);
  const out = option("out") ?? join(packageDir, "results", only === undefined ? "latest.json" : `${only}.json`);
  const began = performance.now();
  log(`zrpc bench: ${workloads.join(", ")} × ${stacks.join(", ")}; ${rounds} rounds of ${seconds} s (+${warm} s warm-up) each; ${machine()}${versions === "" ? "" : `, ${versions}`}`);
  const runs = new Map<string, Measurement[]>();
  for (const workload of workloads) {
    for (let round = 0; round < rounds; round++) {
      const order = (round % 2 === 0 ? stacks : [...stacks].reverse()).filter((stack) => measures(stack, workload));
      for (const stack of order) {
        const run = await measure(stack, workload, { seconds, warm });
        const key = `${workload}/${stack}`;
        runs.set(key, [...(runs.get(key) ?? []), run]);
        const { result } = run;
        log(
          `  ${workload.padEnd(12)} ${stack.padEnd(17)} round ${round + 1}: ${rate(result.ops / result.seconds)} ${UNIT[workload]}` +
            (result.connectedP50Us === undefined ? "" : `, connected p50 ${int(result.connectedP50Us)} µs, p99 ${int(result.connectedP99Us ?? 0)} µs`) +
            (result.p50Us === null ? "" : `, ${workload === "handshake" ? "first reply " : ""}p50 ${int(result.p50Us)} µs, p99 ${int(result.p99Us ?? 0)} µs`) +
            `, CPU ${cpu((result.cpuUs + run.server.cpuUs) / result.ops)}/op`,
        );
      }
    }
  }
  const rows: Row[] = [];
  for (const workload of workloads) {
    for (const stack of stacks) {
      const measured = runs.get(`${workload}/${stack}`);
      if (measured !== undefined) rows.push(toRow(stack, workload, measured));
    }
  }
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(rows, null, 2)}\n`);
  const minutes = (performance.now() - began) / 60_000;
  process.stdout.write(
    `\nzrpc end-to-end benchmark: medians of ${rounds} rounds of ${seconds} s; ${machine()}\n` +
      `CPU/op and RSS: client + server process (a call is its request and its reply). Written to ${relative(process.cwd(), out) || out} in ${minutes.toFixed(1)} min.\n\n` +
      // --only curve: the CURVE table holds every row (the main table's ratios to the limit would be empty).
      // --only otel: the OpenTelemetry table holds every row.
      [curveOnly || otelOnly || runtimesOnly ? "" : markdownTable(rows), curveTable(rows), otelTable(rows), runtimesTable(rows, versions), handshakeTable(rows), targetsTable(rows)]
        .filter((table) => table !== "")
        .join("\n\n") +
      "\n",
  );
}

interface SoakSide {
  readonly startMb: number;
  readonly endMb: number;
  readonly startHeapMb: number;
  readonly endHeapMb: number;
  readonly startHeapTotalMb: number;
  readonly endHeapTotalMb: number;
  readonly startExternalMb: number;
  readonly endExternalMb: number;
}

const round1 = (value: number): number => Math.round(value * 10) / 10;

/**
 * The soak's processes run with V8's young generation at a fixed size (16 MiB semi-spaces, its
 * usual maximum here). Otherwise V8 grows it under load, at a moment of its choosing: one process
 * had 18 MiB of heap reserved after warm-up and 42 MiB at the end with the same 8 MiB in use,
 * which reads as 19% RSS growth without a single byte retained.
 */
const SOAK_NODE_FLAGS = ["--min-semi-space-size=16", "--max-semi-space-size=16"];

async function soak(): Promise<void> {
  const stacks = listOption("stacks", ["zrpc-zeromq", "zrpc-zmtp"] as const, isStack);
  log(`zrpc soak: ${int(SOAK_CALLS)} calls (100 in flight) per stack on ${stacks.join(", ")}; ${machine()}`);
  const lines = [
    "| stack | calls/s | process | RSS after warm-up (MiB) | RSS at end (MiB) | growth | heap used → end | heap reserved → end | external → end (MiB) | ok |",
    "|---|---:|---|---:|---:|---:|---:|---:|---:|:---:|",
  ];
  const summary: unknown[] = [];
  let failed = false;
  for (const stack of stacks) {
    const server = new Child(`${stack} server`, "server.ts", { args: [stack], execArgv: SOAK_NODE_FLAGS, env: childEnv });
    let client: Child | undefined;
    try {
      const { endpoint } = await server.expect("ready", 60_000);
      client = new Child(`${stack} client`, "client.ts", { args: [stack, endpoint, "soak", "0", "0"], execArgv: SOAK_NODE_FLAGS, env: childEnv });
      await client.expect("warm", 600_000);
      const before = await reports(server, client);
      client.send({ cmd: "go" });
      const { result } = await client.expect("result", 1_800_000);
      const after = await reports(server, client);
      const side = (start: Report, end: Report): SoakSide => ({
        startMb: round1(start.rssMb),
        endMb: round1(end.rssMb),
        startHeapMb: round1(start.heapMb),
        endHeapMb: round1(end.heapMb),
        startHeapTotalMb: round1(start.heapTotalMb),
        endHeapTotalMb: round1(end.heapTotalMb),
        startExternalMb: round1(start.externalMb),
        endExternalMb: round1(end.externalMb),
      });
      const sides: Record<"client" | "server", SoakSide> = { client: side(before.client, after.client), server: side(before.server, after.server) };
      for (const side of ["client", "server"] as const) {
        const { startMb, endMb, startHeapMb, endHeapMb, startHeapTotalMb, endHeapTotalMb, startExternalMb, endExternalMb } = sides[side];
        const growth = endMb / startMb - 1;
        const ok = growth <= 0.1;
        failed ||= !ok;
        lines.push(
          `| ${stack} | ${int(result.ops / result.seconds)} | ${side} | ${startMb.toFixed(1)} | ${endMb.toFixed(1)} | ${(growth * 100).toFixed(1)}% | ${startHeapMb.toFixed(1)} → ${endHeapMb.toFixed(1)} | ${startHeapTotalMb.toFixed(1)} → ${endHeapTotalMb.toFixed(1)} | ${startExternalMb.toFixed(1)} → ${endExternalMb.toFixed(1)} | ${ok ? "yes" : "NO"} |`,
        );
      }
      summary.push({ stack, calls: result.ops, rate: Math.round(result.ops / result.seconds), ...sides });
      log(`  ${stack}: ${int(result.ops)} calls in ${result.seconds.toFixed(1)} s`);
    } finally {
      await Promise.all([client?.stop(), server.stop()]);
    }
  }
  writeFileSync(join(packageDir, "results", "soak.json"), `${JSON.stringify(summary, null, 2)}\n`);
  process.stdout.write(
    `\nzrpc soak: ${int(SOAK_CALLS)} calls per stack; ${machine()}\nRSS after a forced GC (--expose-gc); the end may be at most 10% above the post-warm-up value.\n\n${lines.join("\n")}\n`,
  );
  if (failed) process.exitCode = 1;
}

async function reports(server: Child, client: Child): Promise<{ server: Report; client: Report }> {
  server.send({ cmd: "report", gc: true });
  client.send({ cmd: "report", gc: true });
  const [serverReply, clientReply] = await Promise.all([server.expect("report", 60_000), client.expect("report", 60_000)]);
  return { server: serverReply.report, client: clientReply.report };
}

async function profile(): Promise<void> {
  const stacks = listOption("stacks", ["zrpc-zeromq", "zrpc-zmtp"] as const, isStack);
  const workloads = listOption("workloads", ["sequential", "inflight100"] as const, isWorkload);
  const seconds = numberOption("seconds", 4);
  const root = join(packageDir, "results", "profiles");
  const sections: string[] = [];
  for (const stack of stacks) {
    for (const workload of workloads) {
      const dir = join(root, `${stack}-${workload}`);
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir, { recursive: true });
      const run = await measure(stack, workload, { seconds, warm: 2.5, profileDir: dir });
      const perOp = (run.result.cpuUs + run.server.cpuUs) / run.result.ops;
      writeFileSync(join(dir, "run.json"), `${JSON.stringify({ stack, workload, ...run }, null, 2)}\n`);
      log(`  profiled ${stack} ${workload}: ${rate(run.result.ops / run.result.seconds)} ${UNIT[workload]}, CPU ${cpu(perOp)}/op`);
      sections.push(
        `## ${stack}, ${LABEL[workload]} (${rate(run.result.ops / run.result.seconds)} ${UNIT[workload]}, ${cpu(perOp)} CPU per call, both processes)\n\n` +
          summariseProfiles(dir, run.result.ops),
      );
    }
  }
  const text = `# CPU profiles (V8 sampling profiler, measured window only)\n\n${machine()}\n\n${sections.join("\n\n")}\n`;
  writeFileSync(join(root, "summary.md"), text);
  process.stdout.write(text);
}

if (flag("soak")) await soak();
else if (flag("profile")) await profile();
else await bench();
