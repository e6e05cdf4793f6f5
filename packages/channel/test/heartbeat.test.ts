import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { LostRemote, createMultiplexer } from "@zrpc/channel";
import type { Channel } from "@zrpc/channel";
import { createLinkedPair } from "@zrpc/channel/testing";
import { Recorder, sendRaw } from "./helpers.js";

const F = 1_000;

beforeEach(() => {
  vi.useFakeTimers({ now: 0 });
});
afterEach(() => {
  vi.useRealTimers();
});

/** Our client channel against a raw, hand-driven server. */
async function clientAgainstRawServer(options: { passive?: boolean; heartbeatMs?: number } = {}) {
  const { client, server } = createLinkedPair();
  const mux = createMultiplexer(client, {
    role: "client",
    heartbeatMs: options.heartbeatMs ?? F,
    passiveHeartbeat: options.passive ?? false,
  });
  const raw = new Recorder(server);
  const channel = mux.open("sleep", [10]);
  await vi.advanceTimersByTimeAsync(0);
  await raw.until(1);
  const beat = () => sendRaw(server, "_zpc_hb", [0], channel.id, undefined, raw.peer);
  return { mux, raw, channel, beat, server };
}

function heartbeatTimes(raw: Recorder): number[] {
  return raw.events.flatMap((e, i) => (e.name === "_zpc_hb" ? [raw.times[i]!] : []));
}

describe("heartbeat (docs/protocol section 7)", () => {
  it("sends _zpc_hb [0] every interval, the first one interval after open", async () => {
    const { raw, channel, beat, mux } = await clientAgainstRawServer();
    for (let t = 0; t < 5; t++) {
      await vi.advanceTimersByTimeAsync(F / 2);
      beat();
      await vi.advanceTimersByTimeAsync(F / 2);
    }
    expect(heartbeatTimes(raw)).toEqual([1000, 2000, 3000, 4000, 5000]);
    const hb = raw.events.find((e) => e.name === "_zpc_hb")!;
    expect(hb.args).toEqual([0]);
    expect(hb.header.response_to).toEqual(channel.id);
    expect(channel.isOpen).toBe(true);
    await mux.close();
  });

  it("a peer that never heartbeats is lost at the third tick (3 intervals after open)", async () => {
    const { channel, mux, raw } = await clientAgainstRawServer();
    const lost = channel.take();
    const settled = lost.catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(3 * F - 1);
    expect(channel.isOpen).toBe(true);
    await vi.advanceTimersByTimeAsync(1);
    expect(channel.isOpen).toBe(false);
    const error = await settled;
    expect(error).toBeInstanceOf(LostRemote);
    expect((error as LostRemote).message).toBe("Lost remote: no heartbeat from the server for 3 s (heartbeat 1 s)");
    expect(channel.end?.kind).toBe("lost-remote");
    expect(mux.size).toBe(0);
    // it beat at 1 s and 2 s, not at 3 s (the loss is judged first)
    expect(heartbeatTimes(raw)).toEqual([1000, 2000]);
    expect(vi.getTimerCount()).toBe(0);
    await mux.close();
  });

  it("reports the loss between 2 and 3 intervals after the last heartbeat", async () => {
    for (const lastBeatAt of [1_100, 1_500, 1_999, 2_000, 2_700]) {
      vi.setSystemTime(0);
      const { channel, beat, mux } = await clientAgainstRawServer();
      await vi.advanceTimersByTimeAsync(lastBeatAt);
      beat();
      await vi.advanceTimersByTimeAsync(0);
      let lostAt: number | undefined;
      channel.onEnd(() => (lostAt = Date.now()));
      await vi.advanceTimersByTimeAsync(10 * F);
      expect(lostAt).toBeDefined();
      const after = lostAt! - lastBeatAt;
      expect(after).toBeGreaterThanOrEqual(2 * F);
      expect(after).toBeLessThan(3 * F);
      await mux.close();
    }
  });

  it("passive mode sends nothing before the peer's first heartbeat, then beats every interval", async () => {
    const { raw, beat, mux, channel } = await clientAgainstRawServer({ passive: true });
    await vi.advanceTimersByTimeAsync(2_500);
    expect(heartbeatTimes(raw)).toEqual([]);
    beat(); // at 2.5 s
    await vi.advanceTimersByTimeAsync(0);
    await vi.advanceTimersByTimeAsync(F);
    expect(heartbeatTimes(raw)).toEqual([3_500]);
    expect(channel.isOpen).toBe(true);
    await mux.close();
  });

  it("heartbeats never reach the application", async () => {
    const { channel, beat, server, raw, mux } = await clientAgainstRawServer();
    beat();
    beat();
    sendRaw(server, "OK", ["done"], channel.id, undefined, raw.peer);
    const reply = await channel.take();
    expect(reply.name).toBe("OK");
    await mux.close();
  });

  it("heartbeatMs 0 disables the loop and loss detection: no timers at all", async () => {
    const { channel, raw, mux } = await clientAgainstRawServer({ heartbeatMs: 0 });
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(channel.isOpen).toBe(true);
    expect(heartbeatTimes(raw)).toEqual([]);
    await mux.close();
  });

  it("server side: active towards v3 requests (first beat one interval after the request), passive towards v1", async () => {
    const { client, server } = createLinkedPair();
    const channels: Channel[] = [];
    const mux = createMultiplexer(server, { role: "server", heartbeatMs: F, onRequest: (c) => channels.push(c) });
    const raw = new Recorder(client);
    sendRaw(client, "sleep", [5]);
    // a v1 request: header without "v"
    client.send(undefined, new Uint8Array([0x93, 0x81, 0xaa, ...new TextEncoder().encode("message_id"), 0xa2, 0x69, 0x64, 0xa5, ...new TextEncoder().encode("sleep"), 0x91, 0x05]));
    await vi.advanceTimersByTimeAsync(0);
    expect(channels.map((c) => c.remoteVersion)).toEqual([3, undefined]);
    await vi.advanceTimersByTimeAsync(F);
    expect(raw.events.map((e) => [e.name, e.header.response_to])).toEqual([["_zpc_hb", channels[0]!.id]]);
    await mux.close();
  });

  it("timers keep running while an async handler is busy: a long call survives on heartbeats", async () => {
    const { client, server } = createLinkedPair();
    const serverMux = createMultiplexer(server, {
      role: "server",
      heartbeatMs: F,
      onRequest: (channel) => {
        void new Promise((resolve) => setTimeout(resolve, 6 * F)).then(() => channel.send("OK", ["late"]));
      },
    });
    const clientMux = createMultiplexer(client, { role: "client", heartbeatMs: F });
    const channel = clientMux.open("sleep", [6]);
    const reply = channel.take();
    await vi.advanceTimersByTimeAsync(6 * F + 1);
    await expect(reply).resolves.toMatchObject({ name: "OK", args: ["late"] });
    channel.close();
    await clientMux.close();
    await serverMux.close();
  });
});

