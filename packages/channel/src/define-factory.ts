// The common part of every transport package's factory function (`zmtp(options)`,
// `zeromq(options)`): validate and freeze the options, refuse endpoints among them, and merge what
// the caller supplies with the factory's own options (the factory's win).
import type { OpenedTransport, TransportDefaults, TransportFactory, TransportKind } from "./transport.js";

/** Options every factory-made socket may take; the rest is the transport's own. */
export interface FactorySocketOptions {
  readonly maxMessageSize?: number;
  readonly routingId?: unknown;
  readonly subscribe?: unknown;
}

/** A factory made by {@link defineTransportFactory}. */
export interface DefinedTransportFactory<Name extends string, Options> extends TransportFactory {
  readonly name: Name;
  /** The options every socket is opened with (a copy of what was given). */
  readonly options: Readonly<Options>;
}

/** What the `open` callback of {@link defineTransportFactory} receives for one socket. */
export interface TransportOpenRequest<Options> {
  /**
   * The options to open the socket with: the factory's options, `maxMessageSize` defaulted from
   * the caller's, `routingId` kept only for a dealer and `subscribe` only for a sub socket.
   */
  readonly socketOptions: Options;
  /** The kind of socket to open. */
  readonly kind: TransportKind;
  /** Whether to bind the socket to `endpoint` or connect it. */
  readonly how: "bind" | "connect";
  /** The endpoint or endpoints to bind or connect. */
  readonly endpoint: string | readonly string[];
  /** What the caller (client, server) supplies, see {@link TransportDefaults}. */
  readonly defaults: TransportDefaults;
}

/**
 * Builds a {@link TransportFactory} named `name` from `options` (copied and frozen; a `bind` or
 * `connect` key is a `TypeError`). `open` is called with one {@link TransportOpenRequest} per
 * socket: the socket options (the factory's options, `maxMessageSize` defaulted from the
 * caller's, `routingId` kept only for a dealer and `subscribe` only for a sub socket), the kind,
 * bind or connect, the endpoint and the caller's defaults.
 */
export function defineTransportFactory<Name extends string, Options extends FactorySocketOptions>(
  name: Name,
  options: Options,
  open: (request: TransportOpenRequest<Options>) => Promise<OpenedTransport>,
): DefinedTransportFactory<Name, Options> {
  if (typeof options !== "object" || options === null) throw new TypeError(`${name}() takes an options object`);
  const own: Options = { ...options };
  for (const key of ["bind", "connect"]) {
    if (Object.hasOwn(own, key)) {
      throw new TypeError(`${name}() takes no ${key} option: pass the endpoints to connect(), server.bind() or server.connect()`);
    }
  }
  return Object.freeze({
    name,
    options: Object.freeze(own),
    open(kind: TransportKind, how: "bind" | "connect", endpoint: string | readonly string[], defaults: TransportDefaults = {}): Promise<OpenedTransport> {
      const { routingId, subscribe, ...rest } = own;
      const maxMessageSize = own.maxMessageSize ?? defaults.maxMessageSize;
      const socketOptions = {
        ...rest,
        ...(maxMessageSize !== undefined && { maxMessageSize }),
        ...(kind === "dealer" && routingId !== undefined && { routingId }),
        ...(kind === "sub" && subscribe !== undefined && { subscribe }),
      } as Options;
      return open({ socketOptions, kind, how, endpoint, defaults });
    },
  });
}
