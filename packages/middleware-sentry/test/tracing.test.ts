// Tracing across a real socket: the application initialises @sentry/node itself (with
// tracesSampleRate), the middlewares use that global SDK; client and server spans must form one
// trace, propagated in the zerorpc header's extra keys.
import * as Sentry from "@sentry/node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RemoteError } from "@zrpc/client";
import { createRegistry, raise } from "@zrpc/server";
import { sentryClientMiddleware, sentryServerMiddleware } from "../src/index.js";
import { Observer, Resources, deferred } from "./helpers.js";
import { SentryReceiver } from "./sentry-receiver.js";
import type { ReceivedSpan } from "./sentry-receiver.js";

const flush = (timeoutMs: number): PromiseLike<boolean> => Sentry.flush(timeoutMs);
let receiver: SentryReceiver;
const resources = new Resources();
const observer = new Observer();
let endpoint: string;
const streamGate = deferred();
let gateOpenedAt = 0;

beforeAll(async () => {
  receiver = await SentryReceiver.start();
  // What an application's instrument.mjs does; the middlewares get no DSN. The Http integration
  // is left out only because the receiver runs in this process: it would trace the SDK's own
  // envelope POSTs arriving there, and each such transaction would be sent there again.
  Sentry.init({
    dsn: receiver.dsn,
    tracesSampleRate: 1,
    integrations: (defaults) => defaults.filter((integration) => integration.name !== "Http"),
  });

  const methods = createRegistry();
  methods.register(function add(a: number, b: number) {
    return a + b;
  });
  methods.register(async function* count(n: number) {
    yield 0;
    // The test opens the gate after the first item arrived: the span must still be open then.
    await streamGate.promise;
    for (let i = 1; i < n; i++) yield i;
  });
  methods.register(function fail(message: string) {
    raise("ValueError", message);
  });
  methods.register(function missing(id: string) {
    raise("KeyError", id);
  });
  endpoint = await resources.server(methods, {
    name: "calc",
    middleware: [sentryServerMiddleware({ expected: ["KeyError"] }), observer],
  });
});

afterAll(async () => {
  await resources.closeAll();
  await Sentry.close(2000);
  await receiver.close();
  expect(receiver.failures).toEqual([]);
});

const byOp =
  (op: string, name: string) =>
  (span: ReceivedSpan): boolean =>
    span.op === op && span.name === name;

