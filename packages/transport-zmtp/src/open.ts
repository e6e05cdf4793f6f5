// Opening ZMTP transports: create, bind and connect in one call.
import type { TransportKind } from "@zrpc/channel";
import { resolveOptions } from "./options.js";
import type { ZmtpTransportOptions } from "./options.js";
import { ZmtpSocketTransport } from "./transport.js";
import type { ZmtpTransport } from "./transport-api.js";

/**
 * Creates a ZMTP transport of the given kind, binds every `bind` endpoint (in order) and connects
 * every `connect` endpoint. Resolves once all binds completed. If a bind fails the transport is
 * closed and the promise rejects with a {@link ZmtpEndpointError} of code `"bind"` naming the
 * endpoint; an invalid connect endpoint rejects with code `"connect"`. Invalid options throw a
 * `TypeError` or `RangeError`.
 *
 * The transport holds the Node.js event loop open (like a listening server) until it is closed.
 */
export async function createZmtpTransport(kind: TransportKind, options: ZmtpTransportOptions = {}): Promise<ZmtpTransport> {
  const resolved = resolveOptions(kind, options);
  const transport = new ZmtpSocketTransport(kind, resolved);
  try {
    for (const endpoint of resolved.bind) await transport.bind(endpoint);
    for (const endpoint of resolved.connect) transport.connect(endpoint);
  } catch (error) {
    await transport.close();
    throw error;
  }
  return transport;
}

/**
 * A ROUTER transport (the server side of request/reply) bound to `endpoint`(s).
 * Shorthand for `createZmtpTransport("router", { ...options, bind: endpoint })`.
 */
export function bindRouter(
  endpoint: string | readonly string[],
  options: Omit<ZmtpTransportOptions, "bind"> = {},
): Promise<ZmtpTransport> {
  return createZmtpTransport("router", { ...options, bind: endpoint });
}

/**
 * A DEALER transport (the client side of request/reply) connected to `endpoint`(s).
 * Shorthand for `createZmtpTransport("dealer", { ...options, connect: endpoint })`.
 */
export function connectDealer(
  endpoint: string | readonly string[],
  options: Omit<ZmtpTransportOptions, "connect"> = {},
): Promise<ZmtpTransport> {
  return createZmtpTransport("dealer", { ...options, connect: endpoint });
}
