import { Buffer } from "node:buffer";
import { endpointListOption, integerOption, routingIdOption } from "@zrpc/channel";
import type { ResolvedSocketOptions, SocketTransportOptions, TransportKind } from "@zrpc/channel";
import type { CurveAuthFailure, CurveOptions } from "@zrpc/channel";
import { resolveCurve } from "./curve/options.js";
import type { CurveConfig } from "./curve/options.js";
import type { ZmtpError } from "./errors.js";

/** Something that happened on a connection of a ZMTP transport, for {@link ZmtpTransportOptions.monitor}. */
export type ZmtpMonitorEvent =
  | {
      /** A connection completed its handshake (greeting and READY both ways). */
      readonly type: "handshake";
      /** Endpoint it belongs to: the bound endpoint for accepted connections, else the connected one. */
      readonly endpoint: string;
      /** The peer's `Socket-Type`. */
      readonly socketType: string;
      /** The peer's ZMTP version as `major.minor`, e.g. `"3.1"`. */
      readonly version: string;
      /** ROUTER only: the routing id given to the peer. */
      readonly routingId?: Uint8Array;
    }
  | {
      /** A connection closed (after or before its handshake). */
      readonly type: "disconnect";
      readonly endpoint: string;
      /** Why, when it was not a normal close by either side. */
      readonly error?: Error;
    }
  | {
      /** A connect endpoint will be tried again after `delayMs`. */
      readonly type: "retry";
      readonly endpoint: string;
      readonly delayMs: number;
    }
  | {
      /** PUB only: a subscriber added (`"subscribe"`) or cancelled (`"cancel"`) a subscription. */
      readonly type: "subscribe" | "cancel";
      readonly endpoint: string;
      readonly topic: Uint8Array;
    }
  | {
      /** A heartbeat command arrived from a peer: `"ping"` (we answered with a PONG) or `"pong"`. */
      readonly type: "ping" | "pong";
      readonly endpoint: string;
    }
  | {
      /**
       * The consumer fell `receiveHighWaterMark` messages behind and reading stopped on every
       * connection (`"pause"`), or it caught up to half of that and reading resumed (`"resume"`).
       */
      readonly type: "pause" | "resume";
      /** Messages received and not yet taken by the consumer. */
      readonly queued: number;
    };

/** Options of {@link createZmtpTransport}. Every field is optional; defaults are in {@link zmtpTransportDefaults}. */
export interface ZmtpTransportOptions extends SocketTransportOptions {
  /** Most frames in one message; a peer that sends more is disconnected. Default 64. */
  maxFramesPerMessage?: number;
  /** Milliseconds a new connection may take for its greeting and READY exchange. Default 5000. 0 disables. */
  handshakeTimeout?: number;
  /**
   * Send a ZMTP PING command every this many ms on each connection. These are the ZMTP 3.1
   * transport keepalives (libzmq's `ZMQ_HEARTBEAT_IVL`), not the zerorpc `_zpc_hb` heartbeats of
   * the channel layer. Default 0: no PINGs (PINGs from peers are always answered).
   */
  heartbeatMs?: number;
  /**
   * Close a connection when nothing arrived this many ms after a ZMTP PING was sent (libzmq's
   * `ZMQ_HEARTBEAT_TIMEOUT`). Default: `heartbeatMs`.
   */
  heartbeatTimeoutMs?: number;
  /**
   * Give up on a TCP connect attempt that has not connected within this many ms and dial again
   * (after `reconnectInterval`), as libzmq's `ZMQ_CONNECT_TIMEOUT`: without it a connect into a
   * network that drops packets waits for the system's SYN retransmits (1, 3, 7, 15, ... s), so a
   * healed link is noticed up to that late. Default: `heartbeatMs` when keepalives are on,
   * otherwise 0 (the system's timeout, about 2 minutes on Linux).
   */
  dialTimeoutMs?: number;
  /** @deprecated Use {@link ZmtpTransportOptions.heartbeatMs} (same meaning); giving both is a `TypeError`. */
  heartbeatIvl?: number;
  /** @deprecated Use {@link ZmtpTransportOptions.heartbeatTimeoutMs} (same meaning); giving both is a `TypeError`. */
  heartbeatTimeout?: number;
  /**
   * Receives non-fatal errors: a peer broke the protocol or a limit, a handshake or heartbeat
   * timed out, a connect attempt failed. The connection concerned is closed; the transport goes on.
   */
  onError?: (error: ZmtpError | Error) => void;
  /** Receives connection events (handshakes, disconnects, retries, subscriptions), like zmq_socket_monitor. */
  monitor?: (event: ZmtpMonitorEvent) => void;
  /**
   * CURVE encryption and authentication (ZMTP-CURVE, RFC 25/26): `{ secretKey, allowedClientKeys?,
   * authorize? }` makes this socket a CURVE server, `{ serverKey }` a CURVE client, whether it binds
   * or connects. Keys are 32 bytes or 40 characters of Z85 ({@link curveKeyPair}); a client without
   * `publicKey`/`secretKey` uses a fresh pair per socket. Default: none (plaintext NULL, as
   * zerorpc-python). A CURVE socket refuses plaintext peers and the reverse.
   */
  curve?: CurveOptions;
  /**
   * Called for every failed security handshake (see {@link CurveAuthFailure}): on a CURVE server
   * for each refused client key (`"auth"`, with the key and the client's address) and each peer
   * that broke the handshake (`"protocol"`: plaintext peer, wrong server key, malformed command,
   * bad box) or broke it off (`"other"`: timeout, hang-up); on a client when the server refused it.
   * Without it, failures go to `onError`, at most 5 a second (then one line counting the rest).
   */
  onAuthFailure?: (failure: CurveAuthFailure) => void;
  /**
   * Close the transport when an `"auth"` or `"protocol"` handshake failure happens (the key was
   * refused, the server's key is not `curve.serverKey`, or the peer speaks another security
   * mechanism): iteration then throws, and `closed` resolves with, a `ZmtpEndpointError` of code
   * `"connect"` saying so (its `cause` the `ZmtpError` of code `"auth"` or `"protocol"`), so calls
   * fail at once instead of waiting for their timeout. Default: true for a CURVE client
   * (`curve.serverKey`), false otherwise. Leave it off on a server: there any refused client would
   * close it.
   */
  closeOnAuthFailure?: boolean;
}

