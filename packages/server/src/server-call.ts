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

  /** The innermost step of the around chain: argument checks, then the handler. */
  private async invoke(spec: MethodSpec): Promise<unknown> {
    return this.complete(spec, this.callHandler(spec));
  }
}
