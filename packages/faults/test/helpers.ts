// Real processes for the fault-injection tests: a zrpc server fixture in a child process, talked to
// over loopback, and small measuring helpers. Every figure a test measures is printed, so a CI log
// can be quoted.
import type { ChildProcess } from "node:child_process";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { startNode, stopAllProcesses } from "@zrpc/test-support";
import { afterEach } from "vitest";

/** One JSON line a fixture printed. */
export interface FixtureEvent {
  readonly type: string;
  readonly [key: string]: unknown;
}

/** Options of the server fixture (test/fixtures/server.mjs). */
export interface ServerConfig {
  readonly endpoint?: string;
  readonly heartbeatMs?: number;
  readonly maxMessageBytes?: number;
  readonly logRateLimit?: number;
  readonly curve?: { readonly publicKey?: string; readonly secretKey: string; readonly allowedClientKeys?: readonly string[] };
}

/** A fixture process and everything it printed. */
export interface Fixture {
  readonly child: ChildProcess;
  readonly events: FixtureEvent[];
  /** Resolves with the first event (already printed, or still to come) that matches. */
  waitFor(predicate: (event: FixtureEvent) => boolean, ms?: number): Promise<FixtureEvent>;
  /** Resolves once the process has exited. */
  readonly exited: Promise<void>;
}

/** A server fixture that is up: `endpoint` is where it listens. */
export interface ServerFixture extends Fixture {
  readonly endpoint: string;
}

// Whatever a test started is SIGKILLed after it (also a SIGSTOPped one).
afterEach(() => stopAllProcesses());

/** Runs `fixtures/<name>` with node, collecting its JSON lines. Killed after the test. */
export function runFixture(name: string, args: readonly string[] = [], nodeArgs: readonly string[] = []): Fixture {
  const script = fileURLToPath(new URL(`fixtures/${name}`, import.meta.url));
  const handle = startNode(script, args, { nodeArgs, cwd: fileURLToPath(new URL("..", import.meta.url)), stderr: "inherit" });
  const { child } = handle;
  const events: FixtureEvent[] = [];
  const waiters: { predicate: (event: FixtureEvent) => boolean; resolve: (event: FixtureEvent) => void }[] = [];
  handle.onLine("stdout", (line) => {
    let event: FixtureEvent;
    try {
      event = JSON.parse(line) as FixtureEvent;
    } catch {
      event = { type: "text", text: line };
    }
    events.push(event);
    for (const waiter of [...waiters]) {
      if (waiter.predicate(event)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(event);
      }
    }
  });
  const exited = handle.exited.then(() => undefined);
  return {
    child,
    events,
    exited,
    waitFor(predicate, ms = 20_000) {
      const found = events.find(predicate);
      if (found !== undefined) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`fixture ${name}: no matching event within ${ms} ms`)), ms);
        waiters.push({
          predicate,
          resolve: (event) => {
            clearTimeout(timer);
            resolve(event);
          },
        });
        void exited.then(() => {
          clearTimeout(timer);
          reject(new Error(`fixture ${name} exited (${child.exitCode ?? child.signalCode}) before the event came`));
        });
      });
    },
  };
}

/** Starts the server fixture and waits until it listens. */
export async function startServer(config: ServerConfig = {}): Promise<ServerFixture> {
  const fixture = runFixture("server.mjs", [JSON.stringify(config)]);
  const ready = await fixture.waitFor((event) => event.type === "ready");
  return Object.assign(fixture, { endpoint: ready.endpoint as string });
}

/** Kills a fixture with `signal` and waits for its exit. */
export async function kill(fixture: Fixture, signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
  fixture.child.kill(signal);
  await fixture.exited;
}

/** A loopback TCP endpoint nobody listens on (the port was free a moment ago). */
export { freeEndpoint } from "@zrpc/test-support";

/** Polls `predicate` every few ms until it holds (rejects after `ms`). */
export async function until(predicate: () => boolean, ms = 20_000, what = "condition"): Promise<void> {
  const started = Date.now();
  while (!predicate()) {
    if (Date.now() - started > ms) throw new Error(`${what} not reached within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/**
 * Starts measuring how late this process's event loop runs; `stop()` returns the worst delay in
 * ms. A timer due at T fires at T plus that delay, so a bound on when a heartbeat timer of this
 * process fires (a LostRemote judged here) allows it: on a quiet machine it is a few ms, on a
 * loaded one hundreds.
 */
export function loopLag(): { stop(): number } {
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  return {
    stop(): number {
      histogram.disable();
      return histogram.max / 1e6;
    },
  };
}

/** Mebibytes, one decimal. */
export function mib(bytes: number): string {
  return (bytes / 2 ** 20).toFixed(1);
}

/** Prints one figure line for the CI log, prefixed so it is easy to grep. */
export function report(line: string): void {
  process.stdout.write(`[faults] ${line}\n`);
}

/** Percentile `p` (0..100) of `values` (sorted copy; nearest rank). */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
