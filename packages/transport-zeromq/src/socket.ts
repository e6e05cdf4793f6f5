import { Buffer } from "node:buffer";
import { Dealer, Publisher, Pull, Push, Router, Subscriber } from "zeromq";
import type { Context, Readable, Socket, Writable } from "zeromq";
import { curveKeyPair } from "./curve.js";
import { needsZap } from "./options.js";
import type { ResolvedOptions } from "./options.js";
import type { TransportKind } from "@zrpc/channel";

/**
 * A zeromq.js socket with its readable and writable halves, whichever the kind has.
 * @internal
 */
export interface SocketParts {
  readonly socket: Socket;
  readonly reader: Readable | undefined;
  readonly writer: Writable | undefined;
}

/** The ZAP domain of CURVE servers with an allow-list or an authorize hook (any non-empty value makes libzmq ask ZAP). */
const ZAP_DOMAIN = "zrpc";

/** CURVE socket options, in the order zeromq.js must set them (keys before the mechanism flag). */
function curveSocketOptions(options: ResolvedOptions): Record<string, string | boolean> {
  const server = options.curveServer;
  if (server !== undefined) {
    return {
      curveSecretKey: server.secretKey,
      ...(server.publicKey !== undefined && { curvePublicKey: server.publicKey }),
      curveServer: true,
      // With an allow-list or a hook, refuse every client while no ZAP handler answers (fail closed).
      ...(needsZap(server) && { zapDomain: ZAP_DOMAIN, zapEnforceDomain: true }),
    };
  }
  const client = options.curveClient;
  if (client !== undefined) {
    const own = client.publicKey !== undefined && client.secretKey !== undefined
      ? { publicKey: client.publicKey, secretKey: client.secretKey }
      : curveKeyPair();
    return { curvePublicKey: own.publicKey, curveSecretKey: own.secretKey, curveServerKey: client.serverKey };
  }
  return {};
}

/** Options every socket kind takes. zeromq.js seals sockets, so options a kind lacks must be left out. */
function commonOptions(options: ResolvedOptions, context: Context | undefined): {
  linger: number;
  maxMessageSize: number;
  immediate: boolean;
  ipv6: boolean;
  reconnectInterval?: number;
  reconnectMaxInterval?: number;
  heartbeatInterval?: number;
  heartbeatTimeout?: number;
  connectTimeout?: number;
  context?: Context;
} {
  return {
    ...(context === undefined ? {} : { context }),
    linger: options.linger,
    maxMessageSize: options.maxMessageSize,
    immediate: options.immediate,
    ipv6: options.ipv6,
    ...(options.reconnectInterval === undefined ? {} : { reconnectInterval: options.reconnectInterval }),
    ...(options.reconnectMaxInterval === undefined ? {} : { reconnectMaxInterval: options.reconnectMaxInterval }),
    ...(options.heartbeatMs > 0 && { heartbeatInterval: options.heartbeatMs, heartbeatTimeout: options.heartbeatTimeoutMs }),
    ...(options.dialTimeoutMs > 0 && { connectTimeout: options.dialTimeoutMs }),
    ...curveSocketOptions(options),
  };
}

/**
 * Creates the zeromq.js socket for a transport kind with every option set before any bind or
 * connect (most ZeroMQ options only apply to later connections). ROUTER_MANDATORY stays off, as in
 * zerorpc-python: a reply to a vanished client is dropped by libzmq instead of failing.
 * @internal
 */
export function createSocket(kind: TransportKind, options: ResolvedOptions, context?: Context): SocketParts {
  const common = commonOptions(options, context);
  const send = { sendHighWaterMark: options.sendHighWaterMark };
  const receive = { receiveHighWaterMark: options.receiveHighWaterMark };
  switch (kind) {
    case "router": {
      const socket = new Router({ ...common, ...send, ...receive });
      return { socket, reader: socket, writer: socket };
    }
    case "dealer": {
      const socket = new Dealer({ ...common, ...send, ...receive });
      if (options.routingId !== undefined) {
        // zeromq.js types the option as a string but passes a Buffer through unchanged, which keeps
        // binary routing ids byte-exact (a string would be UTF-8 encoded).
        socket.routingId =
          typeof options.routingId === "string"
            ? options.routingId
            : (Buffer.from(options.routingId) as unknown as string);
      }
      return { socket, reader: socket, writer: socket };
    }
    case "push": {
      const socket = new Push({ ...common, ...send });
      return { socket, reader: undefined, writer: socket };
    }
    case "pull": {
      const socket = new Pull({ ...common, ...receive });
      return { socket, reader: socket, writer: undefined };
    }
    case "pub": {
      const socket = new Publisher({ ...common, ...send });
      return { socket, reader: undefined, writer: socket };
    }
    case "sub": {
      const socket = new Subscriber({ ...common, ...receive });
      if (options.subscribe.length > 0) {
        socket.subscribe(...options.subscribe.map((topic) => (typeof topic === "string" ? topic : Buffer.from(topic))));
      }
      return { socket, reader: socket, writer: undefined };
    }
    default: {
      const unknown: never = kind;
      throw new TypeError(`unknown transport kind ${String(unknown)}`);
    }
  }
}
