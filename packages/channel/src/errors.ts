import { ZrpcError, defineErrorBrand } from "@zrpc/wire";

/**
 * The peer of a channel stopped heartbeating: nothing arrived from it as `_zpc_hb` for more than
 * two heartbeat intervals (docs/protocol section 7). Raised on both sides: a client call rejects
 * with it, a server handler's signal aborts with it.
 */
export class LostRemote extends ZrpcError {
  /** The heartbeat interval, in milliseconds, that the loss was judged by. */
  readonly heartbeatMs: number;
  constructor(heartbeatMs: number, options?: ErrorOptions) {
    super("lost-remote", `Lost remote after ${(heartbeatMs * 2) / 1000}s heartbeat`, options);
    this.name = "LostRemote";
    this.heartbeatMs = heartbeatMs;
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
