// Runs the tickets server with the real `zrpc run` (a child process) and waits for its output
// lines and its exit: never for a fixed time.
import type { ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { startNode, stopAllProcesses } from "@zrpc/test-support";
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

// A test that fails half-way must not leave servers behind.
afterEach(() => stopAllProcesses());

/** How long a stopped server may take to shut down cleanly (PGlite closes too) before it is killed. */
const STOP_GRACE_MS = 30_000;

/** Starts `node <zrpc> ...args` in the example folder with `env` changes (`undefined` removes a variable). */
export function startCli(args: readonly string[], env: Record<string, string | undefined> = {}): CliProcess {
  const handle = startNode(CLI, args, { cwd: EXAMPLE_DIR, env: { NO_COLOR: "1", ...env }, label: `zrpc ${args.join(" ")}` });
  return {
    child: handle.child,
    stdout: handle.stdout,
    stderr: handle.stderr,
    exited: handle.exited,
    waitForLine: (pattern, stream) => handle.waitForLine(pattern, stream),
    stop: (signal = "SIGTERM") => handle.stop({ signal, graceMs: STOP_GRACE_MS }),
  };
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
