// The "limit" stack: the least work any zerorpc peer on zeromq.js must do. Raw zeromq.js
// Dealer/Router sockets and @msgpack/msgpack (one reused Encoder and Decoder), real zerorpc events
// (`[{message_id, v: 3, response_to}, name, args]` with 32-byte hex ids as bin), one pending send
// per socket (zeromq.js allows no more), replies matched to calls by id, and zerorpc's stream
// credits done by hand: the client grants `_zpc_more [100]` after the first item and `[51]` every
// 51 items (exactly what a zerorpc channel with a receive buffer of 100 sends), the server sends
// only while it has credit. No heartbeats, no timeouts, no middleware, no validation.
// The one place outside the transport adapters that imports zeromq.js, on purpose: the limit is raw
// zeromq.js, the baseline the zrpc stacks are measured against.
import { Buffer } from "node:buffer";
import { Decoder, Encoder } from "@msgpack/msgpack";
import * as zmq from "zeromq";
import { STREAM_BUFFER } from "./common.js";

const EMPTY = Buffer.alloc(0);
/**
 * High-water marks of the limit's sockets: far above the 1,000 calls in flight, since a ROUTER
 * silently drops replies to a peer whose queue is full (libzmq's default is 1,000 messages).
 */
export const HWM = 100_000;
const HEX = Uint8Array.from("0123456789abcdef", (char) => char.charCodeAt(0));

type Frames = (Buffer | Uint8Array)[];
type Header = { message_id?: Uint8Array; v?: number; response_to?: Uint8Array };
type Event = [Header, string, unknown];

/** zerorpc-python's ids: 8 hex digits of a counter, then a 24-hex-digit random base. */
class Ids {
  private readonly base = new Uint8Array(24);
  private counter = (Math.random() * 0x7fffffff) >>> 0;

  constructor() {
    for (let i = 0; i < 24; i++) this.base[i] = HEX[(Math.random() * 16) | 0]!;
  }

  /** A new id; `last` is its counter, the key the reply is matched by. */
  next(): Uint8Array {
    this.counter = (this.counter + 1) >>> 0;
    const id = new Uint8Array(32);
    let value = this.counter;
    for (let i = 7; i >= 0; i--) {
      id[i] = HEX[value & 15]!;
      value >>>= 4;
    }
    id.set(this.base, 8);
    return id;
  }

  get last(): number {
    return this.counter;
  }
}

/** The counter of an id made by {@link Ids} (its first 8 hex digits). */
function counterOf(id: Uint8Array): number {
  let value = 0;
  for (let i = 0; i < 8; i++) {
    const c = id[i]!;
    value = value * 16 + (c <= 0x39 ? c - 0x30 : c - 0x57);
  }
  return value;
}

/** Latin-1 key of an id (for ids this peer did not make). */
function keyOf(id: Uint8Array): string {
  return Buffer.from(id.buffer, id.byteOffset, id.byteLength).toString("latin1");
}

/** zeromq.js allows one pending send per socket: a queue and one pump. */
class Sender {
  private queue: (Frames | undefined)[] = [];
  private head = 0;
  private busy = false;

  constructor(private readonly socket: zmq.Writable) {}

  send(frames: Frames): void {
    this.queue.push(frames);
    if (!this.busy) void this.pump();
  }

  private async pump(): Promise<void> {
    this.busy = true;
    try {
      while (this.head < this.queue.length) {
        const frames = this.queue[this.head]!;
        this.queue[this.head++] = undefined;
        await this.socket.send(frames);
      }
      this.queue = [];
      this.head = 0;
    } catch {
      // closed
    } finally {
      this.busy = false;
    }
  }
}

interface ServerStream {
  readonly identity: Buffer;
  readonly id: Uint8Array;
  readonly key: string;
  readonly count: number;
  next: number;
  credit: number;
}

