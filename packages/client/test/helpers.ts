// A raw zerorpc server for tests: decodes what the client sends and answers with hand-built
// events over the in-memory ROUTER of @zrpc/channel/testing. It knows nothing of @zrpc/server.
import { createMemoryServer } from "@zrpc/channel/testing";
import type { MemoryNetworkOptions, MemoryServer } from "@zrpc/channel/testing";
import type { Peer, Transport, TransportKind, TransportMessage } from "@zrpc/channel";
import { decodeEvent, encodeEvent, messageIdKey, newMessageId } from "@zrpc/wire";
import type { Event, MessageId } from "@zrpc/wire";
import { createClient } from "../src/index.js";
import type { Client, ClientMiddleware, ClientOptions } from "../src/index.js";

/** A request the fake server received. */
export interface FakeRequest {
  readonly event: Event;
  readonly peer: Peer;
  readonly id: MessageId;
  readonly name: string;
  readonly args: unknown;
}

/** Header overrides of a hand-built reply. */
export interface ReplyHeader {
  /** `null` leaves `v` out; default 3. */
  readonly v?: number | null;
  /** `null` leaves `response_to` out; default the request's id. */
  readonly responseTo?: MessageId | null;
  readonly extra?: Record<string, unknown>;
}

type Handler = (request: FakeRequest, server: FakeServer) => void | Promise<void>;

export class FakeServer {
  readonly network: MemoryServer;
  /** Every event received, in order. */
  readonly received: Event[] = [];
  readonly requests: FakeRequest[] = [];
  handler: Handler | undefined;
  private readonly checks = new Set<() => void>();

  constructor(handler?: Handler, options: MemoryNetworkOptions = {}) {
    this.network = createMemoryServer(options);
    this.handler = handler;
    void this.loop();
  }

  /** A client on a new in-memory DEALER of this server. */
  client<TService = unknown>(options: Partial<ClientOptions> = {}): Client<TService> {
    return createClient<TService>({ ...options, transport: this.network.connect() });
  }

  private async loop(): Promise<void> {
    for await (const message of this.network.transport as AsyncIterable<TransportMessage>) {
      const event = decodeEvent(message.payload);
      this.received.push(event);
      if (event.header.response_to === undefined) {
        const request: FakeRequest = { event, peer: message.peer, id: event.header.message_id!, name: event.name, args: event.args };
        this.requests.push(request);
        if (this.handler !== undefined) void this.handler(request, this);
      }
      for (const check of [...this.checks]) check();
    }
  }

  /** Resolves once `predicate` holds (checked now and after each received event). */
  waitFor(predicate: () => boolean): Promise<void> {
    if (predicate()) return Promise.resolve();
    return new Promise((resolve) => {
      const check = (): void => {
        if (predicate()) {
          this.checks.delete(check);
          resolve();
        }
      };
      this.checks.add(check);
    });
  }

  /** Resolves with the `n`-th request (1-based) once it has arrived. */
  async request(n = 1): Promise<FakeRequest> {
    await this.waitFor(() => this.requests.length >= n);
    return this.requests[n - 1]!;
  }

  /** Events received on the channel of `request` (everything with its `response_to`). */
  channelEvents(request: FakeRequest): Event[] {
    const key = messageIdKey(request.id);
    return this.received.filter((e) => e.header.response_to !== undefined && messageIdKey(e.header.response_to) === key);
  }

  /** Names of the events received on the channel of `request`. */
  channelNames(request: FakeRequest): string[] {
    return this.channelEvents(request).map((e) => e.name);
  }

  /** The `_zpc_more` amounts received on the channel of `request`. */
  grants(request: FakeRequest): number[] {
    return this.channelEvents(request)
      .filter((e) => e.name === "_zpc_more")
      .map((e) => Number((e.args as unknown[])[0]));
  }

  /** Sends one raw event to the client that sent `request`. */
  send(request: FakeRequest, name: string, args: unknown, header: ReplyHeader = {}): void {
    // A handler still streaming when the test ends must not fail it.
    if (this.isClosed) return;
    const h: Record<string, unknown> = { message_id: newMessageId() };
    if (header.v !== null) h.v = header.v ?? 3;
    Object.assign(h, header.extra);
    const responseTo = header.responseTo === undefined ? request.id : header.responseTo;
    if (responseTo !== null) h.response_to = responseTo;
    this.network.transport.send(request.peer, encodeEvent({ header: h, name, args }));
  }

  ok(request: FakeRequest, value: unknown): void {
    this.send(request, "OK", [value]);
  }

  err(request: FakeRequest, name: string, message: string, traceback: string | null = "Traceback (most recent call last):\n  ..."): void {
    this.send(request, "ERR", [name, message, traceback]);
  }

