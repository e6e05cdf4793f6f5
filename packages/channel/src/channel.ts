import { EventNames, PROTOCOL_VERSION, ZrpcError, newMessageId } from "@zrpc/wire";
import type { Event, MessageId, WireHeader } from "@zrpc/wire";
import type { Clock } from "./clock.js";
import type { HeartbeatBucket, HeartbeatTimers } from "./heartbeat-timers.js";
import { ChannelClosedError, LostRemote } from "./errors.js";
import { ZrpcExtensions, readCaps, readCancelReason } from "./extensions.js";
import type { CancelReason } from "./extensions.js";
import type { Peer } from "./transport.js";

/** Which end of a call a channel is: the side that sent the request, or the side that got it. */
export type ChannelRole = "client" | "server";

/** How a channel ended. Exactly one of these is reported per channel, once. */
export type ChannelEnd =
  | { readonly kind: "closed" }
  | { readonly kind: "lost-remote"; readonly error: LostRemote }
  | { readonly kind: "overflow"; readonly error: ZrpcError }
  | { readonly kind: "shutdown"; readonly error: Error };

/** Per-channel settings; the multiplexer fills them from its own options. */
export interface ChannelSettings {
  /** Heartbeat interval in ms; 0 turns heartbeats (and loss detection) off for this side. */
  readonly heartbeatMs: number;
  /** Do not send heartbeats before the peer's first one (docs/protocol section 7, passive mode). */
  readonly passiveHeartbeat: boolean;
  /** Receive buffer `B`: how many events the peer may have in flight to us (default 100). */
  readonly receiveBuffer: number;
  readonly clock: Clock;
  /** Shared heartbeat timers (one clock timer per due millisecond); without it, one timer per channel. */
  readonly timers?: HeartbeatTimers;
  /** A name for the peer in `LostRemote` messages (a client's server endpoint). */
  readonly peerName?: () => string | undefined;
}

/** What a channel needs from its multiplexer (implemented by {@link Multiplexer}; not for applications). */
export interface ChannelHost {
  emit(peer: Peer, event: Event): void;
  forget(channel: Channel): void;
}

/**
 * What a {@link Channel} is created with (by its multiplexer; not for applications).
 * @internal
 */
export interface ChannelInit {
  /** The multiplexer that owns the channel. */
  readonly host: ChannelHost;
  readonly role: ChannelRole;
  /** The peer on the other end. */
  readonly peer: Peer;
  /** The channel id. */
  readonly id: MessageId;
  /** Key of the channel in its multiplexer's table. */
  readonly key: string;
  readonly settings: ChannelSettings;
}

/**
 * Receives the result of {@link Channel.takeInto}: exactly one of its methods is called, once.
 * A `Promise`'s resolve/reject pair fits, and so does any object with these two methods.
 */
export interface TakeReceiver {
  resolve(event: Event): void;
  reject(error: Error): void;
}

type Waiter = TakeReceiver;

const HEARTBEAT_ARGS: readonly number[] = Object.freeze([0]);

/**
 * One call's conversation (docs/protocol section 5): every event whose `response_to` is this
 * channel's id. It keeps both per-channel mechanisms of zerorpc:
 *
 * - heartbeat (section 7): `_zpc_hb [0]` every interval, and the peer is lost when none of its
 *   heartbeats arrived for more than two intervals;
 * - flow control (section 8): sending costs one credit (the peer grants more with `_zpc_more`),
 *   and receiving grants the peer credit as the application takes events, exactly as
 *   zerorpc-python does (`[B - reserved]` once `reserved < B / 2`, never before the first take).
 *
 * Neither `_zpc_hb` nor `_zpc_more` ever reaches the application. A channel has no close message
 * on the wire; {@link Channel.close} only ends it locally.
 */
export class Channel {
  /** The channel id: the `message_id` of the event that opened it, with its msgpack type. */
  readonly id: MessageId;
  /** The peer on the other end. */
  readonly peer: Peer;
  readonly role: ChannelRole;
  /** @internal Key of this channel in its multiplexer's table. */
  readonly key: string;
  /**
   * The protocol version the peer announced in the first event it sent on this channel
   * (`undefined` when that event had no `v`, which zerorpc-python treats as version 1).
   */
  remoteVersion: number | undefined;
  /**
   * The zrpc extensions the peer announced on this channel (`zrpc_caps` of any event it sent:
   * the request on a server, a `_zpc_hb` or a reply on a client), or `undefined` when it announced
   * none, as a zerorpc-python peer never does. See docs/protocol/README.md, "zrpc extensions".
   */
  remoteCaps: readonly string[] | undefined;

