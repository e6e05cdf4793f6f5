/**
 * The time source of the channel layer. Heartbeats and the client's timeouts only ever use this
 * interface, so tests can drive them with fake timers (vitest's `vi.useFakeTimers()` patches the
 * globals that {@link systemClock} calls, so the default works with fake timers too).
 */
export interface Clock {
  /** Milliseconds, monotonic enough for heartbeat arithmetic. */
  now(): number;
  /** Run `fn` once after `ms`. The returned handle goes to {@link Clock.clearTimeout}. */
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/**
 * The real clock. Its timers are `unref`ed: a heartbeat alone never keeps a process alive (the
 * socket, or a pending call's timeout, decides that).
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    const handle = globalThis.setTimeout(fn, ms);
    // Fake timers return plain objects or numbers without unref.
    (handle as { unref?: () => void }).unref?.();
    return handle;
  },
  clearTimeout(handle) {
    globalThis.clearTimeout(handle as ReturnType<typeof globalThis.setTimeout>);
  },
};