  heartbeat(request: FakeRequest): void {
    this.send(request, "_zpc_hb", [0]);
  }

  /** Credit the client has granted on `request`'s channel minus what was spent (1 initially). */
  private spent = new Map<string, number>();
  credit(request: FakeRequest): number {
    const granted = 1 + this.grants(request).reduce((a, b) => a + b, 0);
    return granted - (this.spent.get(messageIdKey(request.id)) ?? 0);
  }

  /** Sends a credit-costing event, waiting for credit first as a zerorpc server must. */
  async sendWithCredit(request: FakeRequest, name: string, args: unknown): Promise<void> {
    await this.waitFor(() => this.credit(request) > 0);
    const key = messageIdKey(request.id);
    this.spent.set(key, (this.spent.get(key) ?? 0) + 1);
    this.send(request, name, args);
  }

  /** Streams `items` honouring credits, then STREAM_DONE (unless `done` is false). */
  async stream(request: FakeRequest, items: readonly unknown[], done = true): Promise<void> {
    for (const item of items) await this.sendWithCredit(request, "STREAM", item);
    if (done) await this.sendWithCredit(request, "STREAM_DONE", null);
  }

  private isClosed = false;
  close(): Promise<void> {
    this.isClosed = true;
    return this.network.transport.close();
  }
}

/** A middleware with nothing but a pass-through `around` hook: its calls take the `around` path. */
export const passThroughAround: ClientMiddleware = {
  name: "pass-through",
  around: (_request, next) => next(),
};

/** A client setup the call, stream and timeout suites run under. */
export interface ClientSetup {
  readonly name: string;
  /** Options every client of the suite starts from. */
  readonly options: Partial<ClientOptions>;
}

/**
 * The setups the call, stream and timeout suites run under (`describe.each`), so the same
 * assertions cover calls without and with an `around` middleware.
 */
export const CLIENT_SETUPS: readonly ClientSetup[] = [
  { name: "without around middleware", options: {} },
  { name: "with a pass-through around middleware", options: { middleware: [passThroughAround] } },
];

/** The state of a promise, observed without awaiting it. */
export function track<T>(promise: Promise<T>): { state: "pending" | "fulfilled" | "rejected"; value?: T; error?: unknown } {
  const tracker: { state: "pending" | "fulfilled" | "rejected"; value?: T; error?: unknown } = { state: "pending" };
  promise.then(
    (value) => {
      tracker.state = "fulfilled";
      tracker.value = value;
    },
    (error: unknown) => {
      tracker.state = "rejected";
      tracker.error = error;
    },
  );
  return tracker;
}

/** Lets queued microtasks (in-memory deliveries) run. */
export async function flush(rounds = 50): Promise<void> {
  for (let i = 0; i < rounds; i++) await Promise.resolve();
}

/** The rejection of `promise` (fails the test if it resolves). */
export async function rejectionOf(promise: PromiseLike<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected the promise to reject");
}

/**
 * A minimal in-memory one-way pair (push -> pull, or pub -> sub), for unit tests of the one-way
 * patterns without sockets.
 */
export function oneWayPair(sender: "push" | "pub"): { sender: Transport; receiver: Transport } {
  const queue: Uint8Array[] = [];
  let wake: (() => void) | undefined;
  let closed = false;
  let resolveClosed!: (e: Error | undefined) => void;
  const closedPromise = new Promise<Error | undefined>((r) => (resolveClosed = r));
  const peer: Peer = { key: "", envelope: [] };
  const receiverKind: TransportKind = sender === "push" ? "pull" : "sub";
  const close = (): Promise<void> => {
    if (!closed) {
      closed = true;
      wake?.();
      resolveClosed(undefined);
    }
    return Promise.resolve();
  };
  const senderTransport: Transport = {
    kind: sender,
    send(_peer, payload) {
      if (closed) throw new Error("closed");
      queue.push(payload.slice());
      wake?.();
    },
    close,
    closed: closedPromise,
    [Symbol.asyncIterator]: () => {
      throw new Error("a sender cannot be read");
    },
  };
  const receiverTransport: Transport = {
    kind: receiverKind,
    send() {
      throw new Error("a receiver cannot send");
    },
    close,
    closed: closedPromise,
    async *[Symbol.asyncIterator]() {
      for (;;) {
        while (queue.length > 0) yield { peer, payload: queue.shift()! };
        if (closed) return;
        await new Promise<void>((r) => (wake = r));
        wake = undefined;
      }
    },
  };
  return { sender: senderTransport, receiver: receiverTransport };
}
