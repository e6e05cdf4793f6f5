// `zrpc run --watch`: a supervisor that serves through one child `zrpc run` process at a time and
// replaces it when a module of the project changes.
//
// Why child processes: Node.js caches ES modules for the life of a process (and tsx's hooks do
// not change that), so new code needs a new process. The handover keeps the old server serving
// until the new code has loaded:
//   1. a file changes (debounced): a new child starts, loads the configuration, the apps, the
//      middleware and runs setup(), then says "ready" and waits, not listening yet;
//   2. if it fails to load (a syntax error, a module that throws), it exits: the old child goes on
//      serving, the error is printed, and the next change tries again;
//   3. else the old child drains (calls in flight finish, for up to --grace seconds) and exits,
//      and the new child binds the same endpoint (the port the first one got, for port 0).
// Between 3's drain and the new bind the endpoint is closed; clients reconnect by themselves.
//
// The children run in their own process group, so a CONTROL-C at the terminal reaches only the
// supervisor, which passes each SIGINT / SIGTERM on to its children (the first drains, a second
// one exits at once, as without --watch). A child whose supervisor disappears stops by itself.
import { fork } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { watch } from "node:fs";
import type { FSWatcher } from "node:fs";
import { extname, join, relative, sep } from "node:path";
import { describeError } from "./errors.js";
import { displayPath } from "./loader.js";
import type { RunLog } from "./run-log.js";

/** The environment variable that tells `zrpc run` it is a child of the `--watch` supervisor. */
export const WATCH_CHILD_ENV = "ZRPC_WATCH_CHILD";

/** Files whose changes restart the server: modules (TypeScript, JavaScript) and JSON. */
export const WATCHED_EXTENSIONS: ReadonlySet<string> = new Set([".ts", ".mts", ".cts", ".tsx", ".js", ".mjs", ".cjs", ".json"]);

/** How long the supervisor waits after the last change before it reloads, in ms. */
export const WATCH_DEBOUNCE_MS = 150;

/** Messages from a child to the supervisor. */
export type ChildMessage =
  | { readonly type: "ready" }
  | { readonly type: "listening"; readonly endpoints: readonly string[] }
  | { readonly type: "failed"; readonly message: string };

/** Messages from the supervisor to a child. */
export type SupervisorMessage = { readonly type: "bind"; readonly endpoint: string } | { readonly type: "stop"; readonly reason: string };

/**
 * True when `path` (relative to the watched folder) is one whose change restarts the server: a
 * module or JSON file outside `node_modules` and outside folders whose name starts with a dot.
 */
export function isWatchedPath(path: string): boolean {
  const parts = path.split(/[\\/]/);
  if (parts.some((part) => part === "node_modules" || part.startsWith("."))) return false;
  return WATCHED_EXTENSIONS.has(extname(path).toLowerCase());
}

/** One child `zrpc run`. */
class Generation {
  readonly child: ChildProcess;
  /** Resolves true once the child loaded everything and waits to bind; false if it exited first. */
  readonly ready: Promise<boolean>;
  /** Resolves with the endpoints once it listens; `undefined` if it exited first. */
  readonly listening: Promise<readonly string[] | undefined>;
  /** Resolves with the exit status (1 for a signal) once the child has exited. */
  readonly exited: Promise<number>;
  /** What the child said went wrong, if it failed. */
  failure: string | undefined;
  /** True once the supervisor told it to stop (its exit is then expected). */
  retiring = false;

  constructor(script: string, argv: readonly string[]) {
    this.child = fork(script, ["run", ...argv], {
      execArgv: process.execArgv,
      env: { ...process.env, [WATCH_CHILD_ENV]: "1" },
      stdio: ["ignore", "inherit", "inherit", "ipc"],
      detached: true,
    });
    this.exited = new Promise((resolve) => {
      this.child.once("exit", (code) => resolve(code ?? 1));
      this.child.once("error", () => resolve(1));
    });
    const exitedFirst = this.exited.then(() => undefined);
    this.ready = Promise.race([this.message("ready").then(() => true), exitedFirst.then(() => false)]);
    this.listening = Promise.race([
      this.message("listening").then((message) => (message as { endpoints: readonly string[] }).endpoints),
      exitedFirst,
    ]);
    this.child.on("message", (message: ChildMessage) => {
      if (message.type === "failed") this.failure = message.message;
    });
  }

  private message(type: ChildMessage["type"]): Promise<ChildMessage> {
    return new Promise((resolve) => {
      const listener = (message: ChildMessage): void => {
        if (message.type !== type) return;
        this.child.off("message", listener);
        resolve(message);
      };
      this.child.on("message", listener);
    });
  }

  /** Sends `message` if the child is still there. */
  send(message: SupervisorMessage): void {
    if (this.child.connected) this.child.send(message);
  }

