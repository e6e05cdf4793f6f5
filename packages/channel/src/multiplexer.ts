import { EventNames, ProtocolError, ZrpcError, decodeEvent, encodeEvent, encodeEventChunks, messageIdKey, newMessageId, PROTOCOL_VERSION } from "@zrpc/wire";
import type { DecodeOptions, EncodeOptions, Event, MessageId, WireHeader } from "@zrpc/wire";
import { Channel } from "./channel.js";
import type { ChannelEnd, ChannelHost, ChannelRole, ChannelSettings } from "./channel.js";
import { systemClock } from "./clock.js";
import type { Clock } from "./clock.js";
import { HeartbeatTimers } from "./heartbeat-timers.js";
import type { Peer, Transport } from "./transport.js";
import { SINGLE_PEER } from "./envelope.js";

/** Default heartbeat interval: 5 s, zerorpc-python's default (docs/protocol section 7). */
export const DEFAULT_HEARTBEAT_MS = 5_000;
/** Default receive buffer `B` per channel: 100, zerorpc-python's default (section 8). */
export const DEFAULT_RECEIVE_BUFFER = 100;
/**
 * Default of {@link MultiplexerOptions.maxChannelsPerPeer}: 10 000 open channels per peer. Far
 * above what a well-behaved client keeps open (zerorpc-python's own limit is its pool size), low
 * enough that one peer cannot make a server hold an unbounded number of calls.
 */
export const DEFAULT_MAX_CHANNELS_PER_PEER = 10_000;

/** Why an incoming message was dropped without reaching a channel. */
export type DropReason =
  | "unroutable" // response_to names no open channel (docs/protocol section 5: dropped quietly)
  | "no-response-to" // a client got an event that opens no channel
  | "duplicate-id" // a peer opened a second channel with the id of one still open
  | "closing" // the multiplexer is shutting down
  | "channel-limit"; // the peer has maxChannelsPerPeer channels open already (no onChannelLimit hook)

/** Options of {@link createMultiplexer}. */
export interface MultiplexerOptions {
  /** `"client"` opens channels; `"server"` accepts them (keyed by peer and message id). */
  readonly role: ChannelRole;
  /**
   * Heartbeat interval in ms (default {@link DEFAULT_HEARTBEAT_MS}); `0`, `null` or `false`
   * turns heartbeats and lost-remote detection off for this side.
   */
  readonly heartbeatMs?: number | null | false;
  /** Send no heartbeat on a channel before the peer's first one (default false). */
  readonly passiveHeartbeat?: boolean;
  /** Receive buffer `B` per channel (default {@link DEFAULT_RECEIVE_BUFFER}). */
  readonly receiveBuffer?: number;
  /** Time source for heartbeats (default {@link systemClock}). */
  readonly clock?: Clock;
  readonly decode?: DecodeOptions;
  readonly encode?: EncodeOptions;
  /**
   * Server role: a request opened a channel. The request was taken already (it used the
   * channel's first take); reply with `channel.send(...)`.
   */
  readonly onRequest?: (channel: Channel, request: Event) => void;
  /**
   * Server role: most channels one peer may have open at once (default
   * {@link DEFAULT_MAX_CHANNELS_PER_PEER}); a request beyond it opens no channel and goes to
   * {@link onChannelLimit} (or is dropped with reason `"channel-limit"` without that hook).
   * `0` or `Infinity` means no limit. Ignored in the client role.
   */
  readonly maxChannelsPerPeer?: number;
  /**
   * Server role: a request arrived from a peer that has {@link maxChannelsPerPeer} channels open
   * already. It opened no channel. `answer(name, args)` sends one event back in reply to it
   * (`response_to` = its id), for example an `ERR`; not calling it leaves the request unanswered.
   */
  readonly onChannelLimit?: (request: Event, peer: Peer, answer: (name: string, args: unknown) => void) => void;
  /** A message could not be decoded; it was dropped. */
  readonly onProtocolError?: (error: ProtocolError, peer: Peer) => void;
  /** A decoded event was dropped (see {@link DropReason}). */
  readonly onDrop?: (event: Event, peer: Peer, reason: DropReason) => void;
  /** One of the callbacks above threw; the message is dropped and reading goes on. */
  readonly onError?: (error: unknown) => void;
  /** A name for the peer in `LostRemote` messages, e.g. the endpoint a client is connected to. */
  readonly peerName?: () => string | undefined;
}

/** Per-channel overrides for {@link Multiplexer.open}. */
export interface OpenChannelOptions {
  /** Extra header keys for the request (task context). */
  readonly header?: Readonly<Record<string, unknown>>;
  readonly heartbeatMs?: number | null | false;
  readonly passiveHeartbeat?: boolean;
  /** Receive buffer `B` for this call (zerorpc-python's `slots=`). */
  readonly receiveBuffer?: number;
  /** The peer to send to (ROUTER-style transports only). */
  readonly peer?: Peer;
}


/**
 * Routes the events of one transport into channels (docs/protocol section 5): an event without
 * `response_to` opens a channel (server role), every other event goes to the channel its
 * `response_to` names, and events for no open channel are dropped. Server channels are keyed by
 * peer and id, so two clients may use the same id at once (zerorpc-python keys by id alone and
 * mixes them up). The multiplexer owns its transport: it is the only reader, and `close()`
 * closes the transport too.
 */
