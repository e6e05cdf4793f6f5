// The endpoint set of a pool: the configured sources (fixed addresses, or host names expanded to
// all their addresses and re-resolved), the endpoints they name, and each endpoint's health: soft
// failures, ejection with exponential backoff, and the probes that bring an ejected one back.
// The connections themselves belong to the lease coordinator, reached through EndpointSetHost.
import type { Clock } from "@zrpc/channel";
import { ConnectError } from "@zrpc/client";
import type { Client } from "@zrpc/client";
import { Endpoint } from "./endpoint.js";
import { addressEndpoint, namedEndpoint } from "./endpoints.js";
import type { NamedEndpoint } from "./endpoints.js";
import { PoolTimeoutError } from "./errors.js";
import type { EvictReason, Lookup, PoolEvent, ResolvedPoolOptions } from "./options.js";
import { clearTimer, noop, startTimer } from "./timers.js";
import type { Verdict } from "./verdict.js";

/** The ping zerorpc servers (Python ones too) answer `["pong", name]` to (docs/protocol section 10). */
const PING = "_zerorpc_ping";

/** @internal What the endpoint set needs from the owner of the connections. */
export interface EndpointSetHost {
  readonly options: ResolvedPoolOptions;
  readonly clock: Clock;
  readonly lookup: Lookup;
  readonly isClosed: boolean;
  emit(event: PoolEvent): void;
  /** Opens a client on `address` (a factory that throws becomes a rejection). */
  connect(address: string): Promise<Client>;
  closeClient(client: Client): void;
  /** Tracks a background task, awaited by close(). */
  track(task: Promise<unknown>): void;
  /** Closes the idle connections of an endpoint taken out of rotation. */
  closeIdle(endpoint: Endpoint, reason: EvictReason): void;
  /** An ejected endpoint answered a probe on `client`: keep the connection if there is room, and serve waiters. */
  recovered(endpoint: Endpoint, client: Client): void;
  /** Endpoints joined the rotation: serve waiters. */
  changed(): void;
}

/** A configured endpoint: a fixed address, or a host name resolved to addresses. */
interface Source {
  readonly text: string;
  readonly named: NamedEndpoint | undefined;
  addresses: readonly string[];
  failures: number;
  timer: unknown;
  lastError: unknown;
}

/** @internal */
export class EndpointSet {
  /** Every endpoint by address: healthy, ejected, or removed and still draining. */
  readonly byAddress = new Map<string, Endpoint>();
  /** The last connect, probe or health-check error: the cause of a PoolTimeoutError when no endpoint is healthy. */
  lastError: unknown;

  readonly #host: EndpointSetHost;
  readonly #options: ResolvedPoolOptions;
  readonly #sources: Source[] = [];

