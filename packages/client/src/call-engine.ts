// The one state machine of a call on the calling side: send the request, wait for the first reply
// (with the timeout), then read OK / ERR / STREAM... / STREAM_DONE, ending early on an abort, a
// lost server or an abandoning consumer. Callback-driven: the channel calls it back for each reply
// event and it calls its listener back; promises, iterators and `around` middleware are adapters
// over it (call-result.ts). docs/protocol sections 6 and 9.
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
import { publishCallEnd, publishCallError, publishCallItem, startCallDiagnostics } from "./diagnostics.js";
import type { ClientCallRecord } from "./diagnostics.js";
import { CanceledError } from "./errors.js";
import type { CallSite } from "./errors.js";
import { defineOwnKeys, runAfterReply, runBeforeRequest } from "./middleware.js";
import type { ClientRequest } from "./middleware.js";
import type { CallOptions } from "./options.js";
import { okValue } from "./reply.js";

/**
 * What a call is made of.
 * @internal
 */
export interface CallInit {
  readonly host: CallHost;
  readonly method: string;
  readonly args: readonly unknown[];
  readonly options: CallOptions;
  /** Where the call was made, for the stack of its errors (`undefined`: added on failure by the caller). */
  readonly site: CallSite | undefined;
}

/**
 * Receives what a {@link CallEngine} reads. After `onValue`, `onDone` or `onError` the call is
 * over and nothing more is called.
 * @internal
 */
export interface CallListener {
  /** The value of an `OK` reply. */
  onValue(value: unknown): void;
  /** One `STREAM` item. The engine reads the next event only on {@link CallEngine.pull}. */
  onItem(item: unknown): void;
  /** `STREAM_DONE`. */
  onDone(): void;
  /** The error the call ends with. */
  onError(error: unknown): void;
}

/** "idle" before the request is sent, "first" until the first reply, "stream" while items flow. */
type Phase = "idle" | "first" | "stream" | "done";

/**
 * The state machine of one call. `start()` sends the request and reads the first reply at once
 * (the timeout is about its arrival, and a unary reply must close the call even if nobody reads
 * it); after a `STREAM` item it waits for {@link pull} (credit follows the consumer).
 * @internal
 */
export class CallEngine implements TakeReceiver {
  readonly request: ClientRequest;
  private readonly host: CallHost;
  private readonly site: CallSite | undefined;
  private readonly listener: CallListener;
  private phase: Phase = "idle";
  private channel: Channel | undefined;
  /** A take is pending on the channel. */
  private reading = false;
  private gotReply = false;
  /** Set by the timeout or an abort before they close the channel: the error the call ends with. */
  private failure: unknown;
  /** The listener heard of the error already. */
  private failed = false;
  private timer: unknown;
  private abortListener: (() => void) | undefined;
  /** The call's diagnostics message, when someone subscribed to the call channels at its start. */
  private diagnostics: ClientCallRecord | undefined;

  constructor(init: CallInit, listener: CallListener) {
    this.host = init.host;
    this.site = init.site;
    this.listener = listener;
    const { method, args, options } = init;
    const header: Record<string, unknown> = {};
    if (options.header !== undefined) defineOwnKeys(header, options.header);
    this.request = { method, args, header, options };
  }

  /** The call is over (answered, failed or abandoned). */
  get isOver(): boolean {
    return this.phase === "done";
  }

