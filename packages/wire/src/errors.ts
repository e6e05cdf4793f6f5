// Error classes of the zrpc stack. Identity is decided by a `Symbol.for` brand, not by the
// prototype chain: with a dual ESM + CJS build a process can load two copies of this package, and
// an error thrown by one copy must still satisfy `instanceof` / `isInstance` of the other.

/** Registry key of the brand symbol that {@link defineErrorBrand} stores on each class. */
const BRAND_OF = Symbol.for("zrpc.errorBrandOf");

/** The brand every {@link ZrpcError} (from any copy of this package) carries on its prototype. */
const ZRPC_ERROR_BRAND = Symbol.for("zrpc.error");

/**
 * The codes of {@link ZrpcErrorCode}, as the keys of an interface so that the packages above the
 * wire can add their own with a module augmentation where they produce them, e.g. `@zrpc/pool`:
 *
 * ```ts
 * declare module "@zrpc/wire" {
 *   interface ZrpcErrorCodes {
 *     "pool-timeout": true;
 *   }
 * }
 * ```
 *
 * A program that loads such a package (its types) sees the added code in `ZrpcErrorCode`, so a
 * `switch (error.code)` keeps compiling. The values mean nothing; only the keys count.
 *
 * Listed here, the codes of the zerorpc protocol itself:
 * - `"protocol"`: a peer sent something that is not a valid zerorpc message ({@link ProtocolError});
 * - `"encode"`: a value cannot be put on the wire ({@link EncodeError});
 * - `"timeout"`: no reply in time; `"canceled"`: the caller aborted;
 * - `"lost-remote"`: the peer stopped heartbeating; `"closed"`: the channel or transport is closed;
 * - `"remote"`: the peer answered `ERR`; `"backpressure"`: no send credit or queue room left;
 * - `"limit"`: a configured limit was exceeded.
 *
 * The transports add `"bind"` and `"connect"` (an endpoint could not be bound or connected).
 */
export interface ZrpcErrorCodes {
  protocol: true;
  encode: true;
  timeout: true;
  canceled: true;
  "lost-remote": true;
  closed: true;
  remote: true;
  backpressure: true;
  limit: true;
}

/**
 * Machine-readable category of a {@link ZrpcError}: a key of {@link ZrpcErrorCodes}, the codes of
 * the protocol plus those the loaded zrpc packages add (`"pool-timeout"` from `@zrpc/pool`, ...).
 */
export type ZrpcErrorCode = keyof ZrpcErrorCodes;

function hasBrand(value: unknown, brand: symbol): boolean {
  return (
    (typeof value === "object" || typeof value === "function") &&
    value !== null &&
    (value as Record<symbol, unknown>)[brand] === true
  );
}

/**
 * Gives an error class a cross-copy identity: instances carry `Symbol.for(brand)` (set on the
 * class prototype), `x instanceof Class` checks that brand (through the `Symbol.hasInstance`
 * inherited from {@link ZrpcError}), and the prototype's `name` becomes `name` (default: the part
 * of `brand` after the last "."). Returns a type guard for the brand, handy for a
 * `static isInstance(value)`.
 *
 * Call it once, right after the class declaration, with a brand unique to the class, e.g.
 * `defineErrorBrand(LostRemote, "zrpc.LostRemote")`.
 *
 * For zrpc packages that define their own `ZrpcError` subclasses (deliberately not marked internal,
 * which would strip it from the published declarations those packages compile against).
 */
export function defineErrorBrand<TError extends Error>(
  errorClass: abstract new (...args: never[]) => TError,
  brand: string,
  name: string = brand.slice(brand.lastIndexOf(".") + 1),
): (value: unknown) => value is TError {
  const symbol = Symbol.for(brand);
  Object.defineProperty(errorClass, BRAND_OF, { value: symbol, configurable: true });
  Object.defineProperty(errorClass.prototype, symbol, { value: true, configurable: true });
  // writable: subclasses written as `this.name = "X"` in their constructor must keep working.
  Object.defineProperty(errorClass.prototype, "name", { value: name, writable: true, configurable: true });
  return (value: unknown): value is TError => hasBrand(value, symbol);
}

/**
 * Base class of every error the zrpc stack throws or rejects with. Higher packages extend it
 * (`RemoteError`, `TimeoutExpired`, `LostRemote`, ...).
 *
 * `x instanceof ZrpcError` (and `instanceof` any branded subclass) is decided by a
 * `Symbol.for("zrpc.error")` brand, so it holds across two loaded copies of `@zrpc/wire` (the ESM
 * and the CJS build in one process, or two versions).
 */
export class ZrpcError extends Error {
  /** Machine-readable category, see {@link ZrpcErrorCode}. */
  readonly code: ZrpcErrorCode;

  /**
   * @param code - machine-readable category
   * @param message - human-readable description
   * @param options - standard `ErrorOptions`; use `cause` for the underlying error
   */
  constructor(code: ZrpcErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }

  /**
   * Brand check used by `instanceof`: true when `value` carries the brand of the class on the
   * left of `instanceof`. A subclass without its own brand falls back to the prototype chain.
   */
  static override [Symbol.hasInstance](this: abstract new (...args: never[]) => unknown, value: unknown): boolean {
    if (Object.hasOwn(this, BRAND_OF)) {
      return hasBrand(value, (this as unknown as Record<symbol, symbol>)[BRAND_OF] as symbol);
    }
    return Function.prototype[Symbol.hasInstance].call(this, value);
  }