  constructor(host: EndpointSetHost) {
    this.#host = host;
    this.#options = host.options;
    for (const text of new Set(this.#options.endpoints)) {
      const source: Source = { text, named: namedEndpoint(text), addresses: [], failures: 0, timer: undefined, lastError: undefined };
      this.#sources.push(source);
      if (source.named === undefined) this.#applyAddresses(source, [text]);
    }
  }

  /** Starts resolving the host names. */
  start(): void {
    for (const source of this.#sources) if (source.named !== undefined) this.#startResolve(source);
  }

  /** Stops every timer and probe (the host closes the connections). */
  close(): void {
    for (const source of this.#sources) {
      clearTimer(this.#host.clock, source.timer);
      source.timer = undefined;
    }
    for (const endpoint of this.byAddress.values()) {
      clearTimer(this.#host.clock, endpoint.probeTimer);
      endpoint.probeTimer = undefined;
      if (endpoint.probeClient !== undefined) this.#host.closeClient(endpoint.probeClient);
    }
  }

  /** The health-check ping on a pooled client. */
  ping(client: Client): Promise<unknown> {
    return client.call(PING, [], { timeoutMs: this.#options.healthCheckTimeoutMs });
  }

  /** Why no connection can be had when no endpoint is healthy; `undefined` when one is. */
  unavailable(timeoutMs: number): PoolTimeoutError | undefined {
    let live = 0;
    let ejected = 0;
    for (const endpoint of this.byAddress.values()) {
      if (endpoint.state === "healthy") live += 1;
      else if (endpoint.state === "ejected") ejected += 1;
    }
    if (live > 0) return undefined;
    if (ejected === 0) {
      const failed = this.#sources.find((source) => source.lastError !== undefined);
      return new PoolTimeoutError(
        timeoutMs,
        failed === undefined ? "no endpoint resolved yet" : `no endpoint: resolving ${failed.text} failed`,
        failed === undefined ? undefined : { cause: failed.lastError },
      );
    }
    return new PoolTimeoutError(
      timeoutMs,
      `no healthy endpoint (${ejected} ejected)`,
      this.lastError === undefined ? undefined : { cause: this.lastError },
    );
  }

  /**
   * The last `ConnectError` when no endpoint is healthy and every ejected one was ejected (or
   * failed its last probe) for a `ConnectError`: callers should hear of it rather than wait.
   */
  connectFailure(): ConnectError | undefined {
    let failure: ConnectError | undefined;
    for (const endpoint of this.byAddress.values()) {
      if (endpoint.state === "healthy") return undefined;
      if (endpoint.state !== "ejected") continue;
      if (!ConnectError.isInstance(endpoint.lastError)) return undefined;
      failure = endpoint.lastError;
    }
    return failure;
  }

  /** Counts a call's outcome against its endpoint: soft failures in a row, or a hard one, eject it. */
  record(endpoint: Endpoint, verdict: Verdict, error: unknown): void {
    switch (verdict.health) {
      case "success":
        endpoint.softFailures = 0;
        return;
      case "soft": {
        endpoint.softFailures += 1;
        const ejection = this.#options.ejection;
        if (ejection !== false && endpoint.softFailures >= ejection.consecutiveFailures) this.eject(endpoint, error);
        return;
      }
      case "hard":
        this.lastError = error;
        this.eject(endpoint, error);
        return;
      case "neutral":
        return;
    }
  }

  /** Takes a healthy endpoint out of rotation until a probe succeeds, and closes its idle connections. */
  eject(endpoint: Endpoint, error: unknown): void {
    const ejection = this.#options.ejection;
    if (ejection === false || endpoint.state !== "healthy" || this.#host.isClosed) return;
    const now = this.#host.clock.now();
    // An endpoint that stayed healthy for a full backoff cap starts over from baseMs.
    if (endpoint.recoveredAt !== undefined && now - endpoint.recoveredAt >= ejection.maxMs) endpoint.level = 0;
    if (error !== undefined) this.lastError = error;
    endpoint.lastError = error;
    endpoint.level += 1;
    endpoint.ejections += 1;
    endpoint.state = "ejected";
    endpoint.softFailures = 0;
    const backoffMs = this.#scheduleProbe(endpoint);
    this.#host.emit({ type: "eject", endpoint: endpoint.address, backoffMs, ...(error !== undefined && { error }) });
    this.#host.closeIdle(endpoint, "endpoint-ejected");
  }

  /** Forgets a removed endpoint once its last connection is gone. */
  forgetIfDrained(endpoint: Endpoint): void {
    if (endpoint.state === "removed" && endpoint.size === 0 && this.byAddress.get(endpoint.address) === endpoint) {
      this.byAddress.delete(endpoint.address);
    }
  }

  // ------------------------------------------------------------------ ejection and probes

  #scheduleProbe(endpoint: Endpoint): number {
    const ejection = this.#options.ejection as Exclude<ResolvedPoolOptions["ejection"], false>;
    const backoffMs = Math.min(ejection.baseMs * 2 ** Math.min(endpoint.level - 1, 30), ejection.maxMs);
    endpoint.backoffMs = backoffMs;
    endpoint.ejectedUntil = this.#host.clock.now() + backoffMs;
    endpoint.probeTimer = startTimer(this.#host.clock, () => this.#host.track(this.#probe(endpoint)), backoffMs, false);
    return backoffMs;
  }

  /** Pings an ejected endpoint on a fresh connection: back in rotation on success, a longer backoff otherwise. */
  async #probe(endpoint: Endpoint): Promise<void> {
    const host = this.#host;
    endpoint.probeTimer = undefined;
    if (host.isClosed || endpoint.state !== "ejected") return;
    let client: Client | undefined;
    let failure: unknown;
    let ok = false;
    try {
      client = await host.connect(endpoint.address);
      endpoint.probeClient = client;
      if (!host.isClosed) {
        await this.ping(client);
        ok = true;
      }
    } catch (error) {
      failure = error;
    }
    endpoint.probeClient = undefined;
    if (host.isClosed || endpoint.state !== "ejected") {
      if (client !== undefined) host.closeClient(client);
      return;
    }
    if (!ok || client === undefined) {
      if (client !== undefined) host.closeClient(client);
      this.lastError = failure;
      endpoint.lastError = failure;
      endpoint.level += 1;
      const backoffMs = this.#scheduleProbe(endpoint);
      host.emit({ type: "probe-failed", endpoint: endpoint.address, backoffMs, ...(failure !== undefined && { error: failure }) });
      return;
    }
    endpoint.state = "healthy";
    endpoint.recoveredAt = host.clock.now();
    endpoint.ejectedUntil = undefined;
    endpoint.softFailures = 0;
    host.emit({ type: "recover", endpoint: endpoint.address });
    host.recovered(endpoint, client);
  }

  // ------------------------------------------------------------------ DNS

  #startResolve(source: Source): void {
    source.timer = undefined;
    if (this.#host.isClosed) return;
    // Not a tracked task: close() must not wait for a slow resolver, and a lookup holds nothing to release.
    void this.#resolve(source).catch(noop);
  }

  async #resolve(source: Source): Promise<void> {
    const named = source.named!;
    let addresses: readonly string[] = [];
    let failure: unknown;
    try {
      const found = await this.#host.lookup(named.host);
      addresses = [...new Set(found.map((address) => addressEndpoint(address, named.port)))];
      if (addresses.length === 0) failure = new Error(`${named.host} has no address`);
    } catch (error) {
      failure = error;
    }
    if (this.#host.isClosed) return;
    if (failure !== undefined) {
      // Keep the endpoints we had: a DNS hiccup must not empty the pool. Retry sooner than the interval.
      source.failures += 1;
      source.lastError = failure;
      this.#host.emit({ type: "resolve-error", source: source.text, error: failure });
      const base = this.#options.ejection === false ? 1000 : this.#options.ejection.baseMs;
      const retryMs = Math.min(base * 2 ** Math.min(source.failures - 1, 30), this.#options.resolveIntervalMs);
      source.timer = startTimer(this.#host.clock, () => this.#startResolve(source), retryMs, false);
      return;
    }
    source.failures = 0;
    source.lastError = undefined;
    this.#applyAddresses(source, addresses);
    this.#host.emit({ type: "resolve", source: source.text, endpoints: addresses });
    source.timer = startTimer(this.#host.clock, () => this.#startResolve(source), this.#options.resolveIntervalMs, false);
    this.#host.changed();
  }

  /** Makes `addresses` the endpoints of `source`: new ones join the rotation, vanished ones drain. */
  #applyAddresses(source: Source, addresses: readonly string[]): void {
    const next = new Set(addresses);
    for (const address of source.addresses) {
      if (next.has(address)) continue;
      const endpoint = this.byAddress.get(address);
      if (endpoint === undefined) continue;
      endpoint.sources.delete(source.text);
      if (endpoint.sources.size === 0) this.#removeEndpoint(endpoint);
    }
    for (const address of next) {
      let endpoint = this.byAddress.get(address);
      if (endpoint === undefined) {
        endpoint = new Endpoint(address);
        this.byAddress.set(address, endpoint);
      } else if (endpoint.state === "removed") {
        endpoint.state = "healthy";
      }
      endpoint.sources.add(source.text);
    }
    source.addresses = [...next];
  }

  #removeEndpoint(endpoint: Endpoint): void {
    endpoint.state = "removed";
    clearTimer(this.#host.clock, endpoint.probeTimer);
    endpoint.probeTimer = undefined;
    endpoint.ejectedUntil = undefined;
    this.#host.closeIdle(endpoint, "endpoint-removed");
    this.forgetIfDrained(endpoint);
  }
}
