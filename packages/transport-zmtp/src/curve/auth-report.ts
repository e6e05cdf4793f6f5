// Where a transport's failed security handshakes go: the `onAuthFailure` handler, else `onError`
// at most REPORTS_PER_SECOND a second (a flood of refused clients must not flood the log); and,
// with `closeOnAuthFailure`, the transport closes on an "auth" or "protocol" failure.

import type { CurveAuthFailure } from "@zrpc/channel";
import type { HandshakeFailure } from "./handshake.js";
import { ZmtpEndpointError } from "../errors.js";
import type { ZmtpError } from "../errors.js";

/** Failures passed to `onError` per second when there is no `onAuthFailure` handler. */
export const REPORTS_PER_SECOND = 5;

/** What an {@link AuthReporter} is created with. @internal */
export interface AuthReporterInit {
  readonly kind: string;
  readonly onAuthFailure: ((failure: CurveAuthFailure) => void) | undefined;
  readonly closeOnAuthFailure: boolean;
  /** The transport's `onError` path. */
  readonly report: (error: Error) => void;
  /** Closes the transport with an error. */
  readonly shutdown: (error: Error) => void;
}

/** Reports handshake failures of one transport. @internal */
export class AuthReporter {
  readonly #init: AuthReporterInit;
  /** Close errors already reported here (the transport's close report skips them). */
  readonly #reported = new WeakSet<Error>();
  #windowStart = 0;
  #inWindow = 0;
  #suppressed = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(init: AuthReporterInit) {
    this.#init = init;
  }

  /** True when `error` (a connection's close error) was reported here already. */
  reported(error: Error): boolean {
    return this.#reported.has(error);
  }

  /**
   * A connection's security handshake failed. `address` is the client's address on a server's
   * refusal, else the endpoint.
   */
  failed(endpoint: string, address: string, failure: HandshakeFailure, error: ZmtpError): void {
    this.#reported.add(error);
    const init = this.#init;
    const report: CurveAuthFailure = {
      kind: failure.kind,
      address: failure.publicKey === undefined ? endpoint : address,
      ...(failure.publicKey !== undefined && { publicKey: failure.publicKey }),
      message: error.message,
      error,
    };
    if (init.onAuthFailure !== undefined) {
      try {
        init.onAuthFailure(report);
      } catch {
        // A throwing handler must not break the transport.
      }
    } else {
      this.#limited(error);
    }
    if (init.closeOnAuthFailure && failure.kind !== "other") {
      init.shutdown(new ZmtpEndpointError("connect", endpoint, `zmtp ${init.kind} transport closed: ${error.message}`, { cause: error }));
    }
  }

  #limited(error: Error): void {
    const now = Date.now();
    if (now - this.#windowStart >= 1000) {
      this.#windowStart = now;
      this.#inWindow = 0;
    }
    if (this.#inWindow < REPORTS_PER_SECOND) {
      this.#inWindow += 1;
      this.#init.report(error);
      return;
    }
    this.#suppressed += 1;
    this.#timer ??= setTimeout(() => this.#flushSuppressed(), 1000 - (now - this.#windowStart));
    this.#timer.unref();
  }

  #flushSuppressed(): void {
    this.#timer = undefined;
    const count = this.#suppressed;
    this.#suppressed = 0;
    if (count === 0) return;
    this.#windowStart = Date.now();
    this.#inWindow = 1;
    this.#init.report(new Error(`zmtp ${this.#init.kind} transport: ${count} more failed security handshakes not reported (at most ${REPORTS_PER_SECOND} a second)`));
  }

  /** Stops the pending count report (the transport closed). */
  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