  /**
   * Normalises anything thrown or used as an abort reason into a `ZrpcError`:
   * - a `ZrpcError` (from any copy of the package) is returned as is;
   * - an `AbortError` becomes code `"canceled"` and a `TimeoutError` (from `AbortSignal.timeout`)
   *   code `"timeout"`;
   * - anything else becomes `code` (default `"protocol"`, meaning "failed inside the zrpc
   *   machinery"), with the `Error`'s message (or `String(value)`) and `value` as the `cause`.
   */
  static from(value: unknown, code: ZrpcErrorCode = "protocol"): ZrpcError {
    if (hasBrand(value, ZRPC_ERROR_BRAND)) return value as ZrpcError;
    if (value instanceof Error || (typeof value === "object" && value !== null && "message" in value)) {
      const { name, message } = value as { name?: unknown; message?: unknown };
      const text = typeof message === "string" ? message : String(message);
      if (name === "AbortError") return new ZrpcError("canceled", text, { cause: value });
      if (name === "TimeoutError") return new ZrpcError("timeout", text, { cause: value });
      return new ZrpcError(code, text, { cause: value });
    }
    return new ZrpcError(code, String(value), { cause: value });
  }
}
defineErrorBrand(ZrpcError, "zrpc.error", "ZrpcError");

/**
 * Why a {@link ProtocolError} was raised:
 * - msgpack level: `"truncated"` (input ends inside a value, or a declared length exceeds the
 *   remaining bytes), `"invalid-msgpack"` (byte `0xc1`, malformed timestamp), `"invalid-utf8"`
 *   (a str that is not UTF-8: zerorpc-python drops such messages), `"too-large"` (input above
 *   `maxMessageBytes`), `"too-deep"` (nesting above `maxDepth`), `"limit"` (a configured
 *   per-value length limit);
 * - event level: `"bad-event"` (not an array of exactly 3), `"bad-header"` (header not a map with
 *   str keys, or `v` not an int), `"bad-name"` (name not a str), `"bad-message-id"`
 *   (`message_id` / `response_to` not bin, str or int);
 * - framing: `"bad-frames"` (a multipart message without frames).
 */
export type ProtocolErrorReason =
  | "truncated"
  | "invalid-msgpack"
  | "invalid-utf8"
  | "too-large"
  | "too-deep"
  | "bad-event"
  | "bad-header"
  | "bad-name"
  | "bad-message-id"
  | "bad-frames"
  | "limit";

/** Options of {@link ProtocolError}: `ErrorOptions` plus the input offset where decoding failed. */
export interface ProtocolErrorOptions extends ErrorOptions {
  /** Byte offset in the input where the problem was found. */
  readonly offset?: number;
}

/**
 * A peer sent bytes that are not a valid zerorpc message (code `"protocol"`). zerorpc-python logs
 * and drops such messages; a zrpc receiver should do the same.
 */
export class ProtocolError extends ZrpcError {
  /** What exactly was wrong, see {@link ProtocolErrorReason}. */
  readonly reason: ProtocolErrorReason;
  /** Byte offset in the input where decoding failed, when known. */
  readonly offset?: number;

  /**
   * @param reason - what was wrong
   * @param message - human-readable description, e.g. `truncated msgpack: str8 declares 200 bytes at offset 12, 5 remain`
   * @param options - `cause` and the byte `offset`
   */
  constructor(reason: ProtocolErrorReason, message: string, options?: ProtocolErrorOptions) {
    super("protocol", message, options);
    this.reason = reason;
    if (options?.offset !== undefined) this.offset = options.offset;
  }

  /** True for a `ProtocolError` from any loaded copy of `@zrpc/wire`. */
  static isInstance(value: unknown): value is ProtocolError {
    return isProtocolError(value);
  }
}
const isProtocolError = defineErrorBrand(ProtocolError, "zrpc.ProtocolError");

/**
 * A value cannot be encoded (code `"encode"`). `pythonName` is the exception class
 * zerorpc-python raises in the same situation, so a server can answer `ERR` like Python does:
 * `"TypeError"` (`can not serialize 'X' object`, bad map key) or `"OverflowError"`
 * (`Integer value out of range`).
 */
export class EncodeError extends ZrpcError {
  /** zerorpc-python's exception name for the same failure. */
  readonly pythonName: "TypeError" | "OverflowError";

  /**
   * @param message - human-readable description, Python-like where Python has one
   * @param pythonName - `"TypeError"` (default) or `"OverflowError"`
   * @param options - standard `ErrorOptions`
   */
  constructor(message: string, pythonName: "TypeError" | "OverflowError" = "TypeError", options?: ErrorOptions) {
    super("encode", message, options);
    this.pythonName = pythonName;
  }

  /** True for an `EncodeError` from any loaded copy of `@zrpc/wire`. */
  static isInstance(value: unknown): value is EncodeError {
    return isEncodeError(value);
  }
}
const isEncodeError = defineErrorBrand(EncodeError, "zrpc.EncodeError");
