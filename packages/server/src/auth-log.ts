// Refused security handshakes (a CURVE client key not allowed, a plaintext client at a CURVE
// server, ...) as log lines. A misconfigured client redials and fails again every few hundred ms
// and a hostile one can fail on purpose, so these lines have a budget of their own: at most
// AUTH_FAILURE_LOG_LIMIT per AUTH_FAILURE_LOG_WINDOW_MS, then one line counting the rest, so that
// they neither flood the logs nor use up the server's shared rate limit (its other warnings).
import type { Clock, TransportAuthFailure } from "@zrpc/channel";

/** Most refused-handshake lines logged per window. */
export const AUTH_FAILURE_LOG_LIMIT = 5;
/** The window of {@link AUTH_FAILURE_LOG_LIMIT}, in ms. */
export const AUTH_FAILURE_LOG_WINDOW_MS = 10_000;

/**
 * The log line of one failed handshake: a fixed prefix saying whether a key was refused, the
 * transport's message, and the client's address and key where the message does not name them.
 */
export function describeAuthFailure(failure: TransportAuthFailure): string {
  const { kind, address, publicKey, message } = failure;
  const what = kind === "auth" ? "refused" : kind === "protocol" ? "failed (protocol)" : "failed";
  const extras = [
    ...(address === undefined || address === "" || message.includes(address) ? [] : [`from ${address}`]),
    ...(publicKey === undefined || publicKey === "" || message.includes(publicKey) ? [] : [`client key ${publicKey}`]),
  ];
  return `zrpc server: security handshake ${what}: ${message}${extras.length === 0 ? "" : ` (${extras.join(", ")})`}`;
}

/**
 * Logs failed handshakes through `warn`, rate-limited: the first {@link AUTH_FAILURE_LOG_LIMIT}
 * of each window, and at the end of a window in which more failed, one line with their number.
 * @internal
 */
export class AuthFailureLog {
  readonly #warn: (message: string) => void;
  readonly #clock: Clock;
  #windowStart = Number.NEGATIVE_INFINITY;
  #logged = 0;
  #suppressed = 0;
  #timer: unknown;

  constructor(warn: (message: string) => void, clock: Clock) {
    this.#warn = warn;
    this.#clock = clock;
  }

  report(failure: TransportAuthFailure): void {
    const now = this.#clock.now();
    if (now - this.#windowStart >= AUTH_FAILURE_LOG_WINDOW_MS) {
      this.#flush();
      this.#windowStart = now;
      this.#logged = 0;
    }
    if (this.#logged < AUTH_FAILURE_LOG_LIMIT) {
      this.#logged += 1;
      this.#warn(describeAuthFailure(failure));
      return;
    }
    this.#suppressed += 1;
    if (this.#timer === undefined) {
      this.#timer = this.#clock.setTimeout(() => {
        this.#timer = undefined;
        this.#flush();
      }, this.#windowStart + AUTH_FAILURE_LOG_WINDOW_MS - now);
    }
  }

  /** Logs the count of suppressed lines now, if any, and stops the timer (the server is closing). */
  close(): void {
    this.#flush();
  }

  #flush(): void {
    if (this.#timer !== undefined) {
      this.#clock.clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    const count = this.#suppressed;
    if (count === 0) return;
    this.#suppressed = 0;
    this.#warn(
      `zrpc server: ${count} more failed security handshake${count === 1 ? "" : "s"} not logged (at most ${AUTH_FAILURE_LOG_LIMIT} lines per ${AUTH_FAILURE_LOG_WINDOW_MS / 1000} s)`,
    );
  }
}
