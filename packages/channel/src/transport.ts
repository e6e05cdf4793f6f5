import type { CurveOptions } from "./curve.js";
/**
 * The transport port: what the channel layer needs from a message socket. ZeroMQ (zeromq.js) is
 * one implementation (`@zrpc/transport-zeromq`); `@zrpc/channel/testing` has an in-memory pair.
 * The channel layer knows nothing of sockets: it sends and receives whole payloads (one encoded
 * zerorpc event each) addressed to a {@link Peer}.
 */

/**
 * The other end of a message. For a ROUTER-style transport it is one connected client and carries
 * the routing envelope (routing id plus any extra hop frames, without the empty delimiter) that a
 * reply must be sent back with. For a DEALER-style transport there is a single peer.
 */
export interface Peer {
  /**
   * A string that identifies the peer for as long as it is connected; equal keys mean the same
   * peer. The channel layer keys server-side channels by `peer.key` plus the message id.
   */
  readonly key: string;
  /** Routing frames to send a reply back with (empty for DEALER, PUSH, PUB, ...). */
  readonly envelope: readonly Uint8Array[];
}

/** One received message: who sent it and the payload (the last frame of the ZeroMQ message). */
export interface TransportMessage {
  readonly peer: Peer;
  readonly payload: Uint8Array;
}

/** The socket pattern a transport speaks, named after the ZeroMQ socket types zerorpc uses. */
export type TransportKind = "router" | "dealer" | "push" | "pull" | "pub" | "sub";

/**
 * A message transport. Incoming messages are read by iterating it (exactly one consumer);
 * iteration ends when the transport closes.
 */
export interface Transport extends AsyncIterable<TransportMessage> {
  /** The socket pattern; the channel layer checks it matches its role. */
  readonly kind: TransportKind;
  /**
   * Queue one payload for sending and return at once. `peer` is required for ROUTER transports
   * (the peer a message came from) and ignored otherwise. Messages to one peer go out in the
   * order they were queued. Throws a `ZrpcError` with code `"closed"` after `close()`, and with
   * code `"backpressure"` when the transport's bounded send queue is full.
   */
  send(peer: Peer | undefined, payload: Uint8Array): void;
  /**
   * Stop reading and sending, release the socket. Messages still queued are flushed for up to the
   * transport's linger time. Idempotent. Resolves when the transport is fully closed.
   */
  close(): Promise<void>;
  /** Resolves (never rejects) once the transport is closed: with the error that closed it, if any. */
  readonly closed: Promise<Error | undefined>;
  /**
   * Optional fast path, used by the {@link Multiplexer} when present: every received message is
   * handed to `listener` synchronously, as it is read from the socket, instead of through the
   * async iterator (no promise per message). It replaces iteration (a transport has one reader)
   * and is set at most once; messages that arrived before it are delivered to it at once. A
   * throwing listener must not stop the transport. `closed` still reports the end.
   */
  onMessage?(listener: (peer: Peer, payload: Uint8Array) => void): void;
  /**
   * Optional scatter/gather send, used by the {@link Multiplexer} when present: queues one
   * message whose payload is the concatenation of `chunks`, written without joining them (large
   * event payloads are then never copied). Large chunks are held by reference until written.
   * Same errors as `send`.
   */
  sendChunks?(peer: Peer | undefined, chunks: readonly Uint8Array[]): void;
  /**
   * Optional connection state of a transport that connects (DEALER, PUSH, SUB, ...): `listener`
   * gets a {@link ConnectionEvent} whenever one of the endpoints passed to `connect` changes state,
   * and, at once, the latest event of every connect endpoint that has one. Returns a function that
   * removes the listener. A listener that throws is ignored. A client uses it to fail calls that
   * wait for a connection with a `ConnectError` that says why (connection refused, not a ZeroMQ
   * peer) instead of waiting for heartbeats.
   */
  watchConnections?(listener: (event: ConnectionEvent) => void): () => void;
}

/**
 * What a connecting transport reports about one endpoint it connects to (see
 * {@link Transport.watchConnections}):
 * - `"handshaking"`: the TCP/IPC connection is up, the transport's own handshake (ZMTP greeting
 *   and READY) has not completed yet;
 * - `"connected"`: the handshake completed, messages flow;
 * - `"failed"`: a connect attempt failed; `error` says why: an `Error` whose `code` is the system
 *   error (`ECONNREFUSED`, `ENOTFOUND`, `EHOSTUNREACH`, `ETIMEDOUT`, ...), or a protocol failure
 *   whose message starts with "not a ZeroMQ peer" (the peer sent something that is not a ZMTP
 *   greeting, closed the connection during the handshake, or stayed silent). The transport goes on
 *   retrying in the background;
 * - `"disconnected"`: an established connection closed (`error` when it did not close normally);
 *   the transport reconnects in the background.
 */
