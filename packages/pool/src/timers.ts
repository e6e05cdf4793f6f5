// Timers on the pool's clock (the channel's Clock). Maintenance timers (idle sweep, probes, DNS)
// never keep a process alive; a caller's acquire timeout and the close grace do.
import { systemClock } from "@zrpc/channel";
import type { Clock } from "@zrpc/channel";

/** @internal */
export function noop(): void {}

/**
 * Runs `fn` after `ms` on `clock`. Maintenance timers are unref'ed (`systemClock` does it itself;
 * on another clock, when its handle can be). `systemClock` unrefs every timer, so a `keepAlive`
 * one is set on the same globals directly (read at call time, so fake timers apply; and
 * `systemClock.clearTimeout` clears it): cheaper than an unref followed by a ref.
 * @internal
 */
export function startTimer(clock: Clock, fn: () => void, ms: number, keepAlive: boolean): unknown {
  if (clock === systemClock) return keepAlive ? globalThis.setTimeout(fn, ms) : systemClock.setTimeout(fn, ms);
  const handle = clock.setTimeout(fn, ms);
  if (!keepAlive) (handle as { unref?: () => void } | undefined)?.unref?.();
  return handle;
}

/** @internal */
export function clearTimer(clock: Clock, handle: unknown): void {
  if (handle !== undefined) clock.clearTimeout(handle);
}
