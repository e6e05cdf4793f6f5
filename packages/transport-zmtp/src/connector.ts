// Connected endpoints of a ZMTP transport: dialling, and redialling with back-off after a failure
// or a lost connection.
import { connect as netConnect } from "node:net";
import type { Socket } from "node:net";
import type { ConnectionEvent } from "@zrpc/channel";
import type { ZmtpConnection } from "./connection.js";
import type { Endpoint } from "./endpoint.js";
import { ZmtpEndpointError, ZmtpError, describeError } from "./errors.js";
import type { ZmtpMonitorEvent } from "./options.js";
import { SocketReader } from "./reader.js";

/**
 * What a {@link Connector} needs from its transport.
 * @internal
 */
export interface ConnectorHost {
  /** Base reconnect delay in ms (negative: never reconnect). */
  readonly reconnectInterval: number;
  /** Cap of the exponential back-off in ms. */
  readonly reconnectMaxInterval: number;
  /** A connect attempt not connected within this many ms is given up (0: the system's timeout). */
  readonly dialTimeoutMs: number;
  /** True once the transport takes no new connections. */
  shuttingDown(): boolean;
  /** Turns a connected socket into a connection of the transport. */
  adopt(socket: Socket, endpoint: string, reader: SocketReader): ZmtpConnection;
  report(error: Error): void;
  monitor(event: ZmtpMonitorEvent): void;
  /** A connect endpoint changed state (for `watchConnections`). */
  connectionEvent(event: ConnectionEvent): void;
}

/**
 * A connection that is up and on which the peer has sent no octet for this long is reported as a
 * second `handshaking` event carrying an `error` (a ZMTP peer sends its greeting as soon as it
 * accepts, without waiting for ours); the peer's first octets after that are reported as a plain
 * `handshaking`. A client takes a connection whose peer is still silent when its connectTimeoutMs
 * runs out for "not a ZeroMQ peer?" at once, instead of granting the handshake more time.
 * @internal
 */
export const SILENT_PEER_MS = 500;

/**
 * One endpoint passed to `connect`: keeps one connection to it, dialling again with exponential
 * back-off (and jitter) whenever dialling fails or the connection closes, until stopped.
 * @internal
 */
export class Connector {
  readonly endpoint: string;
  /** The current connection, once dialled (it may still be handshaking). */
  connection: ZmtpConnection | undefined;
  readonly #target: Endpoint;
  readonly #host: ConnectorHost;
  #attempt = 0;
  #stopped = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** A socket still connecting (before the TCP/IPC connection is up). */
  #dialing: Socket | undefined;
  /** Until the peer of the current connection sends its first octets (see SILENT_PEER_MS). */
  #silenceTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(endpoint: string, target: Endpoint, host: ConnectorHost) {
    this.endpoint = endpoint;
    this.#target = target;
    this.#host = host;
  }

  /** The connection completed its handshake: the next failure starts the back-off over. */
  connected(): void {
    this.#attempt = 0;
    this.#stopSilenceTimer();
  }

  /** The connection closed: dial again after the back-off. */
  connectionClosed(): void {
    this.#stopSilenceTimer();
    this.connection = undefined;
    this.#scheduleRetry();
  }

  /** No more dialling; a socket still connecting is dropped, an established connection is left alone. */
  halt(): void {
    this.#stopped = true;
    this.#stopSilenceTimer();
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#dialing?.destroy();
    this.#dialing = undefined;
  }

  /** {@link halt}, and the connection is closed too. */
  stop(): void {
    this.halt();
    this.connection?.destroy();
  }

  dial(): void {
    this.#timer = undefined;
    const host = this.#host;
    if (this.#stopped || host.shuttingDown()) return;
    const target = this.#target;
    // Connected sockets read into buffers of our choosing (see reader.ts).
    const reader = new SocketReader();
    const socket =
      target.transport === "tcp"
        ? netConnect({ host: target.host, port: target.port, noDelay: true, onread: reader.onread })
        : netConnect({ path: target.path, onread: reader.onread });
    this.#dialing = socket;
    let failure: Error | undefined;
    const onError = (error: Error): void => {
      failure = error;
    };
    const onClose = (): void => {
      this.#dialing = undefined;
      if (failure !== undefined) {
        if (!this.#stopped && !host.shuttingDown()) host.connectionEvent({ endpoint: this.endpoint, state: "failed", error: failure });
        host.report(new ZmtpEndpointError("connect", this.endpoint, `cannot connect to ${this.endpoint}: ${describeError(failure)}`, { cause: failure }));
      }
      this.#scheduleRetry();
    };
    socket.on("error", onError);
    socket.once("close", onClose);
    // A network that drops packets leaves a connect attempt waiting for the system's SYN
    // retransmits (1, 3, 7, 15, ... s); a fresh attempt notices a healed link sooner.
    const dialTimer =
      host.dialTimeoutMs > 0
        ? setTimeout(() => {
            const error = Object.assign(new Error(`connect timed out after ${host.dialTimeoutMs} ms`), { code: "ETIMEDOUT" });
            socket.destroy(error);
          }, host.dialTimeoutMs)
        : undefined;
    dialTimer?.unref();
    socket.once("close", () => clearTimeout(dialTimer));
    socket.once("connect", () => {
      clearTimeout(dialTimer);
      socket.off("error", onError);
      socket.off("close", onClose);
      this.#dialing = undefined;
      if (this.#stopped || host.shuttingDown()) {
        socket.destroy();
        return;
      }
      host.connectionEvent({ endpoint: this.endpoint, state: "handshaking" });
      this.#watchSilence(reader);
      this.connection = host.adopt(socket, this.endpoint, reader);
    });
  }

  /** Reports a peer that stays silent after the connection came up, and its first octets after that. */
  #watchSilence(reader: SocketReader): void {
    const host = this.#host;
    const endpoint = this.endpoint;
    let reported = false;
    const timer = setTimeout(() => {
      this.#silenceTimer = undefined;
      if (this.#stopped || host.shuttingDown()) return;
      reported = true;
      const error = new ZmtpError("protocol", `not a ZeroMQ peer? it accepted the connection but has sent nothing in ${SILENT_PEER_MS} ms`, { endpoint });
      host.connectionEvent({ endpoint, state: "handshaking", error });
    }, SILENT_PEER_MS);
    timer.unref();
    this.#silenceTimer = timer;
    reader.onFirstRead(() => {
      if (this.#silenceTimer === timer) this.#stopSilenceTimer();
      if (reported && !this.#stopped && !host.shuttingDown()) host.connectionEvent({ endpoint, state: "handshaking" });
    });
  }

  #stopSilenceTimer(): void {
    clearTimeout(this.#silenceTimer);
    this.#silenceTimer = undefined;
  }

  #scheduleRetry(): void {
    const host = this.#host;
    if (this.#stopped || host.shuttingDown()) return;
    const base = host.reconnectInterval;
    if (base < 0) return;
    const cap = Math.max(base, host.reconnectMaxInterval);
    const raw = Math.min(cap, base * 2 ** Math.min(this.#attempt, 30));
    // Jitter (+-25%) spreads the reconnects of many clients after a server restart.
    const delayMs = Math.round(raw * (0.75 + Math.random() * 0.5));
    this.#attempt += 1;
    host.monitor({ type: "retry", endpoint: this.endpoint, delayMs });
    this.#timer = setTimeout(() => this.dial(), delayMs);
  }
}
