// The consumers of a call's engine when a promise chain is needed: `around` middleware, the
// `CallResult` of `invoke()` (await it or iterate it) and the iterator of `stream()`. Thin
// adapters: the call's life is all in the engine (call-engine.ts).
import { Fifo } from "@zrpc/channel";
import type { CallResult } from "./call.js";
import { CallEngine } from "./call-engine.js";
import type { CallInit, CallListener } from "./call-engine.js";
import { runAround } from "./middleware.js";

type Step = IteratorResult<unknown, undefined>;

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

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

/** How the call ended, kept until the iteration reaches it. */
type Ending =
  | { readonly kind: "value"; readonly value: unknown }
  | { readonly kind: "done" }
  | { readonly kind: "error"; readonly error: unknown };

const ENDED_DONE: Ending = Object.freeze({ kind: "done" });

/** A pending `next()` of the iterator. */
interface Waiter {
  resolve(step: Step): void;
  reject(error: unknown): void;
}

/**
 * One call behind the `around` middleware chain, whose innermost `next()` starts the engine.
 * Consumers: {@link CallCore.awaitResult} (the value, or all stream items as an array) and
 * {@link CallCore.iterate} (stream form); until one of them comes, what the engine delivers is kept.
 *
 * The stream path is the hot one (one `next()` per item): an item that arrives while a `next()`
 * waits settles it directly, and an item the engine delivers during `next()` (it was buffered in
 * the channel) is returned at once; only items nobody asked for yet are queued.
 * @internal
 */
export class CallCore implements CallListener {
  private readonly engine: CallEngine;
  private readonly init: CallInit;
  private started = false;
  /** The innermost `next()` ran (whether or not the request could be sent). */
  private sent = false;
  private abandoned = false;
  private mode: "await" | "iterate" | undefined;
  /** Nothing more will be delivered. */
  private ended = false;
  /** The iteration is over (done returned, or an error thrown once): `next()` gives done. */
  private finished = false;
  /** Items delivered but not taken yet, in order (before {@link ending}). */
  private readonly pending = new Fifo<unknown>();
  /** How the call ended, once delivered and until the iteration reaches it. */
  private ending: Ending | undefined;
  /** The oldest pending `next()`; later concurrent ones queue in {@link laterWaiters}. */
  private waiter: Waiter | undefined;
  private readonly laterWaiters = new Fifo<Waiter>();
  /** The items of a streamed reply being awaited. */
  private items: unknown[] | undefined;
  /** Settles when the call is over; what `around`'s `next()` returns. */
  private readonly outcome = deferred<unknown>();
  /** The outer promise of the middleware chain: what an awaiting caller gets. */
  private result: Promise<unknown> | undefined;

  constructor(init: CallInit) {
    this.init = init;
    this.engine = new CallEngine(init, this);
  }

  /** Runs the middleware chain, whose innermost `next()` sends the request. Idempotent. */
  start(): void {
    if (this.started) return;
    this.started = true;
    const result = runAround(this.init.host.middleware, this.engine.request, () => this.send());
    result.then(
      (value) => this.answeredWithoutSending({ kind: "value", value }),
      (error: unknown) => this.answeredWithoutSending({ kind: "error", error }),
    );
    this.result = result;
  }

  /** The unary form: reads to the end and returns the middleware chain's result. */
  awaitResult(): Promise<unknown> {
    this.start();
    if (this.mode === undefined) {
      this.mode = "await";
      while (this.pending.length > 0) (this.items ??= []).push(this.pending.shift());
      // A value or an error settled the outcome already; the chain's result is what counts.
      if (this.ending?.kind === "done") this.outcome.resolve(this.items ?? []);
      this.ending = undefined;
      this.engine.pull();
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
      next: () => this.next(),
      // Not queued behind a pending next(): closing the call is what ends that one (with done).
      return: () => this.abandon(),
      [Symbol.asyncIterator]: () => iterator,
    };
    return iterator;
  }

  /** The innermost `next()` of the middleware chain. */
  private send(): Promise<unknown> {
    if (this.sent || this.abandoned) return this.outcome.promise;
    this.sent = true;
    this.engine.start();
    return this.outcome.promise;
  }

