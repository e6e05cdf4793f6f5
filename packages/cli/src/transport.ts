// Which transport the command's sockets run on: `zmtp` (@zrpc/transport-zmtp: ZMTP 3.1 in
// TypeScript on node:net, no native code; the default) or `zeromq` (@zrpc/transport-zeromq:
// zeromq.js and its native libzmq addon, an optional dependency). Both speak ZMTP on the wire, so
// either end may use either.
import { UsageError } from "./errors.js";

/** The transports, as `--transport` and `server.transport` spell them. */
export const TRANSPORT_NAMES = ["zmtp", "zeromq"] as const;

/** `"zeromq"` (@zrpc/transport-zeromq) or `"zmtp"` (@zrpc/transport-zmtp). */
export type TransportName = (typeof TRANSPORT_NAMES)[number];

/** The transport used when neither the command line nor the configuration chooses one. */
export const DEFAULT_TRANSPORT: TransportName = "zmtp";

/** True for a {@link TransportName}. */
export function isTransportName(value: unknown): value is TransportName {
  return typeof value === "string" && (TRANSPORT_NAMES as readonly string[]).includes(value);
}

/**
 * Reads `--transport`: `undefined` when absent, a {@link TransportName}, or a {@link UsageError}
 * naming what was given.
 */
export function transportOption(value: string | true | undefined): TransportName | undefined {
  if (value === undefined) return undefined;
  if (isTransportName(value)) return value;
  throw new UsageError(`--transport must be ${TRANSPORT_NAMES.join(" or ")}, got ${JSON.stringify(value)}`);
}
