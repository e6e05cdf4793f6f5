// The balancing choice: which healthy endpoint serves the next caller, and the fair share that
// lets an endpoint below it take over an idle connection of one above it once `max` are open.
import type { Endpoint } from "./endpoint.js";
import type { BalancePolicy } from "./options.js";

/** @internal */
export class Balancer {
  readonly #endpoints: ReadonlyMap<string, Endpoint>;
  readonly #max: number;
  readonly #policy: BalancePolicy;
  #cursor = 0;

  constructor(endpoints: ReadonlyMap<string, Endpoint>, max: number, policy: BalancePolicy) {
    this.#endpoints = endpoints;
    this.#max = max;
    this.#policy = policy;
  }

  /** Connections per healthy endpoint that `max` allows (at least 1): the target of rebalancing. */
  fairShare(): number {
    let healthy = 0;
    for (const endpoint of this.#endpoints.values()) if (endpoint.state === "healthy") healthy += 1;
    return Math.max(1, Math.floor(this.#max / Math.max(1, healthy)));
  }

  /** The endpoint above its fair share with the most connections and an idle one to give up. */
  donor(fair: number): Endpoint | undefined {
    let donor: Endpoint | undefined;
    for (const endpoint of this.#endpoints.values()) {
      if (endpoint.idle.length > 0 && endpoint.size > fair && (donor === undefined || endpoint.size > donor.size)) donor = endpoint;
    }
    return donor;
  }

  /**
   * The endpoint for the next caller, by the balancing policy, among the healthy endpoints that
   * can serve now: those with an idle connection, any while fewer than `max` are open (`size`),
   * and, once `max` are open, those below their fair share when some endpoint is above it.
   */
  pick(size: number): Endpoint | undefined {
    const full = size >= this.#max;
    const fair = full ? this.fairShare() : 0;
    const canTakeOver = full && this.donor(fair) !== undefined;
    const candidates: Endpoint[] = [];
    for (const endpoint of this.#endpoints.values()) {
      if (endpoint.state !== "healthy") continue;
      if (!full || endpoint.idle.length > 0 || (canTakeOver && endpoint.size < fair)) candidates.push(endpoint);
    }
    const count = candidates.length;
    if (count <= 1) return candidates[0];
    const start = this.#cursor % count;
    this.#cursor = (this.#cursor + 1) % 1_000_000_007;
    if (this.#policy === "round-robin") return candidates[start];
    // Least in flight; ties go to the first at or after the rotating start, so equal endpoints take turns.
    let best = candidates[start]!;
    for (let i = 1; i < count; i++) {
      const candidate = candidates[(start + i) % count]!;
      if (candidate.inFlight < best.inFlight) best = candidate;
    }
    return best;
  }
}
