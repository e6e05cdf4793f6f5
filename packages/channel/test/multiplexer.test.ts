import { describe, expect, it } from "vitest";
import { createMultiplexer } from "@zrpc/channel";
import type { Channel, DropReason, Peer } from "@zrpc/channel";
import { createLinkedPair, createMemoryServer } from "@zrpc/channel/testing";
import { ProtocolError, encodeEvent, messageIdKey } from "@zrpc/wire";
import type { Event } from "@zrpc/wire";
import { Recorder, flush, sendRaw } from "./helpers.js";

function adder(channel: Channel, request: Event): void {
  const [a, b] = request.args as [number, number];
  channel.send("OK", [a + b]);
  channel.close();
}

describe("multiplexer", () => {
  it("routes a request and its reply, and forgets both channels afterwards", async () => {
    const { client, server } = createLinkedPair();
    const serverMux = createMultiplexer(server, { role: "server", heartbeatMs: 0, onRequest: adder });
    const clientMux = createMultiplexer(client, { role: "client", heartbeatMs: 0 });
    const channel = clientMux.open("add", [2, 3]);
    expect(clientMux.size).toBe(1);
    const reply = await channel.take();
    expect(reply.name).toBe("OK");
    expect(reply.args).toEqual([5]);
    expect(messageIdKey(reply.header.response_to!)).toBe(messageIdKey(channel.id));
    channel.close();
    expect(clientMux.size).toBe(0);
    expect(serverMux.size).toBe(0);
    await clientMux.close();
    await serverMux.close();
  });

  it("multiplexes many concurrent channels on one transport, replies in any order", async () => {
    const { client, server } = createLinkedPair();
    const pending: Channel[] = [];
    const serverMux = createMultiplexer(server, {
      role: "server",
      heartbeatMs: 0,
      onRequest: (channel) => pending.push(channel),
    });
    const clientMux = createMultiplexer(client, { role: "client", heartbeatMs: 0 });
    const calls = Array.from({ length: 50 }, (_, i) => clientMux.open("echo", [i]));
    await flush(50);
    expect(serverMux.size).toBe(50);
    // answer in reverse order
    for (const channel of [...pending].reverse()) channel.send("OK", [`re:${String(pending.indexOf(channel))}`]);
    const replies = await Promise.all(calls.map((c) => c.take()));
    expect(replies.map((r) => (r.args as string[])[0])).toEqual(calls.map((_, i) => `re:${i}`));
    await clientMux.close();
    await serverMux.close();
  });

  it("keys server channels by peer: two clients may use the same message id at once", async () => {
    const network = createMemoryServer();
    const held: Channel[] = [];
    const serverMux = createMultiplexer(network.transport, {
      role: "server",
      heartbeatMs: 0,
      onRequest: (channel) => held.push(channel),
    });
    const a = network.connect();
    const b = network.connect();
    const ra = new Recorder(a);
    const rb = new Recorder(b);
    const sameId = new TextEncoder().encode("0123456789abcdef0123456789abcdef");
    sendRaw(a, "who", ["a"], undefined, sameId);
    sendRaw(b, "who", ["b"], undefined, sameId);
    await flush(20);
    expect(serverMux.size).toBe(2);
    for (const channel of held) channel.send("OK", [`${String(channel.peer.key)}`]);
    await ra.until(1);
    await rb.until(1);
    expect(ra.events[0]!.args).toEqual([held[0]!.peer.key]);
    expect(rb.events[0]!.args).toEqual([held[1]!.peer.key]);
    expect(held[0]!.peer.key).not.toBe(held[1]!.peer.key);
    await serverMux.close();
  });

  it("drops a second request with the id of a channel still open on the same peer", async () => {
    const { client, server } = createLinkedPair();
    const drops: DropReason[] = [];
    let requests = 0;
    const serverMux = createMultiplexer(server, {
      role: "server",
      heartbeatMs: 0,
      onRequest: () => requests++,
      onDrop: (_event, _peer, reason) => drops.push(reason),
    });
    const id = new TextEncoder().encode("ffffffffffffffffffffffffffffffff");
    sendRaw(client, "slow", [], undefined, id);
    sendRaw(client, "slow", [], undefined, id);
    await flush(20);
    expect(requests).toBe(1);
    expect(drops).toEqual(["duplicate-id"]);
    await serverMux.close();
  });

  it("drops unroutable events quietly and keeps serving", async () => {
    const { client, server } = createLinkedPair();
    const drops: [string, DropReason][] = [];
    const serverMux = createMultiplexer(server, {
      role: "server",
      heartbeatMs: 0,
      onRequest: adder,
      onDrop: (event, _peer, reason) => drops.push([event.name, reason]),
    });
    const recorder = new Recorder(client);
    sendRaw(client, "_zpc_more", [10], new TextEncoder().encode("nope"));
    sendRaw(client, "_zpc_hb", [0]); // a heartbeat opens no channel
    sendRaw(client, "add", [1, 2]);
    await recorder.until(1);
    expect(recorder.events[0]!.args).toEqual([3]);
    expect(drops).toEqual([
      ["_zpc_more", "unroutable"],
      ["_zpc_hb", "unroutable"],
    ]);
    await serverMux.close();
  });

  it("reports undecodable messages and requests without message_id as ProtocolError, never throws", async () => {
    const { client, server } = createLinkedPair();
    const errors: ProtocolError[] = [];
    const serverMux = createMultiplexer(server, {
      role: "server",
      heartbeatMs: 0,
      onRequest: adder,
      onProtocolError: (error) => errors.push(error),
    });
    const recorder = new Recorder(client);
    client.send(undefined, new Uint8Array([0x93, 0xc1, 0xc1]));
    client.send(undefined, new Uint8Array([0xdb, 0xff, 0xff, 0xff, 0xff]));
    client.send(undefined, encodeEvent({ header: { message_id: "x", v: 3 }, name: "add", args: [1, 1] }).subarray(0, 5));
    // a request with no message_id cannot be answered
    client.send(undefined, new Uint8Array([0x93, 0x81, 0xa1, 0x76, 0x03, 0xa3, 0x61, 0x64, 0x64, 0x92, 0x01, 0x01]));
    sendRaw(client, "add", [20, 22]);
    await recorder.until(1);
    expect(recorder.events[0]!.args).toEqual([42]);
    expect(errors).toHaveLength(4);
    for (const error of errors) expect(error).toBeInstanceOf(ProtocolError);
    expect(errors[3]!.reason).toBe("bad-message-id");
    await serverMux.close();
  });

  it("a client drops events without response_to", async () => {
    const { client, server } = createLinkedPair();
    const drops: DropReason[] = [];
    const clientMux = createMultiplexer(client, {
      role: "client",
      heartbeatMs: 0,
      onDrop: (_e, _p, reason) => drops.push(reason),
    });
    let peer: Peer | undefined;
    const reader = (async () => {
      for await (const message of server) {
        peer = message.peer;
        break;
      }
    })();
    const channel = clientMux.open("x", []);
    await reader;
    server.send(peer, encodeEvent({ header: { message_id: "m", v: 3 }, name: "OK", args: [1] }));
    await flush(20);
    expect(drops).toEqual(["no-response-to"]);
    expect(channel.isOpen).toBe(true);
    await clientMux.close();
    expect(channel.end?.kind).toBe("shutdown");
  });

  it("echoes the request id's exact msgpack type in response_to (str and int ids)", async () => {
    const { client, server } = createLinkedPair();
    const serverMux = createMultiplexer(server, { role: "server", heartbeatMs: 0, onRequest: adder });
    const recorder = new Recorder(client);
    sendRaw(client, "add", [1, 1], undefined, "a-str-id");
    sendRaw(client, "add", [2, 2], undefined, 77);
    await recorder.until(2);
    expect(recorder.events[0]!.header.response_to).toBe("a-str-id");
    expect(recorder.events[1]!.header.response_to).toBe(77);
    expect(recorder.events[0]!.header.v).toBe(3);
    expect(recorder.events[0]!.header.message_id).toBeInstanceOf(Uint8Array);
    await serverMux.close();
  });

  it("closing the transport ends every channel with a shutdown and rejects pending takes", async () => {
    const { client, server } = createLinkedPair();
    const clientMux = createMultiplexer(client, { role: "client", heartbeatMs: 0 });
    const channel = clientMux.open("never", []);
    const pending = channel.take();
    await server.close();
    await expect(pending).rejects.toMatchObject({ code: "closed" });
    expect(channel.end?.kind).toBe("shutdown");
    expect(clientMux.size).toBe(0);
    expect(() => clientMux.open("again", [])).toThrow(/closed/);
  });

  it("an unencodable request throws at open and leaves no channel behind", async () => {
    const { client } = createLinkedPair();
    const clientMux = createMultiplexer(client, { role: "client", heartbeatMs: 0 });
    expect(() => clientMux.open("x", [() => 1])).toThrow(/serialize/);
    expect(clientMux.size).toBe(0);
    await clientMux.close();
  });
});

