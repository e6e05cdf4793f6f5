// Addresses as people type them (`4242`, `0.0.0.0:4242`, `[::1]:4242`, `localhost:4242`) and as
// ZeroMQ wants them (`tcp://127.0.0.1:4242`, `ipc:///tmp/x.sock`). Django's runserver accepts the
// same short forms; the full ZeroMQ endpoints are for everything else.
import { isIPv4, isIPv6 } from "node:net";

/** Host of an address given as a bare port: loopback, like Django's runserver and zerorpc's examples. */
export const DEFAULT_HOST = "127.0.0.1";
/** Port of `zrpc run` without an address: the one in zerorpc-python's examples. */
export const DEFAULT_PORT = 4242;

/**
 * Longest `ipc://` path, in bytes: `sun_path` of a Unix socket address holds 108 bytes including
 * the terminating NUL on Linux (104 on macOS and the BSDs: those fail in ZeroMQ with its message).
 */
export const MAX_IPC_PATH_BYTES = 107;

/** A parsed address: the ZeroMQ endpoint and what it is made of. */
export interface Address {
  /** The ZeroMQ endpoint: `tcp://127.0.0.1:4242`, `tcp://[::1]:4242`, `tcp://127.0.0.1:*`, `ipc://path`. */
  readonly endpoint: string;
  /** The transport. */
  readonly transport: "tcp" | "ipc";
  /** The host for tcp (without brackets for IPv6, `*` for all interfaces); the path for ipc. */
  readonly host: string;
  /** The port for tcp; 0 means "any free port" (only when binding); `undefined` for ipc. */
  readonly port: number | undefined;
  /**
   * True when the host is an IPv6 literal: ZeroMQ sockets need their IPv6 option on for it
   * (libzmq refuses `tcp://[::1]:...` with "No such device" otherwise).
   */
  readonly ipv6: boolean;
}

/** Options of {@link parseAddress}. */
export interface ParseAddressOptions {
  /**
   * `"bind"` (for `zrpc run`) also accepts port 0 and `*` (any free port: the real one is known
   * once bound) and the `*` host (all interfaces); `"connect"` (for `zrpc call`) needs a real
   * port and host. Default `"connect"`.
   */
  readonly mode?: "bind" | "connect";
}

/**
 * An address that cannot be used. `input` is what was given, `reason` what is wrong with it; the
 * message combines both: `invalid address "70000": port 70000 is out of range (1-65535)`.
 */
export class AddressError extends Error {
  /** The address as given. */
  readonly input: string;
  /** What is wrong with it, e.g. `port 70000 is out of range (1-65535)`. */
  readonly reason: string;

  /**
   * @param input - the address as given
   * @param reason - what is wrong with it
   */
  constructor(input: string, reason: string) {
    super(`invalid address ${JSON.stringify(input)}: ${reason}`);
    this.name = "AddressError";
    this.input = input;
    this.reason = reason;
  }
}

/** Forms accepted, for error messages. */
const FORMS = "expected PORT, HOST:PORT, [IPV6]:PORT, tcp://HOST:PORT or ipc://PATH";

const IPV6_BRACKETS = "IPv6 addresses must be written in brackets, as [ADDRESS]:PORT (e.g. [::1]:4242)";

