// Server middleware: hooks around every call, the zrpc counterpart of zerorpc-python's
// `server_before_exec` / `server_after_exec` / `server_inspect_exception` / `get_task_context`
// (docs/protocol section 11), plus `around` (for transactions and tracing spans) and an exactly-once
// `onEnd`.
import type { CallContext } from "./call-context.js";

/**
 * The `ERR` reply about to be sent, as `inspectError` sees it: `[name, message, traceback]` on the
 * wire (`[repr]` for a v1 peer, built from `name` and `message`). A hook may change any field.
 */
export interface ErrorReply {
  /** The exception class name, e.g. `"ValueError"`. */
  name: string;
  /** The message. */
  message: string;
  /** The traceback text (the JavaScript stack, or `""` when tracebacks are off). */
  traceback: string;
}

/**
 * How a call ended; `onEnd` receives exactly one per call:
 * - `ok`: `OK [result]` was sent;
 * - `error`: `ERR` was sent (the handler, a middleware hook, the method lookup or the encoding of
 *   the result failed);
 * - `stream-done`: `STREAM_DONE` was sent after `items` `STREAM` events;
 * - `lost-remote`: the client stopped heartbeating (or broke flow control); nothing more is sent;
 * - `canceled`: the client canceled the call (zrpc's `_zrpc_cancel` extension); `reason` is the
 *   `CallCanceled` the signal aborted with; nothing more is sent;
 * - `timed-out`: the client's deadline (`zrpc_deadline`) passed before the first reply, on arrival
 *   (the handler never ran), while waiting for a slot or while running, or the client canceled
 *   because its timeout expired; nothing is sent;
 * - `shutdown`: the server (or its transport) closed before the call finished; nothing is sent.
 */
export type CallOutcome =
  | { readonly kind: "ok"; readonly result: unknown }
  | { readonly kind: "error"; readonly error: unknown }
  | { readonly kind: "stream-done"; readonly items: number }
  | { readonly kind: "lost-remote"; readonly error: Error }
  | { readonly kind: "canceled"; readonly reason?: unknown }
  | { readonly kind: "timed-out" }
  | { readonly kind: "shutdown" };

/**
 * A server middleware: an object with any of these hooks. Middleware run in the order they are
 * given in `ServerOptions.middleware`, for every hook: `beforeCall` first to last, `around`
 * nested with the first outermost, then `afterCall`, `inspectError`, `taskContext` and `onEnd`
 * first to last as well.
 *
 * The sequence of one call is: lookup; `beforeCall`s; `around`s wrapping the handler (for a
 * stream: the whole iteration); `afterCall`s; the reply (`OK`, or `STREAM_DONE` after the items);
 * `onEnd`s. When anything throws, the remaining steps are skipped, `inspectError`s run and `ERR`
 * goes out, then `onEnd`s. An unknown method skips straight to `inspectError` (zerorpc-python runs
 * `server_before_exec` only after a successful lookup). The built-in `_zerorpc_*` methods go
 * through the same sequence (`call.introspection` tells them apart).
 *
 * A hook that throws never crashes the server: in `beforeCall`, `around` and `afterCall` it fails
 * the call (`ERR`); in `inspectError`, `taskContext` and `onEnd` it is logged and ignored.
 */
export interface ServerMiddleware {
  /** Shown in log messages about this middleware. */
  readonly name?: string;
  /** Before the handler. Throwing answers `ERR` with that error; the handler does not run. */
  beforeCall?(call: CallContext): void | Promise<void>;
  /**
   * Wraps the handler: call `next()` to run it (and the inner middleware); it resolves with the
   * result (`undefined` for a stream, once every item was sent) and rejects with the handler's
   * error, or with the `call.signal` reason when the call is aborted (lost client, shutdown) even
   * if the handler never settles. What `around` resolves with becomes the result; what it throws
   * becomes the `ERR`. For database transactions, tracing spans, timing.
   */
  around?(call: CallContext, next: () => Promise<unknown>): Promise<unknown>;
  /**
   * After a successful call, before the reply is sent: with the result, or `undefined` for a
   * stream (once, before `STREAM_DONE`). Throwing answers `ERR` instead.
   */
  afterCall?(call: CallContext, result: unknown): void | Promise<void>;
  /**
   * The call failed and `reply` is about to be sent as `ERR`; the hook may change it (to hide
   * internals, map error names, drop the traceback). Not called for a lost client or shutdown.
   */
  inspectError?(call: CallContext, error: unknown, reply: ErrorReply): void;
  /**
   * Extra header keys for every reply event of the call (`OK`, `ERR`, each `STREAM`,
   * `STREAM_DONE`; not `_zpc_hb` / `_zpc_more`), e.g. tracing ids. Asked once per call, when the
   * first reply is built; results of all middleware are merged in order. `message_id`, `v` and
   * `response_to` cannot be overridden.
   */
  taskContext?(call: CallContext): Record<string, unknown> | undefined;
  /**
   * Exactly once per call, after its reply was sent or after it was abandoned, whatever happened
   * (see {@link CallOutcome}). Errors are logged and ignored.
   */
  onEnd?(call: CallContext, outcome: CallOutcome): void | Promise<void>;
}

/**
 * Runs `inner` wrapped by the `around` hooks, the first middleware outermost. `next` may be called
 * more than once; the inner chain then runs only once and every call gets the same promise.
 * @internal
 */
export function composeAround(
  middleware: readonly ServerMiddleware[],
  call: CallContext,
  inner: () => Promise<unknown>,
): Promise<unknown> {
  // async: a hook that throws synchronously rejects like one that rejects.
  const run = async (index: number): Promise<unknown> => {
    for (let i = index; i < middleware.length; i++) {
      const hook = middleware[i]!;
      if (hook.around === undefined) continue;
      let started: Promise<unknown> | undefined;
      const next = (): Promise<unknown> => (started ??= run(i + 1));
      return hook.around(call, next);
    }
    return inner();
  };
  return run(0);
}
