// TransportInbox: the receiving side of a transport (queue, one reader, listener mode, end, backlog signals).
import { describe, expect, it } from "vitest";
import { TransportInbox } from "@zrpc/channel";
import type { Peer, TransportInboxOptions } from "@zrpc/channel";

const PEER: Peer = Object.freeze({ key: "", envelope: Object.freeze([]) });

function bytes(n: number): Uint8Array {
  return new Uint8Array([n]);
}

/** An inbox whose pause/resume signals are recorded in order. */
function signalled(options: TransportInboxOptions = {}): { inbox: TransportInbox; signals: string[] } {
  const signals: string[] = [];
  const inbox = new TransportInbox({
    ...options,
    onPause: (queued) => signals.push(`pause ${queued}`),
    onResume: (queued) => signals.push(`resume ${queued}`),
  });
  return { inbox, signals };
}

describe("TransportInbox: iteration", () => {
  it("queues pushed messages and yields them in order; a pending read gets the next push", async () => {
    const inbox = new TransportInbox();
    inbox.push(PEER, bytes(1));
    inbox.push(PEER, bytes(2));
    expect(inbox.length).toBe(2);
    const reader = inbox[Symbol.asyncIterator]();
    expect(await reader.next()).toEqual({ done: false, value: { peer: PEER, payload: bytes(1) } });
    expect(await reader.next()).toEqual({ done: false, value: { peer: PEER, payload: bytes(2) } });
    expect(inbox.length).toBe(0);
    const pending = reader.next();
    inbox.push(PEER, bytes(3));
    expect(await pending).toEqual({ done: false, value: { peer: PEER, payload: bytes(3) } });
    expect(inbox.length).toBe(0);
  });

  it("works with for await, which ends when the inbox ends", async () => {
    const inbox = new TransportInbox();
    for (let i = 0; i < 3; i++) inbox.push(PEER, bytes(i));
    const seen: number[] = [];
    for await (const message of inbox) {
      seen.push(message.payload[0] as number);
      if (seen.length === 3) inbox.end();
    }
    expect(seen).toEqual([0, 1, 2]);
  });

  it("refuses a second reader with the default error, or the adapter's", () => {
    const inbox = new TransportInbox();
    inbox[Symbol.asyncIterator]();
    expect(() => inbox[Symbol.asyncIterator]()).toThrow("a transport has exactly one reader");
    expect(() => inbox.onMessage(() => undefined)).toThrow("a transport has exactly one reader");

    const attempts: string[] = [];
    const custom = new TransportInbox({
      secondReaderError: (attempt) => {
        attempts.push(attempt);
        return new RangeError(`second ${attempt}`);
      },
    });
    custom.onMessage(() => undefined);
    expect(() => custom[Symbol.asyncIterator]()).toThrow(new RangeError("second iterator"));
    expect(() => custom.onMessage(() => undefined)).toThrow(new RangeError("second listener"));
    expect(attempts).toEqual(["iterator", "listener"]);
  });

  it("end() finishes pending and later reads and drops what was queued", async () => {
    const inbox = new TransportInbox();
    const reader = inbox[Symbol.asyncIterator]();
    const first = reader.next();
    const second = reader.next();
    inbox.end();
    expect(await first).toEqual({ done: true, value: undefined });
    expect(await second).toEqual({ done: true, value: undefined });
    expect(inbox.ended).toBe(true);

    const queued = new TransportInbox();
    queued.push(PEER, bytes(1));
    const queuedReader = queued[Symbol.asyncIterator]();
    queued.end();
    expect(queued.length).toBe(0);
    expect(await queuedReader.next()).toEqual({ done: true, value: undefined });
    queued.push(PEER, bytes(2));
    expect(queued.length).toBe(0);
    expect(await queuedReader.next()).toEqual({ done: true, value: undefined });
  });

  it("end(error) rejects the first pending read with it; the others are done", async () => {
    const inbox = new TransportInbox();
    const reader = inbox[Symbol.asyncIterator]();
    const first = reader.next();
    const second = reader.next();
    const failure = new Error("handshake refused");
    inbox.end(failure);
    await expect(first).rejects.toBe(failure);
    expect(await second).toEqual({ done: true, value: undefined });
    expect(await reader.next()).toEqual({ done: true, value: undefined });
  });

  it("end(error) with no read pending throws it to the next read, once", async () => {
    const inbox = new TransportInbox();
    const failure = new Error("closed by the peer");
    inbox.end(failure);
    const reader = inbox[Symbol.asyncIterator]();
    await expect(reader.next()).rejects.toBe(failure);
    expect(await reader.next()).toEqual({ done: true, value: undefined });

    const looped = new TransportInbox();
    looped.push(PEER, bytes(1));
    looped.end(failure);
    const seen: Uint8Array[] = [];
    await expect(
      (async () => {
        for await (const message of looped) seen.push(message.payload);
      })(),
    ).rejects.toBe(failure);
    expect(seen).toEqual([]);
  });

  it("return() from the reader ends the inbox and pauses reading for good", async () => {
    const { inbox, signals } = signalled({ highWaterMark: 4 });
    inbox.push(PEER, bytes(1));
    const reader = inbox[Symbol.asyncIterator]();
    const pending = reader.next();
    expect(await pending).toEqual({ done: false, value: { peer: PEER, payload: bytes(1) } });
    const waiting = reader.next();
    expect(await reader.return?.()).toEqual({ done: true, value: undefined });
    expect(await waiting).toEqual({ done: true, value: undefined });
    expect(inbox.ended).toBe(true);
    expect(inbox.paused).toBe(true);
    expect(signals).toEqual(["pause 0"]);
    inbox.push(PEER, bytes(2));
    expect(await reader.next()).toEqual({ done: true, value: undefined });
    expect(signals).toEqual(["pause 0"]);
  });
});

