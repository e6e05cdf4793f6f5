// The max bound under load, and how calls spread over several endpoints (real sockets).
import { afterEach, describe, expect, it } from "vitest";
import { createPool } from "../src/index.js";
import { closeAll, startServer, trackPool } from "./helpers.js";

afterEach(closeAll);

describe("bounded concurrency", () => {
  it("never has more than max connections or calls open under 1,000 concurrent pool.call()s", async () => {
    const max = 8;
    const servers = [await startServer("a"), await startServer("b")];
    const pool = trackPool(createPool({ endpoints: servers.map((s) => s.endpoint), max }));
    let highWater = 0;
    const calls = Array.from({ length: 1000 }, async (_, i) => {
      const result = await pool.call<string>("work", [i]);
      highWater = Math.max(highWater, pool.metrics().size);
      return result;
    });
    expect(pool.metrics().waiting).toBeGreaterThan(900);
    const results = await Promise.all(calls);

    // Every call answered, in any order, by one of the servers.
    expect(results.map((r) => Number(r.split(":")[1])).sort((x, y) => x - y)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    const maxActive = servers.reduce((sum, s) => sum + s.stats.maxActive, 0);
    const peers = servers.reduce((sum, s) => sum + s.stats.peers.size, 0);
    expect(maxActive).toBeLessThanOrEqual(max);
    expect(peers).toBeLessThanOrEqual(max); // server side: distinct connections that ever called
    expect(highWater).toBeLessThanOrEqual(max);
    const metrics = pool.metrics();
    expect(metrics.maxSize).toBeLessThanOrEqual(max);
    expect(metrics.maxInUse).toBe(max);
    expect(metrics).toMatchObject({ created: max, evictions: 0, waiting: 0, inUse: 0, idle: max, timeouts: 0 });
    // least-in-flight spreads the load over both servers.
    for (const server of servers) expect(server.stats.calls).toBeGreaterThan(200);
  });

  it("keeps one DEALER per endpoint: every connection talks to exactly one server", async () => {
    const servers = [await startServer("a"), await startServer("b"), await startServer("c")];
    const pool = trackPool(createPool({ endpoints: servers.map((s) => s.endpoint), max: 6 }));
    const clients = await Promise.all(Array.from({ length: 6 }, () => pool.acquire()));
    for (const client of clients) {
      const answers = new Set(await Promise.all(Array.from({ length: 20 }, () => client.call<string>("whoami"))));
      expect(answers.size).toBe(1);
    }
    for (const client of clients) pool.release(client);
    expect(pool.metrics().endpoints.map((e) => e.size)).toEqual([2, 2, 2]);
  });

  it("round-robin takes the endpoints in turn", async () => {
    const servers = [await startServer("a"), await startServer("b"), await startServer("c")];
    const pool = trackPool(createPool({ endpoints: servers.map((s) => s.endpoint), balance: "round-robin" }));
    const order: string[] = [];
    for (let i = 0; i < 9; i++) order.push(await pool.call<string>("whoami"));
    expect(order.slice(0, 3).sort()).toEqual(["a", "b", "c"]);
    expect(order.slice(3, 6)).toEqual(order.slice(0, 3));
    expect(order.slice(6, 9)).toEqual(order.slice(0, 3));
  });

  it("least-in-flight steers new calls away from an endpoint whose calls are stuck", async () => {
    const [a, b] = [await startServer("a"), await startServer("b")];
    const pool = trackPool(createPool({ endpoints: [a.endpoint, b.endpoint], max: 10 }));
    const stuck = pool.call("hold"); // a fresh pool starts its rotation at the first endpoint
    await a.service.whenHeld(1);
    const answers: string[] = [];
    for (let i = 0; i < 10; i++) answers.push(await pool.call<string>("whoami"));
    expect(answers).toEqual(Array.from({ length: 10 }, () => "b"));
    expect(pool.metrics().endpoints.map((e) => e.inFlight)).toEqual([1, 0]);
    a.service.open();
    await expect(stuck).resolves.toBe("a");
  });
});
