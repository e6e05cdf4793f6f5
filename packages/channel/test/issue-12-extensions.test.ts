// Issue #12: the channel side of zrpc's wire extensions (cancel event, capability announcements)
// and the per-peer channel limit.
import { describe, expect, it } from "vitest";
import { DEFAULT_MAX_CHANNELS_PER_PEER, ZrpcExtensions, createMultiplexer, readCaps, readCancelReason, readDeadline } from "@zrpc/channel";
import type { CancelReason, Channel, DropReason } from "@zrpc/channel";
import { createLinkedPair, createMemoryServer } from "@zrpc/channel/testing";
import { encodeEvent, f64, newMessageId } from "@zrpc/wire";
import type { Event } from "@zrpc/wire";
import { Recorder, flush, sendRaw, until } from "./helpers.js";

describe("zrpc extensions in the channel layer", () => {
  it("pins the extension names (they are on the wire)", () => {
    expect(ZrpcExtensions).toEqual({
      deadlineKey: "zrpc_deadline",
      capsKey: "zrpc_caps",
      cancelCap: "cancel",
      cancelEvent: "_zrpc_cancel",
    });
  });

  it("reads caps, deadlines and cancel reasons leniently", () => {
    expect(readCaps({ zrpc_caps: ["cancel", new TextEncoder().encode("x"), 3] })).toEqual(["cancel", "x"]);
    expect(readCaps({ zrpc_caps: "cancel" })).toBeUndefined();
    expect(readCaps({})).toBeUndefined();
    expect(readDeadline({ zrpc_deadline: 1_700_000_000_000 })).toBe(1_700_000_000_000);
    expect(readDeadline({ zrpc_deadline: 1_700_000_000_000n })).toBe(1_700_000_000_000);
    expect(readDeadline({ zrpc_deadline: f64(1_700_000_000_000) })).toBe(1_700_000_000_000);
    for (const bad of [undefined, null, "1700000000000", -5, 0, Number.NaN, { value: 5 }]) {
      expect(readDeadline({ zrpc_deadline: bad })).toBeUndefined();
    }
    expect(readCancelReason(["timeout"])).toBe("timeout");
    expect(readCancelReason(["abandoned"])).toBe("abandoned");
    expect(readCancelReason(["canceled"])).toBe("canceled");
    expect(readCancelReason(null)).toBe("canceled");
    expect(readCancelReason([{ evil: true }])).toBe("canceled");
  });

  it("a client sends _zrpc_cancel once, free of credit; a server with a listener gets its reason", async () => {
    const { client, server } = createLinkedPair();
    const reasons: CancelReason[] = [];
    let serverChannel: Channel | undefined;
    const serverMux = createMultiplexer(server, {
      role: "server",
      heartbeatMs: 0,
      onRequest(channel) {
        serverChannel = channel;
        channel.onCancel((reason) => reasons.push(reason));
      },
    });
    const clientMux = createMultiplexer(client, { role: "client", heartbeatMs: 0 });
    const channel = clientMux.open("sleep", [], { header: { zrpc_caps: ["cancel"] } });
    await until(() => serverChannel !== undefined);
    expect(serverChannel!.remoteCaps).toEqual(["cancel"]);
    // The request spent the client's only credit: a cancel must still go out.
    expect(channel.credit).toBe(0);
    expect(channel.sendCancel("timeout")).toBe(true);
    expect(channel.sendCancel("timeout")).toBe(false);
    await until(() => reasons.length === 1);
    await flush();
    expect(reasons).toEqual(["timeout"]);
    // Not buffered as an application event; the channel stays open until the server closes it.
    expect(serverChannel!.buffered).toBe(0);
    expect(serverChannel!.isOpen).toBe(true);
    channel.close();
    expect(channel.sendCancel()).toBe(false);
    await clientMux.close();
    await serverMux.close();
  });

  it("without a listener _zrpc_cancel is just an unknown event (buffered, as before)", async () => {
    const { client, server } = createLinkedPair();
    let serverChannel: Channel | undefined;
    const serverMux = createMultiplexer(server, { role: "server", heartbeatMs: 0, onRequest: (channel) => (serverChannel = channel) });
    const clientMux = createMultiplexer(client, { role: "client", heartbeatMs: 0 });
    const channel = clientMux.open("sleep", []);
    await until(() => serverChannel !== undefined);
    expect(serverChannel!.remoteCaps).toBeUndefined();
    channel.sendCancel();
    await until(() => serverChannel!.buffered === 1);
    await clientMux.close();
    await serverMux.close();
  });

  it("announce() adds keys to every heartbeat and to the first reply only; the client records them", async () => {
    const { client, server } = createLinkedPair();
    const raw = new Recorder(client);
    let serverChannel: Channel | undefined;
    const serverMux = createMultiplexer(server, {
      role: "server",
      heartbeatMs: 0,
      onRequest(channel) {
        serverChannel = channel;
        channel.announce({ zrpc_caps: ["cancel"], message_id: "cannot replace" });
      },
    });
    const id = sendRaw(client, "range", [], undefined, newMessageId());
    await until(() => serverChannel !== undefined);
    for (let i = 0; i < 3; i++) serverChannel!.send("_zpc_hb", [0]);
    client.send(undefined, encodeEvent({ header: { message_id: newMessageId(), v: 3, response_to: id }, name: "_zpc_more", args: [10] }));
    await until(() => serverChannel!.credit === 11);
    serverChannel!.send("STREAM", 1);
    serverChannel!.send("STREAM", 2);
    await raw.until(5);
    const events = raw.events.slice(0, 5);
    expect(events.map((e) => e.name)).toEqual(["_zpc_hb", "_zpc_hb", "_zpc_hb", "STREAM", "STREAM"]);
    for (const event of events.slice(0, 4)) expect(event.header.zrpc_caps).toEqual(["cancel"]);
    expect(events[4]!.header.zrpc_caps).toBeUndefined();
    for (const event of events) expect(event.header.message_id).toBeInstanceOf(Uint8Array);
    await serverMux.close();
  });

  it("a client channel learns the server's caps from a heartbeat", async () => {
    const { client, server } = createLinkedPair();
    const raw = new Recorder(server);
    const clientMux = createMultiplexer(client, { role: "client", heartbeatMs: 0 });
    const channel = clientMux.open("sleep", []);
    await raw.until(1);
    expect(channel.remoteCaps).toBeUndefined();
    server.send(raw.peer, encodeEvent({ header: { message_id: newMessageId(), v: 3, zrpc_caps: ["cancel", "future"], response_to: channel.id }, name: "_zpc_hb", args: [0] }));
    await until(() => channel.remoteCaps !== undefined);
    expect(channel.remoteCaps).toEqual(["cancel", "future"]);
    await clientMux.close();
  });
});

