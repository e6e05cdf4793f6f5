// The server middleware: one Sentry isolation scope and (when tracing) one `rpc.server` span per
// call; unexpected handler errors become events, lost clients and timeouts breadcrumbs.
import * as Sentry from "@sentry/node";
import type { NodeClient, Scope, Span } from "@sentry/node";
import {
  BAGGAGE_KEY,
  RPC_SYSTEM,
  SENTRY_TRACE_KEY,
  SPAN_KIND_SERVER,
  SPAN_ORIGIN,
  SPAN_STATUS_ERROR,
  SPAN_STATUS_OK,
  addBreadcrumbTo,
  hasClient,
  inScope,
  setupSdk,
  spanOptions,
} from "./sdk.js";
import type { SentrySetupOptions, SpanAttributes } from "./sdk.js";
import { messageIdText, peerText, summarizeArgs } from "./summarize.js";
import type { ArgsSummaryOptions } from "./summarize.js";

/**
 * What the server middleware reads of a call: a structural subset of `@zrpc/server`'s
 * `CallContext` (which is what the hooks receive at run time), so this package needs nothing from
 * `@zrpc/server` but its hook shapes.
 */
export interface SentryServerCall {
  /** The method called. */
  readonly method: string;
  /** The positional arguments. */
  readonly args: readonly unknown[];
  /** The request header, with any extra keys (`sentry-trace`, `baggage`). */
  readonly header: Readonly<Record<string, unknown>>;
  /** The client: its ZeroMQ routing frames and a transport key. */
  readonly peer: { readonly key: string; readonly envelope: readonly Uint8Array[] };
  /** The request's `message_id` (bin, str or int). */
  readonly requestId: unknown;
  /** The request's `v`. */
  readonly remoteVersion?: number | undefined;
  /** The service name. */
  readonly serverName: string;
  /** True for `_zerorpc_*` methods. */
  readonly introspection: boolean;
  /** Per-call scratch space for middleware. */
  readonly locals: Map<string | symbol, unknown>;
}

/**
 * How a call ended, as `onEnd` receives it: a structural supertype of `@zrpc/server`'s
 * `CallOutcome` (`ok`, `error`, `stream-done`, `lost-remote`, `canceled`, `timed-out`,
 * `shutdown`); unknown kinds are ignored.
 */
export interface SentryCallOutcome {
  readonly kind: string;
  readonly error?: unknown;
  readonly items?: number;
  readonly reason?: unknown;
}

/** An error class, or an error name such as `"ValueError"`, to treat as expected. */
export type ExpectedError = string | (abstract new (...args: never[]) => unknown);

/** Options of {@link sentryServerMiddleware}. */
export interface SentryServerOptions extends SentrySetupOptions {
  /**
   * Errors that are part of the service's contract (business errors such as a `ValueError` for
   * bad input): classes (matched with `instanceof`) or names (matched against `pythonName`, then
   * `name`, so `"ValueError"` matches `raise("ValueError", ...)`). They are not reported. Default:
   * none.
   */
  readonly expected?: readonly ExpectedError[];
  /**
   * Returns true for an error that should not be reported; checked along with `expected`. A
   * predicate that throws counts as false (the error is reported rather than hidden).
   */
  readonly isExpected?: (error: unknown, call: SentryServerCall) => boolean;
  /**
   * Report a lost client (no heartbeat for two intervals while the call ran) as a warning event.
   * Default false: a breadcrumb on the scope the server runs in, seen on later events.
   */
  readonly reportLostRemote?: boolean;
  /** Report a call that hit its deadline as a warning event. Default false: a breadcrumb. */
  readonly reportTimeouts?: boolean;
  /**
   * Put a summary of the arguments in the event's `zerorpc` context. Default true. The summary
   * is bounded by `args`, and `scrub` runs first.
   */
  readonly captureArgs?: boolean;
  /** Limits of the argument summary (string length, items, depth, total bytes, redacted keys). */
  readonly args?: ArgsSummaryOptions;
  /**
   * Replaces secrets before the arguments are summarised: return the arguments to report (e.g.
   * with a password replaced by `"[Filtered]"`). Runs only when an event is sent. If it throws,
   * no argument is reported.
   */
  readonly scrub?: (args: readonly unknown[], call: SentryServerCall) => readonly unknown[];
  /** Also handle zerorpc's built-in `_zerorpc_*` methods (pings, introspection). Default false. */
  readonly includeIntrospection?: boolean;
}