/**
 * Defaults applied by {@link createZmtpTransport}; the README explains each choice. For the shared
 * options ({@link SocketTransportOptions}): `maxMessageSize` is checked against every frame's
 * declared size before anything is allocated, and against the sum of a message's frames;
 * `receiveHighWaterMark` does not apply to an `onMessage` listener, which takes every message
 * synchronously; a DEALER or PUSH with every peer full queues up to `maxQueuedMessages` and then
 * `send()` throws a `ZmtpError` of code `"backpressure"`.
 */
export const zmtpTransportDefaults: Readonly<{
  sendHighWaterMark: number;
  receiveHighWaterMark: number;
  maxMessageSize: number;
  maxFramesPerMessage: number;
  maxQueuedMessages: number;
  handshakeTimeout: number;
  reconnectInterval: number;
  reconnectMaxInterval: number;
  heartbeatMs: number;
  /** @deprecated Use `heartbeatMs` (same value). */
  heartbeatIvl: number;
  linger: number;
  subscribe: readonly string[];
}> = Object.freeze({
  sendHighWaterMark: 1000,
  receiveHighWaterMark: 1000,
  maxMessageSize: 100 * 1024 * 1024 + 1024,
  maxFramesPerMessage: 64,
  maxQueuedMessages: 100_000,
  handshakeTimeout: 5000,
  reconnectInterval: 100,
  reconnectMaxInterval: 0,
  heartbeatMs: 0,
  heartbeatIvl: 0,
  linger: 1000,
  subscribe: Object.freeze([""]),
});

/** Largest command body accepted (READY metadata, SUBSCRIBE topics, PING): 64 KiB. */
const MAX_COMMAND_SIZE = 64 * 1024;
/** Largest Buffer Node allows (buffer.constants.MAX_LENGTH). */
const MAX_BUFFER = 2 ** 32;

/**
 * Options after validation and defaults.
 * @internal
 */
export interface ResolvedOptions extends ResolvedSocketOptions {
  readonly maxFramesPerMessage: number;
  readonly maxCommandSize: number;
  readonly handshakeTimeout: number;
  readonly reconnectInterval: number;
  readonly reconnectMaxInterval: number;
  readonly heartbeatMs: number;
  readonly heartbeatTimeoutMs: number;
  readonly dialTimeoutMs: number;
  readonly routingId: Uint8Array | undefined;
  readonly subscribe: readonly Uint8Array[];
  readonly onError: ((error: Error) => void) | undefined;
  readonly monitor: ((event: ZmtpMonitorEvent) => void) | undefined;
  /** CURVE keys and authentication, resolved (undefined: NULL mechanism). */
  readonly curve: CurveConfig | undefined;
  readonly onAuthFailure: ((failure: CurveAuthFailure) => void) | undefined;
  readonly closeOnAuthFailure: boolean;
}

