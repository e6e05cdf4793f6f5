// A hand-written zerorpc client speaking raw events, so the server is tested without @zrpc/client.
import { setImmediate as realSetImmediate } from "node:timers";
import { afterEach } from "vitest";
import { createMemoryServer } from "@zrpc/channel/testing";
import type { MemoryServer } from "@zrpc/channel/testing";
import type { Transport, TransportMessage } from "@zrpc/channel";
import { decodeEvent, encodeValue, messageIdKey, newMessageId } from "@zrpc/wire";
import type { Event, MessageId } from "@zrpc/wire";
import { createServer } from "../src/index.js";
import type { Server, ServerOptions, Service } from "../src/index.js";
import { flushMicrotasks } from "@zrpc/test-support";

export interface RequestOptions {
  /** Extra header keys. */
  header?: Record<string, unknown>;
  /** The `v` to send; `null` sends none (a protocol v1 peer). Default 3. */
  v?: number | null;
  /** The message id (default: a fresh bin id). */
  id?: MessageId;
}

/** Reads everything a client transport receives and lets tests wait for events. */
export class RawClient {
  readonly transport: Transport;
  readonly events: Event[] = [];
  private waiters: (() => void)[] = [];
  private readonly cursors = new Map<string, number>();
  private readonly byChannel = new Map<string, Event[]>();

  constructor(transport: Transport) {
    this.transport = transport;
    void (async () => {
      for await (const message of transport as AsyncIterable<TransportMessage>) {
        const event = decodeEvent(message.payload);
        this.events.push(event);
        const responseTo = event.header.response_to;
        if (event.name !== "_zpc_hb" && responseTo !== undefined) {
          const key = messageIdKey(responseTo);
          let list = this.byChannel.get(key);
          if (list === undefined) this.byChannel.set(key, (list = []));
          list.push(event);
        }
        const waiters = this.waiters;
        this.waiters = [];
        for (const wake of waiters) wake();
      }
    })();
  }

  /** Sends `[header, name, args]` encoded as is (so `v` can be left out). */
  sendRaw(header: Record<string, unknown>, name: string, args: unknown): void {
    this.transport.send(undefined, encodeValue([header, name, args]));
  }

  /** Sends a request; returns its id (the channel id). */
  request(name: string, args: unknown = [], options: RequestOptions = {}): MessageId {
    const id = options.id ?? newMessageId();
    const header: Record<string, unknown> = { message_id: id };
    if (options.v !== null) header.v = options.v ?? 3;
    Object.assign(header, options.header);
    this.sendRaw(header, name, args);
    return id;
  }

  /** Grants `n` credits on a channel. */
  more(channelId: MessageId, n: number): void {
    this.sendRaw({ message_id: newMessageId(), v: 3, response_to: channelId }, "_zpc_more", [n]);
  }

  /** Sends one heartbeat on a channel. */
  heartbeat(channelId: MessageId): void {
    this.sendRaw({ message_id: newMessageId(), v: 3, response_to: channelId }, "_zpc_hb", [0]);
  }

  /** Every non-heartbeat event received for a channel so far. */
  replies(channelId: MessageId): Event[] {
    return this.byChannel.get(messageIdKey(channelId)) ?? [];
  }

  /**
   * Waits until `predicate` holds, checking after each received event and after each turn of the
   * event loop (for state the server changes without sending anything).
   */
  async until(predicate: () => boolean): Promise<void> {
    while (!predicate()) {
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        realSetImmediate(resolve);
      });
    }
  }

  /** The next reply (not heartbeat) of a channel, in arrival order. */
  async next(channelId: MessageId): Promise<Event> {
    const key = messageIdKey(channelId);
    const index = this.cursors.get(key) ?? 0;
    await this.until(() => this.replies(channelId).length > index);
    this.cursors.set(key, index + 1);
    return this.replies(channelId)[index]!;
  }

  /** Sends a request and waits for its first reply. */
  async call(name: string, args: unknown = [], options: RequestOptions = {}): Promise<Event> {
    return this.next(this.request(name, args, options));
  }

  /**
   * Calls a stream method granting credit like a Python client (100, then as consumed) and
   * collects every event up to STREAM_DONE or ERR.
   */
  async stream(name: string, args: unknown = []): Promise<Event[]> {
    const id = this.request(name, args);
    const got: Event[] = [];
    for (;;) {
      const event = await this.next(id);
      got.push(event);
      if (event.name !== "STREAM") return got;
      if (got.length === 1 || got.length % 50 === 0) this.more(id, 100);
    }
  }

  close(): void {
    void this.transport.close();
  }
}

export interface Setup {
  server: Server;
  network: MemoryServer;
  client: RawClient;
  /** Another client on the same server. */
  newClient(): RawClient;
}

const servers: Server[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close(0)));
});

/** A server over an in-memory ROUTER with one raw client; closed after the test. */
export function setup(service: Service, options: ServerOptions = {}): Setup {
  const network = createMemoryServer();
  const server = createServer(service, { logger: null, ...options });
  servers.push(server);
  server.serve(network.transport);
  return { server, network, client: new RawClient(network.connect()), newClient: () => new RawClient(network.connect()) };
}

/** Lets queued microtasks (in-memory deliveries, promise chains) run. */
export function flush(rounds = 50): Promise<void> {
  return flushMicrotasks(rounds);
}

/** A promise with its resolve and reject functions exposed. */
export { deferred } from "@zrpc/test-support";
