// How the middleware reaches OpenTelemetry: through `@opentelemetry/api` only (the application
// installs and registers whichever SDK it wants), with the tracer, meter and propagator looked up
// lazily so an SDK registered after the middleware was created is still used.
import { metrics, propagation, trace, ValueType } from "@opentelemetry/api";
import type {
  Attributes,
  Histogram,
  Meter,
  MeterProvider,
  ObservableResult,
  TextMapGetter,
  TextMapPropagator,
  TextMapSetter,
  Tracer,
  TracerProvider,
} from "@opentelemetry/api";
import { DURATION_BUCKETS_SECONDS, METRIC, semconvModeFromEnv } from "./semconv.js";
import type { SemconvMode } from "./semconv.js";

/** The instrumentation scope name of the tracer and meter. */
export const INSTRUMENTATION_NAME = "@zrpc/middleware-otel";
/** The instrumentation scope version (this package's). */
export const INSTRUMENTATION_VERSION = "0.1.0";

/** Options shared by the server and the client middleware. */
export interface OtelOptions {
  /** The tracer provider. Default: the global one (`trace.getTracerProvider()`), at each lookup. */
  readonly tracerProvider?: TracerProvider;
  /**
   * The meter provider. Default: the global one (`metrics.getMeterProvider()`), looked up at the
   * first call: register the SDK's `MeterProvider` before the first call is made or served.
   */
  readonly meterProvider?: MeterProvider;
  /** The propagator. Default: the global one (`propagation`, whatever the application registered). */
  readonly propagator?: TextMapPropagator;
  /**
   * Which RPC conventions to emit. Default: from `OTEL_SEMCONV_STABILITY_OPT_IN` (`rpc/dup`:
   * both), else the stable ones. See {@link SemconvMode}.
   */
  readonly semconv?: SemconvMode;
  /** Spans (and trace propagation). Default true. */
  readonly traces?: boolean;
  /** Metrics. Default true. */
  readonly metrics?: boolean;
}

/**
 * Calls in progress per attribute set, reported by an asynchronous (observable) up-down counter
 * when the SDK collects: counting a call costs an integer increment, where a synchronous counter
 * would cost two SDK recordings (attribute hashing and all) per call.
 */
export class ActiveCalls {
  private readonly counts = new Map<Attributes, number>();

  /** `attributes` must be the same object for the same attribute set (the cached metric attributes). */
  add(attributes: Attributes, delta: number): void {
    this.counts.set(attributes, (this.counts.get(attributes) ?? 0) + delta);
  }

  observe(result: ObservableResult): void {
    for (const [attributes, count] of this.counts) {
      result.observe(count, attributes);
      // Sets that went back to 0 are reported once more as 0, then forgotten if there are many.
      if (count === 0 && this.counts.size > 1024) this.counts.delete(attributes);
    }
  }
}

/** The instruments of one side (server or client). */
export interface Instruments {
  readonly duration: Histogram | undefined;
  readonly durationOld: Histogram | undefined;
  readonly active: ActiveCalls;
}

/** Resolved settings plus lazily created instruments. */
export class Telemetry {
  readonly mode: SemconvMode;
  readonly tracing: boolean;
  readonly metering: boolean;
  private readonly options: OtelOptions;
  private readonly side: "server" | "client";
  private tracerValue: Tracer | undefined;
  private instrumentsValue: Instruments | undefined;

  constructor(options: OtelOptions, side: "server" | "client") {
    this.options = options;
    this.side = side;
    this.mode = options.semconv ?? semconvModeFromEnv();
    this.tracing = options.traces !== false;
    this.metering = options.metrics !== false;
  }

  get tracer(): Tracer {
    // The global provider is a proxy that follows a later registration: caching its tracer is safe.
    return (this.tracerValue ??= (this.options.tracerProvider ?? trace.getTracerProvider()).getTracer(
      INSTRUMENTATION_NAME,
      INSTRUMENTATION_VERSION,
    ));
  }

  get propagator(): TextMapPropagator {
    return this.options.propagator ?? propagation;
  }

