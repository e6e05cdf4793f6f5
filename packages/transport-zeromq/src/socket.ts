import { Buffer } from "node:buffer";
import { Dealer, Publisher, Pull, Push, Router, Subscriber } from "zeromq";
import type { Readable, Socket, Writable } from "zeromq";
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

/** Options every socket kind takes. zeromq.js seals sockets, so options a kind lacks must be left out. */
function commonOptions(options: ResolvedOptions): {
  linger: number;
  maxMessageSize: number;
  immediate: boolean;
  reconnectInterval?: number;
  reconnectMaxInterval?: number;
} {
  return {
    linger: options.linger,
    maxMessageSize: options.maxMessageSize,
    immediate: options.immediate,
    ...(options.reconnectInterval === undefined ? {} : { reconnectInterval: options.reconnectInterval }),
    ...(options.reconnectMaxInterval === undefined ? {} : { reconnectMaxInterval: options.reconnectMaxInterval }),
  };
}

/**
 * Creates the zeromq.js socket for a transport kind with every option set before any bind or
 * connect (most ZeroMQ options only apply to later connections). ROUTER_MANDATORY stays off, as in
 * zerorpc-python: a reply to a vanished client is dropped by libzmq instead of failing.
 * @internal
 */
export function createSocket(kind: TransportKind, options: ResolvedOptions): SocketParts {
  const common = commonOptions(options);
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