describe("maxChannelsPerPeer", () => {
  it("defaults to 10 000", () => {
    expect(DEFAULT_MAX_CHANNELS_PER_PEER).toBe(10_000);
  });

  it("refuses requests beyond the limit per peer through onChannelLimit, which may answer once", async () => {
    const network = createMemoryServer();
    const held: Channel[] = [];
    const refused: Event[] = [];
    const serverMux = createMultiplexer(network.transport, {
      role: "server",
      heartbeatMs: 0,
      maxChannelsPerPeer: 3,
      onRequest: (channel) => held.push(channel),
      onChannelLimit(request, _peer, answer) {
        refused.push(request);
        answer("ERR", ["LimitExceeded", "too many", ""]);
        expect(() => answer("ERR", [])).toThrow(/once/);
      },
    });
    const a = network.connect();
    const b = network.connect();
    const fromA = new Recorder(a);
    const ids = [1, 2, 3, 4, 5].map((i) => sendRaw(a, "sleep", [i]));
    sendRaw(b, "sleep", ["b"]);
    await until(() => held.length === 4 && refused.length === 2);
    expect(held.filter((c) => c.peer === held[0]!.peer)).toHaveLength(3);
    expect(serverMux.channelsOf(held[0]!.peer)).toBe(3);
    expect(serverMux.channelsOf(held[3]!.peer)).toBe(1);
    await fromA.until(2);
    expect(fromA.events.map((e) => [e.name, e.args])).toEqual([
      ["ERR", ["LimitExceeded", "too many", ""]],
      ["ERR", ["LimitExceeded", "too many", ""]],
    ]);
    expect(fromA.events.map((e) => e.header.response_to)).toEqual([ids[3], ids[4]]);
    // Closing one frees a slot for the same peer.
    held[0]!.close();
    expect(serverMux.channelsOf(held[1]!.peer)).toBe(2);
    sendRaw(a, "sleep", [6]);
    await until(() => held.length === 5);
    await serverMux.close();
  });

  it("drops with reason channel-limit when there is no hook; 0 means unlimited", async () => {
    const { client, server } = createLinkedPair();
    const drops: DropReason[] = [];
    let opened = 0;
    const serverMux = createMultiplexer(server, {
      role: "server",
      heartbeatMs: 0,
      maxChannelsPerPeer: 1,
      onRequest: () => (opened += 1),
      onDrop: (_e, _p, reason) => drops.push(reason),
    });
    sendRaw(client, "a", []);
    sendRaw(client, "b", []);
    await until(() => drops.length === 1);
    expect(opened).toBe(1);
    expect(drops).toEqual(["channel-limit"]);
    await serverMux.close();

    const pair = createLinkedPair();
    let count = 0;
    const unlimited = createMultiplexer(pair.server, { role: "server", heartbeatMs: 0, maxChannelsPerPeer: 0, onRequest: () => (count += 1) });
    for (let i = 0; i < 20; i++) sendRaw(pair.client, "x", []);
    await until(() => count === 20);
    await unlimited.close();
    expect(() => createMultiplexer(createLinkedPair().server, { role: "server", maxChannelsPerPeer: -1 })).toThrow(RangeError);
  });
});
