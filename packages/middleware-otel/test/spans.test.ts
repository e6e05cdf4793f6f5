// Server and client spans and metrics with the real SDK over real loopback sockets: OK, ERR,
// stream, unknown method, lost client, timeout and cancel.
import { SpanKind, SpanStatusCode } from "@opentelemetry/api";
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CanceledError, LostRemote, RemoteError, TimeoutExpired } from "@zrpc/client";
import { createRegistry, createServer, raise } from "@zrpc/server";
import type { CallContext } from "@zrpc/server";
import { DURATION_BUCKETS_SECONDS, otelClientMiddleware, otelServerMiddleware } from "../src/index.js";
import { HEARTBEAT_MS, Observer, Resources, histogramPoints, registerSdk } from "./helpers.js";
import type { Sdk } from "./helpers.js";

let sdk: Sdk;
const resources = new Resources();
const observer = new Observer();
let endpoint: string;
let port: number;

function waitForAbort(this: CallContext): Promise<never> {
  return new Promise((_, reject) => this.signal.addEventListener("abort", () => reject(this.signal.reason as Error)));
}

beforeAll(async () => {
  sdk = registerSdk();
  const methods = createRegistry();
  methods.register(function add(a: number, b: number) {
    return a + b;
  });
  methods.register(function* count(n: number) {
    for (let i = 0; i < n; i++) yield i;
  });
  methods.register(function fail(message: string) {
    raise("ValueError", message);
  });
  methods.register(function wait(this: CallContext) {
    return waitForAbort.call(this);
  });
  endpoint = await resources.server(methods, { name: "calc", middleware: [otelServerMiddleware({ endpoint: "tcp://127.0.0.1:4242" }), observer] });
  port = Number(/:(\d+)$/.exec(endpoint)![1]);
});

afterAll(async () => {
  await resources.closeAll();
  await sdk.shutdown();
});

function serverSpan(name: string, outcome?: string): ReadableSpan {
  const span = sdk.spans().find((s) => s.kind === SpanKind.SERVER && s.name === name && (outcome === undefined || s.attributes["zerorpc.outcome"] === outcome));
  if (span === undefined) throw new Error(`no server span ${name} ${outcome ?? ""}: ${sdk.spans().map((s) => s.name).join(", ")}`);
  return span;
}

function clientSpans(name: string): ReadableSpan[] {
  return sdk.spans().filter((s) => s.kind === SpanKind.CLIENT && s.name === name);
}

