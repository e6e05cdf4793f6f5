// `node:diagnostics_channel` events of the answering side: every call that runs publishes `start`,
// then `item` per STREAM item sent, then `error` (when it answered ERR) and `end`, each with the
// same message object, so an APM can trace calls without a middleware (as undici publishes
// `undici:request:*`). Nothing is built and nothing is published while nobody subscribes: a call
// checks the channels' `hasSubscribers` once, when it starts, and carries no message otherwise.
import type { Channel as DiagnosticsChannel } from "node:diagnostics_channel";
import type { Peer } from "@zrpc/channel";
import type { MessageId, WireHeader } from "@zrpc/wire";
import type { CallContext } from "./call-context.js";
import type { CallOutcome } from "./middleware.js";

/**
 * The names of the `node:diagnostics_channel` channels the server publishes on, one message per
 * event, all of a call's events with the same {@link ServerCallMessage} object:
 *
 * - `start` (`"zrpc:server:call:start"`): the call is about to run (its `maxConcurrentCalls` slot
 *   granted, before the `beforeCall` hooks). Published with `channel.runStores()`, so an
 *   `AsyncLocalStorage` bound to this channel with `bindStore()` holds its value for the whole
 *   call: middleware, handler, replies.
 * - `item` (`"zrpc:server:call:item"`): one `STREAM` item was sent (`message.item`, `message.items`).
 * - `error` (`"zrpc:server:call:error"`): the call answered `ERR` (`message.error`: what was
 *   thrown); `end` follows.
 * - `end` (`"zrpc:server:call:end"`): the call is over, once per call that published `start`
 *   (`message.outcome`, the {@link CallOutcome} the `onEnd` hooks get), before the `onEnd` hooks.
 *
 * A call publishes only if one of the four channels had a subscriber when it started; a subscriber
 * added later sees the calls started after it. Requests dropped before they run (a deadline passed
 * on arrival, a client lost while its call waited for a slot, a closing server) publish nothing.
 */
export const SERVER_CALL_CHANNELS = Object.freeze({
  start: "zrpc:server:call:start",
  item: "zrpc:server:call:item",
  error: "zrpc:server:call:error",
  end: "zrpc:server:call:end",
} as const);

/**
 * The message of every diagnostics event of one served call (see {@link SERVER_CALL_CHANNELS}).
 * One object per call, updated as the call goes on: keep per-call state on it (a `WeakMap` keyed
 * by it, or a symbol-keyed property). References, not copies: do not change `args` or `header`.
 */
export interface ServerCallMessage {
  /** The method name the client called. */
  readonly method: string;
  /** The positional arguments (the call context's array itself). */
  readonly args: readonly unknown[];
  /** The request's header: `message_id`, `v` and the client's task-context keys (`traceparent`, ...). */
  readonly header: Readonly<WireHeader>;
  /** The client (for ZeroMQ: its routing envelope and key). */
  readonly peer: Peer;
  /** The request's `message_id`: the id of the call. */
  readonly id: MessageId;
  /** The service name (as `_zerorpc_name` answers). */
  readonly serverName: string;
  /** The call's context, as handlers and middleware get it (`introspection`, `signal`, `locals`, ...). */
  readonly context: CallContext;
  /** `STREAM` items sent so far. */
  readonly items: number;
  /** In an `item` event: that item (afterwards: the last one). */
  readonly item: unknown;
  /** In `end`: how the call ended (as the `onEnd` hooks see it); `undefined` before. */
  readonly outcome: CallOutcome | undefined;
  /** In `error` and `end` after an `ERR`: what was thrown (the `error` of the outcome). */
  readonly error: unknown;
}

/** The minimal part of `node:diagnostics_channel` used here. */
interface DiagnosticsChannels {
  channel(name: string): DiagnosticsChannel;
}

interface CallChannels {
  readonly start: DiagnosticsChannel;
  readonly item: DiagnosticsChannel;
  readonly error: DiagnosticsChannel;
  readonly end: DiagnosticsChannel;
}

/**
 * The channels, or `undefined` on a runtime without `node:diagnostics_channel` (found through
 * `process.getBuiltinModule`, so that no import fails where it is missing: then nothing is published).
 */
function openChannels(): CallChannels | undefined {
  try {
    const host = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
    const module = host?.getBuiltinModule?.("node:diagnostics_channel") as Partial<DiagnosticsChannels> | undefined;
    if (typeof module?.channel !== "function") return undefined;
    const open = (name: string): DiagnosticsChannel => module.channel!(name);
    return {
      start: open(SERVER_CALL_CHANNELS.start),
      item: open(SERVER_CALL_CHANNELS.item),
      error: open(SERVER_CALL_CHANNELS.error),
      end: open(SERVER_CALL_CHANNELS.end),
    };
  } catch {
    return undefined;
  }
}

const channels = openChannels();

/**
 * The message of one served call; the call updates it, subscribers read it as a
 * {@link ServerCallMessage}.
 * @internal
 */
export class ServerCallRecord implements ServerCallMessage {
  readonly method: string;
  readonly args: readonly unknown[];
  readonly header: Readonly<WireHeader>;
  readonly peer: Peer;
  readonly id: MessageId;
  readonly serverName: string;
  readonly context: CallContext;
  items = 0;
  item: unknown = undefined;
  outcome: CallOutcome | undefined = undefined;
  error: unknown = undefined;

  constructor(context: CallContext) {
    this.method = context.method;
    this.args = context.args;
    this.header = context.header;
    this.peer = context.peer;
    this.id = context.requestId;
    this.serverName = context.serverName;
    this.context = context;
  }
}

/**
 * A call is about to run: when any call channel has a subscriber, returns its message (`start` is
 * published by {@link runCallStarted}); otherwise `undefined`, and nothing is allocated.
 * @internal
 */
export function callDiagnostics(context: CallContext): ServerCallRecord | undefined {
  if (channels === undefined) return undefined;
  const { start, item, error, end } = channels;
  if (!(start.hasSubscribers || end.hasSubscribers || error.hasSubscribers || item.hasSubscribers)) return undefined;
  return new ServerCallRecord(context);
}

/**
 * Publishes `start` and runs `run` (on `thisArg`) inside the stores bound to the start channel
 * (`channel.runStores`; where the runtime lacks it, after a plain publish).
 * @internal
 */
export function runCallStarted<This, R>(record: ServerCallRecord, run: (this: This) => R, thisArg: This): R {
  const start = channels!.start;
  // A store bound with bindStore() counts as a subscriber.
  if (!start.hasSubscribers) return run.call(thisArg);
  if (typeof start.runStores === "function") return start.runStores(record, run, thisArg);
  start.publish(record);
  return run.call(thisArg);
}

/** @internal One `STREAM` item was sent; `count` is the call's number of items so far. */
export function publishCallItem(record: ServerCallRecord, value: unknown, count: number): void {
  record.items = count;
  record.item = value;
  const channel = channels!.item;
  if (channel.hasSubscribers) channel.publish(record);
}

/** @internal The call settled: `error` first after an `ERR`, then `end`. */
export function publishCallEnd(record: ServerCallRecord, outcome: CallOutcome): void {
  if (record.outcome !== undefined) return;
  record.outcome = outcome;
  const { error, end } = channels!;
  if (outcome.kind === "error") {
    record.error = outcome.error;
    if (error.hasSubscribers) error.publish(record);
  }
  if (end.hasSubscribers) end.publish(record);
}
