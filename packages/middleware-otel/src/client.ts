// The client middleware: a CLIENT span per call, the trace context injected into the request
// header with the registered propagator, the call duration histogram and the active-calls counter.
import { context, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import type { Attributes, Span } from "@opentelemetry/api";
import { ATTR, nameCall, parseEndpoint } from "./semconv.js";
import type { CallNaming, ServerLocation } from "./semconv.js";
import { errorTypeOf, headerSetter, Telemetry } from "./telemetry.js";
import type { OtelOptions } from "./telemetry.js";

/**
 * What the client middleware reads of a call: a structural subset of `@zrpc/client`'s
 * `ClientRequest`. `header` is the request's mutable extra-header map, where the trace goes.
 */
export interface OtelClientRequest {
  /** The remote method. */
  readonly method: string;
  /** Extra header keys of the request event. */
  readonly header: Record<string, unknown>;
}

/** The reply event `afterReply` receives: only its name is read (`STREAM_DONE` marks a stream). */
export interface OtelReplyEvent {
  readonly name: string;
}

/** Options of {@link otelClientMiddleware}. */
export interface OtelClientOptions extends OtelOptions {
  /**
   * The server's endpoint (`tcp://host:port`, `ipc://path`), the one given to `connect`, for
   * `server.address`, `server.port` and `network.transport`; without it they are left out.
   */
  readonly endpoint?: string;
  /**
   * The remote service name (what its `_zerorpc_name` answers), for the fully-qualified
   * `rpc.method` (`Service/method`) and the span name; without it the method name alone is used.
   */
  readonly service?: string;
}

/**
 * The client middleware {@link otelClientMiddleware} returns. Its hooks have the shapes of
 * `@zrpc/client`'s `ClientMiddleware`, so it goes into `connect(endpoint, { middleware })`.
 */
export interface OtelClientMiddleware {
  readonly name: string;
  /** Injects the call's trace context (or the active one, for one-way senders) into the header. */
  beforeRequest(request: OtelClientRequest): void;
  /** Notes a streamed reply (`STREAM_DONE`). */
  afterReply(request: OtelClientRequest, reply: OtelReplyEvent | undefined, error?: unknown): void;
  /** Runs the call in a `CLIENT` span and records its duration. */
  around(request: OtelClientRequest, next: () => Promise<unknown>): Promise<unknown>;
}

/**
 * Marks a request whose reply was a stream (set by `afterReply` on `STREAM_DONE`, read by
 * `around`): a symbol property rather than a per-call map entry, which would cost every call.
 */
const STREAMED = Symbol("zrpc.middleware-otel.streamed");

/** The `error.type` of a failed call: the remote exception name for `ERR`, else the error's name. */
function failureOf(error: unknown): string {
  const fields = (typeof error === "object" && error !== null ? error : {}) as { code?: unknown; remoteName?: unknown };
  if (fields.code === "remote" && typeof fields.remoteName === "string" && fields.remoteName !== "") return fields.remoteName;
  return errorTypeOf(error);
}

/**
 * A client middleware for OpenTelemetry, on `@opentelemetry/api` alone. Each call runs in a
 * `CLIENT` span named after the method (`Service/method` with the `service` option), child of
 * the active span; its context travels in the request header as extra keys written by the
 * registered propagator (W3C `traceparent`, `tracestate` and `baggage` with the SDK's defaults),
 * which zerorpc-python servers ignore and {@link otelServerMiddleware} continues. Keys another
 * middleware already set are kept (`baggage` lists are merged), so it runs beside
 * `@zrpc/middleware-sentry` without doubling them. A failed call gets `error.type` (the remote
 * exception name for `ERR`; `TimeoutExpired`, `CanceledError`, `LostRemote`, ... otherwise) and
 * an error status. It records `rpc.client.call.duration` (seconds) and
 * `zerorpc.client.active_calls`.
 *
 * ```ts
 * const client = await connect(endpoint, { middleware: [otelClientMiddleware({ endpoint, service: "calc" })] });
 * ```
 */
export function otelClientMiddleware(options: OtelClientOptions = {}): OtelClientMiddleware {
  const telemetry = new Telemetry(options, "client");
  const location: ServerLocation | undefined = parseEndpoint(options.endpoint);
  const namings = new Map<string, CallNaming>();

  function naming(method: string): CallNaming {
    let found = namings.get(method);
    if (found === undefined) {
      found = nameCall(telemetry.mode, { method, service: options.service, known: true, location });
      // Bounded: a client calls a handful of methods; past that, names are not cached.
      if (namings.size < 1024) namings.set(method, found);
    }
    return found;
  }

  return {
    name: "otel",

    beforeRequest(request) {
      // Runs inside `around`'s `context.with` (the request is sent from `next()`), so the active
      // context is the call's: its CLIENT span, or the span of a middleware inside this one.
      // Injected here rather than in `around` because every `around` has run by now: a key
      // another middleware put in the header is kept, and baggage is merged (see headerSetter).
      if (telemetry.tracing) telemetry.propagator.inject(context.active(), request.header, headerSetter);
    },

    afterReply(request, reply) {
      if (reply?.name === "STREAM_DONE") (request as unknown as Record<symbol, unknown>)[STREAMED] = true;
    },

    async around(request, next) {
      const named = naming(request.method);
      const parent = context.active();
      let span: Span | undefined;
      let callContext = parent;
      if (telemetry.tracing) {
        span = telemetry.tracer.startSpan(named.spanName, { kind: SpanKind.CLIENT, attributes: named.attributes }, parent);
        callContext = trace.setSpan(parent, span);
      }
      const instruments = telemetry.metering ? telemetry.instruments : undefined;
      instruments?.active.add(named.metricAttributes, 1);
      const started = performance.now();
      let failure: string | undefined;
      try {
        const result = await (span === undefined ? next() : context.with(callContext, next));
        if (span !== undefined && Array.isArray(result) && (request as unknown as Record<symbol, unknown>)[STREAMED] === true) {
          span.setAttribute(ATTR.streamItems, result.length);
        }
        return result;
      } catch (error) {
        failure = failureOf(error);
        if (span !== undefined && span.isRecording()) {
          span.setAttribute(ATTR.errorType, failure);
          span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : failure });
        }
        throw error;
      } finally {
        span?.end();
        if (instruments !== undefined) {
          instruments.active.add(named.metricAttributes, -1);
          const elapsedMs = performance.now() - started;
          const attributes: Attributes =
            failure === undefined ? named.metricAttributes : { ...named.metricAttributes, [ATTR.errorType]: failure };
          instruments.duration?.record(elapsedMs / 1000, attributes);
          instruments.durationOld?.record(elapsedMs, attributes);
        }
      }
    },
  };
}
