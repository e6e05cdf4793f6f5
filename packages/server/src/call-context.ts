// What a handler and the middleware know about the call being served, and how deep code finds it.
import { AsyncLocalStorage } from "node:async_hooks";
import type { Peer } from "@zrpc/channel";
import type { MessageId, WireHeader } from "@zrpc/wire";
import { processWide } from "./process-wide.js";
import type { MethodSpec } from "./registry.js";

/**
 * One call being served. Registry handlers get it as `this`; object-service handlers and any code
 * they call can get it with {@link getCallContext}; every middleware hook gets it as its first
 * argument.
 */
export interface CallContext {
  /** The method name the client called (the request event's name). */
  readonly method: string;
  /**
   * The positional arguments as the handler receives them. A request whose args were a map passes
   * its keys, a str its characters, a bin its byte values (zerorpc-python calls `method(*args)`);
   * for nil or another scalar this is `[]` and the call fails with `TypeError`.
   */
  readonly args: readonly unknown[];
  /**
   * The request's header: `message_id`, `v`, and any extra keys the client sent (task context,
   * e.g. tracing ids; docs/protocol section 11).
   */
  readonly header: Readonly<WireHeader>;
  /** The client (for ZeroMQ: its routing envelope and a key that identifies it). */
  readonly peer: Peer;
  /** The request's `message_id`, with its msgpack type: the id of the call's channel. */
  readonly requestId: MessageId;
  /** The request's `v`, or `undefined` when it had none (a protocol v1 peer). */
  readonly remoteVersion: number | undefined;
  /**
   * Aborts when the call should stop: the client was lost (no heartbeat for two intervals: a
   * `LostRemote` reason), the client's deadline passed before the first reply (`DeadlineExceeded`),
   * the client canceled the call (`CallCanceled`; both through zrpc's extensions, see
   * docs/protocol/README.md), the server gave up on it while closing (`ShutdownError`), or the
   * call ended (its reply was sent: a `ChannelClosedError` reason).
   */
  readonly signal: AbortSignal;
  /**
   * The client's deadline for the first reply, Unix epoch milliseconds (the request's
   * `zrpc_deadline`, sent by zrpc clients with the deadline extension), or `undefined` when the
   * client sent none (zerorpc-python never does) or the server ignores deadlines. When it passes
   * before the first reply, `signal` aborts with a `DeadlineExceeded` and nothing is sent. Pass
   * the remaining time on to calls this handler makes (`{ deadline: call.deadline }`).
   */
  readonly deadline: number | undefined;
  /**
   * Milliseconds left until {@link deadline} (0 once it passed), or `Infinity` without one.
   * Read against the server's clock.
   */
  remainingMs(): number;
  /** The service name (as `_zerorpc_name` answers). */
  readonly serverName: string;
  /** The method, or `undefined` for an unknown method (the call then fails with `NameError`). */
  readonly spec: MethodSpec | undefined;
  /** True for zerorpc's built-in `_zerorpc_*` methods (middleware may want to skip them). */
  readonly introspection: boolean;
  /** Scratch space for middleware, per call (use symbols as keys to avoid clashes). */
  readonly locals: Map<string | symbol, unknown>;
}

/**
 * @internal The storage that `getCallContext` reads. One per process, shared by every loaded copy
 * of this package (on `globalThis` under `Symbol.for("zrpc.server.callContextStorage")`), so a
 * handler loaded as CommonJS sees the calls of a server made with the ESM build, and the other way
 * round.
 */
export const callContextStorage: AsyncLocalStorage<CallContext> = processWide(
  "zrpc.server.callContextStorage",
  () => new AsyncLocalStorage<CallContext>(),
  (value): value is AsyncLocalStorage<CallContext> => value instanceof AsyncLocalStorage,
);

/**
 * The {@link CallContext} of the call whose handler (or middleware) is running, found through
 * `AsyncLocalStorage`, so it works from any depth of nested sync or async code; `undefined`
 * outside a call or when the server runs with `asyncContext: false`.
 */
export function getCallContext(): CallContext | undefined {
  return callContextStorage.getStore();
}
