import { describe, expect, it } from "vitest";
import { createMultiplexer } from "@zrpc/channel";
import type { Channel } from "@zrpc/channel";
import { createLinkedPair } from "@zrpc/channel/testing";
import { decodeEvent } from "@zrpc/wire";
import type { Event } from "@zrpc/wire";
import { Recorder, flush, sendRaw, until } from "./helpers.js";

/** A streaming "application" on a server channel: n items under credit, then STREAM_DONE. */
async function streamItems(channel: Channel, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    await channel.whenWritable();
    channel.send("STREAM", i);
  }
  await channel.whenWritable();
  channel.send("STREAM_DONE", null);
  channel.close();
}

async function consume(channel: Channel): Promise<unknown[]> {
  const items: unknown[] = [];
  for (;;) {
    const event: Event = await channel.take();
    if (event.name === "STREAM_DONE") break;
    items.push(event.args);
  }
  channel.close();
  return items;
}

function streamSetup(n: number, receiveBuffer?: number) {
  const sent: Event[] = [];
  const { client, server } = createLinkedPair({
    tap: (direction, payload) => {
      if (direction === "client->server") sent.push(decodeEvent(payload));
    },
  });
  const serverMux = createMultiplexer(server, {
    role: "server",
    heartbeatMs: 0,
    onRequest: (channel) => void streamItems(channel, n),
  });
  const clientMux = createMultiplexer(client, { role: "client", heartbeatMs: 0, ...(receiveBuffer ? { receiveBuffer } : {}) });
  return { sent, serverMux, clientMux };
}

describe("flow control (docs/protocol section 8)", () => {
  it("grants [100] after the first item, then [51] every 51 items (stream_150)", async () => {
    const { sent, serverMux, clientMux } = streamSetup(150);
    const items = await consume(clientMux.open("range", [150]));
    expect(items).toEqual(Array.from({ length: 150 }, (_, i) => i));
    expect(sent.map((e) => [e.name, e.args])).toEqual([
      ["range", [150]],
      ["_zpc_more", [100]],
      ["_zpc_more", [51]],
      ["_zpc_more", [51]],
    ]);
    expect(serverMux.size + clientMux.size).toBe(0);
    await clientMux.close();
    await serverMux.close();
  });

  it("a window of 10 grants [10] then [6]s (stream_window_10)", async () => {
    const { sent, serverMux, clientMux } = streamSetup(40, 10);
    const items = await consume(clientMux.open("range", [40], { receiveBuffer: 10 }));
    expect(items).toHaveLength(40);
    expect(sent.slice(1).map((e) => e.args)).toEqual([[10], [6], [6], [6], [6], [6], [6]]);
    await clientMux.close();
    await serverMux.close();
  });

  it("never pre-grants: no _zpc_more before the first reply has been taken", async () => {
    const { client, server } = createLinkedPair();
    const mux = createMultiplexer(client, { role: "client", heartbeatMs: 0 });
    const raw = new Recorder(server);
    const channel = mux.open("range", [10]);
    const first = channel.take();
    await raw.until(1);
    await flush();
    expect(raw.names()).toEqual(["range"]);
    sendRaw(server, "STREAM", 0, channel.id, undefined, raw.peer);
    await first;
    await flush();
    expect(raw.names()).toEqual(["range"]);
    const second = channel.take(); // the second take grants
    await raw.until(2);
    expect(raw.events[1]).toMatchObject({ name: "_zpc_more", args: [100] });
    channel.close();
    await expect(second).rejects.toMatchObject({ code: "closed" });
    await mux.close();
  });

  it("the sender never exceeds its credit: one item, then waits for _zpc_more", async () => {
    const { client, server } = createLinkedPair();
    let serverChannel: Channel | undefined;
    const mux = createMultiplexer(server, {
      role: "server",
      heartbeatMs: 0,
      onRequest: (channel) => {
        serverChannel = channel;
        void streamItems(channel, 1_000).catch(() => undefined);
      },
    });
    const raw = new Recorder(client);
    const id = sendRaw(client, "range", [1_000]);
    await raw.until(1);
    await flush(50);
    expect(raw.names()).toEqual(["STREAM"]);
    expect(serverChannel!.credit).toBe(0);
    sendRaw(client, "_zpc_more", [3], id);
    await raw.until(4);
    await flush(50);
    expect(raw.events.map((e) => e.args)).toEqual([0, 1, 2, 3]);
    // malformed credits are ignored, as Python does
    sendRaw(client, "_zpc_more", ["x"], id);
    sendRaw(client, "_zpc_more", [-5], id);
    sendRaw(client, "_zpc_more", null, id);
    await flush(50);
    expect(raw.events).toHaveLength(4);
    expect(() => serverChannel!.send("STREAM", 99)).toThrow(/no credit/);
    await mux.close();
  });

  it("a peer that ignores our window overflows that channel only, not the multiplexer", async () => {
    const { client, server } = createLinkedPair();
    const mux = createMultiplexer(client, { role: "client", heartbeatMs: 0 });
    const raw = new Recorder(server);
    const flooded = mux.open("range", [1_000]);
    const other = mux.open("add", [1, 2]);
    await raw.until(2);
    for (let i = 0; i < 101; i++) sendRaw(server, "STREAM", i, flooded.id, undefined, raw.peer);
    await until(() => !flooded.isOpen);
    expect(flooded.end).toMatchObject({ kind: "overflow", error: { code: "limit" } });
    await expect(flooded.take()).rejects.toMatchObject({ code: "limit" });
    sendRaw(server, "OK", [3], other.id, undefined, raw.peer);
    await expect(other.take()).resolves.toMatchObject({ name: "OK", args: [3] });
    await mux.close();
  });

  it("100 buffered events are fine (the window is exactly B)", async () => {
    const { client, server } = createLinkedPair();
    const mux = createMultiplexer(client, { role: "client", heartbeatMs: 0 });
    const raw = new Recorder(server);
    const channel = mux.open("range", [100]);
    await raw.until(1);
    for (let i = 0; i < 100; i++) sendRaw(server, "STREAM", i, channel.id, undefined, raw.peer);
    await until(() => channel.buffered === 100);
    await flush(50);
    expect(channel.isOpen).toBe(true);
    expect(channel.buffered).toBe(100);
    await mux.close();
  });
});
