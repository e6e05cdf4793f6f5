import { decodeEvent, encodeEvent, messageIdKey, newMessageId } from "@zrpc/wire";
import type { Event, MessageId } from "@zrpc/wire";
import type { Peer, Transport, TransportMessage } from "@zrpc/channel";

// The golden transcripts are vendored in @zrpc/test-support.
import { flushMicrotasks } from "@zrpc/test-support";
export { loadVector } from "@zrpc/test-support";
export type { Vector, VectorEvent, VectorMessage } from "@zrpc/test-support";

/** Reads everything a raw transport receives, decoded, into an array (and notifies waiters). */
export class Recorder {
  readonly events: Event[] = [];
  /** When each event arrived, by Date.now() (fake-timer friendly). */
  readonly times: number[] = [];
  /** The peer of the last message (to answer a client from a raw server). */
  peer: Peer | undefined;
  private waiters: { count: number; resolve: () => void }[] = [];
  constructor(transport: Transport) {
    void (async () => {
      for await (const message of transport as AsyncIterable<TransportMessage>) {
        this.events.push(decodeEvent(message.payload));
        this.times.push(Date.now());
        this.peer = message.peer;
        this.waiters = this.waiters.filter((w) => {
          if (this.events.length >= w.count) {
            w.resolve();
            return false;
          }
          return true;
        });
      }
    })();
  }
  /** Resolves once at least `count` events have arrived. */
  until(count: number): Promise<void> {
    if (this.events.length >= count) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ count, resolve }));
  }
  names(): string[] {
    return this.events.map((e) => e.name);
  }
}

/** Send a raw event on a transport (as a hand-written peer would). */
export function sendRaw(
  transport: Transport,
  name: string,
  args: unknown,
  responseTo?: MessageId,
  id: MessageId = newMessageId(),
  peer?: Peer,
): MessageId {
  const header: Record<string, unknown> = { message_id: id, v: 3 };
  if (responseTo !== undefined) header.response_to = responseTo;
  transport.send(peer, encodeEvent({ header, name, args }));
  return id;
}

/** Symbolic ids (#1, #2, ...) in order of first appearance, like the vectors' `event` view. */
export function symbolise(events: Event[]): { name: string; message_id: string; response_to?: string; args: unknown }[] {
  const symbols = new Map<string, string>();
  const sym = (id: MessageId | undefined): string | undefined => {
    if (id === undefined) return undefined;
    const key = messageIdKey(id);
    let s = symbols.get(key);
    if (s === undefined) {
      s = `#${symbols.size + 1}`;
      symbols.set(key, s);
    }
    return s;
  };
  return events.map((e) => {
    const message_id = sym(e.header.message_id)!;
    const response_to = sym(e.header.response_to);
    return response_to === undefined ? { name: e.name, message_id, args: e.args } : { name: e.name, message_id, response_to, args: e.args };
  });
}

/** Let queued microtasks (in-memory deliveries) run. */
export function flush(rounds = 20): Promise<void> {
  return flushMicrotasks(rounds);
}

/** Drain microtasks until `condition()` holds (bounded: fails loudly instead of hanging). */
export async function until(condition: () => boolean, rounds = 100_000): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    if (condition()) return;
    await Promise.resolve();
  }
  throw new Error("condition not reached");
}
