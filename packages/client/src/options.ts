import type { Clock, DropReason, Peer, Transport } from "@zrpc/channel";
import type { DecodeOptions, EncodeOptions, Event, ProtocolError } from "@zrpc/wire";
import type { ClientMiddleware } from "./middleware.js";

// Call options live in their own module (see there); listed here with the client's options.
export type { CallOptions } from "./call-options.js";

/** Default time to wait for a call's first reply: 30 s, zerorpc-python's `Client(timeout=30)`. */
export const DEFAULT_TIMEOUT_MS = 30_000;

/**
 * Default time a call waits for a connection to the server: 1 s (`ClientOptions.connectTimeoutMs`).
 */
export const DEFAULT_CONNECT_TIMEOUT_MS = 1000;

/** The zrpc wire extensions a client can use (docs/protocol/README.md, "zrpc extensions"). */
export type ClientExtension = "deadline" | "cancel";

/** Options of {@link createClient} (and, without `transport`, of `connect`). */
export interface ClientOptions {
  /**
   * The DEALER-style transport to run on (kind `"dealer"`), already opened. The client owns it:
   * `close()` closes it. `connect()` opens one with a transport factory for you (`createClient`
   * is synchronous, so it takes the transport itself, not a factory); tests pass
   * `@zrpc/channel/testing` transports.
   */
  readonly transport: Transport;
  /**
   * Heartbeat interval in ms (default 5000, zerorpc-python's). The client sends `_zpc_hb` on every
   * open call at this interval and declares the server lost (`LostRemote`) when none of its
   * heartbeats arrived for more than two intervals. Must match the server's interval: there is no
   * negotiation (docs/protocol section 7). `0` or `null` turns heartbeats and loss detection off.
   */
  readonly heartbeatMs?: number | null;
  /**
   * Send no heartbeat on a call before the server's first one (zerorpc-python's
   * `passive_heartbeat=True`, the CLI's default). Default false.
   */
  readonly passiveHeartbeat?: boolean;
  /**
   * Default time to wait for a call's first reply, in ms (default {@link DEFAULT_TIMEOUT_MS}).
   * `0`, a negative number or `null` disables it. See {@link CallOptions.timeoutMs}.
   */
  readonly timeoutMs?: number | null;
  /**
   * How long a call waits for a connection to the server, in ms (default
   * {@link DEFAULT_CONNECT_TIMEOUT_MS}, 1 s): a call made while the client has no connection
   * (before the first one, or while the server is gone and the transport reconnects) fails with a
   * `ConnectError` when none comes up within this time. The error says why: `connection refused
   * (ECONNREFUSED)`, `host not found (ENOTFOUND)`, `not a ZeroMQ peer: ...` (an HTTP server, say).
   * The transport keeps reconnecting in the background, so a call that waits gets its reply when
   * the server comes up in time, and later calls work once it is up. With several endpoints, any
   * connected one is enough. A listener that accepted the connection and, as the transport
   * reports, has sent nothing at all is named when this time runs out (`not a ZeroMQ peer? it
   * accepted the connection but sent nothing in 1 s`): a ZeroMQ peer greets as soon as it
   * accepts. A connection whose handshake is under way, with no failure seen, gets up to 2 s
   * from when it came up (when that is longer): a healthy server on a busy machine may finish
   * late, and that must not fail the call. On a transport that does not say whether the peer sent
   * anything (zeromq.js), every connection in its handshake gets those 2 s.
   *
   * `Infinity`, `0` or `null` wait forever: calls are sent whenever a connection comes and only
   * the heartbeat (`LostRemote`) or the timeout ends them (the behaviour before this option).
   * Applies to transports that report their connections (`Transport.watchConnections`: the ZMTP
   * and zeromq.js transports do, in-memory test transports do not).
   */
  readonly connectTimeoutMs?: number | null;
  /** Default receive buffer `B` per call (default 100). See {@link CallOptions.receiveBuffer}. */
  readonly receiveBuffer?: number;
  /** Middlewares, run in order (the first one's `around` is the outermost). */
  readonly middleware?: readonly ClientMiddleware[];
  /**
   * zrpc wire extensions to use with servers that understand them (zerorpc-python ignores both):
   * - `"deadline"`: every request carries its deadline, `now + timeout`, as `zrpc_deadline`
   *   (Unix epoch ms), so a zrpc server drops requests that arrive too late (a server that was
   *   down or restarting) and aborts handlers whose client gave up;
   * - `"cancel"`: requests announce `zrpc_caps: ["cancel"]`, and once the server announced it too,
   *   aborting a call, its timeout and leaving a stream early send `_zrpc_cancel`, which aborts
   *   the handler's signal at once instead of after two heartbeat intervals.
   *
   * `true` for both. Default: none (`false`), so requests stay exactly what zerorpc-python sends.
   * Deadlines assume the two clocks agree (NTP): a server whose clock runs ahead by more than a
   * call's timeout drops every such call.
   */
  readonly extensions?: boolean | readonly ClientExtension[];
  /**
   * Largest reply accepted, in bytes: sets `decode.maxMessageBytes` (unless `decode` sets it) and,
   * for `connect()`, the socket's `maxMessageSize` (unless the transport factory's options set it). Default: the
   * decoder's 100 MiB and the transport's 100 MiB + 1 KiB.
   */
  readonly maxMessageBytes?: number;
  /** Decoder options for replies (limits, str/bin handling), passed to `@zrpc/wire`. */
  readonly decode?: DecodeOptions;
  /** Encoder options for requests, passed to `@zrpc/wire`. */
  readonly encode?: EncodeOptions;
  /** Time source for heartbeats and timeouts (tests). Default: the real clock. */
  readonly clock?: Clock;
  /** Diagnostics: a reply could not be decoded and was dropped. */
  readonly onProtocolError?: (error: ProtocolError, peer: Peer) => void;
  /** Diagnostics: a decoded reply was dropped, e.g. a late reply to a call that timed out. */
  readonly onDrop?: (event: Event, peer: Peer, reason: DropReason) => void;
}
