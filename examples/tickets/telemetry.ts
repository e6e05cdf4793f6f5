// OpenTelemetry for the tickets server, from the standard environment variables: traces and
// metrics over OTLP/HTTP when OTEL_EXPORTER_OTLP_ENDPOINT is set (protobuf, or JSON with
// OTEL_EXPORTER_OTLP_PROTOCOL=http/json), and/or a Prometheus scrape endpoint with
// OTEL_METRICS_EXPORTER=prometheus. Nothing is set up (and nothing sent) without them.
import { context, diag, DiagConsoleLogger, DiagLogLevel, metrics, propagation, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from "@opentelemetry/core";
import { OTLPMetricExporter as OTLPMetricExporterJson } from "@opentelemetry/exporter-metrics-otlp-http";
import { OTLPMetricExporter as OTLPMetricExporterProto } from "@opentelemetry/exporter-metrics-otlp-proto";
import { PrometheusExporter } from "@opentelemetry/exporter-prometheus";
import { OTLPTraceExporter as OTLPTraceExporterJson } from "@opentelemetry/exporter-trace-otlp-http";
import { OTLPTraceExporter as OTLPTraceExporterProto } from "@opentelemetry/exporter-trace-otlp-proto";
import { defaultResource, resourceFromAttributes } from "@opentelemetry/resources";
import { MeterProvider, PeriodicExportingMetricReader } from "@opentelemetry/sdk-metrics";
import type { MetricReader } from "@opentelemetry/sdk-metrics";
import { BasicTracerProvider, BatchSpanProcessor } from "@opentelemetry/sdk-trace-base";
import type { SpanProcessor } from "@opentelemetry/sdk-trace-base";

type Env = Readonly<Record<string, string | undefined>>;

/** The exporters a comma-separated OTEL_*_EXPORTER variable lists (default: `fallback`). */
function exporters(value: string | undefined, fallback: string): Set<string> {
  return new Set((value ?? fallback).split(",").map((entry) => entry.trim().toLowerCase()).filter((entry) => entry !== ""));
}

/** `http/json` or `http/protobuf` (the OTLP default); `grpc` is not wired up in this example. */
function protocol(env: Env, signal: "TRACES" | "METRICS"): "http/json" | "http/protobuf" {
  const value = (env[`OTEL_EXPORTER_OTLP_${signal}_PROTOCOL`] ?? env.OTEL_EXPORTER_OTLP_PROTOCOL ?? "http/protobuf").trim();
  if (value === "http/json") return "http/json";
  if (value !== "http/protobuf") console.error(`tickets: OTLP protocol ${JSON.stringify(value)} not supported here, using http/protobuf`);
  return "http/protobuf";
}

/** The SDK this process runs, if the environment asked for one. */
export interface Telemetry {
  /** What is exported where, for the start-up log. */
  readonly description: string;
  /** Registers the providers globally. Call before the server takes its first call. */
  start(): void;
  /** Exports what is buffered and stops the exporters (`zrpc run` calls it when it stops). */
  shutdown(): Promise<void>;
}

/** Reads the environment; `undefined` when no exporter is configured. */
export function telemetryFromEnv(env: Env = process.env): Telemetry | undefined {
  if (env.OTEL_SDK_DISABLED === "true") return undefined;
  const otlp = env.OTEL_EXPORTER_OTLP_ENDPOINT !== undefined && env.OTEL_EXPORTER_OTLP_ENDPOINT !== "";
  const traceExporters = exporters(env.OTEL_TRACES_EXPORTER, otlp ? "otlp" : "none");
  const metricExporters = exporters(env.OTEL_METRICS_EXPORTER, otlp ? "otlp" : "none");
  const wantsTraces = traceExporters.has("otlp") && otlp;
  const wantsOtlpMetrics = metricExporters.has("otlp") && otlp;
  const wantsPrometheus = metricExporters.has("prometheus");
  if (!wantsTraces && !wantsOtlpMetrics && !wantsPrometheus) return undefined;

  const resource = defaultResource().merge(resourceFromAttributes({ "service.name": env.OTEL_SERVICE_NAME ?? "tickets" }));
  const spanProcessors: SpanProcessor[] = [];
  const readers: MetricReader[] = [];
  const parts: string[] = [];
  if (wantsTraces) {
    const json = protocol(env, "TRACES") === "http/json";
    // The exporters read OTEL_EXPORTER_OTLP_ENDPOINT (and the per-signal variables) themselves.
    spanProcessors.push(new BatchSpanProcessor(json ? new OTLPTraceExporterJson() : new OTLPTraceExporterProto()));
    parts.push(`traces to ${env.OTEL_EXPORTER_OTLP_ENDPOINT} (${json ? "http/json" : "http/protobuf"})`);
  }
  if (wantsOtlpMetrics) {
    const json = protocol(env, "METRICS") === "http/json";
    readers.push(
      new PeriodicExportingMetricReader({
        exporter: json ? new OTLPMetricExporterJson() : new OTLPMetricExporterProto(),
        exportIntervalMillis: Number(env.OTEL_METRIC_EXPORT_INTERVAL ?? 60_000),
      }),
    );
    parts.push(`metrics to ${env.OTEL_EXPORTER_OTLP_ENDPOINT} (${json ? "http/json" : "http/protobuf"})`);
  }
  let prometheus: PrometheusExporter | undefined;
  if (wantsPrometheus) {
    // Serves http://<OTEL_EXPORTER_PROMETHEUS_HOST or all interfaces>:<OTEL_EXPORTER_PROMETHEUS_PORT or 9464>/metrics
    // once started below.
    prometheus = new PrometheusExporter({ preventServerStart: true });
    readers.push(prometheus);
    parts.push(`Prometheus metrics on port ${env.OTEL_EXPORTER_PROMETHEUS_PORT ?? "9464"} (/metrics)`);
  }
  const tracerProvider = new BasicTracerProvider({ resource, spanProcessors });
  const meterProvider = new MeterProvider({ resource, readers });

  return {
    description: parts.join(", "),
    start() {
      if (env.OTEL_LOG_LEVEL?.toLowerCase() === "debug") diag.setLogger(new DiagConsoleLogger(), DiagLogLevel.DEBUG);
      context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
      propagation.setGlobalPropagator(
        new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }),
      );
      if (spanProcessors.length > 0) trace.setGlobalTracerProvider(tracerProvider);
      if (readers.length > 0) metrics.setGlobalMeterProvider(meterProvider);
      void prometheus?.startServer();
    },
    async shutdown() {
      await Promise.all([tracerProvider.shutdown(), meterProvider.shutdown()]);
    },
  };
}
