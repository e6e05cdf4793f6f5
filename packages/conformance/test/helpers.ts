import { spawn } from "node:child_process";
import type { ChildProcessWithoutNullStreams } from "node:child_process";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));

/** The built CLI of this package. */
export const CLI = resolve(here, "..", "dist", "cli.js");

/** The shared folder beside the repository root (the one holding pnpm-workspace.yaml), or $ZRPC_SHARED_DIR. */
export function sharedDir(): string {
  const fromEnv = process.env.ZRPC_SHARED_DIR;
  if (fromEnv !== undefined && fromEnv !== "") return fromEnv;
  let dir = here;
  while (!existsSync(join(dir, "pnpm-workspace.yaml"))) {
    const up = dirname(dir);
    if (up === dir) throw new Error("repository root (pnpm-workspace.yaml) not found");
    dir = up;
  }
  return resolve(dir, "..", "shared");
}

export interface VectorFrame {
  len: number;
  hex: string;
  role: string;
  layout?: string;
  decoded?: unknown;
}
export interface VectorEvent {
  name: string;
  header: Record<string, unknown>;
  args: unknown;
}
export interface VectorMessage {
  seq: number;
  t_ms: number;
  direction: "client->server" | "server->client";
  frames: VectorFrame[];
  event?: VectorEvent;
}
export interface Vector {
  scenario: string;
  mode: string;
  settings: Record<string, unknown>;
  ids: Record<string, { wire: unknown; text: string }>;
  messages: VectorMessage[];
}

export function vectorsDir(): string {
  return join(sharedDir(), "protocol", "vectors");
}

export function vectorNames(): string[] {
  return readdirSync(vectorsDir())
    .filter((file) => file.endsWith(".json"))
    .map((file) => file.slice(0, -5))
    .sort();
}

export function loadVector(name: string): Vector {
  return JSON.parse(readFileSync(join(vectorsDir(), `${name}.json`), "utf8")) as Vector;
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

/** A child process running the CLI, with its stdout split into lines. */
export class CliProcess {
  readonly child: ChildProcessWithoutNullStreams;
  readonly lines: string[] = [];
  stderr = "";
  readonly exited: Promise<number | null>;
  private waiters: { test: (line: string) => boolean; resolve: (line: string) => void }[] = [];

  constructor(args: readonly string[]) {
    this.child = spawn(process.execPath, [CLI, ...args], { stdio: ["pipe", "pipe", "pipe"] });
    this.child.stderr.setEncoding("utf8");
    this.child.stderr.on("data", (chunk: string) => {
      this.stderr += chunk;
    });
    createInterface({ input: this.child.stdout }).on("line", (line) => {
      this.lines.push(line);
      this.waiters = this.waiters.filter((waiter) => {
        if (!waiter.test(line)) return true;
        waiter.resolve(line);
        return false;
      });
    });
    this.exited = new Promise((resolveExit) => {
      // "close", not "exit": by then stdout and stderr have been read to the end.
      this.child.once("close", (code) => resolveExit(code));
    });
  }

  /** Resolves with the first stdout line (past or future) that passes `test`; rejects if the process exits first. */
  waitForLine(test: (line: string) => boolean): Promise<string> {
    const seen = this.lines.find(test);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolveLine, reject) => {
      this.waiters.push({ test, resolve: resolveLine });
      void this.exited.then((code) => {
        reject(new Error(`CLI exited (${String(code)}) before the line; stdout:\n${this.lines.join("\n")}\nstderr:\n${this.stderr}`));
      });
    });
  }

  /** Sends SIGTERM and resolves with the exit code. */
  async stop(): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGTERM");
    return this.exited;
  }
}
