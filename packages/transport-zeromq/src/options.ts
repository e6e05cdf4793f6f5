import type { TransportKind } from "@zrpc/channel";

/** Options of {@link createZeromqTransport}. Every field is optional; defaults are in {@link zeromqTransportDefaults}. */
export interface ZeromqTransportOptions {
  /**
   * Endpoint(s) to bind: `tcp://host:port` (`tcp://127.0.0.1:*` for an ephemeral port),
   * `ipc://path`, `inproc://name`. Bound in order; the transport is returned once all are bound.
   */
  bind?: string | readonly string[];
  /** Endpoint(s) to connect to. Connecting returns at once; ZeroMQ connects (and reconnects) in the background. */
  connect?: string | readonly string[];
  /**
   * ZMQ_SNDHWM: messages libzmq queues per peer before the socket is "mute" (a DEALER/PUSH send
   * then waits, a ROUTER/PUB drops). Default 1000, the libzmq default that zerorpc-python runs with.
   * 0 means no limit. Ignored by kinds that cannot send (pull, sub).
   */
  sendHighWaterMark?: number;
  /**
   * ZMQ_RCVHWM: messages libzmq queues per peer on the receiving side before it stops reading
   * that peer's connection (TCP flow control then pushes back to the sender). Default 1000, as in
   * zerorpc-python. 0 means no limit. Ignored by kinds that cannot receive (push, pub).
   */
  receiveHighWaterMark?: number;
  /**
   * Milliseconds. Bounds both halves of shutdown: `close()` waits at most this long for the
   * transport's own send queue to drain, and the socket is closed with ZMQ_LINGER set to this
   * value, so libzmq keeps trying to deliver what it already holds for at most this long (process
   * exit waits for that). Default 1000. 0 drops everything at once; -1 waits forever (libzmq's own
   * default, which can hang the process at exit when a peer is gone).
   */
  linger?: number;
  /**
   * ZMQ_MAXMSGSIZE in bytes, checked by libzmq on every incoming frame: a peer that sends a larger
   * frame is disconnected and the message is lost (the peer reconnects by itself). Default
   * 100 MiB + 1 KiB (104 858 624). -1 means no limit.
   */
  maxMessageSize?: number;
  /**
   * Bound of the transport's own send queue (messages accepted by `send()` but not yet handed to
   * libzmq). When it is full `send()` throws a `TransportError` with code `"backpressure"`.
   * Default 100 000.
   */
  maxQueuedMessages?: number;
  /** ZMQ_RECONNECT_IVL in ms: wait between reconnect attempts; -1 disables reconnecting. Default: libzmq's 100. */
  reconnectInterval?: number;
  /** ZMQ_RECONNECT_IVL_MAX in ms: cap of the exponential reconnect back-off; 0 disables back-off. Default: libzmq's 0. */
  reconnectMaxInterval?: number;
  /**
   * ZMQ_IMMEDIATE: queue outgoing messages only to completed connections. Off by default, as in
   * zerorpc-python: a DEALER then queues to a connection that is still being established (so a
   * client may send before the server is up). Turn it on for a DEALER connected to several servers
   * so round-robin skips servers that are down instead of parking messages in their queues.
   */
  immediate?: boolean;
  /**
   * ZMQ_ROUTING_ID of a DEALER (1 to 255 bytes, not starting with a zero byte). By default there is
   * none and the ROUTER makes up a 5-byte id, as with zerorpc-python. Only for kind "dealer".
   */
  routingId?: string | Uint8Array;
  /** Topic prefixes a SUB subscribes to. Default `[""]`: everything, as zerorpc does. Only for kind "sub". */
  subscribe?: readonly (string | Uint8Array)[];
  /**
   * Receives non-fatal errors: a message that libzmq refused to send (the message is dropped and
   * the transport goes on). Fatal errors close the transport and show in `closed` instead.
   */
  onError?: (error: Error) => void;
}

