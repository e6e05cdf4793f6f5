/**
 * Every terminal path of a channel removes it from its multiplexer and stops its timers:
 * reply, local close, lost remote, overflow, multiplexer close, transport close.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createMultiplexer } from "@zrpc/channel";
import type { Channel, ChannelEnd, Multiplexer } from "@zrpc/channel";
import { createLinkedPair } from "@zrpc/channel/testing";
import { Recorder, sendRaw } from "./helpers.js";

const F = 1_000;

beforeEach(() => {
  vi.useFakeTimers({ now: 0 });
});
afterEach(() => {
  vi.useRealTimers();
});

async function setup() {
  const { client, server } = createLinkedPair();
  const serverChannels: Channel[] = [];
  const serverMux = createMultiplexer(server, {
    role: "server",
    heartbeatMs: F,
    onRequest: (channel) => serverChannels.push(channel),
  });
  const clientMux = createMultiplexer(client, { role: "client", heartbeatMs: F });
  const channel = clientMux.open("x", []);
  await vi.advanceTimersByTimeAsync(0);
  expect(serverChannels).toHaveLength(1);
  // both sides have a heartbeat timer running
  expect(vi.getTimerCount()).toBe(2);
  return { clientMux, serverMux, channel, serverChannel: serverChannels[0]!, server, client };
}

function expectEmpty(...muxes: Multiplexer[]): void {
  for (const mux of muxes) expect(mux.size).toBe(0);
  expect(vi.getTimerCount()).toBe(0);
}

describe("no channel or timer survives a terminal path", () => {
  it("reply", async () => {
    const { clientMux, serverMux, channel, serverChannel } = await setup();
    serverChannel.send("OK", [1]);
    serverChannel.close();
    await channel.take();
    channel.close();
    expectEmpty(clientMux, serverMux);
    await clientMux.close();
    await serverMux.close();
  });

  it("local close on both sides", async () => {
    const { clientMux, serverMux, channel, serverChannel } = await setup();
    const ends: ChannelEnd[] = [];
    channel.onEnd((end) => ends.push(end));
    channel.close();
    channel.close();
    serverChannel.close();
    expect(ends).toEqual([{ kind: "closed" }]);
    expectEmpty(clientMux, serverMux);
    await clientMux.close();
    await serverMux.close();
  });

  it("lost remote (the client vanishes without a word)", async () => {
    const { clientMux, serverMux, channel, serverChannel } = await setup();
    channel.close(); // stops beating, sends nothing
    await vi.advanceTimersByTimeAsync(4 * F);
    expect(serverChannel.end?.kind).toBe("lost-remote");
    expectEmpty(clientMux, serverMux);
    await clientMux.close();
    await serverMux.close();
  });

  it("overflow", async () => {
    const { client, server } = createLinkedPair();
    const mux = createMultiplexer(client, { role: "client", heartbeatMs: F, receiveBuffer: 4 });
    const raw = new Recorder(server);
    const channel = mux.open("range", [10]);
    await vi.advanceTimersByTimeAsync(0);
    for (let i = 0; i < 5; i++) sendRaw(server, "STREAM", i, channel.id, undefined, raw.peer);
    await vi.advanceTimersByTimeAsync(0);
    expect(channel.end?.kind).toBe("overflow");
    expectEmpty(mux);
    await mux.close();
  });

  it("multiplexer close", async () => {
    const { clientMux, serverMux, channel, serverChannel } = await setup();
    const take = channel.take().catch((e: unknown) => e);
    await serverMux.close();
    expect(serverChannel.end?.kind).toBe("shutdown");
    await vi.advanceTimersByTimeAsync(0);
    // the in-memory server closing cuts its clients off, as a process exit would
    expect(channel.end?.kind).toBe("shutdown");
    expect(await take).toMatchObject({ code: "closed" });
    expectEmpty(clientMux, serverMux);
  });

  it("transport close under the multiplexer", async () => {
    const { clientMux, serverMux, channel, client } = await setup();
    await client.close();
    await vi.advanceTimersByTimeAsync(0);
    expect(channel.end?.kind).toBe("shutdown");
    await expect(clientMux.closed).resolves.toBeUndefined();
    expect(clientMux.size).toBe(0);
    await serverMux.close();
    expectEmpty(clientMux, serverMux);
  });

  it("10,000 calls leave nothing behind", async () => {
    vi.useRealTimers();
    const { client, server } = createLinkedPair();
    const serverMux = createMultiplexer(server, {
      role: "server",
      heartbeatMs: F,
      onRequest: (channel, request) => {
        channel.send("OK", request.args);
        channel.close();
      },
    });
    const clientMux = createMultiplexer(client, { role: "client", heartbeatMs: F });
    for (let batch = 0; batch < 10; batch++) {
      await Promise.all(
        Array.from({ length: 1_000 }, async (_, i) => {
          const channel = clientMux.open("echo", [i]);
          await channel.take();
          channel.close();
        }),
      );
    }
    expect(clientMux.size).toBe(0);
    expect(serverMux.size).toBe(0);
    await clientMux.close();
    await serverMux.close();
  });
});
