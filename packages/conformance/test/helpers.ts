import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { listVectors, loadVector as loadRecorded, startNode } from "@zrpc/test-support";
import type { ChildHandle, Vector as RecordedVector, VectorFrame, VectorMessage as RecordedMessage } from "@zrpc/test-support";

const here = dirname(fileURLToPath(import.meta.url));

/** The built CLI of this package. */
export const CLI = resolve(here, "..", "dist", "cli.js");

export { freePort } from "@zrpc/test-support";
export type { VectorEvent, VectorFrame } from "@zrpc/test-support";

/** A recorded ZeroMQ message: the vectors replayed here are never `tcp` ones, so it has frames. */
export type VectorMessage = RecordedMessage & { readonly frames: VectorFrame[] };

/** A golden transcript (vendored in @zrpc/test-support) whose messages all have frames. */
export type Vector = Omit<RecordedVector, "messages"> & { readonly messages: VectorMessage[] };

/** The names of the golden transcripts, sorted. */
export const vectorNames = listVectors;

export function loadVector(name: string): Vector {
  return loadRecorded(name) as Vector;
}

/** A child process running the CLI, with its stdout split into lines. */
export class CliProcess {
  private readonly handle: ChildHandle;
  readonly exited: Promise<number | null>;

  constructor(args: readonly string[]) {
    this.handle = startNode(CLI, args, { stdin: "pipe" });
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

  /** Sends SIGTERM (SIGKILL if it is still running 10 s later) and resolves with the exit code. */
  async stop(): Promise<number | null> {
    return (await this.handle.stop()).code;
  }
}
