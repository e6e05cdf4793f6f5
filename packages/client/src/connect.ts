import { connectDealer } from "@zrpc/transport-zeromq";
import type { ZeromqTransportOptions } from "@zrpc/transport-zeromq";
import { checkMaxMessageBytes, createClient } from "./client.js";
import type { Client } from "./client.js";
import type { ClientOptions } from "./options.js";

/** Options of {@link connect}: the client options, plus the ZeroMQ socket's. */
export interface ConnectOptions extends Omit<ClientOptions, "transport"> {
  /** Options of the ZeroMQ DEALER socket (high-water marks, linger, reconnect interval, ...). */
  readonly zeromq?: Omit<ZeromqTransportOptions, "connect">;
}

/**
 * Connects a client to a zerorpc server over ZeroMQ: creates a DEALER socket connected to
 * `endpoint` (`tcp://host:port`, `ipc://path`, `inproc://name`) and returns a client that owns
 * it. Resolves at once: ZeroMQ connects (and reconnects) in the background, and requests sent
 * before the connection is up are queued.
 *
 * Several endpoints share one DEALER, which round-robins **every** message, heartbeats and
 * credits included; a call that outlives one round trip may then have its heartbeats go to the
 * wrong server. Use one client per server for long calls and streams (PROTOCOL.md section 2.1).
 */
export async function connect<TService = unknown>(
  endpoint: string | readonly string[],
  options: ConnectOptions = {},
): Promise<Client<TService>> {
  const { zeromq, ...clientOptions } = options;
  const { maxMessageBytes } = clientOptions;
  checkMaxMessageBytes(maxMessageBytes);
  const transport = await connectDealer(
    endpoint,
    maxMessageBytes !== undefined && zeromq?.maxMessageSize === undefined ? { ...zeromq, maxMessageSize: maxMessageBytes } : zeromq,
  );
  try {
    return createClient<TService>({ ...clientOptions, transport });
  } catch (error) {
    await transport.close();
    throw error;
  }
}