  /** Passes a signal on. */
  signal(signal: NodeJS.Signals): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
  }
}

/** What {@link superviseWatch} needs. */
export interface WatchSettings {
  /** The arguments of `zrpc run` for the children (without `--watch`). */
  readonly argv: readonly string[];
  /** The endpoint to serve (its wildcard port is fixed by the first child that listens). */
  readonly endpoint: string;
  /** The folder to watch (the configuration file's). */
  readonly root: string;
  /** Where to report. */
  readonly log: RunLog;
}

/**
 * Serves through child `zrpc run` processes and restarts them when a watched file under `root`
 * changes (see the module comment). Resolves with the exit status once stopped by a signal: the
 * status of the last child (0 after a clean drain).
 */
export function superviseWatch(settings: WatchSettings): Promise<number> {
  const { log } = settings;
  const script = process.argv[1]!;
  let bindTo = settings.endpoint;
  let current: Generation | undefined;
  let preparing: Generation | undefined;
  let stopping = false;
  let reloading = false;
  let pending = new Set<string>();
  let timer: ReturnType<typeof setTimeout> | undefined;

  const failed = (generation: Generation, changed: readonly string[], status: number): void => {
    const error = generation.failure ?? `the server exited with status ${status}`;
    const still = current === undefined ? "not serving until the next change" : "still serving the previous version";
    log.event("reload-failed", { changed, error, serving: current !== undefined }, { line: `reload failed (${still}): ${error.split("\n")[0]!}` });
  };

  /** Starts a generation and, once it has loaded, hands the endpoint over to it. */
  const generation = async (changed: readonly string[]): Promise<void> => {
    const next = new Generation(script, settings.argv);
    preparing = next;
    try {
      if (!(await next.ready) || stopping) {
        if (stopping) next.send({ type: "stop", reason: "stop" });
        else failed(next, changed, await next.exited);
        return;
      }
      const previous = current;
      if (previous !== undefined) {
        previous.retiring = true;
        previous.send({ type: "stop", reason: "reload" });
        await previous.exited;
      }
      if (stopping) {
        next.send({ type: "stop", reason: "stop" });
        return;
      }
      next.send({ type: "bind", endpoint: bindTo });
      const endpoints = await next.listening;
      if (endpoints === undefined) {
        current = undefined;
        failed(next, changed, await next.exited);
        return;
      }
      current = next;
      bindTo = endpoints[0] ?? bindTo;
      void next.exited.then((status) => {
        if (current !== next || stopping || next.retiring) return;
        current = undefined;
        log.event("stopped", { status, unexpected: true }, { line: `the server exited with status ${status}; restarting on the next change` });
      });
      if (changed.length > 0) log.event("reloaded", { changed, endpoints }, { line: `reloaded (${changed.join(", ")})` });
    } finally {
      if (preparing === next) preparing = undefined;
    }
  };

  const reload = async (): Promise<void> => {
    if (reloading || stopping || pending.size === 0) return;
    reloading = true;
    const changed = [...pending].sort();
    pending = new Set();
    log.event("reloading", { changed }, { line: `changed: ${changed.join(", ")}; reloading` });
    try {
      await generation(changed);
    } catch (error) {
      log.warn(`reload failed: ${describeError(error)}`);
    } finally {
      reloading = false;
    }
    // Changes made while reloading.
    if (pending.size > 0) void reload();
  };

  let watcher: FSWatcher;
  try {
    watcher = watch(settings.root, { recursive: true }, (_type, filename) => {
      if (filename === null || stopping) return;
      const path = relative(settings.root, join(settings.root, filename.toString()));
      if (!isWatchedPath(path)) return;
      pending.add(displayPath(join(settings.root, path)).split(sep).join("/"));
      if (timer !== undefined) clearTimeout(timer);
      timer = setTimeout(() => void reload(), WATCH_DEBOUNCE_MS);
    });
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
  log.note(`watching ${displayPath(settings.root)} for changes (modules and JSON files, not node_modules)`);

  return new Promise<number>((resolve) => {
    let signals = 0;
    const onSignal = (signal: NodeJS.Signals): void => {
      signals += 1;
      stopping = true;
      if (timer !== undefined) clearTimeout(timer);
      watcher.close();
      preparing?.send({ type: "stop", reason: signal });
      current?.signal(signal);
      if (signals > 1) return;
      void (async () => {
        // A generation being prepared stops by itself (it sees `stopping` or the stop message).
        while (preparing !== undefined) await preparing.exited;
        const status = current === undefined ? 0 : await current.exited;
        resolve(signals > 1 ? 1 : status);
      })();
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
    void generation([]).catch((error: unknown) => log.warn(`start failed: ${describeError(error)}`));
  });
}
