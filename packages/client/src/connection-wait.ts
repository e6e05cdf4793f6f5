// A client's view of its transport's connections (Transport.watchConnections): whether any
// endpoint is connected, the last failure of each, and the calls that wait for a connection.
// A call opened while nothing is connected gets connectTimeoutMs to see one come up; then it
// fails with a ConnectError that says why (refused, not a ZeroMQ peer, ...). The transport keeps
// reconnecting meanwhile, so later calls work once the server is up.
import type { Channel, Clock, ConnectionEvent, Transport } from "@zrpc/channel";
import { ConnectError } from "./errors.js";
import type { ConnectFailure } from "./errors.js";

interface EndpointState {
  state: ConnectionEvent["state"];
  /** The last failure (kept across a "handshaking" that follows it). */
  error: Error | undefined;
  /** When the current TCP connection came up without a handshake yet. */
  handshakingSince: number | undefined;
  /**
   * The transport reported that the peer of the current connection has sent nothing at all yet
   * (a `handshaking` event with an `error`; the ZMTP transport does this, libzmq cannot).
   */
  silent: Error | undefined;
}

/**
 * How long a TCP connection may stay in its ZeroMQ handshake, with no failure seen, before a
 * waiting call gives up on it (when that is longer than connectTimeoutMs). A ZeroMQ peer greets at
 * once, but a busy machine can take a while to finish a handshake: a connection that is merely
 * slow must not fail healthy calls. This grace goes to a handshake that is under way (the peer
 * has sent something) and to transports that cannot tell (libzmq); a peer the transport reports
 * as silent (it accepted and has sent nothing at all) gets none: the call fails at
 * connectTimeoutMs, "not a ZeroMQ peer? it accepted the connection but sent nothing in 1 s".
 */
const SLOW_HANDSHAKE_MS = 2000;

function seconds(ms: number): string {
  const s = Math.round(ms / 100) / 10;
  return `${s} s`;
}

/**
 * Watches a transport's connections for a client.
 * @internal
 */
export class ConnectionWait {
  readonly #timeoutMs: number;
  readonly #clock: Clock;
  readonly #endpoints = new Map<string, EndpointState>();
  #connected = 0;
  /** Channels waiting for a connection, with their timers. */
  readonly #waiting = new Map<Channel, unknown>();
  readonly #unwatch: () => void;

  /**
   * @param transport - a transport with `watchConnections`
   * @param timeoutMs - how long a call waits for a connection (finite, > 0)
   * @param clock - the timers' clock
   */
  constructor(transport: Required<Pick<Transport, "watchConnections">>, timeoutMs: number, clock: Clock) {
    this.#timeoutMs = timeoutMs;
    this.#clock = clock;
    this.#unwatch = transport.watchConnections((event) => this.#onEvent(event));
  }

  /** True while at least one endpoint is connected. */
  get connected(): boolean {
    return this.#connected > 0;
  }

  /** The endpoints heard of, joined with ", " (for messages), or undefined before any. */
  get endpointNames(): string | undefined {
    return this.#endpoints.size === 0 ? undefined : [...this.#endpoints.keys()].join(", ");
  }

  /** A call opened `channel` while nothing is connected: fail it unless a connection comes in time. */
  wait(channel: Channel): void {
    const timer = this.#clock.setTimeout(() => this.#expire(channel), this.#timeoutMs);
    this.#waiting.set(channel, timer);
    // Not LostRemote while no connection could carry a heartbeat: this wait decides.
    channel.holdLossDetection(true);
    channel.onEnd(() => this.#release(channel));
  }

  /** Stops watching (the client closes). */
  close(): void {
    this.#unwatch();
    for (const channel of [...this.#waiting.keys()]) this.#release(channel);
  }

  #release(channel: Channel): void {
    const timer = this.#waiting.get(channel);
    if (timer === undefined) return;
    this.#waiting.delete(channel);
    this.#clock.clearTimeout(timer);
    channel.holdLossDetection(false);
  }

  #onEvent(event: ConnectionEvent): void {
    const { endpoint, state } = event;
    let entry = this.#endpoints.get(endpoint);
    const wasConnected = entry?.state === "connected";
    const wasHandshaking = entry?.state === "handshaking";
    if (entry === undefined) {
      entry = { state, error: undefined, handshakingSince: undefined, silent: undefined };
      this.#endpoints.set(endpoint, entry);
    }
    entry.state = state;
    if (state === "failed" || (state === "disconnected" && event.error !== undefined)) entry.error = event.error;
    if (state !== "handshaking") {
      entry.handshakingSince = undefined;
      entry.silent = undefined;
    } else if (!wasHandshaking || entry.handshakingSince === undefined) {
      // A new connection (a repeated `handshaking` is news about the same one).
      entry.handshakingSince = this.#clock.now();
      entry.silent = event.error;
    } else {
      // The same connection: its peer is still silent (error), or has started to talk.
      entry.silent = event.error;
    }
    if (state === "connected") entry.error = undefined;
    if (wasConnected !== (state === "connected")) this.#connected += wasConnected ? -1 : 1;
    if (this.#connected > 0 && this.#waiting.size > 0) {
      for (const channel of [...this.#waiting.keys()]) this.#release(channel);
    }
  }

  #expire(channel: Channel): void {
    if (!this.#waiting.has(channel)) return;
    if (this.#connected > 0 || !channel.isOpen) {
      this.#release(channel);
      return;
    }
    const grace = this.#handshakeGrace();
    if (grace > 0) {
      // A handshake is under way with no failure seen: give it until SLOW_HANDSHAKE_MS.
      this.#waiting.set(channel, this.#clock.setTimeout(() => this.#expire(channel), grace));
      return;
    }
    this.#waiting.delete(channel);
    channel.finish({ kind: "shutdown", error: this.#error() });
  }

  /** Time left before an endpoint that is handshaking without an earlier failure counts as failed. */
  #handshakeGrace(): number {
    const now = this.#clock.now();
    let grace = 0;
    for (const entry of this.#endpoints.values()) {
      if (entry.handshakingSince === undefined || entry.error !== undefined || entry.silent !== undefined) continue;
      grace = Math.max(grace, entry.handshakingSince + SLOW_HANDSHAKE_MS - now);
    }
    return grace;
  }

  /** The ConnectError of a call that waited in vain. */
  #error(): ConnectError {
    const now = this.#clock.now();
    const failures: ConnectFailure[] = [];
    for (const [endpoint, entry] of this.#endpoints) {
      let error = entry.error;
      if (entry.handshakingSince !== undefined && entry.silent !== undefined) {
        // The transport saw not one octet from the peer since the connection came up.
        error = new Error(
          `not a ZeroMQ peer? it accepted the connection but sent nothing in ${seconds(Math.max(0, now - entry.handshakingSince))}`,
          { cause: entry.silent },
        );
      } else if (entry.handshakingSince !== undefined && error === undefined) {
        // The TCP connection is up and the peer has not completed a ZeroMQ handshake: a ZeroMQ
        // peer greets at once, so it is most likely something else.
        error = new Error(
          `not a ZeroMQ peer? it accepted the connection ${seconds(Math.max(0, now - entry.handshakingSince))} ago but completed no ZeroMQ handshake`,
        );
      }
      failures.push({ endpoint, error });
    }
    return new ConnectError(failures, `no connection within ${seconds(this.#timeoutMs)}`);
  }
}