  get instruments(): Instruments {
    return (this.instrumentsValue ??= this.createInstruments());
  }

  private createInstruments(): Instruments {
    const meter: Meter = (this.options.meterProvider ?? metrics.getMeterProvider()).getMeter(
      INSTRUMENTATION_NAME,
      INSTRUMENTATION_VERSION,
    );
    const server = this.side === "server";
    const duration =
      this.mode === "old"
        ? undefined
        : meter.createHistogram(server ? METRIC.serverCallDuration : METRIC.clientCallDuration, {
            description: server
              ? "Duration of incoming zerorpc calls (for a stream: until STREAM_DONE)."
              : "Duration of outgoing zerorpc calls (for a stream: until it ends).",
            unit: "s",
            valueType: ValueType.DOUBLE,
            advice: { explicitBucketBoundaries: [...DURATION_BUCKETS_SECONDS] },
          });
    const durationOld =
      this.mode === "stable"
        ? undefined
        : meter.createHistogram(server ? METRIC.serverDurationOld : METRIC.clientDurationOld, {
            description: server ? "Duration of incoming zerorpc calls." : "Duration of outgoing zerorpc calls.",
            unit: "ms",
            valueType: ValueType.DOUBLE,
          });
    const active = new ActiveCalls();
    meter
      .createObservableUpDownCounter(server ? METRIC.serverActiveCalls : METRIC.clientActiveCalls, {
        description: server ? "zerorpc calls being served." : "zerorpc calls in flight.",
        unit: "{call}",
        valueType: ValueType.INT,
      })
      .addCallback((result) => active.observe(result));
    return { duration, durationOld, active };
  }
}

/** Reads a header key as text: zerorpc-python may send str as bin (old msgpack settings). */
export function headerText(header: Readonly<Record<string, unknown>>, key: string): string | undefined {
  if (!Object.prototype.hasOwnProperty.call(header, key)) return undefined;
  const value = header[key];
  if (typeof value === "string") return value;
  if (value instanceof Uint8Array) return new TextDecoder().decode(value);
  return undefined;
}

/** Reads propagation fields from a request header. */
export const headerGetter: TextMapGetter<Readonly<Record<string, unknown>>> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => headerText(carrier, key),
};

/**
 * Writes propagation fields into a request header without doubling what another middleware put
 * there (e.g. @zrpc/middleware-sentry's `sentry-trace` and `baggage`): a key already present is
 * kept, except `baggage`, whose list members are merged (members already there win).
 */
export const headerSetter: TextMapSetter<Record<string, unknown>> = {
  set(carrier, key, value) {
    const existing = headerText(carrier, key);
    if (existing === undefined) {
      Object.defineProperty(carrier, key, { value, writable: true, enumerable: true, configurable: true });
      return;
    }
    if (key === "baggage") carrier[key] = mergeBaggage(existing, value);
  },
};

/** The W3C baggage list `first` plus the members of `second` whose keys `first` lacks. */
export function mergeBaggage(first: string, second: string): string {
  const keyOf = (member: string): string => member.split(/[=;]/, 1)[0]!.trim();
  const members = first.split(",").map((member) => member.trim()).filter((member) => member !== "");
  const keys = new Set(members.map(keyOf));
  for (const member of second.split(",")) {
    const trimmed = member.trim();
    if (trimmed === "" || keys.has(keyOf(trimmed))) continue;
    keys.add(keyOf(trimmed));
    members.push(trimmed);
  }
  return members.join(",");
}

/** The name of an error's class as a low-cardinality `error.type`: `pythonName`, `name`, else `_OTHER`. */
export function errorTypeOf(error: unknown): string {
  if ((typeof error === "object" || typeof error === "function") && error !== null) {
    const fields = error as { pythonName?: unknown; name?: unknown };
    if (typeof fields.pythonName === "string" && fields.pythonName !== "") return fields.pythonName;
    if (typeof fields.name === "string" && fields.name !== "") return fields.name;
  }
  return "_OTHER";
}
