// No file-descriptor leak: 10,000 acquire/release cycles with churn (every 10th connection
// destroyed after a call, so a thousand DEALER sockets connected and closed), counted in
// /proc/self/fd (the in-process server's accepted connections included).
import { afterEach, describe, expect, it } from "vitest";
import { createPool } from "../src/index.js";
import { closeAll, openFds, startServer, trackPool } from "./helpers.js";

afterEach(closeAll);

/** Waits until libzmq's I/O threads have closed what was closed (they do it asynchronously). */
async function settledFds(limit: number): Promise<number> {
  let fds = openFds();
  for (let i = 0; i < 200 && fds > limit; i++) {
    await new Promise<void>((resolve) => setImmediate(resolve));
    await new Promise<void>((resolve) => setTimeout(resolve, 10));
    fds = openFds();
  }
  return fds;
}

describe("file descriptors", () => {
  it("do not grow over 10,000 acquire/release cycles with churn", async () => {
    const server = await startServer("s1");
    // Warm up ZeroMQ (context, I/O threads, the server's first accepted connection).
    const warm = createPool({ endpoints: server.endpoint });
    await warm.call("add", [1, 1]);
    await warm.close();
    const before = await settledFds(Infinity);

    const pool = trackPool(createPool({ endpoints: server.endpoint, max: 4 }));
    let peak = 0;
    for (let i = 0; i < 10_000; i++) {
      const client = await pool.acquire();
      // Every connection about to be destroyed makes a real call first: a TCP connection, a server peer.
      const churn = i % 10 === 0;
      if (churn) expect(await client.call("add", [i, 1])).toBe(i + 1);
      pool.release(client, { destroy: churn });
      if (i % 500 === 0) peak = Math.max(peak, openFds());
    }
    const metrics = pool.metrics();
    expect(metrics.created).toBeGreaterThanOrEqual(1_000);
    expect(metrics.evictions).toBe(1_000);
    expect(metrics.size).toBeLessThanOrEqual(4);
    expect(server.stats.peers.size).toBeGreaterThanOrEqual(1_000); // really connected, really closed
    await pool.close();

    const after = await settledFds(before + 10);
    expect(after - before).toBeLessThanOrEqual(10);
    // Closed sockets are released as the run goes, not only at the end.
    expect(peak - before).toBeLessThan(100);
  }, 120_000);
});
