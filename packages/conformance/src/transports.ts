// The transport the kit runs on: `zmtp` (@zrpc/transport-zmtp, ZMTP 3.1 in TypeScript on node:net;
// the default) or `zeromq` (@zrpc/transport-zeromq, zeromq.js on libzmq). Both speak ZMTP on the wire, so any
// pairing of the two (and any libzmq peer, zerorpc-python included) talks to any other.
import type { Transport, TransportFactory, TransportKind } from "@zrpc/channel";
import { connect } from "@zrpc/client";
import type { Client, ClientOptions } from "@zrpc/client";
import type { Server } from "@zrpc/server";
import { createZeromqTransport, zeromq } from "@zrpc/transport-zeromq";
import { createZmtpTransport, zmtp } from "@zrpc/transport-zmtp";
import { createTestService } from "./test-service.js";
import type { TestServiceOptions } from "./test-service.js";

/** The transports the kit can run on, as `--transport` spells them. */
export const TRANSPORT_NAMES = ["zmtp", "zeromq"] as const;

/** `"zeromq"` (@zrpc/transport-zeromq) or `"zmtp"` (@zrpc/transport-zmtp). */
export type TransportName = (typeof TRANSPORT_NAMES)[number];

/** The transport used when none is chosen. */
export const DEFAULT_TRANSPORT: TransportName = "zmtp";

/** True for a {@link TransportName}. */
export function isTransportName(value: unknown): value is TransportName {
  return typeof value === "string" && (TRANSPORT_NAMES as readonly string[]).includes(value);
}

/** The transport factory `name` stands for: `zmtp()` or `zeromq()`, with `options`. */
export function transportFactory(name: TransportName, options: { readonly linger?: number } = {}): TransportFactory {
  switch (name) {
    case "zeromq":
      return zeromq(options);
    case "zmtp":
      return zmtp(options);
    default:
      throw new TypeError(`unknown transport ${JSON.stringify(name)} (expected ${TRANSPORT_NAMES.join(" or ")})`);
  }
}

/** A transport with the endpoints it is bound to (both packages' transports have them). */
export interface EndpointTransport extends Transport {
  /** Endpoints currently bound, wildcard ports resolved. */
  readonly endpoints: readonly string[];
}

/** Options of {@link openTransport}: those both transport packages take. */
export interface OpenTransportOptions {
  /** Endpoint(s) to bind; the promise resolves once every one is bound. */
  readonly bind?: string | readonly string[];
  /** Endpoint(s) to connect to (and reconnect to) in the background. */
  readonly connect?: string | readonly string[];
  /** How long `close()` flushes queued messages, in ms (both default to 1000). */
  readonly linger?: number;
  /** Largest incoming message in bytes (both default to 100 MiB + 1 KiB). */
  readonly maxMessageSize?: number;
}

/**
 * Creates a transport of `kind` from the package `name` names: `createZeromqTransport` or
 * `createZmtpTransport` with the same options.
 */
export async function openTransport(
  name: TransportName,
  kind: TransportKind,
  options: OpenTransportOptions = {},
): Promise<EndpointTransport> {
  switch (name) {
    case "zeromq":
      return createZeromqTransport(kind, options);
    case "zmtp":
      return createZmtpTransport(kind, options);
    default:
      throw new TypeError(`unknown transport ${JSON.stringify(name)} (expected ${TRANSPORT_NAMES.join(" or ")})`);
  }
}

/** Options of {@link connectClient}: the client's, without the transport it makes. */
export type ConnectClientOptions = Omit<ClientOptions, "transport">;

/**
 * A client on a DEALER of transport `name` connected to `endpoint`: `connect()` of `@zrpc/client`
 * with `transport: transportFactory(name)`. The client owns the transport.
 */
export function connectClient(name: TransportName, endpoint: string, options: ConnectClientOptions = {}): Promise<Client> {
  return connect(endpoint, { ...options, transport: transportFactory(name) });
}

/** A TestService serving on a bound ROUTER, as {@link serveTestService} resolves it. */
export interface ServedTestService {
  /** The server; `close()` closes the transport too. */
  readonly server: Server;
  /** The endpoints bound, wildcard ports resolved. */
  readonly endpoints: readonly string[];
}

/**
 * The TestService ({@link createTestService}) served on a ROUTER of transport `name` bound to
 * `endpoint`: `server.bind(endpoint, { transport: transportFactory(name) })`.
 */
export async function serveTestService(
  name: TransportName,
  endpoint: string | readonly string[],
  options: TestServiceOptions = {},
): Promise<ServedTestService> {
  const server = createTestService(options);
  try {
    return { server, endpoints: await server.bind(endpoint, { transport: transportFactory(name) }) };
  } catch (error) {
    await server.close(0);
    throw error;
  }
}
