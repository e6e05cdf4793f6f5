// The abort and deadline plumbing of one call on the answering side: the lazily made
// `context.signal`, racing hooks and handlers against the abort, the client's deadline
// (docs/protocol/README.md, "zrpc extensions") and `_zrpc_cancel`, the channel's end and the
// server's shutdown. The layers above add the reply (call-state.ts), the stream loop
// (call-stream.ts) and the middleware orchestration (server-call.ts).
import { ChannelClosedError, ZrpcExtensions, readDeadline } from "@zrpc/channel";
import type { CancelReason, Channel, ChannelEnd } from "@zrpc/channel";
import type { Event } from "@zrpc/wire";
import type { Dispatcher } from "./dispatcher.js";
import { CallCanceled, DeadlineExceeded } from "./errors.js";
import type { CallOutcome } from "./middleware.js";

/** An abort reason, or how to make it (built only when someone looks at it). */
export type AbortReason = Error | (() => Error);

/** The announcement a server adds to its heartbeats and first reply for a cancel-capable request. */
const CANCEL_ANNOUNCEMENT: Readonly<Record<string, unknown>> = Object.freeze({
  [ZrpcExtensions.capsKey]: Object.freeze([ZrpcExtensions.cancelCap]),
});

/** The abort reason for a channel end (the same errors the channel's own signal uses). */
function endReason(end: ChannelEnd): AbortReason {
  return end.kind === "closed" ? () => new ChannelClosedError("call ended") : end.error;
}

function reasonError(reason: AbortReason): Error {
  return typeof reason === "function" ? reason() : reason;
}

/**
 * @internal The bottom layer of a call being served: when and why it stops. Deciding the outcome
 * ({@link settle}) and closing the handler's iterator ({@link stopIteration}) belong to the
 * layers above.
 */
export abstract class AbortableCall {
  /** True once the outcome is decided (onEnd fired or firing); nothing is sent after that. */
  isSettled = false;
  readonly dispatcher: Dispatcher<AbortableCall>;
  readonly channel: Channel;
  /** The client's deadline (epoch ms), when it sent one and deadlines are honoured. */
  readonly deadline: number | undefined;
  /** Made on the first read of `context.signal`. */
  private controller: AbortController | undefined;
  /** Set once the call is aborted: the reason (or how to build it). */
  protected abortReason: AbortReason | undefined;
  /** Waiting on {@link race}: told once when the call is aborted. */
  private abortWaiters: ((reason: Error) => void)[] | undefined;
  private deadlineTimer: unknown;
  /** The first reply event (OK, ERR, STREAM, STREAM_DONE) went out: the deadline no longer applies. */
  protected firstReplySent = false;

  constructor(dispatcher: Dispatcher<AbortableCall>, channel: Channel, request: Event) {
    this.dispatcher = dispatcher;
    this.channel = channel;
    this.deadline =
      dispatcher.extensions.deadline && request.header[ZrpcExtensions.deadlineKey] !== undefined ? readDeadline(request.header) : undefined;
  }

  /** Decides the outcome (once); see call-state.ts. */
  protected abstract settle(outcome: CallOutcome): void;

  /** Lets a stream handler's iterator finish when the call stops early; see call-stream.ts. */
  protected abstract stopIteration(): void;

  /**
   * Listens for `_zrpc_cancel` and the channel's end. Called last by the constructor of the
   * concrete call: the end listener fires at once if the channel has already ended.
   */
  protected listen(): void {
    const { channel } = this;
    if (this.dispatcher.extensions.cancel && channel.remoteCaps?.includes(ZrpcExtensions.cancelCap) === true) {
      // docs/protocol/README.md, "zrpc extensions": only for requests that announced "cancel".
      channel.onCancel((reason) => this.canceledByClient(reason));
      channel.announce(CANCEL_ANNOUNCEMENT);
    }
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
  protected resolveReason(reason: AbortReason): Error {
    if (typeof reason !== "function") return reason;
    const error = reasonError(reason);
    this.abortReason = error;
    return error;
  }

  /**
   * Settles like `promise`, or rejects with the abort reason as soon as the call is aborted,
   * whatever `promise` does (so a hook or handler that ignores the signal cannot hold the call).
   */
  protected race<T>(promise: Promise<T>): Promise<T> {
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
  private canceledByClient(reason: CancelReason): void {
    if (this.isSettled) return;
    if (reason === "timeout") {
      this.abort(new DeadlineExceeded(this.deadline));
      this.settle({ kind: "timed-out" });
      return;
    }
    const error = new CallCanceled(reason);
    this.abort(error);
    this.settle({ kind: "canceled", reason: error });
  }

  /** The first reply went out: the deadline no longer applies. */
  protected clearDeadline(): void {
    this.firstReplySent = true;
    this.disarmDeadline();
  }

  /** Stops the deadline timer, if one runs. */
  protected disarmDeadline(): void {
    if (this.deadlineTimer !== undefined) {
      this.dispatcher.clock.clearTimeout(this.deadlineTimer);
      this.deadlineTimer = undefined;
    }
  }

  /** The server gives up on this call (close() after its grace period). */
  shutdown(reason: Error): void {
    if (this.isSettled) return;
    this.abort(reason);
    this.settle({ kind: "shutdown" });
  }

  protected abort(reason: AbortReason): void {
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
        this.settle({ kind: "canceled", reason: this.resolveReason(this.abortReason ?? endReason(end)) });
        break;
    }
  }
}
