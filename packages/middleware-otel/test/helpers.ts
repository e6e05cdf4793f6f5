// Real zrpc servers and clients on 127.0.0.1 (the default ZMTP transport) and a real
// OpenTelemetry SDK registered globally with in-memory span and metric collection.
import { context, propagation, trace, metrics } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from "@opentelemetry/core";
import { AggregationTemporality, MeterProvider, MetricReader } from "@opentelemetry/sdk-metrics";
import type { DataPoint, Histogram, MetricData } from "@opentelemetry/sdk-metrics";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { connect } from "@zrpc/client";
import type { Client, ClientMiddleware, ConnectOptions } from "@zrpc/client";
import { createServer } from "@zrpc/server";
import type { CallContext, CallOutcome, Registry, ServerMiddleware } from "@zrpc/server";
import { Resources as BaseResources } from "@zrpc/test-support";

/** Heartbeat of the test servers and clients (a lost client is noticed after 2-3 intervals). */
export const HEARTBEAT_MS = 1_000;

/** A metric reader the test collects from on demand. */
export class TestReader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE });
  }
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
  /** Every metric collected now, by name. */
  async metrics(): Promise<Map<string, MetricData>> {
    const { resourceMetrics } = await this.collect();
    const byName = new Map<string, MetricData>();
    for (const scope of resourceMetrics.scopeMetrics) for (const metric of scope.metrics) byName.set(metric.descriptor.name, metric);
    return byName;
  }
}

/** The SDK, registered globally: what an application's instrumentation file does. */
export interface Sdk {
  readonly exporter: InMemorySpanExporter;
  readonly reader: TestReader;
  readonly tracerProvider: BasicTracerProvider;
  readonly meterProvider: MeterProvider;
  spans(): ReadableSpan[];
  shutdown(): Promise<void>;
}

export function registerSdk(): Sdk {
  const exporter = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const reader = new TestReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  trace.setGlobalTracerProvider(tracerProvider);
  metrics.setGlobalMeterProvider(meterProvider);
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(
    new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }),
  );
  return {
    exporter,
    reader,
    tracerProvider,
    meterProvider,
    spans: () => exporter.getFinishedSpans(),
    async shutdown() {
      await tracerProvider.shutdown();
      await meterProvider.shutdown();
      trace.disable();
      metrics.disable();
      context.disable();
      propagation.disable();
    },
  };
}

/** The data points of a histogram metric. */
export function histogramPoints(metric: MetricData | undefined): DataPoint<Histogram>[] {
  return (metric?.dataPoints ?? []) as DataPoint<Histogram>[];
}

/** A middleware after the OpenTelemetry one: records headers and lets tests wait for outcomes. */
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

  /** Resolves when a call of `method` has started. */
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
  /** Serves `service` on 127.0.0.1 (random port, default transport); returns the endpoint. */
  async server(service: Registry | object, options: { name: string; middleware: readonly ServerMiddleware[] }): Promise<string> {
    const server = createServer(service, { ...options, heartbeatMs: HEARTBEAT_MS, logger: null });
    this.defer(() => server.close(0));
    const [endpoint] = await server.bind("tcp://127.0.0.1:*");
    return endpoint!;
  }

  /** A client connected to `endpoint`. */
  async client(endpoint: string, middleware: readonly ClientMiddleware[] = [], options: Partial<ConnectOptions> = {}): Promise<Client> {
    const client = await connect(endpoint, { heartbeatMs: HEARTBEAT_MS, middleware, timeoutMs: 10_000, ...options });
    this.defer(() => client.close());
    return client;
  }
}
