// Runs the built `zrpc` command as a child process and lets tests wait for its output lines and
// its exit: never for a fixed time.
import type { ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { startNode, stopAllProcesses } from "@zrpc/test-support";
import { afterEach } from "vitest";

/** The built command (tests run after `build`, see turbo.json). */
export const CLI = fileURLToPath(new URL("../dist/cli.js", import.meta.url));
/** The fixtures folder. */
export const FIXTURES = fileURLToPath(new URL("./fixtures/", import.meta.url));

/** How a child ended. */
export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** A running `zrpc` child. */
export interface CliProcess {
  readonly child: ChildProcess;
  /** Every stdout line so far. */
  readonly stdout: string[];
  /** Every stderr line so far. */
  readonly stderr: string[];
  /** Resolves when the child has exited. */
  readonly exited: Promise<Exit>;
  /**
   * Resolves with the first line (past or future) of `stream` matching `pattern`; rejects if the
   * child exits first, with everything it printed.
   */
  waitForLine(pattern: RegExp, stream?: "stdout" | "stderr"): Promise<RegExpMatchArray>;
  /** Resolves with the `count`-th line (past or future) of `stream` matching `pattern`. */
  waitForNthLine(pattern: RegExp, count: number, stream?: "stdout" | "stderr"): Promise<string>;
  /** Sends a signal and resolves when the child has exited. */
  stop(signal?: NodeJS.Signals): Promise<Exit>;
}

// A test that fails half-way must not leave servers behind.
afterEach(() => stopAllProcesses());

/** Options of {@link startCli}. */
export interface StartOptions {
  readonly cwd?: string;
  /** Extra environment variables (`undefined` removes one). */
  readonly env?: Record<string, string | undefined>;
  /**
   * `zrpc call` / `inspect` / `types` get `--connect-timeout 30` unless the arguments set it or this is
   * true: the default 1 s is short for a loaded test machine, where a server that is up may take
   * longer to answer the handshake. Tests of the default itself keep it.
   */
  readonly defaultConnectTimeout?: boolean;
}

/** Test-machine patience for the client commands (see {@link StartOptions.defaultConnectTimeout}). */
function withConnectTimeout(args: readonly string[], options: StartOptions): readonly string[] {
  const [command, ...rest] = args;
  if (command !== "call" && command !== "inspect" && command !== "types") return args;
  if (options.defaultConnectTimeout === true || rest.some((arg) => arg.startsWith("--connect-timeout"))) return args;
  return [command, "--connect-timeout", "30", ...rest];
}

/** How long a stopped server may take to shut down cleanly before it is killed. */
const STOP_GRACE_MS = 30_000;

/** Starts `node dist/cli.js ...args`. */
export function startCli(given: readonly string[], options: StartOptions = {}): CliProcess {
  const args = withConnectTimeout(given, options);
  const handle = startNode(CLI, args, { cwd: options.cwd ?? FIXTURES, env: { NO_COLOR: "1", ...options.env }, label: `zrpc ${args.join(" ")}` });
  return {
    child: handle.child,
    stdout: handle.stdout,
    stderr: handle.stderr,
    exited: handle.exited,
    waitForLine: (pattern, stream) => handle.waitForLine(pattern, stream),
    waitForNthLine: (pattern, count, stream) => {
      let seen = 0;
      return handle.waitForLine((line) => pattern.test(line) && ++seen === count, stream);
    },
    stop: (signal = "SIGTERM") => handle.stop({ signal, graceMs: STOP_GRACE_MS }),
  };
}

/** The outcome of a finished `zrpc` run. */
export interface CliResult extends Exit {
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `zrpc ...args` to completion. */
export async function runCli(args: readonly string[], options: StartOptions = {}): Promise<CliResult> {
  const process = startCli(args, options);
  const result = await process.exited;
  return { ...result, stdout: process.stdout.join("\n"), stderr: process.stderr.join("\n") };
}

/** Starts `zrpc run ADDRESS ...` and resolves once it listens, with the endpoint it printed. */
export async function startServer(args: readonly string[], options: StartOptions = {}): Promise<{ server: CliProcess; endpoint: string }> {
  const server = startCli(["run", ...args], options);
  const match = await server.waitForLine(/^Listening on (\S+) /);
  return { server, endpoint: match[1]! };
}