describe("multiplexer robustness", () => {
  it("a throwing callback is reported and does not stop the read loop", async () => {
    const { client, server } = createLinkedPair();
    const errors: unknown[] = [];
    let calls = 0;
    const serverMux = createMultiplexer(server, {
      role: "server",
      heartbeatMs: 0,
      onRequest: (channel, request) => {
        calls += 1;
        if (calls === 1) throw new Error("handler bug");
        adder(channel, request);
      },
      onError: (error) => errors.push(error),
    });
    const recorder = new Recorder(client);
    sendRaw(client, "add", [1, 1]);
    sendRaw(client, "add", [2, 2]);
    await recorder.until(1);
    expect(recorder.events[0]!.args).toEqual([4]);
    expect(errors).toHaveLength(1);
    expect((errors[0] as Error).message).toBe("handler bug");
    await serverMux.close();
  });

  it("task-context keys never replace message_id, v or response_to", async () => {
    const { client, server } = createLinkedPair();
    const serverMux = createMultiplexer(server, {
      role: "server",
      heartbeatMs: 0,
      onRequest: (channel) => {
        channel.send("OK", [1], { message_id: "forged", v: 9, response_to: "forged", trace: "t-1" });
        channel.close();
      },
    });
    const recorder = new Recorder(client);
    const id = sendRaw(client, "x", []);
    await recorder.until(1);
    const header = recorder.events[0]!.header;
    expect(header.message_id).toBeInstanceOf(Uint8Array);
    expect(header.v).toBe(3);
    expect(header.response_to).toEqual(id);
    expect(header.trace).toBe("t-1");
    await serverMux.close();
  });
});

