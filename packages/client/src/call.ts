// One call's life on the calling side: send the request, wait for the first reply (with the
// timeout), then read OK / ERR / STREAM... / STREAM_DONE. docs/protocol sections 6 and 9.
import { LostRemote, ZrpcExtensions } from "@zrpc/channel";
import type { CancelReason, Channel, Clock } from "@zrpc/channel";
import { EventNames, ProtocolError } from "@zrpc/wire";
import type { Event } from "@zrpc/wire";
import { CanceledError, RemoteError, TimeoutExpired, appendCallSite } from "./errors.js";
import type { CallSite } from "./errors.js";
import { runAfterReply, runAround, runBeforeRequest, runOnRemoteError } from "./middleware.js";
import type { ClientMiddleware, ClientRequest } from "./middleware.js";
import type { CallOptions } from "./options.js";
import { errError, okValue } from "./reply.js";

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

type Step = IteratorResult<unknown, undefined>;

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

/** Longest delay `setTimeout` honours; longer ones fire at once, so they count as no timeout. */
export const MAX_TIMER_MS = 2_147_483_647;

function noop(): void {}

interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(noop);
  return { promise, resolve, reject };
}

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

/**
 * The state machine of one call. Consumers: {@link CallCore.awaitResult} (unary form: value, or
 * all stream items as an array) and {@link CallCore.iterate} (stream form).
 * @internal
 */
export class CallCore {
  readonly request: ClientRequest;
  private readonly host: CallHost;
  private readonly site: CallSite | undefined;

  /** "idle" before the request is sent, "first" until the first reply, "stream" while items flow. */
  private phase: "idle" | "first" | "stream" | "done" = "idle";
  private channel: Channel | undefined;
  private started = false;
  private sent = false;
  private mode: "await" | "iterate" | undefined;
  private gotReply = false;
  /** The first reply was OK. */
  private unary = false;
  private abandoned = false;
  /** Set by the timeout or an abort before they close the channel: the error the call ends with. */
  private failure: unknown;
  /** An error was thrown to the consumer already (an iterator throws once, then is done). */
  private errorThrown = false;
  private timer: unknown;
  private abortListener: (() => void) | undefined;

  /** The first step (first reply), read eagerly as soon as the request is sent. */
  private firstStep: Promise<Step> | undefined;
  private firstClaimed = false;
  /** Serialises iterator reads (a channel allows one pending take). Never rejects. */
  private readChain: Promise<unknown> = Promise.resolve();
  /** Settles when the call is over; what `around`'s `next()` returns. */
  private readonly outcome = deferred<unknown>();
  /** Settles once the request was sent or the middleware chain finished without sending it. */
  private readonly sendSettled = deferred<void>();
  /** The outer promise of the middleware chain: what an awaiting caller gets. */
  private result: Promise<unknown> | undefined;

  constructor(host: CallHost, method: string, args: readonly unknown[], options: CallOptions, site: CallSite | undefined) {
    this.host = host;
    this.site = site;
    const header: Record<string, unknown> = {};
    if (options.header !== undefined) Object.assign(header, options.header);
    this.request = { method, args, header, options };
  }

  /** Runs the middleware chain, whose innermost `next()` sends the request. Idempotent. */
  start(): void {
    if (this.started) return;
    this.started = true;
    const result = runAround(this.host.middleware, this.request, () => this.send());
    result.then(
      () => this.sendSettled.resolve(),
      () => this.sendSettled.resolve(),
    );
    result.catch(noop);
    this.result = result;
  }

  /** The unary form: starts reading to the end and returns the middleware chain's result. */
  awaitResult(): Promise<unknown> {
    this.start();
    if (this.mode === undefined) {
      this.mode = "await";
      void this.collect();
    }
    return this.result!;
  }

  /**
   * The stream form. Starts the call on the first `next()` if `start()` was not called yet
   * (`Client.stream` is lazy, `Client.invoke` is not). Can be taken once.
   */
  iterate(): AsyncIterableIterator<unknown> {
    if (this.mode === "await") throw new TypeError("this call result is already being awaited; it cannot be iterated too");
    if (this.mode === "iterate") throw new TypeError("this call result is already being iterated");
    this.mode = "iterate";
    const iterator: AsyncIterableIterator<unknown> = {
      next: () => this.nextBuffered() ?? this.serialise(() => this.iterStep()),
      // Not queued behind a pending next(): closing the channel is what ends that one (with done).
      return: () => this.abandon(),
      [Symbol.asyncIterator]: () => iterator,
    };
    return iterator;
  }

