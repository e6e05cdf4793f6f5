import { endpointListOption, integerOption, routingIdOption } from "@zrpc/channel";
import { curveKeyText, isCurveClientOptions } from "@zrpc/channel";
import type {
  CurveAuthFailure,
  CurveClientIdentity,
  CurveClientOptions as ChannelCurveClientOptions,
  CurveOptions as ChannelCurveOptions,
  CurveServerOptions as ChannelCurveServerOptions,
  ResolvedSocketOptions,
  SocketTransportOptions,
  TransportKind,
} from "@zrpc/channel";

/**
 * This transport is a CURVE **server** (ZMTP-CURVE, RFC 26): the shared shape of `@zrpc/channel`
 * (every transport takes the same `curve` option). Keys are 40 characters of Z85 or 32 bytes.
 * With `allowedClientKeys` or `authorize`, the socket runs in a ZeroMQ context of its own (the ZAP
 * handler, RFC 27, lives at `inproc://zeromq.zap.01` of that context), so its `inproc://`
 * endpoints are not reachable from sockets of other contexts; `address` is then the client's IP
 * address (libzmq does not tell the port).
 */
export type CurveServerOptions = ChannelCurveServerOptions;

/** This transport is a CURVE **client** (the shared shape of `@zrpc/channel`). */
export type CurveClientOptions = ChannelCurveClientOptions;

/** CURVE security of a transport: {@link CurveServerOptions} or {@link CurveClientOptions}. */
export type CurveOptions = ChannelCurveOptions;

/**
 * A peer failed the security handshake with this transport (`CurveAuthFailure` of
 * `@zrpc/channel`). `"protocol"` covers a plaintext peer meeting a CURVE one
 * (`ERR_ZMTP_MECHANISM_MISMATCH`) and a wrong server key (`ERR_ZMTP_CRYPTOGRAPHIC`); `error` is
 * the zeromq.js event error (with its `code` or `status`), when there is one.
 */
export type AuthFailure = CurveAuthFailure;

/** Default ZMQ_SNDHWM of a ROUTER transport: 0, no limit (see `sendHighWaterMark`). */
export const ROUTER_SEND_HIGH_WATER_MARK = 0;

/** Options of {@link createZeromqTransport}. Every field is optional; defaults are in {@link zeromqTransportDefaults}. */
export interface ZeromqTransportOptions extends SocketTransportOptions {
  /**
   * ZMQ_IPV6: let the socket use IPv6 (it still speaks IPv4). Default: on when any `bind` or
   * `connect` endpoint given here is a bracketed IPv6 address (`tcp://[::1]:4242`), off otherwise,
   * like libzmq (which refuses IPv6 endpoints without it).
   */
  ipv6?: boolean;
  /**
   * ZMQ_IMMEDIATE: queue outgoing messages only to completed connections. Off by default, as in
   * zerorpc-python: a DEALER then queues to a connection that is still being established (so a
   * client may send before the server is up). Turn it on for a DEALER connected to several servers
   * so round-robin skips servers that are down instead of parking messages in their queues.
   */
  immediate?: boolean;
  /**
   * Receives non-fatal errors: a message that libzmq refused to send (the message is dropped and
   * the transport goes on). Fatal errors close the transport and show in `closed` instead.
   */
  onError?: (error: Error) => void;
  /**
   * CURVE encryption and authentication (ZMTP-CURVE): `{ secretKey, allowedClientKeys?,
   * authorize? }` makes this socket a CURVE server, `{ serverKey }` a CURVE client. Default: none
   * (plaintext, as zerorpc-python); through {@link zeromq}, the caller's `curve` option
   * (`connect(..., { curve })`, `server.bind(..., { curve })`) when the factory sets none. A CURVE
   * server refuses plaintext peers and the reverse.
   */
  curve?: CurveOptions;
  /**
   * Called for every failed security handshake (see {@link AuthFailure}): on a CURVE server for
   * each refused client key, on a client when the server refused it. With this callback (or
   * `curve`, or `closeOnAuthFailure`) the transport watches its socket's handshake events.
   */
  onAuthFailure?: (failure: AuthFailure) => void;
  /**
   * Close the transport when an `"auth"` or `"protocol"` handshake failure happens (the key was
   * refused, or the peer speaks another security mechanism): iteration then throws, and `closed`
   * resolves with, a `TransportError` of code `"connect"` saying so, so calls fail at once instead
   * of waiting for their timeout (libzmq would retry the handshake forever). Default: true for a
   * CURVE client (`curve.serverKey`), false otherwise. Leave it off on a server: there any refused
   * client would close it.
   */
  closeOnAuthFailure?: boolean;
  /**
   * ZMQ_HEARTBEAT_IVL: send a ZMTP PING on every connection this often, in ms. Default 0 (none).
   * `connect()` of `@zrpc/client` sets it to the client's heartbeat interval unless this is given.
   */
  heartbeatMs?: number;
  /**
   * ZMQ_HEARTBEAT_TIMEOUT: close a connection (it reconnects) when nothing arrives within this many
   * ms of a PING. Default: `heartbeatMs`.
   */
  heartbeatTimeoutMs?: number;
  /**
   * ZMQ_CONNECT_TIMEOUT: give up on a TCP connect attempt after this many ms and try again, so a
   * healed network is noticed without waiting for the system's SYN retransmits. Default:
   * `heartbeatMs` when heartbeats are on, otherwise 0 (the system's timeout).
   */
  dialTimeoutMs?: number;
}

