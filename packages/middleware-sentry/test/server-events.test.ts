// The server middleware with the real @sentry/node, initialised by the middleware from a DSN that
// points at a loopback receiver, and real zrpc servers and clients over ZeroMQ.
import * as Sentry from "@sentry/node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CanceledError, RemoteError } from "@zrpc/client";
import { createRegistry, raise } from "@zrpc/server";
import type { CallContext } from "@zrpc/server";
import { sentryServerMiddleware } from "../src/index.js";
import { Observer, Resources, deferred } from "./helpers.js";
import { SentryReceiver } from "./sentry-receiver.js";

const flush = (timeoutMs: number): PromiseLike<boolean> => Sentry.flush(timeoutMs);
let receiver: SentryReceiver;
const resources = new Resources();

beforeAll(async () => {
  receiver = await SentryReceiver.start();
});

afterAll(async () => {
  await resources.closeAll();
  await Sentry.close(2000);
  await receiver.close();
  expect(receiver.failures).toEqual([]);
});

/** An error raised by handler code, not a business error. */
class DatabaseDown extends Error {
  override name = "DatabaseDown";
}

/** A business error class the service declares as expected. */
class NotFound extends Error {
  override name = "NotFound";
}

describe("sentryServerMiddleware({ dsn })", () => {
  it("initialises the SDK from the DSN (once for the same DSN, and refuses another one)", () => {
    expect(Sentry.getClient()).toBeUndefined();
    sentryServerMiddleware({ dsn: receiver.dsn, init: { environment: "test" } });
    expect(Sentry.getClient()?.getOptions().dsn).toBe(receiver.dsn);
    const client = Sentry.getClient();
    sentryServerMiddleware({ dsn: receiver.dsn });
    expect(Sentry.getClient()).toBe(client);
    expect(() => sentryServerMiddleware({ dsn: "http://other@127.0.0.1:1/7" })).toThrow(/another DSN/);
  });

  it("reports a handler's exception with rpc tags, the hex peer and a scrubbed, size-capped context", async () => {
    const methods = createRegistry();
    methods.register(function store(user: string, password: string, blob: string, rows: string[]) {
      void user;
      void password;
      void blob;
      void rows;
      raise("ValueError", "quota exceeded for store");
    });
    const sentry = sentryServerMiddleware({
      dsn: receiver.dsn,
      args: { maxBytes: 1024 },
      scrub: (args, call) => (call.method === "store" ? args.map((arg, index) => (index === 1 ? "[Filtered]" : arg)) : args),
    });
    const endpoint = await resources.server(methods, { name: "vault", middleware: [sentry] });
    const client = await resources.client(endpoint);

    const password = "hunter2-very-secret";
    const blob = "x".repeat(100_000);
    const rows = Array.from({ length: 20 }, (_, i) => `${i}`.padEnd(100, "r"));
    const error = await client.call("store", ["ada", password, blob, rows]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RemoteError);

    const event = await receiver.waitForEvent("the store event", (e) => e.exception?.values?.[0]?.value === "quota exceeded for store", flush);
    expect(event.exception.values[0].type).toBe("ValueError");
    expect(event.exception.values[0].mechanism).toMatchObject({ type: "auto.rpc.zrpc.server", handled: false });
    expect(event.level).toBe("error");
    expect(event.transaction).toBe("store");
    expect(event.tags).toMatchObject({ "rpc.system": "zerorpc", "rpc.method": "store", "rpc.service": "vault", "zerorpc.outcome": "error" });
    // A ROUTER's routing id for a peer without one set: 5 bytes, the first one 0.
    expect(event.tags["net.peer"]).toMatch(/^00[0-9a-f]{8}$/);

    const context = event.contexts.zerorpc;
    expect(context).toMatchObject({ method: "store", service: "vault", peer: event.tags["net.peer"], protocol_version: 3, args_count: 4 });
    // zerorpc ids are 32 hex digits as bin: shown as that text.
    expect(context.message_id).toMatch(/^[0-9a-f]{32}$/);
    expect(context.args[0]).toBe("ada");
    expect(context.args[1]).toBe("[Filtered]");
    expect(context.args[2]).toBe(`${"x".repeat(200)}...[+99800 chars]`);
    // The rows do not fit in the 1024-byte budget after the blob: type and size only.
    expect(context.args[3]).toBe("<array 20 items>");
    expect(context.args_truncated).toBe(true);
    expect(Buffer.byteLength(JSON.stringify(context.args))).toBeLessThanOrEqual(1024);
    expect(JSON.stringify(event)).not.toContain(password);
  });

  it("fails closed when the scrub hook throws, and sends no arguments with captureArgs: false", async () => {
    const methods = createRegistry();
    methods.register(function login(user: string, password: string) {
      throw new Error(`login failed for ${user.length}-char user (${password.length})`);
    });
    const broken = await resources.server(methods, {
      name: "broken-scrub",
      middleware: [
        sentryServerMiddleware({
          scrub: () => {
            throw new Error("scrubber bug");
          },
        }),
      ],
    });
    const silent = await resources.server(methods, { name: "no-args", middleware: [sentryServerMiddleware({ captureArgs: false })] });
    await expect((await resources.client(broken)).call("login", ["ada", "pw-one"])).rejects.toBeInstanceOf(RemoteError);
    await expect((await resources.client(silent)).call("login", ["bob", "pw-two!"])).rejects.toBeInstanceOf(RemoteError);

    const brokenEvent = await receiver.waitForEvent("the broken-scrub event", (e) => e.tags?.["rpc.service"] === "broken-scrub", flush);
    expect(brokenEvent.contexts.zerorpc.args).toBe("[scrub failed]");
    expect(JSON.stringify(brokenEvent)).not.toContain("pw-one");
    const silentEvent = await receiver.waitForEvent("the no-args event", (e) => e.tags?.["rpc.service"] === "no-args", flush);
    expect(silentEvent.contexts.zerorpc).not.toHaveProperty("args");
    expect(silentEvent.contexts.zerorpc).toMatchObject({ method: "login", service: "no-args" });
    expect(JSON.stringify(silentEvent)).not.toContain("pw-two!");
  });

  it("delivers what was reported when closed (what `zrpc run` calls after the server stopped)", async () => {
    const methods = createRegistry();
    methods.register(function shutdownCrash() {
      throw new Error("crash right before shutdown");
    });
    const observer = new Observer();
    const sentry = sentryServerMiddleware();
    const endpoint = await resources.server(methods, { name: "closing", middleware: [sentry, observer] });
    await expect((await resources.client(endpoint)).call("shutdownCrash")).rejects.toBeInstanceOf(RemoteError);
    await observer.ended("shutdownCrash");
    await sentry.close();
    expect(receiver.events().map((e) => e.exception?.values?.[0]?.value as unknown)).toContain("crash right before shutdown");
  });

  it("reports a call of an unknown method (NameError), and skips zerorpc's built-in methods", async () => {
    const methods = createRegistry();
    methods.register(function known() {
      return 1;
    });
    const endpoint = await resources.server(methods, { name: "lookup", middleware: [sentryServerMiddleware()] });
    const client = await resources.client(endpoint);
    await expect(client.call("_zerorpc_help", ["nope"])).rejects.toBeInstanceOf(RemoteError);
    await expect(client.call("nope_method")).rejects.toBeInstanceOf(RemoteError);
    const event = await receiver.waitForEvent("the NameError", (e) => e.tags?.["rpc.service"] === "lookup", flush);
    expect(event.exception.values[0]).toMatchObject({ type: "NameError", value: "nope_method" });
    await Sentry.flush(2000);
    expect(receiver.events().filter((e) => e.tags?.["rpc.method"] === "_zerorpc_help")).toEqual([]);
  });

  it("does not report expected errors (predicate, class and name lists) but reports an unexpected one", async () => {
    const methods = createRegistry();
    methods.register(function lookup(kind: string) {
      if (kind === "class") throw new NotFound("no such ticket (class)");
      if (kind === "name") raise("ValueError", "bad ticket id (name)");
      if (kind === "predicate") throw Object.assign(new Error("rate limited (predicate)"), { status: 429 });
      throw new DatabaseDown("database down (unexpected)");
    });
    const observer = new Observer();
    const sentry = sentryServerMiddleware({
      expected: [NotFound, "ValueError"],
      isExpected: (error) => (error as { status?: number }).status === 429,
    });
    const endpoint = await resources.server(methods, { name: "tickets", middleware: [sentry, observer] });
    const client = await resources.client(endpoint);

    for (const kind of ["class", "name", "predicate"]) {
      const ended = observer.ended("lookup", "error");
      await expect(client.call("lookup", [kind])).rejects.toBeInstanceOf(RemoteError);
      // The observer's onEnd runs after Sentry's: the decision for this call has been taken.
      await ended;
      observer.outcomes.length = 0;
    }
    await expect(client.call("lookup", ["unexpected"])).rejects.toBeInstanceOf(RemoteError);
    const event = await receiver.waitForEvent("the unexpected error", (e) => e.exception?.values?.[0]?.value === "database down (unexpected)", flush);
    expect(event.exception.values[0].type).toBe("DatabaseDown");
    expect(event.tags["rpc.service"]).toBe("tickets");

    await Sentry.flush(2000);
    const values = receiver.events().map((e) => e.exception?.values?.[0]?.value as unknown);
    expect(values).not.toContain("no such ticket (class)");
    expect(values).not.toContain("bad ticket id (name)");
    expect(values).not.toContain("rate limited (predicate)");
  });

  it("turns a lost client into a breadcrumb seen on a later event, and into an event with reportLostRemote", async () => {
    const methods = createRegistry();
    methods.register(function wait(this: CallContext) {
      // Runs until the call is abandoned: the signal aborts with LostRemote.
      return new Promise((_, reject) => this.signal.addEventListener("abort", () => reject(this.signal.reason as Error)));
    });
    methods.register(function crash(label: string) {
      throw new Error(`crash after ${label}`);
    });

    // Default: a breadcrumb.
    const quietObserver = new Observer();
    const quiet = await resources.server(methods, { name: "quiet", middleware: [sentryServerMiddleware(), quietObserver] });
    const quietClient = await resources.client(quiet);
    await abandon(quietClient, quietObserver);
    await expect(quietClient.call("crash", ["lost"])).rejects.toBeInstanceOf(RemoteError);
    const later = await receiver.waitForEvent("the later event", (e) => e.exception?.values?.[0]?.value === "crash after lost", flush);
    const crumb = (later.breadcrumbs as { category?: string; message?: string; level?: string; data?: Record<string, unknown> }[]).find(
      (b) => b.category === "zerorpc.server" && b.message === "wait: lost-remote",
    );
    expect(crumb).toBeDefined();
    expect(crumb!.level).toBe("warning");
    expect(crumb!.data).toMatchObject({ "rpc.method": "wait", "rpc.service": "quiet" });
    expect(receiver.events().filter((e) => e.tags?.["rpc.service"] === "quiet" && e.tags?.["zerorpc.outcome"] === "lost-remote")).toEqual([]);

    // Configured: an event.
    const loudObserver = new Observer();
    const loud = await resources.server(methods, {
      name: "loud",
      middleware: [sentryServerMiddleware({ reportLostRemote: true }), loudObserver],
    });
    const loudClient = await resources.client(loud);
    await abandon(loudClient, loudObserver);
    const event = await receiver.waitForEvent(
      "the lost-remote event",
      (e) => e.tags?.["rpc.service"] === "loud" && e.tags?.["zerorpc.outcome"] === "lost-remote",
      flush,
    );
    expect(event.level).toBe("warning");
    expect(event.exception.values[0].type).toBe("LostRemote");
    expect(event.tags).toMatchObject({ "rpc.system": "zerorpc", "rpc.method": "wait" });
    expect(event.contexts.zerorpc).toMatchObject({ method: "wait", outcome: "lost-remote" });
  });

  it("keeps the tags of concurrent calls apart, including tags set by the handlers", async () => {
    const methods = createRegistry();
    const calls = 10;
    const allIn = deferred();
    let entered = 0;
    methods.register(async function tenantWork(tenant: string) {
      Sentry.setTag("tenant", tenant);
      if (++entered === calls) allIn.resolve();
      // Every call is in flight (and has set its tag) before any of them fails.
      await allIn.promise;
      throw new Error(`tenant work failed for ${tenant}`);
    });
    const endpoint = await resources.server(methods, { name: "tenants", middleware: [sentryServerMiddleware()] });
    const clients = [await resources.client(endpoint), await resources.client(endpoint)];

    const results = await Promise.allSettled(
      Array.from({ length: calls }, (_, i) => clients[i % 2]!.call("tenantWork", [`t${i}`])),
    );
    expect(results.every((result) => result.status === "rejected")).toBe(true);

    const events = await Promise.all(
      Array.from({ length: calls }, (_, i) =>
        receiver.waitForEvent(`tenant t${i}`, (e) => e.exception?.values?.[0]?.value === `tenant work failed for t${i}`, flush),
      ),
    );
    const peers = new Set<string>();
    events.forEach((event, i) => {
      expect(event.tags).toMatchObject({ tenant: `t${i}`, "rpc.method": "tenantWork", "rpc.service": "tenants" });
      expect(event.contexts.zerorpc.args).toEqual([`t${i}`]);
      peers.add(`${i % 2}:${event.tags["net.peer"]}`);
    });
    // Two clients, two routing ids, each event with its own caller's.
    expect(peers.size).toBe(2);
    expect(new Set([...peers].map((entry) => entry.split(":")[1])).size).toBe(2);
    // Nothing leaked into the scope the server runs in.
    expect(Sentry.getIsolationScope().getScopeData().tags).not.toHaveProperty("tenant");
    expect(Sentry.getIsolationScope().getScopeData().tags).not.toHaveProperty("rpc.method");
  });
});

/** Starts `wait`, cancels it on the client side, and waits for the server to declare it lost. */
async function abandon(client: Awaited<ReturnType<Resources["client"]>>, observer: Observer): Promise<void> {
  const started = observer.started("wait");
  const controller = new AbortController();
  const call = client.call("wait", [], { signal: controller.signal }).catch((e: unknown) => e);
  await started;
  controller.abort();
  expect(await call).toBeInstanceOf(CanceledError);
  await observer.ended("wait", "lost-remote");
}