  /** A middleware answered without calling `next()`: its result is the one value. */
  private answeredWithoutSending(ending: Ending): void {
    if (this.sent || this.ended) return;
    this.ended = true;
    // An awaiting caller gets the chain's result itself.
    if (this.mode === "await") return;
    this.end(ending);
  }

  // ------------------------------------------------------------------ CallListener

  /** @internal */
  onValue(value: unknown): void {
    this.ended = true;
    this.outcome.resolve(value);
    if (this.mode !== "await") this.end({ kind: "value", value });
  }

  /** @internal */
  onItem(value: unknown): void {
    if (this.mode === "await") {
      (this.items ??= []).push(value);
      this.engine.pull();
      return;
    }
    const waiter = this.waiter;
    if (waiter !== undefined && this.pending.length === 0) {
      // The common case of a stream: a next() waits for exactly this item.
      this.waiter = this.laterWaiters.shift();
      waiter.resolve({ done: false, value });
      if (this.waiter !== undefined) this.drain();
      return;
    }
    this.pending.push(value);
    if (this.mode === "iterate") this.drain();
  }

  /** @internal */
  onDone(): void {
    this.ended = true;
    if (this.mode === "await") this.outcome.resolve(this.items ?? []);
    else this.end(ENDED_DONE);
  }

  /** @internal */
  onError(error: unknown): void {
    this.ended = true;
    this.outcome.reject(error);
    if (this.mode !== "await") this.end({ kind: "error", error });
  }

  // ------------------------------------------------------------------ iteration

  private end(ending: Ending): void {
    this.ending = ending;
    if (this.mode === "iterate") this.drain();
  }

  /** Something to give a `next()` now: an item, the end, or the finished iteration's done. */
  private get ready(): boolean {
    return this.pending.length > 0 || this.ending !== undefined || this.finished;
  }

  private next(): Promise<Step> {
    this.start();
    if (this.waiter === undefined) {
      // Fast path: an item already delivered, or buffered in the channel (the engine then
      // delivers it at once, into `pending` as nobody waits), settles this next() without waiting.
      if (!this.ready && !this.ended) this.engine.pull();
      if (this.ready || this.ended) {
        try {
          return Promise.resolve(this.take());
        } catch (error) {
          // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- what the call ends with (a hook may throw anything)
          return Promise.reject(error);
        }
      }
      // The engine reads (pull above); the item settles this promise from onItem.
      return new Promise<Step>((resolve, reject) => {
        this.waiter = { resolve, reject };
      });
    }
    return new Promise<Step>((resolve, reject) => {
      this.laterWaiters.push({ resolve, reject });
      this.drain();
    });
  }

  /**
   * The next step of the iteration, from what was delivered: throws the call's error once, then
   * gives done. Only when {@link ready}.
   */
  private take(): Step {
    if (this.finished) return DONE;
    if (this.pending.length > 0) return { done: false, value: this.pending.shift() };
    const ending = this.ending;
    if (ending === undefined) {
      this.finished = true;
      return DONE;
    }
    switch (ending.kind) {
      case "value":
        // The one value of a unary reply (or of a middleware's answer), then done.
        this.ending = ENDED_DONE;
        return { done: false, value: ending.value };
      case "done":
        this.finished = true;
        this.outcome.resolve(undefined);
        return DONE;
      case "error":
        this.finished = true;
        throw ending.error;
    }
  }

  /** Hands what was delivered to the pending `next()` calls, and asks for more while some wait. */
  private drain(): void {
    while (this.waiter !== undefined) {
      if (!this.ready && !this.ended) {
        // A no-op unless the engine is streaming and idle; it may deliver (and drain) at once.
        this.engine.pull();
        return;
      }
      const waiter = this.waiter;
      this.waiter = this.laterWaiters.shift();
      try {
        waiter.resolve(this.take());
      } catch (error) {
        waiter.reject(error);
      }
    }
  }

  /** The consumer left the iteration early: close the call; no hook, nothing sent. */
  private abandon(): Promise<Step> {
    this.abandoned = true;
    this.ended = true;
    this.finished = true;
    while (this.pending.length > 0) this.pending.shift();
    this.ending = undefined;
    this.engine.abandon();
    this.outcome.resolve(undefined);
    this.drain();
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
