// The state of one call on the answering side and how it answers: the request's arguments and
// method, the call context, the reply events (OK / ERR / STREAM_DONE, with the task context of
// the middleware) and the one outcome (docs/protocol section 6). Below: call-abort.ts; above:
// call-stream.ts and server-call.ts.
import { ChannelClosedError } from "@zrpc/channel";
import type { Channel } from "@zrpc/channel";
import { EncodeError, EventNames } from "@zrpc/wire";
import type { Event } from "@zrpc/wire";
import { AbortableCall } from "./call-abort.js";
import { callContextStorage } from "./call-context.js";
import type { CallContext } from "./call-context.js";
import { publishCallEnd } from "./diagnostics.js";
import type { ServerCallRecord } from "./diagnostics.js";
import { hookName } from "./dispatcher.js";
import type { Dispatcher } from "./dispatcher.js";
import { ServiceError } from "./errors.js";
import type { CallOutcome, ErrorReply } from "./middleware.js";
import { pythonExceptionRepr, pythonTypeName } from "./python.js";
import { ServerCallContext } from "./server-call-context.js";

/** Header keys a task context may not override. */
const RESERVED_HEADER_KEYS = new Set(["message_id", "v", "response_to"]);

/**
 * The positional arguments from a request's args: zerorpc-python calls `method(*args)`, so an
 * array is used as is and any other iterable is expanded (a map gives its keys, a str its
 * characters, a bin its byte values); nil and scalars fail with TypeError (docs/protocol §4.3).
 */
function positionalArgs(method: string, raw: unknown): { args: readonly unknown[]; error?: ServiceError } {
  if (Array.isArray(raw)) return { args: raw };
  if (typeof raw === "string") return { args: [...raw] };
  if (raw instanceof Uint8Array) return { args: Array.from(raw) };
  if (raw instanceof Map) return { args: [...(raw as Map<unknown, unknown>).keys()] };
  if (typeof raw === "object" && raw !== null) {
    const proto = Object.getPrototypeOf(raw) as unknown;
    if (proto === Object.prototype || proto === null) return { args: Object.keys(raw) };
  }
  const type = pythonTypeName(raw);
  return { args: [], error: new ServiceError("TypeError", `${method}() argument after * must be an iterable, not ${type}`) };
}

/** `error.pythonName ?? error.name`, `error.message`, `error.stack`, for anything thrown. */
function errorReplyFor(error: unknown, tracebacks: boolean): ErrorReply {
  if ((typeof error === "object" && error !== null) || typeof error === "function") {
    const fields = error as { pythonName?: unknown; name?: unknown; message?: unknown; stack?: unknown };
    if (error instanceof Error || typeof fields.message === "string") {
      const name =
        typeof fields.pythonName === "string" && fields.pythonName !== ""
          ? fields.pythonName
          : typeof fields.name === "string" && fields.name !== ""
            ? fields.name
            : "Error";
      return {
        name,
        message: safeString(fields.message),
        traceback: tracebacks && typeof fields.stack === "string" ? fields.stack : "",
      };
    }
  }
  return { name: "Error", message: safeString(error), traceback: "" };
}

function safeString(value: unknown): string {
  if (typeof value === "string") return value;
  try {
    return String(value);
  } catch {
    return "<unprintable value>";
  }
}

/** @internal A call being served: its state, its replies and its outcome. */
export abstract class CallState extends AbortableCall {
  readonly context: CallContext;
  /** True while the call holds a concurrency slot. */
  holdsSlot = false;
  /** The call's diagnostics message, when someone subscribed to the call channels as it started. */
  protected diagnostics: ServerCallRecord | undefined;
  /** Why the request's args cannot be the handler's arguments (they were nil or a scalar). */
  protected readonly argsError: ServiceError | undefined;
  /** The handler's `this` from the lookup (object services); otherwise the context is. */
  protected readonly thisArg: object | undefined;
  private taskHeader: Record<string, unknown> | null | undefined;

  constructor(dispatcher: Dispatcher<AbortableCall>, channel: Channel, request: Event) {
    super(dispatcher, channel, request);
    const method = request.name;
    const found = dispatcher.lookup(method);
    const raw = request.args;
    let args: readonly unknown[];
    if (Array.isArray(raw)) {
      args = raw;
    } else {
      const positional = positionalArgs(method, raw);
      args = positional.args;
      this.argsError = positional.error;
    }
    this.thisArg = found?.thisArg;
    this.context = new ServerCallContext(this, request, args, found);
  }

