// Real zrpc servers and clients over ZeroMQ on 127.0.0.1 for the tests, and small sync helpers.
import { connect } from "@zrpc/client";
import type { Client, ClientMiddleware } from "@zrpc/client";
import { createServer } from "@zrpc/server";
import type { CallContext, CallOutcome, Registry, ServerMiddleware } from "@zrpc/server";
import { Resources as BaseResources } from "@zrpc/test-support";

/**
 * Heartbeat of the test servers and clients: a lost client is noticed after 2-3 intervals. Every
 * call of every test must also complete within 2 intervals, or a side declares the other lost:
 * at 100 ms, a call carrying 100 KB of arguments through the Sentry middleware ended in
 * LostRemote on a loaded machine (the suite beside `stress-ng --cpu 2` on 2 cores). A second
 * keeps that far away and costs the two lost-client scenarios 2-3 s each.
 */
export const HEARTBEAT_MS = 1_000;

/** A promise with its resolve function. */
export { deferred } from "@zrpc/test-support";
export type { Deferred } from "@zrpc/test-support";

/**
 * A middleware that records what the server saw, after the Sentry middleware (so by the time its
 * `onEnd` runs, Sentry's has run too): headers, and a waitable outcome per method.
 */
export class Observer implements ServerMiddleware {
  readonly name = "observer";
  readonly headers: Record<string, unknown>[] = [];
  readonly outcomes: { method: string; outcome: CallOutcome }[] = [];
  private waiters: { method: string; kind: string | undefined; resolve: (outcome: CallOutcome) => void }[] = [];
  private startWaiters: { method: string; resolve: (call: CallContext) => void }[] = [];

  beforeCall(call: CallContext): void {
    this.headers.push({ ...call.header });
    for (const waiter of this.startWaiters.filter((w) => w.method === call.method)) waiter.resolve(call);
    this.startWaiters = this.startWaiters.filter((w) => w.method !== call.method);
  }

  onEnd(call: CallContext, outcome: CallOutcome): void {
    this.outcomes.push({ method: call.method, outcome });
    const matched = this.waiters.filter((w) => w.method === call.method && (w.kind === undefined || w.kind === outcome.kind));
    this.waiters = this.waiters.filter((w) => !matched.includes(w));
    for (const waiter of matched) waiter.resolve(outcome);
  }

  /** Resolves when a call of `method` has started (its beforeCall ran). */
  started(method: string): Promise<CallContext> {
    return new Promise((resolve) => this.startWaiters.push({ method, resolve }));
  }

  /** Resolves with the next (or an already recorded) outcome of `method`, optionally of one kind. */
  ended(method: string, kind?: CallOutcome["kind"]): Promise<CallOutcome> {
    const seen = this.outcomes.find((entry) => entry.method === method && (kind === undefined || entry.outcome.kind === kind));
    if (seen !== undefined) return Promise.resolve(seen.outcome);
    return new Promise((resolve) => this.waiters.push({ method, kind, resolve }));
  }
}

/** Everything a test opened, closed in reverse order. */
export class Resources extends BaseResources {
  /** Serves `service` over ZeroMQ on 127.0.0.1 (random port); returns the endpoint. */
  async server(service: Registry | object, options: { name: string; middleware: readonly ServerMiddleware[] }): Promise<string> {
    const server = createServer(service, { ...options, heartbeatMs: HEARTBEAT_MS, logger: null });
    this.defer(() => server.close(0));
    const [endpoint] = await server.bind("tcp://127.0.0.1:*");
    return endpoint!;
  }

  /** A client connected to `endpoint`. */
  async client(endpoint: string, middleware: readonly ClientMiddleware[] = []): Promise<Client> {
    const client = await connect(endpoint, { heartbeatMs: HEARTBEAT_MS, middleware, timeoutMs: 10_000 });
    this.defer(() => client.close());
    return client;
  }
}
