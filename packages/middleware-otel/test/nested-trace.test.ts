// One trace across client -> server A -> a nested call from A's handler to server B, over real
// loopback sockets, with baggage carried along.
import { context, propagation, SpanKind, trace } from "@opentelemetry/api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Client } from "@zrpc/client";
import { createRegistry } from "@zrpc/server";
import { otelClientMiddleware, otelServerMiddleware } from "../src/index.js";
import { Observer, Resources, registerSdk } from "./helpers.js";
import type { Sdk } from "./helpers.js";

let sdk: Sdk;
const resources = new Resources();
const observerA = new Observer();
const observerB = new Observer();
let endpointA: string;

beforeAll(async () => {
  sdk = registerSdk();
  const b = createRegistry();
  b.register(function double(n: number) {
    return n * 2;
  });
  const endpointB = await resources.server(b, { name: "B", middleware: [otelServerMiddleware(), observerB] });
  let toB: Client | undefined;
  const a = createRegistry();
  a.register(async function quadruple(n: number) {
    toB ??= await resources.client(endpointB, [otelClientMiddleware({ endpoint: endpointB, service: "B" })]);
    const twice = await toB.call<number>("double", [n]);
    return await toB.call<number>("double", [twice]);
  });
  endpointA = await resources.server(a, { name: "A", middleware: [otelServerMiddleware(), observerA] });
});

afterAll(async () => {
  await resources.closeAll();
  await sdk.shutdown();
});

describe("nested calls", () => {
  it("client -> A -> B is one trace, each span the child of the one before", async () => {
    const client = await resources.client(endpointA, [otelClientMiddleware({ endpoint: endpointA, service: "A" })]);
    const tracer = trace.getTracer("test");
    const baggage = propagation.createBaggage({ tenant: { value: "acme" } });
    const result = await tracer.startActiveSpan("checkout", (root) =>
      context.with(propagation.setBaggage(context.active(), baggage), async () => {
        try {
          return await client.call("quadruple", [3]);
        } finally {
          root.end();
        }
      }),
    );
    expect(result).toBe(12);
    await observerA.ended("quadruple", "ok");
    const spans = sdk.spans();
    const root = spans.find((s) => s.name === "checkout")!;
    const clientA = spans.find((s) => s.kind === SpanKind.CLIENT && s.name === "A/quadruple")!;
    const serverA = spans.find((s) => s.kind === SpanKind.SERVER && s.name === "A/quadruple")!;
    const clientsB = spans.filter((s) => s.kind === SpanKind.CLIENT && s.name === "B/double");
    const serversB = spans.filter((s) => s.kind === SpanKind.SERVER && s.name === "B/double");
    expect(clientsB).toHaveLength(2);
    expect(serversB).toHaveLength(2);
    const traceId = root.spanContext().traceId;
    for (const span of [clientA, serverA, ...clientsB, ...serversB]) expect(span.spanContext().traceId).toBe(traceId);
    expect(clientA.parentSpanContext?.spanId).toBe(root.spanContext().spanId);
    expect(serverA.parentSpanContext?.spanId).toBe(clientA.spanContext().spanId);
    for (const clientB of clientsB) expect(clientB.parentSpanContext?.spanId).toBe(serverA.spanContext().spanId);
    const clientBIds = clientsB.map((s) => s.spanContext().spanId);
    for (const serverB of serversB) expect(clientBIds).toContain(serverB.parentSpanContext?.spanId);
    // the baggage set by the caller reached B through A
    expect(observerA.headers[0]?.baggage).toBe("tenant=acme");
    expect(observerB.headers.map((h) => h.baggage)).toEqual(["tenant=acme", "tenant=acme"]);
  });
});
