// The socket of `connect()` and the one-way helpers: opened by the `transport` factory they are
// given, the pure-TypeScript ZMTP transport (`zmtp()`, no native addon) by default. Other
// transports (`zeromq()` from @zrpc/transport-zeromq, or your own) come in as values, so this
// package never loads or names one it does not depend on.
import type { OpenedTransport, TransportDefaults, TransportFactory, TransportKind } from "@zrpc/channel";
import { zmtp } from "@zrpc/transport-zmtp";

/** The transport option of the helpers that open their own socket. */
export interface TransportOption {
  /**
   * Opens the socket: a factory from a transport package, such as `zmtp(options)` from
   * `@zrpc/transport-zmtp` (the default, `zmtp()`) or `zeromq(options)` from the zeromq.js
   * transport package (install it yourself: for libzmq, for instance). Socket options
   * (linger, high-water marks, ...) are the factory's; CURVE keys may be either the caller's
   * `curve` option or the factory's (which wins).
   */
  readonly transport?: TransportFactory;
}

/**
 * A copy of `options` without its `transport` key.
 * @internal
 */
export function withoutTransport<T extends object>(options: T): Omit<T, "transport"> {
  const rest = { ...options } as Record<string, unknown>;
  delete rest.transport;
  return rest as Omit<T, "transport">;
}

/**
 * Opens a `kind` socket bound or connected to `endpoint` with the factory of `options.transport`
 * (default `zmtp()`).
 * @internal
 */
export function openTransport(
  kind: TransportKind,
  how: "bind" | "connect",
  endpoint: string | readonly string[],
  options: { readonly factory: TransportFactory | undefined; readonly defaults?: TransportDefaults },
): Promise<OpenedTransport> {
  return (options.factory ?? zmtp()).open(kind, how, endpoint, options.defaults);
}
