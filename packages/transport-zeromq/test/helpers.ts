import { Buffer } from "node:buffer";
import type { EventType, Socket } from "zeromq";
import { afterEach } from "vitest";
import type { TransportMessage, ZeromqTransport } from "../src/index.js";

/** Loopback with an ephemeral port. */
export const LOOPBACK = "tcp://127.0.0.1:*";

const opened: { close(): unknown }[] = [];

/** Registers something to close after the current test. */
export function track<T extends { close(): unknown }>(resource: T): T {
  opened.push(resource);
  return resource;
}

afterEach(async () => {
  const resources = opened.splice(0);
  await Promise.all(resources.map((resource) => Promise.resolve(resource.close())));
});

/** Reads a transport one message at a time through its single iterator. */
export interface Reader {
  next(): Promise<TransportMessage>;
  take(count: number): Promise<TransportMessage[]>;
  done(): Promise<boolean>;
}

/** The (only) iterator of a transport, wrapped: `next()` rejects if iteration ended. */
export function reader(transport: ZeromqTransport): Reader {
  const iterator = transport[Symbol.asyncIterator]();
  const next = async (): Promise<TransportMessage> => {
    const result = await iterator.next();
    if (result.done === true) throw new Error("iteration ended");
    return result.value;
  };
  return {
    next,
    async take(count) {
      const messages: TransportMessage[] = [];
      for (let i = 0; i < count; i++) messages.push(await next());
      return messages;
    },
    async done() {
      return (await iterator.next()).done === true;
    },
  };
}

/** Bytes of a UTF-8 string. */
export function bytes(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

/** UTF-8 text of bytes. */
export function text(data: Uint8Array): string {
  return new TextDecoder().decode(data);
}

/** A deterministic pseudo-random payload of `size` bytes. */
export function pattern(size: number, seed: number): Buffer {
  const data = Buffer.allocUnsafe(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    data[i] = x & 0xff;
  }
  return data;
}

/** Resolves on the next socket event of this type (zeromq.js `socket.events`). */
export function nextEvent(socket: Socket, type: EventType): Promise<void> {
  return new Promise((resolve) => {
    const listener = (): void => {
      socket.events.off(type, listener);
      resolve();
    };
    socket.events.on(type, listener);
  });
}
