// Errors of the calling side. Identity is decided by brand (see wire's defineErrorBrand), so
// `instanceof` holds across the ESM and the CJS build loaded in one process.
import { ZrpcError, defineErrorBrand } from "@zrpc/wire";

/**
 * The server answered `ERR [name, message, traceback]` (code `"remote"`): the remote method raised.
 * zerorpc-python's `RemoteError` (docs/protocol section 6.2).
 *
 * `message` is `"[ValueError] bad input"`: the remote exception name first, so the most
 * important part is always visible. The unprefixed text is in {@link RemoteError.rawMessage} and
 * the Python traceback, verbatim, in {@link RemoteError.remoteTraceback}. The `stack` ends with
 * the local call site ("for call at ...").
 *
 * Not retryable: the server ran the method and it failed.
 */
export class RemoteError extends ZrpcError {
  /** The remote exception's class name, e.g. `"ValueError"`, `"NameError"` for an unknown method. */
  readonly remoteName: string;
  /** The remote exception's message, without the `[name]` prefix. */
  readonly rawMessage: string;
  /** The remote traceback text (Python's formatted traceback), when the server sent one (nil is allowed on the wire). */
  readonly remoteTraceback?: string;

  /**
   * @param remoteName - the remote exception class name
   * @param rawMessage - the remote exception message
   * @param remoteTraceback - the remote traceback, or `null`/`undefined` when there is none
   * @param options - standard `ErrorOptions`
   */
  constructor(remoteName: string, rawMessage: string, remoteTraceback?: string | null, options?: ErrorOptions) {
    super("remote", `[${remoteName}] ${rawMessage}`, options);
    this.remoteName = remoteName;
    this.rawMessage = rawMessage;
    if (typeof remoteTraceback === "string") this.remoteTraceback = remoteTraceback;
  }

  /** Always false: the remote method ran and raised; calling it again is the caller's decision. */
  get isRetryable(): boolean {
    return false;
  }

  /** True for a `RemoteError` from any loaded copy of `@zrpc/client`. */
  static isInstance(value: unknown): value is RemoteError {
    return isRemoteError(value);
  }
}
const isRemoteError = defineErrorBrand(RemoteError, "zrpc.RemoteError");

/**
 * No first reply arrived within the call's timeout (code `"timeout"`), zerorpc-python's
 * `TimeoutExpired` (docs/protocol section 9). The message is Python's:
 * `timeout after 30s, when calling remote method sleep`.
 *
 * The client closed the call locally and sent nothing: the server may still be running it.
 * Not retryable for that reason.
 */
export class TimeoutExpired extends ZrpcError {
  /** The timeout that expired, in milliseconds. */
  readonly timeoutMs: number;
  /** The remote method that was called. */
  readonly method: string;

  /**
   * @param method - the remote method name
   * @param timeoutMs - the timeout that expired, in ms
   * @param options - standard `ErrorOptions`
   */
  constructor(method: string, timeoutMs: number, options?: ErrorOptions) {
    super("timeout", `timeout after ${timeoutMs / 1000}s, when calling remote method ${method}`, options);
    this.timeoutMs = timeoutMs;
    this.method = method;
  }

  /** Always false: the server may still be executing the call. */
  get isRetryable(): boolean {
    return false;
  }

  /** True for a `TimeoutExpired` from any loaded copy of `@zrpc/client`. */
  static isInstance(value: unknown): value is TimeoutExpired {
    return isTimeoutExpired(value);
  }
}
const isTimeoutExpired = defineErrorBrand(TimeoutExpired, "zrpc.TimeoutExpired");

/**
 * The caller aborted the call through `CallOptions.signal` (code `"canceled"`). The abort reason
 * is the `cause`. The call was closed locally; nothing was sent to the server (it notices through
 * missing heartbeats).
 */
export class CanceledError extends ZrpcError {
  /** The remote method that was called. */
  readonly method: string;

  /**
   * @param method - the remote method name
   * @param options - standard `ErrorOptions`; `cause` is the signal's abort reason
   */
  constructor(method: string, options?: ErrorOptions) {
    super("canceled", `call to remote method ${method} was canceled`, options);
    this.method = method;
  }

  /** Always false: the caller asked for the call to stop. */
  get isRetryable(): boolean {
    return false;
  }

  /** True for a `CanceledError` from any loaded copy of `@zrpc/client`. */
  static isInstance(value: unknown): value is CanceledError {
    return isCanceledError(value);
  }
}
const isCanceledError = defineErrorBrand(CanceledError, "zrpc.CanceledError");

// The client's own error code, added to `ZrpcErrorCode` wherever this package's types are loaded
// (the transports declare it too, for their endpoint errors).
declare module "@zrpc/wire" {
  interface ZrpcErrorCodes {
    /** No connection to the server ({@link ConnectError}), or a connect/disconnect call failed. */
    connect: true;
  }
}

/** One endpoint a {@link ConnectError} could not connect to, and the last reason. */
export interface ConnectFailure {
  /** The endpoint, as passed to `connect`. */
  readonly endpoint: string;
  /** Why its last attempt failed (`undefined` when the transport said nothing yet). */
  readonly error: Error | undefined;
}

/**
 * A call waited `connectTimeoutMs` for a connection to the server and none came (code
 * `"connect"`): the connection was refused (`ECONNREFUSED`), the host name did not resolve
 * (`ENOTFOUND`), the listener is not a ZeroMQ peer (an HTTP server, say), and so on. The message
 * says it, e.g. `cannot connect to tcp://127.0.0.1:4299: connection refused (ECONNREFUSED)`.
 *
 * `endpoint` names the endpoint (several are joined with ", "), `cause` is the last failure the
 * transport reported (its `code` is the system error, its message starts with "not a ZeroMQ peer"
 * for a peer that is not one), and `failures` has the last reason of each endpoint.
 *
 * The client keeps reconnecting in the background: a later call succeeds once the server is up.
 *
 * Retryable, like a `LostRemote` before any reply: the request was never written to a connection.
 * It does stay queued in the socket, though, and reaches a server that comes up while this client
 * is open (as a request does after a timeout); close the client when that must not happen.
 */
