// What a call needs from its client, the public CallResult shape, and the pieces of a call's life
// (timeout, deadline, cancel, error mapping) that the engine in call-engine.ts is built from.
// docs/protocol sections 6 and 9.
import { LostRemote, ZrpcExtensions } from "@zrpc/channel";
import type { CancelReason, Channel, Clock } from "@zrpc/channel";
import type { Event } from "@zrpc/wire";
import { CanceledError, RemoteError, TimeoutExpired, appendCallSite } from "./errors.js";
import type { CallSite } from "./errors.js";
import { runAfterReply, runOnRemoteError } from "./middleware.js";
import type { ClientMiddleware, ClientRequest } from "./middleware.js";
import type { CallOptions } from "./options.js";
import { errError } from "./reply.js";

/**
 * What a call needs from its client.
 * @internal
 */
export interface CallHost {
  readonly middleware: readonly ClientMiddleware[];
  /** The client's default first-reply timeout in ms; 0 when off. */
  readonly defaultTimeoutMs: number;
  /** Time source of timeouts. */
  readonly timerClock: Clock;
  /** The zrpc extensions this client uses. */
  readonly extensions: { readonly deadline: boolean; readonly cancel: boolean };
  /** Set once the server announced the cancel extension on any call of this client. */
  serverCancels: boolean;
  /** The endpoints the client connects to, for diagnostics (`undefined` when its transport does not say). */
  endpointName(): string | undefined;
  /** Sends the request and opens its channel; throws when the client is closed or the request cannot be sent. */
  open(request: ClientRequest, extras?: OpenExtras): Channel;
}

/**
 * What a call adds to its request beyond the middleware-visible header.
 * @internal
 */
export interface OpenExtras {
  /** `zrpc_deadline` to send: Unix epoch ms. */
  readonly deadline?: number;
}

/**
 * The result of {@link Client.invoke} (and of untyped proxy calls): the request is already sent.
 * It is both a `Promise` and an `AsyncIterable`, so the caller need not know whether the server
 * answers with one value or a stream:
 *
 * - `await result` gives the value of an `OK` reply, or an array of all items when the server
 *   streamed (`STREAM`... `STREAM_DONE`);
 * - `for await (const item of result)` gives each streamed item, or the single `OK` value once.
 *
 * Use one or the other. Iterating after awaiting throws a `TypeError`; awaiting a result that is
 * being iterated resolves with `undefined` once the iteration ends. Leaving `for await` early
 * closes the call. A result that is never consumed still settles a unary call, but a stream
 * left unread keeps its call open (the server waits for credit) until the client closes.
 */
export interface CallResult<T = unknown, TItem = unknown> extends Promise<T>, AsyncIterable<TItem> {}

/** Longest delay `setTimeout` honours; longer ones fire at once, so they count as no timeout. */
export const MAX_TIMER_MS = 2_147_483_647;

/** The effective first-reply timeout: per-call option, else the client default; 0 = none. */
export function effectiveTimeout(options: CallOptions, fallback: number): number {
  const ms = options.timeoutMs ?? fallback;
  return ms > 0 && ms <= MAX_TIMER_MS ? ms : 0;
}

/** The explicit `deadline` call option as epoch ms, or `undefined`; a `RangeError` for junk. */
export function explicitDeadline(options: CallOptions): number | undefined {
  const { deadline } = options;
  if (deadline === undefined) return undefined;
  const ms = deadline instanceof Date ? deadline.getTime() : deadline;
  if (typeof ms !== "number" || !Number.isFinite(ms)) throw new RangeError(`deadline must be a Date or epoch milliseconds, got ${String(deadline)}`);
  return ms;
}

/**
 * Throws a `CanceledError` when the call's `signal` has aborted already.
 * @internal
 */
export function throwIfCallAborted(request: ClientRequest): void {
  const signal = request.options.signal;
  if (signal?.aborted === true) throw new CanceledError(request.method, { cause: signal.reason });
}

/**
 * A `TimeoutExpired` with the call site, after the `afterReply` hooks (a hook may replace it).
 * @internal
 */
export function timeoutErrorOf(host: CallHost, request: ClientRequest, site: CallSite | undefined, timeoutMs: number): unknown {
  let error: unknown = new TimeoutExpired(request.method, timeoutMs);
  appendCallSite(error as Error, site);
  try {
    runAfterReply(host.middleware, request, undefined, error);
  } catch (hookError) {
    error = hookError;
  }
  return error;
}

/**
 * zrpc cancel extension: tells the server to stop, when this client uses the extension and the
 * server announced it (on this call, or on an earlier one of this client). A zerorpc-python
 * server never announces it, so it never gets the event (docs/protocol/README.md).
 * @internal
 */
export function cancelRemoteCall(host: CallHost, channel: Channel | undefined, reason: CancelReason): void {
  if (!host.extensions.cancel || channel === undefined || !channel.isOpen) return;
  if (channel.remoteCaps?.includes(ZrpcExtensions.cancelCap) === true) host.serverCancels = true;
  if (host.serverCancels) channel.sendCancel(reason);
}

/**
 * The error an `ERR` raises: a middleware's replacement, or the `RemoteError` (with the call site).
 * @internal
 */
export function remoteErrorOf(host: CallHost, request: ClientRequest, site: CallSite | undefined, event: Event): unknown {
  let error: unknown;
  try {
    error = runOnRemoteError(host.middleware, request, event) ?? errError(event);
  } catch (hookError) {
    error = hookError;
  }
  if (error instanceof RemoteError) appendCallSite(error, site);
  return error;
}

/**
 * A channel-end error as the caller sees it: a `LostRemote` says whether retrying is safe, which
 * it is only if the server never answered (docs/protocol section 7).
 * @internal
 */
export function lostRemoteOf(error: unknown, gotReply: boolean): unknown {
  if (LostRemote.isInstance(error) && !Object.hasOwn(error, "isRetryable")) {
    Object.defineProperty(error, "isRetryable", { value: !gotReply, configurable: true });
  }
  return error;
}