describe("tracing with sentryClientMiddleware and sentryServerMiddleware", () => {
  it("links the client span and the server span in one trace across the socket", async () => {
    const client = await resources.client(endpoint, [sentryClientMiddleware()]);
    await expect(client.call("add", [2, 3])).resolves.toBe(5);

    const clientSpan = await receiver.waitForSpan("the rpc.client span", byOp("rpc.client", "add"), flush);
    const serverSpan = await receiver.waitForSpan("the rpc.server span", byOp("rpc.server", "add"), flush);
    expect(serverSpan.trace_id).toBe(clientSpan.trace_id);
    expect(serverSpan.parent_span_id).toBe(clientSpan.span_id);
    expect(clientSpan.status).toBe("ok");
    expect(serverSpan.status).toBe("ok");
    expect(clientSpan.data).toMatchObject({ "rpc.system": "zerorpc", "rpc.method": "add", "sentry.origin": "auto.rpc.zrpc" });
    expect(serverSpan.data).toMatchObject({ "rpc.system": "zerorpc", "rpc.method": "add", "rpc.service": "calc", "zerorpc.outcome": "ok" });
    // The server span lies within the client span.
    expect(serverSpan.start_timestamp).toBeGreaterThanOrEqual(clientSpan.start_timestamp);
    expect(serverSpan.timestamp).toBeLessThanOrEqual(clientSpan.timestamp);

    // On the wire: two extra str header keys, as a zerorpc-python peer would carry task context.
    const header = observer.headers.at(-1)!;
    expect(header["sentry-trace"]).toBe(`${clientSpan.trace_id}-${clientSpan.span_id}-1`);
    expect(header.baggage).toEqual(expect.stringContaining(`sentry-trace_id=${clientSpan.trace_id}`));
  });

  it("keeps the server span open for the whole stream", async () => {
    const client = await resources.client(endpoint, [sentryClientMiddleware()]);
    const items: number[] = [];
    for await (const item of client.stream<number>("count", [3])) {
      items.push(item);
      if (items.length === 1) {
        // Sentry (through OpenTelemetry) stamps spans with timeOrigin + performance.now(), with
        // sub-millisecond digits; Date.now() is another, coarser clock and can read earlier.
        gateOpenedAt = (performance.timeOrigin + performance.now()) / 1000;
        streamGate.resolve();
      }
    }
    expect(items).toEqual([0, 1, 2]);

    const serverSpan = await receiver.waitForSpan("the stream's server span", byOp("rpc.server", "count"), flush);
    const clientSpan = await receiver.waitForSpan("the stream's client span", byOp("rpc.client", "count"), flush);
    expect(serverSpan.trace_id).toBe(clientSpan.trace_id);
    expect(serverSpan.status).toBe("ok");
    expect(serverSpan.data).toMatchObject({ "zerorpc.outcome": "stream-done", "zerorpc.stream.items": 3 });
    expect(serverSpan.start_timestamp).toBeLessThanOrEqual(gateOpenedAt);
    expect(serverSpan.timestamp).toBeGreaterThanOrEqual(gateOpenedAt);
    expect(clientSpan.timestamp).toBeGreaterThanOrEqual(gateOpenedAt);
  });

  it("records a remote error as the client span's status and links the server's event to the trace", async () => {
    const client = await resources.client(endpoint, [sentryClientMiddleware()]);
    await expect(client.call("fail", ["bad tracing input"])).rejects.toBeInstanceOf(RemoteError);

    const clientSpan = await receiver.waitForSpan("the failed call's client span", byOp("rpc.client", "fail"), flush);
    const serverSpan = await receiver.waitForSpan("the failed call's server span", byOp("rpc.server", "fail"), flush);
    expect(clientSpan.status).toBe("internal_error");
    expect(clientSpan.data["error.type"]).toBe("ValueError");
    expect(serverSpan.status).toBe("internal_error");

    const event = await receiver.waitForEvent("the fail event", (e) => e.exception?.values?.[0]?.value === "bad tracing input", flush);
    expect(event.contexts.trace.trace_id).toBe(clientSpan.trace_id);
    expect(event.contexts.trace.span_id).toBe(serverSpan.span_id);

    // The client left a breadcrumb for the failed call on the caller's scope.
    const crumbs = Sentry.getIsolationScope().getScopeData().breadcrumbs;
    expect(crumbs).toContainEqual(expect.objectContaining({ category: "zerorpc.client", message: "fail: ValueError", level: "warning" }));
  });

  it("leaves the server span status unset for an expected error, and reports no event", async () => {
    const client = await resources.client(endpoint, [sentryClientMiddleware()]);
    await expect(client.call("missing", ["ticket-42"])).rejects.toBeInstanceOf(RemoteError);
    const serverSpan = await receiver.waitForSpan("the expected error's server span", byOp("rpc.server", "missing"), flush);
    expect(serverSpan.data).toMatchObject({ "error.type": "KeyError", "zerorpc.expected_error": true });
    expect(serverSpan.status).toBe("ok");
    await Sentry.flush(2000);
    expect(receiver.events().filter((e) => e.exception?.values?.[0]?.value === "ticket-42")).toEqual([]);
  });

  it("starts a new trace per call when the request carries none (a Python client, or no client middleware)", async () => {
    const client = await resources.client(endpoint);
    await client.call("add", [1, 1]);
    await client.call("add", [2, 2]);
    expect(observer.headers.at(-1)).not.toHaveProperty("sentry-trace");
    const roots = (): ReceivedSpan[] => receiver.spans().filter((span) => byOp("rpc.server", "add")(span) && span.parent_span_id === undefined);
    await receiver.waitFor("two parentless add server spans", () => roots().length >= 2, { flush });
    expect(new Set(roots().map((span) => span.trace_id)).size).toBe(2);
  });

  it("sends no trace headers with tracing: false", async () => {
    const client = await resources.client(endpoint, [sentryClientMiddleware({ tracing: false })]);
    const started = observer.started("add");
    await client.call("add", [20, 22]);
    expect((await started).header).not.toHaveProperty("sentry-trace");
    expect((await started).header).not.toHaveProperty("baggage");
  });
});