describe("multiplexer over a transport with onMessage (synchronous delivery)", () => {
  it("serves calls through the listener, not the iterator, and takeInto gets replies by callback", async () => {
    const { client, server } = createLinkedPair({ onMessage: true });
    expect(typeof server.onMessage).toBe("function");
    const serverMux = createMultiplexer(server, { role: "server", heartbeatMs: 0, onRequest: adder });
    const clientMux = createMultiplexer(client, { role: "client", heartbeatMs: 0 });
    // The multiplexers took the listener: iterating the transports now fails.
    expect(() => server[Symbol.asyncIterator]()).toThrow(/exactly one reader/);
    expect(() => client[Symbol.asyncIterator]()).toThrow(/exactly one reader/);
    const channel = clientMux.open("add", [20, 22]);
    const reply = await new Promise<Event>((resolve, reject) => channel.takeInto({ resolve, reject }));
    expect(reply.name).toBe("OK");
    expect(reply.args).toEqual([42]);
    channel.close();
    // A take on a closed channel is rejected at once, synchronously.
    let rejected: Error | undefined;
    channel.takeInto({ resolve: () => undefined, reject: (error) => (rejected = error) });
    expect(rejected?.name).toBe("ChannelClosedError");
    expect(clientMux.size).toBe(0);
    expect(serverMux.size).toBe(0);
    await clientMux.close();
    await serverMux.close();
  });

  it("ends open channels with a shutdown when the transport closes", async () => {
    const { client, server } = createLinkedPair({ onMessage: true });
    const held: Channel[] = [];
    const serverMux = createMultiplexer(server, { role: "server", heartbeatMs: 0, onRequest: (channel) => held.push(channel) });
    const clientMux = createMultiplexer(client, { role: "client", heartbeatMs: 0 });
    const channel = clientMux.open("wait", []);
    const taken = channel.take();
    await flush(5);
    expect(held).toHaveLength(1);
    await client.close();
    await expect(taken).rejects.toMatchObject({ code: "closed" });
    expect(channel.end?.kind).toBe("shutdown");
    expect(await clientMux.closed).toBeUndefined();
    await serverMux.close();
  });
});