  /** Extra header keys of every reply, from the middleware `taskContext` hooks (asked once). */
  protected replyHeader(): Record<string, unknown> | undefined {
    if (this.taskHeader === undefined) {
      if (!this.dispatcher.hooks.taskContext) {
        this.taskHeader = null;
        return undefined;
      }
      let merged: Record<string, unknown> | null = null;
      this.dispatcher.middleware.forEach((hook, index) => {
        if (hook.taskContext === undefined) return;
        try {
          const extra = hook.taskContext(this.context);
          if (extra === undefined || extra === null) return;
          for (const key of Object.keys(extra)) {
            if (RESERVED_HEADER_KEYS.has(key)) continue;
            // Defined, not assigned: a "__proto__" key (e.g. copied from a request header) would
            // otherwise set the prototype of the reply header instead of adding a key.
            Object.defineProperty((merged ??= {}), key, { value: extra[key], writable: true, enumerable: true, configurable: true });
          }
        } catch (error) {
          this.dispatcher.log.warn(`zrpc server: taskContext of ${hookName(hook, index)} threw`, error);
        }
      });
      this.taskHeader = merged;
    }
    return this.taskHeader ?? undefined;
  }

  /** Waits for a credit, then sends one reply event. Throws EncodeError, or the channel's end. */
  protected async reply(name: string, args: unknown): Promise<void> {
    await this.channel.whenWritable();
    if (this.isSettled) throw new ChannelClosedError("call already ended");
    this.channel.send(name, args, this.replyHeader());
    this.clearDeadline();
  }

  /** Answers ERR for `error` (after the inspectError hooks), then settles with it. */
  protected async fail(error: unknown): Promise<void> {
    const { middleware, tracebacks, log } = this.dispatcher;
    const reply = errorReplyFor(error, tracebacks);
    middleware.forEach((hook, index) => {
      if (hook.inspectError === undefined) return;
      try {
        hook.inspectError(this.context, error, reply);
      } catch (hookError) {
        log.warn(`zrpc server: inspectError of ${hookName(hook, index)} threw`, hookError);
      }
    });
    const name = safeString(reply.name);
    const message = safeString(reply.message);
    // docs/protocol §4.1: a request without v (or v < 2) is protocol v1 and gets ERR [repr].
    const v1 = (this.channel.remoteVersion ?? 1) < 2;
    const args = v1 ? [pythonExceptionRepr(name, message)] : [name, message, safeString(reply.traceback)];
    try {
      await this.reply(EventNames.err, args);
    } catch (sendError) {
      if (this.isSettled) return;
      if (EncodeError.isInstance(sendError) && this.taskHeader !== null && this.taskHeader !== undefined) {
        // The task context itself cannot be encoded: answer without it rather than not at all.
        log.warn("zrpc server: the task context of a reply cannot be encoded; sending ERR without it", sendError);
        this.taskHeader = null;
        try {
          await this.reply(EventNames.err, args);
        } catch (retryError) {
          if (this.isSettled) return;
          log.warn(`zrpc server: could not send ERR for ${this.context.method}`, retryError);
        }
      } else {
        log.warn(`zrpc server: could not send ERR for ${this.context.method}`, sendError);
      }
    }
    this.settle({ kind: "error", error });
  }

  /** Decides the outcome (once), releases the call, closes its channel, runs the onEnd hooks. */
  protected settle(outcome: CallOutcome): void {
    if (this.isSettled) return;
    this.isSettled = true;
    this.disarmDeadline();
    this.dispatcher.settled(this);
    // Closing ends the channel's heartbeat and aborts call.signal ("the call is over").
    this.channel.close();
    this.stopIteration();
    if (this.diagnostics !== undefined) publishCallEnd(this.diagnostics, outcome);
    const hooks = this.dispatcher.hooks.onEnd;
    if (hooks.length === 0) return;
    const runHooks = async (): Promise<void> => {
      for (const hook of hooks) {
        try {
          await hook.onEnd!(this.context, outcome);
        } catch (error) {
          this.dispatcher.log.warn(`zrpc server: onEnd of ${hookName(hook, this.dispatcher.middleware.indexOf(hook))} threw`, error);
        }
      }
    };
    const running = this.dispatcher.asyncContext ? callContextStorage.run(this.context, runHooks) : runHooks();
    this.dispatcher.track(running);
  }
}
