// Bounded memory for hostile peers, measured on a real server process (default options, default
// transport @zrpc/transport-zmtp): one peer opening 30,000 channels (calls that sleep), 1,000
// connections that send half a greeting and stop, and 100 MiB of garbage, while a well-behaved
// client calls in a loop. The server's RSS is read from /proc/PID/status (VmRSS, VmHWM).
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { connect } from "@zrpc/client";
import type { FixtureEvent } from "./helpers.js";
import { kill, mib, percentile, report, runFixture } from "./helpers.js";

const MiB = 2 ** 20;
const CHANNELS = 30_000;
/** The server's default maxChannelsPerPeer. */
const MAX_CHANNELS_PER_PEER = 10_000;
const HALF_GREETINGS = 1_000;
/** The transport's default handshakeTimeout. */
const HANDSHAKE_TIMEOUT_MS = 5_000;
const GARBAGE = {
  rawConnections: 64,
  rawBytesEach: 64 * 1024, // 4 MiB in all
  framedBytes: 90 * MiB,
  stalledFrames: 6,
  stalledDeclared: 100 * MiB, // the default maxMessageSize allows 100 MiB + 1 KiB
  stalledSent: MiB, // 6 MiB in all
};
const GARBAGE_BYTES = GARBAGE.rawConnections * GARBAGE.rawBytesEach + GARBAGE.framedBytes + GARBAGE.stalledFrames * GARBAGE.stalledSent;
/**
 * The documented bounds (README, "Hostile peers"), in MiB above the warmed-up baseline. An open
 * channel costs about 4.6 KiB of live heap, 8-10 KiB of RSS with the collector's slack: 10,000
 * (maxChannelsPerPeer) make at most 100 MiB. Dropping them when their peer goes (LostRemote, the
 * aborts, outcomes) allocates about 4 KiB more each for a moment: 40 MiB. A connection waiting
 * for its greeting costs 1.5-4 KiB until handshakeTimeout closes it: 1,000 make 4 MiB at most.
 * Garbage does not accumulate: what is held is the message being assembled on each connection
 * (here at most 1 MiB, plus the received part of each stalled frame) and read chunks, and the
 * buffers of messages already dropped until the next garbage collection, which V8 starts at the
 * latest when external memory grew by 64 MiB: 64 + 24 MiB. In all 100 + 40 + 4 + 88 = 232 MiB;
 * the bound rounds it up to 240.
 */
const RSS_BOUND_MIB = 240;
/** The part of {@link RSS_BOUND_MIB} for the garbage. */
const GARBAGE_RSS_BOUND_MIB = 88;

/** Connections that declare a 100 MiB frame and stall after sending a part of it. */
const STALLED = 300;
const STALLED_SENT = 4 * 1024;
/**
 * What those may add to the server's address space (VmSize): a split body gets at most 1 MiB
 * before its octets arrive, so 300 MiB, plus room for the heap and the sockets.
 */
const STALLED_VMSIZE_BOUND_MIB = 1024;

/** VmRSS, VmHWM and VmSize of a process, in bytes. */
function memoryOf(pid: number): { rss: number; hwm: number; size: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const field = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? Number.NaN) * 1024;
  return { rss: field("VmRSS"), hwm: field("VmHWM"), size: field("VmSize") };
}