export class Multiplexer implements ChannelHost {
  readonly role: ChannelRole;
  readonly transport: Transport;
  private readonly table = new Map<string, Channel>();
  /** Server role: open channels per peer key (only peers with at least one). */
  private readonly perPeer = new Map<string, number>();
  private readonly maxPerPeer: number;
  private readonly settings: ChannelSettings;
  private readonly options: MultiplexerOptions;
  private closing = false;
  private readonly done: Promise<Error | undefined>;

  constructor(transport: Transport, options: MultiplexerOptions) {
    this.transport = transport;
    this.role = options.role;
    this.options = options;
    const clock = options.clock ?? systemClock;
    this.settings = settingsFrom(options, {
      heartbeatMs: DEFAULT_HEARTBEAT_MS,
      passiveHeartbeat: false,
      receiveBuffer: DEFAULT_RECEIVE_BUFFER,
      clock,
      timers: new HeartbeatTimers(clock),
      ...(options.peerName !== undefined && { peerName: options.peerName }),
    });
    const limit = options.maxChannelsPerPeer ?? DEFAULT_MAX_CHANNELS_PER_PEER;
    if (!(limit >= 0)) throw new RangeError(`maxChannelsPerPeer must be >= 0, got ${limit}`);
    this.maxPerPeer = limit === 0 ? Number.POSITIVE_INFINITY : limit;
    this.done = transport.onMessage === undefined ? this.readLoop() : this.listen(transport.onMessage.bind(transport));
  }

  /** Open channels right now. */
  get size(): number {
    return this.table.size;
  }

  /** The open channels (a snapshot). */
  channels(): Channel[] {
    return [...this.table.values()];
  }

  /** Resolves when the read loop ended (the transport closed), with the error if any. */
  get closed(): Promise<Error | undefined> {
    return this.done;
  }

  /**
   * Client role: open a channel by sending a request event `name(args)`. The request uses the
   * channel's one initial credit; an active heartbeat starts now. Throws if the request cannot be
   * encoded or the transport refuses it (the channel is then already closed).
   */
  open(name: string, args: unknown, options: OpenChannelOptions = {}): Channel {
    if (this.closing) throw new ZrpcError("closed", "multiplexer is closed");
    const id = newMessageId();
    const key = messageIdKey(id);
    const settings = options.heartbeatMs === undefined && options.passiveHeartbeat === undefined && options.receiveBuffer === undefined
      ? this.settings
      : settingsFrom(options, this.settings);
    const peer = options.peer ?? SINGLE_PEER;
    const channel = new Channel({ host: this, role: "client", peer, id, key, settings });
    this.table.set(key, channel);
    const header: WireHeader =
      options.header === undefined
        ? { message_id: id, v: PROTOCOL_VERSION }
        : { message_id: id, v: PROTOCOL_VERSION, ...options.header };
    try {
      this.emit(peer, { header, name, args });
    } catch (error) {
      channel.close();
      throw error;
    }
    // The request spent the initial credit.
    channel.consumeInitialCredit();
    if (!settings.passiveHeartbeat) channel.startHeartbeat();
    return channel;
  }

  /** @internal Encode and send one event. */
  emit(peer: Peer, event: Event): void {
    const transport = this.transport;
    if (transport.sendChunks === undefined) {
      transport.send(peer, encodeEvent(event, this.options.encode));
      return;
    }
    // Large bins go to the transport by reference, not copied into one buffer first.
    const chunks = encodeEventChunks(event, this.options.encode);
    if (chunks.length === 1) transport.send(peer, chunks[0]!);
    else transport.sendChunks(peer, chunks);
  }

  /** Server role: channels open right now for `peer`. */
  channelsOf(peer: Peer): number {
    return this.perPeer.get(peer.key) ?? 0;
  }

  /** @internal A channel ended: drop it from the table. */
  forget(channel: Channel): void {
    if (this.table.get(channel.key) !== channel) return;
    this.table.delete(channel.key);
    if (channel.role === "server") {
      const count = (this.perPeer.get(channel.peer.key) ?? 1) - 1;
      if (count <= 0) this.perPeer.delete(channel.peer.key);
      else this.perPeer.set(channel.peer.key, count);
    }
  }

  /**
   * End every open channel (with a `"shutdown"` end carrying `reason`), stop reading and close
   * the transport. Idempotent; resolves when the transport has closed.
   */
  async close(reason?: Error): Promise<void> {
    if (!this.closing) {
      this.closing = true;
      this.endAll({ kind: "shutdown", error: reason ?? new ZrpcError("closed", "multiplexer closed") });
      await this.transport.close();
    }
    await this.done;
  }

  private endAll(end: ChannelEnd): void {
    for (const channel of [...this.table.values()]) channel.finish(end);
  }