/** Defaults applied by {@link createZeromqTransport}; the README explains each choice. */
export const zeromqTransportDefaults: Readonly<{
  sendHighWaterMark: number;
  receiveHighWaterMark: number;
  linger: number;
  maxMessageSize: number;
  maxQueuedMessages: number;
  immediate: boolean;
  subscribe: readonly string[];
}> = Object.freeze({
  sendHighWaterMark: 1000,
  receiveHighWaterMark: 1000,
  linger: 1000,
  maxMessageSize: 100 * 1024 * 1024 + 1024,
  maxQueuedMessages: 100_000,
  immediate: false,
  subscribe: Object.freeze([""]),
});

/**
 * Options after validation and defaults.
 * @internal
 */
export interface ResolvedOptions {
  readonly bind: readonly string[];
  readonly connect: readonly string[];
  readonly sendHighWaterMark: number;
  readonly receiveHighWaterMark: number;
  readonly linger: number;
  readonly maxMessageSize: number;
  readonly maxQueuedMessages: number;
  readonly reconnectInterval: number | undefined;
  readonly reconnectMaxInterval: number | undefined;
  readonly immediate: boolean;
  readonly routingId: string | Uint8Array | undefined;
  readonly subscribe: readonly (string | Uint8Array)[];
  readonly onError: ((error: Error) => void) | undefined;
}

function integer(name: string, value: number | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < min) {
    throw new RangeError(`${name} must be an integer >= ${min}, got ${String(value)}`);
  }
  return value;
}

function optionalInteger(name: string, value: number | undefined, min: number): number | undefined {
  return value === undefined ? undefined : integer(name, value, 0, min);
}

function endpointList(name: string, value: string | readonly string[] | undefined): readonly string[] {
  if (value === undefined) return [];
  const list = typeof value === "string" ? [value] : [...value];
  for (const endpoint of list) {
    if (typeof endpoint !== "string" || endpoint.length === 0) {
      throw new TypeError(`${name} endpoints must be non-empty strings, got ${String(endpoint)}`);
    }
  }
  return list;
}

function checkRoutingId(routingId: string | Uint8Array): void {
  const bytes = typeof routingId === "string" ? new TextEncoder().encode(routingId) : routingId;
  if (bytes.length < 1 || bytes.length > 255 || bytes[0] === 0) {
    throw new RangeError("routingId must be 1 to 255 bytes long and must not start with a zero byte");
  }
}

/**
 * Validates options and applies defaults.
 * @internal
 */
export function resolveOptions(kind: TransportKind, options: ZeromqTransportOptions): ResolvedOptions {
  const defaults = zeromqTransportDefaults;
  if (options.routingId !== undefined) {
    if (kind !== "dealer") throw new TypeError(`routingId applies to a dealer transport, not ${kind}`);
    checkRoutingId(options.routingId);
  }
  if (options.subscribe !== undefined && kind !== "sub") {
    throw new TypeError(`subscribe applies to a sub transport, not ${kind}`);
  }
  return {
    bind: endpointList("bind", options.bind),
    connect: endpointList("connect", options.connect),
    sendHighWaterMark: integer("sendHighWaterMark", options.sendHighWaterMark, defaults.sendHighWaterMark, 0),
    receiveHighWaterMark: integer("receiveHighWaterMark", options.receiveHighWaterMark, defaults.receiveHighWaterMark, 0),
    linger: integer("linger", options.linger, defaults.linger, -1),
    maxMessageSize: integer("maxMessageSize", options.maxMessageSize, defaults.maxMessageSize, -1),
    maxQueuedMessages: integer("maxQueuedMessages", options.maxQueuedMessages, defaults.maxQueuedMessages, 1),
    reconnectInterval: optionalInteger("reconnectInterval", options.reconnectInterval, -1),
    reconnectMaxInterval: optionalInteger("reconnectMaxInterval", options.reconnectMaxInterval, 0),
    immediate: options.immediate ?? defaults.immediate,
    routingId: options.routingId,
    subscribe: options.subscribe ?? defaults.subscribe,
    onError: options.onError,
  };
}
