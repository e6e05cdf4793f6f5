// The server middleware: a SERVER span per call (continuing the caller's trace from the request
// header), the call duration histogram and the active-calls counter.
import { context, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import type { Attributes, Context, Span } from "@opentelemetry/api";
import { ATTR, nameCall, parseEndpoint } from "./semconv.js";
import type { CallNaming, ServerLocation } from "./semconv.js";
import { errorTypeOf, headerGetter, Telemetry } from "./telemetry.js";
import type { OtelOptions } from "./telemetry.js";

/**
 * What the server middleware reads of a call: a structural subset of `@zrpc/server`'s
 * `CallContext` (what the hooks receive at run time), so this package needs nothing from
 * `@zrpc/server` but its hook shapes.
 */
export interface OtelServerCall {
  /** The method called. */
  readonly method: string;
  /** The request header, with any extra keys (`traceparent`, `tracestate`, `baggage`). */
  readonly header: Readonly<Record<string, unknown>>;
  /** The service name (as `_zerorpc_name` answers): `rpc.service`, and the service of `rpc.method`. */
  readonly serverName: string;
  /** The method, or `undefined` for an unknown method. */
  readonly spec?: unknown;
  /** True for `_zerorpc_*` methods. */
  readonly introspection: boolean;
  /** Per-call scratch space for middleware. */
  readonly locals: Map<string | symbol, unknown>;
}

/**
 * How a call ended, as `onEnd` receives it: a structural supertype of `@zrpc/server`'s
 * `CallOutcome` (`ok`, `error`, `stream-done`, `lost-remote`, `canceled`, `timed-out`,
 * `shutdown`).
 */
export interface OtelCallOutcome {
  readonly kind: string;
  readonly error?: unknown;
  readonly items?: number;
  readonly reason?: unknown;
}

/** Options of {@link otelServerMiddleware}. */
export interface OtelServerOptions extends OtelOptions {
  /**
   * The endpoint the server is bound to (`tcp://host:port`, `ipc://path`), for `server.address`,
   * `server.port` and `network.transport`; without it these attributes are left out.
   */
  readonly endpoint?: string;
  /** Also trace zerorpc's built-in `_zerorpc_*` methods (pings, introspection). Default false. */
  readonly includeIntrospection?: boolean;
}

/**
 * The server middleware {@link otelServerMiddleware} returns. Its hooks have the shapes of
 * `@zrpc/server`'s `ServerMiddleware`, so it goes into `createServer(service, { middleware })`.
 */
export interface OtelServerMiddleware {
  readonly name: string;
  /**
   * Starts the call's span (continuing the request's trace), counts the call as active, and runs
   * the handler (and the inner middleware) with the span active. (No `beforeCall`: each hook a
   * middleware has costs a server an await per call.)
   */
  around(call: OtelServerCall, next: () => Promise<unknown>): Promise<unknown>;
  /** Sets the span's status from the outcome, ends it, records the duration. */
  onEnd(call: OtelServerCall, outcome: OtelCallOutcome): void;
}

/** Per-call state, in `call.locals`. */
interface CallState {
  readonly span: Span | undefined;
  readonly context: Context;
  readonly naming: CallNaming;
  readonly started: number;
}

const STATE = Symbol("zrpc.middleware-otel.server");
const SKIPPED = Symbol("zrpc.middleware-otel.skipped");

/** How an outcome maps to `error.type` (undefined: success) and the span status description. */
function failureOf(outcome: OtelCallOutcome): string | undefined {
  switch (outcome.kind) {
    case "ok":
    case "stream-done":
      return undefined;
    case "error":
      // The exception name the client sees in ERR (`pythonName`, else `name`): ValueError, ...
      return errorTypeOf(outcome.error);
    case "lost-remote":
      return outcome.error === undefined ? "LostRemote" : errorTypeOf(outcome.error);
    case "canceled":
      return outcome.reason === undefined ? "CallCanceled" : errorTypeOf(outcome.reason);
    case "timed-out":
      return "DeadlineExceeded";
    case "shutdown":
      return "ShutdownError";
    default:
      return "_OTHER";
  }
}

/**
 * A server middleware for OpenTelemetry, on `@opentelemetry/api` alone (the application registers
 * the SDK). Per call it starts a `SERVER` span named after the fully-qualified method
 * (`Service/method`), continuing the trace of the request's `traceparent` / `tracestate` /
 * `baggage` header keys (read with the registered propagator), and ends it when the call ends
 * (for a stream: after `STREAM_DONE`), with `error.type` and an error status when the call
 * answered `ERR`, lost its client, timed out, was canceled or was cut by a shutdown. It records
 * `rpc.server.call.duration` (seconds) and `zerorpc.server.active_calls`.
 *
 * ```ts
 * createServer(methods, { name: "calc", middleware: [otelServerMiddleware({ endpoint })] });
 * ```
 */
export function otelServerMiddleware(options: OtelServerOptions = {}): OtelServerMiddleware {
  const telemetry = new Telemetry(options, "server");
  const location: ServerLocation | undefined = parseEndpoint(options.endpoint);

  // The names of each (service, method, known) seen, bounded: a server has a fixed set of methods,
  // but a client may call any name (unknown ones are all `_OTHER`, named once per name here).
  const namings = new Map<string, CallNaming>();
  const metricAttributeSets = new Map<string, Attributes>();

  function namingOf(call: OtelServerCall): CallNaming {
    const known = call.spec !== undefined || call.introspection;
    const key = `${known ? "+" : "-"}${call.serverName}/${call.method}`;
    let naming = namings.get(key);
    if (naming === undefined) {
      naming = nameCall(telemetry.mode, { method: call.method, service: call.serverName, known, location });
      // Unknown methods share one metric attribute set (`_OTHER`): one object for the active-calls count.
      const metricKey = JSON.stringify(naming.metricAttributes);
      const shared = metricAttributeSets.get(metricKey);
      if (shared === undefined) metricAttributeSets.set(metricKey, naming.metricAttributes);
      else naming = { ...naming, metricAttributes: shared };
      if (namings.size < 1024) namings.set(key, naming);
    }
    return naming;
  }

  function open(call: OtelServerCall): CallState {
    const naming = namingOf(call);
    let span: Span | undefined;
    let callContext: Context = ROOT_CONTEXT;
    if (telemetry.tracing) {
      // The caller's context, if the request carries one; never the context the server was started in.
      const parent = telemetry.propagator.extract(ROOT_CONTEXT, call.header, headerGetter);
      span = telemetry.tracer.startSpan(naming.spanName, { kind: SpanKind.SERVER, attributes: naming.attributes }, parent);
      callContext = trace.setSpan(parent, span);
    }
    if (telemetry.metering) telemetry.instruments.active.add(naming.metricAttributes, 1);
    return { span, context: callContext, naming, started: performance.now() };
  }

  function stateOf(call: OtelServerCall): CallState | undefined {
    const existing = call.locals.get(STATE);
    if (existing !== undefined) return existing === SKIPPED ? undefined : (existing as CallState);
    if (call.introspection && options.includeIntrospection !== true) {
      call.locals.set(STATE, SKIPPED);
      return undefined;
    }
    const state = open(call);
    call.locals.set(STATE, state);
    return state;
  }

  return {
    name: "otel",

    around(call, next) {
      const state = stateOf(call);
      if (state === undefined || state.span === undefined) return next();
      return context.with(state.context, next);
    },

    onEnd(call, outcome) {
      const state = stateOf(call);
      if (state === undefined) return;
      const failure = failureOf(outcome);
      const { span } = state;
      if (span !== undefined && span.isRecording()) {
        span.setAttribute(ATTR.outcome, outcome.kind);
        if (outcome.kind === "stream-done" && outcome.items !== undefined) span.setAttribute(ATTR.streamItems, outcome.items);
        if (failure !== undefined) {
          span.setAttribute(ATTR.errorType, failure);
          span.setStatus({ code: SpanStatusCode.ERROR, message: `${outcome.kind}: ${failure}` });
          if (outcome.kind === "error" && outcome.error instanceof Error) span.recordException(outcome.error);
        }
      }
      span?.end();
      if (telemetry.metering) {
        const instruments = telemetry.instruments;
        instruments.active.add(state.naming.metricAttributes, -1);
        const elapsedMs = performance.now() - state.started;
        const attributes: Attributes =
          failure === undefined ? state.naming.metricAttributes : { ...state.naming.metricAttributes, [ATTR.errorType]: failure };
        instruments.duration?.record(elapsedMs / 1000, attributes);
        instruments.durationOld?.record(elapsedMs, attributes);
      }
    },
  };
}

