// libzmq's socket monitor events, read as the connection state of each connect endpoint (for
// Transport.watchConnections). libzmq says little about why a connect failed: a refused or
// unreachable address shows as connect:delay, close, connect:retry; a name that does not resolve
// as connect:retry alone; a peer that is not a ZeroMQ peer as connect, then a handshake error or a
// disconnect before any handshake. The causes below say that much, and no more.
import type { Event as ZmqEvent } from "zeromq";
import type { ConnectionEvent } from "@zrpc/channel";

/** Where one connect endpoint is in libzmq's connect cycle. */
interface Progress {
  /** connect:delay seen since the last retry: a TCP connect was under way. */
  dialing: boolean;
  /** connect seen and no handshake yet: the TCP connection is up. */
  handshaking: boolean;
  /** The handshake completed on the current connection. */
  connected: boolean;
  /** A handshake error of the current connection, reported as the attempt's failure. */
  handshakeError: Error | undefined;
}

/** An Error with a `code`, as the causes of connection events carry. */
function failure(message: string, code: string, cause?: unknown): Error {
  const error = new Error(message, cause === undefined ? undefined : { cause });
  (error as { code?: string }).code = code;
  return error;
}

function describe(error: Error | undefined): string {
  if (error === undefined) return "";
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" && !error.message.includes(code) ? `${error.message} (${code})` : error.message;
}

/**
 * Follows the monitor events of one socket and emits a {@link ConnectionEvent} per change of a
 * connect endpoint.
 * @internal
 */
export class ConnectionTracker {
  readonly #curveClient: boolean;
  readonly #emit: (event: ConnectionEvent) => void;
  readonly #isBound: (address: string) => boolean;
  readonly #progress = new Map<string, Progress>();

  /**
   * @param curveClient - the socket is a CURVE client (a wrong server key breaks handshakes off)
   * @param emit - receives each connection event
   * @param isBound - true for an address the socket is bound to (events of accepted connections)
   */
  constructor(curveClient: boolean, emit: (event: ConnectionEvent) => void, isBound: (address: string) => boolean) {
    this.#curveClient = curveClient;
    this.#emit = emit;
    this.#isBound = isBound;
  }

  add(endpoint: string): void {
    if (!this.#progress.has(endpoint)) {
      this.#progress.set(endpoint, { dialing: false, handshaking: false, connected: false, handshakeError: undefined });
    }
  }

  remove(endpoint: string): void {
    this.#progress.delete(endpoint);
  }

  /**
   * The connect endpoint an event is about: its address, else the only endpoint (libzmq may spell
   * a host name resolved), else the address itself, so that a connection is never left unreported.
   */
  #endpointOf(address: string): string {
    if (this.#progress.has(address)) return address;
    if (this.#progress.size === 1) return this.#progress.keys().next().value as string;
    this.add(address);
    return address;
  }

  onEvent(event: ZmqEvent): void {
    if (!("address" in event) || typeof event.address !== "string") return;
    if (event.type.startsWith("accept") || event.type.startsWith("bind")) return; // the listening side
    if (this.#progress.size === 0 || this.#isBound(event.address)) return; // nothing connected by us, or an accepted connection
    const endpoint = this.#endpointOf(event.address);
    const progress = this.#progress.get(endpoint) as Progress;
    switch (event.type) {
      case "connect:delay":
        progress.dialing = true;
        progress.handshakeError = undefined;
        return;
      case "connect":
        progress.dialing = false;
        progress.handshaking = true;
        progress.handshakeError = undefined;
        this.#emit({ endpoint, state: "handshaking" });
        return;
      case "handshake":
        progress.handshaking = false;
        progress.connected = true;
        this.#emit({ endpoint, state: "connected" });
        return;
      case "handshake:error:protocol":
      case "handshake:error:auth":
      case "handshake:error:other":
        progress.handshakeError = this.#handshakeError(event.type, event.error);
        return;
      case "disconnect":
        this.#closed(endpoint, progress);
        return;
      case "connect:retry": {
        if (progress.handshaking || progress.connected) this.#closed(endpoint, progress);
        const dialed = progress.dialing;
        progress.dialing = false;
        if (progress.handshakeError !== undefined) return; // reported by #closed
        this.#emit({
          endpoint,
          state: "failed",
          error: dialed
            ? failure("connection refused or unreachable (ECONNREFUSED or similar; libzmq retrying)", "ECONNREFUSED")
            : failure("the address did not resolve (ENOTFOUND or similar; libzmq retrying)", "ENOTFOUND"),
        });
        return;
      }
      case "accept":
      case "accept:error":
      case "bind":
      case "bind:error":
      case "close":
      case "close:error":
        // Listening side, or the connecter's own socket closing (followed by connect:retry).
        return;
    }
  }

  /** The current connection of `endpoint` closed (before or after its handshake). */
  #closed(endpoint: string, progress: Progress): void {
    if (progress.connected) {
      progress.connected = false;
      progress.handshakeError = undefined;
      this.#emit({ endpoint, state: "disconnected" });
      return;
    }
    if (!progress.handshaking) return;
    progress.handshaking = false;
    const error =
      progress.handshakeError ??
      failure("not a ZeroMQ peer: it closed the connection during the ZMTP handshake", "EPROTO");
    this.#emit({ endpoint, state: "failed", error });
    // Kept until the retry, so that it is not reported a second time as a refused connection.
    progress.handshakeError = error;
  }

  #handshakeError(type: string, error: Error): Error {
    const code = (error as { code?: unknown }).code;
    if (type === "handshake:error:auth") return failure(`authentication failed: ${describe(error)}`, "EACCES", error);
    if (code === "ERR_ZMTP_MECHANISM_MISMATCH" || code === "ERR_ZMTP_CRYPTOGRAPHIC") {
      return failure(`security handshake failed: ${describe(error)}`, "EPROTO", error);
    }
    if (this.#curveClient && type === "handshake:error:other") {
      return failure(`security handshake broke off: ${describe(error)} (a wrong curve.serverKey looks like this)`, "EPROTO", error);
    }
    // libzmq reports a peer that hangs up mid-handshake (EPIPE, ECONNRESET) this way: a listener
    // that is not ZeroMQ, or a ZeroMQ server that requires a mechanism this client does not use (a
    // CURVE server drops a plaintext client so, when it notices the mismatch before the client).
    return failure(
      `not a ZeroMQ peer: the ZMTP handshake failed: ${describe(error)} (or a ZeroMQ server that requires a security mechanism this client does not use, such as CURVE)`,
      "EPROTO",
      error,
    );
  }
}
