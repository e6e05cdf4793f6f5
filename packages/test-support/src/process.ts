// Child processes for tests: start one, read its output line by line, wait for a line (never for
// a fixed time), and stop it with a bounded wait: a signal first, SIGKILL when the grace runs out.
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";

/** How a child ended. */
export interface ProcessExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** The output streams a test can wait on. */
export type OutputStream = "stdout" | "stderr";

/** Options of {@link startProcess}. */
export interface StartProcessOptions {
  readonly cwd?: string;
  /** Changes to this process's environment: `undefined` removes a variable. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** `"pipe"` to write to the child's stdin (default `"ignore"`). */
  readonly stdin?: "ignore" | "pipe";
  /** `"inherit"` to let the child's stderr through to the test's (default `"pipe"`: kept in `stderr`). */
  readonly stderr?: "pipe" | "inherit";
  /** A name for error messages (default: the command and its arguments). */
  readonly label?: string;
}

/** Options of {@link ChildHandle.stop} and {@link stopProcess}. */
export interface StopOptions {
  /** The first signal (default `SIGTERM`). */
  readonly signal?: NodeJS.Signals;
  /** How long to wait after it before SIGKILL (default 10000 ms). */
  readonly graceMs?: number;
}

/** A running child. */
export interface ChildHandle {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Every stdout line so far. */
  readonly stdout: string[];
  /** Every stderr line so far (empty when stderr is inherited). */
  readonly stderr: string[];
  /** Resolves once the child has exited and its output has been read to the end. */
  readonly exited: Promise<ProcessExit>;
  /** How it ended, once it has. */
  readonly exit: ProcessExit | undefined;
  /**
   * The first line (already printed or still to come) of `stream` that matches; rejects with
   * everything the child printed if it exits first.
   */
  waitForLine(pattern: RegExp, stream?: OutputStream): Promise<RegExpMatchArray>;
  waitForLine(test: (line: string) => boolean, stream?: OutputStream): Promise<string>;
  /** Calls `listener` with every line of `stream` printed from now on. */
  onLine(stream: OutputStream, listener: (line: string) => void): void;
  /** Sends `signal` (SIGTERM), then SIGKILL after `graceMs`; resolves with how it ended. */
  stop(options?: StopOptions): Promise<ProcessExit>;
}

const running = new Set<ChildHandle>();

