import { Buffer } from "node:buffer";
import { Resources, reader as readIterable } from "@zrpc/test-support";
import type { Reader as GenericReader } from "@zrpc/test-support";
import { afterEach } from "vitest";
import type { CurveAuthFailure, TransportMessage, ZmtpMonitorEvent, ZmtpTransport } from "../src/index.js";

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
export function reader(transport: ZmtpTransport): Reader {
  return readIterable<TransportMessage>(transport);
}

/** Bytes of a UTF-8 string. */
export function bytes(value: string): Buffer {
  return Buffer.from(value, "utf8");
}

/** UTF-8 text of bytes. */
export function text(data: Uint8Array): string {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString("utf8");
}

/**
 * A monitor that records events and lets a test wait for the next one matching a predicate
 * (events already seen count too, so a test cannot miss one that came early).
 */
export interface Monitor {
  readonly events: ZmtpMonitorEvent[];
  readonly listener: (event: ZmtpMonitorEvent) => void;
  /** Resolves with the first event (from `from` on) matching `predicate`. */
  waitFor(predicate: (event: ZmtpMonitorEvent) => boolean, from?: number): Promise<ZmtpMonitorEvent>;
  /** Resolves once `count` events match `predicate` in total. */
  waitForCount(predicate: (event: ZmtpMonitorEvent) => boolean, count: number): Promise<void>;
}

/** Creates a {@link Monitor}; pass `monitor.listener` as the transport's `monitor` option. */
export function monitor(): Monitor {
  const events: ZmtpMonitorEvent[] = [];
  const waiting: { check: () => boolean }[] = [];
  const listener = (event: ZmtpMonitorEvent): void => {
    events.push(event);
    for (let i = waiting.length - 1; i >= 0; i--) if ((waiting[i] as { check: () => boolean }).check()) waiting.splice(i, 1);
  };
  const waitFor = (predicate: (event: ZmtpMonitorEvent) => boolean, from = 0): Promise<ZmtpMonitorEvent> =>
    new Promise((resolve) => {
      const check = (): boolean => {
        const found = events.slice(from).find(predicate);
        if (found === undefined) return false;
        resolve(found);
        return true;
      };
      if (!check()) waiting.push({ check });
    });
  const waitForCount = (predicate: (event: ZmtpMonitorEvent) => boolean, count: number): Promise<void> =>
    new Promise((resolve) => {
      const check = (): boolean => {
        if (events.filter(predicate).length < count) return false;
        resolve();
        return true;
      };
      if (!check()) waiting.push({ check });
    });
  return { events, listener, waitFor, waitForCount };
}

/** True for a completed handshake event. */
export const isHandshake = (event: ZmtpMonitorEvent): boolean => event.type === "handshake";

export { hexOf, pattern, prng } from "./codec-helpers.js";

/** Collects auth failures (pass `push` as `onAuthFailure`); `first()` resolves with the first one, past or future. */
export function authFailures(): { list: CurveAuthFailure[]; push: (failure: CurveAuthFailure) => void; first: () => Promise<CurveAuthFailure> } {
  const list: CurveAuthFailure[] = [];
  const waiting: ((failure: CurveAuthFailure) => void)[] = [];
  return {
    list,
    push: (failure) => {
      list.push(failure);
      for (const resolve of waiting.splice(0)) resolve(failure);
    },
    first: () => (list[0] !== undefined ? Promise.resolve(list[0]) : new Promise((resolve) => waiting.push(resolve))),
  };
}
