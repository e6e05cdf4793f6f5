// One call on the answering side (docs/protocol section 6): lookup, middleware, the handler, the
// reply (OK / ERR / STREAM... STREAM_DONE) and exactly one outcome.
import { ChannelClosedError, ZrpcExtensions, readDeadline } from "@zrpc/channel";
import type { CancelReason, Channel, ChannelEnd, Clock, Peer } from "@zrpc/channel";
import { EncodeError, EventNames } from "@zrpc/wire";
import type { Event, MessageId, WireHeader } from "@zrpc/wire";
import { callContextStorage } from "./call-context.js";
import type { CallContext as CallContextShape } from "./call-context.js";
import { CallCancelled, DeadlineExceeded, ServiceError } from "./errors.js";
import type { RateLimitedLogger } from "./logger.js";
import { composeAround } from "./middleware.js";
import type { CallOutcome, ErrorReply, ServerMiddleware } from "./middleware.js";
import { pythonArityMessage, pythonExceptionRepr, pythonTypeName } from "./python.js";
import type { MethodSpec } from "./registry.js";

/** Items a stream sends before yielding to the event loop (so its transport can drain). */
const STREAM_YIELD_EVERY = 64;

/** @internal What every call of one server shares. */
export interface Dispatcher {
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
  lookup(name: string): { spec: MethodSpec; introspection: boolean; thisArg: object | undefined } | undefined;
  /** The call reached its outcome (onEnd hooks are starting). */
  settled(call: ServerCall): void;
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

/** The announcement a server adds to its heartbeats and first reply for a cancel-capable request. */
const CANCEL_ANNOUNCEMENT: Readonly<Record<string, unknown>> = Object.freeze({
  [ZrpcExtensions.capsKey]: Object.freeze([ZrpcExtensions.cancelCap]),
});

/** Header keys a task context may not override. */
const RESERVED_HEADER_KEYS = new Set(["message_id", "v", "response_to"]);

/** The name to show for a failing middleware in logs. */
function hookName(middleware: ServerMiddleware, index: number): string {
  return middleware.name ?? `middleware #${index}`;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === "object" || typeof value === "function") &&
    value !== null &&
    typeof (value as { then?: unknown }).then === "function"
  );
}

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

/** The abort reason for a channel end (the same errors the channel's own signal uses). */
function endReason(end: ChannelEnd): AbortReason {
  return end.kind === "closed" ? () => new ChannelClosedError("call ended") : end.error;
}

function reasonError(reason: AbortReason): Error {
  return typeof reason === "function" ? reason() : reason;
}

type AnyIterator = Iterator<unknown> | AsyncIterator<unknown>;

/** The iterator of a stream handler's result; TypeError like Python's for a non-iterable. */
function iteratorOf(value: unknown): { iterator: AnyIterator; sync: boolean } {
  if (value !== null && value !== undefined) {
    const asyncFactory = (value as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator];
    if (typeof asyncFactory === "function") return { iterator: asyncFactory.call(value) as AsyncIterator<unknown>, sync: false };
    const syncFactory = (value as { [Symbol.iterator]?: unknown })[Symbol.iterator];
    if (typeof syncFactory === "function") return { iterator: syncFactory.call(value) as Iterator<unknown>, sync: true };
  }
  throw new ServiceError("TypeError", `'${pythonTypeName(value)}' object is not iterable`);
}

/** Python's type name of a generator object a non-stream method returned, if it is one. */
function generatorKind(value: unknown): string | undefined {
  const tag = Object.prototype.toString.call(value);
  if (tag === "[object Generator]") return "generator";
  if (tag === "[object AsyncGenerator]") return "async_generator";
  return undefined;
}

/** An abort reason, or how to make it (built only when someone looks at it). */
type AbortReason = Error | (() => Error);

/**
 * The {@link CallContext} of one call. `signal` and `locals` are made on first use: most calls
 * never look at them, and an AbortController with its EventTarget costs more than the rest of
 * the call's bookkeeping.
 */
