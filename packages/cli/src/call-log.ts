// The request log of `zrpc run`, like the one Django's runserver prints: one line per call on
// stderr with its outcome and duration, and the stack of unexpected errors.
import { ServiceError } from "@zrpc/server";
import type { CallContext, CallOutcome, ServerMiddleware } from "@zrpc/server";

const STARTED = Symbol("zrpc.cli.callStarted");

/** Options of {@link createCallLog}. */
export interface CallLogOptions {
  /** Receives each line (without newline). */
  readonly write: (line: string) => void;
  /** Log zerorpc's `_zerorpc_*` introspection calls too. Default false. */
  readonly introspection?: boolean;
  /** Clock in ms, for durations (tests). Default `performance.now`. */
  readonly now?: () => number;
}

function time(): string {
  return new Date().toTimeString().slice(0, 8);
}

function duration(ms: number): string {
  return ms < 10 ? `${ms.toFixed(1)}ms` : `${Math.round(ms)}ms`;
}

function errorText(error: unknown): { line: string; stack: string | undefined } {
  if (!(error instanceof Error)) return { line: `Error: ${String(error)}`, stack: undefined };
  const pythonName = (error as { pythonName?: unknown }).pythonName;
  const line = `${typeof pythonName === "string" ? pythonName : error.name}: ${error.message}`;
  const stack = error.stack;
  // A ServiceError is a deliberate answer (raise("ValueError", ...), and the server's own NameError
  // and argument-count TypeError): its name and message say it all. Anything else is unexpected:
  // show where it came from.
  return { line, stack: ServiceError.isInstance(error) ? undefined : stack };
}

/**
 * A server middleware that logs every call when it ends:
 * `[14:02:03] get_ticket -> OK (2.1ms)`, `[..] ticket_list -> STREAM 3 items (5ms)`,
 * `[..] boom -> ERR Error: boom (0.3ms)` followed by the stack for errors other than
 * `ServiceError`s (deliberate answers, including the server's unknown-method `NameError` and
 * argument-count `TypeError`).
 */
export function createCallLog(options: CallLogOptions): ServerMiddleware {
  const now = options.now ?? ((): number => performance.now());
  const skip = (call: CallContext): boolean => call.introspection && options.introspection !== true;
  return {
    name: "zrpc-call-log",
    beforeCall(call: CallContext): void {
      call.locals.set(STARTED, now());
    },
    onEnd(call: CallContext, outcome: CallOutcome): void {
      if (skip(call)) return;
      const started = call.locals.get(STARTED);
      const took = typeof started === "number" ? ` (${duration(now() - started)})` : "";
      const head = `[${time()}] ${call.method}`;
      switch (outcome.kind) {
        case "ok":
          options.write(`${head} -> OK${took}`);
          return;
        case "stream-done":
          options.write(`${head} -> STREAM ${outcome.items} item${outcome.items === 1 ? "" : "s"}${took}`);
          return;
        case "error": {
          const { line, stack } = errorText(outcome.error);
          options.write(`${head} -> ERR ${line}${took}`);
          if (stack !== undefined) options.write(stack.split("\n").map((text) => `    ${text.trimStart()}`).slice(1).join("\n"));
          return;
        }
        case "lost-remote":
          options.write(`${head} -> client lost (no heartbeat)${took}`);
          return;
        case "canceled":
          options.write(`${head} -> canceled${took}`);
          return;
        case "timed-out":
          options.write(`${head} -> timed out${took}`);
          return;
        case "shutdown":
          options.write(`${head} -> abandoned at shutdown${took}`);
          return;
      }
    },
  };
}
