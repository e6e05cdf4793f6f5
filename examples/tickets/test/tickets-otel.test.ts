// The tickets demo with OTEL_EXPORTER_OTLP_ENDPOINT set: `zrpc run` exports its spans and metrics
// over OTLP/HTTP to a loopback receiver started here. With http/json the requests are decoded and
// checked; with the default http/protobuf, that they arrive in that encoding.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect } from "@zrpc/client";
import type { tickets } from "../tickets/rpcs.js";
import { startTickets } from "./helpers.js";

interface OtlpAttribute {
  key: string;
  value: { stringValue?: string; intValue?: string | number; boolValue?: boolean };
}
interface OtlpSpan {
  name: string;
  kind: number;
  attributes?: OtlpAttribute[];
}
interface OtlpMetric {
  name: string;
  unit?: string;
}
interface Received {
  path: string;
  contentType: string | undefined;
  body: Buffer;
}

const received: Received[] = [];
const receiver = createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on("data", (chunk: Buffer) => chunks.push(chunk));
  request.on("end", () => {
    let body = Buffer.concat(chunks);
    if (request.headers["content-encoding"] === "gzip") body = gunzipSync(body);
    received.push({ path: request.url ?? "", contentType: request.headers["content-type"], body });
    // An empty ExportTrace/MetricsServiceResponse, in the request's encoding.
    const json = request.headers["content-type"]?.includes("json") === true;
    response.writeHead(200, { "content-type": json ? "application/json" : "application/x-protobuf" }).end(json ? "{}" : "");
  });
});
let endpoint: string;

beforeAll(async () => {
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  endpoint = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => receiver.close(() => resolve())));

/** Only the variables of this test: none inherited from the developer's shell. */
function otelEnv(protocol: string): Record<string, string | undefined> {
  return {
    DATABASE_URL: undefined,
    PGLITE_DATA_DIR: undefined,
    SENTRY_DSN: undefined,
    OTEL_SDK_DISABLED: undefined,
    OTEL_TRACES_EXPORTER: undefined,
    OTEL_METRICS_EXPORTER: undefined,
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: undefined,
    OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: undefined,
    OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: undefined,
    OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: undefined,
    OTEL_SEMCONV_STABILITY_OPT_IN: undefined,
    OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
    OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
    OTEL_SERVICE_NAME: "tickets-test",
  };
}

/** Runs the server, calls get_ticket and ticket_list, and stops it (which exports what is buffered). */
async function exercise(protocol: string): Promise<void> {
  const { server, endpoint: zrpcEndpoint } = await startTickets(otelEnv(protocol));
  await server.waitForLine(/^tickets: OpenTelemetry: traces to /, "stderr");
  const client = await connect<typeof tickets>(zrpcEndpoint, { heartbeatMs: 5_000, timeoutMs: 30_000 });
  try {
    await expect(client.call("get_ticket")).resolves.toMatchObject({ id: 1 });
    await expect(client.call("ticket_list", [2])).resolves.toHaveLength(2);
  } finally {
    await client.close();
  }
  // zrpc run closes the middleware on SIGTERM: the SDK's shutdown sends the spans and metrics
  // before the process exits.
  expect(await server.stop("SIGTERM")).toEqual({ code: 0, signal: null });
}

function attribute(span: OtlpSpan, key: string): unknown {
  const value = span.attributes?.find((entry) => entry.key === key)?.value;
  return value?.stringValue ?? value?.intValue ?? value?.boolValue;
}

describe("tickets with OTEL_EXPORTER_OTLP_ENDPOINT", () => {
  it("exports the get_ticket SERVER span and the RPC metrics as OTLP/HTTP JSON", async () => {
    received.length = 0;
    await exercise("http/json");
    const traces = received.filter((r) => r.path === "/v1/traces");
    expect(traces.length).toBeGreaterThan(0);
    const spans: OtlpSpan[] = traces.flatMap((r) => {
      const body = JSON.parse(r.body.toString("utf8")) as { resourceSpans: { scopeSpans: { spans: OtlpSpan[] }[] }[] };
      return body.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans));
    });
    const getTicket = spans.find((span) => span.name === "Tickets/get_ticket");
    expect(getTicket, spans.map((s) => s.name).join(", ")).toBeDefined();
    expect(getTicket!.kind).toBe(2); // SPAN_KIND_SERVER in OTLP
    expect(attribute(getTicket!, "rpc.system.name")).toBe("zerorpc");
    expect(attribute(getTicket!, "rpc.method")).toBe("Tickets/get_ticket");
    const list = spans.find((span) => span.name === "Tickets/ticket_list");
    expect(Number(attribute(list!, "zerorpc.stream.items"))).toBe(2);

    const metricsRequests = received.filter((r) => r.path === "/v1/metrics");
    expect(metricsRequests.length).toBeGreaterThan(0);
    const metrics: OtlpMetric[] = metricsRequests.flatMap((r) => {
      const body = JSON.parse(r.body.toString("utf8")) as { resourceMetrics: { scopeMetrics: { metrics: OtlpMetric[] }[] }[] };
      return body.resourceMetrics.flatMap((rm) => rm.scopeMetrics.flatMap((sm) => sm.metrics));
    });
    expect(metrics.find((m) => m.name === "rpc.server.call.duration")?.unit).toBe("s");
    expect(metrics.map((m) => m.name)).toContain("zerorpc.server.active_calls");
  });

  it("exports with the default http/protobuf encoding too", async () => {
    received.length = 0;
    await exercise("http/protobuf");
    const traces = received.filter((r) => r.path === "/v1/traces");
    expect(traces.length).toBeGreaterThan(0);
    expect(traces[0]!.contentType).toBe("application/x-protobuf");
    // The span name is a string field of the encoded request: its bytes appear as they are.
    expect(traces.some((r) => r.body.includes("Tickets/get_ticket"))).toBe(true);
    expect(received.some((r) => r.path === "/v1/metrics" && r.contentType === "application/x-protobuf")).toBe(true);
  });
});
