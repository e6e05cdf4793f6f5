// The client middleware: an `rpc.client` span per call, trace propagation in extra header keys,
// and a breadcrumb per call on the caller's scope.
import * as Sentry from "@sentry/node";
import type { NodeClient, Span } from "@sentry/node";
import {
  BAGGAGE_KEY,
  RPC_SYSTEM,
  SENTRY_TRACE_KEY,
  SPAN_KIND_CLIENT,
  SPAN_ORIGIN,
  SPAN_STATUS_ERROR,
  SPAN_STATUS_OK,
  addBreadcrumbTo,
  setupSdk,
  spanOptions,
} from "./sdk.js";
import type { SentrySetupOptions, SpanAttributes } from "./sdk.js";

/**
 * What the client middleware reads of a call: a structural subset of `@zrpc/client`'s
 * `ClientRequest` (which the hooks receive at run time). `header` is the request's mutable
 * extra-header map, where the trace goes.
 */
export interface SentryClientRequest {
  /** The remote method. */
  readonly method: string;
  /** Extra header keys of the request event. */
  readonly header: Record<string, unknown>;
}

/** Options of {@link sentryClientMiddleware}. */
export interface SentryClientOptions extends SentrySetupOptions {
  /**
   * A breadcrumb per finished call (method and outcome) on the caller's isolation scope, so an
   * error reported later by the calling code shows the RPCs that led to it. Default true.
   */
  readonly breadcrumbs?: boolean;
}

/**
 * The client middleware {@link sentryClientMiddleware} returns. Its hooks have the shapes of
 * `@zrpc/client`'s `ClientMiddleware`, so it goes into `connect(endpoint, { middleware })`.
 */
export interface SentryClientMiddleware {
  readonly name: string;
  /** Propagates the active trace for requests that did not get it in `around` (one-way senders). */
  beforeRequest(request: SentryClientRequest): void;
  /** Runs the call in an `rpc.client` span and puts the trace in the request header. */
  around(request: SentryClientRequest, next: () => Promise<unknown>): Promise<unknown>;
}

/** What a failed call's error says, by its zrpc `code` (errors are recognised by shape). */
function describeFailure(error: unknown): { status: string; type: string } {
  const fields = (typeof error === "object" && error !== null ? error : {}) as {
    code?: unknown;
    remoteName?: unknown;
    name?: unknown;
  };
  const name = typeof fields.name === "string" && fields.name !== "" ? fields.name : "Error";
  switch (fields.code) {
    case "remote":
      // The remote exception's own name (ValueError, NameError, ...) is the useful one.
      return { status: "internal_error", type: typeof fields.remoteName === "string" ? fields.remoteName : name };
    case "timeout":
      return { status: "deadline_exceeded", type: name };
    case "canceled":
      return { status: "cancelled", type: name };
    case "lost-remote":
    case "channel-closed":
      return { status: "unavailable", type: name };
    default:
      return { status: "internal_error", type: name };
  }
}

/** Copies the active trace into `header` as `sentry-trace` / `baggage`, unless already there. */
function propagate(header: Record<string, unknown>): void {
  if (header[SENTRY_TRACE_KEY] !== undefined) return;
  const data = Sentry.getTraceData();
  const sentryTrace = data[SENTRY_TRACE_KEY];
  if (sentryTrace === undefined) return;
  header[SENTRY_TRACE_KEY] = sentryTrace;
  if (data.baggage !== undefined) header[BAGGAGE_KEY] = data.baggage;
}

/**
 * A client middleware for Sentry (`@sentry/node` 10 or 11). Each call runs in an `rpc.client`
 * span (name: the method; attributes `rpc.system`, `rpc.method`) whose status comes from the
 * outcome (a `RemoteError` is `internal_error` with `error.type` the remote exception name; a
 * timeout `deadline_exceeded`; a lost server `unavailable`), and the trace travels to the server
 * in the extra header keys `sentry-trace` and `baggage`, where {@link sentryServerMiddleware}
 * continues it. zerorpc-python servers ignore extra header keys (docs/protocol section 4.1), so the
 * middleware is safe in front of any zerorpc server. Errors are not reported here: they reach the
 * calling code, which decides; each call leaves a breadcrumb.
 *
 * ```ts
 * const client = await connect(endpoint, { middleware: [sentryClientMiddleware()] });
 * ```
 */
export function sentryClientMiddleware(options: SentryClientOptions = {}): SentryClientMiddleware {
  setupSdk(options);
  const client: NodeClient | undefined = options.client;
  const tracing = options.tracing !== false;

  function breadcrumb(request: SentryClientRequest, failure: { type: string } | undefined, started: number): void {
    if (options.breadcrumbs === false) return;
    addBreadcrumbTo(undefined, client, {
      type: "default",
      category: "zerorpc.client",
      level: failure === undefined ? "info" : "warning",
      message: failure === undefined ? request.method : `${request.method}: ${failure.type}`,
      data: {
        "rpc.method": request.method,
        outcome: failure === undefined ? "ok" : failure.type,
        duration_ms: Math.round(performance.now() - started),
      },
    });
  }

  async function run(request: SentryClientRequest, next: () => Promise<unknown>, span: Span | undefined): Promise<unknown> {
    const started = performance.now();
    try {
      const result = await next();
      span?.setStatus({ code: SPAN_STATUS_OK });
      breadcrumb(request, undefined, started);
      return result;
    } catch (error) {
      const failure = describeFailure(error);
      span?.setStatus({ code: SPAN_STATUS_ERROR, message: failure.status });
      span?.setAttribute("error.type", failure.type);
      breadcrumb(request, failure, started);
      throw error;
    } finally {
      span?.end();
    }
  }

  return {
    name: "sentry",

    beforeRequest(request) {
      if (tracing) propagate(request.header);
    },

    around(request, next) {
      if (!tracing) return run(request, next, undefined);
      const attributes: SpanAttributes = {
        "sentry.origin": SPAN_ORIGIN,
        "rpc.system": RPC_SYSTEM,
        "rpc.method": request.method,
      };
      return Sentry.startSpanManual(spanOptions(request.method, "rpc.client", SPAN_KIND_CLIENT, attributes), (span) => {
        propagate(request.header);
        return run(request, next, span);
      });
    },
  };
}
