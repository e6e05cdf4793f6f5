import type { Event } from "@zrpc/wire";
import type { CallOptions } from "./call-options.js";

/**
 * One outgoing call as middlewares see it. `header` is mutable: keys added there (in `around`
 * before calling `next`, or in `beforeRequest`) travel in the request header, after `message_id`
 * and `v`, as zerorpc-python's `get_task_context` keys do.
 */
export interface ClientRequest {
  /** The remote method name. */
  readonly method: string;
  /** The positional arguments. */
  readonly args: readonly unknown[];
  /** Extra header keys of the request event (task context). `message_id`, `v` and `response_to` are reserved. */
  readonly header: Record<string, unknown>;
  /** The call's options. */
  readonly options: CallOptions;
}

/**
 * Hooks around the client's calls, matching zerorpc-python's client hooks (docs/protocol section
 * 11) in a TypeScript shape. Every hook is optional; several middlewares run in registration order.
 * A hook that throws fails the call with what it threw.
 */
export interface ClientMiddleware {
  /** A label for diagnostics. */
  readonly name?: string;
  /**
   * Right before the request is sent (Python's `client_before_request` plus `get_task_context`):
   * may add header keys to `request.header` for task-context propagation (tracing ids). Also runs
   * for one-way senders (`Pusher`, `Publisher`).
   */
  beforeRequest?(request: ClientRequest): void;
  /**
   * After the call is answered (Python's `client_after_request`): on `OK` (`error` undefined);
   * on `ERR` with the error about to be thrown; on a malformed `OK` with the `ProtocolError`;
   * on timeout with `reply` undefined and the `TimeoutExpired`. For a stream once, at
   * `STREAM_DONE` or `ERR`, never per item. Not called when a stream is abandoned, the call is
   * canceled, or the server is lost.
   */
  afterReply?(request: ClientRequest, reply: Event | undefined, error?: unknown): void;
  /**
   * On every `ERR` received (Python's `client_handle_remote_error`): return an `Error` to throw
   * instead of the default `RemoteError`, or `undefined` to keep it. The last non-undefined
   * result wins.
   */
  onRemoteError?(request: ClientRequest, errEvent: Event): Error | undefined;
  /**
   * Wraps a whole call (tracing spans, metrics). `next()` runs the inner middlewares, sends the
   * request and settles when the call is over: with the result for a unary reply (or the array of
   * items when a streamed reply is awaited), with `undefined` when a stream read with `for await`
   * ends or is abandoned, and rejects with the call's error. What `around` resolves with is what
   * an awaiting caller gets; for a stream being iterated it is ignored. Call `next()` exactly once.
   */
  around?(request: ClientRequest, next: () => Promise<unknown>): Promise<unknown>;
}

/** Header keys the protocol owns; middlewares and call options cannot set them. */
const RESERVED_HEADER_KEYS: ReadonlySet<string> = new Set(["message_id", "v", "response_to"]);

/**
 * Copies `header` without the reserved keys (`message_id`, `v`, `response_to`), into `target`.
 * @internal
 */
export function copyHeader(target: Record<string, unknown>, header: Readonly<Record<string, unknown>> | undefined): void {
  if (header === undefined) return;
  for (const key of Object.keys(header)) {
    if (!RESERVED_HEADER_KEYS.has(key)) defineKey(target, key, header[key]);
  }
}

/**
 * Adds `key` as an own data property. Assigning would run the `"__proto__"` setter (changing the
 * target's prototype and losing the key); a header may carry that key, as any msgpack map may.
 */
function defineKey(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
}

/**
 * Copies every own enumerable key of `source` onto `target` as own data properties (see
 * {@link defineKey}), `"__proto__"` included.
 * @internal
 */
export function defineOwnKeys(target: Record<string, unknown>, source: Readonly<Record<string, unknown>>): void {
  for (const key of Object.keys(source)) defineKey(target, key, source[key]);
}

/**
 * The request header as it will be sent: `request.header` without reserved keys, or `undefined`
 * when empty.
 * @internal
 */
export function outgoingHeader(request: ClientRequest): Record<string, unknown> | undefined {
  const header: Record<string, unknown> = {};
  copyHeader(header, request.header);
  for (const _ in header) return header;
  return undefined;
}

/**
 * Runs every `beforeRequest` hook in order.
 * @internal
 */
export function runBeforeRequest(middlewares: readonly ClientMiddleware[], request: ClientRequest): void {
  for (const middleware of middlewares) middleware.beforeRequest?.(request);
}

/**
 * Runs every `afterReply` hook in order.
 * @internal
 */
export function runAfterReply(
  middlewares: readonly ClientMiddleware[],
  request: ClientRequest,
  reply: Event | undefined,
  error?: unknown,
): void {
  for (const middleware of middlewares) {
    if (middleware.afterReply === undefined) continue;
    if (error === undefined) middleware.afterReply(request, reply);
    else middleware.afterReply(request, reply, error);
  }
}

/**
 * Runs every `onRemoteError` hook in order; returns the last non-undefined result.
 * @internal
 */
export function runOnRemoteError(
  middlewares: readonly ClientMiddleware[],
  request: ClientRequest,
  errEvent: Event,
): Error | undefined {
  let replaced: Error | undefined;
  for (const middleware of middlewares) {
    const result = middleware.onRemoteError?.(request, errEvent);
    if (result !== undefined) replaced = result;
  }
  return replaced;
}

/**
 * Runs `inner` inside every middleware's `around`, the first middleware outermost.
 * @internal
 */
export function runAround(
  middlewares: readonly ClientMiddleware[],
  request: ClientRequest,
  inner: () => Promise<unknown>,
): Promise<unknown> {
  let next = inner;
  for (let i = middlewares.length - 1; i >= 0; i--) {
    const middleware = middlewares[i]!;
    if (middleware.around === undefined) continue;
    const wrapped = next;
    next = () => middleware.around!(request, wrapped);
  }
  // An async wrapper turns a synchronous throw of a hook into a rejection.
  const outermost = next;
  return (async () => outermost())();
}