/**
 * The server middleware {@link sentryServerMiddleware} returns. Its hooks have the shapes of
 * `@zrpc/server`'s `ServerMiddleware`, so it goes into `createServer(service, { middleware })`.
 */
export interface SentryServerMiddleware {
  readonly name: string;
  /** Opens the call's isolation scope and span. */
  beforeCall(call: SentryServerCall): void;
  /** Runs the handler inside the call's isolation scope, with its span active. */
  around(call: SentryServerCall, next: () => Promise<unknown>): Promise<unknown>;
  /** Reports (or breadcrumbs) the outcome, sets the span status and ends the span. */
  onEnd(call: SentryServerCall, outcome: SentryCallOutcome): void;
  /**
   * Waits (up to `timeoutMs`, default 2000) until the events and spans reported so far have been
   * sent: `Sentry.flush`, or the explicit client's `flush`. Call it after the server has closed,
   * before the process exits (`zrpc run` calls it by itself). It does not shut the SDK down.
   */
  close(timeoutMs?: number): Promise<void>;
}

/** Per-call state, in `call.locals`. */
interface CallState {
  /** The isolation scope the call was forked from: breadcrumbs that should outlive the call. */
  readonly parent: Scope;
  /** The call's own isolation scope. */
  readonly isolation: Scope;
  readonly span: Span | undefined;
  /** The call's tags (also set on every event it reports, see `report`). */
  readonly tags: Readonly<Record<string, string>>;
  readonly peer: string | undefined;
  readonly messageId: string;
}

const STATE = Symbol("zrpc.middleware-sentry.server");
const SKIPPED = Symbol("zrpc.middleware-sentry.skipped");

function headerText(header: Readonly<Record<string, unknown>>, key: string): string | undefined {
  const value = header[key];
  if (typeof value === "string") return value;
  // A peer that packs str as bin (old msgpack settings) sends the same text as bytes.
  if (value instanceof Uint8Array) return Buffer.from(value).toString("utf8");
  return undefined;
}

/** The exception name a zerorpc client sees: `pythonName`, else `name`. */
function errorName(error: unknown): string | undefined {
  if ((typeof error !== "object" && typeof error !== "function") || error === null) return undefined;
  const fields = error as { pythonName?: unknown; name?: unknown };
  if (typeof fields.pythonName === "string" && fields.pythonName !== "") return fields.pythonName;
  return typeof fields.name === "string" && fields.name !== "" ? fields.name : undefined;
}

/**
 * A server middleware that reports to Sentry (`@sentry/node` 10 or 11). Per call it forks an
 * isolation scope tagged `rpc.system` (`zerorpc`), `rpc.method`, `rpc.service` (the server name)
 * and `net.peer` (the hex routing id), so tags set by concurrent calls, and by handlers through
 * `Sentry.setTag`, never mix. It reports:
 *
 * - an error a call failed with (thrown by the handler, a hook, the lookup or the encoding) as an
 *   event with a `zerorpc` context (message id, a size-capped, scrubbed argument summary), unless
 *   it is expected (`expected`, `isExpected`);
 * - a lost client, a timeout, a cancellation or a shutdown as a breadcrumb on the scope the
 *   server runs in (seen on later events), or as an event with `reportLostRemote` /
 *   `reportTimeouts`;
 * - with tracing, an `rpc.server` span per call (for a stream, the whole stream), continuing the
 *   trace of the request's `sentry-trace` / `baggage` header keys, with a status from the outcome.
 *
 * ```ts
 * createServer(methods, { name: "calc", middleware: [sentryServerMiddleware({ dsn, expected: ["ValueError"] })] });
 * ```
 */