  // ------------------------------------------------------------------ sending

  /** The innermost `next()` of the middleware chain. */
  private send(): Promise<unknown> {
    if (this.sent || this.abandoned) return this.outcome.promise;
    this.sent = true;
    this.sendSettled.resolve();
    const { method, args, options } = this.request;
    let timeoutMs = effectiveTimeout(options, this.host.defaultTimeoutMs);
    try {
      if (typeof method !== "string") throw new TypeError(`method must be a string, got ${typeof method}`);
      if (!Array.isArray(args)) throw new TypeError("args must be an array of positional arguments");
      this.throwIfAborted();
      runBeforeRequest(this.host.middleware, this.request);
      this.throwIfAborted();
      // The deadline: now + timeout, or the explicit one when it comes first.
      const now = this.host.timerClock.now();
      const explicit = explicitDeadline(options);
      if (explicit !== undefined) {
        const left = Math.ceil(explicit - now);
        if (left <= 0) throw this.timeoutError(0);
        if (timeoutMs === 0 || left < timeoutMs) timeoutMs = Math.min(left, MAX_TIMER_MS);
      }
      const sendDeadline = explicit !== undefined || (this.host.extensions.deadline && timeoutMs > 0);
      this.channel = this.host.open(this.request, sendDeadline ? { deadline: Math.ceil(now + timeoutMs) } : {});
    } catch (error) {
      this.phase = "done";
      this.outcome.reject(error);
      // Rejects with the same error as the outcome.
      const failed = this.outcome.promise.then((): Step => DONE);
      failed.catch(noop);
      this.firstStep = failed;
      return this.outcome.promise;
    }
    this.phase = "first";
    if (timeoutMs > 0) this.timer = this.host.timerClock.setTimeout(() => this.onTimeout(timeoutMs), timeoutMs);
    const signal = options.signal;
    if (signal !== undefined) {
      this.abortListener = () => this.onAbort(signal);
      signal.addEventListener("abort", this.abortListener, { once: true });
    }
    // Read the first reply at once, whoever consumes the call: the timeout is about its arrival,
    // and a unary reply must close the call even if nobody awaits it.
    const first = this.read();
    first.catch(noop);
    this.firstStep = first;
    return this.outcome.promise;
  }

  private throwIfAborted(): void {
    throwIfCallAborted(this.request);
  }

  private timeoutError(timeoutMs: number): unknown {
    return timeoutErrorOf(this.host, this.request, this.site, timeoutMs);
  }

  private onTimeout(timeoutMs: number): void {
    this.timer = undefined;
    if (this.phase !== "first") return;
    const error = this.timeoutError(timeoutMs);
    this.failure = error;
    this.cancelRemote("timeout");
    this.fail(error);
  }

  private onAbort(signal: AbortSignal): void {
    if (this.phase === "done") return;
    const error = new CanceledError(this.request.method, { cause: signal.reason });
    this.failure = error;
    this.cancelRemote("canceled");
    this.fail(error);
  }

  private cancelRemote(reason: CancelReason): void {
    cancelRemoteCall(this.host, this.channel, reason);
  }

  // ------------------------------------------------------------------ reading

  /** One step of the reply state machine. Every error path ends the call before throwing. */
  private async read(): Promise<Step> {
    try {
      return await this.readEvent();
    } catch (error) {
      this.errorThrown = true;
      throw error;
    }
  }

  private async readEvent(): Promise<Step> {
    if (this.phase === "done" || this.channel === undefined) {
      // A timeout or an abort that struck between two reads is still owed to the consumer.
      if (this.failure !== undefined && !this.errorThrown && !this.abandoned) throw this.failure as Error;
      return DONE;
    }
    let event: Event;
    try {
      event = await this.channel.take();
    } catch (error) {
      if (this.abandoned) return DONE;
      throw this.fail(this.translate(error));
    }
    return this.process(event);
  }

