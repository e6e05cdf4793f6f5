// The fast form of `Client.call()`: one promise per call and callbacks for everything else. Used
// when no middleware has an `around` hook (those need the promise chain of CallCore); the outcome
// is the same as CallCore's awaited form in every case (docs/protocol sections 6 and 9).
import { ZrpcExtensions } from "@zrpc/channel";
import type { CancelReason, Channel, TakeReceiver } from "@zrpc/channel";
import { EventNames, ProtocolError } from "@zrpc/wire";
import type { Event } from "@zrpc/wire";
import type { CallHost } from "./call.js";
import {
  MAX_TIMER_MS,
  cancelRemoteCall,
  effectiveTimeout,
  explicitDeadline,
  lostRemoteOf,
  remoteErrorOf,
  throwIfCallAborted,
  timeoutErrorOf,
} from "./call.js";
import { CanceledError } from "./errors.js";
import type { CallSite } from "./errors.js";
import { runAfterReply, runBeforeRequest } from "./middleware.js";
import type { ClientRequest } from "./middleware.js";
import type { CallOptions } from "./options.js";
import { okValue } from "./reply.js";

const PHASE_FIRST = 0;
const PHASE_STREAM = 1;
const PHASE_DONE = 2;

/**
 * One awaited call: sends the request at once and settles its promise with the `OK` value, the
 * array of a streamed reply's items, or the error. Its channel calls it back
 * ({@link TakeReceiver}) for each reply event.
 * @internal
 */
export class UnaryCall implements TakeReceiver {
  readonly request: ClientRequest;
  private readonly host: CallHost;
  private readonly site: CallSite | undefined;
  private readonly settleValue: (value: unknown) => void;
  private readonly settleError: (error: unknown) => void;
  private phase = PHASE_FIRST;
  private channel: Channel | undefined;
  private gotReply = false;
  private items: unknown[] | undefined;
  /** Set by the timeout or an abort before they close the channel: the error the call ends with. */
  private failure: unknown;
  private timer: unknown;
  private abortListener: (() => void) | undefined;

  constructor(
    host: CallHost,
    method: string,
    args: readonly unknown[],
    options: CallOptions,
    site: CallSite | undefined,
    resolve: (value: unknown) => void,
    reject: (error: unknown) => void,
  ) {
    this.host = host;
    this.site = site;
    this.settleValue = resolve;
    this.settleError = reject;
    const header: Record<string, unknown> = {};
    if (options.header !== undefined) Object.assign(header, options.header);
    this.request = { method, args, header, options };
  }

  /** Sends the request (or fails the call at once). */
  start(): void {
    const { method, args, options } = this.request;
    const host = this.host;
    let timeoutMs = effectiveTimeout(options, host.defaultTimeoutMs);
    let channel: Channel;
    try {
      if (typeof method !== "string") throw new TypeError(`method must be a string, got ${typeof method}`);
      if (!Array.isArray(args)) throw new TypeError("args must be an array of positional arguments");
      this.throwIfAborted();
      if (host.middleware.length > 0) {
        runBeforeRequest(host.middleware, this.request);
        this.throwIfAborted();
      }
      const explicit = explicitDeadline(options);
      const sendDeadline = explicit !== undefined || (host.extensions.deadline && timeoutMs > 0);
      let deadline: number | undefined;
      if (sendDeadline) {
        // The deadline: now + timeout, or the explicit one when it comes first.
        const now = host.timerClock.now();
        if (explicit !== undefined) {
          const left = Math.ceil(explicit - now);
          if (left <= 0) throw this.timeoutError(0);
          if (timeoutMs === 0 || left < timeoutMs) timeoutMs = Math.min(left, MAX_TIMER_MS);
        }
        deadline = Math.ceil(now + timeoutMs);
      }
      channel = host.open(this.request, deadline === undefined ? undefined : { deadline });
    } catch (error) {
      this.phase = PHASE_DONE;
      this.settleError(error);
      return;
    }
    this.channel = channel;
    if (timeoutMs > 0) this.timer = host.timerClock.setTimeout(() => this.onTimeout(timeoutMs), timeoutMs);
    const signal = options.signal;
    if (signal !== undefined) {
      this.abortListener = () => this.onAbort(signal);
      signal.addEventListener("abort", this.abortListener, { once: true });
    }
    channel.takeInto(this);
  }

