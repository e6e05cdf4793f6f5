import type { EventType, Socket } from "zeromq";
import { Resources, pseudoRandomBytes, reader as readIterable, utf8, utf8Text } from "@zrpc/test-support";
import type { Reader as GenericReader } from "@zrpc/test-support";
import { afterEach } from "vitest";
import type { TransportMessage, ZeromqTransport } from "../src/index.js";

/** Loopback with an ephemeral port. */
export const LOOPBACK = "tcp://127.0.0.1:*";

const opened = new Resources();

/** Registers something to close after the current test. */
export function track<T extends { close(): unknown }>(resource: T): T {
  return opened.add(resource);
}

afterEach(() => opened.closeAll("parallel"));

/** Reads a transport one message at a time through its single iterator. */
export type Reader = GenericReader<TransportMessage>;

/** The (only) iterator of a transport, wrapped: `next()` rejects if iteration ended. */
export function reader(transport: ZeromqTransport): Reader {
  return readIterable<TransportMessage>(transport);
}

/** Bytes of a UTF-8 string. */
export const bytes = utf8;

/** UTF-8 text of bytes. */
export const text = utf8Text;

/** A deterministic pseudo-random payload of `size` bytes. */
export const pattern = pseudoRandomBytes;

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
