// Peers on loopback that are not zerorpc servers (a TCP listener with a scripted answer), and a
// recorder of a transport's connection events: for the tests of what a client, a pool or a
// transport reports when it cannot connect.
import { createServer } from "node:net";
import type { Server, Socket } from "node:net";

/** A TCP listener of ours on loopback (see {@link startTcpStub}). */
export interface TcpStub {
  /** `tcp://HOST:PORT`. */
  readonly endpoint: string;
  readonly port: number;
  /** Destroys the open connections and closes the listener. */
  close(): Promise<void>;
}

function listen(server: Server, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, host, () => {
      const address = server.address();
      if (address === null || typeof address === "string") reject(new Error("the listener has no TCP port"));
      else resolve(address.port);
    });
  });
}

/**
 * Listens on a port of `host` the system picks; `answer` runs for each connection (write what the
 * peer should see, end it, or do nothing). Socket errors are ignored: a stub's peer may reset.
 */
export async function startTcpStub(answer: (socket: Socket) => void, host = "127.0.0.1"): Promise<TcpStub> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => undefined);
    answer(socket);
  });
  const port = await listen(server, host);
  return {
    endpoint: `tcp://${host}:${port}`,
    port,
    close() {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** The status line and headers an HTTP/1.1 server sends for a request it cannot read. */
export const HTTP_BAD_REQUEST = "HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n";

/** An answer for {@link startTcpStub}: an HTTP server as far as the first bytes go (400 to what it got, then close). */
export function answerLikeHttp(socket: Socket): void {
  socket.once("data", () => socket.end(HTTP_BAD_REQUEST));
}

/** Anything with `watchConnections` (a zrpc transport); optional as on `Transport`. */
export interface ConnectionWatchable<E> {
  watchConnections?(listener: (event: E) => void): () => void;
}

/**
 * The connection events of a transport, as {@link watchConnectionEvents} records them. Its
 * functions need no `this`: destructure them.
 */
export interface ConnectionEventWatch<E> {
  /** Every event so far, in order. */
  readonly events: readonly E[];
  /**
   * The first event that passes `test`, among those seen (tested when `next` is called) or else
   * the ones to come.
   */
  readonly next: (test: (event: E) => boolean) => Promise<E>;
  /** Stops recording. */
  readonly unwatch: () => void;
}

/** Records the connection events of `transport`. Throws if it does not report them. */
export function watchConnectionEvents<E>(transport: ConnectionWatchable<E>): ConnectionEventWatch<E> {
  if (transport.watchConnections === undefined) throw new Error("the transport does not report connection events (no watchConnections)");
  const events: E[] = [];
  const waiters: { test: (event: E) => boolean; resolve: (event: E) => void }[] = [];
  const unwatch = transport.watchConnections((event) => {
    events.push(event);
    for (const waiter of [...waiters]) {
      if (waiter.test(event)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(event);
      }
    }
  });
  return {
    events,
    next: (test) => {
      const seen = events.find(test);
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve) => waiters.push({ test, resolve }));
    },
    unwatch,
  };
}
