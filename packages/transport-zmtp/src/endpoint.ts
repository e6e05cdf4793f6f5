// ZeroMQ endpoint strings: tcp://host:port and ipc://path.
import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";

/**
 * A parsed endpoint.
 * @internal
 */
export type Endpoint =
  | {
      readonly transport: "tcp";
      /** `"*"` (any interface), an IP literal (IPv6 without brackets) or a host name. */
      readonly host: string;
      /** 0 for an ephemeral port (`*` or `0`). */
      readonly port: number;
    }
  | { readonly transport: "ipc"; readonly path: string };

/**
 * Parses `tcp://host:port` (host `*`, IPv4, `[IPv6]` or a name; port `*`, `0` or 1-65535) or
 * `ipc://path` (`ipc://*` picks a fresh path in the temporary directory when binding). Throws a
 * TypeError naming the endpoint when it is not valid for the action.
 * @internal
 */
export function parseEndpoint(endpoint: string, action: "bind" | "connect"): Endpoint {
  const invalid = (why: string): TypeError => new TypeError(`invalid ${action} endpoint ${JSON.stringify(endpoint)}: ${why}`);
  const schemeEnd = endpoint.indexOf("://");
  if (schemeEnd < 0) throw invalid("expected tcp://host:port or ipc://path");
  const scheme = endpoint.slice(0, schemeEnd);
  const rest = endpoint.slice(schemeEnd + 3);
  if (scheme === "ipc") {
    if (rest.length === 0) throw invalid("empty path");
    if (rest === "*") {
      if (action === "connect") throw invalid("cannot connect to a wildcard path");
      return { transport: "ipc", path: join(tmpdir(), `zmtp-${randomBytes(6).toString("hex")}.sock`) };
    }
    return { transport: "ipc", path: rest };
  }
  if (scheme !== "tcp") throw invalid(`unsupported transport ${JSON.stringify(scheme)} (tcp and ipc only)`);
  const colon = rest.lastIndexOf(":");
  if (colon < 0) throw invalid("missing port");
  let host = rest.slice(0, colon);
  const portText = rest.slice(colon + 1);
  if (host.startsWith("[")) {
    if (!host.endsWith("]")) throw invalid("unterminated [IPv6] address");
    host = host.slice(1, -1);
    if (isIP(host) !== 6) throw invalid(`${host} is not an IPv6 address`);
  } else if (host.includes(":")) {
    throw invalid("IPv6 addresses must be written in brackets, e.g. tcp://[::1]:5555");
  }
  if (host.length === 0) throw invalid("missing host");
  if (host === "*" && action === "connect") throw invalid("cannot connect to a wildcard host");
  let port: number;
  if (portText === "*") {
    port = 0;
  } else if (/^\d{1,5}$/.test(portText) && Number(portText) <= 65535) {
    port = Number(portText);
  } else {
    throw invalid(`bad port ${JSON.stringify(portText)}`);
  }
  if (port === 0 && action === "connect") throw invalid("cannot connect to port 0 or *");
  return { transport: "tcp", host, port };
}

/**
 * Resolves the host of a tcp endpoint to an address: `*` becomes `0.0.0.0` (every IPv4 interface,
 * as libzmq does without ZMQ_IPV6), IP literals stay, names go through `dns.lookup`.
 * @internal
 */
export async function resolveHost(host: string): Promise<string> {
  if (host === "*") return "0.0.0.0";
  if (isIP(host) !== 0) return host;
  // IPv4 only, like libzmq without ZMQ_IPV6: "localhost" must not turn into ::1 on one side
  // and 127.0.0.1 on the other. Bracketed IPv6 literals are used as given.
  const { address } = await lookup(host, { family: 4 });
  return address;
}

/**
 * Formats a tcp endpoint, with brackets around IPv6 addresses.
 * @internal
 */
export function formatTcp(address: string, port: number): string {
  return isIP(address) === 6 ? `tcp://[${address}]:${port}` : `tcp://${address}:${port}`;
}