describe("hostile peers", () => {
  it(`server RSS stays within ${RSS_BOUND_MIB} MiB of its baseline under ${CHANNELS.toLocaleString("en")} channels from one peer, ${HALF_GREETINGS.toLocaleString("en")} half greetings and ${GARBAGE_BYTES / MiB} MiB of garbage; a well-behaved client never fails`, async () => {
    const server = runFixture("hostile-server.mjs", [JSON.stringify({})]);
    const ready = await server.waitFor((event) => event.type === "ready");
    const endpoint = ready.endpoint as string;
    const pid = ready.pid as number;

    const client = await connect(endpoint);
    for (let i = 0; i < 500; i++) expect(await client.call("add", [i, 1])).toBe(i + 1);
    const baseline = memoryOf(pid);

    // The well-behaved client calls throughout; each phase notes how many calls it made.
    let running = true;
    let calls = 0;
    const latencies: number[] = [];
    const failures: unknown[] = [];
    const loop = (async () => {
      while (running) {
        const started = performance.now();
        try {
          const sum = await client.call("add", [calls, 1], { timeoutMs: 30_000 });
          if (sum !== calls + 1) failures.push(new Error(`add(${calls}, 1) = ${String(sum)}`));
        } catch (error) {
          failures.push(error);
        }
        latencies.push(performance.now() - started);
        calls += 1;
      }
    })();
    const stats = (): Promise<{ sleeping: number; sleepsAborted: number; warnings: number }> =>
      client.call("hostileStats", [], { timeoutMs: 30_000 });

    // 1. One peer, 30,000 sleeping calls; it keeps the ones the server accepted alive.
    let started = performance.now();
    const opener = runFixture("hostile-peers.mjs", [
      JSON.stringify({ endpoint, mode: "channels", count: CHANNELS, sleepMs: 600_000, heartbeatEveryMs: 2_000 }),
    ]);
    const refusedAll = (event: FixtureEvent): boolean =>
      event.type === "status" && (event.refused as number) >= CHANNELS - MAX_CHANNELS_PER_PEER;
    const status = await opener.waitFor(refusedAll, 120_000);
    const openMs = performance.now() - started;
    expect(status.sent).toBe(CHANNELS);
    expect(status.refused).toBe(CHANNELS - MAX_CHANNELS_PER_PEER);
    expect((await stats()).sleeping).toBe(MAX_CHANNELS_PER_PEER);
    const withChannels = memoryOf(pid);
    const callsAfterChannels = calls;
    report(
      `hostile: one peer sent ${CHANNELS.toLocaleString("en")} sleep calls in ${(openMs / 1000).toFixed(1)} s: ${MAX_CHANNELS_PER_PEER.toLocaleString("en")} run (maxChannelsPerPeer), ` +
        `${String(status.refused)} answered ERR LimitExceeded; server RSS ${mib(baseline.rss)} -> ${mib(withChannels.rss)} MiB ` +
        `(${((withChannels.rss - baseline.rss) / MAX_CHANNELS_PER_PEER / 1024).toFixed(1)} KiB per open channel)`,
    );

    // 2. With those channels held: 1,000 half greetings, then (while they are open) the garbage.
    const half = runFixture("hostile-peers.mjs", [JSON.stringify({ endpoint, mode: "half-greetings", count: HALF_GREETINGS })]);
    const halfOpen = await half.waitFor((event) => event.type === "half-open", 60_000);
    expect(halfOpen.count).toBe(HALF_GREETINGS);
    const withHalf = memoryOf(pid);
    started = performance.now();
    let garbagePeak = withHalf.rss;
    const sampler = setInterval(() => {
      garbagePeak = Math.max(garbagePeak, memoryOf(pid).rss);
    }, 20);
    const junk = runFixture("hostile-peers.mjs", [JSON.stringify({ endpoint, mode: "garbage", ...GARBAGE })]);
    const sent = await junk.waitFor((event) => event.type === "garbage-sent", 180_000);
    clearInterval(sampler);
    const garbageMs = performance.now() - started;
    const withGarbage = memoryOf(pid);
    // Every half greeting is closed by the server's handshake timeout (generous slack: loaded machine).
    const halfClosed = await half.waitFor((event) => event.type === "half-closed", HANDSHAKE_TIMEOUT_MS + 60_000);
    report(
      `hostile: ${HALF_GREETINGS.toLocaleString("en")} half greetings: server RSS ${mib(withChannels.rss)} -> ${mib(withHalf.rss)} MiB with them open ` +
        `(${((withHalf.rss - withChannels.rss) / HALF_GREETINGS / 1024).toFixed(1)} KiB per connection); ` +
        `all closed by the server ${String(halfClosed.firstMs)}-${String(halfClosed.lastMs)} ms after they were opened (handshakeTimeout ${HANDSHAKE_TIMEOUT_MS} ms)`,
    );
    report(
      `hostile: garbage ${mib(sent.total as number)} MiB in ${(garbageMs / 1000).toFixed(1)} s: raw TCP ${mib(sent.raw as number)} MiB on ${GARBAGE.rawConnections} connections, ` +
        `${mib(sent.framed as number)} MiB in ${String(sent.framedMessages)} well-framed messages, ${GARBAGE.stalledFrames} stalled ${mib(GARBAGE.stalledDeclared)} MiB frames ` +
        `(${mib(GARBAGE.stalledSent)} MiB sent each); server RSS ${mib(withHalf.rss)} -> peak ${mib(garbagePeak)} -> ${mib(withGarbage.rss)} MiB ` +
        `(sampled every 20 ms), VmSize ${mib(withHalf.size)} -> ${mib(withGarbage.size)} MiB`,
    );
    expect(halfClosed.firstMs as number).toBeGreaterThanOrEqual(HANDSHAKE_TIMEOUT_MS - 100);
    // The garbage does not accumulate: the server holds at most the message being assembled.
    expect(garbagePeak - withHalf.rss).toBeLessThanOrEqual(GARBAGE_RSS_BOUND_MIB * MiB);
    expect((await stats()).sleeping).toBe(MAX_CHANNELS_PER_PEER);
    const whilePeers = memoryOf(pid);

    // 3. The peers go away; the server drops their channels (heartbeat) and settles.
    await Promise.all([kill(opener), kill(half), kill(junk)]);
    started = performance.now();
    for (;;) {
      const now = await stats();
      if (now.sleeping === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
      if (performance.now() - started > 60_000) throw new Error(`${now.sleeping} sleeping calls left 60 s after the peers went`);
    }
    const releasedMs = performance.now() - started;
    // A few more calls, then the figure after.
    for (let i = 0; i < 200; i++) await client.call("add", [1, 1]);
    const after = memoryOf(pid);
    running = false;
    await loop;
    const finalStats = await stats();
    await client.close();

    report(
      `hostile: server RSS baseline ${mib(baseline.rss)} MiB, peak (VmHWM) ${mib(whilePeers.hwm)} MiB while the peers were there, ` +
        `${mib(after.hwm)} MiB in all (+${mib(after.hwm - baseline.rss)}, bound +${RSS_BOUND_MIB}; tearing down the channels allocates too), ` +
        `after ${mib(after.rss)} MiB; the ${MAX_CHANNELS_PER_PEER.toLocaleString("en")} channels were dropped ${(releasedMs / 1000).toFixed(1)} s after the peers went; ` +
        `${finalStats.warnings} warnings reached the logger`,
    );
    report(
      `hostile: the well-behaved client made ${calls} calls (${callsAfterChannels} by the end of phase 1), ${failures.length} failed; ` +
        `latency p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms, max ${latencies.reduce((a, b) => Math.max(a, b), 0).toFixed(1)} ms`,
    );
    expect(failures).toEqual([]);
    expect(callsAfterChannels).toBeGreaterThan(0);
    expect(calls).toBeGreaterThan(callsAfterChannels);
    expect(after.hwm - baseline.rss).toBeLessThanOrEqual(RSS_BOUND_MIB * MiB);
    expect(server.child.exitCode).toBeNull();
    await kill(server, "SIGTERM");
  }, 420_000);

  it(`${STALLED.toLocaleString("en")} connections each declaring a 100 MiB frame and sending ${STALLED_SENT / 1024} KiB of it reserve no more than they sent`, async () => {
    const server = runFixture("hostile-server.mjs", [JSON.stringify({})]);
    const ready = await server.waitFor((event) => event.type === "ready");
    const endpoint = ready.endpoint as string;
    const pid = ready.pid as number;
    const client = await connect(endpoint);
    for (let i = 0; i < 200; i++) await client.call("add", [i, 1]);
    const before = memoryOf(pid);
    const stalled = runFixture("hostile-peers.mjs", [
      JSON.stringify({
        endpoint,
        mode: "garbage",
        rawConnections: 0,
        rawBytesEach: 0,
        framedBytes: 0,
        stalledFrames: STALLED,
        stalledDeclared: 100 * MiB,
        stalledSent: STALLED_SENT,
      }),
    ]);
    const sent = await stalled.waitFor((event) => event.type === "garbage-sent", 60_000);
    expect(sent.stalledOpen).toBe(STALLED);
    // The server has read every stalled connection once a call made after them all is answered
    // (one event loop: their reads come first) and a few more calls went through.
    for (let i = 0; i < 200; i++) expect(await client.call("add", [i, 1], { timeoutMs: 30_000 })).toBe(i + 1);
    const after = memoryOf(pid);
    report(
      `hostile: ${STALLED} connections declared 100 MiB frames and sent ${STALLED_SENT / 1024} KiB of each: ` +
        `server VmSize ${mib(before.size)} -> ${mib(after.size)} MiB, RSS ${mib(before.rss)} -> ${mib(after.rss)} MiB (declared in all: ${mib(STALLED * 100 * MiB)} MiB)`,
    );
    // Before the decoder grew bodies with what arrives, each declared frame reserved its 100 MiB
    // at once (30 GB of address space here; a server under `ulimit -v` or strict overcommit died).
    expect(after.size - before.size).toBeLessThanOrEqual(STALLED_VMSIZE_BOUND_MIB * MiB);
    expect(server.child.exitCode).toBeNull();
    await client.close();
    await kill(stalled);
    await kill(server, "SIGTERM");
  }, 120_000);
});
