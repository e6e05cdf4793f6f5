import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { startNode } from "@zrpc/test-support";
import type { ChildHandle } from "@zrpc/test-support";

export { freePort } from "@zrpc/test-support";

/** This package's directory. */
export const PACKAGE_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** A file of this package by its path inside it. */
export function packageFile(path: string): string {
  return resolve(PACKAGE_DIR, path);
}

/**
 * A child `node` process running one of this package's TypeScript scripts (through tsx), with its
 * stdout split into lines; lines that are JSON objects are also kept parsed.
 */
export class ScriptProcess {
  private readonly handle: ChildHandle;
  readonly json: Record<string, unknown>[] = [];
  readonly exited: Promise<number | null>;

  constructor(script: string, args: readonly string[]) {
    this.handle = startNode(packageFile(script), args, { cwd: PACKAGE_DIR, nodeArgs: ["--import", "tsx"], stdin: "pipe" });
    this.handle.onLine("stdout", (line) => {
      if (!line.startsWith("{")) return;
      try {
        this.json.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // not JSON after all: kept as a line only
      }
    });
    this.exited = this.handle.exited.then((exit) => exit.code);
  }

  get child(): ChildHandle["child"] {
    return this.handle.child;
  }

  /** Every stdout line so far. */
  get lines(): string[] {
    return this.handle.stdout;
  }

  /** Everything printed on stderr so far. */
  get stderr(): string {
    return this.handle.stderr.join("\n");
  }

  /** Resolves with the first stdout line (past or future) that passes `test`; rejects if the process exits first. */
  waitForLine(test: (line: string) => boolean): Promise<string> {
    return this.handle.waitForLine(test);
  }

  /** Sends SIGTERM (if still running; SIGKILL 10 s later) and resolves with the exit code. */
  async stop(): Promise<number | null> {
    return (await this.handle.stop()).code;
  }
}
