// A slow consumer of a 1,000,000-item stream: the server (another process) must wait for credit
// instead of buffering, so memory stays bounded on both sides.
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { connect } from "@zrpc/client";
import { kill, mib, report, startServer } from "./helpers.js";

const ITEMS = 1_000_000;
/**
 * The client's window (`_zpc_more` credit, zerorpc-python's `slots=`): at most this many items are
 * in flight. The default 100 costs a credit round trip every 51 items; 300 halves the run time and
 * stays well below what the server's ROUTER queues per peer. (A window near the ROUTER's
 * sendHighWaterMark, 1000, loses items: libzmq learns that the peer drained the queue only every
 * half-HWM messages, so a burst of ~500+ items can find the queue "full", and a ROUTER drops
 * silently. Measured here: a window of 1,000 lost 53 items of 1,000,000.)
 */
const WINDOW = 300;
/** The consumer stops for this long every PAUSE_EVERY items: far slower than the producer. */
const PAUSE_MS = 2;
const PAUSE_EVERY = 2_000;

describe("slow consumer", () => {
  it(`streams ${ITEMS.toLocaleString("en")} items to a slow consumer with bounded memory on both sides`, async () => {
    const server = await startServer({ heartbeatMs: 1000 });
    const client = await connect(server.endpoint, { heartbeatMs: 1000 });
    const before = await client.call<{ rss: number }>("faultsStats");
    const startRss = process.memoryUsage().rss;
    let peakRss = startRss;
    let count = 0;
    let sum = 0;
    const started = performance.now();
    for await (const item of client.stream<number>("range", [ITEMS], { receiveBuffer: WINDOW })) {
      if (item !== count) throw new Error(`item ${count} arrived as ${item}`);
      count += 1;
      sum += item;
      if (count % PAUSE_EVERY === 0) {
        peakRss = Math.max(peakRss, process.memoryUsage().rss);
        await sleep(PAUSE_MS);
      }
    }
    const seconds = (performance.now() - started) / 1000;
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    const after = await client.call<{ rss: number; peakRss: number; outcomes: Record<string, number> }>("faultsStats");
    await client.close();
    await kill(server, "SIGTERM");
    report(
      `slow consumer, ${ITEMS.toLocaleString("en")} items (window ${WINDOW}, consumer pauses ${PAUSE_MS} ms every ${PAUSE_EVERY} items): ` +
        `${seconds.toFixed(1)} s, ${Math.round(ITEMS / seconds).toLocaleString("en")} items/s; client RSS ${mib(startRss)} -> peak ${mib(peakRss)} MiB, ` +
        `server RSS ${mib(before.rss)} -> peak ${mib(after.peakRss)} MiB`,
    );
    expect(count).toBe(ITEMS);
    expect(sum).toBe((ITEMS * (ITEMS - 1)) / 2);
    expect(after.outcomes["stream-done"]).toBe(1);
    // Bounded: a million items of even 10 bytes would be 10 MB held at once on one side; the
    // window keeps both sides within a few MiB of where they started (generous slack for GC timing).
    expect(peakRss - startRss).toBeLessThan(80 * 2 ** 20);
    expect(after.peakRss - before.rss).toBeLessThan(80 * 2 ** 20);
  }, 150_000);
});
