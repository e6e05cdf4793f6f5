// Errors of the pool. Identity is decided by brand (wire's defineErrorBrand), so `instanceof`
// holds across the ESM and the CJS build loaded in one process.
import { ZrpcError, defineErrorBrand } from "@zrpc/wire";

// The pool's own error code, added to `ZrpcErrorCode` wherever this package's types are loaded.
declare module "@zrpc/wire" {
  interface ZrpcErrorCodes {
    /** No pooled connection in time ({@link PoolTimeoutError}). */
    "pool-timeout": true;
  }
}

/**
 * No pooled connection became available within the acquire timeout (code `"pool-timeout"`).
 *
 * The message says why: every connection was in use (`max` reached), no endpoint was healthy
 * (all ejected), or no endpoint had been resolved yet. The last connect, probe or DNS error, when
 * there is one, is the `cause`.
 *
 * Retryable: nothing was sent to any server.
 */
export class PoolTimeoutError extends ZrpcError {
  /** How long the caller waited, in milliseconds. */
  readonly timeoutMs: number;

  /**
   * @param timeoutMs - the acquire timeout that expired, in ms
   * @param detail - why no connection was available, e.g. `all 10 connections are in use`
   * @param options - standard `ErrorOptions`
   */
  constructor(timeoutMs: number, detail: string, options?: ErrorOptions) {
    super("pool-timeout", `no pooled connection within ${timeoutMs} ms: ${detail}`, options);
    this.timeoutMs = timeoutMs;
  }

  /** Always true: the call was never sent, so repeating it cannot run the remote method twice. */
  get isRetryable(): boolean {
    return true;
  }

  /** True for a `PoolTimeoutError` from any loaded copy of `@zrpc/pool`. */
  static isInstance(value: unknown): value is PoolTimeoutError {
    return isPoolTimeoutError(value);
  }
}
const isPoolTimeoutError = defineErrorBrand(PoolTimeoutError, "zrpc.PoolTimeoutError");
