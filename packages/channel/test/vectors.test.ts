/**
 * The golden transcripts (vendored in @zrpc/test-support) replayed at the channel level: one side is
 * ours, the other replays what zerorpc-python sent, and our side must produce the event sequence
 * (names, args, response_to links, heartbeat timing) that the recorded Python side produced.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { createMultiplexer } from "@zrpc/channel";
import type { Channel } from "@zrpc/channel";
import { createLinkedPair } from "@zrpc/channel/testing";
import type { Event } from "@zrpc/wire";
import { Recorder, loadVector, sendRaw, symbolise } from "./helpers.js";
import type { Vector, VectorMessage } from "./helpers.js";

afterEach(() => {
  vi.useRealTimers();
});

function recorded(vector: Vector, direction: VectorMessage["direction"], withHeartbeats = false) {
  return vector.messages
    .filter((m) => m.direction === direction && m.event !== undefined)
    .filter((m) => withHeartbeats || m.event!.name !== "_zpc_hb")
    .map((m) => m.event!);
}

/** The recorded server side of a stream, replayed by a raw server that honours our credits. */
async function replayStreamAsServer(vector: Vector): Promise<Event[]> {
  const serverEvents = recorded(vector, "server->client");
  const { client, server } = createLinkedPair();
  const slots = vector.settings.client_slots as number | undefined;
  const mux = createMultiplexer(client, { role: "client", heartbeatMs: 0, ...(slots ? { receiveBuffer: slots } : {}) });
  const raw = new Recorder(server);
  const request = recorded(vector, "client->server")[0]!;
  const channel = mux.open(request.name, request.args);
  await raw.until(1);
  let credit = 1;
  let next = 0;
  let seen = 1;
  const pump = async () => {
    while (next < serverEvents.length) {
      while (seen < raw.events.length) {
        const e = raw.events[seen++]!;
        if (e.name === "_zpc_more") credit += (e.args as number[])[0]!;
      }
      if (credit > 0) {
        const e = serverEvents[next++]!;
        credit -= 1;
        sendRaw(server, e.name, e.args, channel.id, undefined, raw.peer);
        await Promise.resolve();
      } else {
        await raw.until(raw.events.length + 1);
      }
    }
  };
  const pumping = pump();
  for (;;) {
    const event = await channel.take();
    if (event.name === "STREAM_DONE" || event.name === "OK" || event.name === "ERR") break;
  }
  channel.close();
  await pumping;
  await mux.close();
  return raw.events;
}