/**
 * Defaults applied by {@link createZeromqTransport}; the README explains each choice. The shared
 * options ({@link SocketTransportOptions}) map to libzmq socket options of the same meaning, with
 * these differences: a ROUTER's `sendHighWaterMark` defaults to 0, no limit
 * ({@link ROUTER_SEND_HIGH_WATER_MARK}: a ROUTER at its mark drops replies, stream items and
 * heartbeats without an error, while zerorpc's credits already bound each channel); `linger`
 * bounds both the transport's own send queue at `close()` and ZMQ_LINGER; `maxMessageSize` is
 * ZMQ_MAXMSGSIZE, checked by libzmq on every incoming frame; reconnect timing is libzmq's (100 ms,
 * no back-off) unless set.
 */
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
export interface ResolvedOptions extends ResolvedSocketOptions {
  readonly reconnectInterval: number | undefined;
  readonly reconnectMaxInterval: number | undefined;
  readonly heartbeatMs: number;
  readonly heartbeatTimeoutMs: number;
  readonly dialTimeoutMs: number;
  readonly immediate: boolean;
  readonly ipv6: boolean;
  readonly routingId: string | Uint8Array | undefined;
  readonly subscribe: readonly (string | Uint8Array)[];
  readonly onError: ((error: Error) => void) | undefined;
  readonly curveServer: ResolvedCurveServer | undefined;
  readonly curveClient: { serverKey: string; publicKey: string | undefined; secretKey: string | undefined } | undefined;
  readonly onAuthFailure: ((failure: AuthFailure) => void) | undefined;
  readonly closeOnAuthFailure: boolean;
  /** Watch the socket's handshake events. */
  readonly watchHandshakes: boolean;
}

function optionalInteger(name: string, value: number | undefined, min: number): number | undefined {
  return value === undefined ? undefined : integerOption(name, value, 0, min);
}

/**
 * A CURVE server after validation: keys as Z85 text (what zeromq.js takes), and what its ZAP
 * handler asks about each client, if anything.
 * @internal
 */
export interface ResolvedCurveServer {
  readonly secretKey: string;
  readonly publicKey: string | undefined;
  /** `allowedClientKeys` as a test of one key (Z85) and address. */
  readonly allowed: ((publicKey: string, address: string) => boolean) | undefined;
  readonly authorize: ((client: CurveClientIdentity) => boolean | Promise<boolean>) | undefined;
}

/** True when the server asks a ZAP handler about each client (an allow-list or a hook). */
export function needsZap(server: ResolvedCurveServer | undefined): boolean {
  return server !== undefined && (server.allowed !== undefined || server.authorize !== undefined);
}

function curveKey(name: string, value: unknown): string {
  return curveKeyText(`curve.${name}`, value);
}

function allowedKeys(allowed: CurveServerOptions["allowedClientKeys"]): ResolvedCurveServer["allowed"] {
  if (allowed === undefined) return undefined;
  if (typeof allowed === "function") return allowed;
  if (typeof allowed !== "object" || allowed === null || typeof (allowed as Partial<Iterable<unknown>>)[Symbol.iterator] !== "function") {
    throw new TypeError("curve.allowedClientKeys must be a list of CURVE public keys or a function (publicKey, address) => boolean");
  }
  const keys = new Set([...(allowed as Iterable<unknown>)].map((key, index) => curveKey(`allowedClientKeys[${index}]`, key)));
  return (key) => keys.has(key);
}

