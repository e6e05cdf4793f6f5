import { Fifo } from "./fifo.js";
import type { Peer, TransportMessage } from "./transport.js";

/** The synchronous reader of a transport, as given to `Transport.onMessage`. */
export type MessageListener = (peer: Peer, payload: Uint8Array) => void;

/** How a second reader tried to read a {@link TransportInbox}. */
export type ReaderKind = "iterator" | "listener";

/** Options of a {@link TransportInbox}. */
export interface TransportInboxOptions {
  /**
   * Queued messages at which the inbox asks the adapter to stop reading (`onPause`); it asks it
   * to go on (`onResume`) once the reader has taken the queue down to half of this. `0` (the
   * default) never pauses. A listener takes every message at once, so it never fills the queue.
   */
  readonly highWaterMark?: number;
  /**
   * The queue reached `highWaterMark`, or the iterator's reader stopped (`return()`): the adapter
   * should stop reading from its sockets. Called with the number of queued messages.
   */
  readonly onPause?: (queued: number) => void;
  /**
   * The reader caught up (or a listener took over) after an `onPause`: the adapter may read
   * again. Called with the number of queued messages. Never called once the inbox has ended.
   */
  readonly onResume?: (queued: number) => void;
  /**
   * Receives what a listener threw (the message is then dropped; the inbox goes on). Throwing
   * listeners are ignored when this is not set.
   */
  readonly onListenerError?: (error: Error) => void;
  /**
   * The error thrown to a second reader (a transport has one). Defaults to an `Error` saying
   * "a transport has exactly one reader".
   */
  readonly secondReaderError?: (attempt: ReaderKind) => Error;
}

interface Waiter {
  resolve(result: IteratorResult<TransportMessage, undefined>): void;
  reject(error: Error): void;
}

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

function toError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}

/**
 * The receiving side of a `Transport`, for transport authors: the adapter pushes every
 * message it reads, and the inbox hands them to the transport's one reader, which is either the
 * async iterator or an `onMessage` listener. A transport class typically delegates
 * `[Symbol.asyncIterator]()` and `onMessage()` to it and calls `end()` when it closes.
 *
 * - Messages are queued until the iterator asks for them; a listener gets them synchronously,
 *   including those queued before it was set.
 * - A second reader (another iterator, or a listener besides the iterator) gets an error.
 * - With a `highWaterMark`, the inbox tells the adapter when to stop and when to go on reading
 *   (`onPause`/`onResume`), so that a slow reader pushes back on the sockets.
 * - `end()` ends iteration: pending and later reads finish, queued messages are dropped, and an
 *   error given to `end()` is thrown once to the reader.
 *
 * ```ts
 * class MyTransport implements Transport {
 *   readonly #inbox = new TransportInbox({
 *     highWaterMark: 1000,
 *     onPause: () => this.#socket.pause(),
 *     onResume: () => this.#socket.resume(),
 *   });
 *   // In the socket's data handler: this.#inbox.push(peer, payload);
 *   [Symbol.asyncIterator]() {
 *     return this.#inbox[Symbol.asyncIterator]();
 *   }
 *   onMessage(listener: MessageListener) {
 *     this.#inbox.onMessage(listener);
 *   }
 *   // In close(): this.#inbox.end();
 * }
 * ```
 */
export class TransportInbox implements AsyncIterable<TransportMessage> {
  readonly #queue = new Fifo<TransportMessage>();
  readonly #waiters = new Fifo<Waiter>();
  readonly #highWaterMark: number;
  readonly #options: TransportInboxOptions;
  #listener: MessageListener | undefined;
  #iterating = false;
  #ended = false;
  /** Thrown once by the next read, when `end(error)` found no read pending. */
  #endError: Error | undefined;
  #paused = false;

  constructor(options: TransportInboxOptions = {}) {
    const highWaterMark = options.highWaterMark ?? 0;
    if (!Number.isInteger(highWaterMark) || highWaterMark < 0) {
      throw new RangeError(`highWaterMark must be a non-negative integer, got ${String(highWaterMark)}`);
    }
    this.#highWaterMark = highWaterMark;
    this.#options = options;
  }

  /** Messages received and not yet taken by the reader. */
  get length(): number {
    return this.#queue.length;
  }