  private readonly host: ChannelHost;
  private readonly settings: ChannelSettings;
  private open = true;
  private ending: ChannelEnd | undefined;
  private endListeners: ((end: ChannelEnd) => void)[] | undefined;
  private controller: AbortController | undefined;

  // flow control: what we may send, and what we have granted
  private sendCredit = 1;
  private creditWaiters: (() => void)[] | undefined;
  private reserved = 1;
  private takenFirst = false;
  private pendingGrantCheck = false;
  private readonly queue: Event[] = [];
  private queueHead = 0;
  private waiter: Waiter | undefined;
  private seenFirst = false;
  private compatV2 = false;

  // heartbeat
  private heartbeatTimer: unknown;
  private heartbeatStarted = false;
  private lastRemoteHeartbeat: number | undefined;
  private remoteHeartbeats = 0;
  /** Shortest gap between two of the peer's heartbeats: its interval, for LostRemote's message. */
  private remoteInterval: number | undefined;
  private openedAt: number | undefined;
  /** Set while the client waits for a connection: the peer cannot be lost before it could be reached. */
  private lossHeld = false;

  // zrpc extensions
  private announcement: Readonly<Record<string, unknown>> | undefined;
  private announcedOnReply = false;
  private cancelListener: ((reason: CancelReason) => void) | undefined;
  private cancelSent = false;

  /** @internal Created by the multiplexer. */
  constructor(init: ChannelInit) {
    this.host = init.host;
    this.role = init.role;
    this.peer = init.peer;
    this.id = init.id;
    this.key = init.key;
    this.settings = init.settings;
  }

  /** True until the channel has ended. */
  get isOpen(): boolean {
    return this.open;
  }

  /** How the channel ended, once it has. */
  get end(): ChannelEnd | undefined {
    return this.ending;
  }

  /** Credit left: how many more non-heartbeat events may be sent before the peer grants more. */
  get credit(): number {
    return this.sendCredit;
  }

  /** Events received and not yet taken by the application. */
  get buffered(): number {
    return this.queue.length - this.queueHead;
  }

