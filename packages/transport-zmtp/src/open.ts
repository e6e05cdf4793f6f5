// Opening ZMTP transports: create, bind and connect in one call.
import { openSocketTransport, socketShorthands } from "@zrpc/channel";
import type { SocketShorthands, TransportKind } from "@zrpc/channel";
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
  return await openSocketTransport(new ZmtpSocketTransport(kind, resolved), resolved);
}

const shorthands = socketShorthands(createZmtpTransport);

/**
 * A ROUTER transport (the server side of request/reply) bound to `endpoint`(s).
 * Shorthand for `createZmtpTransport("router", { ...options, bind: endpoint })`.
 */
export const bindRouter: SocketShorthands<ZmtpTransportOptions, ZmtpTransport>["bindRouter"] = shorthands.bindRouter;

/**
 * A DEALER transport (the client side of request/reply) connected to `endpoint`(s).
 * Shorthand for `createZmtpTransport("dealer", { ...options, connect: endpoint })`.
 */
export const connectDealer: SocketShorthands<ZmtpTransportOptions, ZmtpTransport>["connectDealer"] = shorthands.connectDealer;
