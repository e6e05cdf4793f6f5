// A promise together with the functions that settle it: "the handler got here" signals.

/** A promise with its `resolve` and `reject` exposed, and whether it has settled. */
export interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(reason: unknown): void;
  /** True once `resolve` or `reject` was called. */
  readonly settled: boolean;
}

/** A new {@link Deferred}. Settling it a second time does nothing, as with a plain promise. */
export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  let settled = false;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return {
    promise,
    resolve(value) {
      settled = true;
      resolve(value);
    },
    reject(reason) {
      settled = true;
      reject(reason);
    },
    get settled() {
      return settled;
    },
  };
}

/** Lets `rounds` turns of queued microtasks run (in-memory deliveries, promise chains). */
export async function flushMicrotasks(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await Promise.resolve();
}

/**
 * Waits for `promise` to reject: its reason and how long that took (ms, from this call). Throws
 * if it resolves instead.
 */
export async function timedRejection(promise: Promise<unknown>): Promise<{ error: unknown; ms: number }> {
  const started = performance.now();
  try {
    await promise;
  } catch (error) {
    return { error, ms: performance.now() - started };
  }
  throw new Error("the promise resolved (a rejection was expected)");
}
