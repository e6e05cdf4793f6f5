// A host name with several addresses becomes several endpoints (the Kubernetes headless-service
// pattern), re-resolved every resolveIntervalMs. Servers listen on the same port on 127.0.0.1,
// 127.0.0.2 and 127.0.0.3 (all loopback on Linux); an injected lookup plays DNS.
import { afterEach, describe, expect, it } from "vitest";
import { PoolTimeoutError, createPool } from "../src/index.js";
import type { LookupAddress } from "../src/index.js";
import { EventLog, ManualClock, closeAll, startServer, trackPool } from "./helpers.js";
import type { TestServer } from "./helpers.js";

afterEach(closeAll);

/** Three servers on one port, on three loopback addresses. */
async function threeServers(): Promise<{ port: string; servers: TestServer[] }> {
  for (let attempt = 0; ; attempt++) {
    const first = await startServer("1", { bind: "tcp://127.0.0.1:*" });
    const port = first.endpoint.slice(first.endpoint.lastIndexOf(":") + 1);
    try {
      const second = await startServer("2", { bind: `tcp://127.0.0.2:${port}` });
      const third = await startServer("3", { bind: `tcp://127.0.0.3:${port}` });
      return { port, servers: [first, second, third] };
    } catch (error) {
      if (attempt >= 5) throw error; // the port was taken on another address: pick another one
    }
  }
}

/** A fake DNS: `svc.test` has the addresses in `answer`; anything else does not exist. */
function fakeDns(initial: string[]): {
  answer: string[];
  fail: boolean;
  lookups: string[];
  lookup: (host: string) => Promise<LookupAddress[]>;
} {
  const dns = {
    answer: initial,
    fail: false,
    lookups: [] as string[],
    lookup: (host: string): Promise<LookupAddress[]> => {
      dns.lookups.push(host);
      if (host !== "svc.test" || dns.fail) {
        return Promise.reject(Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: "ENOTFOUND" }));
      }
      return Promise.resolve(dns.answer.map((address) => ({ address, family: 4 })));
    },
  };
  return dns;
}

async function idsOf(calls: Promise<string>[]): Promise<Set<string>> {
  return new Set(await Promise.all(calls));
}