describe("TransportInbox: listener", () => {
  it("takes the queued messages at once, then each push synchronously", () => {
    const inbox = new TransportInbox();
    inbox.push(PEER, bytes(1));
    inbox.push(PEER, bytes(2));
    const seen: number[] = [];
    inbox.onMessage((peer, payload) => {
      expect(peer).toBe(PEER);
      seen.push(payload[0] as number);
    });
    expect(seen).toEqual([1, 2]);
    expect(inbox.length).toBe(0);
    inbox.push(PEER, bytes(3));
    expect(seen).toEqual([1, 2, 3]);
    expect(inbox.length).toBe(0);
  });

  it("reports what a listener throws and goes on; ignores it without a handler", () => {
    const reported: Error[] = [];
    const inbox = new TransportInbox({ onListenerError: (error) => reported.push(error) });
    const seen: number[] = [];
    inbox.onMessage((_peer, payload) => {
      seen.push(payload[0] as number);
      if (payload[0] === 1) throw new Error("listener broke");
      if (payload[0] === 2) throw "not an error"; // eslint-disable-line @typescript-eslint/only-throw-error
    });
    for (let i = 1; i <= 3; i++) inbox.push(PEER, bytes(i));
    expect(seen).toEqual([1, 2, 3]);
    expect(reported.map((error) => error.message)).toEqual(["listener broke", "not an error"]);

    const quiet = new TransportInbox({
      onListenerError: () => {
        throw new Error("the handler broke too");
      },
    });
    quiet.onMessage(() => {
      throw new Error("listener broke");
    });
    expect(() => quiet.push(PEER, bytes(1))).not.toThrow();
    const silent = new TransportInbox();
    silent.onMessage(() => {
      throw new Error("listener broke");
    });
    expect(() => silent.push(PEER, bytes(1))).not.toThrow();
  });

  it("needs a function", () => {
    const inbox = new TransportInbox();
    expect(() => inbox.onMessage(undefined as unknown as () => void)).toThrow(new TypeError("onMessage needs a function"));
    // The failed call did not claim the reader.
    expect(() => inbox[Symbol.asyncIterator]()).not.toThrow();
  });

  it("keeps getting what the adapter pushes after end(): the adapter decides when to stop", () => {
    const inbox = new TransportInbox();
    const seen: number[] = [];
    inbox.onMessage((_peer, payload) => seen.push(payload[0] as number));
    inbox.end();
    inbox.push(PEER, bytes(7));
    expect(seen).toEqual([7]);
  });
});

