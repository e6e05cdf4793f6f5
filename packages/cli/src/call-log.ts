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
  /**
   * `text` (default): the lines below. `json`: one JSON object per call (see {@link callRecord}).
   */
  readonly format?: "text" | "json";
}

/** The `outcome` of a call record: the server's outcome kind, a finished stream being `ok`. */
export type CallRecordOutcome = "ok" | "error" | "canceled" | "timed-out" | "lost-remote" | "shutdown";

/**
 * The JSON record of one call (`zrpc run --log-format json`): `time` (ISO 8601, when it ended),
 * `event: "call"`, `method`, `peer` (the transport's key of the client connection), `outcome`,
 * `duration_ms`, and `items` for a stream, `error` (the error's name, Python's for a
 * `ServiceError`), `message` and, for unexpected errors, `stack`.
 */
export function callRecord(call: CallContext, outcome: CallOutcome, durationMs: number | undefined): Record<string, unknown> {
  const record: Record<string, unknown> = {
    time: new Date().toISOString(),
    event: "call",
    method: call.method,
    peer: call.peer.key,
    outcome: outcome.kind === "stream-done" ? "ok" : outcome.kind,
    duration_ms: durationMs === undefined ? null : Math.round(durationMs * 1000) / 1000,
  };
  if (outcome.kind === "stream-done") record.items = outcome.items;
  if (outcome.kind === "error") {
    const error = outcome.error;
    const pythonName = (error as { pythonName?: unknown } | null)?.pythonName;
    record.error = typeof pythonName === "string" ? pythonName : error instanceof Error ? error.name : "Error";
    record.message = error instanceof Error ? error.message : String(error);
    const { stack } = errorText(error);
    if (stack !== undefined) record.stack = stack;
  }
  return record;
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
      if (options.format === "json") {
        options.write(JSON.stringify(callRecord(call, outcome, typeof started === "number" ? now() - started : undefined)));
        return;
      }
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
