// What a pool proxy method returns: like the client's CallResult, both a promise (the value) and
// an async iterable (the items), but the connection is only taken once the caller has chosen.
import type { CallResult } from "@zrpc/client";
import { noop } from "./timers.js";

/** @internal What a proxy result runs its call or stream on: the pool. */
export interface PooledCalls {
  call(method: string, args: readonly unknown[]): Promise<unknown>;
  stream(method: string, args: readonly unknown[]): AsyncIterable<unknown>;
}

/**
 * The result of `pool.proxy.method(...args)`: `await` it for the value (`pool.call`), or iterate
 * it for the items (`pool.stream`). A pooled call must know which before it takes a connection
 * (a stream keeps its connection until it ends, a call gives it back with its reply), so the
 * call starts when the caller picks one. A result left alone until the next microtask is awaited by
 * the pool (a fire-and-forget call still runs, and its failure is not an unhandled rejection);
 * iterating it afterwards throws a `TypeError`.
 * @internal
 */
export class PoolCallResult implements CallResult<unknown, unknown> {
  readonly [Symbol.toStringTag] = "CallResult";
  readonly #pool: PooledCalls;
  readonly #method: string;
  readonly #args: readonly unknown[];
  #mode: "await" | "iterate" | undefined;
  #result: Promise<unknown> | undefined;

  constructor(pool: PooledCalls, method: string, args: readonly unknown[]) {
    this.#pool = pool;
    this.#method = method;
    this.#args = args;
    queueMicrotask(() => {
      if (this.#mode === undefined) this.#awaited().catch(noop);
    });
  }

  #awaited(): Promise<unknown> {
    if (this.#mode === "iterate") return Promise.resolve(undefined);
    this.#mode = "await";
    this.#result ??= this.#pool.call(this.#method, this.#args);
    return this.#result;
  }

  /** Awaits the call: the `OK` value, or the array of all items of a streamed reply. */
  then<TResult1 = unknown, TResult2 = never>(
    onfulfilled?: ((value: unknown) => TResult1 | PromiseLike<TResult1>) | null,
    onrejected?: ((reason: unknown) => TResult2 | PromiseLike<TResult2>) | null,
  ): Promise<TResult1 | TResult2> {
    return this.#awaited().then(onfulfilled, onrejected);
  }

  /** Same as `then(undefined, onrejected)`. */
  catch<TResult = never>(onrejected?: ((reason: unknown) => TResult | PromiseLike<TResult>) | null): Promise<unknown> {
    return this.#awaited().catch(onrejected);
  }

  /** Runs `onfinally` once the awaited call has settled. */
  finally(onfinally?: (() => void) | null): Promise<unknown> {
    return this.#awaited().finally(onfinally);
  }

  /** Iterates the call on a pooled connection held until the iteration ends: each streamed item, or the `OK` value once. */
  [Symbol.asyncIterator](): AsyncIterator<unknown> {
    if (this.#mode === "await") {
      throw new TypeError(
        `the result of pool.proxy.${this.#method}() is already being awaited; iterate it right away, or use pool.stream()`,
      );
    }
    if (this.#mode === "iterate") throw new TypeError(`the result of pool.proxy.${this.#method}() is already being iterated`);
    this.#mode = "iterate";
    return this.#pool.stream(this.#method, this.#args)[Symbol.asyncIterator]();
  }
}
