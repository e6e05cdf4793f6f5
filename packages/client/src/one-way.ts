// Fire-and-forget patterns (docs/protocol section 6.4): PUSH -> PULL and PUB -> SUB. One event per
// single-frame message; no reply, no channel, no heartbeat, no credit.
import type { CurveOptions, Transport, TransportKind } from "@zrpc/channel";
import { PROTOCOL_VERSION, ProtocolError, ZrpcError, decodeEvent, encodeEvent, newMessageId } from "@zrpc/wire";
import type { DecodeOptions, EncodeOptions, Event, WireHeader } from "@zrpc/wire";
import { copyHeader, runBeforeRequest } from "./middleware.js";
import { checkCurveOptions, transportFactoryOption } from "@zrpc/channel";
import { openTransport, withoutTransport } from "./transports.js";
import type { TransportOption } from "./transports.js";
import type { ClientMiddleware, ClientRequest } from "./middleware.js";

/** Sends one-way events: a {@link Pusher} or a {@link Publisher}. */
export interface OneWaySender extends AsyncDisposable {
  /**
   * Sends the event `method(...args)` with a fresh `message_id`, `v: 3`, the middlewares'
   * `beforeRequest` header keys and `header`'s (reserved keys ignored). Returns once queued.
   * Throws when the arguments cannot be encoded or the transport is closed or full.
   */
  send(method: string, args?: readonly unknown[], header?: Readonly<Record<string, unknown>>): void;
  /** The endpoints the socket is bound to (resolved ports), when it has any. */
  readonly endpoints: readonly string[];
  /** Closes the transport (queued events are flushed for up to its linger time). Idempotent. */
  close(): Promise<void>;
  /** Resolves (never rejects) once the transport is closed, with the error that closed it, if any. */
  readonly closed: Promise<Error | undefined>;
  /** Same as `close()`. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** The sending end of PUSH/PULL (zerorpc-python's `Pusher`): each event goes to one puller. */
export type Pusher = OneWaySender;
/** The sending end of PUB/SUB (zerorpc-python's `Publisher`): each event goes to every subscriber connected at the time. */
export type Publisher = OneWaySender;

/** Options of {@link createPusher} and {@link createPublisher}. */
export interface OneWaySenderOptions {
  /** A `"push"` transport for a pusher, `"pub"` for a publisher. The sender owns it. */
  readonly transport: Transport;
  /** Encoder options, passed to `@zrpc/wire`. */
  readonly encode?: EncodeOptions;
  /** Middlewares whose `beforeRequest` adds task-context header keys to each event. */
  readonly middleware?: readonly ClientMiddleware[];
}

/** A handler table: each event `name(args)` calls `handlers[name](...args)`. */
export type OneWayHandlers = object;

/** A catch-all listener: gets every decoded event. */
export type OneWayListener = (event: Event) => unknown;

/** Options of {@link createPuller} and {@link createSubscriber}. */
export interface OneWayReceiverOptions {
  /** A `"pull"` transport for a puller, `"sub"` for a subscriber. The receiver owns it. */
  readonly transport: Transport;
  /** Decoder options, passed to `@zrpc/wire`. */
  readonly decode?: DecodeOptions;
  /**
   * Receives everything that goes wrong with one event (it is never thrown): an undecodable
   * message (`ProtocolError`, `event` undefined), an event without a handler or whose args are not
   * an array, a handler that threw or rejected. Default: ignore, as the Python receiver only logs.
   */
  readonly onError?: (error: unknown, event: Event | undefined) => void;
}

/** Receives one-way events: a {@link Puller} or a {@link Subscriber}. */
export interface OneWayReceiver extends AsyncDisposable {
  /** The endpoints the socket is bound to (resolved ports), when it has any. */
  readonly endpoints: readonly string[];
  /** Stops receiving and closes the transport; resolves when the handler running now has finished. Idempotent. */
  close(): Promise<void>;
  /** Resolves (never rejects) once the transport is closed, with the error that closed it, if any. */
  readonly closed: Promise<Error | undefined>;
  /** Same as `close()`. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** The receiving end of PUSH/PULL (zerorpc-python's `Puller`). */
export type Puller = OneWayReceiver;
/** The receiving end of PUB/SUB (zerorpc-python's `Subscriber`), subscribed to everything. */
export type Subscriber = OneWayReceiver;

/**
 * Socket of the `bind*` / `connect*` helpers: the factory that opens it, `zmtp()` by default (see
 * {@link TransportOption}), and its CURVE security.
 */
export interface OneWayEndpointOptions extends TransportOption {
  /**
   * CURVE encryption (ZMTP-CURVE), handed to the transport factory (whose own `curve` wins). The
   * CURVE role does not follow bind or connect: `{ secretKey, allowedClientKeys?, authorize? }`
   * makes this socket a CURVE server, `{ serverKey }` a CURVE client, and the two ends of a
   * PUSH/PULL or PUB/SUB pair take one role each (usually the bound side is the server). Keys are
   * 40 characters of Z85 or 32 bytes; a malformed one is a `TypeError` naming it. Default: none.
   */
  readonly curve?: CurveOptions;
}

function endpointsOf(transport: Transport): readonly string[] {
  const endpoints = (transport as { endpoints?: unknown }).endpoints;
  return Array.isArray(endpoints) ? (endpoints as string[]) : [];
}

function checkKind(transport: Transport, kind: TransportKind, what: string): void {
  if (transport === undefined || transport === null) throw new TypeError(`${what} needs a transport`);
  if (transport.kind !== kind) throw new TypeError(`${what} needs a ${kind} transport, got a ${transport.kind} transport`);
}

class Sender implements OneWaySender {
  readonly #transport: Transport;
  readonly #encode: EncodeOptions | undefined;
  readonly #middleware: readonly ClientMiddleware[];