describe("shared heartbeat timers (one clock timer per due millisecond)", () => {
  it("channels opened in the same millisecond share one timer, each still beats on time, and nothing is left after", async () => {
    const { client, server } = createLinkedPair();
    const mux = createMultiplexer(client, { role: "client", heartbeatMs: F });
    const raw = new Recorder(server);
    const before = vi.getTimerCount();
    const first = Array.from({ length: 50 }, (_, i) => mux.open("sleep", [i]));
    // 50 channels, one timer.
    expect(vi.getTimerCount() - before).toBe(1);
    await vi.advanceTimersByTimeAsync(300);
    const second = Array.from({ length: 30 }, (_, i) => mux.open("sleep", [i]));
    expect(vi.getTimerCount() - before).toBe(2);
    await raw.until(80);
    await vi.advanceTimersByTimeAsync(700);
    // t = 1000: the first 50 beat; the next 30 beat at t = 1300.
    const beats = () => raw.events.map((event, i) => [event.name, raw.times[i]] as const).filter(([name]) => name === "_zpc_hb");
    expect(beats().map(([, time]) => time)).toEqual(Array.from({ length: 50 }, () => 1000));
    await vi.advanceTimersByTimeAsync(300);
    expect(beats().filter(([, time]) => time === 1300)).toHaveLength(30);
    // Closing one channel of a bucket keeps the timer for the others; closing all removes it.
    for (const channel of first.slice(1)) channel.close();
    expect(vi.getTimerCount() - before).toBe(2);
    first[0]!.close();
    expect(vi.getTimerCount() - before).toBe(1);
    for (const channel of second) channel.close();
    expect(vi.getTimerCount() - before).toBe(0);
    await mux.close();
  });
});