/** A ROUTER serving `echo(x)` and the stream `range(n)`. */
export async function startLimitServer(): Promise<{ endpoint: string; close(): void }> {
  const router = new zmq.Router({ linger: 0, sendHighWaterMark: HWM, receiveHighWaterMark: HWM });
  await router.bind("tcp://127.0.0.1:*");
  const encoder = new Encoder();
  const decoder = new Decoder();
  const ids = new Ids();
  const sender = new Sender(router);
  const streams = new Map<string, ServerStream>();

  const emit = (identity: Buffer, responseTo: Uint8Array, name: string, args: unknown): void => {
    sender.send([identity, EMPTY, encoder.encode([{ message_id: ids.next(), v: 3, response_to: responseTo }, name, args])]);
  };
  const pump = (stream: ServerStream): void => {
    while (stream.credit > 0 && stream.next < stream.count) {
      emit(stream.identity, stream.id, "STREAM", stream.next++);
      stream.credit -= 1;
    }
    if (stream.next === stream.count && stream.credit > 0) {
      emit(stream.identity, stream.id, "STREAM_DONE", null);
      streams.delete(stream.key);
    }
  };

  void (async () => {
    try {
      for await (const frames of router) {
        const identity = frames[0]!;
        const [header, name, args] = decoder.decode(frames[frames.length - 1]!) as Event;
        const responseTo = header.response_to;
        if (responseTo === undefined) {
          const id = header.message_id!;
          if (name === "echo") {
            emit(identity, id, "OK", [(args as unknown[])[0]]);
          } else if (name === "range") {
            const key = keyOf(id);
            const stream: ServerStream = { identity, id, key, count: (args as number[])[0]!, next: 0, credit: 1 };
            streams.set(key, stream);
            pump(stream);
          } else {
            emit(identity, id, "ERR", ["NameError", name, ""]);
          }
        } else if (name === "_zpc_more") {
          const stream = streams.get(keyOf(responseTo));
          if (stream !== undefined) {
            stream.credit += (args as number[])[0]!;
            pump(stream);
          }
        }
        // _zpc_hb and anything else: ignored.
      }
    } catch {
      // closed
    }
  })();
  return { endpoint: router.lastEndpoint!, close: () => router.close() };
}

interface ClientStream {
  readonly id: Uint8Array;
  items: number;
  /** What we have granted and not received yet (zerorpc's `_input_queue_reserved`). */
  reserved: number;
  readonly done: (items: number) => void;
}

/** A DEALER calling `echo(x)` and streaming `range(n)`. */
export class LimitClient {
  private readonly dealer = new zmq.Dealer({ linger: 0, sendHighWaterMark: HWM, receiveHighWaterMark: HWM });
  private readonly sender = new Sender(this.dealer);
  private readonly encoder = new Encoder();
  private readonly decoder = new Decoder();
  private readonly ids = new Ids();
  private readonly calls = new Map<number, (value: unknown) => void>();
  private readonly streams = new Map<number, ClientStream>();

  constructor(endpoint: string) {
    this.dealer.connect(endpoint);
    void this.readLoop();
  }

  call(arg: unknown): Promise<unknown> {
    const id = this.ids.next();
    const key = this.ids.last;
    this.sender.send([EMPTY, this.encoder.encode([{ message_id: id, v: 3 }, "echo", [arg]])]);
    return new Promise((resolve) => this.calls.set(key, resolve));
  }

  /** Streams `range(count)` and resolves with the number of items received. */
  stream(count: number): Promise<number> {
    const id = this.ids.next();
    const key = this.ids.last;
    this.sender.send([EMPTY, this.encoder.encode([{ message_id: id, v: 3 }, "range", [count]])]);
    return new Promise((resolve) => this.streams.set(key, { id, items: 0, reserved: 1, done: resolve }));
  }

  close(): void {
    this.dealer.close();
  }

  private async readLoop(): Promise<void> {
    try {
      for await (const frames of this.dealer) {
        const [header, name, args] = this.decoder.decode(frames[frames.length - 1]!) as Event;
        const key = counterOf(header.response_to!);
        if (name === "OK") {
          const resolve = this.calls.get(key);
          this.calls.delete(key);
          resolve?.((args as unknown[])[0]);
        } else if (name === "STREAM") {
          const stream = this.streams.get(key);
          if (stream === undefined) continue;
          stream.items += 1;
          stream.reserved -= 1;
          // The grant a zerorpc receiver makes before taking the next item.
          if (stream.reserved < STREAM_BUFFER / 2) {
            const grant = STREAM_BUFFER - stream.reserved;
            stream.reserved = STREAM_BUFFER;
            this.sender.send([EMPTY, this.encoder.encode([{ message_id: this.ids.next(), v: 3, response_to: stream.id }, "_zpc_more", [grant]])]);
          }
        } else if (name === "STREAM_DONE") {
          const stream = this.streams.get(key);
          this.streams.delete(key);
          stream?.done(stream.items);
        } else if (name === "ERR") {
          throw new Error(`limit server answered ERR ${JSON.stringify(args)}`);
        }
      }
    } catch (error) {
      if (!this.dealer.closed) throw error;
    }
  }
}
