// The listener side of Transport.watchConnections, shared by the transports: the latest event of
// every connect endpoint (replayed to a new listener) and the listeners themselves.
import type { ConnectionEvent } from "./transport.js";

/**
 * For transport authors: keeps the latest {@link ConnectionEvent} of each connect endpoint and
 * the listeners of `watchConnections`. `watch(listener)` is the whole of
 * `Transport.watchConnections`; the transport calls `emit(event)` as its endpoints change state
 * and `forget(endpoint)` when it stops connecting to one.
 */
export class ConnectionWatchers {
  readonly #latest = new Map<string, ConnectionEvent>();
  readonly #listeners = new Set<(event: ConnectionEvent) => void>();

  /** Adds a listener, gives it the latest event of every endpoint, and returns its remover. */
  watch(listener: (event: ConnectionEvent) => void): () => void {
    if (typeof listener !== "function") throw new TypeError("watchConnections needs a listener function");
    // A wrapper of its own, so that the same function registered twice is removed once per call.
    const entry = (event: ConnectionEvent): void => listener(event);
    this.#listeners.add(entry);
    for (const event of [...this.#latest.values()]) {
      if (!this.#listeners.has(entry)) break;
      call(entry, event);
    }
    return () => {
      this.#listeners.delete(entry);
    };
  }

  /** Records `event` as its endpoint's latest and hands it to every listener. */
  emit(event: ConnectionEvent): void {
    this.#latest.set(event.endpoint, event);
    if (this.#listeners.size === 0) return;
    for (const listener of [...this.#listeners]) call(listener, event);
  }

  /** The latest event of `endpoint`, if any. */
  latest(endpoint: string): ConnectionEvent | undefined {
    return this.#latest.get(endpoint);
  }

  /** The transport no longer connects to `endpoint`: drops its state (listeners are not told). */
  forget(endpoint: string): void {
    this.#latest.delete(endpoint);
  }

  /** Drops every listener and state (the transport closed). */
  clear(): void {
    this.#listeners.clear();
    this.#latest.clear();
  }
}

function call(listener: (event: ConnectionEvent) => void, event: ConnectionEvent): void {
  try {
    listener(event);
  } catch {
    // A throwing listener must not break the transport.
  }
}