  /** The synchronous delivery path of transports that offer `onMessage`. */
  private async listen(onMessage: (listener: (peer: Peer, payload: Uint8Array) => void) => void): Promise<Error | undefined> {
    onMessage((peer, payload) => {
      try {
        this.handle(peer, payload);
      } catch (error) {
        this.options.onError?.(error);
      }
    });
    const failure = await this.transport.closed;
    this.closing = true;
    this.endAll({ kind: "shutdown", error: failure ?? new ZrpcError("closed", "transport closed") });
    return failure;
  }

  private async readLoop(): Promise<Error | undefined> {
    let failure: Error | undefined;
    try {
      for await (const message of this.transport) {
        try {
          this.handle(message.peer, message.payload);
        } catch (error) {
          // A throwing callback (onRequest, onDrop, ...) must not take the read loop down with
          // every other channel of the transport.
          this.options.onError?.(error);
        }
      }
    } catch (error) {
      failure = error instanceof Error ? error : new Error(String(error));
    }
    this.closing = true;
    this.endAll({ kind: "shutdown", error: failure ?? new ZrpcError("closed", "transport closed") });
    return failure ?? (await this.transport.closed);
  }

  /** @internal Exposed for in-process tests: handle one received payload. */
  handle(peer: Peer, payload: Uint8Array): void {
    let event: Event;
    try {
      event = decodeEvent(payload, this.options.decode);
    } catch (error) {
      if (error instanceof ProtocolError) {
        this.options.onProtocolError?.(error, peer);
        return;
      }
      throw error;
    }
    const responseTo = event.header.response_to;
    if (responseTo === undefined) {
      this.handleOpening(peer, event);
      return;
    }
    const idKey = messageIdKey(responseTo);
    const channel = this.table.get(this.role === "server" ? serverKey(peer, idKey) : idKey);
    if (channel === undefined) {
      this.options.onDrop?.(event, peer, "unroutable");
      return;
    }
    channel.deliver(event);
  }

  private handleOpening(peer: Peer, event: Event): void {
    if (this.role === "client") {
      this.options.onDrop?.(event, peer, "no-response-to");
      return;
    }
    if (event.name === EventNames.heartbeat || event.name === EventNames.more) {
      this.options.onDrop?.(event, peer, "unroutable");
      return;
    }
    const id = event.header.message_id;
    if (id === undefined) {
      this.options.onProtocolError?.(
        new ProtocolError("bad-message-id", `request ${JSON.stringify(event.name)} has no message_id: cannot reply to it`),
        peer,
      );
      return;
    }
    if (this.closing) {
      this.options.onDrop?.(event, peer, "closing");
      return;
    }
    const key = serverKey(peer, messageIdKey(id));
    if (this.table.has(key)) {
      this.options.onDrop?.(event, peer, "duplicate-id");
      return;
    }
    const open = this.perPeer.get(peer.key) ?? 0;
    if (open >= this.maxPerPeer) {
      this.refuse(peer, event, id);
      return;
    }
    const channel = new Channel({ host: this, role: "server", peer, id, key, settings: this.settings });
    this.table.set(key, channel);
    this.perPeer.set(peer.key, open + 1);
    channel.acceptRequest(event);
    this.options.onRequest?.(channel, event);
  }

  /** A request over the per-peer channel limit: the hook may answer it once; no channel opens. */
  private refuse(peer: Peer, request: Event, id: MessageId): void {
    const hook = this.options.onChannelLimit;
    if (hook === undefined) {
      this.options.onDrop?.(request, peer, "channel-limit");
      return;
    }
    let answered = false;
    hook(request, peer, (name, args) => {
      if (answered) throw new ZrpcError("closed", "a refused request can be answered once");
      answered = true;
      this.emit(peer, { header: { message_id: newMessageId(), v: PROTOCOL_VERSION, response_to: id }, name, args });
    });
  }
}

/** Create a {@link Multiplexer} over `transport` and start reading from it. */
export function createMultiplexer(transport: Transport, options: MultiplexerOptions): Multiplexer {
  return new Multiplexer(transport, options);
}

function serverKey(peer: Peer, idKey: string): string {
  return peer.key.length === 0 ? idKey : `${peer.key}\u0000${idKey}`;
}

function heartbeatFrom(value: number | null | false | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (value === null || value === false) return 0;
  if (!Number.isFinite(value) || value < 0) throw new RangeError(`heartbeatMs must be a non-negative number, got ${value}`);
  return value;
}

function settingsFrom(
  options: { heartbeatMs?: number | null | false; passiveHeartbeat?: boolean; receiveBuffer?: number },
  base: ChannelSettings,
): ChannelSettings {
  const receiveBuffer = options.receiveBuffer ?? base.receiveBuffer;
  if (!Number.isInteger(receiveBuffer) || receiveBuffer < 2) {
    throw new RangeError(`receiveBuffer must be an integer >= 2, got ${receiveBuffer}`);
  }
  return {
    heartbeatMs: heartbeatFrom(options.heartbeatMs, base.heartbeatMs),
    passiveHeartbeat: options.passiveHeartbeat ?? base.passiveHeartbeat,
    receiveBuffer,
    clock: base.clock,
    ...(base.timers !== undefined && { timers: base.timers }),
    ...(base.peerName !== undefined && { peerName: base.peerName }),
  };
}
