import { ZrpcError, defineErrorBrand } from "@zrpc/wire";

/** What a channel knew when it declared its peer lost, for {@link LostRemote}'s message. */
export interface LostRemoteDetails {
  /** The side that declared the loss: `"client"` (the server is lost) or `"server"`. */
  readonly role?: "client" | "server";
  /** How long nothing came from the peer as `_zpc_hb`, in ms (since the channel opened when none ever came). */
  readonly silentMs?: number;
  /** How many heartbeats the peer sent on this channel before it went silent. */
  readonly peerHeartbeats?: number;
  /** The peer's own interval as measured from its heartbeats (shortest gap), when it sent two or more. */
  readonly peerHeartbeatMs?: number;
  /** A name for the peer, e.g. the server's endpoint. */
  readonly peerName?: string;
}

/** Milliseconds as seconds for a message: to 0.1 s under 10 s, whole seconds above. */
function seconds(ms: number): string {
  const s = ms / 1000;
  return `${s < 10 ? Math.round(s * 10) / 10 : Math.round(s)} s`;
}

function lostRemoteMessage(heartbeatMs: number, details: LostRemoteDetails): string {
  const role = details.role ?? "client";
  const peer = details.peerName ?? (role === "client" ? "the server" : "the client");
  const silent = details.silentMs ?? heartbeatMs * 2;
  let message = `Lost remote: no heartbeat from ${peer} for ${seconds(silent)} (heartbeat ${seconds(heartbeatMs)})`;
  const beats = details.peerHeartbeats ?? 0;
  if (beats === 0) return message;
  const theirs = details.peerHeartbeatMs;
  const fix = role === "client" ? "client option heartbeatMs, CLI --heartbeat" : "server option heartbeatMs, CLI zrpc run --heartbeat";
  if (role === "client" && theirs !== undefined && theirs * 1.5 < heartbeatMs) {
    // The measured gap is a little over the server's setting: report it to 0.1 s.
    const rounded = Math.max(100, Math.round(theirs / 100) * 100);
    message +=
      `. The server heartbeated this call every ~${seconds(theirs)}, then stopped while this client beats every ${seconds(heartbeatMs)}:` +
      ` the server most likely declared this client lost and dropped the call (heartbeat mismatch).` +
      ` Use the server's interval: client option heartbeatMs: ${rounded}, CLI --heartbeat ${rounded / 1000}`;
    return message;
  }
  if (theirs !== undefined && theirs > heartbeatMs * 1.5) {
    return `${message}. The peer heartbeats only every ~${seconds(theirs)}: a heartbeat mismatch is the usual cause; use the same interval on both sides (${fix})`;
  }
  return `${message}, after ${beats} heartbeat${beats === 1 ? "" : "s"}: the peer was up, so a heartbeat mismatch with ${role === "client" ? "the server" : "the client"} is the usual cause; use the same interval on both sides (${fix})`;
}

/**
 * The peer of a channel stopped heartbeating: nothing arrived from it as `_zpc_hb` for more than
 * two heartbeat intervals (docs/protocol section 7). Raised on both sides: a client call rejects
 * with it, a server handler's signal aborts with it.
 *
 * The message says how long the peer was silent and the interval used, e.g.
 * `Lost remote: no heartbeat from tcp://127.0.0.1:4242 for 10 s (heartbeat 5 s)`, and, when the
 * peer did heartbeat this channel before going silent, that a heartbeat mismatch is the usual
 * cause and how to fix it. The name stays `LostRemote` (zerorpc's).
 */
export class LostRemote extends ZrpcError {
  /** The heartbeat interval, in milliseconds, that the loss was judged by. */
  readonly heartbeatMs: number;
  /** How long the peer was silent, in ms, when the loss was declared. */
  readonly silentMs: number;
  /** Heartbeats the peer sent on the channel before going silent (0: none at all). */
  readonly peerHeartbeats: number;
  /** The peer's interval measured from its heartbeats, when it sent two or more. */
  readonly peerHeartbeatMs: number | undefined;

  /**
   * @param heartbeatMs - the interval the loss was judged by
   * @param options - `ErrorOptions` plus what the channel knew ({@link LostRemoteDetails})
   */
  constructor(heartbeatMs: number, options?: ErrorOptions & LostRemoteDetails) {
    super("lost-remote", lostRemoteMessage(heartbeatMs, options ?? {}), options);
    this.name = "LostRemote";
    this.heartbeatMs = heartbeatMs;
    this.silentMs = options?.silentMs ?? heartbeatMs * 2;
    this.peerHeartbeats = options?.peerHeartbeats ?? 0;
    this.peerHeartbeatMs = options?.peerHeartbeatMs;
  }
  /** True for a `LostRemote` from any loaded copy of this package. */
  static isInstance(value: unknown): value is LostRemote {
    return isLostRemote(value);
  }
}
const isLostRemote = defineErrorBrand(LostRemote, "zrpc.LostRemote");

/**
 * A channel was closed locally before the event the caller waited for arrived (the caller
 * abandoned it, the multiplexer or its transport closed).
 */
export class ChannelClosedError extends ZrpcError {
  constructor(message = "channel closed", options?: ErrorOptions) {
    super("closed", message, options);
    this.name = "ChannelClosedError";
  }
  /** True for a `ChannelClosedError` from any loaded copy of this package. */
  static isInstance(value: unknown): value is ChannelClosedError {
    return isChannelClosed(value);
  }
}
const isChannelClosed = defineErrorBrand(ChannelClosedError, "zrpc.ChannelClosedError");