function resolveCurve(curve: CurveOptions | undefined): Pick<ResolvedOptions, "curveServer" | "curveClient"> {
  if (curve === undefined) return { curveServer: undefined, curveClient: undefined };
  if (typeof curve !== "object" || curve === null) throw new TypeError("curve must be an object");
  if (isCurveClientOptions(curve)) {
    const { publicKey, secretKey } = curve;
    if ((publicKey === undefined) !== (secretKey === undefined)) {
      throw new TypeError("curve.publicKey and curve.secretKey go together (or leave both out for a fresh pair)");
    }
    return {
      curveServer: undefined,
      curveClient: {
        serverKey: curveKey("serverKey", curve.serverKey),
        publicKey: publicKey === undefined ? undefined : curveKey("publicKey", publicKey),
        secretKey: secretKey === undefined ? undefined : curveKey("secretKey", secretKey),
      },
    };
  }
  const server = curve;
  if (server.authorize !== undefined && typeof server.authorize !== "function") {
    throw new TypeError(`curve.authorize must be a function ({ publicKey, address }) => boolean | Promise<boolean>, got ${typeof server.authorize}`);
  }
  return {
    curveServer: {
      secretKey: curveKey("secretKey", server.secretKey),
      publicKey: server.publicKey === undefined ? undefined : curveKey("publicKey", server.publicKey),
      allowed: allowedKeys(server.allowedClientKeys),
      authorize: server.authorize,
    },
    curveClient: undefined,
  };
}

/**
 * Validates options and applies defaults.
 * @internal
 */
export function resolveOptions(kind: TransportKind, options: ZeromqTransportOptions): ResolvedOptions {
  const defaults = zeromqTransportDefaults;
  if (options.routingId !== undefined) {
    if (kind !== "dealer") throw new TypeError(`routingId applies to a dealer transport, not ${kind}`);
    routingIdOption(options.routingId);
  }
  if (options.subscribe !== undefined && kind !== "sub") {
    throw new TypeError(`subscribe applies to a sub transport, not ${kind}`);
  }
  const curve = resolveCurve(options.curve);
  const closeOnAuthFailure = options.closeOnAuthFailure ?? curve.curveClient !== undefined;
  const heartbeatMs = integerOption("heartbeatMs", options.heartbeatMs, 0, 0);
  return {
    ...curve,
    onAuthFailure: options.onAuthFailure,
    closeOnAuthFailure,
    watchHandshakes: options.curve !== undefined || options.onAuthFailure !== undefined || closeOnAuthFailure,
    bind: endpointListOption("bind", options.bind),
    connect: endpointListOption("connect", options.connect),
    // A ROUTER at its high-water mark drops messages silently (stream items, heartbeats), so by
    // default it gets no libzmq limit: zerorpc's _zpc_more credits bound what a channel has in
    // flight, and maxQueuedMessages bounds our own queue.
    sendHighWaterMark: integerOption(
      "sendHighWaterMark",
      options.sendHighWaterMark,
      kind === "router" ? ROUTER_SEND_HIGH_WATER_MARK : defaults.sendHighWaterMark,
      0,
    ),
    receiveHighWaterMark: integerOption("receiveHighWaterMark", options.receiveHighWaterMark, defaults.receiveHighWaterMark, 0),
    linger: integerOption("linger", options.linger, defaults.linger, -1),
    maxMessageSize: integerOption("maxMessageSize", options.maxMessageSize, defaults.maxMessageSize, -1),
    maxQueuedMessages: integerOption("maxQueuedMessages", options.maxQueuedMessages, defaults.maxQueuedMessages, 1),
    reconnectInterval: optionalInteger("reconnectInterval", options.reconnectInterval, -1),
    reconnectMaxInterval: optionalInteger("reconnectMaxInterval", options.reconnectMaxInterval, 0),
    heartbeatMs,
    heartbeatTimeoutMs: integerOption("heartbeatTimeoutMs", options.heartbeatTimeoutMs, heartbeatMs, 0),
    dialTimeoutMs: integerOption("dialTimeoutMs", options.dialTimeoutMs, heartbeatMs, 0),
    immediate: options.immediate ?? defaults.immediate,
    ipv6: options.ipv6 ?? [...endpointListOption("bind", options.bind), ...endpointListOption("connect", options.connect)].some((e) => e.startsWith("tcp://[")),
    routingId: options.routingId,
    subscribe: options.subscribe ?? defaults.subscribe,
    onError: options.onError,
  };
}