function environment(changes: Readonly<Record<string, string | undefined>> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const [key, value] of Object.entries(changes)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

/** Starts `command ...args` with piped output split into lines. Tracked until it exits (see {@link stopAllProcesses}). */
export function startProcess(command: string, args: readonly string[], options: StartProcessOptions = {}): ChildHandle {
  const label = options.label ?? [command, ...args].join(" ");
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: environment(options.env),
    stdio: [options.stdin ?? "ignore", "pipe", options.stderr ?? "pipe"],
  });
  if (child.pid === undefined) {
    // spawn failures (ENOENT) are reported through "error"; keep the process from crashing on it.
    child.once("error", () => undefined);
    throw new Error(`could not start ${label}`);
  }
  const pid = child.pid;
  const lines: Record<OutputStream, string[]> = { stdout: [], stderr: [] };
  const listeners: Record<OutputStream, ((line: string) => void)[]> = { stdout: [], stderr: [] };
  let exit: ProcessExit | undefined;
  const onExit: ((exit: ProcessExit) => void)[] = [];
  // "exit" fires when the process is gone; "close" once its pipes are drained too.
  const gone = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const exited = new Promise<ProcessExit>((resolve) => {
    child.once("close", (code: number | null, signal: NodeJS.Signals | null) => {
      exit = { code, signal };
      running.delete(handle);
      resolve(exit);
      for (const listener of onExit.splice(0)) listener(exit);
    });
  });
  for (const stream of ["stdout", "stderr"] as const) {
    const source = child[stream];
    if (source === null) continue;
    createInterface({ input: source, crlfDelay: Infinity }).on("line", (line) => {
      lines[stream].push(line);
      for (const listener of [...listeners[stream]]) listener(line);
    });
  }

  function waitForLine(pattern: RegExp, stream?: OutputStream): Promise<RegExpMatchArray>;
  function waitForLine(test: (line: string) => boolean, stream?: OutputStream): Promise<string>;
  function waitForLine(matcher: RegExp | ((line: string) => boolean), stream: OutputStream = "stdout"): Promise<RegExpMatchArray | string> {
    const match = (line: string): RegExpMatchArray | string | null => {
      if (typeof matcher === "function") return matcher(line) ? line : null;
      return matcher.exec(line);
    };
    for (const line of lines[stream]) {
      const found = match(line);
      if (found !== null) return Promise.resolve(found);
    }
    return new Promise((resolve, reject) => {
      const fail = (result: ProcessExit): void =>
        reject(
          new Error(
            `${label} exited (${String(result.code ?? result.signal)}) before printing ${String(matcher)} on ${stream}\n` +
              `stdout:\n${lines.stdout.join("\n")}\nstderr:\n${lines.stderr.join("\n")}`,
          ),
        );
      if (exit !== undefined) {
        fail(exit);
        return;
      }
      const listener = (line: string): void => {
        const found = match(line);
        if (found === null) return;
        listeners[stream].splice(listeners[stream].indexOf(listener), 1);
        onExit.splice(onExit.indexOf(fail), 1);
        resolve(found);
      };
      listeners[stream].push(listener);
      onExit.push(fail);
    });
  }

  const handle: ChildHandle = {
    child,
    pid,
    stdout: lines.stdout,
    stderr: lines.stderr,
    exited,
    get exit() {
      return exit;
    },
    waitForLine,
    onLine(stream, listener) {
      listeners[stream].push(listener);
    },
    async stop(options = {}) {
      if (exit === undefined && child.exitCode === null && child.signalCode === null) {
        await signalAndWait(child, gone, options);
      }
      return exited;
    },
  };
  running.add(handle);
  return handle;
}

/** Starts `node [...nodeArgs] script ...args` with the Node.js running the tests. */
export function startNode(
  script: string,
  args: readonly string[] = [],
  options: StartProcessOptions & { readonly nodeArgs?: readonly string[] } = {},
): ChildHandle {
  return startProcess(process.execPath, [...(options.nodeArgs ?? []), script, ...args], { label: `node ${script} ${args.join(" ")}`.trim(), ...options });
}

async function signalAndWait(child: ChildProcess, gone: Promise<void>, options: StopOptions): Promise<void> {
  const { signal = "SIGTERM", graceMs = 10_000 } = options;
  child.kill(signal);
  if (signal === "SIGKILL") return gone;
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(true), graceMs);
  });
  const timedOut = await Promise.race([gone.then(() => false), expired]);
  clearTimeout(timer);
  if (timedOut) {
    child.kill("SIGKILL"); // also ends a SIGSTOPped child, which never acts on the first signal

    await gone;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Stops a process known only by its PID (one a child printed, say): `signal` (SIGTERM), then
 * SIGKILL once `graceMs` has passed, then up to `graceMs` more for it to disappear. Resolves with
 * true when it is gone, false when it still exists (a zombie whose parent has not reaped it).
 * Without a handle there is no exit event, so this checks every 10 ms; prefer
 * {@link ChildHandle.stop} for children of the test process.
 */
export async function stopProcess(pid: number, options: StopOptions = {}): Promise<boolean> {
  const { signal = "SIGTERM", graceMs = 10_000 } = options;
  const waitGone = async (ms: number): Promise<boolean> => {
    const deadline = Date.now() + ms;
    while (isAlive(pid)) {
      if (Date.now() >= deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return true;
  };
  if (!isAlive(pid)) return true;
  try {
    process.kill(pid, signal);
  } catch {
    return !isAlive(pid);
  }
  if (await waitGone(graceMs)) return true;
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // gone in between
  }
  return waitGone(graceMs);
}

/**
 * Stops every child started by {@link startProcess} that is still running (SIGKILL by default:
 * for an `afterEach`, so a test that failed half-way leaves nothing behind).
 */
export async function stopAllProcesses(options: StopOptions = { signal: "SIGKILL" }): Promise<void> {
  await Promise.all([...running].map((handle) => handle.stop(options)));
}