  /** Sends the request (or fails the call at once) and starts reading the first reply. Once only. */
  start(): void {
    if (this.phase !== "idle") return;
    const { method, args, options } = this.request;
    const host = this.host;
    let timeoutMs = effectiveTimeout(options, host.defaultTimeoutMs);
    let channel: Channel;
    try {
      if (typeof method !== "string") throw new TypeError(`method must be a string, got ${typeof method}`);
      if (!Array.isArray(args)) throw new TypeError("args must be an array of positional arguments");
      this.diagnostics = startCallDiagnostics(this.request, host);
      throwIfCallAborted(this.request);
      if (host.middleware.length > 0) {
        runBeforeRequest(host.middleware, this.request);
        throwIfCallAborted(this.request);
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
      this.phase = "done";
      if (this.diagnostics !== undefined) publishCallError(this.diagnostics, error);
      this.listener.onError(error);
      return;
    }
    this.channel = channel;
    if (this.diagnostics !== undefined) this.diagnostics.id = channel.id;
    this.phase = "first";
    if (timeoutMs > 0) this.timer = host.timerClock.setTimeout(() => this.onTimeout(timeoutMs), timeoutMs);
    const signal = options.signal;
    if (signal !== undefined) {
      this.abortListener = () => this.onAbort(signal);
      signal.addEventListener("abort", this.abortListener, { once: true });
    }
    this.read();
  }

  /** Reads the next stream event; a no-op unless the call is streaming and no read is pending. */
  pull(): void {
    if (this.phase === "stream" && !this.reading) this.read();
  }

  /** The consumer left: closes the call (cancel extension permitting, tells the server); no hook runs. */
  abandon(): void {
    if (this.phase === "done") return;
    this.cancelRemote("abandoned");
    this.end();
    if (this.diagnostics !== undefined) publishCallEnd(this.diagnostics, "abandoned");
  }

  private read(): void {
    this.reading = true;
    this.channel!.takeInto(this);
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

  /** {@link TakeReceiver}: the next reply event. */
  resolve(event: Event): void {
    if (this.phase === "done") return;
    this.reading = false;
    const first = this.phase === "first";
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
        if (this.diagnostics !== undefined) publishCallEnd(this.diagnostics, "ok", ok.value);
        this.listener.onValue(ok.value);
        return;
      }
      case EventNames.stream:
        this.phase = "stream";
        if (this.diagnostics !== undefined) publishCallItem(this.diagnostics, event.args);
        this.listener.onItem(event.args);
        return;
      case EventNames.streamDone:
        this.end();
        if (this.after(event, undefined) !== undefined) return;
        if (this.diagnostics !== undefined) publishCallEnd(this.diagnostics, "stream-done");
        this.listener.onDone();
        return;
      case EventNames.err:
        this.fail(this.after(event, remoteErrorOf(this.host, this.request, this.site, event)));
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
    if (this.phase === "done") return;
    this.reading = false;
    // A timeout's or an abort's error, else the channel's, marked retryable if nothing was answered.
    this.fail(this.failure !== undefined ? this.failure : lostRemoteOf(error, this.gotReply));
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

  /** Ends the call with `error` (the listener hears of it once). */
  private fail(error: unknown): void {
    this.end();
    if (this.failed) return;
    this.failed = true;
    if (this.diagnostics !== undefined) publishCallError(this.diagnostics, error);
    this.listener.onError(error);
  }

  /** Stops the timer and the abort listener and closes the channel (nothing is sent). */
  private end(): void {
    this.phase = "done";
    this.clearTimer();
    const channel = this.channel;
    // Remember a server that can cancel, for calls canceled before it could announce itself.
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

/** The listener of an awaited call without `around` middleware: settles one promise. */
class Collector implements CallListener {
  engine: CallEngine | undefined;
  private items: unknown[] | undefined;
  readonly onValue: (value: unknown) => void;
  readonly onError: (error: unknown) => void;

  constructor(resolve: (value: unknown) => void, reject: (error: unknown) => void) {
    this.onValue = resolve;
    this.onError = reject;
  }

  onItem(item: unknown): void {
    (this.items ??= []).push(item);
    this.engine!.pull();
  }

  onDone(): void {
    this.onValue(this.items ?? []);
  }
}

/**
 * Starts an awaited call: `resolve` gets the `OK` value or the array of a streamed reply's items,
 * `reject` the error. Callbacks only, no promise of its own.
 * @internal
 */
export function collectCall(init: CallInit, resolve: (value: unknown) => void, reject: (error: unknown) => void): void {
  const collector = new Collector(resolve, reject);
  const engine = new CallEngine(init, collector);
  collector.engine = engine;
  engine.start();
}
