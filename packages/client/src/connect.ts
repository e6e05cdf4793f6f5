import { checkMaxMessageBytes, createClient } from "./client.js";
import type { Client } from "./client.js";
import type { ClientOptions } from "./options.js";
import { transportFactoryOption } from "@zrpc/channel";
import { openTransport, withoutTransport } from "./transports.js";
import type { TransportOption } from "./transports.js";

/**
 * Options of {@link connect}: the client options, plus the transport factory that opens the
 * DEALER socket (`transport`, default `zmtp()` from `@zrpc/transport-zmtp`).
 */
export interface ConnectOptions extends Omit<ClientOptions, "transport">, TransportOption {}

/**
 * Connects a client to a zerorpc server: creates a DEALER socket connected to `endpoint`
 * (`tcp://host:port`, `tcp://[::1]:port`, `ipc://path`) and returns a client that owns it.
 * Resolves at once: the socket connects (and reconnects) in the background, and requests sent
 * before the connection is up are queued.
 *
 * The socket is opened by `options.transport`: by default `zmtp()`, the pure-TypeScript ZMTP
 * transport (`@zrpc/transport-zmtp`, no native addon); `zeromq({ curve })` from the zeromq.js
 * transport package (installed next to this package) for CURVE, for instance. The
 * factory's own `maxMessageSize` wins over `maxMessageBytes`. A transport name, a non-factory or
 * the former `zmtp`/`zeromq` option keys throw a `TypeError` that says what to pass.
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
  const clientOptions = withoutTransport(options);
  const { maxMessageBytes } = clientOptions;
  checkMaxMessageBytes(maxMessageBytes);
  const transport = await openTransport("dealer", "connect", endpoint, {
    factory,
    ...(maxMessageBytes !== undefined && { defaults: { maxMessageSize: maxMessageBytes } }),
  });
  try {
    return createClient<TService>({ ...clientOptions, transport });
  } catch (error) {
    await transport.close();
    throw error;
  }
}
