// What every call of one server shares: the server's side of a call (lookup, settling, logging)
// and which middleware hooks exist, computed once per server.
import type { Clock } from "@zrpc/channel";
import type { RateLimitedLogger } from "./logger.js";
import type { ServerMiddleware } from "./middleware.js";
import type { MethodSpec } from "./registry.js";

/** @internal What a lookup finds: the method, whether it is built in, and its `this`. */
export interface FoundMethod {
  readonly spec: MethodSpec;
  readonly introspection: boolean;
  readonly thisArg: object | undefined;
}

/**
 * @internal What every call of one server shares. `Call` is the server's call type, which
 * `settled` receives (a type parameter, so this module needs no import of the call classes).
 */
export interface Dispatcher<Call = unknown> {
  readonly serverName: string;
  readonly middleware: readonly ServerMiddleware[];
  readonly tracebacks: boolean;
  readonly asyncContext: boolean;
  readonly log: RateLimitedLogger;
  /** The server's clock: deadlines are compared with `clock.now()` (epoch ms for the real clock). */
  readonly clock: Clock;
  /** Which zrpc extensions the server honours (docs/protocol/README.md, "zrpc extensions"). */
  readonly extensions: { readonly deadline: boolean; readonly cancel: boolean };
  /** Which hooks the middleware has, computed once (the hot path skips what nobody uses). */
  readonly hooks: MiddlewareHooks;
  /** Built-in methods first, then the service's. */
  lookup(name: string): FoundMethod | undefined;
  /** The call reached its outcome (onEnd hooks are starting). */
  settled(call: Call): void;
  /** An onEnd chain is running; the server's close() waits for it. */
  track(hooks: Promise<void>): void;
}

/** @internal Which hooks a server's middleware list has. */
export interface MiddlewareHooks {
  readonly before: boolean;
  readonly around: boolean;
  readonly after: boolean;
  readonly taskContext: boolean;
  readonly inspectError: boolean;
  /** The middleware with an `onEnd` hook, in order. */
  readonly onEnd: readonly ServerMiddleware[];
}

/** @internal */
export function middlewareHooks(middleware: readonly ServerMiddleware[]): MiddlewareHooks {
  return {
    before: middleware.some((hook) => hook.beforeCall !== undefined),
    around: middleware.some((hook) => hook.around !== undefined),
    after: middleware.some((hook) => hook.afterCall !== undefined),
    taskContext: middleware.some((hook) => hook.taskContext !== undefined),
    inspectError: middleware.some((hook) => hook.inspectError !== undefined),
    onEnd: middleware.filter((hook) => hook.onEnd !== undefined),
  };
}

/** @internal The name to show for a failing middleware in logs. */
export function hookName(middleware: ServerMiddleware, index: number): string {
  return middleware.name ?? `middleware #${index}`;
}
