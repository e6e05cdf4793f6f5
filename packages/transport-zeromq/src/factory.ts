// `zeromq(options)`: this transport as a value for the `transport` option of @zrpc/client's
// `connect`, @zrpc/server's `bind`/`connect`, @zrpc/pool and the one-way helpers.
import { defineTransportFactory } from "@zrpc/channel";
import type { TransportDefaults, TransportFactory } from "@zrpc/channel";
import type { ZeromqTransportOptions } from "./options.js";
import { createZeromqTransport } from "./transport.js";

/** Options of {@link zeromq}: every option of {@link createZeromqTransport} except the endpoints. */
export type ZeromqFactoryOptions = Omit<ZeromqTransportOptions, "bind" | "connect">;

/** A {@link TransportFactory} that opens zeromq.js transports. */
export interface ZeromqTransportFactory extends TransportFactory {
  readonly name: "zeromq";
  /** The options every socket is opened with (a copy of what was given). */
  readonly options: Readonly<ZeromqFactoryOptions>;
}

/**
 * The zeromq.js transport (libzmq, for CURVE and libzmq's socket options) as a
 * {@link TransportFactory}: `server.bind(endpoint, { transport: zeromq({ curve: { secretKey } }) })`.
 * `options` apply to every socket it opens; `routingId` and `subscribe` apply only to the kinds
 * that have them. An options value wins over what the caller supplies: its `maxMessageSize` over
 * the client's or server's `maxMessageBytes`, its `curve` over the caller's `curve` option
 * (`connect(..., { curve })`, `server.bind(..., { curve })`, the pool's, the one-way helpers'),
 * its `onAuthFailure` over the server's (which logs refused CURVE handshakes when a `curve` is in
 * effect). Invalid options are reported when a socket is opened.
 */
export function zeromq(options: ZeromqFactoryOptions = {}): ZeromqTransportFactory {
  return defineTransportFactory("zeromq", options, ({ socketOptions, kind, how, endpoint, defaults }) => {
    const curve = socketOptions.curve ?? defaults.curve;
    // The caller's handler only where a handshake can fail (CURVE): setting one makes the
    // transport watch its socket's handshake events.
    const onAuthFailure = socketOptions.onAuthFailure ?? (curve === undefined ? undefined : defaults.onAuthFailure);
    return createZeromqTransport(kind, {
      ...socketOptions,
      ...(curve !== undefined && { curve }),
      ...keepalive(socketOptions, defaults),
      ...(onAuthFailure !== undefined && { onAuthFailure }),
      [how]: endpoint,
    });
  });
}

/**
 * The caller's keepalive (a client's heartbeat interval), where these options set none of their
 * own: ZMTP PINGs every `heartbeatMs` (ZMQ_HEARTBEAT_IVL) and the connection closed
 * `heartbeatTimeoutMs` after an unanswered one.
 */
function keepalive(own: ZeromqFactoryOptions, defaults: TransportDefaults): Pick<ZeromqFactoryOptions, "heartbeatMs" | "heartbeatTimeoutMs"> {
  if (own.heartbeatMs !== undefined || defaults.heartbeatMs === undefined) return {};
  return {
    heartbeatMs: defaults.heartbeatMs,
    ...(own.heartbeatTimeoutMs === undefined && defaults.heartbeatTimeoutMs !== undefined && { heartbeatTimeoutMs: defaults.heartbeatTimeoutMs }),
  };
}