/** Named like the interface, so a handler's stack frame reads `at CallContext.method`. */
class CallContext implements CallContextShape {
  readonly method: string;
  readonly args: readonly unknown[];
  readonly header: Readonly<WireHeader>;
  readonly peer: Peer;
  readonly requestId: MessageId;
  readonly remoteVersion: number | undefined;
  readonly serverName: string;
  readonly spec: MethodSpec | undefined;
  readonly introspection: boolean;
  readonly deadline: number | undefined;
  readonly #call: ServerCall;
  readonly #clock: Clock;
  #locals: Map<string | symbol, unknown> | undefined;

  constructor(call: ServerCall, channel: Channel, request: Event, args: readonly unknown[], dispatcher: Dispatcher, found: ReturnType<Dispatcher["lookup"]>, deadline: number | undefined) {
    this.method = request.name;
    this.args = args;
    this.header = request.header;
    this.peer = channel.peer;
    this.requestId = channel.id;
    this.remoteVersion = channel.remoteVersion;
    this.serverName = dispatcher.serverName;
    this.spec = found?.spec;
    this.introspection = found?.introspection ?? false;
    this.deadline = deadline;
    this.#call = call;
    this.#clock = dispatcher.clock;
  }

  get signal(): AbortSignal {
    return this.#call.signal();
  }

