// What a connect attempt that reached a listener but never completed the ZMTP handshake says
// about that listener: not a ZeroMQ peer at all (an HTTP server, a silent TCP server), or a
// ZeroMQ peer that refused us (its own error is kept).
import { Buffer } from "node:buffer";
import type { ZmtpConnection } from "./connection.js";
import { ZmtpError } from "./errors.js";

/** Octets of a non-ZMTP answer shown as text when they are all printable ASCII (tab, CR, LF allowed). */
function printable(bytes: Uint8Array): boolean {
  for (const byte of bytes) {
    if (byte !== 9 && byte !== 10 && byte !== 13 && (byte < 32 || byte > 126)) return false;
  }
  return true;
}

/**
 * What the peer sent, for a message: its first line quoted when printable ("..." when more
 * followed), else hex octets.
 */
export function describeBytes(bytes: Uint8Array): string {
  if (!printable(bytes)) return `octets ${Buffer.from(bytes).toString("hex").replace(/(..)(?!$)/g, "$1 ")}`;
  const text = Buffer.from(bytes).toString("latin1");
  const end = text.search(/\r?\n/);
  const line = end < 0 ? text : text.slice(0, end);
  return `${JSON.stringify(line)}${end >= 0 && text.slice(end).trim() === "" ? "" : "..."}`;
}

/**
 * The error of a connect attempt whose connection closed before the handshake completed:
 * `error` is why it closed (undefined: the peer closed it). A peer that sent no greeting (or
 * something else first) is "not a ZeroMQ peer"; a peer that greeted like ZMTP keeps its error.
 * @internal
 */
export function handshakeFailure(connection: ZmtpConnection, error: Error | undefined): Error {
  const endpoint = connection.endpoint;
  const first = connection.firstBytes;
  // A CURVE client that sent its HELLO with its greeting: its session says what the close means.
  if (connection.greeting === undefined && first.byteLength === 0 && connection.curveHelloSent && error !== undefined) return error;
  if (connection.greeting === undefined && (first.byteLength === 0 || first[0] !== 0xff)) {
    let what: string;
    if (first.byteLength > 0) {
      const http = Buffer.from(first.subarray(0, 5)).toString("latin1") === "HTTP/";
      what = `it sent ${describeBytes(first)} instead of a ZMTP greeting${http ? " (an HTTP server?)" : ""}`;
    }
    else if (error !== undefined && ZmtpError.isInstance(error) && error.code === "timeout") {
      what = `it sent nothing (no ZMTP greeting) within the handshake timeout: ${error.message}`;
    } else what = "it closed the connection without sending a ZMTP greeting";
    return new ZmtpError("protocol", `not a ZeroMQ peer: ${what}`, { endpoint, ...(error !== undefined && { cause: error }) });
  }
  if (error !== undefined) return error;
  return new ZmtpError("protocol", `the ZeroMQ peer closed the connection during the ZMTP handshake (a security mechanism or socket type it refuses?)`, {
    endpoint,
  });
}
