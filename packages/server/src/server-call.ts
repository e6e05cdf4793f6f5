// One call on the answering side (docs/protocol section 6): running it, the middleware around the
// handler, and the fast path for a plain synchronous handler. The layers below it, each a base
// class of the one above (so a call is still one object): call-abort.ts (abort, deadline, cancel,
// the channel's end), call-state.ts (arguments, context, replies, the outcome) and call-stream.ts
// (the stream loop).
import type { Channel } from "@zrpc/channel";
import { EventNames } from "@zrpc/wire";
import type { Event } from "@zrpc/wire";
import { callContextStorage } from "./call-context.js";
import { StreamingCall, generatorKind, isThenable } from "./call-stream.js";
import { callDiagnostics, runCallStarted } from "./diagnostics.js";
import type { Dispatcher } from "./dispatcher.js";
import { ServiceError } from "./errors.js";
import { composeAround } from "./middleware.js";
import { pythonArityMessage } from "./python.js";
import type { MethodSpec } from "./registry.js";

/** @internal One call being served. */
export class ServerCall extends StreamingCall {
  constructor(dispatcher: Dispatcher<ServerCall>, channel: Channel, request: Event) {
    super(dispatcher, channel, request);
    // Last: fires at once if the channel has already ended.
    this.listen();
  }

  /** Run the call (its concurrency slot, if any, is taken). Never throws or rejects. */
  start(): void {
    if (this.isSettled) return;
    let running: Promise<void> | undefined;
    try {
      const diagnostics = (this.diagnostics = callDiagnostics(this.context));
      // eslint-disable-next-line @typescript-eslint/unbound-method -- run with this call as `this` (no closure per call)
      running = diagnostics === undefined ? this.runInContext() : runCallStarted(diagnostics, this.runInContext, this);
    } catch (error) {
      this.internalError(error);
      return;
    }
    running?.catch((error: unknown) => this.internalError(error));
  }

  private readonly runBound = (): Promise<void> | undefined => this.run();

  /** Runs the call, in its `AsyncLocalStorage` context when the server uses one. */
  private runInContext(): Promise<void> | undefined {
    return this.dispatcher.asyncContext ? callContextStorage.run(this.context, this.runBound) : this.run();
  }

  private internalError(error: unknown): void {
    this.dispatcher.log.warn(`zrpc server: internal error in call ${this.context.method}`, error);
    this.settle({ kind: "error", error });
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
    return this.answerValue(spec, result);
  }

  /** Answers a unary call's value: at once when the request's own credit allows (no promise). */
  private answerValue(spec: MethodSpec, result: unknown): Promise<void> | undefined {
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

  /**
   * Runs the call through its middleware: the `beforeCall` hooks, the handler (inside the `around`
   * chain when there is one), the `afterCall` hooks, then the reply. Hooks and the handler are
   * called one after the other in the same tick while they return plain values; the first one that
   * returns a thenable moves the rest onto the async path (raced against the call's abort), so
   * synchronous middleware costs no promise. Never throws.
   */
  private runWithMiddleware(spec: MethodSpec | undefined): Promise<void> | undefined {
    try {
      // docs/protocol §6.2: the method name is the whole message.
      if (spec === undefined) throw new ServiceError("NameError", this.context.method);
      return this.beforeHooks(spec, 0);
    } catch (error) {
      return this.failUnlessSettled(error);
    }
  }

  /** After a lost client or shutdown the outcome is already known and nothing may be sent. */
  private failUnlessSettled(error: unknown): Promise<void> | undefined {
    return this.isSettled ? undefined : this.fail(error);
  }

  /** The `beforeCall` hooks from `index` on, then the handler. Throws what a hook throws. */
  private beforeHooks(spec: MethodSpec, index: number): Promise<void> | undefined {
    const { middleware } = this.dispatcher;
    for (let i = index; i < middleware.length; i++) {
      const hook = middleware[i]!;
      if (hook.beforeCall === undefined) continue;
      const done = hook.beforeCall(this.context);
      if (isThenable(done)) return this.resume(done, () => this.beforeHooks(spec, i + 1));
      if (this.isSettled) return undefined;
    }
    return this.handle(spec);
  }

  /** The handler, through the `around` chain if any, then the `afterCall` hooks. Throws what the handler throws. */
  private handle(spec: MethodSpec): Promise<void> | undefined {
    if (this.dispatcher.hooks.around) {
      const inner = (): Promise<unknown> => this.innerResult(spec);
      return this.resumeAfter(composeAround(this.dispatcher.middleware, this.context, inner), spec);
    }
    const raw = this.callHandler(spec);
    if (spec.stream || isThenable(raw)) return this.resumeAfter(this.complete(spec, raw), spec);
    const kind = generatorKind(raw);
    if (kind !== undefined) throw this.generatorError(raw, kind);
    if (this.isSettled) return undefined;
    return this.afterHooks(spec, raw, 0);
  }

  /** The innermost step of the `around` chain: argument checks, then the handler, settled. */
  private innerResult(spec: MethodSpec): Promise<unknown> {
    const raw = this.callHandler(spec);
    // A plain value is settled already: nothing to race.
    if (!spec.stream && !isThenable(raw) && generatorKind(raw) === undefined) return Promise.resolve(raw);
    return this.race(this.complete(spec, raw));
  }

  /** The `afterCall` hooks from `index` on, then the reply. Throws what a hook throws. */
  private afterHooks(spec: MethodSpec, result: unknown, index: number): Promise<void> | undefined {
    const { middleware } = this.dispatcher;
    for (let i = index; i < middleware.length; i++) {
      const hook = middleware[i]!;
      if (hook.afterCall === undefined) continue;
      const done = hook.afterCall(this.context, spec.stream ? undefined : result);
      if (isThenable(done)) return this.resume(done, () => this.afterHooks(spec, result, i + 1));
      if (this.isSettled) return undefined;
    }
    if (!spec.stream) return this.answerValue(spec, result);
    return this.answer(spec, result);
  }

  /** Waits for a hook's thenable (raced against the call's abort), then goes on with `then`. */
  private async resume(step: PromiseLike<unknown>, then: () => Promise<void> | undefined): Promise<void> {
    try {
      await this.race(Promise.resolve(step));
      if (this.isSettled) return;
      await then();
    } catch (error) {
      await this.failUnlessSettled(error);
    }
  }

  /** Waits for the handler's (or the `around` chain's) result, then runs the `afterCall` hooks. */
  private async resumeAfter(pending: Promise<unknown>, spec: MethodSpec): Promise<void> {
    try {
      const result = await this.race(pending);
      if (this.isSettled) return;
      await this.afterHooks(spec, result, 0);
    } catch (error) {
      await this.failUnlessSettled(error);
    }
  }

  /** Argument checks, then the handler: its raw return value (maybe a promise). */
  private callHandler(spec: MethodSpec): unknown {
    const call = this.context;
    if (this.argsError !== undefined) throw this.argsError;
    const given = call.args.length;
    if (spec.args !== null && (given < spec.minArity || given > spec.maxArity)) {
      const names = spec.args.params.map((param) => param.name);
      const problem = pythonArityMessage(call.method, { names, minArity: spec.minArity, maxArity: spec.maxArity }, given);
      if (problem !== undefined) throw new ServiceError("TypeError", problem);
    }
    const thisArg = this.thisArg ?? (call.introspection ? undefined : call);
    return spec.fn.apply(thisArg, call.args as unknown[]);
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
}