export function sentryServerMiddleware(options: SentryServerOptions = {}): SentryServerMiddleware {
  setupSdk(options);
  const client: NodeClient | undefined = options.client;
  const expected = options.expected ?? [];

  function isExpected(error: unknown, call: SentryServerCall): boolean {
    if (options.isExpected !== undefined) {
      try {
        if (options.isExpected(error, call)) return true;
      } catch {
        // A broken predicate must not hide errors: report.
      }
    }
    const name = errorName(error);
    return expected.some((entry) => {
      if (typeof entry === "string") return entry === name;
      try {
        return error instanceof entry;
      } catch {
        return false;
      }
    });
  }

  function open(call: SentryServerCall): CallState {
    const parent = Sentry.getIsolationScope();
    const isolation = parent.clone();
    const peer = peerText(call.peer);
    const tags: Record<string, string> = {
      "rpc.system": RPC_SYSTEM,
      "rpc.method": call.method,
      "rpc.service": call.serverName,
    };
    if (peer !== undefined) tags["net.peer"] = peer;
    isolation.setTags(tags);
    isolation.setTransactionName(call.method);
    const messageId = messageIdText(call.requestId);
    let span: Span | undefined;
    if (options.tracing !== false) {
      const attributes: SpanAttributes = {
        "sentry.origin": SPAN_ORIGIN,
        "rpc.system": RPC_SYSTEM,
        "rpc.method": call.method,
        "rpc.service": call.serverName,
        "zerorpc.message_id": messageId,
      };
      if (peer !== undefined) attributes["net.peer"] = peer;
      const start = (): Span =>
        Sentry.startInactiveSpan(spanOptions(call.method, "rpc.server", SPAN_KIND_SERVER, attributes));
      const sentryTrace = headerText(call.header, SENTRY_TRACE_KEY);
      const baggage = headerText(call.header, BAGGAGE_KEY);
      // No active span: the call is a root in this process (not a child of whatever context the
      // server was started in), continuing the caller's trace if the request carries one; without
      // one, continueTrace starts a new trace for the call.
      span = Sentry.withIsolationScope(isolation, () =>
        Sentry.withActiveSpan(null, () => Sentry.continueTrace({ sentryTrace, baggage }, start)),
      );
    }
    return { parent, isolation, span, tags, peer, messageId };
  }

  /** The call's state, opened by the first hook that sees the call; undefined when skipped. */
  function stateOf(call: SentryServerCall): CallState | undefined {
    const existing = call.locals.get(STATE);
    if (existing !== undefined) return existing === SKIPPED ? undefined : (existing as CallState);
    const skip = (call.introspection && options.includeIntrospection !== true) || !hasClient(client);
    const state = skip ? undefined : open(call);
    call.locals.set(STATE, state ?? SKIPPED);
    return state;
  }

  /** The `zerorpc` event context. Built only when an event is sent: summarising costs. */
  function callContext(call: SentryServerCall, state: CallState, outcome: SentryCallOutcome): Record<string, unknown> {
    const context: Record<string, unknown> = {
      message_id: state.messageId,
      method: call.method,
      service: call.serverName,
      outcome: outcome.kind,
    };
    if (state.peer !== undefined) context.peer = state.peer;
    if (call.remoteVersion !== undefined) context.protocol_version = call.remoteVersion;
    if (options.captureArgs !== false) {
      let args: readonly unknown[] | undefined = call.args;
      if (options.scrub !== undefined) {
        try {
          args = options.scrub(call.args, call);
        } catch {
          // Fail closed: a scrubber that breaks must not let the secrets through.
          args = undefined;
          context.args = "[scrub failed]";
        }
      }
      if (args !== undefined) Object.assign(context, summarizeArgs(args, options.args));
    }
    return context;
  }

  function report(call: SentryServerCall, state: CallState, outcome: SentryCallOutcome, level: "error" | "warning"): void {
    inScope(state.isolation, state.span, client, (scope) => {
      // Also on the event's own scope: without the SDK's async context (an explicit `client` and
      // no Sentry.init), withIsolationScope cannot install the call's isolation scope.
      scope.setTags(state.tags);
      scope.setTransactionName(call.method);
      scope.setContext("zerorpc", callContext(call, state, outcome));
      scope.setTag("zerorpc.outcome", outcome.kind);
      scope.setLevel(level);
      if (outcome.error !== undefined) {
        Sentry.captureException(outcome.error, { mechanism: { type: `${SPAN_ORIGIN}.server`, handled: false } });
      } else {
        Sentry.captureMessage(`zerorpc call ${call.method} ${outcome.kind}`);
      }
    });
  }

  function breadcrumb(call: SentryServerCall, state: CallState, outcome: SentryCallOutcome): void {
    const data: Record<string, unknown> = {
      "rpc.method": call.method,
      "rpc.service": call.serverName,
      message_id: state.messageId,
    };
    if (state.peer !== undefined) data["net.peer"] = state.peer;
    // On the scope the server runs in: the call's own scope ends with the call, and the point is
    // to see the loss on the events that come after it.
    addBreadcrumbTo(state.parent, client, {
      type: "default",
      category: "zerorpc.server",
      level: outcome.kind === "shutdown" ? "info" : "warning",
      message: `${call.method}: ${outcome.kind}`,
      data,
    });
  }

  return {
    name: "sentry",

    beforeCall(call) {
      stateOf(call);
    },

    around(call, next) {
      const state = stateOf(call);
      if (state === undefined) return next();
      const { span } = state;
      return Sentry.withIsolationScope(state.isolation, () =>
        span === undefined ? next() : Sentry.withActiveSpan(span, () => next()),
      );
    },

    onEnd(call, outcome) {
      const state = stateOf(call);
      if (state === undefined) return;
      const span = state.span;
      switch (outcome.kind) {
        case "ok":
          span?.setStatus({ code: SPAN_STATUS_OK });
          break;
        case "stream-done":
          span?.setStatus({ code: SPAN_STATUS_OK });
          if (outcome.items !== undefined) span?.setAttribute("zerorpc.stream.items", outcome.items);
          break;
        case "error": {
          const name = errorName(outcome.error);
          if (name !== undefined) span?.setAttribute("error.type", name);
          if (isExpected(outcome.error, call)) {
            // A business error is the client's problem, not a server failure: like OpenTelemetry's
            // RPC conventions for client-caused codes, the span status stays unset.
            span?.setAttribute("zerorpc.expected_error", true);
          } else {
            span?.setStatus({ code: SPAN_STATUS_ERROR, message: "internal_error" });
            report(call, state, outcome, "error");
          }
          break;
        }
        case "lost-remote":
          span?.setStatus({ code: SPAN_STATUS_ERROR, message: "cancelled" });
          if (options.reportLostRemote === true) report(call, state, outcome, "warning");
          else breadcrumb(call, state, outcome);
          break;
        case "timed-out":
          span?.setStatus({ code: SPAN_STATUS_ERROR, message: "deadline_exceeded" });
          if (options.reportTimeouts === true) report(call, state, outcome, "warning");
          else breadcrumb(call, state, outcome);
          break;
        case "canceled":
        case "cancelled": // the same outcome from @zrpc/server before it spelled it "canceled"
          // "cancelled" is Sentry's span status name.
          span?.setStatus({ code: SPAN_STATUS_ERROR, message: "cancelled" });
          breadcrumb(call, state, outcome);
          break;
        case "shutdown":
          span?.setStatus({ code: SPAN_STATUS_ERROR, message: "unavailable" });
          breadcrumb(call, state, outcome);
          break;
        default:
          break;
      }
      span?.setAttribute("zerorpc.outcome", outcome.kind);
      span?.end();
    },

    async close(timeoutMs = 2000) {
      await (client === undefined ? Sentry.flush(timeoutMs) : client.flush(timeoutMs));
    },
  };
}