  /**
   * An AbortSignal that aborts when the channel ends, with the reason: a {@link LostRemote}, an
   * overflow error, a shutdown error, or a {@link ChannelClosedError} for a plain local close.
   */
  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      if (!this.open) this.controller.abort(endError(this.ending));
    }
    return this.controller.signal;
  }

  /** Call `listener` once when the channel ends (at once if it already has). */
  onEnd(listener: (end: ChannelEnd) => void): void {
    if (this.ending !== undefined) {
      listener(this.ending);
      return;
    }
    (this.endListeners ??= []).push(listener);
  }

  /**
   * Send one event on this channel. `_zpc_hb` and `_zpc_more` are free; anything else costs one
   * credit and throws a `ZrpcError` with code `"backpressure"` when none is left (wait with
   * {@link Channel.whenWritable} first). Throws code `"closed"` on an ended channel.
   */
  send(name: string, args: unknown, extraHeader?: Readonly<Record<string, unknown>>): void {
    if (!this.open) throw new ChannelClosedError("cannot send on a closed channel");
    if (name === EventNames.heartbeat || name === EventNames.more || name === ZrpcExtensions.cancelEvent) {
      this.emitRaw(name, args, extraHeader);
      return;
    }
    if (this.sendCredit <= 0) {
      throw new ZrpcError("backpressure", `no credit left to send ${name} (wait for _zpc_more)`);
    }
    // Encode (and possibly fail) before spending the credit: a failed send costs nothing.
    this.emitRaw(name, args, extraHeader);
    this.sendCredit -= 1;
  }

  /**
   * Client role, zrpc extension: asks the server to stop the call by sending `_zrpc_cancel
   * [reason]` (free of credit, like `_zpc_hb`), at most once per channel. Only send it to a server
   * that announced the `"cancel"` capability (see {@link remoteCaps}); the caller closes the
   * channel afterwards as usual. Returns false (and sends nothing) when the channel is closed, a
   * cancel was sent already or the transport refused it.
   */
  sendCancel(reason: CancelReason = "canceled"): boolean {
    if (!this.open || this.cancelSent) return false;
    this.cancelSent = true;
    try {
      this.emitRaw(ZrpcExtensions.cancelEvent, [reason]);
      return true;
    } catch {
      // A full or closed transport: the server still notices through the missing heartbeats.
      return false;
    }
  }

  /**
   * Server role, zrpc extension: from now on a `_zrpc_cancel` event from the peer calls
   * `listener` (once) with its reason instead of being buffered like an unknown event. Only
   * enable it for requests that announced the `"cancel"` capability. The channel itself stays
   * open: the listener decides what to do (typically abort the handler and close the channel).
   */
  onCancel(listener: (reason: CancelReason) => void): void {
    this.cancelListener = listener;
  }

  /**
   * zrpc extension: extra header keys (e.g. `zrpc_caps`) for every `_zpc_hb` this channel sends
   * from now on and for the next event that costs credit (the first reply). Protocol keys cannot
   * be replaced. Use it only towards a peer that announced zrpc extensions itself.
   */
  announce(header: Readonly<Record<string, unknown>>): void {
    this.announcement = header;
    this.announcedOnReply = false;
  }

  /**
   * Resolves when at least one credit is available (at once if one is), or rejects when the
   * channel ends first. A zerorpc-python sender waits for credit forever; so does this: only the
   * heartbeat ends a peer that stopped granting.
   */
  whenWritable(): Promise<void> {
    if (!this.open) return Promise.reject(endError(this.ending));
    if (this.sendCredit > 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const waiters = (this.creditWaiters ??= []);
      waiters.push(() => {
        if (this.open) resolve();
        else reject(endError(this.ending));
      });
    });
  }

  /**
   * Take the next application event (not `_zpc_hb` / `_zpc_more`). Before every take but the
   * first, grants the peer more credit when its window fell under half (docs/protocol section 8).
   * Rejects when the channel ends with nothing buffered. Only one take may be pending.
   */
  take(): Promise<Event> {
    const event = this.tryTake();
    if (event !== undefined) return Promise.resolve(event);
    if (!this.open) return Promise.reject(endError(this.ending));
    if (this.waiter !== undefined) return Promise.reject(new ZrpcError("closed", "a take() is already pending on this channel"));
    return new Promise<Event>((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  /**
   * The callback form of {@link take}, without a promise: `receiver.resolve(event)` with the next
   * application event, or `receiver.reject(error)` when the channel ends first; called
   * synchronously when an event is buffered or the channel has ended already, else when one
   * arrives. Flow control is the same as for `take()`. Only one take may be pending.
   */
  takeInto(receiver: TakeReceiver): void {
    const event = this.tryTake();
    if (event !== undefined) {
      receiver.resolve(event);
      return;
    }
    if (!this.open) {
      receiver.reject(endError(this.ending));
      return;
    }
    if (this.waiter !== undefined) {
      receiver.reject(new ZrpcError("closed", "a take() is already pending on this channel"));
      return;
    }
    this.waiter = receiver;
  }

  /**
   * Take the next buffered event without waiting, or return `undefined`. Either way this counts
   * as one take for flow control (the grant check runs once per take, as in zerorpc-python, where
   * the grant goes out before the receiver blocks); a take that found nothing is completed by the
   * next event to arrive or by a following `take()`.
   */
  tryTake(): Event | undefined {
    if (this.queueHead >= this.queue.length) {
      // Nothing buffered: the grant still happens now, because zerorpc grants before blocking.
      if (this.open && this.waiter === undefined) this.grantBeforeTake();
      return undefined;
    }
    this.grantBeforeTake();
    const event = this.queue[this.queueHead]!;
    this.queue[this.queueHead] = undefined as unknown as Event;
    this.queueHead += 1;
    if (this.queueHead > 64 && this.queueHead * 2 > this.queue.length) {
      this.queue.splice(0, this.queueHead);
      this.queueHead = 0;
    }
    this.reserved -= 1;
    this.pendingGrantCheck = false;
    return event;
  }

  private grantBeforeTake(): void {
    if (this.pendingGrantCheck) return;
    this.pendingGrantCheck = true;
    if (!this.takenFirst) {
      this.takenFirst = true;
      return;
    }
    const size = this.settings.receiveBuffer;
    if (this.reserved < Math.floor(size / 2)) {
      const grant = size - this.reserved;
      this.reserved = size;
      if (this.open) this.emitRaw(EventNames.more, [grant]);
    }
  }

  /**
   * End the channel locally: stop its heartbeat, forget it in the multiplexer, reject a pending
   * take. Nothing is sent (zerorpc has no close message). Idempotent.
   */
  close(): void {
    this.finish({ kind: "closed" });
  }

  /** @internal End with a given reason (lost remote, overflow, shutdown). */
  finish(end: ChannelEnd): void {
    if (!this.open) return;
    this.open = false;
    this.ending = end;
    this.stopHeartbeat();
    this.host.forget(this);
    // An ended channel delivers nothing more, not even what was buffered: its end is the answer.
    this.queue.length = 0;
    this.queueHead = 0;
    // The end error is built only when someone is there to receive it: a plain close of a
    // finished call (the common case) allocates no error and captures no stack.
    const waiter = this.waiter;
    if (waiter !== undefined) {
      this.waiter = undefined;
      waiter.reject(endError(end));
    }
    const creditWaiters = this.creditWaiters;
    if (creditWaiters !== undefined) {
      this.creditWaiters = undefined;
      for (const wake of creditWaiters) wake();
    }
    const controller = this.controller;
    if (controller !== undefined) controller.abort(endError(end));
    const listeners = this.endListeners;
    if (listeners !== undefined) {
      this.endListeners = undefined;
      for (const listener of listeners) listener(end);
    }
  }

  /**
   * @internal Start the heartbeat loop (no-op when heartbeats are off or it runs already). Active
   * sides call it when the channel opens; passive ones on the peer's first heartbeat.
   */
  startHeartbeat(): void {
    if (this.settings.heartbeatMs <= 0 || this.heartbeatStarted || !this.open) return;
    this.heartbeatStarted = true;
    this.openedAt ??= this.settings.clock.now();
    this.scheduleBeat();
  }

  /**
   * @internal Client role: while `hold` is true (the client has no connection to its server and
   * waits for one), heartbeats still go out but the peer is not declared lost; releasing starts
   * the grace over, as if the channel opened then, unless the peer heartbeated already.
   */
  holdLossDetection(hold: boolean): void {
    if (this.lossHeld === hold) return;
    this.lossHeld = hold;
    if (!hold && this.remoteHeartbeats === 0) {
      const now = this.settings.clock.now();
      if (this.lastRemoteHeartbeat !== undefined) this.lastRemoteHeartbeat = now;
      if (this.openedAt !== undefined) this.openedAt = now;
    }
  }

  /** @internal The client's request went out on the channel's one initial credit. */
  consumeInitialCredit(): void {
    this.sendCredit -= 1;
  }

  /**
   * @internal The server side of a call: the request was this channel's first event and counts as
   * taken (so the reply uses our one initial credit and no `_zpc_more` is ever sent for it).
   */
  acceptRequest(request: Event): void {
    this.seenFirst = true;
    if (request.header[ZrpcExtensions.capsKey] !== undefined) this.remoteCaps = readCaps(request.header);
    const v = request.header.v;
    this.remoteVersion = typeof v === "number" ? v : undefined;
    this.compatV2 = this.remoteVersion === undefined || this.remoteVersion < PROTOCOL_VERSION;
    this.takenFirst = true;
    this.reserved = 0;
    // docs/protocol section 7: a server is passive towards requests without v or with v < 2.
    if (this.remoteVersion !== undefined && this.remoteVersion >= 2 && !this.settings.passiveHeartbeat) this.startHeartbeat();
  }

  /** @internal An event of this channel arrived from the peer. */
  deliver(event: Event): void {
    if (!this.open) return;
    if (!this.seenFirst) {
      this.seenFirst = true;
      const v = event.header.v;
      this.remoteVersion = typeof v === "number" ? v : undefined;
      this.compatV2 = this.remoteVersion === undefined || this.remoteVersion < PROTOCOL_VERSION;
    }
    if (event.header[ZrpcExtensions.capsKey] !== undefined) this.remoteCaps = readCaps(event.header) ?? this.remoteCaps;
    const name = event.name;
    if (name === EventNames.heartbeat) {
      const now = this.settings.clock.now();
      const last = this.lastRemoteHeartbeat;
      if (this.remoteHeartbeats > 0 && last !== undefined && now > last) {
        const gap = now - last;
        if (this.remoteInterval === undefined || gap < this.remoteInterval) this.remoteInterval = gap;
      }
      this.remoteHeartbeats += 1;
      this.lastRemoteHeartbeat = now;
      if (!this.heartbeatStarted) this.startHeartbeat();
      // zerorpc v2 peers used heartbeats as credit too.
      if (this.compatV2) this.addCredit(event.args);
      return;
    }
    if (name === EventNames.more) {
      this.addCredit(event.args);
      return;
    }
    if (name === ZrpcExtensions.cancelEvent && this.cancelListener !== undefined) {
      const listener = this.cancelListener;
      this.cancelListener = undefined;
      listener(readCancelReason(event.args));
      return;
    }
    if (this.buffered >= this.settings.receiveBuffer) {
      // docs/protocol section 8: a peer that ignores our window is an error on this channel only.
      this.finish({
        kind: "overflow",
        error: new ZrpcError("limit", `channel queue overflow: peer sent more than ${this.settings.receiveBuffer} events without credit`),
      });
      return;
    }
    const waiter = this.waiter;
    if (waiter !== undefined && this.queueHead >= this.queue.length) {
      this.waiter = undefined;
      this.reserved -= 1;
      this.pendingGrantCheck = false;
      waiter.resolve(event);
      return;
    }
    this.queue.push(event);
  }

  private addCredit(args: unknown): void {
    const amount = Array.isArray(args) ? (args[0] as unknown) : undefined;
    const n = typeof amount === "bigint" ? Number(amount) : amount;
    // Python logs and ignores a malformed _zpc_more; so do we.
    if (typeof n !== "number" || !Number.isFinite(n) || n <= 0) return;
    this.sendCredit += Math.floor(n);
    const waiters = this.creditWaiters;
    if (waiters !== undefined && this.sendCredit > 0) {
      this.creditWaiters = undefined;
      for (const wake of waiters) wake();
    }
  }

  private emitRaw(name: string, args: unknown, extraHeader?: Readonly<Record<string, unknown>>): void {
    const announcement = this.announcement;
    let firstReply = false;
    if (announcement !== undefined) {
      firstReply = !this.announcedOnReply && name !== EventNames.heartbeat && name !== EventNames.more && name !== ZrpcExtensions.cancelEvent;
      if (firstReply || name === EventNames.heartbeat) {
        extraHeader = extraHeader === undefined ? announcement : { ...extraHeader, ...announcement };
      }
    }
    // Python's wire order: message_id, v, task-context keys, response_to. Extra keys can never
    // replace the three protocol keys.
    const header: WireHeader =
      extraHeader === undefined
        ? { message_id: newMessageId(), v: PROTOCOL_VERSION, response_to: this.id }
        : { ...extraHeader, message_id: newMessageId(), v: PROTOCOL_VERSION, response_to: this.id };
    this.host.emit(this.peer, { header, name, args });
    if (firstReply) this.announcedOnReply = true;
  }

  private scheduleBeat(): void {
    const { clock, heartbeatMs, timers } = this.settings;
    this.heartbeatTimer = timers === undefined ? clock.setTimeout(() => this.beat(), heartbeatMs) : timers.schedule(this, heartbeatMs);
  }

  /** @internal Called by the shared heartbeat timers. */
  heartbeatDue(): void {
    this.beat();
  }

  private beat(): void {
    this.heartbeatTimer = undefined;
    if (!this.open) return;
    const { clock, heartbeatMs } = this.settings;
    const now = clock.now();
    // One interval of grace when the peer never heartbeated (zerorpc-python's loop does this).
    this.lastRemoteHeartbeat ??= now;
    // ">=" rather than Python's ">": Python's ticks drift late, so its strict test fires on the
    // tick two intervals after the last beat; with exact timers ">=" gives the same tick.
    if (this.lossHeld) this.lastRemoteHeartbeat = now;
    else if (now >= this.lastRemoteHeartbeat + 2 * heartbeatMs) {
      this.finish({ kind: "lost-remote", error: this.lostRemote(now) });
      return;
    }
    try {
      this.emitRaw(EventNames.heartbeat, HEARTBEAT_ARGS);
    } catch {
      // A full or closed transport: the peer will judge us by the heartbeats that do get through.
    }
    this.scheduleBeat();
  }

  private lostRemote(now: number): LostRemote {
    const { heartbeatMs, peerName } = this.settings;
    const since = this.remoteHeartbeats > 0 ? this.lastRemoteHeartbeat : this.openedAt;
    const name = peerName?.();
    return new LostRemote(heartbeatMs, {
      role: this.role,
      silentMs: since === undefined ? 2 * heartbeatMs : now - since,
      peerHeartbeats: this.remoteHeartbeats,
      ...(this.remoteInterval !== undefined && { peerHeartbeatMs: this.remoteInterval }),
      ...(name !== undefined && { peerName: name }),
    });
  }

  private stopHeartbeat(): void {
    const timer = this.heartbeatTimer;
    if (timer !== undefined) {
      const { timers, clock } = this.settings;
      if (timers === undefined) clock.clearTimeout(timer);
      else timers.cancel(this, timer as HeartbeatBucket);
      this.heartbeatTimer = undefined;
    }
  }
}

function endError(end: ChannelEnd | undefined): Error {
  if (end === undefined || end.kind === "closed") return new ChannelClosedError();
  return end.error;
}
