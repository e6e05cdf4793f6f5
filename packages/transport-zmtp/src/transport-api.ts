// The public interface of a ZMTP transport (the class is in transport.ts).
import type { ConnectionEvent, Peer, Transport } from "@zrpc/channel";

/** Counters of a {@link ZmtpTransport}, for monitoring and tests. */
export interface ZmtpTransportStats {
  /** Connections that completed their handshake. */
  readonly peers: number;
  /** Connections in any state (handshaking included). */
  readonly connections: number;
  /** Messages received and not yet taken by the consumer. */
  readonly received: number;
  /** Messages in the transport's own send queue (DEALER, PUSH), waiting for a peer with room. */
  readonly queued: number;
  /** Messages in the per-peer send queues, not yet written to the sockets. */
  readonly queuedToPeers: number;
  /** True while reading is paused because the consumer is behind. */
  readonly readingPaused: boolean;
}

/**
 * A {@link Transport} speaking ZMTP 3.1 over node:net, plus endpoint management.
 *
 * Payloads passed to `send()` are not copied until the transport writes them (small ones later in
 * the same tick, large ones by reference): do not modify them after `send()`.
 */
export interface ZmtpTransport extends Transport {
  /**
   * Queues one message whose payload is the concatenation of `chunks`, written as one ZMTP frame
   * without joining them: chunks of 16 KiB and more by reference (do not modify them until
   * written), smaller ones copied into the batch. The channel layer uses it for events with large
   * bins. Same errors as `send`; a PUB joins the chunks (its subscriptions match the payload).
   */
  sendChunks(peer: Peer | undefined, chunks: readonly Uint8Array[]): void;
  /** Endpoints currently bound, with wildcards resolved (`tcp://127.0.0.1:*` shows the port picked). In bind order. */
  readonly endpoints: readonly string[];
  /** Number of connected peers (connections that completed the ZMTP handshake). */
  readonly peers: number;
  /**
   * Binds one more endpoint and resolves with it as resolved (see {@link endpoints}). Rejects
   * with a {@link ZmtpEndpointError} of code `"bind"` naming the endpoint (for example when the
   * address is in use), or a `ZmtpError` with code `"closed"` after `close()`.
   */
  bind(endpoint: string): Promise<string>;
  /**
   * Stops listening on an endpoint (given as passed to `bind` or as resolved) and closes the
   * connections accepted through it. Rejects with a {@link ZmtpEndpointError} when it is not bound.
   */
  unbind(endpoint: string): Promise<void>;
  /**
   * Connects to an endpoint. Returns at once; the transport connects, and reconnects with
   * back-off, in the background. Throws a {@link ZmtpEndpointError} of code `"connect"` for an
   * invalid endpoint, a `ZmtpError` with code `"closed"` after `close()`.
   */
  connect(endpoint: string): void;
  /** Stops connecting to an endpoint passed to `connect` and closes its connection. Throws like {@link connect}. */
  disconnect(endpoint: string): void;
  /**
   * Optional fast path: delivers every received message synchronously to `listener` instead of
   * through the async iterator (no promise per message). It replaces the iterator: a transport has
   * one consumer, so this throws once iteration started or a listener is set. Messages received
   * before the call are delivered to it at once. `receiveHighWaterMark` does not apply.
   */
  onMessage(listener: (peer: Peer, payload: Uint8Array) => void): void;
  /** SUB only: adds a topic prefix subscription (sent to every connected publisher). */
  subscribe(topic: string | Uint8Array): void;
  /** SUB only: cancels one subscription to this topic prefix. */
  unsubscribe(topic: string | Uint8Array): void;
  /** Current counters. */
  stats(): ZmtpTransportStats;
  /**
   * Connection state of the endpoints passed to `connect` (the `Transport` capability): `listener`
   * gets `handshaking` (TCP/IPC up), `connected` (ZMTP handshake done), `failed` with the cause
   * (a system error such as `ECONNREFUSED` or `ENOTFOUND`, or a `ZmtpError` of code `"protocol"`
   * whose message starts with "not a ZeroMQ peer" when the listener answered something else than
   * a ZMTP greeting, closed the connection before greeting, or sent nothing within
   * `handshakeTimeout`), and `disconnected`; at once the latest event of each endpoint. A
   * connection whose peer has sent no octet 500 ms after it came up gets a second `handshaking`
   * whose `error` says so ("not a ZeroMQ peer? ... has sent nothing"; the connection stays up),
   * and a plain `handshaking` again when the peer's first octets arrive: a ZMTP peer greets as
   * soon as it accepts, so a client may give up on a silent one sooner than on a slow handshake.
   * Returns the function that removes the listener.
   */
  watchConnections(listener: (event: ConnectionEvent) => void): () => void;
}
