// Shared test fixtures: in-process zrpc servers that count what they serve, a manual clock for the
// pool's timers, an event recorder, and a child-process server that can be killed for real.
import { readdirSync } from "node:fs";
import type { ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { startNode } from "@zrpc/test-support";
import { createServer, getCallContext } from "@zrpc/server";
import type { Server, ServerMiddleware } from "@zrpc/server";
import type { Clock } from "@zrpc/client";
import type { PoolEvent } from "../src/index.js";

/** What an in-process test server saw. */
export interface ServerStats {
  /** Calls of `work` running right now, and the most at once. */
  active: number;
  maxActive: number;
  /** ROUTER peer keys (one per client connection) that sent a request. */
  peers: Set<string>;
  /** `_zerorpc_ping` requests received. */
  pings: number;
  /** Requests of any method. */
  calls: number;
  /** Answer `_zerorpc_ping` with an error (a failing health check). */
  failPing: boolean;
}

/** Release for the calls of `hold` waiting on a server. */
export interface Gate {
  open(): void;
}

/** The test service: every method says which server answered. */
export class TestService {
  readonly #id: string;
  readonly #stats: ServerStats;
  #gate: Promise<void> = new Promise(() => undefined);
  #openGate: () => void = () => undefined;
  held = 0;
  #onHold: (() => void) | undefined;

  constructor(id: string, stats: ServerStats) {
    this.#id = id;
    this.#stats = stats;
    this.resetGate();
  }

  whoami(): string {
    return this.#id;
  }
  add(a: number, b: number): number {
    return a + b;
  }
  /** Counts concurrency: how many calls run at once on this server, from how many connections. */
  async work(n: number): Promise<string> {
    const stats = this.#stats;
    stats.active += 1;
    stats.maxActive = Math.max(stats.maxActive, stats.active);
    await new Promise<void>((resolve) => setImmediate(resolve));
    stats.active -= 1;
    return `${this.#id}:${n}`;
  }
  /** Waits until the test opens the gate. */
  async hold(): Promise<string> {
    this.held += 1;
    this.#onHold?.();
    await this.#gate;
    return this.#id;
  }
  *range(n: number): Generator<number> {
    for (let i = 0; i < n; i++) yield i;
  }
  fail(message: string): never {
    throw Object.assign(new Error(message), { name: "ValueError" });
  }
  async sleep(ms: number): Promise<string> {
    await new Promise((resolve) => setTimeout(resolve, ms));
    return this.#id;
  }

  /** Resolves once `n` calls of `hold` are waiting. */
  async whenHeld(n: number): Promise<void> {
    while (this.held < n) await new Promise<void>((resolve) => (this.#onHold = resolve));
  }
  resetGate(): Gate {
    this.#gate = new Promise<void>((resolve) => (this.#openGate = resolve));
    this.held = 0;
    return { open: () => this.#openGate() };
  }
  open(): void {
    this.#openGate();
  }
}

/** An in-process zrpc server on 127.0.0.1 (or `bind`). */
export interface TestServer {
  readonly id: string;
  readonly endpoint: string;
  readonly stats: ServerStats;
  readonly service: TestService;
  readonly server: Server;
  close(): Promise<void>;
}

const toClose: { close(): Promise<unknown> }[] = [];

/** Closes what the test opened (pools first: they were registered last), newest first. */
export async function closeAll(): Promise<void> {
  for (const resource of toClose.splice(0).reverse()) await resource.close();
}

/** Registers a pool to close after the test, without grace (a manual clock would never end it). */
export function trackPool<T extends { close(graceMs?: number): Promise<unknown> }>(pool: T): T {
  toClose.push({ close: () => pool.close(0) });
  return pool;
}

/** Registers something to close after the test. */
export function track<T extends { close(): Promise<unknown> }>(resource: T): T {
  toClose.push(resource);
  return resource;
}

export async function startServer(id: string, options: { bind?: string; heartbeatMs?: number } = {}): Promise<TestServer> {
  const stats: ServerStats = { active: 0, maxActive: 0, peers: new Set(), pings: 0, calls: 0, failPing: false };
  const counting: ServerMiddleware = {
    name: "counting",
    beforeCall(call) {
      stats.calls += 1;
      stats.peers.add(call.peer.key);
      if (call.method === "_zerorpc_ping") {
        stats.pings += 1;
        if (stats.failPing) throw new Error("ping refused by the test");
      }
    },
  };
  const service = new TestService(id, stats);
  const server = createServer(service, { heartbeatMs: options.heartbeatMs ?? 1000, logger: null, middleware: [counting] });
  const [endpoint] = await server.bind(options.bind ?? "tcp://127.0.0.1:*");
  const testServer: TestServer = {
    id,
    endpoint: endpoint!,
    stats,
    service,
    server,
    close: async () => {
      service.open();
      await server.close(0);
    },
  };
  track(testServer);
  return testServer;
}

/** The peer key of the current call (for handlers that want it). */
export function currentPeer(): string | undefined {
  return getCallContext()?.peer.key;
}

/** Lets pending I/O callbacks and microtasks run (one macrotask turn). */
export function turn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * A clock for the pool's own timers that only moves when told to. The clients keep the real
 * clock, so calls, pings and heartbeats run in real time while idle, backoff and DNS timers are
 * stepped deterministically.
 */
export class ManualClock implements Clock {
  #now = 1_000_000;
  #nextId = 1;
  readonly #timers = new Map<number, { at: number; fn: () => void }>();

  now(): number {
    return this.#now;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.#nextId++;
    this.#timers.set(id, { at: this.#now + Math.max(0, ms), fn });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.#timers.delete(handle as number);
  }
  /** Timers scheduled and not fired, as delays from now (sorted). */
  get pending(): number[] {
    return [...this.#timers.values()].map((timer) => timer.at - this.#now).sort((a, b) => a - b);
  }
  /** Moves time forward by `ms`, firing due timers in order, letting the pool react after each. */
  async advance(ms: number): Promise<void> {
    const target = this.#now + ms;
    for (;;) {
      let dueId: number | undefined;
      let due: { at: number; fn: () => void } | undefined;
      for (const [id, timer] of this.#timers) {
        if (timer.at <= target && (due === undefined || timer.at < due.at)) {
          dueId = id;
          due = timer;
        }
      }
      if (due === undefined || dueId === undefined) break;
      this.#timers.delete(dueId);
      this.#now = due.at;
      due.fn();
      await turn();
    }
    this.#now = target;
    await turn();
  }
}

/** Records pool events and resolves waits on them (past events count). */
export class EventLog {
  readonly events: PoolEvent[] = [];
  readonly #waits = new Set<{ predicate: (event: PoolEvent) => boolean; resolve: (event: PoolEvent) => void }>();

  readonly onEvent = (event: PoolEvent): void => {
    this.events.push(event);
    for (const wait of [...this.#waits]) {
      if (wait.predicate(event)) {
        this.#waits.delete(wait);
        wait.resolve(event);
      }
    }
  };

  /** The first event (already seen, or future) matching `predicate`, after skipping `skip` matches. */
  waitFor(predicate: (event: PoolEvent) => boolean, skip = 0): Promise<PoolEvent> {
    const seen = this.events.filter(predicate);
    if (seen.length > skip) return Promise.resolve(seen[skip]!);
    let remaining = skip - seen.length;
    return new Promise((resolve) => {
      this.#waits.add({
        predicate: (event) => {
          if (!predicate(event)) return false;
          if (remaining > 0) {
            remaining -= 1;
            return false;
          }
          return true;
        },
        resolve,
      });
    });
  }

  of<TType extends PoolEvent["type"]>(type: TType): Extract<PoolEvent, { type: TType }>[] {
    return this.events.filter((event): event is Extract<PoolEvent, { type: TType }> => event.type === type);
  }
}

/** A zrpc server in a child process (test/fixtures/server.mjs), killable with SIGKILL. */
export interface ChildServer {
  readonly endpoint: string;
  readonly process: ChildProcess;
  kill(): Promise<void>;
  close(): Promise<void>;
}

const fixture = fileURLToPath(new URL("./fixtures/server.mjs", import.meta.url));

export async function startChildServer(id: string, endpoint = "tcp://127.0.0.1:*", heartbeatMs = 200): Promise<ChildServer> {
  const handle = startNode(fixture, [endpoint, id, String(heartbeatMs)], { stderr: "inherit" });
  const ready = await handle.waitForLine(/^READY (\S+)/);
  const kill = async (): Promise<void> => {
    await handle.stop({ signal: "SIGKILL" });
  };
  return track({ endpoint: ready[1]!, process: handle.child, kill, close: kill });
}

/** Open file descriptors of this process. */
export function openFds(): number {
  return readdirSync("/proc/self/fd").length;
}
