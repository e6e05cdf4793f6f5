// One clock timer for every heartbeat that falls due in the same millisecond. A busy multiplexer
// opens many channels per millisecond (60,000 calls/s is 60 per ms), and each would otherwise
// arm and cancel a timer of its own on both sides of every call.
import type { Clock } from "./clock.js";

/** What a shared timer calls when its time comes. */
export interface HeartbeatTarget {
  heartbeatDue(): void;
}

/** The targets due at one instant, and the clock timer that will call them. */
export interface HeartbeatBucket {
  readonly due: number;
  readonly targets: Set<HeartbeatTarget>;
  handle: unknown;
}

/**
 * Timers grouped by due time: `schedule()` joins the bucket of `now + delay` (creating it and its
 * one clock timer when it is the first), `cancel()` leaves it (clearing the clock timer when it
 * was the last). Exact: a target is called at the same instant as with a timer of its own.
 */
export class HeartbeatTimers {
  private readonly clock: Clock;
  private readonly buckets = new Map<number, HeartbeatBucket>();

  constructor(clock: Clock) {
    this.clock = clock;
  }

  /** Buckets (clock timers) pending: for tests and diagnostics. */
  get pending(): number {
    return this.buckets.size;
  }

  /** Calls `target.heartbeatDue()` in `delayMs`; returns the bucket to cancel it with. */
  schedule(target: HeartbeatTarget, delayMs: number): HeartbeatBucket {
    const due = this.clock.now() + delayMs;
    let bucket = this.buckets.get(due);
    if (bucket === undefined) {
      const fresh: HeartbeatBucket = { due, targets: new Set(), handle: undefined };
      fresh.handle = this.clock.setTimeout(() => this.fire(fresh), delayMs);
      this.buckets.set(due, fresh);
      bucket = fresh;
    }
    bucket.targets.add(target);
    return bucket;
  }

  /** Cancels what {@link schedule} arranged (a no-op when it fired or was cancelled already). */
  cancel(target: HeartbeatTarget, bucket: HeartbeatBucket): void {
    if (!bucket.targets.delete(target) || bucket.targets.size > 0) return;
    if (this.buckets.get(bucket.due) === bucket) {
      this.buckets.delete(bucket.due);
      this.clock.clearTimeout(bucket.handle);
    }
  }

  private fire(bucket: HeartbeatBucket): void {
    if (this.buckets.get(bucket.due) === bucket) this.buckets.delete(bucket.due);
    const targets = bucket.targets;
    for (const target of targets) {
      targets.delete(target);
      target.heartbeatDue();
    }
  }
}
