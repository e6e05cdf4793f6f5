// Endpoint strings: which configured endpoints name a host to resolve, and how resolved
// addresses become endpoints again.
import { lookup as dnsLookup } from "node:dns/promises";
import { isIP } from "node:net";
import type { Lookup, LookupAddress } from "./options.js";

/**
 * A configured endpoint whose host is a name: `tcp://my-svc:4242`.
 * @internal
 */
export interface NamedEndpoint {
  readonly host: string;
  readonly port: string;
}

/**
 * The host and port of `tcp://host:port` when `host` is a name to resolve; `undefined` for IP
 * literals (`tcp://10.0.0.7:4242`, `tcp://[::1]:4242`), wildcards, ZeroMQ's
 * `tcp://source;host:port` form, and the other transports (`ipc://`, `inproc://`), which are
 * connected to as given.
 * @internal
 */
export function namedEndpoint(endpoint: string): NamedEndpoint | undefined {
  const match = /^tcp:\/\/([^/;[\]]+):(\d+)$/i.exec(endpoint);
  if (match === null) return undefined;
  const host = match[1]!;
  const port = match[2]!;
  if (host === "*" || isIP(host) !== 0) return undefined;
  return { host, port };
}

/**
 * The endpoint for one resolved address: `tcp://10.0.0.7:4242`, `tcp://[fd00::7]:4242`.
 * @internal
 */
export function addressEndpoint(address: string | LookupAddress, port: string): string {
  const text = typeof address === "string" ? address : address.address;
  const family = typeof address === "string" ? undefined : address.family;
  const v6 = family === 6 || (family === undefined && text.includes(":"));
  return v6 ? `tcp://[${text}]:${port}` : `tcp://${text}:${port}`;
}

/**
 * The default {@link Lookup}: every IPv4 address of `hostname` (A records, `/etc/hosts`), through
 * the system resolver. IPv4 only because the ZeroMQ transport does not enable ZMQ_IPV6, so an
 * IPv6 endpoint could never connect.
 * @internal
 */
export const defaultLookup: Lookup = async (hostname) => dnsLookup(hostname, { all: true, family: 4 });
