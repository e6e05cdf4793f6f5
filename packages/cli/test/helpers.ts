// Runs the built `zrpc` command as a child process and lets tests wait for its output lines and
// its exit: never for a fixed time.
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
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
  /** Sends a signal and resolves when the child has exited. */
  stop(signal?: NodeJS.Signals): Promise<Exit>;
}

const running = new Set<CliProcess>();

// A test that fails half-way must not leave servers behind.
afterEach(async () => {
  await Promise.all([...running].map((process) => process.stop("SIGKILL")));
});

/** Options of {@link startCli}. */
export interface StartOptions {
  readonly cwd?: string;
  /** Extra environment variables (`undefined` removes one). */
  readonly env?: Record<string, string | undefined>;
}

function environment(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: "1" };
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

/** Starts `node dist/cli.js ...args`. */
export function startCli(args: readonly string[], options: StartOptions = {}): CliProcess {
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: options.cwd ?? FIXTURES,
    env: environment(options.env),
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines = { stdout: [] as string[], stderr: [] as string[] };
  const waiters: { pattern: RegExp; stream: "stdout" | "stderr"; resolve: (match: RegExpMatchArray) => void }[] = [];
  let exit: Exit | undefined;
  let onExit: ((exit: Exit) => void)[] = [];
  const exited = new Promise<Exit>((resolve) => {
    child.on("close", (code, signal) => {
      exit = { code, signal };
      running.delete(handle);
      resolve(exit);
      for (const listener of onExit) listener(exit);
      onExit = [];
    });
  });
  for (const stream of ["stdout", "stderr"] as const) {
    createInterface({ input: child[stream] }).on("line", (line) => {
      lines[stream].push(line);
      for (const waiter of [...waiters]) {
        const match = waiter.stream === stream ? waiter.pattern.exec(line) : null;
        if (match !== null) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(match);
        }
      }
    });
  }
  const handle: CliProcess = {
    child,
    stdout: lines.stdout,
    stderr: lines.stderr,
    exited,
    waitForLine(pattern, stream = "stdout") {
      for (const line of lines[stream]) {
        const match = pattern.exec(line);
        if (match !== null) return Promise.resolve(match);
      }
      return new Promise((resolve, reject) => {
        const fail = (result: Exit): void =>
          reject(
            new Error(
              `zrpc ${args.join(" ")} exited (${String(result.code ?? result.signal)}) before printing ${String(pattern)}\n` +
                `stdout:\n${lines.stdout.join("\n")}\nstderr:\n${lines.stderr.join("\n")}`,
            ),
          );
        if (exit !== undefined) {
          fail(exit);
          return;
        }
        waiters.push({ pattern, stream, resolve });
        onExit.push(fail);
      });
    },
    async stop(signal = "SIGTERM") {
      if (exit === undefined) child.kill(signal);
      return exited;
    },
  };
  running.add(handle);
  return handle;
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
