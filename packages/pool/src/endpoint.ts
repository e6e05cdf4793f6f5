// The two records the pool keeps: an endpoint (one server address, its health and its idle stack)
// and a connection (one client connected to one endpoint).
import type { Client } from "@zrpc/client";

/** Health of an endpoint: in rotation, ejected until a probe succeeds, or gone from DNS (draining). */
export type EndpointState = "healthy" | "ejected" | "removed";

/** @internal One server address, with its connections' counts and its health. */
export class Endpoint {
  readonly address: string;
  readonly sources = new Set<string>();
  state: EndpointState = "healthy";
  /** Idle connections, oldest first; reuse pops the newest (LIFO). */
  readonly idle: Connection[] = [];
  /** Connections handed out or being health-checked. */
  busy = 0;
  /** Connections being opened. */
  pending = 0;
  softFailures = 0;
  /** Ejections in a row: the backoff exponent. */
  level = 0;
  ejections = 0;
  backoffMs = 0;
  ejectedUntil: number | undefined;
  recoveredAt: number | undefined;
  probeTimer: unknown;
  probeClient: Client | undefined;
  /** Why it was last ejected or its last probe failed. */
  lastError: unknown;

  constructor(address: string) {
    this.address = address;
  }

  get inFlight(): number {
    return this.busy + this.pending;
  }

  get size(): number {
    return this.idle.length + this.busy + this.pending;
  }
}

/** @internal One pooled client and the endpoint it is connected to. */
export class Connection {
  readonly client: Client;
  readonly endpoint: Endpoint;
  state: "idle" | "checking" | "busy" | "closed" = "busy";
  idleSince = 0;

  constructor(client: Client, endpoint: Endpoint) {
    this.client = client;
    this.endpoint = endpoint;
  }
}
