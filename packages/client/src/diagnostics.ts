// `node:diagnostics_channel` events of the calling side: every call an engine starts publishes
// `start`, then `item` per STREAM item, then `error` (when it failed) and `end`, each with the same
// message object, so an APM can trace calls without a middleware (as undici publishes
// `undici:request:*`). Nothing is built and nothing is published while nobody subscribes: a call
// checks the channels' `hasSubscribers` once, when it starts, and carries no message otherwise.
import type { Channel as DiagnosticsChannel } from "node:diagnostics_channel";
import type { MessageId } from "@zrpc/wire";
import type { CallOptions } from "./call-options.js";

/**
 * The names of the `node:diagnostics_channel` channels the client publishes on, one message per
 * event, all of a call's events with the same {@link ClientCallMessage} object:
 *
 * - `start` (`"zrpc:client:call:start"`): the call is about to be sent (before the `beforeRequest`
 *   hooks). Synchronous with the `call()`/`invoke()`/first `next()` that starts it, so a subscriber
 *   sees the caller's async context; keys it adds to `message.header` go out in the request.
 * - `item` (`"zrpc:client:call:item"`): one `STREAM` item arrived (`message.item`, `message.items`).
 * - `error` (`"zrpc:client:call:error"`): the call failed (`message.error`); `end` follows.
 * - `end` (`"zrpc:client:call:end"`): the call is over, once per call that published `start`
 *   (`message.outcome`, and `message.result` or `message.error`).
 *
 * A call publishes only if one of the four channels had a subscriber when it started; a subscriber
 * added later sees the calls started after it.
 */
export const CLIENT_CALL_CHANNELS = Object.freeze({
  start: "zrpc:client:call:start",
  item: "zrpc:client:call:item",
  error: "zrpc:client:call:error",
  end: "zrpc:client:call:end",
} as const);

/**
 * How a client call ended: `"ok"` (an `OK` reply, value in `result`), `"stream-done"` (`STREAM_DONE`
 * after `items` items), `"error"` (the call failed: `ERR`, timeout, cancellation, lost server,
 * protocol error, closed client or a hook's error; in `error`), `"abandoned"` (the consumer left a
 * stream early).
 */
export type ClientCallOutcome = "ok" | "stream-done" | "error" | "abandoned";

/**
 * The message of every diagnostics event of one client call (see {@link CLIENT_CALL_CHANNELS}).
 * One object per call, updated as the call goes on: keep per-call state on it (a `WeakMap` keyed
 * by it, or a symbol-keyed property). References, not copies: do not change `args`.
 */
export interface ClientCallMessage {
  /** The remote method name. */
  readonly method: string;
  /** The positional arguments (the caller's array itself). */
  readonly args: readonly unknown[];
  /**
   * The request's extra header keys (task context), the object middleware see as
   * `request.header`: keys a `start` subscriber adds are sent (`message_id`, `v` and `response_to`
   * are reserved). The deadline and capability keys of zrpc's extensions are not in it.
   */
  readonly header: Record<string, unknown>;
  /** The call's options (timeout, deadline, signal, ...). */
  readonly options: CallOptions;
  /**
   * The endpoints the client connects to (`"tcp://127.0.0.1:4242"`, several joined with `", "`),
   * read when accessed: those its transport reported a connection or a failure for (the
   * transports of `connect()` do), so `undefined` before the first connection is up and for
   * transports that report nothing.
   */
  readonly endpoint: string | undefined;
  /** The request's `message_id` once it is sent (`undefined` in `start`, or if it never was). */
  readonly id: MessageId | undefined;
  /** `STREAM` items received so far. */
  readonly items: number;
  /** In an `item` event: that item (afterwards: the last one). */
  readonly item: unknown;
  /** In `end`: how the call ended; `undefined` before. */
  readonly outcome: ClientCallOutcome | undefined;
  /** In `end` after `"ok"`: the `OK` value. */
  readonly result: unknown;
  /** In `error` and `end` after `"error"`: what the call fails with (as the caller gets it). */
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
      start: open(CLIENT_CALL_CHANNELS.start),
      item: open(CLIENT_CALL_CHANNELS.item),
      error: open(CLIENT_CALL_CHANNELS.error),
      end: open(CLIENT_CALL_CHANNELS.end),
    };
  } catch {
    return undefined;
  }
}

const channels = openChannels();

/**
 * The message of one call; the engine updates it, subscribers read it as a {@link ClientCallMessage}.
 * @internal
 */
export class ClientCallRecord implements ClientCallMessage {
  readonly method: string;
  readonly args: readonly unknown[];
  readonly header: Record<string, unknown>;
  readonly options: CallOptions;
  readonly #host: EndpointSource;
  id: MessageId | undefined = undefined;
  items = 0;
  item: unknown = undefined;
  outcome: ClientCallOutcome | undefined = undefined;
  result: unknown = undefined;
  error: unknown = undefined;

  constructor(request: CallRequestView, host: EndpointSource) {
    this.method = request.method;
    this.args = request.args;
    this.header = request.header;
    this.options = request.options;
    this.#host = host;
  }

  get endpoint(): string | undefined {
    return this.#host.endpointName();
  }
}

/** Where a call's endpoint is read from (its client). */
interface EndpointSource {
  endpointName(): string | undefined;
}

/** What a call's message is made from (the engine's request). */
interface CallRequestView {
  readonly method: string;
  readonly args: readonly unknown[];
  readonly header: Record<string, unknown>;
  readonly options: CallOptions;
}

/**
 * A call starts: when any call channel has a subscriber, makes its message and publishes `start`;
 * otherwise returns `undefined` and allocates nothing.
 * @internal
 */
export function startCallDiagnostics(request: CallRequestView, host: EndpointSource): ClientCallRecord | undefined {
  if (channels === undefined) return undefined;
  const { start, item, error, end } = channels;
  if (!(start.hasSubscribers || end.hasSubscribers || error.hasSubscribers || item.hasSubscribers)) return undefined;
  const record = new ClientCallRecord(request, host);
  if (start.hasSubscribers) start.publish(record);
  return record;
}

/** @internal One `STREAM` item of a call that has a message. */
export function publishCallItem(record: ClientCallRecord, value: unknown): void {
  record.items += 1;
  record.item = value;
  const channel = channels!.item;
  if (channel.hasSubscribers) channel.publish(record);
}

/** @internal The call ended without an error (`ok` with `result`, `stream-done`, `abandoned`). */
export function publishCallEnd(record: ClientCallRecord, outcome: Exclude<ClientCallOutcome, "error">, result?: unknown): void {
  if (record.outcome !== undefined) return;
  record.outcome = outcome;
  record.result = result;
  const channel = channels!.end;
  if (channel.hasSubscribers) channel.publish(record);
}

/** @internal The call failed with `error`: `error`, then `end`. */
export function publishCallError(record: ClientCallRecord, error: unknown): void {
  if (record.outcome !== undefined) return;
  record.outcome = "error";
  record.error = error;
  const { error: errorChannel, end } = channels!;
  if (errorChannel.hasSubscribers) errorChannel.publish(record);
  if (end.hasSubscribers) end.publish(record);
}