export interface ConnectionEvent {
  /** The endpoint as passed to `connect`. */
  readonly endpoint: string;
  readonly state: "handshaking" | "connected" | "failed" | "disconnected";
  /** Why the attempt failed, or why the connection closed, when known. */
  readonly error?: Error;
}

/** A transport that was opened by a {@link TransportFactory}: bound or connected, with its endpoints. */
export interface OpenedTransport extends Transport {
  /**
   * The endpoints the transport is bound to, with wildcards resolved (`tcp://127.0.0.1:0` shows
   * the port picked), in bind order; empty for a transport that only connects.
   */
  readonly endpoints: readonly string[];
}

/** A peer that failed a transport's security handshake (a refused CURVE key, for instance). */
export interface TransportAuthFailure {
  /** One line saying what happened, naming the key or endpoint. */
  readonly message: string;
  /** What kind of failure (see `CurveAuthFailure.kind`), when the transport knows. */
  readonly kind?: "auth" | "protocol" | "other";
  /** The endpoint of the connection, or the client's address, when the transport knows. */
  readonly address?: string;
  /** The refused client key (Z85), on the server side of an `"auth"` failure. */
  readonly publicKey?: string;
}

/**
 * What the code that opens a socket through a {@link TransportFactory} supplies (a client's or a
 * server's own options). A factory applies each of these only where its own options leave the
 * setting unset: the options given to the factory always win. A factory ignores what it has no
 * use for.
 */
export interface TransportDefaults {
  /**
   * Largest incoming message in bytes that the transport should accept (from the client's or the
   * server's `maxMessageBytes`).
   */
  readonly maxMessageSize?: number;
  /**
   * Receives each failed security handshake, for a server to log. A factory calls it only when its
   * transport runs a security mechanism and its own options set no handler for that.
   */
  readonly onAuthFailure?: (failure: TransportAuthFailure) => void;
  /**
   * Connection keepalives: send a transport-level heartbeat (a ZMTP PING) on every connection this
   * often, in ms, and close a connection (to reconnect it) when nothing arrives within
   * `heartbeatTimeoutMs` of one. A client passes its heartbeat interval, so that a dead connection
   * is noticed and replaced even while no call is open. A factory without keepalives ignores it.
   */
  readonly heartbeatMs?: number;
  /** See {@link TransportDefaults.heartbeatMs}. */
  readonly heartbeatTimeoutMs?: number;
  /**
   * CURVE security (ZMTP-CURVE) from the caller's own `curve` option (`connect(..., { curve })`,
   * `server.bind(..., { curve })`, the pool's, the one-way helpers'). A factory whose own options
   * set `curve` uses those instead; a factory that cannot do CURVE must fail the open with a
   * `TypeError` saying so rather than open a plaintext socket.
   */
  readonly curve?: CurveOptions;
}

/**
 * Opens sockets of one transport: what `connect`, `server.bind`/`server.connect`, the pool and
 * the one-way helpers take as their `transport` option. Transport packages export a function that
 * returns one (`zmtp(options)` from `@zrpc/transport-zmtp`, `zeromq(options)` from
 * `@zrpc/transport-zeromq`); the options given there configure every socket the factory opens.
 *
 * To plug in your own transport, implement {@link Transport} and return an object like this:
 *
 * ```ts
 * const mine: TransportFactory = {
 *   name: "mine",
 *   async open(kind, how, endpoint, defaults) {
 *     return createMyTransport(kind, { [how]: endpoint, maxMessageSize: defaults?.maxMessageSize });
 *   },
 * };
 * ```
 */
export interface TransportFactory {
  /** A short name for messages and logs (`"zmtp"`, `"zeromq"`). */
  readonly name: string;
  /**
   * Opens a `kind` socket and binds it to (`how` = `"bind"`) or connects it to (`"connect"`) every
   * endpoint (`tcp://host:port`, `ipc://path`, ...). Resolves once every bind completed; connecting
   * goes on in the background. Rejects when an endpoint cannot be bound or is invalid, having
   * closed whatever it opened. The caller owns the transport and closes it.
   */
  open(
    kind: TransportKind,
    how: "bind" | "connect",
    endpoint: string | readonly string[],
    defaults?: TransportDefaults,
  ): Promise<OpenedTransport>;
}