export class ConnectError extends ZrpcError {
  declare readonly code: "connect";
  /** The endpoint (or the endpoints, joined with ", ") that could not be connected to. */
  readonly endpoint: string;
  /** The last reason of each endpoint. */
  readonly failures: readonly ConnectFailure[];

  /**
   * @param failures - each endpoint and its last failure (at least one)
   * @param detail - what to say when no endpoint has a failure to show (e.g. `no connection within 1 s`)
   * @param options - standard `ErrorOptions`; `cause` defaults to the last failure
   */
  constructor(failures: readonly ConnectFailure[], detail: string, options?: ErrorOptions) {
    const list = failures.length === 0 ? [{ endpoint: "the server", error: undefined }] : failures;
    const reasons = list.map((failure) => (failure.error === undefined ? detail : describeConnectFailure(failure.error)));
    const message =
      list.length === 1
        ? `cannot connect to ${list[0]!.endpoint}: ${reasons[0]!}`
        : `cannot connect to any of ${list.map((failure, index) => `${failure.endpoint} (${reasons[index]!})`).join(", ")}`;
    const cause = options?.cause ?? [...list].reverse().find((failure) => failure.error !== undefined)?.error;
    super("connect", message, cause === undefined ? options : { ...options, cause });
    this.endpoint = list.map((failure) => failure.endpoint).join(", ");
    this.failures = Object.freeze(list.map((failure) => Object.freeze({ ...failure })));
  }

  /** Always true: no connection ever carried the request (see the class comment for the queued copy). */
  get isRetryable(): boolean {
    return true;
  }

  /** True for a `ConnectError` from any loaded copy of `@zrpc/client`. */
  static isInstance(value: unknown): value is ConnectError {
    return isConnectError(value);
  }
}
const isConnectError = defineErrorBrand(ConnectError, "zrpc.ConnectError");

/** Plain words for the system errors of a failed connect. */
const CONNECT_ERRORS: Readonly<Record<string, string>> = {
  ECONNREFUSED: "connection refused",
  ENOTFOUND: "host not found",
  EAI_AGAIN: "host name lookup failed",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  ETIMEDOUT: "connection timed out",
  ECONNRESET: "connection reset by the peer",
  ENOENT: "no such socket file",
  EACCES: "permission denied",
};

/**
 * One failure of a connect attempt in words: a system error as `connection refused
 * (ECONNREFUSED)`, anything else as its message (with its system code when the message lacks it).
 * @internal
 */
export function describeConnectFailure(error: Error): string {
  const code = (error as { code?: unknown }).code;
  if (typeof code !== "string" || !/^E[A-Z_]+$/.test(code)) return error.message;
  const words = CONNECT_ERRORS[code];
  // Node's own errors ("connect ECONNREFUSED 127.0.0.1:4299") carry the syscall that failed.
  if (words !== undefined && typeof (error as { syscall?: unknown }).syscall === "string") return `${words} (${code})`;
  return error.message.includes(code) ? error.message : `${error.message} (${code})`;
}

/**
 * Retry hint for pools and retry loops: true when repeating the call cannot run the remote method
 * twice as far as this client can tell. Reads an `isRetryable` property when the error has one
 * (every client error class does; a `LostRemote` rejected by a call gets one from the client:
 * true when no reply had arrived before the loss, false once one had); otherwise true only for
 * code `"lost-remote"`. Everything else (`remote`, `timeout`, `canceled`, `protocol`, plain
 * errors) is false.
 */
export function isRetryable(error: unknown): boolean {
  if (typeof error !== "object" || error === null) return false;
  const hint = (error as { isRetryable?: unknown }).isRetryable;
  if (typeof hint === "boolean") return hint;
  return error instanceof ZrpcError && error.code === "lost-remote";
}

/**
 * A captured call site: the stack of the user code that started a call, to append to the stack of
 * an error that is created later, in an event callback.
 * @internal
 */
export interface CallSite {
  stack?: string;
}

/**
 * Captures the caller's stack, skipping `above` and every frame above it.
 * @internal
 */
// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
export function captureCallSite(above: Function): CallSite {
  const site: CallSite = {};
  Error.captureStackTrace(site, above);
  return site;
}

/**
 * Appends the call site to `error.stack` ("for call at ..."), as grpc-node does for status errors.
 * @internal
 */
export function appendCallSite(error: Error, site: CallSite | undefined): void {
  const stack = site?.stack;
  if (stack === undefined) return;
  const newline = stack.indexOf("\n");
  if (newline < 0) return;
  error.stack = `${error.stack ?? `${error.name}: ${error.message}`}\nfor call at\n${stack.slice(newline + 1)}`;
}

/**
 * Appends the current stack as the call site of a `RemoteError` or `TimeoutExpired` (the errors
 * that are created in an event callback, far from the caller). Meant for the `catch` of an async
 * function that awaited the call: there V8's async stack trace still names the awaiting callers.
 * Returns `error`.
 * @internal
 */
export function appendCallSiteNow(error: unknown): unknown {
  if (RemoteError.isInstance(error) || TimeoutExpired.isInstance(error)) {
    const site: CallSite = {};
    Error.captureStackTrace(site, appendCallSiteNow);
    appendCallSite(error, site);
  }
  return error;
}
