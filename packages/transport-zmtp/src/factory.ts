// `zmtp(options)`: this transport as a value for the `transport` option of @zrpc/client's
// `connect`, @zrpc/server's `bind`/`connect`, @zrpc/pool and the one-way helpers.
import type { OpenedTransport, TransportDefaults, TransportFactory, TransportKind } from "@zrpc/channel";
import type { ZmtpTransportOptions } from "./options.js";
import { createZmtpTransport } from "./transport.js";

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
 * value wins over what the caller supplies (its `maxMessageSize` over the client's or server's
 * `maxMessageBytes`). Invalid options are reported when a socket is opened.
 */
export function zmtp(options: ZmtpFactoryOptions = {}): ZmtpTransportFactory {
  if (typeof options !== "object" || options === null) throw new TypeError("zmtp() takes an options object");
  const own: ZmtpFactoryOptions = { ...options };
  for (const key of ["bind", "connect"]) {
    if (Object.hasOwn(own, key)) {
      throw new TypeError(`zmtp() takes no ${key} option: pass the endpoints to connect(), server.bind() or server.connect()`);
    }
  }
  return Object.freeze({
    name: "zmtp" as const,
    options: Object.freeze(own),
    open(
      kind: TransportKind,
      how: "bind" | "connect",
      endpoint: string | readonly string[],
      defaults: TransportDefaults = {},
    ): Promise<OpenedTransport> {
      const { routingId, subscribe, ...rest } = own;
      const maxMessageSize = own.maxMessageSize ?? defaults.maxMessageSize;
      return createZmtpTransport(kind, {
        ...rest,
        ...(maxMessageSize !== undefined && { maxMessageSize }),
        ...(kind === "dealer" && routingId !== undefined && { routingId }),
        ...(kind === "sub" && subscribe !== undefined && { subscribe }),
        [how]: endpoint,
      });
    },
  });
}