  /** True between an `onPause` and the next `onResume`: the adapter should not read. */
  get paused(): boolean {
    return this.#paused;
  }

  /** True once `end()` was called or the iterator's reader stopped. */
  get ended(): boolean {
    return this.#ended;
  }

  /**
   * One received message: to the listener if one is set (even after `end()`: the adapter decides
   * when to stop pushing), else to a pending read, else into the queue. Dropped once ended.
   */
  push(peer: Peer, payload: Uint8Array): void {
    const listener = this.#listener;
    if (listener !== undefined) {
      this.#call(listener, peer, payload);
      return;
    }
    if (this.#ended) return;
    const waiter = this.#waiters.shift();
    if (waiter !== undefined) {
      waiter.resolve({ done: false, value: { peer, payload } });
      return;
    }
    this.#queue.push({ peer, payload });
    const highWaterMark = this.#highWaterMark;
    if (highWaterMark > 0 && this.#queue.length >= highWaterMark) this.#pause();
  }

  /**
   * Makes `listener` the reader: it gets every queued message now, and every later one as it is
   * pushed. Throws a `TypeError` for a non-function, and the second-reader error when iteration
   * started or a listener is set. Resumes reading if the inbox was paused.
   */
  onMessage(listener: MessageListener): void {
    if (typeof listener !== "function") throw new TypeError("onMessage needs a function");
    this.#claim("listener");
    this.#listener = listener;
    const queue = this.#queue;
    for (let message = queue.shift(); message !== undefined; message = queue.shift()) {
      this.#call(listener, message.peer, message.payload);
    }
    this.#resume();
  }

  /**
   * The one iterator over the received messages. Throws the second-reader error when called
   * again or when a listener is set. Its `return()` (the reader stopped) ends the inbox and
   * pauses reading for good.
   */
  [Symbol.asyncIterator](): AsyncIterator<TransportMessage, undefined> {
    this.#claim("iterator");
    this.#iterating = true;
    return {
      next: () => this.#next(),
      return: () => {
        this.end();
        this.#pause();
        return Promise.resolve(DONE);
      },
    };
  }

  /**
   * Ends iteration: queued messages are dropped and pending reads finish. With `error`, the
   * first pending read rejects with it, or, when none is pending, the next read does (once);
   * reads after that are done.
   */
  end(error?: Error): void {
    this.#ended = true;
    this.#queue.clear();
    let pending = error;
    const waiters = this.#waiters;
    for (let waiter = waiters.shift(); waiter !== undefined; waiter = waiters.shift()) {
      if (pending === undefined) {
        waiter.resolve(DONE);
      } else {
        waiter.reject(pending);
        pending = undefined;
      }
    }
    if (pending !== undefined) this.#endError = pending;
  }

  #next(): Promise<IteratorResult<TransportMessage, undefined>> {
    if (this.#ended) {
      const error = this.#endError;
      if (error === undefined) return Promise.resolve(DONE);
      this.#endError = undefined;
      return Promise.reject(error);
    }
    const message = this.#queue.shift();
    if (message !== undefined) {
      if (this.#paused && this.#queue.length <= this.#highWaterMark >> 1) this.#resume();
      return Promise.resolve({ done: false, value: message });
    }
    return new Promise((resolve, reject) => {
      this.#waiters.push({ resolve, reject });
    });
  }

  #claim(attempt: ReaderKind): void {
    if (!this.#iterating && this.#listener === undefined) return;
    const make = this.#options.secondReaderError;
    throw make === undefined ? new Error("a transport has exactly one reader") : make(attempt);
  }

  #call(listener: MessageListener, peer: Peer, payload: Uint8Array): void {
    try {
      listener(peer, payload);
    } catch (error) {
      const report = this.#options.onListenerError;
      if (report === undefined) return;
      try {
        report(toError(error));
      } catch {
        // A throwing error handler must not break the inbox.
      }
    }
  }

  #pause(): void {
    if (this.#paused) return;
    this.#paused = true;
    this.#options.onPause?.(this.#queue.length);
  }

  #resume(): void {
    if (!this.#paused || this.#ended) return;
    this.#paused = false;
    this.#options.onResume?.(this.#queue.length);
  }
}