describe("golden transcripts at the channel level", () => {
  for (const scenario of ["stream_30", "stream_150", "stream_window_10", "stream_empty", "call_add", "concurrent_calls"]) {
    it(`${scenario}: our client sends what the Python client sent`, async () => {
      const vector = loadVector(scenario);
      if (scenario === "concurrent_calls") {
        // three requests, replies out of order: each channel gets its own reply
        const { client, server } = createLinkedPair();
        const mux = createMultiplexer(client, { role: "client", heartbeatMs: 0 });
        const raw = new Recorder(server);
        const requests = recorded(vector, "client->server");
        const channels = requests.map((r) => mux.open(r.name, r.args));
        await raw.until(requests.length);
        const replies = recorded(vector, "server->client");
        const byRequest = new Map(requests.map((r, i) => [r.header.message_id as string, channels[i]!]));
        for (const reply of replies) {
          sendRaw(server, reply.name, reply.args, byRequest.get(reply.header.response_to as string)!.id, undefined, raw.peer);
        }
        const got = await Promise.all(channels.map((c) => c.take()));
        for (const [i, reply] of replies.entries()) {
          const channel = byRequest.get(reply.header.response_to as string)!;
          expect(got[channels.indexOf(channel)]!.args).toEqual(reply.args);
          expect(i).toBeLessThan(replies.length);
        }
        expect(symbolise(raw.events).map((e) => e.name)).toEqual(requests.map((r) => r.name));
        await mux.close();
        return;
      }
      const ours = symbolise(await replayStreamAsServer(vector));
      const theirs = recorded(vector, "client->server");
      expect(ours.map((e) => [e.name, e.args, e.response_to])).toEqual(theirs.map((e) => [e.name, e.args, e.header.response_to]));
    });
  }

  for (const scenario of ["stream_30", "stream_150", "stream_window_10", "stream_empty"]) {
    it(`${scenario}: our server sends what the Python server sent`, async () => {
      const vector = loadVector(scenario);
      const { client, server } = createLinkedPair();
      const mux = createMultiplexer(server, {
        role: "server",
        heartbeatMs: 0,
        onRequest: (channel, request) => {
          void (async () => {
            const n = (request.args as number[])[0]!;
            for (let i = 0; i < n; i++) {
              await channel.whenWritable();
              channel.send("STREAM", i);
            }
            await channel.whenWritable();
            channel.send("STREAM_DONE", null);
            channel.close();
          })();
        },
      });
      const raw = new Recorder(client);
      const clientEvents = vector.messages.filter((m) => m.event !== undefined && m.event.name !== "_zpc_hb");
      const request = clientEvents[0]!.event!;
      const id = sendRaw(client, request.name, request.args);
      // replay each recorded _zpc_more after as many server events as preceded it in the capture
      let serverSeen = 0;
      for (const message of clientEvents.slice(1)) {
        if (message.direction === "server->client") {
          serverSeen += 1;
          continue;
        }
        await raw.until(serverSeen);
        sendRaw(client, message.event!.name, message.event!.args, id);
      }
      const expected = recorded(vector, "server->client");
      await raw.until(expected.length);
      const ours = symbolise([{ header: { message_id: id, v: 3 }, name: request.name, args: request.args }, ...raw.events]).slice(1);
      expect(ours.map((e) => [e.name, e.args, e.response_to])).toEqual(expected.map((e) => [e.name, e.args, e.header.response_to]));
      expect(raw.events.every((e) => e.header.v === 3)).toBe(true);
      await mux.close();
    });
  }

  it("heartbeat_idle_call_hb1: both sides beat every second on a pending call", async () => {
    vi.useFakeTimers({ now: 0 });
    const vector = loadVector("heartbeat_idle_call_hb1");
    const F = (vector.settings.client_heartbeat as number) * 1000;
    // our client against a raw server that replays the recorded server events at their times
    const { client, server } = createLinkedPair();
    const mux = createMultiplexer(client, { role: "client", heartbeatMs: F });
    const raw = new Recorder(server);
    const request = recorded(vector, "client->server")[0]!;
    const channel: Channel = mux.open(request.name, request.args);
    const reply = channel.take();
    await vi.advanceTimersByTimeAsync(0);
    let now = 0;
    for (const message of vector.messages.filter((m) => m.direction === "server->client")) {
      await vi.advanceTimersByTimeAsync(message.t_ms - now);
      now = message.t_ms;
      sendRaw(server, message.event!.name, message.event!.args, channel.id, undefined, raw.peer);
    }
    await expect(reply).resolves.toMatchObject({ name: "OK" });
    const ourBeats = raw.events.flatMap((e, i) => (e.name === "_zpc_hb" ? [raw.times[i]!] : []));
    const theirBeats = recorded(vector, "client->server", true)
      .map((e, i) => ({ e, t: vector.messages.filter((m) => m.direction === "client->server")[i]!.t_ms }))
      .filter(({ e }) => e.name === "_zpc_hb")
      .map(({ t }) => t);
    expect(ourBeats).toHaveLength(theirBeats.length);
    for (const [i, t] of ourBeats.entries()) expect(Math.abs(t - theirBeats[i]!)).toBeLessThan(50);
    expect(symbolise(raw.events).every((e) => e.name === "sleep" || e.response_to === "#1")).toBe(true);
    await mux.close();
  });

  it("heartbeat_passive_client: a passive client beats only after the server's first beat", async () => {
    vi.useFakeTimers({ now: 0 });
    const vector = loadVector("heartbeat_passive_client");
    const F = (vector.settings.client_heartbeat as number) * 1000;
    const { client, server } = createLinkedPair();
    const mux = createMultiplexer(client, { role: "client", heartbeatMs: F, passiveHeartbeat: true });
    const raw = new Recorder(server);
    const request = recorded(vector, "client->server")[0]!;
    const channel = mux.open(request.name, request.args);
    const reply = channel.take();
    await vi.advanceTimersByTimeAsync(0);
    let now = 0;
    for (const message of vector.messages.filter((m) => m.direction === "server->client")) {
      await vi.advanceTimersByTimeAsync(message.t_ms - now);
      now = message.t_ms;
      sendRaw(server, message.event!.name, message.event!.args, channel.id, undefined, raw.peer);
    }
    await expect(reply).resolves.toMatchObject({ name: "OK" });
    const ourBeats = raw.events.flatMap((e, i) => (e.name === "_zpc_hb" ? [raw.times[i]!] : []));
    // recorded: server beats at ~1.0 s and ~2.0 s, the client's first beat at ~2.0 s
    expect(ourBeats).toHaveLength(1);
    expect(Math.abs(ourBeats[0]! - 2_005)).toBeLessThan(50);
    await mux.close();
  });

  it("stream_abandon: our server sends 1 + 100 items, then only heartbeats, then gives up silently at 3 s", async () => {
    vi.useFakeTimers({ now: 0 });
    const vector = loadVector("stream_abandon");
    const F = (vector.settings.server_heartbeat as number) * 1000;
    const { client, server } = createLinkedPair();
    let serverChannel: Channel | undefined;
    const mux = createMultiplexer(server, {
      role: "server",
      heartbeatMs: F,
      onRequest: (channel, request) => {
        serverChannel = channel;
        void (async () => {
          for (let i = 0; i < (request.args as number[])[0]!; i++) {
            await channel.whenWritable();
            channel.send("STREAM", i);
          }
        })().catch(() => undefined);
      },
    });
    const raw = new Recorder(client);
    const id = sendRaw(client, "range", [100_000]);
    await raw.until(1);
    sendRaw(client, "_zpc_more", [100], id); // as recorded, then the client abandons
    await vi.advanceTimersByTimeAsync(10 * F);
    const names = raw.names();
    expect(names.filter((n) => n === "STREAM")).toHaveLength(101);
    const tail = names.slice(101);
    expect(tail).toEqual(recorded(vector, "server->client", true).slice(101).map((e) => e.name));
    expect(tail).toEqual(["_zpc_hb", "_zpc_hb"]);
    expect(serverChannel!.end?.kind).toBe("lost-remote");
    expect(mux.size).toBe(0);
    await mux.close();
  });

  it("timeout_server_gives_up: a client that stops beating loses its call, with no reply", async () => {
    vi.useFakeTimers({ now: 0 });
    const vector = loadVector("timeout_server_gives_up");
    const F = (vector.settings.server_heartbeat as number) * 1000;
    const { client, server } = createLinkedPair();
    let signal: AbortSignal | undefined;
    const mux = createMultiplexer(server, {
      role: "server",
      heartbeatMs: F,
      onRequest: (channel) => {
        signal = channel.signal;
      },
    });
    const raw = new Recorder(client);
    const id = sendRaw(client, "sleep", [5]);
    // The client's only beat, then it timed out. In the capture it arrived just before the
    // server's first tick, so it is sent just before ours.
    await vi.advanceTimersByTimeAsync(F - 1);
    sendRaw(client, "_zpc_hb", [0], id);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(raw.names()).toEqual(recorded(vector, "server->client", true).map((e) => e.name));
    expect(signal!.aborted).toBe(true);
    expect((signal!.reason as Error).name).toBe("LostRemote");
    await mux.close();
  });
});
