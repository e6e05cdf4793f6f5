// The OpenTelemetry stacks (issue #22): zrpc on ZMTP with @zrpc/middleware-otel on the server and
// the client. `zrpc-zmtp-otel` registers the SDK the way an application does (AsyncLocalStorage
// context, W3C propagation, every call sampled, a batch span processor, a meter provider with a
// periodic reader) with exporters that drop what they get: the cost measured is the
// middleware's and the SDK's, not a collector's. `zrpc-zmtp-otel-api` registers nothing: the
// middleware runs on the API's no-op implementations.
import { context, metrics, propagation, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { CompositePropagator, ExportResultCode, W3CBaggagePropagator, W3CTraceContextPropagator } from "@opentelemetry/core";
import type { ExportResult } from "@opentelemetry/core";
import { AggregationTemporality, MeterProvider, PeriodicExportingMetricReader } from "@opentelemetry/sdk-metrics";
import type { PushMetricExporter } from "@opentelemetry/sdk-metrics";
import { AlwaysOnSampler, BasicTracerProvider, BatchSpanProcessor } from "@opentelemetry/sdk-trace-base";
import type { SpanExporter } from "@opentelemetry/sdk-trace-base";
import type { ClientMiddleware } from "@zrpc/client";
import { otelClientMiddleware, otelServerMiddleware } from "@zrpc/middleware-otel";
import type { ServerMiddleware } from "@zrpc/server";
import type { Stack } from "./common.js";

const done = (callback: (result: ExportResult) => void): void => callback({ code: ExportResultCode.SUCCESS });

/** A span exporter that drops the spans. */
const dropSpans: SpanExporter = {
  export: (_spans, callback) => done(callback),
  shutdown: () => Promise.resolve(),
};

/** A metric exporter that drops the metrics. */
const dropMetrics: PushMetricExporter = {
  export: (_metrics, callback) => done(callback),
  forceFlush: () => Promise.resolve(),
  shutdown: () => Promise.resolve(),
  selectAggregationTemporality: () => AggregationTemporality.CUMULATIVE,
};

let registered = false;

/** Registers the SDK globally, once per process. */
function registerSdk(): void {
  if (registered) return;
  registered = true;
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }));
  trace.setGlobalTracerProvider(
    new BasicTracerProvider({ sampler: new AlwaysOnSampler(), spanProcessors: [new BatchSpanProcessor(dropSpans)] }),
  );
  metrics.setGlobalMeterProvider(
    new MeterProvider({ readers: [new PeriodicExportingMetricReader({ exporter: dropMetrics, exportIntervalMillis: 1_000 })] }),
  );
}

/** The server middleware of `stack`: none but for the OpenTelemetry stacks. */
export function serverMiddlewareOf(stack: Stack, endpoint: string): ServerMiddleware[] {
  if (stack !== "zrpc-zmtp-otel" && stack !== "zrpc-zmtp-otel-api") return [];
  if (stack === "zrpc-zmtp-otel") registerSdk();
  return [otelServerMiddleware({ endpoint })];
}

/** The client middleware of `stack`: none but for the OpenTelemetry stacks. */
export function clientMiddlewareOf(stack: Stack, endpoint: string): ClientMiddleware[] {
  if (stack !== "zrpc-zmtp-otel" && stack !== "zrpc-zmtp-otel-api") return [];
  if (stack === "zrpc-zmtp-otel") registerSdk();
  return [otelClientMiddleware({ endpoint, service: "bench" })];
}
