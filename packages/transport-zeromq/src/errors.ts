import { ZrpcError, defineErrorBrand } from "@zrpc/wire";

// The transport's own error codes, added to `ZrpcErrorCode` wherever this package's types are loaded.
declare module "@zrpc/wire" {
  interface ZrpcErrorCodes {
    /** Binding or unbinding an endpoint failed ({@link TransportError}). */
    bind: true;
    /** Connecting or disconnecting an endpoint failed ({@link TransportError}). */
    connect: true;
  }
}

/** What went wrong in a {@link TransportError}. */
export type TransportErrorCode = "closed" | "backpressure" | "bind" | "connect";

/**
 * An error raised by the ZeroMQ transport (a `ZrpcError`, branded, so `instanceof` works across
 * two loaded copies):
 * - `"closed"`: `send()` after `close()`;
 * - `"backpressure"`: `send()` while the transport's own send queue is full (`maxQueuedMessages`);
 * - `"bind"`: binding or unbinding an endpoint failed (the message names the endpoint);
 * - `"connect"`: connecting or disconnecting an endpoint failed (the message names the endpoint).
 *
 * The underlying zeromq.js error, if any, is the `cause`.
 */
export class TransportError extends ZrpcError {
  /** Machine-readable reason, see {@link TransportErrorCode}. */
  declare readonly code: TransportErrorCode;

  /**
   * @param code - machine-readable reason
   * @param message - human-readable description, naming the endpoint where there is one
   * @param options - standard `ErrorOptions`; `cause` carries the zeromq.js error
   */
  constructor(code: TransportErrorCode, message: string, options?: ErrorOptions) {
    super(code, message, options);
    this.name = "TransportError";
  }

  /** True for a `TransportError` from any loaded copy of this package. */
  static isInstance(value: unknown): value is TransportError {
    return isTransportError(value);
  }
}
const isTransportError = defineErrorBrand(TransportError, "zrpc.TransportError");
