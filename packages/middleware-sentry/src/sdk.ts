// How the middleware reaches Sentry: the global SDK of `@sentry/node` (initialised by the app, or
// by us from a DSN), optionally with an explicit client for events and breadcrumbs.
import * as Sentry from "@sentry/node";
import type { Breadcrumb, NodeClient, NodeOptions, Scope, Span } from "@sentry/node";

/** Span attributes, as `startSpan` options take them (not exported by `@sentry/node` itself). */
export type SpanAttributes = NonNullable<Parameters<typeof Sentry.startInactiveSpan>[0]["attributes"]>;

/** Options of `startSpan` / `startInactiveSpan`. */
export type StartSpanOptions = Parameters<typeof Sentry.startInactiveSpan>[0];

/**
 * Span options with OpenTelemetry's span `kind` (1 server, 2 client): @sentry/node 10 records it
 * (`otel.kind`), 11 ignores it and its types no longer list it, hence no object literal here.
 */
export function spanOptions(name: string, op: string, kind: number, attributes: SpanAttributes): StartSpanOptions {
  const options = { name, op, kind, attributes };
  return options as StartSpanOptions;
}

/** How the middleware finds the Sentry SDK; shared by the server and the client middleware. */
export interface SentrySetupOptions {
  /**
   * A DSN: the middleware calls `Sentry.init({ ...init, dsn })` when it is created, unless the SDK
   * already runs with this DSN (so a server and a client middleware may both be given it).
   * Creating it while the SDK runs with another DSN throws. Without `dsn` (the default) the
   * middleware uses the SDK the application initialised (`Sentry.init` in its `instrument.mjs`),
   * looked up at each call, so it may be initialised after the middleware is created; without
   * any initialised SDK nothing is reported.
   */
  readonly dsn?: string;
  /**
   * More `Sentry.init` options, used only with `dsn` (`environment`, `release`,
   * `tracesSampleRate`, `integrations`, ...). With `tracing: true` and no `tracesSampleRate` /
   * `tracesSampler` here, `tracesSampleRate` defaults to 1.
   */
  readonly init?: Omit<NodeOptions, "dsn">;
  /**
   * An initialised Sentry client to send events and breadcrumbs with, instead of the global one
   * (`Sentry.getClient()`, the default). Spans always go through the global SDK, which owns the
   * tracer.
   */
  readonly client?: NodeClient;
  /**
   * Spans for calls and trace propagation. `undefined` (default): spans are started and
   * `sentry-trace` / `baggage` propagated; whether spans are sent is the SDK's sampling decision
   * (`tracesSampleRate` / `tracesSampler`; without them spans are not recorded, but errors still
   * carry the caller's trace id). `true`: the same, and `tracesSampleRate` defaults to 1 when this
   * middleware initialises the SDK from `dsn`. `false`: no spans, no propagation.
   */
  readonly tracing?: boolean;
}

/** `Sentry.init` with our DSN unless the SDK already runs with it. */
export function setupSdk(options: SentrySetupOptions): void {
  const { dsn } = options;
  if (dsn === undefined) return;
  const current = Sentry.getClient();
  if (current !== undefined) {
    const currentDsn = current.getOptions().dsn;
    if (currentDsn === dsn) return;
    if (currentDsn !== undefined) {
      throw new Error(
        "@zrpc/middleware-sentry: Sentry is already initialised with another DSN; drop the `dsn` option to use that SDK, or pass `client`",
      );
    }
  }
  const init: NodeOptions = { ...options.init, dsn };
  if (options.tracing === true && init.tracesSampleRate === undefined && init.tracesSampler === undefined) {
    init.tracesSampleRate = 1;
  }
  Sentry.init(init);
}

/**
 * Runs `fn` with `isolation` as the isolation scope, `span` (if any) as the active span, and a
 * forked current scope that sends with `client` (if one was given).
 */
export function inScope<T>(
  isolation: Scope | undefined,
  span: Span | undefined,
  client: NodeClient | undefined,
  fn: (scope: Scope) => T,
): T {
  const withCurrent = (): T =>
    Sentry.withScope((scope) => {
      if (client !== undefined) scope.setClient(client);
      return fn(scope);
    });
  const withSpan = (): T => (span === undefined ? withCurrent() : Sentry.withActiveSpan(span, withCurrent));
  return isolation === undefined ? withSpan() : Sentry.withIsolationScope(isolation, withSpan);
}

/** Adds a breadcrumb to `isolation` (the SDK applies `beforeBreadcrumb` and `maxBreadcrumbs`). */
export function addBreadcrumbTo(isolation: Scope | undefined, client: NodeClient | undefined, breadcrumb: Breadcrumb): void {
  inScope(isolation, undefined, client, () => Sentry.addBreadcrumb(breadcrumb));
}

/** Whether events can go anywhere: a client was given or the SDK is initialised. */
export function hasClient(client: NodeClient | undefined): boolean {
  return client !== undefined || Sentry.getClient() !== undefined;
}

/** OpenTelemetry span kinds, as `StartSpanOptions.kind` takes them. */
export const SPAN_KIND_SERVER = 1;
/** @see SPAN_KIND_SERVER */
export const SPAN_KIND_CLIENT = 2;

/** Sentry's span status codes (OpenTelemetry's): 1 ok, 2 error with a message. */
export const SPAN_STATUS_OK = 1;
/** @see SPAN_STATUS_OK */
export const SPAN_STATUS_ERROR = 2;

/**
 * The origin of our spans, in Sentry's `auto.<category>.<integration>` form, set as the
 * `sentry.origin` attribute (spelled out: v11 no longer exports every `SEMANTIC_ATTRIBUTE_*`).
 */
export const SPAN_ORIGIN = "auto.rpc.zrpc";

/** The `rpc.system` value for zerorpc (OpenTelemetry's RPC conventions). */
export const RPC_SYSTEM = "zerorpc";

/** Header keys of Sentry's trace propagation, sent as extra zerorpc header keys (docs/protocol §4.1). */
export const SENTRY_TRACE_KEY = "sentry-trace";
/** @see SENTRY_TRACE_KEY */
export const BAGGAGE_KEY = "baggage";
