import { spawn } from "node:child_process";
import type { ChildProcessWithoutNullStreams } from "node:child_process";
import { createServer } from "node:net";
import { dirname, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

/** This package's directory. */
export const PACKAGE_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** A file of this package by its path inside it. */
export function packageFile(path: string): string {
  return resolve(PACKAGE_DIR, path);
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

/**
 * A child `node` process running one of this package's TypeScript scripts (through tsx), with its
 * stdout split into lines; lines that are JSON objects are also kept parsed.
 */
export class ScriptProcess {
  readonly child: ChildProcessWithoutNullStreams;
  readonly lines: string[] = [];
  readonly json: Record<string, unknown>[] = [];
  stderr = "";
  readonly exited: Promise<number | null>;
  private waiters: { test: (line: string) => boolean; resolve: (line: string) => void }[] = [];

  constructor(script: string, args: readonly string[]) {
    this.child = spawn(process.execPath, ["--import", "tsx", packageFile(script), ...args], {
      cwd: PACKAGE_DIR,
      stdio: ["pipe", "pipe", "pipe"],
    });
    this.child.stderr.setEncoding("utf8");
    this.child.stderr.on("data", (chunk: string) => {
      this.stderr += chunk;
    });
    createInterface({ input: this.child.stdout }).on("line", (line) => {
      this.lines.push(line);
      if (line.startsWith("{")) {
        try {
          this.json.push(JSON.parse(line) as Record<string, unknown>);
        } catch {
          // not JSON after all: kept as a line only
        }
      }
      this.waiters = this.waiters.filter((waiter) => {
        if (!waiter.test(line)) return true;
        waiter.resolve(line);
        return false;
      });
    });
    this.exited = new Promise((resolveExit) => {
      this.child.once("exit", (code) => resolveExit(code));
    });
  }

  /** Resolves with the first stdout line (past or future) that passes `test`; rejects if the process exits first. */
  waitForLine(test: (line: string) => boolean): Promise<string> {
    const seen = this.lines.find(test);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolveLine, reject) => {
      this.waiters.push({ test, resolve: resolveLine });
      void this.exited.then((code) => {
        reject(new Error(`process exited (${String(code)}) before the line; stdout:\n${this.lines.join("\n")}\nstderr:\n${this.stderr}`));
      });
    });
  }

  /** Sends SIGTERM (if still running) and resolves with the exit code. */
  async stop(): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGTERM");
    return this.exited;
  }
}
