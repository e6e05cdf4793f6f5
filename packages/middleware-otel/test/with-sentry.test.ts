// @zrpc/middleware-sentry and this middleware installed together, in both orders, with
// @sentry/node initialised the usual way (it registers its own OpenTelemetry tracer provider,
// context manager and propagator, which this middleware then uses through the API): every trace
// header key is sent once, baggage members are not doubled, and both sides share one trace.
import { context, propagation, trace } from "@opentelemetry/api";
import * as Sentry from "@sentry/node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sentryClientMiddleware, sentryServerMiddleware } from "@zrpc/middleware-sentry";
import { createRegistry } from "@zrpc/server";
import { otelClientMiddleware, otelServerMiddleware } from "../src/index.js";
import { Observer, Resources } from "./helpers.js";

const resources = new Resources();
const observer = new Observer();
let endpoint: string;
const seenTraceIds: string[] = [];

beforeAll(async () => {
  Sentry.init({
    dsn: "http://publickey@127.0.0.1:9/1",
    tracesSampleRate: 1,
    // Nothing leaves the process: the test looks at headers and span contexts only.
    transport: () => ({ send: () => Promise.resolve({}), flush: () => Promise.resolve(true) }),
    integrations: (defaults) => defaults.filter((integration) => integration.name !== "Http"),
  });
  const methods = createRegistry();
  methods.register(function traced() {
    seenTraceIds.push(trace.getActiveSpan()?.spanContext().traceId ?? "none");
    return "ok";
  });
  endpoint = await resources.server(methods, {
    name: "calc",
    middleware: [sentryServerMiddleware(), otelServerMiddleware(), observer],
  });
});

afterAll(async () => {
  await resources.closeAll();
  await Sentry.close(2000);
});

/** The keys of a W3C baggage list, in order. */
function baggageKeys(value: unknown): string[] {
  return String(value)
    .split(",")
    .map((member) => member.split("=", 1)[0]!.trim());
}

describe.each([
  ["sentry first", () => [sentryClientMiddleware(), otelClientMiddleware()]],
  ["otel first", () => [otelClientMiddleware(), sentryClientMiddleware()]],
])("with @zrpc/middleware-sentry (%s)", (_, middleware) => {
  it("sends each trace key once, merges baggage, and continues one trace", async () => {
    const client = await resources.client(endpoint, middleware());
    const before = observer.headers.length;
    const baggage = propagation.createBaggage({ tenant: { value: "acme" } });
    const rootTraceId = await Sentry.startSpan({ name: "checkout" }, (root) =>
      context.with(propagation.setBaggage(context.active(), baggage), async () => {
        await client.call("traced");
        return root.spanContext().traceId;
      }),
    );
    const header = observer.headers[before]!;
    const extra = Object.keys(header).filter((key) => key !== "message_id" && key !== "v");
    expect(extra).toContain("sentry-trace");
    expect(extra).toContain("baggage");
    expect(new Set(extra).size).toBe(extra.length);
    expect(String(header["sentry-trace"]).split("-")[0]).toBe(rootTraceId);
    // Sentry's propagator (registered by Sentry.init) writes no traceparent unless asked to
    if (typeof header.traceparent === "string") expect(header.traceparent.split("-")[1]).toBe(rootTraceId);
    const keys = baggageKeys(header.baggage);
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys).toContain("tenant");
    expect(keys).toContain("sentry-trace_id");
    // the server's spans (both middlewares') continue the caller's trace
    expect(seenTraceIds.at(-1)).toBe(rootTraceId);
  });
});
