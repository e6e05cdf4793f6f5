// `zmtp(options)`: this transport as a value for the `transport` option of @zrpc/client's
// `connect`, @zrpc/server's `bind`/`connect`, @zrpc/pool and the one-way helpers.
import { defineTransportFactory } from "@zrpc/channel";
import type { TransportDefaults, TransportFactory } from "@zrpc/channel";
import type { ZmtpTransportOptions } from "./options.js";
import { createZmtpTransport } from "./open.js";

/** Options of {@link zmtp}: every option of {@link createZmtpTransport} except the endpoints. */
export type ZmtpFactoryOptions = Omit<ZmtpTransportOptions, "bind" | "connect">;

/** A {@link TransportFactory} that opens ZMTP transports. */
export interface ZmtpTransportFactory extends TransportFactory {
  readonly name: "zmtp";
  /** The options every socket is opened with (a copy of what was given). */
  readonly options: Readonly<ZmtpFactoryOptions>;
}

/**
 * The ZMTP transport (ZMTP 3.1 in TypeScript on `node:net`, no native addon) as a
 * {@link TransportFactory}: `connect(endpoint, { transport: zmtp({ linger: 0 }) })`. It is the
 * default transport of `@zrpc/client`, `@zrpc/server` and `@zrpc/pool`. `options` apply to every
 * socket it opens; `routingId` and `subscribe` apply only to the kinds that have them. An options
 * value wins over what the caller supplies: its `maxMessageSize` over the client's or server's
 * `maxMessageBytes`, its `curve` over the caller's `curve`, its `onAuthFailure` over the server's
 * (which logs refused CURVE handshakes). Invalid options are reported when a socket is opened.
 */
export function zmtp(options: ZmtpFactoryOptions = {}): ZmtpTransportFactory {
  return defineTransportFactory("zmtp", options, ({ socketOptions, kind, how, endpoint, defaults }) => {
    // The factory's own `curve` wins over the caller's; the caller's failure handler applies only
    // where a handshake can fail (CURVE) and these options set none.
    const curve = socketOptions.curve ?? defaults.curve;
    const onAuthFailure = socketOptions.onAuthFailure ?? (curve === undefined ? undefined : defaults.onAuthFailure);
    return createZmtpTransport(kind, {
      ...socketOptions,
      ...keepalive(socketOptions, defaults),
      ...(curve !== undefined && { curve }),
      ...(onAuthFailure !== undefined && { onAuthFailure }),
      [how]: endpoint,
    });
  });
}

/**
 * The caller's keepalive (a client's heartbeat interval), where these options set none of
 * their own: PINGs every `heartbeatMs`, and the connection closed `heartbeatTimeoutMs` after an
 * unanswered one.
 */
function keepalive(own: ZmtpFactoryOptions, defaults: TransportDefaults): Pick<ZmtpFactoryOptions, "heartbeatMs" | "heartbeatTimeoutMs"> {
  if (own.heartbeatMs !== undefined || own.heartbeatIvl !== undefined || defaults.heartbeatMs === undefined) return {};
  const ownTimeout = own.heartbeatTimeoutMs !== undefined || own.heartbeatTimeout !== undefined;
  return {
    heartbeatMs: defaults.heartbeatMs,
    ...(!ownTimeout && defaults.heartbeatTimeoutMs !== undefined && { heartbeatTimeoutMs: defaults.heartbeatTimeoutMs }),
  };
}