describe("TransportInbox: backlog", () => {
  it("pauses at highWaterMark and resumes once the reader is down to half of it", async () => {
    const { inbox, signals } = signalled({ highWaterMark: 4 });
    for (let i = 0; i < 3; i++) inbox.push(PEER, bytes(i));
    expect(inbox.paused).toBe(false);
    inbox.push(PEER, bytes(3));
    expect(inbox.paused).toBe(true);
    expect(signals).toEqual(["pause 4"]);
    // Pushes while paused (what the sockets had already read) are queued, with no new signal.
    inbox.push(PEER, bytes(4));
    expect(inbox.length).toBe(5);
    expect(signals).toEqual(["pause 4"]);

    const reader = inbox[Symbol.asyncIterator]();
    await reader.next();
    await reader.next();
    expect(signals).toEqual(["pause 4"]);
    await reader.next();
    expect(inbox.paused).toBe(false);
    expect(signals).toEqual(["pause 4", "resume 2"]);
    for (let i = 5; i < 7; i++) inbox.push(PEER, bytes(i));
    expect(signals).toEqual(["pause 4", "resume 2", "pause 4"]);
    const order: number[] = [];
    for (let i = 0; i < 4; i++) order.push((await reader.next()).value?.payload[0] as number);
    expect(order).toEqual([3, 4, 5, 6]);
    expect(signals).toEqual(["pause 4", "resume 2", "pause 4", "resume 2"]);
  });

  it("never pauses without a highWaterMark, and rejects a bad one", () => {
    const { inbox, signals } = signalled();
    for (let i = 0; i < 5000; i++) inbox.push(PEER, bytes(i & 255));
    expect(inbox.paused).toBe(false);
    expect(signals).toEqual([]);
    expect(() => new TransportInbox({ highWaterMark: -1 })).toThrow(RangeError);
    expect(() => new TransportInbox({ highWaterMark: 1.5 })).toThrow(RangeError);
  });

  it("a listener taking over drains the queue and resumes reading", () => {
    const { inbox, signals } = signalled({ highWaterMark: 2 });
    inbox.push(PEER, bytes(1));
    inbox.push(PEER, bytes(2));
    expect(signals).toEqual(["pause 2"]);
    const seen: number[] = [];
    inbox.onMessage((_peer, payload) => seen.push(payload[0] as number));
    expect(seen).toEqual([1, 2]);
    expect(signals).toEqual(["pause 2", "resume 0"]);
    for (let i = 3; i < 10; i++) inbox.push(PEER, bytes(i));
    expect(inbox.paused).toBe(false);
    expect(signals).toEqual(["pause 2", "resume 0"]);
  });

  it("does not resume once ended", () => {
    const { inbox, signals } = signalled({ highWaterMark: 1 });
    inbox.push(PEER, bytes(1));
    inbox.end();
    inbox.onMessage(() => undefined);
    expect(inbox.paused).toBe(true);
    expect(signals).toEqual(["pause 1"]);
  });

  it("sees its new state from inside the signals", () => {
    const states: boolean[] = [];
    const inbox: TransportInbox = new TransportInbox({
      highWaterMark: 2,
      onPause: () => states.push(inbox.paused),
      onResume: () => states.push(inbox.paused),
    });
    inbox.push(PEER, bytes(1));
    inbox.push(PEER, bytes(2));
    inbox.onMessage(() => undefined);
    expect(states).toEqual([true, false]);
  });
});
