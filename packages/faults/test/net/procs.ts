// Fixture processes inside a network namespace (`ip netns exec NS node fixtures/net-*.mjs`),
// printing JSON lines and, for the client and the relay, reading commands on stdin.
import { fileURLToPath } from "node:url";
import { startProcess } from "@zrpc/test-support";
import type { ChildHandle } from "@zrpc/test-support";

/** One JSON line a fixture printed. */
export interface NetEvent {
  readonly type: string;
  readonly [key: string]: unknown;
}

/** A fixture running in a namespace. */
export interface NetProcess {
  readonly handle: ChildHandle;
  readonly events: NetEvent[];
  /** The first event (already printed or still to come) that matches; rejects after `ms` or when the process exits. */
  waitFor(predicate: (event: NetEvent) => boolean, ms?: number, what?: string): Promise<NetEvent>;
  /** Writes one command line to its stdin. */
  send(command: Readonly<Record<string, unknown>> | string): void;
  /** SIGKILL, and waits for the exit. */
  kill(): Promise<void>;
}

/** Epoch milliseconds with fractions: the clock the fixtures stamp their events with. */
export function now(): number {
  return performance.timeOrigin + performance.now();
}

/** Starts `fixtures/<name>` in network namespace `ns` with one JSON argument. Killed after the test (helpers.ts). */
export function startIn(ns: string, name: string, config: Readonly<Record<string, unknown>>): NetProcess {
  const script = fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));
  const handle = startProcess("ip", ["netns", "exec", ns, process.execPath, script, JSON.stringify(config)], {
    cwd: fileURLToPath(new URL("../..", import.meta.url)),
    stdin: "pipe",
    stderr: "inherit",
    label: `${name} in ${ns}`,
    env: { PATH: `${process.env.PATH ?? ""}:/usr/sbin:/sbin` },
  });
  const events: NetEvent[] = [];
  const waiters = new Set<(event: NetEvent) => void>();
  handle.onLine("stdout", (line) => {
    let event: NetEvent;
    try {
      event = JSON.parse(line) as NetEvent;
    } catch {
      event = { type: "text", text: line };
    }
    events.push(event);
    for (const waiter of [...waiters]) waiter(event);
  });
  return {
    handle,
    events,
    waitFor(predicate, ms = 20_000, what = "a matching event") {
      const found = events.find(predicate);
      if (found !== undefined) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const done = (): void => {
          clearTimeout(timer);
          waiters.delete(waiter);
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`${name}: no ${what} within ${ms} ms; it printed:\n${handle.stdout.slice(-20).join("\n")}`));
        }, ms);
        const waiter = (event: NetEvent): void => {
          if (!predicate(event)) return;
          done();
          resolve(event);
        };
        waiters.add(waiter);
        void handle.exited.then((exit) => {
          if (!waiters.has(waiter)) return;
          done();
          reject(new Error(`${name} exited (${String(exit.code ?? exit.signal)}) before ${what}`));
        });
      });
    },
    send(command) {
      handle.child.stdin?.write(`${typeof command === "string" ? command : JSON.stringify(command)}\n`);
    },
    async kill() {
      await handle.stop({ signal: "SIGKILL" });
    },
  };
}
