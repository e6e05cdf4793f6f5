/**
 * Test doubles for the channel layer: in-memory transports that behave like a DEALER/ROUTER pair
 * without ZeroMQ. For unit tests of the protocol layers; socket tests use the real transport too.
 */
import { ZrpcError } from "@zrpc/wire";
import { TransportInbox } from "./transport-inbox.js";
import type { Peer, Transport, TransportKind, TransportMessage } from "./transport.js";
import { SINGLE_PEER } from "./envelope.js";

/** Which way a payload travelled, for {@link MemoryNetworkOptions.tap}. */
export type TapDirection = "client->server" | "server->client";

/** Options of {@link createMemoryServer} and {@link createLinkedPair}. */
export interface MemoryNetworkOptions {
  /**
   * Sees every payload as it is sent. Return `false` to drop it (to simulate loss); anything
   * else delivers it.
   */
  readonly tap?: (direction: TapDirection, payload: Uint8Array, peer: Peer) => boolean | void;
  /**
   * Give the transports the optional `onMessage` fast path (synchronous delivery), as the ZMTP
   * and zeromq.js transports have; by default they are read only by iteration.
   */
  readonly onMessage?: boolean;
}


class MemoryTransport implements Transport {
  readonly kind: TransportKind;
  readonly #inbox = new TransportInbox({ secondReaderError: () => new ZrpcError("closed", "a transport has exactly one reader") });
  onMessage?: (listener: (peer: Peer, payload: Uint8Array) => void) => void;
  private isClosed = false;
  private resolveClosed!: (error: Error | undefined) => void;
  readonly closed: Promise<Error | undefined>;
  private readonly deliver: (peer: Peer | undefined, payload: Uint8Array) => void;
  private readonly onClose: () => void;

  constructor(
    kind: TransportKind,
    deliver: (peer: Peer | undefined, payload: Uint8Array) => void,
    onClose: () => void,
    withListener = false,
  ) {
    this.kind = kind;
    if (withListener) {
      this.onMessage = (listener) => this.#inbox.onMessage(listener);
    }
    this.deliver = deliver;
    this.onClose = onClose;
    this.closed = new Promise((resolve) => {
      this.resolveClosed = resolve;
    });
  }

  send(peer: Peer | undefined, payload: Uint8Array): void {
    if (this.isClosed) throw new ZrpcError("closed", "transport is closed");
    // Copy, as a socket would: the receiver must never share the sender's buffer.
    this.deliver(peer, payload.slice());
  }

  close(): Promise<void> {
    if (!this.isClosed) {
      this.isClosed = true;
      this.#inbox.end();
      this.onClose();
      this.resolveClosed(undefined);
    }
    return this.closed.then(() => undefined);
  }

  /** A message arrived from the other side: to the listener if one is set, else to the inbox. */
  receive(message: TransportMessage): void {
    if (this.isClosed) return;
    this.#inbox.push(message.peer, message.payload);
  }

  get isOpen(): boolean {
    return !this.isClosed;
  }

  [Symbol.asyncIterator](): AsyncIterator<TransportMessage> {
    return this.#inbox[Symbol.asyncIterator]();
  }
}

/** An in-memory ROUTER with any number of DEALER clients. */
export interface MemoryServer {
  /** The server side (kind `"router"`). */
  readonly transport: Transport;
  /** A new client connection (kind `"dealer"`). Each gets its own peer key and routing id. */
  connect(): Transport;
  /** Cut one client off (as if its process died): its transport closes, nothing more is delivered. */
  disconnect(client: Transport): void;
}

/**
 * An in-memory ROUTER/DEALER network. Messages are delivered asynchronously (on a microtask) and
 * in order, payloads are copied, and each client gets a 5-byte routing id like libzmq's.
 */
export function createMemoryServer(options: MemoryNetworkOptions = {}): MemoryServer {
  const clients = new Map<string, MemoryTransport>();
  let nextId = 1;
  const server: MemoryTransport = new MemoryTransport(
    "router",
    (peer, payload) => {
      if (peer === undefined) throw new ZrpcError("closed", "a router transport needs a peer to send to");
      const client = clients.get(peer.key);
      if (client === undefined || !client.isOpen) return; // like libzmq: a reply to a gone peer vanishes
      if (options.tap?.("server->client", payload, peer) === false) return;
      queueMicrotask(() => client.receive({ peer: SINGLE_PEER, payload }));
    },
    () => {
      for (const client of clients.values()) void client.close();
    },
    options.onMessage === true,
  );
  return {
    transport: server,
    connect(): Transport {
      const n = nextId++;
      const routingId = new Uint8Array([0, (n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]);
      const peer: Peer = Object.freeze({ key: `mem-${n}`, envelope: Object.freeze([routingId]) });
      const client = new MemoryTransport(
        "dealer",
        (_peer, payload) => {
          if (!server.isOpen) return;
          if (options.tap?.("client->server", payload, peer) === false) return;
          queueMicrotask(() => server.receive({ peer, payload }));
        },
        () => clients.delete(peer.key),
        options.onMessage === true,
      );
      clients.set(peer.key, client);
      return client;
    },
    disconnect(client: Transport): void {
      void client.close();
    },
  };
}

/** One in-memory DEALER (`client`) linked to one ROUTER (`server`). */
export function createLinkedPair(options: MemoryNetworkOptions = {}): { client: Transport; server: Transport } {
  const network = createMemoryServer(options);
  return { client: network.connect(), server: network.transport };
}