  /** The step for one reply event. Throws (after ending the call) for ERR and protocol errors. */
  private process(event: Event): Step {
    const first = this.phase === "first";
    if (first) {
      this.gotReply = true;
      this.clearTimer();
    }
    switch (event.name) {
      case EventNames.stream:
        this.phase = "stream";
        return { done: false, value: event.args };
      case EventNames.streamDone:
        this.end();
        this.after(event, undefined);
        return DONE;
      case EventNames.ok: {
        if (!first) {
          throw this.fail(new ProtocolError("bad-event", `unexpected OK reply in the middle of a stream from ${this.request.method}`));
        }
        const ok = okValue(event);
        if ("error" in ok) throw this.fail(this.after(event, ok.error));
        this.after(event, undefined);
        this.unary = true;
        this.end();
        this.outcome.resolve(ok.value);
        return { done: false, value: ok.value };
      }
      case EventNames.err:
        throw this.fail(this.after(event, this.remoteError(event)));
      default:
        throw this.fail(
          new ProtocolError(
            "bad-event",
            first
              ? `unable to find a pattern for the reply ${JSON.stringify(event.name)} to ${this.request.method} (expected OK, ERR, STREAM or STREAM_DONE)`
              : `unexpected ${JSON.stringify(event.name)} event in the stream from ${this.request.method}`,
          ),
        );
    }
  }

  private remoteError(event: Event): unknown {
    return remoteErrorOf(this.host, this.request, this.site, event);
  }

  /**
   * Runs the `afterReply` hooks; if one throws, the call fails with that instead. Returns the error
   * the call ends with (`error`, or the hook's).
   */
  private after(reply: Event, error: unknown): unknown {
    try {
      runAfterReply(this.host.middleware, this.request, reply, error);
      return error;
    } catch (hookError) {
      this.fail(hookError);
      if (error === undefined) throw hookError;
      return hookError;
    }
  }

  /** Maps a channel-end error to what the caller sees. */
  private translate(error: unknown): unknown {
    return this.failure !== undefined ? this.failure : lostRemoteOf(error, this.gotReply);
  }

  /**
   * Ends the call with `error`: closes the channel, rejects the outcome (a no-op if the outcome
   * is already settled). Returns `error`, to be thrown.
   */
  private fail(error: unknown): unknown {
    this.end();
    this.outcome.reject(error);
    return error;
  }

  /** Stops the timer and the abort listener and closes the channel (nothing is sent). */
  private end(): void {
    this.phase = "done";
    this.clearTimer();
    // Remember a server that can cancel, for calls cancelled before it could announce itself.
    if (this.host.extensions.cancel && this.channel?.remoteCaps?.includes(ZrpcExtensions.cancelCap) === true) {
      this.host.serverCancels = true;
    }
    const signal = this.request.options.signal;
    if (this.abortListener !== undefined && signal !== undefined) {
      signal.removeEventListener("abort", this.abortListener);
      this.abortListener = undefined;
    }
    this.channel?.close();
  }

  private clearTimer(): void {
    if (this.timer !== undefined) {
      this.host.timerClock.clearTimeout(this.timer);
      this.timer = undefined;
    }
  }

  /** The next step, in order: the eagerly read first step, then further reads. */
  private async step(): Promise<Step> {
    if (!this.firstClaimed && this.firstStep !== undefined) {
      this.firstClaimed = true;
      return this.firstStep;
    }
    return this.read();
  }

  // ------------------------------------------------------------------ consumers

  /** Unary form: reads to the end; the outcome carries the value or the array of items. */
  private async collect(): Promise<void> {
    await this.sendSettled.promise;
    if (!this.sent) return;
    try {
      let step = await this.step();
      if (step.done) {
        this.outcome.resolve([]);
        return;
      }
      if (this.unary) return; // OK: the outcome has the value
      const items: unknown[] = [];
      while (!step.done) {
        items.push(step.value);
        step = await this.read();
      }
      this.outcome.resolve(items);
    } catch {
      // The outcome was rejected with the same error.
    }
  }

  private serialise(operation: () => Promise<Step>): Promise<Step> {
    this.queuedReads += 1;
    const next = this.readChain.then(operation);
    this.readChain = next.then(this.readDone, this.readDone);
    return next;
  }

