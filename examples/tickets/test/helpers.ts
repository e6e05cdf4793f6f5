// Runs the tickets server with the real `zrpc run` (a child process) and waits for its output
// lines and its exit: never for a fixed time.
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { afterEach } from "vitest";

/** The example's folder: `zrpc run` finds zrpc.config.ts there. */
export const EXAMPLE_DIR = fileURLToPath(new URL("..", import.meta.url));

/** The `zrpc` command of the @zrpc/cli this example depends on (its `bin`). */
export const CLI = ((): string => {
  const manifestPath = createRequire(import.meta.url).resolve("@zrpc/cli/package.json");
  const manifest = createRequire(import.meta.url)(manifestPath) as { bin: { zrpc: string } };
  return join(dirname(manifestPath), manifest.bin.zrpc);
})();

/** How a child ended. */
export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** A running `zrpc` child. */
export interface CliProcess {
  readonly child: ChildProcess;
  readonly stdout: string[];
  readonly stderr: string[];
  readonly exited: Promise<Exit>;
  /** The first line (past or future) of `stream` matching `pattern`; rejects if the child exits first. */
  waitForLine(pattern: RegExp, stream?: "stdout" | "stderr"): Promise<RegExpMatchArray>;
  /** Sends a signal and resolves when the child has exited. */
  stop(signal?: NodeJS.Signals): Promise<Exit>;
}

const running = new Set<CliProcess>();

// A test that fails half-way must not leave servers behind.
afterEach(async () => {
  await Promise.all([...running].map((process) => process.stop("SIGKILL")));
});

/** Starts `node <zrpc> ...args` in the example folder with `env` changes (`undefined` removes a variable). */
export function startCli(args: readonly string[], env: Record<string, string | undefined> = {}): CliProcess {
  const environment: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: "1" };
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined) delete environment[key];
    else environment[key] = value;
  }
  const child = spawn(process.execPath, [CLI, ...args], { cwd: EXAMPLE_DIR, env: environment, stdio: ["ignore", "pipe", "pipe"] });
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
        if (exit !== undefined) return fail(exit);
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

/** Starts the tickets server on a free loopback port; resolves once it listens. */
export async function startTickets(env: Record<string, string | undefined>): Promise<{ server: CliProcess; endpoint: string }> {
  const server = startCli(["run", "127.0.0.1:0"], env);
  const match = await server.waitForLine(/^Listening on (\S+) /);
  return { server, endpoint: match[1]! };
}

/** Runs `zrpc ...args` to completion. */
export async function runCli(args: readonly string[]): Promise<Exit & { stdout: string; stderr: string }> {
  const process = startCli(args);
  const result = await process.exited;
  return { ...result, stdout: process.stdout.join("\n"), stderr: process.stderr.join("\n") };
}