describe("spans", () => {
  it("OK: a CLIENT span and a SERVER span in one trace, with the RPC attributes", async () => {
    const client = await resources.client(endpoint, [otelClientMiddleware({ endpoint, service: "calc" })]);
    await expect(client.call("add", [1, 2])).resolves.toBe(3);
    await observer.ended("add", "ok");
    const server = serverSpan("calc/add");
    const [call] = clientSpans("calc/add");
    expect(call).toBeDefined();
    expect(call!.attributes).toEqual({
      "rpc.system.name": "zerorpc",
      "rpc.method": "calc/add",
      "server.address": "127.0.0.1",
      "server.port": port,
      "network.transport": "tcp",
    });
    expect(call!.status.code).toBe(SpanStatusCode.UNSET);
    expect(server.attributes).toEqual({
      "rpc.system.name": "zerorpc",
      "rpc.method": "calc/add",
      "server.address": "127.0.0.1",
      "server.port": 4242,
      "network.transport": "tcp",
      "zerorpc.outcome": "ok",
    });
    expect(server.status.code).toBe(SpanStatusCode.UNSET);
    // the server continued the client's trace: same trace, parent = the client span
    expect(server.spanContext().traceId).toBe(call!.spanContext().traceId);
    expect(server.parentSpanContext?.spanId).toBe(call!.spanContext().spanId);
    // the context travelled as W3C header keys
    const header = observer.headers.find((h) => typeof h.traceparent === "string");
    expect(header?.traceparent).toMatch(new RegExp(`^00-${call!.spanContext().traceId}-${call!.spanContext().spanId}-01$`));
  });

  it("ERR: error.type is the remote exception name, status ERROR on both sides", async () => {
    const client = await resources.client(endpoint, [otelClientMiddleware({ service: "calc" })]);
    const failure = await client.call("fail", ["bad input"]).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(RemoteError);
    await observer.ended("fail", "error");
    const server = serverSpan("calc/fail");
    expect(server.attributes).toMatchObject({ "error.type": "ValueError", "zerorpc.outcome": "error" });
    expect(server.status.code).toBe(SpanStatusCode.ERROR);
    expect(server.events.map((e) => e.name)).toContain("exception");
    const [call] = clientSpans("calc/fail");
    expect(call!.attributes["error.type"]).toBe("ValueError");
    expect(call!.status).toMatchObject({ code: SpanStatusCode.ERROR });
  });

  it("stream: the number of items as a span attribute on both sides", async () => {
    const client = await resources.client(endpoint, [otelClientMiddleware()]);
    await expect(client.call("count", [5])).resolves.toEqual([0, 1, 2, 3, 4]);
    await observer.ended("count", "stream-done");
    expect(serverSpan("calc/count").attributes).toMatchObject({ "zerorpc.stream.items": 5, "zerorpc.outcome": "stream-done" });
    // without `service`, the client names the call by its method alone
    const [call] = clientSpans("count");
    expect(call!.attributes).toMatchObject({ "rpc.method": "count", "zerorpc.stream.items": 5 });
    expect(call!.status.code).toBe(SpanStatusCode.UNSET);
  });

  it("an unknown method is rpc.method _OTHER with rpc.method_original, span named zerorpc", async () => {
    const client = await resources.client(endpoint);
    await expect(client.call("nope")).rejects.toBeInstanceOf(RemoteError);
    await observer.ended("nope", "error");
    const span = sdk.spans().find((s) => s.kind === SpanKind.SERVER && s.attributes["rpc.method_original"] === "nope");
    expect(span?.name).toBe("zerorpc");
    expect(span?.attributes).toMatchObject({ "rpc.method": "_OTHER", "error.type": "NameError" });
    // no incoming trace context: the server span is a root
    expect(span?.parentSpanContext).toBeUndefined();
  });

  it("cancel: CanceledError on the client, canceled (CallCanceled) on the server", async () => {
    const client = await resources.client(endpoint, [otelClientMiddleware({ service: "calc" })], { extensions: true });
    // A first answered call tells the client this server takes `_zrpc_cancel`.
    await client.call("add", [0, 0]);
    const started = observer.started("wait");
    const controller = new AbortController();
    const call = client.call("wait", [], { signal: controller.signal }).catch((e: unknown) => e);
    await started;
    controller.abort();
    expect(await call).toBeInstanceOf(CanceledError);
    await observer.ended("wait", "canceled");
    const server = serverSpan("calc/wait", "canceled");
    expect(server.attributes["error.type"]).toBe("CallCanceled");
    expect(server.status.code).toBe(SpanStatusCode.ERROR);
    const canceled = clientSpans("calc/wait").find((s) => s.attributes["error.type"] === "CanceledError");
    expect(canceled?.status.code).toBe(SpanStatusCode.ERROR);
  });

  it("timeout: TimeoutExpired on the client, timed-out (DeadlineExceeded) on the server", async () => {
    const client = await resources.client(endpoint, [otelClientMiddleware({ service: "calc" })], { extensions: true });
    // A first answered call tells the client this server takes `_zrpc_cancel`.
    await client.call("add", [0, 0]);
    // The handler waits for its signal: the call can only end by its deadline.
    const call = client.call("wait", [], { timeoutMs: 500 }).catch((e: unknown) => e);
    expect(await call).toBeInstanceOf(TimeoutExpired);
    await observer.ended("wait", "timed-out");
    const server = serverSpan("calc/wait", "timed-out");
    expect(server.attributes["error.type"]).toBe("DeadlineExceeded");
    expect(server.status.code).toBe(SpanStatusCode.ERROR);
    const timedOut = clientSpans("calc/wait").find((s) => s.attributes["error.type"] === "TimeoutExpired");
    expect(timedOut?.status.code).toBe(SpanStatusCode.ERROR);
  });

  it("lost client: lost-remote (LostRemote) on the server span", async () => {
    // Without the cancel extension the server learns of nothing but missing heartbeats.
    const client = await resources.client(endpoint, [], { extensions: false, heartbeatMs: HEARTBEAT_MS });
    const started = observer.started("wait");
    const controller = new AbortController();
    const call = client.call("wait", [], { signal: controller.signal }).catch((e: unknown) => e);
    await started;
    controller.abort();
    expect(await call).toBeInstanceOf(CanceledError);
    await observer.ended("wait", "lost-remote");
    const server = serverSpan("calc/wait", "lost-remote");
    expect(server.attributes["error.type"]).toBe("LostRemote");
    expect(server.status.code).toBe(SpanStatusCode.ERROR);
  });

  it("server closing: ShutdownError on the server span, LostRemote on the client span", async () => {
    const observer2 = new Observer();
    const methods = createRegistry();
    methods.register(function hang(this: CallContext) {
      return waitForAbort.call(this);
    });
    const server = createServer(methods, { name: "closing", heartbeatMs: HEARTBEAT_MS, logger: null, middleware: [otelServerMiddleware(), observer2] });
    const [closingEndpoint] = await server.bind("tcp://127.0.0.1:*");
    const client = await resources.client(closingEndpoint!, [otelClientMiddleware({ service: "closing" })]);
    const started = observer2.started("hang");
    const call = client.call("hang").catch((e: unknown) => e);
    await started;
    await server.close(0);
    expect(await call).toBeInstanceOf(LostRemote);
    await observer2.ended("hang", "shutdown");
    const serverSide = serverSpan("closing/hang", "shutdown");
    expect(serverSide.attributes["error.type"]).toBe("ShutdownError");
    expect(serverSide.status.code).toBe(SpanStatusCode.ERROR);
    const [clientSide] = clientSpans("closing/hang");
    expect(clientSide!.attributes["error.type"]).toBe("LostRemote");
    expect(clientSide!.status.code).toBe(SpanStatusCode.ERROR);
  });

  it("metrics: call duration histograms in seconds with the advised buckets, active calls back to 0", async () => {
    const metrics = await sdk.reader.metrics();
    const server = metrics.get("rpc.server.call.duration");
    expect(server?.descriptor).toMatchObject({ unit: "s" });
    const points = histogramPoints(server);
    expect(points[0]!.value.buckets.boundaries).toEqual(DURATION_BUCKETS_SECONDS);
    const add = points.find((p) => p.attributes["rpc.method"] === "calc/add");
    expect(add?.attributes).toEqual({
      "rpc.system.name": "zerorpc",
      "rpc.method": "calc/add",
      "server.address": "127.0.0.1",
      "server.port": 4242,
      "network.transport": "tcp",
    });
    expect(add!.value.count).toBe(3);
    expect(add!.value.sum).toBeLessThan(10);
    const errorTypes = points.map((p) => p.attributes["error.type"]).filter((t) => t !== undefined);
    expect(new Set(errorTypes)).toEqual(new Set(["ValueError", "NameError", "CallCanceled", "DeadlineExceeded", "LostRemote", "ShutdownError"]));

    const client = metrics.get("rpc.client.call.duration");
    expect(client?.descriptor).toMatchObject({ unit: "s" });
    const clientPoints = histogramPoints(client);
    expect(clientPoints.find((p) => p.attributes["rpc.method"] === "calc/add")?.attributes).toMatchObject({
      "rpc.system.name": "zerorpc",
      "server.port": port,
    });
    expect(new Set(clientPoints.map((p) => p.attributes["error.type"]).filter((t) => t !== undefined))).toEqual(
      new Set(["ValueError", "CanceledError", "TimeoutExpired", "LostRemote"]),
    );

    for (const name of ["zerorpc.server.active_calls", "zerorpc.client.active_calls"]) {
      const active = metrics.get(name);
      expect(active?.descriptor).toMatchObject({ unit: "{call}" });
      expect(active!.dataPoints.length).toBeGreaterThan(0);
      for (const point of active!.dataPoints) expect(point.value).toBe(0);
    }
  });
});
