import { checkMaxMessageBytes, createClient } from "./client.js";
import type { Client } from "./client.js";
import type { ClientOptions } from "./options.js";
import { openTransport } from "./transports.js";
import type { TransportChoice } from "./transports.js";

/**
 * Options of {@link connect}: the client options, plus which transport opens the DEALER socket
 * (`transport`, default `"zmtp"`) and its options (`zmtp` or `zeromq`).
 */
export interface ConnectOptions extends Omit<ClientOptions, "transport">, TransportChoice {}

/**
 * Connects a client to a zerorpc server: creates a DEALER socket connected to `endpoint`
 * (`tcp://host:port`, `tcp://[::1]:port`, `ipc://path`) and returns a client that owns it.
 * Resolves at once: the socket connects (and reconnects) in the background, and requests sent
 * before the connection is up are queued.
 *
 * The socket is opened by the pure-TypeScript ZMTP transport (`@zrpc/transport-zmtp`, no native
 * addon) unless `transport: "zeromq"` (or only `zeromq` options) asks for zeromq.js, which must
 * then be installed (`@zrpc/transport-zeromq`): for CURVE, for instance.
 *
 * Several endpoints share one DEALER, which round-robins **every** message, heartbeats and
 * credits included; a call that outlives one round trip may then have its heartbeats go to the
 * wrong server. Use one client per server for long calls and streams (PROTOCOL.md section 2.1).
 */
export async function connect<TService = unknown>(
  endpoint: string | readonly string[],
  options: ConnectOptions = {},
): Promise<Client<TService>> {
  const { transport: which, zmtp, zeromq, ...clientOptions } = options;
  const { maxMessageBytes } = clientOptions;
  checkMaxMessageBytes(maxMessageBytes);
  const choice: TransportChoice = {
    ...(which !== undefined && { transport: which }),
    ...(zmtp !== undefined && { zmtp }),
    ...(zeromq !== undefined && { zeromq }),
  };
  const transport = await openTransport("dealer", "connect", endpoint, choice, maxMessageBytes);
  try {
    return createClient<TService>({ ...clientOptions, transport });
  } catch (error) {
    await transport.close();
    throw error;
  }
}