/** A DNS name or network interface name (RFC 1123 labels; `_` tolerated, as many resolvers do). */
const HOSTNAME_LABEL = /^[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$/;

function parsePort(input: string, text: string, mode: "bind" | "connect"): number {
  if (text === "") throw new AddressError(input, `missing port (${FORMS})`);
  if (text === "*" && mode === "bind") return 0;
  if (!/^[0-9]+$/.test(text)) throw new AddressError(input, `port ${JSON.stringify(text)} is not a number`);
  const port = Number(text);
  const min = mode === "bind" ? 0 : 1;
  if (port < min || port > 65_535) throw new AddressError(input, `port ${text} is out of range (${min}-65535)`);
  return port;
}

/** Checks a host that is not bracketed: IPv4, a hostname, or `*` when binding. */
function checkHost(input: string, host: string, mode: "bind" | "connect"): void {
  if (host === "") throw new AddressError(input, "empty host");
  if (host === "*") {
    if (mode === "bind") return;
    throw new AddressError(input, "host * (all interfaces) can only be bound, not connected to");
  }
  if (host.includes(":")) {
    throw new AddressError(input, IPV6_BRACKETS);
  }
  if (/^[0-9.]+$/.test(host)) {
    if (!isIPv4(host)) throw new AddressError(input, `bad IPv4 address ${JSON.stringify(host)}`);
    return;
  }
  const labels = host.endsWith(".") ? host.slice(0, -1).split(".") : host.split(".");
  if (host.length > 253 || !labels.every((label) => HOSTNAME_LABEL.test(label))) {
    throw new AddressError(input, `bad host name ${JSON.stringify(host)}`);
  }
}

/** Parses `HOST:PORT`, `[IPV6]:PORT` or (when `allowBarePort`) `PORT`. */
function parseHostPort(input: string, text: string, mode: "bind" | "connect", allowBarePort: boolean): Address {
  if (text.startsWith("[")) {
    const close = text.indexOf("]");
    if (close < 0) throw new AddressError(input, "bad IPv6 address: missing ]");
    const host = text.slice(1, close);
    if (host === "") throw new AddressError(input, "empty host");
    if (!isIPv6(host)) throw new AddressError(input, `bad IPv6 address ${JSON.stringify(host)}`);
    const rest = text.slice(close + 1);
    if (rest === "") throw new AddressError(input, `missing port after [${host}] (${FORMS})`);
    if (!rest.startsWith(":")) throw new AddressError(input, `expected :PORT after [${host}], got ${JSON.stringify(rest)}`);
    const port = parsePort(input, rest.slice(1), mode);
    return tcp(`[${host}]`, host, port, true);
  }
  const colon = text.lastIndexOf(":");
  if (colon < 0) {
    if (allowBarePort && /^[0-9]+$/.test(text)) return tcp(DEFAULT_HOST, DEFAULT_HOST, parsePort(input, text, mode), false);
    if (allowBarePort && text === "*" && mode === "bind") return tcp(DEFAULT_HOST, DEFAULT_HOST, 0, false);
    if (allowBarePort && /^-[0-9]+$/.test(text)) throw new AddressError(input, `port ${text} is out of range (${mode === "bind" ? 0 : 1}-65535)`);
    throw new AddressError(input, `missing port (${FORMS})`);
  }
  const host = text.slice(0, colon);
  // More than one colon and no brackets: an IPv6 address written bare (`::1:4242`, `::1`), where
  // the port cannot be told from the address.
  if (host.includes(":")) throw new AddressError(input, IPV6_BRACKETS);
  checkHost(input, host, mode);
  const port = parsePort(input, text.slice(colon + 1), mode);
  return tcp(host, host, port, false);
}

function tcp(hostPart: string, host: string, port: number, ipv6: boolean): Address {
  return { endpoint: `tcp://${hostPart}:${port === 0 ? "*" : String(port)}`, transport: "tcp", host, port, ipv6 };
}

/**
 * Parses an address as `zrpc run` and `zrpc call` accept it:
 *
 * | input | endpoint |
 * |---|---|
 * | `4242` | `tcp://127.0.0.1:4242` |
 * | `0.0.0.0:4242` | `tcp://0.0.0.0:4242` |
 * | `[::1]:4242` | `tcp://[::1]:4242` (IPv6: see {@link Address.ipv6}) |
 * | `localhost:4242` | `tcp://localhost:4242` |
 * | `tcp://HOST:PORT` | as given (checked like `HOST:PORT`) |
 * | `ipc://PATH` | as given |
 *
 * When binding, port `0` (or `*`) asks for any free port. Throws an {@link AddressError} naming
 * the input and what is wrong: port out of range or not a number, empty host, bad IPv4 or IPv6
 * address, IPv6 without brackets, unknown scheme, empty or too long ipc path.
 */
export function parseAddress(input: string, options: ParseAddressOptions = {}): Address {
  const mode = options.mode ?? "connect";
  const text = input.trim();
  if (text === "") throw new AddressError(input, `empty address (${FORMS})`);
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(text);
  if (scheme === null) {
    if (text.includes("://")) throw new AddressError(input, `missing scheme before :// (expected tcp:// or ipc://)`);
    return parseHostPort(input, text, mode, true);
  }
  const name = scheme[1]!.toLowerCase();
  const rest = text.slice(scheme[0].length);
  switch (name) {
    case "tcp":
      if (rest === "") throw new AddressError(input, `missing HOST:PORT after tcp://`);
      return parseHostPort(input, rest, mode, false);
    case "ipc": {
      if (rest === "") throw new AddressError(input, "empty ipc path");
      const bytes = Buffer.byteLength(rest, "utf8");
      if (bytes > MAX_IPC_PATH_BYTES) {
        throw new AddressError(input, `ipc path is ${bytes} bytes long; a Unix socket path holds at most ${MAX_IPC_PATH_BYTES}`);
      }
      return { endpoint: `ipc://${rest}`, transport: "ipc", host: rest, port: undefined, ipv6: false };
    }
    case "inproc":
      throw new AddressError(input, "inproc:// endpoints only work inside one process (use tcp:// or ipc://)");
    default:
      throw new AddressError(input, `unknown scheme ${JSON.stringify(scheme[1]!)}:// (expected tcp:// or ipc://)`);
  }
}
