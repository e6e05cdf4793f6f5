// Real processes for the fault-injection tests: a zrpc server fixture in a child process, talked to
// over loopback, and small measuring helpers. Every figure a test measures is printed, so a CI log
// can be quoted.
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { createServer as createNetServer } from "node:net";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
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

const alive = new Set<ChildProcess>();
afterEach(async () => {
  const children = [...alive];
  alive.clear();
  await Promise.all(
    children.map(async (child) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGCONT");
      child.kill("SIGKILL");
      await exited;
    }),
  );
});

/** Runs `fixtures/<name>` with node, collecting its JSON lines. Killed after the test. */
export function runFixture(name: string, args: readonly string[] = [], nodeArgs: readonly string[] = []): Fixture {
  const script = fileURLToPath(new URL(`fixtures/${name}`, import.meta.url));
  const child = spawn(process.execPath, [...nodeArgs, script, ...args], {
    cwd: fileURLToPath(new URL("..", import.meta.url)),
    stdio: ["ignore", "pipe", "inherit"],
  });
  alive.add(child);
  const events: FixtureEvent[] = [];
  const waiters: { predicate: (event: FixtureEvent) => boolean; resolve: (event: FixtureEvent) => void }[] = [];
  createInterface({ input: child.stdout }).on("line", (line) => {
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
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
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
  alive.delete(fixture.child);
}

/** A loopback TCP endpoint nobody listens on (the port was free a moment ago). */
export async function freeEndpoint(): Promise<string> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no port");
  return `tcp://127.0.0.1:${address.port}`;
}

/** Polls `predicate` every few ms until it holds (rejects after `ms`). */
export async function until(predicate: () => boolean, ms = 20_000, what = "condition"): Promise<void> {
  const started = Date.now();
  while (!predicate()) {
    if (Date.now() - started > ms) throw new Error(`${what} not reached within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
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
