// What a test opened, closed after it: servers, clients, transports, pools.

/** Something with a `close()` (sync or async). */
export interface Closable {
  close(): unknown;
}

/**
 * Collects what a test opens and closes it all afterwards: `add(resource)` or `defer(fn)` while
 * the test runs, `closeAll()` in an `afterEach`. Reverse order by default (newest first, so a
 * client closes before its server); `"parallel"` closes everything at once.
 */
export class Resources {
  private readonly closers: (() => unknown)[] = [];

  /** Registers `resource` and returns it. */
  add<T extends Closable>(resource: T): T {
    this.closers.push(() => resource.close());
    return resource;
  }

  /** Registers a close function. */
  defer(close: () => unknown): void {
    this.closers.push(close);
  }

  /** How many are waiting to be closed. */
  get size(): number {
    return this.closers.length;
  }

  /** Closes and forgets everything registered so far. The first failure is thrown after all ran. */
  async closeAll(order: "reverse" | "parallel" = "reverse"): Promise<void> {
    const closers = this.closers.splice(0);
    const failures: unknown[] = [];
    if (order === "parallel") {
      const results = await Promise.allSettled(closers.map((close) => Promise.resolve().then(close)));
      for (const result of results) if (result.status === "rejected") failures.push(result.reason);
    } else {
      for (const close of closers.reverse()) {
        try {
          await close();
        } catch (error) {
          failures.push(error);
        }
      }
    }
    if (failures.length > 0) throw failures[0];
  }
}

/** Reads an async iterable one item at a time through its single iterator. */
export interface Reader<T> {
  /** The next item; rejects if the iteration ended. */
  next(): Promise<T>;
  /** The next `count` items. */
  take(count: number): Promise<T[]>;
  /** Resolves true if the iteration ends (rather than yielding another item). */
  done(): Promise<boolean>;
}

/** Wraps the (only) iterator of `iterable` in a {@link Reader}. */
export function reader<T>(iterable: AsyncIterable<T>): Reader<T> {
  const iterator = iterable[Symbol.asyncIterator]();
  const next = async (): Promise<T> => {
    const result = await iterator.next();
    if (result.done === true) throw new Error("iteration ended");
    return result.value;
  };
  return {
    next,
    async take(count) {
      const items: T[] = [];
      for (let i = 0; i < count; i++) items.push(await next());
      return items;
    },
    async done() {
      return (await iterator.next()).done === true;
    },
  };
}

/** Bytes of a UTF-8 string. */
export function utf8(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

/** The UTF-8 text of some bytes. */
export function utf8Text(data: Uint8Array): string {
  return new TextDecoder().decode(data);
}