/** Bytes of a string (UTF-8) or a copy of bytes. */
function toBytes(value: string | Uint8Array): Uint8Array {
  return typeof value === "string" ? Buffer.from(value, "utf8") : Buffer.from(value);
}

/**
 * An option that also has a deprecated alias: the one given (with its name, for error messages),
 * or a `TypeError` when both are.
 */
function aliasedOption<TName extends keyof ZmtpTransportOptions, TAlias extends keyof ZmtpTransportOptions>(
  options: ZmtpTransportOptions,
  name: TName,
  alias: TAlias,
): { name: TName | TAlias; value: ZmtpTransportOptions[TName] | ZmtpTransportOptions[TAlias] } {
  const value = options[name];
  const aliasValue = options[alias];
  if (aliasValue === undefined) return { name, value };
  if (value !== undefined) throw new TypeError(`give ${name} or its deprecated alias ${alias}, not both`);
  return { name: alias, value: aliasValue };
}

/**
 * Validates options and applies defaults.
 * @internal
 */
export function resolveOptions(kind: TransportKind, options: ZmtpTransportOptions): ResolvedOptions {
  const defaults = zmtpTransportDefaults;
  let routingId: Uint8Array | undefined;
  if (options.routingId !== undefined) {
    if (kind !== "dealer") throw new TypeError(`routingId applies to a dealer transport, not ${kind}`);
    routingId = toBytes(routingIdOption(options.routingId));
  }
  if (options.subscribe !== undefined && kind !== "sub") {
    throw new TypeError(`subscribe applies to a sub transport, not ${kind}`);
  }
  const maxMessageSize = integerOption("maxMessageSize", options.maxMessageSize, defaults.maxMessageSize, -1);
  const heartbeat = aliasedOption(options, "heartbeatMs", "heartbeatIvl");
  const heartbeatMs = integerOption(heartbeat.name, heartbeat.value, defaults.heartbeatMs, 0);
  const heartbeatTimeout = aliasedOption(options, "heartbeatTimeoutMs", "heartbeatTimeout");
  const curve = resolveCurve(options.curve);
  if (options.onAuthFailure !== undefined && typeof options.onAuthFailure !== "function") throw new TypeError("onAuthFailure must be a function");
  if (options.closeOnAuthFailure !== undefined && typeof options.closeOnAuthFailure !== "boolean") throw new TypeError("closeOnAuthFailure must be a boolean");
  return {
    bind: endpointListOption("bind", options.bind),
    connect: endpointListOption("connect", options.connect),
    sendHighWaterMark: integerOption("sendHighWaterMark", options.sendHighWaterMark, defaults.sendHighWaterMark, 0),
    receiveHighWaterMark: integerOption("receiveHighWaterMark", options.receiveHighWaterMark, defaults.receiveHighWaterMark, 0),
    maxMessageSize: maxMessageSize < 0 ? MAX_BUFFER : Math.min(maxMessageSize, MAX_BUFFER),
    maxFramesPerMessage: integerOption("maxFramesPerMessage", options.maxFramesPerMessage, defaults.maxFramesPerMessage, 1),
    maxCommandSize: MAX_COMMAND_SIZE,
    maxQueuedMessages: integerOption("maxQueuedMessages", options.maxQueuedMessages, defaults.maxQueuedMessages, 0),
    handshakeTimeout: integerOption("handshakeTimeout", options.handshakeTimeout, defaults.handshakeTimeout, 0),
    reconnectInterval: integerOption("reconnectInterval", options.reconnectInterval, defaults.reconnectInterval, -1),
    reconnectMaxInterval: integerOption("reconnectMaxInterval", options.reconnectMaxInterval, defaults.reconnectMaxInterval, 0),
    heartbeatMs,
    heartbeatTimeoutMs: integerOption(heartbeatTimeout.name, heartbeatTimeout.value, heartbeatMs, 0),
    dialTimeoutMs: integerOption("dialTimeoutMs", options.dialTimeoutMs, heartbeatMs, 0),
    linger: integerOption("linger", options.linger, defaults.linger, -1),
    routingId,
    subscribe: (options.subscribe ?? defaults.subscribe).map(toBytes),
    onError: options.onError,
    monitor: options.monitor,
    curve,
    onAuthFailure: options.onAuthFailure,
    closeOnAuthFailure: options.closeOnAuthFailure ?? curve?.role === "client",
  };
}