  /**
   * The stream's `next()` when nothing is buffered: one promise, settled from the channel's
   * callback ({@link Channel.takeInto}); later `next()` calls queue behind it.
   */
  private nextAwaited(channel: Channel): Promise<Step> {
    this.queuedReads += 1;
    const next = new Promise<Step>((resolve, reject) => {
      channel.takeInto({
        resolve: (event) => {
          try {
            const step = this.process(event);
            if (step.done) this.outcome.resolve(undefined);
            resolve(step);
          } catch (error) {
            this.errorThrown = true;
            // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- what the call ends with (a hook may throw anything)
            reject(error);
          }
        },
        reject: (error) => {
          if (this.abandoned) {
            resolve(DONE);
            return;
          }
          this.errorThrown = true;
          // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- what the call ends with (a hook may throw anything)
          reject(this.fail(this.translate(error)));
        },
      });
    });
    this.readChain = next.then(this.readDone, this.readDone);
    return next;
  }

  /** Reads queued with {@link serialise} and not finished yet. */
  private queuedReads = 0;
  private readonly readDone = (): void => {
    this.queuedReads -= 1;
  };

  /**
   * The fast path of a stream's `next()`: with the first reply consumed, no read queued and an
   * item already buffered in the channel, the step is computed at once (no promise chain).
   * `undefined` when the slow path must run.
   */
  private nextBuffered(): Promise<Step> | undefined {
    if (this.phase !== "stream" || this.queuedReads > 0 || !this.firstClaimed || this.channel === undefined) return undefined;
    const event = this.channel.tryTake();
    if (event === undefined) return this.nextAwaited(this.channel);
    try {
      const step = this.process(event);
      if (step.done) this.outcome.resolve(undefined);
      return Promise.resolve(step);
    } catch (error) {
      this.errorThrown = true;
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the same error the slow path rejects with
      return Promise.reject(error);
    }
  }

  private async iterStep(): Promise<Step> {
    this.start();
    if (!this.sent) {
      await this.sendSettled.promise;
      if (!this.sent) return this.shortCircuit();
    }
    const step = await this.step();
    if (step.done) this.outcome.resolve(undefined);
    return step;
  }

  /** A middleware answered without calling `next()`: its result is the one value. */
  private async shortCircuit(): Promise<Step> {
    if (this.phase === "done") return DONE;
    this.phase = "done";
    const value = await this.result!;
    return { done: false, value };
  }

  /** The consumer left the iteration early: close the call; no hook, nothing sent. */
  private abandon(): Promise<Step> {
    if (this.phase !== "done" || !this.sent) {
      this.abandoned = true;
      if (this.phase !== "done") this.cancelRemote("abandoned");
      this.end();
      this.outcome.resolve(undefined);
    }
    return Promise.resolve(DONE);
  }
}

/**
 * The {@link CallResult} implementation over a {@link CallCore}.
 * @internal
 */
export class CallResultImpl implements CallResult<unknown, unknown> {
  readonly [Symbol.toStringTag] = "CallResult";
  readonly #core: CallCore;

  constructor(core: CallCore) {
    this.#core = core;
  }

  /** Awaits the call: the `OK` value, or the array of all items of a streamed reply. */
  then<TResult1 = unknown, TResult2 = never>(
    onfulfilled?: ((value: unknown) => TResult1 | PromiseLike<TResult1>) | null,
    onrejected?: ((reason: unknown) => TResult2 | PromiseLike<TResult2>) | null,
  ): Promise<TResult1 | TResult2> {
    return this.#core.awaitResult().then(onfulfilled, onrejected);
  }

  /** Same as `then(undefined, onrejected)`. */
  catch<TResult = never>(onrejected?: ((reason: unknown) => TResult | PromiseLike<TResult>) | null): Promise<unknown> {
    return this.#core.awaitResult().catch(onrejected);
  }

  /** Runs `onfinally` once the awaited call has settled. */
  finally(onfinally?: (() => void) | null): Promise<unknown> {
    return this.#core.awaitResult().finally(onfinally);
  }

  /** Iterates the call: each streamed item, or the single `OK` value once. */
  [Symbol.asyncIterator](): AsyncIterator<unknown> {
    return this.#core.iterate();
  }
}
