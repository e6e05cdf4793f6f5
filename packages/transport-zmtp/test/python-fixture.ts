// Running the pyzmq fixtures of fixtures/ from a test: finding a python3 with pyzmq, reading the
// lines a fixture prints, and stopping it (by PID) after the test. A missing python3 or pyzmq
// fails the tests that need it (no skipping).
import { Buffer } from "node:buffer";
import { createHash } from "node:crypto";
import { spawn, spawnSync } from "node:child_process";
import type { ChildProcessWithoutNullStreams } from "node:child_process";
import { fileURLToPath } from "node:url";
import { track } from "./helpers.js";

/**
 * The Python that has pyzmq with CURVE: $ZRPC_PYTHON, else `python3` on PATH, else Debian's system
 * python (python3-zmq installs there; a pyenv or venv python3 first on PATH may lack it).
 */
export function findCurvePython(): { python: string; versions: string } | { error: string } {
  const candidates = [process.env.ZRPC_PYTHON, "python3", "/usr/bin/python3"].filter((candidate): candidate is string => !!candidate);
  const tried: string[] = [];
  for (const candidate of candidates) {
    const probe = spawnSync(candidate, ["-c", "import zmq; assert zmq.has('curve'); print(zmq.zmq_version(), zmq.__version__)"], { encoding: "utf8" });
    if (probe.status === 0) return { python: candidate, versions: probe.stdout.trim() };
    tried.push(`${candidate}: ${probe.error?.message ?? probe.stderr.trim().split("\n").at(-1) ?? "failed"}`);
  }
  return {
    error:
      "pyzmq CURVE interop needs python3 with pyzmq built with CURVE (Debian: apt-get install -y python3-zmq), " +
      `or ZRPC_PYTHON pointing at a python that has it. Tried: ${tried.join("; ")}`,
  };
}

/** A running fixture. Its stdin stays open: closing it (or the test ending) makes it exit. */
export interface PythonChild {
  readonly process: ChildProcessWithoutNullStreams;
  readonly exited: Promise<{ code: number | null; stdout: string; stderr: string }>;
  /** Every complete stdout line so far. */
  lines(): string[];
  /**
   * Resolves with the first stdout line (past or future) starting with `prefix` (or with any of
   * several prefixes); rejects if the fixture exits first.
   */
  line(prefix: string | readonly string[]): Promise<string>;
  /** Closes the fixture's stdin (it exits on EOF) and resolves once it exited. */
  stop(): Promise<{ code: number | null; stdout: string; stderr: string }>;
}

/** The lines of `output` that ended with a newline. */
function completeLines(output: string): string[] {
  return output.split("\n").slice(0, -1);
}

/**
 * Starts `fixtures/<script>` with `python`; it is stopped (by PID) after the test if still running.
 */
export function runPython(python: string, script: string, args: readonly string[]): PythonChild {
  // -B: no __pycache__ next to the fixtures (they import pyzmq_curve_common.py).
  const child = spawn(python, ["-B", fileURLToPath(new URL(`fixtures/${script}`, import.meta.url)), ...args]);
  // After the test: SIGTERM (the fixtures then remove their temporary files), SIGKILL 5 s later.
  track({
    close: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const gone = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      const killer = setTimeout(() => child.kill("SIGKILL"), 5000);
      await gone;
      clearTimeout(killer);
    },
  });
  let stdout = "";
  let stderr = "";
  const waiting: { matches: (line: string) => boolean; resolve: (line: string) => void }[] = [];
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk;
    for (const entry of [...waiting]) {
      const found = completeLines(stdout).find(entry.matches);
      if (found !== undefined) {
        waiting.splice(waiting.indexOf(entry), 1);
        entry.resolve(found);
      }
    }
  });
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  // A fixture that already exited makes writes fail with EPIPE: nothing to do about it.
  child.stdin.on("error", () => undefined);
  const exited = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on("close", (code) => resolve({ code, stdout, stderr })),
  );
  return {
    process: child,
    exited,
    lines: () => completeLines(stdout),
    line: (prefix) => {
      const prefixes = typeof prefix === "string" ? [prefix] : prefix;
      const matches = (line: string): boolean => prefixes.some((each) => line.startsWith(each));
      return Promise.race([
        new Promise<string>((resolve) => {
          const found = completeLines(stdout).find(matches);
          if (found !== undefined) resolve(found);
          else waiting.push({ matches, resolve });
        }),
        exited.then(({ code, stderr: errors }) => {
          throw new Error(`${script} exited (${String(code)}) before printing ${prefixes.join(" or ")}: ${errors}`);
        }),
      ]);
    },
    stop: () => {
      child.stdin.end();
      return exited;
    },
  };
}

/**
 * SHA-256 over messages as the fixtures' `Digest` computes it: per message a 4-byte big-endian
 * frame count, per frame an 8-byte big-endian length and the bytes.
 */
export function messageDigest(messages: readonly (readonly Uint8Array[])[]): string {
  const hash = createHash("sha256");
  for (const frames of messages) {
    const count = Buffer.alloc(4);
    count.writeUInt32BE(frames.length);
    hash.update(count);
    for (const frame of frames) {
      const length = Buffer.alloc(8);
      length.writeBigUInt64BE(BigInt(frame.byteLength));
      hash.update(length);
      hash.update(frame);
    }
  }
  return hash.digest("hex");
}