describe("DNS expansion", () => {
  it("connects to every address of a name, and follows the records when they change", async () => {
    const clock = new ManualClock();
    const log = new EventLog();
    const { port } = await threeServers();
    const dns = fakeDns(["127.0.0.1", "127.0.0.2"]);
    const source = `tcp://svc.test:${port}`;
    const pool = trackPool(createPool({ endpoints: source, max: 4, lookup: dns.lookup, clock, onEvent: log.onEvent, resolveIntervalMs: 30_000 }));

    // Calls made before the first answer wait for it.
    const early = pool.call<string>("whoami");
    await log.waitFor((e) => e.type === "resolve");
    expect(["1", "2"]).toContain(await early);
    expect(pool.metrics().endpoints.map((e) => [e.endpoint, e.sources])).toEqual([
      [`tcp://127.0.0.1:${port}`, [source]],
      [`tcp://127.0.0.2:${port}`, [source]],
    ]);
    expect(await idsOf(Array.from({ length: 20 }, () => pool.call<string>("whoami")))).toEqual(new Set(["1", "2"]));

    // Hold a connection to 127.0.0.1 across the change.
    const held = await (async () => {
      for (;;) {
        const client = await pool.acquire();
        if ((await client.call("whoami")) === "1") return client;
        pool.release(client);
      }
    })();

    dns.answer = ["127.0.0.2", "127.0.0.3"];
    await clock.advance(30_000);
    await log.waitFor((e) => e.type === "resolve", 1);
    expect(dns.lookups).toEqual(["svc.test", "svc.test"]);
    expect(pool.metrics().endpoints.map((e) => [e.endpoint, e.state, e.size])).toEqual([
      [`tcp://127.0.0.1:${port}`, "removed", 1], // draining: only the held connection is left
      [`tcp://127.0.0.2:${port}`, "healthy", expect.any(Number)],
      [`tcp://127.0.0.3:${port}`, "healthy", 0],
    ]);
    expect(log.of("evict").every((e) => e.reason === "endpoint-removed" && e.endpoint === `tcp://127.0.0.1:${port}`)).toBe(true);

    pool.release(held);
    expect(pool.metrics().endpoints.map((e) => e.endpoint)).toEqual([`tcp://127.0.0.2:${port}`, `tcp://127.0.0.3:${port}`]);
    expect(await idsOf(Array.from({ length: 20 }, () => pool.call<string>("whoami")))).toEqual(new Set(["2", "3"]));
  });

  it("gives a newly resolved address its share of a full pool (rebalancing idle connections)", async () => {
    const clock = new ManualClock();
    const log = new EventLog();
    const { port } = await threeServers();
    const dns = fakeDns(["127.0.0.1"]);
    const pool = trackPool(createPool({ endpoints: `tcp://svc.test:${port}`, max: 4, lookup: dns.lookup, clock, onEvent: log.onEvent }));
    await Promise.all(Array.from({ length: 20 }, () => pool.call("whoami")));
    expect(pool.metrics()).toMatchObject({ size: 4, idle: 4 });

    dns.answer = ["127.0.0.1", "127.0.0.2"];
    await clock.advance(30_000);
    await log.waitFor((e) => e.type === "resolve", 1);
    expect(await idsOf(Array.from({ length: 20 }, () => pool.call<string>("whoami")))).toEqual(new Set(["1", "2"]));
    expect(pool.metrics().endpoints.map((e) => e.size)).toEqual([2, 2]);
    expect(log.of("evict").map((e) => e.reason)).toEqual(["rebalance", "rebalance"]);
    expect(pool.metrics().size).toBe(4);
  });

  it("keeps the last good addresses when a lookup fails, and retries sooner than the interval", async () => {
    const clock = new ManualClock();
    const log = new EventLog();
    const { port } = await threeServers();
    const dns = fakeDns(["127.0.0.1", "127.0.0.3"]);
    const pool = trackPool(
      createPool({ endpoints: `tcp://svc.test:${port}`, lookup: dns.lookup, clock, onEvent: log.onEvent, ejection: { baseMs: 1_000 } }),
    );
    await log.waitFor((e) => e.type === "resolve");
    dns.fail = true;
    await clock.advance(30_000);
    await log.waitFor((e) => e.type === "resolve-error");
    expect(pool.metrics().endpoints.map((e) => e.state)).toEqual(["healthy", "healthy"]);
    await expect(pool.call("whoami")).resolves.toMatch(/^[13]$/);

    dns.fail = false;
    dns.answer = ["127.0.0.2"];
    await clock.advance(1_000); // the retry after a failure uses the ejection backoff
    await log.waitFor((e) => e.type === "resolve", 1);
    expect(dns.lookups).toHaveLength(3);
    await expect(pool.call("whoami")).resolves.toBe("2");
  });

  it("times out with the lookup error when a name never resolves", async () => {
    const clock = new ManualClock();
    const log = new EventLog();
    const dns = fakeDns([]);
    const pool = trackPool(createPool({ endpoints: "tcp://nope.test:4242", lookup: dns.lookup, clock, acquireTimeoutMs: 100, onEvent: log.onEvent }));
    const waiting = pool.call("whoami").catch((e: unknown) => e);
    await log.waitFor((e) => e.type === "resolve-error");
    await clock.advance(100);
    const error = (await waiting) as PoolTimeoutError;
    expect(error).toBeInstanceOf(PoolTimeoutError);
    expect(error.message).toBe("no pooled connection within 100 ms: no endpoint: resolving tcp://nope.test:4242 failed");
    expect((error.cause as Error).message).toBe("getaddrinfo ENOTFOUND nope.test");
  });

  it("resolves names with the system resolver by default (IPv4), and leaves IP literals alone", async () => {
    const server = await startServer("local");
    const port = server.endpoint.slice(server.endpoint.lastIndexOf(":") + 1);
    const log = new EventLog();
    const pool = trackPool(createPool({ endpoints: [`tcp://localhost:${port}`, server.endpoint], onEvent: log.onEvent }));
    await expect(pool.call("whoami")).resolves.toBe("local");
    await log.waitFor((e) => e.type === "resolve");
    expect(pool.metrics().endpoints).toEqual([
      expect.objectContaining({ endpoint: `tcp://127.0.0.1:${port}`, sources: [server.endpoint, `tcp://localhost:${port}`] }),
    ]);
  });
});
