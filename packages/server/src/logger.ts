// Where the server reports what it cannot answer on the wire: undecodable messages from peers,
// middleware hooks that threw, replies that could not be sent. Library code never writes to the
// console itself (STYLE.md section 10); the application chooses through `ServerOptions.logger`.
import type { Clock } from "@zrpc/channel";

/**
 * Receives the server's diagnostics. Only `warn` is required; `debug` gets high-volume, normally
 * uninteresting events (dropped requests while closing, unroutable events).
 *
 * Pass `console` to log everything, `null` to log nothing, or an adapter to your logger.
 */
export interface Logger {
  /** Something went wrong that no peer will be told about. `error` is the cause, when there is one. */
  warn(message: string, error?: unknown): void;
  /** Routine but possibly useful events. */
  debug?(message: string, error?: unknown): void;
}

/**
 * The default logger: each warning becomes a Node.js process warning
 * (`process.emitWarning(message, "ZrpcServerWarning")`), which Node prints to stderr once per
 * message unless `--no-warnings` is set, and which `process.on("warning")` can observe. Debug
 * messages are dropped. The server rate-limits what it passes to any logger (see
 * {@link ServerOptions.logRateLimit}).
 */
export const processWarningLogger: Logger = createProcessWarningLogger("ZrpcServerWarning");

/**
 * A logger like {@link processWarningLogger} whose warnings have the given `type` (for libraries
 * built on the server, such as middleware, that report under their own warning type). The
 * warning's `detail` is the error's stack (or `name: message`), JSON for another object, or the
 * value as a string.
 */
export function createProcessWarningLogger(type: string): Logger {
  return {
    warn(message: string, error?: unknown): void {
      if (typeof process === "undefined" || typeof process.emitWarning !== "function") return;
      const detail = error === undefined ? undefined : describeError(error);
      process.emitWarning(message, { type, ...(detail === undefined ? {} : { detail }) });
    },
  };
}

function describeError(error: unknown): string {
  if (error instanceof Error) return error.stack ?? `${error.name}: ${error.message}`;
  try {
    return typeof error === "object" && error !== null ? JSON.stringify(error) : String(error);
  } catch {
    return "<unprintable value>";
  }
}

/** A silent logger, used when `ServerOptions.logger` is `null`. */
const silentLogger: Logger = { warn: () => undefined };

/**
 * A logger wrapper that lets at most `perSecond` messages through per second (a fixed one-second
 * window on `clock`) and, when the next message after a window with drops is let through, first
 * reports how many were suppressed. A hostile peer flooding the server with garbage must not be
 * able to flood the logs too.
 * @internal
 */
export class RateLimitedLogger {
  private readonly target: Logger;
  private readonly perSecond: number;
  private readonly clock: Clock;
  private windowStart = Number.NEGATIVE_INFINITY;
  private count = 0;
  private suppressed = 0;

  constructor(target: Logger | null | undefined, perSecond: number, clock: Clock) {
    this.target = target === null ? silentLogger : (target ?? processWarningLogger);
    this.perSecond = perSecond;
    this.clock = clock;
  }

  warn(message: string, error?: unknown): void {
    if (!this.admit()) return;
    this.call(() => this.target.warn(message, error));
  }

  debug(message: string, error?: unknown): void {
    const target = this.target;
    if (target.debug === undefined || !this.admit()) return;
    this.call(() => target.debug?.(message, error));
  }

  private admit(): boolean {
    const now = this.clock.now();
    if (now - this.windowStart >= 1000) {
      const suppressed = this.suppressed;
      this.windowStart = now;
      this.count = 0;
      this.suppressed = 0;
      if (suppressed > 0) {
        this.count += 1;
        this.call(() => this.target.warn(`zrpc server: ${suppressed} log message(s) suppressed by the rate limit`));
      }
    }
    if (this.count >= this.perSecond) {
      this.suppressed += 1;
      return false;
    }
    this.count += 1;
    return true;
  }

  private call(fn: () => void): void {
    try {
      fn();
    } catch {
      // A broken logger must not break the server; there is nowhere left to report it.
    }
  }
}