  private throwIfAborted(): void {
    throwIfCallAborted(this.request);
  }

  private timeoutError(timeoutMs: number): unknown {
    return timeoutErrorOf(this.host, this.request, this.site, timeoutMs);
  }

  private onTimeout(timeoutMs: number): void {
    this.timer = undefined;
    if (this.phase !== PHASE_FIRST) return;
    const error = this.timeoutError(timeoutMs);
    this.failure = error;
    this.cancelRemote("timeout");
    this.fail(error);
  }

  private onAbort(signal: AbortSignal): void {
    if (this.phase === PHASE_DONE) return;
    const error = new CanceledError(this.request.method, { cause: signal.reason });
    this.failure = error;
    this.cancelRemote("canceled");
    this.fail(error);
  }

  private cancelRemote(reason: CancelReason): void {
    cancelRemoteCall(this.host, this.channel, reason);
  }

  /** {@link TakeReceiver}: the next reply event. */
  resolve(event: Event): void {
    if (this.phase === PHASE_DONE) return;
    const first = this.phase === PHASE_FIRST;
    if (first) {
      this.gotReply = true;
      this.clearTimer();
    }
    switch (event.name) {
      case EventNames.ok: {
        if (!first) {
          this.fail(new ProtocolError("bad-event", `unexpected OK reply in the middle of a stream from ${this.request.method}`));
          return;
        }
        const ok = okValue(event);
        if ("error" in ok) {
          this.fail(this.after(event, ok.error));
          return;
        }
        if (this.after(event, undefined) !== undefined) return;
        this.end();
        this.settleValue(ok.value);
        return;
      }
      case EventNames.stream:
        this.phase = PHASE_STREAM;
        (this.items ??= []).push(event.args);
        this.channel!.takeInto(this);
        return;
      case EventNames.streamDone:
        this.end();
        if (this.after(event, undefined) !== undefined) return;
        this.settleValue(this.items ?? []);
        return;
      case EventNames.err:
        this.fail(this.after(event, this.remoteError(event)));
        return;
      default:
        this.fail(
          new ProtocolError(
            "bad-event",
            first
              ? `unable to find a pattern for the reply ${JSON.stringify(event.name)} to ${this.request.method} (expected OK, ERR, STREAM or STREAM_DONE)`
              : `unexpected ${JSON.stringify(event.name)} event in the stream from ${this.request.method}`,
          ),
        );
    }
  }

  /** {@link TakeReceiver}: the channel ended before the next reply. */
  reject(error: Error): void {
    if (this.phase === PHASE_DONE) return;
    this.fail(this.translate(error));
  }

  private remoteError(event: Event): unknown {
    return remoteErrorOf(this.host, this.request, this.site, event);
  }

  /**
   * Runs the `afterReply` hooks. When the reply was good (`error` undefined) and a hook throws,
   * the call fails with the hook's error and that error is returned; with an `error`, returns the
   * error the call ends with (`error`, or the hook's).
   */
  private after(reply: Event, error: unknown): unknown {
    if (this.host.middleware.length === 0) return error;
    try {
      runAfterReply(this.host.middleware, this.request, reply, error);
      return error;
    } catch (hookError) {
      if (error === undefined) this.fail(hookError);
      return hookError;
    }
  }

  /** Maps a channel-end error to what the caller sees. */
  private translate(error: unknown): unknown {
    return this.failure !== undefined ? this.failure : lostRemoteOf(error, this.gotReply);
  }

  /** Ends the call with `error` (a no-op for the promise if it settled already). */
  private fail(error: unknown): void {
    this.end();
    this.settleError(error);
  }

  /** Stops the timer and the abort listener and closes the channel (nothing is sent). */
  private end(): void {
    this.phase = PHASE_DONE;
    this.clearTimer();
    const channel = this.channel;
    // Remember a server that can cancel, for calls cancelled before it could announce itself.
    if (this.host.extensions.cancel && channel?.remoteCaps?.includes(ZrpcExtensions.cancelCap) === true) {
      this.host.serverCancels = true;
    }
    if (this.abortListener !== undefined) {
      this.request.options.signal?.removeEventListener("abort", this.abortListener);
      this.abortListener = undefined;
    }
    channel?.close();
  }

  private clearTimer(): void {
    if (this.timer !== undefined) {
      this.host.timerClock.clearTimeout(this.timer);
      this.timer = undefined;
    }
  }
}