  get locals(): Map<string | symbol, unknown> {
    return (this.#locals ??= new Map());
  }

  remainingMs(): number {
    const deadline = this.deadline;
    return deadline === undefined ? Number.POSITIVE_INFINITY : Math.max(0, deadline - this.#clock.now());
  }
}

/** @internal One call being served. */
export class ServerCall {
  readonly context: CallContextShape;
  /** True once the outcome is decided (onEnd fired or firing); nothing is sent after that. */
  isSettled = false;
  /** True while the call holds a concurrency slot. */
  holdsSlot = false;

  private readonly dispatcher: Dispatcher;
  private readonly channel: Channel;
  /** Made on the first read of `context.signal`. */
  private controller: AbortController | undefined;
  /** Set once the call is aborted: the reason (or how to build it). */
  private abortReason: AbortReason | undefined;
  /** Waiting on {@link race}: told once when the call is aborted. */
  private abortWaiters: ((reason: Error) => void)[] | undefined;
  private readonly argsError: ServiceError | undefined;
  private readonly thisArg: object | undefined;
  private taskHeader: Record<string, unknown> | null | undefined;
  private items = 0;
  private iterator: AnyIterator | undefined;
  private iteratorClosed = false;
  /** The client's deadline (epoch ms), when it sent one and deadlines are honoured. */
  private readonly deadline: number | undefined;
  private deadlineTimer: unknown;
  /** The first reply event (OK, ERR, STREAM, STREAM_DONE) went out: the deadline no longer applies. */
  private firstReplySent = false;

  constructor(dispatcher: Dispatcher, channel: Channel, request: Event) {
    this.dispatcher = dispatcher;
    this.channel = channel;
    const { extensions } = dispatcher;
    const deadline = extensions.deadline && request.header[ZrpcExtensions.deadlineKey] !== undefined ? readDeadline(request.header) : undefined;
    this.deadline = deadline;
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
    this.context = new CallContext(this, channel, request, args, dispatcher, found, deadline);
    if (extensions.cancel && channel.remoteCaps?.includes(ZrpcExtensions.cancelCap) === true) {
      // docs/protocol/README.md, "zrpc extensions": only for requests that announced "cancel".
      channel.onCancel((reason) => this.cancelledByClient(reason));
      channel.announce(CANCEL_ANNOUNCEMENT);
    }
    // Last: fires at once if the channel has already ended.
    channel.onEnd((end) => this.channelEnded(end));
  }

  /** @internal `context.signal`: made on first use, aborted at once if the call was. */
  signal(): AbortSignal {
    let controller = this.controller;
    if (controller === undefined) {
      controller = this.controller = new AbortController();
      const reason = this.abortReason;
      if (reason !== undefined) controller.abort(this.resolveReason(reason));
    }
    return controller.signal;
  }

  /** The abort reason as an error, built once. */
  private resolveReason(reason: AbortReason): Error {
    if (typeof reason !== "function") return reason;
    const error = reasonError(reason);
    this.abortReason = error;
    return error;
  }

  /**
   * Settles like `promise`, or rejects with the abort reason as soon as the call is aborted,
   * whatever `promise` does (so a hook or handler that ignores the signal cannot hold the call).
   */
  private race<T>(promise: Promise<T>): Promise<T> {
    const reason = this.abortReason;
    if (reason !== undefined) {
      promise.catch(() => undefined);
      return Promise.reject(this.resolveReason(reason));
    }
    return new Promise<T>((resolve, reject) => {
      (this.abortWaiters ??= []).push(reject);
      promise.then(resolve, reject);
    });
  }

  /**
   * Applies the client's deadline: a request whose deadline has passed on arrival is dropped at
   * once (outcome `timed-out`, no reply: the client gave up already) and `true` is returned;
   * otherwise a timer aborts the call when the deadline passes before the first reply.
   */
  armDeadline(): boolean {
    const deadline = this.deadline;
    if (deadline === undefined || this.isSettled) return this.isSettled;
    const { clock } = this.dispatcher;
    const left = deadline - clock.now();
    if (left <= 0) {
      this.expire();
      return true;
    }
    // Longer than setTimeout can wait: a deadline that far away never matters.
    if (left <= 2_147_483_647) this.deadlineTimer = clock.setTimeout(() => this.expire(), left);
    return false;
  }

  /** The deadline passed: give up on the call unless its first reply went out already. */
  private expire(): void {
    this.deadlineTimer = undefined;
    if (this.isSettled || this.firstReplySent) return;
    this.abort(new DeadlineExceeded(this.deadline));
    this.settle({ kind: "timed-out" });
  }

  /** The client sent `_zrpc_cancel`: stop, send nothing more. */
  private cancelledByClient(reason: CancelReason): void {
    if (this.isSettled) return;
    if (reason === "timeout") {
      this.abort(new DeadlineExceeded(this.deadline));
      this.settle({ kind: "timed-out" });
      return;
    }
    const error = new CallCancelled(reason);
    this.abort(error);
    this.settle({ kind: "cancelled", reason: error });
  }

  private clearDeadline(): void {
    this.firstReplySent = true;
    if (this.deadlineTimer !== undefined) {
      this.dispatcher.clock.clearTimeout(this.deadlineTimer);
      this.deadlineTimer = undefined;
    }
  }

  /** Run the call (its concurrency slot, if any, is taken). Never throws or rejects. */
  start(): void {
    if (this.isSettled) return;
    let running: Promise<void> | undefined;
    try {
      running = this.dispatcher.asyncContext ? callContextStorage.run(this.context, this.runBound) : this.run();
    } catch (error) {
      this.internalError(error);
      return;
    }
    running?.catch((error: unknown) => this.internalError(error));
  }

  private readonly runBound = (): Promise<void> | undefined => this.run();

  private internalError(error: unknown): void {
    this.dispatcher.log.warn(`zrpc server: internal error in call ${this.context.method}`, error);
    this.settle({ kind: "error", error });
  }

  /** The server gives up on this call (close() after its grace period). */
  shutdown(reason: Error): void {
    if (this.isSettled) return;
    this.abort(reason);
    this.settle({ kind: "shutdown" });
  }

  private abort(reason: AbortReason): void {
    if (this.abortReason === undefined) {
      this.abortReason = reason;
      const controller = this.controller;
      const waiters = this.abortWaiters;
      if (controller !== undefined || waiters !== undefined) {
        const error = this.resolveReason(reason);
        controller?.abort(error);
        if (waiters !== undefined) {
          this.abortWaiters = undefined;
          for (const reject of waiters) reject(error);
        }
      }
    }
    this.stopIteration();
  }

  private channelEnded(end: ChannelEnd): void {
    this.abort(endReason(end));
    if (this.isSettled) return;
    switch (end.kind) {
      case "lost-remote":
      case "overflow":
        this.settle({ kind: "lost-remote", error: end.error });
        break;
      case "shutdown":
        this.settle({ kind: "shutdown" });
        break;
      case "closed":
        // Only the server closes its channels, after settling; anything else is a cancellation.
        this.settle({ kind: "cancelled", reason: this.resolveReason(this.abortReason ?? endReason(end)) });
        break;
    }
  }

  /**
   * Runs the call. Without beforeCall/around/afterCall middleware a handler that returns a plain
   * value is answered synchronously (no promise at all); everything else takes the async path.
   */
  private run(): Promise<void> | undefined {
    const spec = this.context.spec;
    const { hooks } = this.dispatcher;
    if (spec === undefined || hooks.before || hooks.around || hooks.after) return this.runWithMiddleware(spec);
    let result: unknown;
    try {
      result = this.callHandler(spec);
    } catch (error) {
      return this.fail(error);
    }
    if (spec.stream || isThenable(result)) return this.finishAsync(spec, result);
    const kind = generatorKind(result);
    if (kind !== undefined) return this.fail(this.generatorError(result, kind));
    if (this.isSettled) return undefined;
    if (this.channel.credit > 0) {
      // The reply goes out on the request's own credit: nothing to wait for.
      try {
        this.channel.send(EventNames.ok, [result], this.replyHeader());
      } catch (error) {
        return this.fail(error);
      }
      this.clearDeadline();
      this.settle({ kind: "ok", result });
      return undefined;
    }
    return this.answer(spec, result);
  }

  /** The async end of the fast path: await the handler's promise or run its stream, then answer. */
  private async finishAsync(spec: MethodSpec, raw: unknown): Promise<void> {
    let result: unknown;
    try {
      result = await this.complete(spec, raw);
    } catch (error) {
      if (this.isSettled) return;
      await this.fail(error);
      return;
    }
    await this.answer(spec, result);
  }

  /** Sends OK (or STREAM_DONE) and settles; an ERR when the reply cannot be sent. */
  private async answer(spec: MethodSpec, result: unknown): Promise<void> {
    if (this.isSettled) return;
    try {
      if (spec.stream) {
        await this.reply(EventNames.streamDone, null);
        this.settle({ kind: "stream-done", items: this.items });
      } else {
        await this.reply(EventNames.ok, [result]);
        this.settle({ kind: "ok", result });
      }
    } catch (error) {
      if (this.isSettled) return;
      await this.fail(error);
    }
  }

  private async runWithMiddleware(spec: MethodSpec | undefined): Promise<void> {
    const { middleware } = this.dispatcher;
    const call = this.context;
    let result: unknown;
    try {
      if (spec === undefined) {
        // docs/protocol §6.2: the method name is the whole message.
        throw new ServiceError("NameError", call.method);
      }
      for (const hook of middleware) {
        if (hook.beforeCall === undefined) continue;
        await this.race(Promise.resolve(hook.beforeCall(call)));
        if (this.isSettled) return;
      }
      const inner = (): Promise<unknown> => this.race(this.invoke(spec));
      result = this.dispatcher.hooks.around ? await this.race(composeAround(middleware, call, inner)) : await inner();
      if (this.isSettled) return;
      for (const hook of middleware) {
        if (hook.afterCall === undefined) continue;
        await this.race(Promise.resolve(hook.afterCall(call, spec.stream ? undefined : result)));
        if (this.isSettled) return;
      }
    } catch (error) {
      // After a lost client or shutdown the outcome is already known and nothing may be sent.
      if (this.isSettled) return;
      await this.fail(error);
      return;
    }
    await this.answer(spec, result);
  }

  /** Argument checks, then the handler: its raw return value (maybe a promise). */
  private callHandler(spec: MethodSpec): unknown {
    const call = this.context;
    if (this.argsError !== undefined) throw this.argsError;
    const given = call.args.length;
    if (spec.args !== null && (given < spec.minArity || given > spec.maxArity)) {
      const names = spec.args.params.map((param) => param.name);
      const problem = pythonArityMessage(call.method, names, spec.minArity, spec.maxArity, given);
      if (problem !== undefined) throw new ServiceError("TypeError", problem);
    }
    const thisArg = this.thisArg ?? (call.introspection ? undefined : call);
    return spec.fn.apply(thisArg, call.args as unknown[]);
  }

  private generatorError(result: unknown, kind: string): ServiceError {
    // docs/protocol §6.3: a plain method returning a generator fails like Python, it is not streamed.
    this.closeIteratorOf(result);
    return new ServiceError("TypeError", `can not serialize '${kind}' object`);
  }

  /** The handler's value once settled: a plain result, or `undefined` after a whole stream was sent. */
  private async complete(spec: MethodSpec, raw: unknown): Promise<unknown> {
    const result = isThenable(raw) ? await raw : raw;
    if (!spec.stream) {
      const kind = generatorKind(result);
      if (kind !== undefined) throw this.generatorError(result, kind);
      return result;
    }
    await this.stream(result);
    return undefined;
  }

  /** The innermost step of the around chain: argument checks, then the handler. */
  private async invoke(spec: MethodSpec): Promise<unknown> {
    return this.complete(spec, this.callHandler(spec));
  }

  /** Sends each item as a bare `STREAM` event under the peer's `_zpc_more` credit (section 8). */
  private async stream(iterable: unknown): Promise<void> {
    const { iterator, sync } = iteratorOf(iterable);
    this.iterator = iterator;
    let finished = false;
    try {
      for (;;) {
        // Wait for credit before producing the item: nothing is computed that cannot be sent.
        // (No await at all while credit is left: every promise counts, more so with async hooks on.)
        const channel = this.channel;
        if (channel.credit <= 0 || !channel.isOpen) await channel.whenWritable();
        let step: IteratorResult<unknown>;
        let value: unknown;
        try {
          step = sync ? (iterator as Iterator<unknown>).next() : await iterator.next();
          // for-await semantics for sync iterables: promise items are awaited.
          value = sync && isThenable(step.value) ? await step.value : step.value;
        } catch (error) {
          // The iterator failed by itself: it is finished, there is nothing to return().
          finished = true;
          throw error;
        }
        if (step.done === true) {
          finished = true;
          return;
        }
        if (this.isSettled) return;
        this.channel.send(EventNames.stream, value, this.replyHeader());
        if (!this.firstReplySent) this.clearDeadline();
        this.items += 1;
        // A peer that grants credit generously (zerorpc-node floods _zpc_more) would otherwise
        // let one stream queue everything at once, ahead of every heartbeat: give the transport a
        // turn of the event loop now and then.
        if (this.items % STREAM_YIELD_EVERY === 0) await new Promise<void>((resolve) => setImmediate(resolve));
      }
    } finally {
      // An exhausted or failed iterator needs no return(); one stopped early does.
      if (finished) this.iteratorClosed = true;
      else this.stopIteration();
    }
  }

  /** Lets a generator's `finally` blocks run when the stream stops early. Idempotent. */
  private stopIteration(): void {
    const iterator = this.iterator;
    if (iterator === undefined || this.iteratorClosed) return;
    this.iteratorClosed = true;
    this.closeIteratorOf(iterator);
  }

  private closeIteratorOf(value: unknown): void {
    const close = (value as { return?: unknown }).return;
    if (typeof close !== "function") return;
    try {
      // An async generator still running a next() queues this return() until that next settles.
      const result = close.call(value) as unknown;
      if (isThenable(result)) {
        Promise.resolve(result).catch((error: unknown) => this.dispatcher.log.warn("zrpc server: a stream iterator's return() failed", error));
      }
    } catch (error) {
      this.dispatcher.log.warn("zrpc server: a stream iterator's return() failed", error);
    }
  }

  /** Extra header keys of every reply, from the middleware `taskContext` hooks (asked once). */
  private replyHeader(): Record<string, unknown> | undefined {
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
            (merged ??= {})[key] = extra[key];
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
  private async reply(name: string, args: unknown): Promise<void> {
    await this.channel.whenWritable();
    if (this.isSettled) throw new ChannelClosedError("call already ended");
    this.channel.send(name, args, this.replyHeader());
    this.clearDeadline();
  }

  /** Answers ERR for `error` (after the inspectError hooks), then settles with it. */
  private async fail(error: unknown): Promise<void> {
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
  private settle(outcome: CallOutcome): void {
    if (this.isSettled) return;
    this.isSettled = true;
    if (this.deadlineTimer !== undefined) {
      this.dispatcher.clock.clearTimeout(this.deadlineTimer);
      this.deadlineTimer = undefined;
    }
    this.dispatcher.settled(this);
    // Closing ends the channel's heartbeat and aborts call.signal ("the call is over").
    this.channel.close();
    this.stopIteration();
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
