import { checkMaxMessageBytes, createClient } from "./client.js";
import type { Client } from "./client.js";
import type { ClientOptions } from "./options.js";
import { DEFAULT_HEARTBEAT_MS, checkCurveClientOptions, transportFactoryOption } from "@zrpc/channel";
import type { CurveClientOptions, TransportDefaults } from "@zrpc/channel";
import { openTransport, withoutTransport } from "./transports.js";
import type { TransportOption } from "./transports.js";

/**
 * Options of {@link connect}: the client options, plus the transport factory that opens the
 * DEALER socket (`transport`, default `zmtp()` from `@zrpc/transport-zmtp`).
 */
export interface ConnectOptions extends Omit<ClientOptions, "transport">, TransportOption {
  /**
   * CURVE encryption and server authentication (ZMTP-CURVE): `{ serverKey }`, the server's public
   * key, plus this client's own `publicKey` and `secretKey` when the server only accepts known
   * clients (left out, the socket uses a fresh key pair). Keys are 40 characters of Z85 or 32
   * bytes. Handed to the transport factory, whose own `curve` option wins; the default `zmtp()`
   * and `zeromq()` both implement it. A server that refuses the key fails calls with a
   * `ConnectError` that says so. Default: none (plaintext, as zerorpc-python).
   */
  readonly curve?: CurveClientOptions;
}

/**
 * Connects a client to a zerorpc server: creates a DEALER socket connected to `endpoint`
 * (`tcp://host:port`, `tcp://[::1]:port`, `ipc://path`) and returns a client that owns it.
 * Resolves at once: the socket connects (and reconnects) in the background, and requests sent
 * before the connection is up are queued.
 *
 * The socket is opened by `options.transport`: by default `zmtp()`, the pure-TypeScript ZMTP
 * transport (`@zrpc/transport-zmtp`, no native addon); `zeromq()` from the zeromq.js transport
 * package (installed next to this package) for libzmq, for instance. `curve` encrypts the
 * connection (`connect(endpoint, { curve: { serverKey } })`). The factory's own `maxMessageSize`
 * and `curve` win over `maxMessageBytes` and `curve`. A transport name, a non-factory or the
 * former `zmtp`/`zeromq` option keys throw a `TypeError` that says what to pass; a malformed
 * `curve` key a `TypeError` naming it.
 *
 * Several endpoints share one DEALER, which round-robins **every** message, heartbeats and
 * credits included; a call that outlives one round trip may then have its heartbeats go to the
 * wrong server. Use one client per server for long calls and streams (docs/protocol section 2.1).
 */
export async function connect<TService = unknown>(
  endpoint: string | readonly string[],
  options: ConnectOptions = {},
): Promise<Client<TService>> {
  const factory = transportFactoryOption(options, "connect()");
  const { curve, ...clientOptions } = withoutTransport(options);
  const { maxMessageBytes } = clientOptions;
  checkMaxMessageBytes(maxMessageBytes);
  const transport = await openTransport("dealer", "connect", endpoint, {
    factory,
    defaults: {
      ...keepalive(clientOptions.heartbeatMs),
      ...(maxMessageBytes !== undefined && { maxMessageSize: maxMessageBytes }),
      ...(curve !== undefined && { curve: checkCurveClientOptions(curve, "connect()") }),
    },
  });
  try {
    return createClient<TService>({ ...clientOptions, transport });
  } catch (error) {
    await transport.close();
    throw error;
  }
}

/**
 * The transport keepalive of a client with heartbeat `heartbeatMs`: a ZMTP PING every interval on
 * its connection, which is closed (and redialled) when nothing answers within two intervals. So a
 * connection that died silently (a vanished host, a NAT that forgot it) is noticed 2-3 intervals
 * later even while no call is open, as `LostRemote` notices it for open calls, and the next call
 * does not go into it. Heartbeats off (`0`, `null`): no keepalive either.
 */
function keepalive(heartbeatMs: number | null | undefined): Pick<TransportDefaults, "heartbeatMs" | "heartbeatTimeoutMs"> {
  const interval = heartbeatMs === undefined ? DEFAULT_HEARTBEAT_MS : heartbeatMs;
  if (interval === null || !Number.isFinite(interval) || interval <= 0) return {};
  const ms = Math.ceil(interval);
  return { heartbeatMs: ms, heartbeatTimeoutMs: 2 * ms };
}
