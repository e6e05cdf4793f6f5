// Errors of @zrpc/server. Identity is decided by a `Symbol.for` brand (STYLE.md section 3), so a
// check works across the ESM and CJS copies of this package.
import { ZrpcError, defineErrorBrand } from "@zrpc/wire";

/**
 * Brands `errorClass` with `Symbol.for(key)`: returns a check for the brand, and makes
 * `x instanceof errorClass` use it, so an error made by another copy of this package (the CJS build
 * beside the ESM one, sharing one default registry) passes too. A subclass declared by an
 * application keeps the ordinary prototype-chain check.
 */
function brand(errorClass: { prototype: object }, key: string): (value: unknown) => boolean {
  const symbol = Symbol.for(key);
  Object.defineProperty(errorClass.prototype, symbol, { value: true, configurable: true });
  const check = (value: unknown): boolean =>
    typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[symbol] === true;
  Object.defineProperty(errorClass, Symbol.hasInstance, {
    value(this: unknown, value: unknown): boolean {
      return this === errorClass ? check(value) : (Function.prototype[Symbol.hasInstance] as (this: unknown, value: unknown) => boolean).call(this, value);
    },
    configurable: true,
  });
  return check;
}

/**
 * An error a handler throws to answer `ERR` with a chosen exception name, as a Python service
 * would raise it: `throw new ServiceError("ValueError", "bad input")` reaches the client as
 * `ERR ["ValueError", "bad input", <stack>]`, and a zerorpc-python client raises
 * `RemoteError("ValueError", ...)`.
 *
 * Any thrown `Error` works the same way (the server uses `error.pythonName ?? error.name`), so
 * `Object.assign(new Error("boom"), { name: "KeyError" })` and a subclass that sets `name` do too;
 * `ServiceError` only saves the boilerplate. See also {@link raise}.
 */
export class ServiceError extends Error {
  /**
   * @param name - the exception class name sent in `ERR` (e.g. `"ValueError"`)
   * @param message - the message sent in `ERR`
   * @param options - standard `ErrorOptions` (`cause`)
   */
  constructor(name: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = name;
  }

  /** True for a `ServiceError` from any loaded copy of this package. */
  static isInstance(value: unknown): value is ServiceError {
    return isServiceError(value);
  }
}
const isServiceError = brand(ServiceError, "zrpc.ServiceError");

/**
 * Throws a {@link ServiceError}: `raise("ValueError", "bad input")` is Python's
 * `raise ValueError("bad input")`. Typed `never`, so TypeScript knows the code after it is
 * unreachable.
 */
export function raise(name: string, message: string, options?: ErrorOptions): never {
  const error = new ServiceError(name, message, options);
  // The traceback should start at the caller, not inside raise().
  Error.captureStackTrace(error, raise);
  throw error;
}

/** Why a {@link RegistrationError} was raised. */
export type RegistrationErrorReason = "duplicate" | "invalid-name" | "reserved-name" | "not-a-function" | "invalid-args";

/**
 * A method could not be registered: a name already taken in the registry (`"duplicate"`), an
 * empty or non-string name (`"invalid-name"`), a name of zerorpc's introspection methods
 * (`"reserved-name"`, `_zerorpc_*`), something that is not a function (`"not-a-function"`), or a
 * malformed `args` option (`"invalid-args"`). For a duplicate the message names the method and the
 * `source` of both registrations when they were given.
 */
export class RegistrationError extends Error {
  /** What was wrong. */
  readonly reason: RegistrationErrorReason;
  /** The method name concerned. */
  readonly methodName: string;
  /** For `"duplicate"`: the `source` of the registration already in the registry, if given. */
  readonly existingSource: string | undefined;
  /** The `source` of the registration that failed, if given. */
  readonly source: string | undefined;

  /**
   * @param reason - what was wrong
   * @param methodName - the method name concerned
   * @param message - human-readable description
   * @param sources - where the registrations came from (`existing` only for duplicates)
   */
  constructor(
    reason: RegistrationErrorReason,
    methodName: string,
    message: string,
    sources: { existing?: string | undefined; source?: string | undefined } = {},
  ) {
    super(message);
    this.name = "RegistrationError";
    this.reason = reason;
    this.methodName = methodName;
    this.existingSource = sources.existing;
    this.source = sources.source;
  }