  constructor(options: OneWaySenderOptions) {
    this.#transport = options.transport;
    this.#encode = options.encode;
    this.#middleware = Object.freeze([...(options.middleware ?? [])]);
  }

  get endpoints(): readonly string[] {
    return endpointsOf(this.#transport);
  }

  get closed(): Promise<Error | undefined> {
    return this.#transport.closed;
  }

  send(method: string, args: readonly unknown[] = [], header?: Readonly<Record<string, unknown>>): void {
    if (typeof method !== "string") throw new TypeError(`method must be a string, got ${typeof method}`);
    if (!Array.isArray(args)) throw new TypeError("args must be an array of positional arguments");
    const extra: Record<string, unknown> = {};
    copyHeader(extra, header);
    if (this.#middleware.length > 0) {
      const request: ClientRequest = { method, args, header: extra, options: {} };
      runBeforeRequest(this.#middleware, request);
    }
    const wireHeader: WireHeader = { message_id: newMessageId(), v: PROTOCOL_VERSION };
    copyHeader(wireHeader, extra);
    this.#transport.send(undefined, encodeEvent({ header: wireHeader, name: method, args }, this.#encode));
  }

  close(): Promise<void> {
    return this.#transport.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** Looks a handler up on the table and its prototypes (not `Object.prototype`, not `_` names). */
function findHandler(handlers: object, name: string): ((...args: unknown[]) => unknown) | undefined {
  if (name.length === 0 || name.startsWith("_") || name === "constructor") return undefined;
  for (let holder: object | null = handlers; holder !== null && holder !== Object.prototype; holder = Reflect.getPrototypeOf(holder)) {
    if (Object.hasOwn(holder, name)) {
      const value = (holder as Record<string, unknown>)[name];
      return typeof value === "function" ? (value as (...args: unknown[]) => unknown) : undefined;
    }
  }
  return undefined;
}

class Receiver implements OneWayReceiver {
  readonly #transport: Transport;
  readonly #decode: DecodeOptions | undefined;
  readonly #onError: ((error: unknown, event: Event | undefined) => void) | undefined;
  readonly #handlers: OneWayHandlers | OneWayListener;
  readonly #loop: Promise<void>;

  constructor(handlers: OneWayHandlers | OneWayListener, options: OneWayReceiverOptions) {
    this.#transport = options.transport;
    this.#decode = options.decode;
    this.#onError = options.onError;
    this.#handlers = handlers;
    this.#loop = this.#run();
  }

  get endpoints(): readonly string[] {
    return endpointsOf(this.#transport);
  }

  get closed(): Promise<Error | undefined> {
    return this.#transport.closed;
  }

  async #run(): Promise<void> {
    try {
      for await (const message of this.#transport) {
        let event: Event;
        try {
          event = decodeEvent(message.payload, this.#decode);
        } catch (error) {
          this.#report(error, undefined);
          continue;
        }
        try {
          // One event at a time, in order, as zerorpc-python's receiver loop runs them.
          await this.#dispatch(event);
        } catch (error) {
          this.#report(error, event);
        }
      }
    } catch (error) {
      this.#report(error, undefined);
    }
  }

  async #dispatch(event: Event): Promise<void> {
    const handlers = this.#handlers;
    if (typeof handlers === "function") {
      await (handlers as OneWayListener)(event);
      return;
    }
    const handler = findHandler(handlers, event.name);
    if (handler === undefined) {
      throw new ZrpcError("protocol", `no handler for the one-way event ${JSON.stringify(event.name)}`);
    }
    if (!Array.isArray(event.args)) {
      throw new ProtocolError("bad-event", `args of the one-way event ${JSON.stringify(event.name)} must be an array`);
    }
    await handler.apply(handlers, event.args as unknown[]);
  }

  #report(error: unknown, event: Event | undefined): void {
    try {
      this.#onError?.(error, event);
    } catch {
      // A throwing error listener must not stop the receiver.
    }
  }

  async close(): Promise<void> {
    await this.#transport.close();
    await this.#loop;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** Creates a {@link Pusher} over a `"push"` transport, which it owns. */
export function createPusher(options: OneWaySenderOptions): Pusher {
  checkKind(options.transport, "push", "a pusher");
  return new Sender(options);
}

/** Creates a {@link Publisher} over a `"pub"` transport, which it owns. */
export function createPublisher(options: OneWaySenderOptions): Publisher {
  checkKind(options.transport, "pub", "a publisher");
  return new Sender(options);
}

/**
 * Creates a {@link Puller} over a `"pull"` transport, which it owns. `handlers` is either a table
 * of functions (an object or class instance; each event `name(args)` calls
 * `handlers[name](...args)`, awaited, one event at a time) or one listener for every event.
 * Errors go to `options.onError`, never thrown.
 */
export function createPuller(handlers: OneWayHandlers | OneWayListener, options: OneWayReceiverOptions): Puller {
  checkKind(options.transport, "pull", "a puller");
  return new Receiver(handlers, options);
}

/**
 * Creates a {@link Subscriber} over a `"sub"` transport, which it owns; see {@link createPuller}
 * for `handlers`. A subscriber misses what was published before its subscription reached the
 * publisher.
 */
export function createSubscriber(handlers: OneWayHandlers | OneWayListener, options: OneWayReceiverOptions): Subscriber {
  checkKind(options.transport, "sub", "a subscriber");
  return new Receiver(handlers, options);
}

/** Options of the sender helpers ({@link connectPusher}, {@link bindPublisher}, ...). */
export type OneWaySenderEndpointOptions = Omit<OneWaySenderOptions, "transport"> & OneWayEndpointOptions;
/** Options of the receiver helpers ({@link bindPuller}, {@link connectSubscriber}, ...). */
export type OneWayReceiverEndpointOptions = Omit<OneWayReceiverOptions, "transport"> & OneWayEndpointOptions;

const SENDER_KEYS: ReadonlySet<string> = new Set(["transport", "curve", "encode", "middleware"]);
const RECEIVER_KEYS: ReadonlySet<string> = new Set(["transport", "curve", "decode", "onError"]);

/** The transport defaults of a one-way helper: its checked `curve` option, if any. */
function curveDefaults(curve: CurveOptions | undefined, what: string): { readonly curve?: CurveOptions } {
  return curve === undefined ? {} : { curve: checkCurveOptions(curve, what) };
}

async function openSender(
  kind: "push" | "pub",
  how: "bind" | "connect",
  endpoint: string | readonly string[],
  options: OneWaySenderEndpointOptions,
): Promise<OneWaySender> {
  const what = `${how}${kind === "push" ? "Pusher" : "Publisher"}()`;
  const factory = transportFactoryOption(options, what, SENDER_KEYS);
  const { curve, ...rest } = withoutTransport(options);
  const transport = await openTransport(kind, how, endpoint, { factory, defaults: curveDefaults(curve, what) });
  return kind === "push" ? createPusher({ ...rest, transport }) : createPublisher({ ...rest, transport });
}

/** Which receiving socket to open, and whether it binds or connects. */
interface ReceiverSocket {
  readonly kind: "pull" | "sub";
  readonly how: "bind" | "connect";
}

async function openReceiver(
  { kind, how }: ReceiverSocket,
  endpoint: string | readonly string[],
  handlers: OneWayHandlers | OneWayListener,
  options: OneWayReceiverEndpointOptions,
): Promise<OneWayReceiver> {
  const what = `${how}${kind === "pull" ? "Puller" : "Subscriber"}()`;
  const factory = transportFactoryOption(options, what, RECEIVER_KEYS);
  const { curve, ...rest } = withoutTransport(options);
  const transport = await openTransport(kind, how, endpoint, { factory, defaults: curveDefaults(curve, what) });
  return kind === "pull" ? createPuller(handlers, { ...rest, transport }) : createSubscriber(handlers, { ...rest, transport });
}

/** A {@link Pusher} on a PUSH socket connected to `endpoint`(s). */
export function connectPusher(endpoint: string | readonly string[], options: OneWaySenderEndpointOptions = {}): Promise<Pusher> {
  return openSender("push", "connect", endpoint, options);
}

/** A {@link Pusher} on a PUSH socket bound to `endpoint`(s). */
export function bindPusher(endpoint: string | readonly string[], options: OneWaySenderEndpointOptions = {}): Promise<Pusher> {
  return openSender("push", "bind", endpoint, options);
}

/** A {@link Publisher} on a PUB socket connected to `endpoint`(s). */
export function connectPublisher(endpoint: string | readonly string[], options: OneWaySenderEndpointOptions = {}): Promise<Publisher> {
  return openSender("pub", "connect", endpoint, options);
}

/** A {@link Publisher} on a PUB socket bound to `endpoint`(s). */
export function bindPublisher(endpoint: string | readonly string[], options: OneWaySenderEndpointOptions = {}): Promise<Publisher> {
  return openSender("pub", "bind", endpoint, options);
}

/** A {@link Puller} on a PULL socket bound to `endpoint`(s); see {@link createPuller}. */
export function bindPuller(
  endpoint: string | readonly string[],
  handlers: OneWayHandlers | OneWayListener,
  options: OneWayReceiverEndpointOptions = {},
): Promise<Puller> {
  return openReceiver({ kind: "pull", how: "bind" }, endpoint, handlers, options);
}

/** A {@link Puller} on a PULL socket connected to `endpoint`(s); see {@link createPuller}. */
export function connectPuller(
  endpoint: string | readonly string[],
  handlers: OneWayHandlers | OneWayListener,
  options: OneWayReceiverEndpointOptions = {},
): Promise<Puller> {
  return openReceiver({ kind: "pull", how: "connect" }, endpoint, handlers, options);
}

/** A {@link Subscriber} on a SUB socket (subscribed to everything) bound to `endpoint`(s). */
export function bindSubscriber(
  endpoint: string | readonly string[],
  handlers: OneWayHandlers | OneWayListener,
  options: OneWayReceiverEndpointOptions = {},
): Promise<Subscriber> {
  return openReceiver({ kind: "sub", how: "bind" }, endpoint, handlers, options);
}

/** A {@link Subscriber} on a SUB socket (subscribed to everything) connected to `endpoint`(s). */
export function connectSubscriber(
  endpoint: string | readonly string[],
  handlers: OneWayHandlers | OneWayListener,
  options: OneWayReceiverEndpointOptions = {},
): Promise<Subscriber> {
  return openReceiver({ kind: "sub", how: "connect" }, endpoint, handlers, options);
}
