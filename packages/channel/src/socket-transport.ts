// What the socket transport adapters (transport-zmtp, transport-zeromq) share beyond the Transport
// port: the options they both take, documented once, and the open sequence and shorthands built on
// an adapter's create function.
import type { TransportKind } from "./transport.js";

/**
 * Options every socket transport adapter takes, with one meaning in all of them. An adapter's
 * options interface extends this one; its defaults object (`zmtpTransportDefaults`,
 * `zeromqTransportDefaults`) and README give its defaults and where it departs from libzmq.
 */
export interface SocketTransportOptions {
  /**
   * Endpoint(s) to bind, in order: `tcp://host:port` (port `*` or 0 for an ephemeral one, read it
   * back from `endpoints`), `ipc://path`, and whatever else the adapter supports. The transport is
   * returned once all are bound.
   */
  bind?: string | readonly string[];
  /** Endpoint(s) to connect to. Connecting returns at once; the adapter connects and reconnects in the background. */
  connect?: string | readonly string[];
  /**
   * Messages queued per peer before that peer is "full" (libzmq's ZMQ_SNDHWM): a ROUTER or PUB
   * then drops messages for it, a DEALER or PUSH waits or sends to a peer with room. 0 means no
   * limit. Ignored by kinds that cannot send.
   */
  sendHighWaterMark?: number;
  /**
   * Messages received and not yet taken before the transport stops reading (libzmq's
   * ZMQ_RCVHWM); TCP flow control then pushes back on the sender. 0 means no limit. Ignored by
   * kinds that cannot receive.
   */
  receiveHighWaterMark?: number;
  /**
   * Milliseconds `close()` waits for queued messages to be written before the sockets close
   * (libzmq's ZMQ_LINGER). 0 drops them at once; -1 waits forever, which can keep the process
   * from exiting while a peer is gone.
   */
  linger?: number;
  /**
   * Largest message accepted, in bytes; a peer that sends more is disconnected (that connection
   * only; a connecting side reconnects) and the message is lost. -1 means no limit.
   */
  maxMessageSize?: number;
  /**
   * Messages the transport holds itself, accepted by `send()` but not yet handed on; when it is
   * full `send()` throws an error with code `"backpressure"`.
   */
  maxQueuedMessages?: number;
  /** Milliseconds between reconnect attempts of a connect endpoint; -1 disables reconnecting. */
  reconnectInterval?: number;
  /** Cap in milliseconds of the doubling reconnect back-off; 0 disables back-off. */
  reconnectMaxInterval?: number;
  /**
   * DEALER only: the routing id a ROUTER sees for this socket (1 to 255 bytes, not starting with
   * a zero byte). By default none, and the ROUTER makes up a 5-byte id, as with zerorpc-python.
   */
  routingId?: string | Uint8Array;
  /** SUB only: topic prefixes to subscribe to. Default `[""]`: everything, as zerorpc does. */
  subscribe?: readonly (string | Uint8Array)[];
}

/** The shared options after an adapter checked them and applied its defaults. */
export interface ResolvedSocketOptions {
  readonly bind: readonly string[];
  readonly connect: readonly string[];
  readonly sendHighWaterMark: number;
  readonly receiveHighWaterMark: number;
  readonly linger: number;
  readonly maxMessageSize: number;
  readonly maxQueuedMessages: number;
}

/** What {@link openSocketTransport} needs of a freshly created adapter transport. */
export interface OpeningTransport {
  bind(endpoint: string): Promise<unknown>;
  connect(endpoint: string): void;
  close(): Promise<void>;
}

/**
 * The open sequence of a socket transport: `start` (if given), then every bind in order, then every
 * connect. On any failure the transport is closed and the error rethrown.
 */
export async function openSocketTransport<T extends OpeningTransport>(
  transport: T,
  endpoints: { readonly bind: readonly string[]; readonly connect: readonly string[] },
  start?: () => Promise<void>,
): Promise<T> {
  try {
    await start?.();
    for (const endpoint of endpoints.bind) await transport.bind(endpoint);
    for (const endpoint of endpoints.connect) transport.connect(endpoint);
  } catch (error) {
    await transport.close();
    throw error;
  }
  return transport;
}

/** `bindRouter` and `connectDealer` of an adapter, see {@link socketShorthands}. */
export interface SocketShorthands<Options, T> {
  /** A ROUTER transport (the server side of request/reply) bound to `endpoint`(s). */
  readonly bindRouter: (endpoint: string | readonly string[], options?: Omit<Options, "bind">) => Promise<T>;
  /** A DEALER transport (the client side of request/reply) connected to `endpoint`(s). */
  readonly connectDealer: (endpoint: string | readonly string[], options?: Omit<Options, "connect">) => Promise<T>;
}

/** The `bindRouter` / `connectDealer` shorthands of an adapter's create function. */
export function socketShorthands<Options extends SocketTransportOptions, T>(
  create: (kind: TransportKind, options: Options) => Promise<T>,
): SocketShorthands<Options, T> {
  return {
    bindRouter: (endpoint, options) => create("router", { ...options, bind: endpoint } as Options),
    connectDealer: (endpoint, options) => create("dealer", { ...options, connect: endpoint } as Options),
  };
}

// ------------------------------------------------------------ option checks

/**
 * `value` checked as a safe integer of at least `min` (a `RangeError` naming `name` otherwise), or
 * `fallback` when it is undefined.
 */
export function integerOption(name: string, value: number | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < min) {
    throw new RangeError(`${name} must be an integer >= ${min}, got ${String(value)}`);
  }
  return value;
}

/** A `bind` or `connect` option as a list of non-empty endpoint strings (a `TypeError` otherwise). */
export function endpointListOption(name: string, value: string | readonly string[] | undefined): readonly string[] {
  if (value === undefined) return [];
  const list = typeof value === "string" ? [value] : [...value];
  for (const endpoint of list) {
    if (typeof endpoint !== "string" || endpoint.length === 0) {
      throw new TypeError(`${name} endpoints must be non-empty strings, got ${String(endpoint)}`);
    }
  }
  return list;
}

/**
 * A `routingId` option as bytes (UTF-8 for a string), checked against the ZMTP rule: 1 to 255
 * bytes, not starting with a zero byte (those ids are the ROUTER's own). A `RangeError` otherwise.
 */
export function routingIdOption(routingId: string | Uint8Array): Uint8Array {
  const bytes = typeof routingId === "string" ? new TextEncoder().encode(routingId) : routingId;
  if (bytes.length < 1 || bytes.length > 255 || bytes[0] === 0) {
    throw new RangeError("routingId must be 1 to 255 bytes long and must not start with a zero byte");
  }
  return bytes;
}