  /** True for a `RegistrationError` from any loaded copy of this package. */
  static isInstance(value: unknown): value is RegistrationError {
    return isRegistrationError(value);
  }
}
const isRegistrationError = brand(RegistrationError, "zrpc.RegistrationError");

/**
 * The reason a call's `signal` aborts with when `server.close()` gives up on it after the grace
 * period (code `"closed"`); the call's outcome is then `{ kind: "shutdown" }`.
 */
export class ShutdownError extends ZrpcError {
  /** @param message - human-readable description */
  constructor(message = "server is shutting down", options?: ErrorOptions) {
    super("closed", message, options);
  }

  /** True for a `ShutdownError` from any loaded copy of this package. */
  static isInstance(value: unknown): value is ShutdownError {
    return isShutdownError(value);
  }
}
const isShutdownError = defineErrorBrand(ShutdownError, "zrpc.ShutdownError");

/**
 * The reason a call's `signal` aborts with when the client canceled it through zrpc's cancel
 * extension (`_zrpc_cancel`, code `"canceled"`): the caller aborted, or gave up on a stream.
 * The call's outcome is then `{ kind: "canceled" }` and nothing more is sent for it. (A client
 * that cancels because its timeout expired gives a {@link DeadlineExceeded} instead.)
 */
export class CallCanceled extends ZrpcError {
  /** What the client said: `"canceled"` (its signal aborted) or `"abandoned"` (it left a stream). */
  readonly reason: "canceled" | "abandoned";
  /**
   * @param reason - the client's reason
   * @param options - standard `ErrorOptions`
   */
  constructor(reason: "canceled" | "abandoned" = "canceled", options?: ErrorOptions) {
    super("canceled", reason === "abandoned" ? "the client abandoned the stream" : "the client canceled the call", options);
    this.reason = reason;
  }

  /** True for a `CallCanceled` from any loaded copy of this package. */
  static isInstance(value: unknown): value is CallCanceled {
    return isCallCanceled(value);
  }
}
// The brand keeps the class's first name, so that copies from before the rename recognise it.
const isCallCanceled = defineErrorBrand(CallCanceled, "zrpc.CallCancelled", "CallCanceled");

/** @deprecated Renamed {@link CallCanceled} (zrpc spells it "canceled" everywhere); removed in 1.0. */
export const CallCancelled = CallCanceled;
/** @deprecated Renamed {@link CallCanceled} (zrpc spells it "canceled" everywhere); removed in 1.0. */
export type CallCancelled = CallCanceled;

/**
 * The reason a call's `signal` aborts with when its deadline passed before the first reply was
 * sent (code `"timeout"`): the client's `zrpc_deadline`, or a client that canceled because its
 * timeout expired. The call's outcome is then `{ kind: "timed-out" }` and nothing more is sent:
 * the client has given up already.
 */
export class DeadlineExceeded extends ZrpcError {
  /** The deadline, Unix epoch milliseconds, when the client sent one. */
  readonly deadline: number | undefined;
  /**
   * @param deadline - the deadline that passed (epoch ms), if known
   * @param options - standard `ErrorOptions`
   */
  constructor(deadline?: number, options?: ErrorOptions) {
    super(
      "timeout",
      deadline === undefined ? "the client's timeout expired" : `deadline exceeded (${describeTime(deadline)})`,
      options,
    );
    this.deadline = deadline;
  }

  /** True for a `DeadlineExceeded` from any loaded copy of this package. */
  static isInstance(value: unknown): value is DeadlineExceeded {
    return isDeadlineExceeded(value);
  }
}
const isDeadlineExceeded = defineErrorBrand(DeadlineExceeded, "zrpc.DeadlineExceeded");

/** An epoch-ms time as ISO text, or the plain number when it is outside `Date`'s range. */
function describeTime(ms: number): string {
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? `${ms} ms after the epoch` : date.toISOString();
}
