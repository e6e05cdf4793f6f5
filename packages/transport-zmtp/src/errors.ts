import { ZrpcError, defineErrorBrand } from "@zrpc/wire";

// The transport's own error codes, added to `ZrpcErrorCode` wherever this package's types are loaded.
declare module "@zrpc/wire" {
  interface ZrpcErrorCodes {
    /** Binding or unbinding an endpoint failed ({@link ZmtpEndpointError}). */
    bind: true;
    /** Connecting or disconnecting an endpoint failed ({@link ZmtpEndpointError}). */
    connect: true;
    /** CURVE authentication failed: a key was refused ({@link ZmtpError}). */
    auth: true;
  }
}

/** The {@link ZrpcError} codes the ZMTP transport raises. */
export type ZmtpErrorCode = "closed" | "backpressure" | "limit" | "protocol" | "timeout" | "lost-remote" | "auth";

/**
 * An error raised by the ZMTP transport, a {@link ZrpcError} with one of these codes:
 * - `"closed"`: `send()`, `bind()` or `connect()` after `close()`;
 * - `"backpressure"`: `send()` on a DEALER or PUSH transport while every peer's queue is full and
 *   the transport's own queue holds `maxQueuedMessages` messages;
 * - `"limit"`: a peer exceeded `maxMessageSize` or `maxFramesPerMessage` (that peer's connection
 *   is closed; reported through `onError`);
 * - `"protocol"`: a peer broke ZMTP (bad greeting, unknown mechanism, incompatible socket type,
 *   malformed frame or command; that peer's connection is closed; reported through `onError`);
 *   with CURVE also: a NULL peer meeting a CURVE one (either way), a wrong server key, a malformed
 *   or out-of-order handshake command, a bad box, a non-increasing nonce, a plaintext frame;
 * - `"auth"`: CURVE authentication failed: a CURVE server refused the client's key
 *   (`allowedClientKeys` or `authorize`), on both sides of that connection;
 * - `"timeout"`: a connection did not complete its handshake within `handshakeTimeout`;
 * - `"lost-remote"`: a peer sent nothing within `heartbeatTimeoutMs` after our PING, or within the
 *   TTL of its own PING.
 *
 * `endpoint` names the endpoint of the connection concerned, when there is one.
 */
export class ZmtpError extends ZrpcError {
  /** The endpoint of the connection concerned, if any. */
  readonly endpoint: string | undefined;

  /**
   * @param code - one of {@link ZmtpErrorCode}
   * @param message - human-readable description
   * @param options - `cause` and the `endpoint` concerned
   */
  constructor(code: ZmtpErrorCode, message: string, options?: ErrorOptions & { endpoint?: string | undefined }) {
    super(code, message, options);
    this.endpoint = options?.endpoint;
  }

  /** True for a `ZmtpError` from any loaded copy of this package. */
  static isInstance(value: unknown): value is ZmtpError {
    return isZmtpError(value);
  }
}
const isZmtpError = defineErrorBrand(ZmtpError, "zrpc.ZmtpError");

/**
 * Binding, unbinding, connecting or disconnecting an endpoint failed: a {@link ZrpcError} whose
 * `code` is `"bind"` or `"connect"`; the message names the endpoint, `cause` holds the system error
 * (for example `EADDRINUSE`). It concerns local configuration, never a peer.
 */
export class ZmtpEndpointError extends ZrpcError {
  /** `"bind"` for bind/unbind failures, `"connect"` for connect/disconnect failures. */
  declare readonly code: "bind" | "connect";
  /** The endpoint as given by the caller. */
  readonly endpoint: string;

  /**
   * @param code - `"bind"` or `"connect"`
   * @param endpoint - the endpoint concerned
   * @param message - human-readable description naming the endpoint
   * @param options - standard `ErrorOptions`; `cause` holds the system error
   */
  constructor(code: "bind" | "connect", endpoint: string, message: string, options?: ErrorOptions) {
    super(code, message, options);
    this.name = "ZmtpEndpointError";
    this.endpoint = endpoint;
  }

  /** True for a `ZmtpEndpointError` from any loaded copy of this package. */
  static isInstance(value: unknown): value is ZmtpEndpointError {
    return isZmtpEndpointError(value);
  }
}
const isZmtpEndpointError = defineErrorBrand(ZmtpEndpointError, "zrpc.ZmtpEndpointError");

/** `value` as an Error (a thrown non-Error is wrapped). @internal */
export function toError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}

/** An error's message, with its system code (`ECONNREFUSED`) when the message does not say it. @internal */
export function describeError(error: unknown): string {
  const err = toError(error);
  const code = (err as { code?: unknown }).code;
  return typeof code === "string" && !err.message.includes(code) ? `${err.message} (${code})` : err.message;
}
