// How a call's outcome reflects on its connection (close it?) and on its endpoint's health.
import { ZrpcError } from "@zrpc/wire";
import type { EvictReason } from "./options.js";

/** @internal How a call's outcome reflects on its connection and endpoint. */
export interface Verdict {
  readonly health: "success" | "soft" | "hard" | "neutral";
  readonly evict?: EvictReason;
}

const SUCCESS: Verdict = { health: "success" };
const NEUTRAL: Verdict = { health: "neutral" };
const LOST_REMOTE: Verdict = { health: "hard", evict: "lost-remote" };
const CONNECT: Verdict = { health: "hard", evict: "connect" };
const PROTOCOL: Verdict = { health: "soft", evict: "protocol" };
const TIMEOUT: Verdict = { health: "soft" };
const CLOSED: Verdict = { health: "neutral", evict: "closed" };

/**
 * What an error says about the server: a lost remote (no heartbeat) is a dead or stuck server and
 * its connection is unusable, and so is one that could not be connected to (`"connect"`); a protocol error closes the connection too; a timeout may be a slow
 * call or a sick server (soft); `ERR` and cancellation prove nothing against the server.
 * @internal
 */
export function judge(error: unknown): Verdict {
  if (error === undefined) return SUCCESS;
  if (!(error instanceof ZrpcError)) return NEUTRAL;
  // Not a switch: ZrpcErrorCode grows with the stack, and any code not listed proves nothing.
  const code = error.code;
  if (code === "lost-remote") return LOST_REMOTE;
  // A ConnectError (refused, not a ZeroMQ peer, ...) or a transport closed by a failed security handshake.
  if (code === "connect") return CONNECT;
  if (code === "protocol") return PROTOCOL;
  if (code === "timeout") return TIMEOUT;
  if (code === "closed") return CLOSED;
  if (code === "remote") return SUCCESS;
  return NEUTRAL;
}
