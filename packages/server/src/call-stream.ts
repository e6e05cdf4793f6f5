// The stream loop of a call on the answering side (docs/protocol section 8): each item of a
// stream handler's iterator goes out as a bare STREAM event under the peer's `_zpc_more` credit,
// and an iterator stopped early gets its return() called. Below: call-state.ts; above:
// server-call.ts.
import { EventNames } from "@zrpc/wire";
import { CallState } from "./call-state.js";
import { publishCallItem } from "./diagnostics.js";
import { ServiceError } from "./errors.js";
import { pythonTypeName } from "./python.js";

/** Items a stream sends before yielding to the event loop (so its transport can drain). */
const STREAM_YIELD_EVERY = 64;

type AnyIterator = Iterator<unknown> | AsyncIterator<unknown>;

/** @internal */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === "object" || typeof value === "function") &&
    value !== null &&
    typeof (value as { then?: unknown }).then === "function"
  );
}

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

/** @internal Python's type name of a generator object a non-stream method returned, if it is one. */
export function generatorKind(value: unknown): string | undefined {
  const tag = Object.prototype.toString.call(value);
  if (tag === "[object Generator]") return "generator";
  if (tag === "[object AsyncGenerator]") return "async_generator";
  return undefined;
}

/** @internal A call that can stream its handler's items. */
export abstract class StreamingCall extends CallState {
  /** STREAM events sent so far. */
  protected items = 0;
  private iterator: AnyIterator | undefined;
  private iteratorClosed = false;

  /** Sends each item as a bare `STREAM` event under the peer's `_zpc_more` credit (section 8). */
  protected async stream(iterable: unknown): Promise<void> {
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
        if (this.diagnostics !== undefined) publishCallItem(this.diagnostics, value, this.items);
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
  protected stopIteration(): void {
    const iterator = this.iterator;
    if (iterator === undefined || this.iteratorClosed) return;
    this.iteratorClosed = true;
    this.closeIteratorOf(iterator);
  }

  /** The error for a generator a plain method returned; the generator is closed. */
  protected generatorError(result: unknown, kind: string): ServiceError {
    // docs/protocol §6.3: a plain method returning a generator fails like Python, it is not streamed.
    this.closeIteratorOf(result);
    return new ServiceError("TypeError", `can not serialize '${kind}' object`);
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
}
