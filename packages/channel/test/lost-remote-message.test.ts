// Issue #18: a LostRemote says how long the peer was silent, the interval it judged by, and, when
// the peer had heartbeated the channel, that a heartbeat mismatch is the usual cause and how to fix it.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { LostRemote, createMultiplexer } from "@zrpc/channel";
import { createLinkedPair } from "@zrpc/channel/testing";
import { Recorder, sendRaw } from "./helpers.js";

beforeEach(() => {
  vi.useFakeTimers({ now: 0 });
});
afterEach(() => {
  vi.useRealTimers();
});

async function lostCall(options: { heartbeatMs: number; peerName?: () => string | undefined }, serverBeats: number[]) {
  const { client, server } = createLinkedPair();
  const mux = createMultiplexer(client, {
    role: "client",
    heartbeatMs: options.heartbeatMs,
    ...(options.peerName !== undefined && { peerName: options.peerName }),
  });
  const raw = new Recorder(server);
  const channel = mux.open("sleep", [4]);
  const settled = channel.take().catch((error: unknown) => error);
  await vi.advanceTimersByTimeAsync(0);
  await raw.until(1);
  let now = 0;
  for (const at of serverBeats) {
    await vi.advanceTimersByTimeAsync(at - now);
    now = at;
    sendRaw(server, "_zpc_hb", [0], channel.id, undefined, raw.peer);
  }
  await vi.runAllTimersAsync();
  const error = await settled;
  await mux.close();
  return { error: error as LostRemote, lostAt: Date.now() };
}

describe("LostRemote message (issue #18)", () => {
  it("a server never heard from: the silence and the interval, no mismatch hint", async () => {
    const { error, lostAt } = await lostCall({ heartbeatMs: 5000 }, []);
    expect(error).toBeInstanceOf(LostRemote);
    expect(error.name).toBe("LostRemote");
    expect(error.code).toBe("lost-remote");
    expect(lostAt).toBe(15_000);
    expect(error.message).toBe("Lost remote: no heartbeat from the server for 15 s (heartbeat 5 s)");
    expect(error.heartbeatMs).toBe(5000);
    expect(error.silentMs).toBe(15_000);
    expect(error.peerHeartbeats).toBe(0);
  });

  it("names the peer when the multiplexer has a name for it", async () => {
    const { error } = await lostCall({ heartbeatMs: 10_000, peerName: () => "tcp://127.0.0.1:4242" }, []);
    expect(error.message).toBe("Lost remote: no heartbeat from tcp://127.0.0.1:4242 for 30 s (heartbeat 10 s)");
  });

  it("a server that beat every 1 s then went silent (zrpc call sleep 4 against a 1 s server): says the server dropped the call and how to fix it", async () => {
    // The server beats at 1 s and 2 s, then declares our 5 s client lost at 3 s and goes silent.
    const { error, lostAt } = await lostCall({ heartbeatMs: 5000 }, [1000, 2000]);
    expect(lostAt).toBe(15_000);
    expect(error.silentMs).toBe(13_000);
    expect(error.peerHeartbeats).toBe(2);
    expect(error.peerHeartbeatMs).toBe(1000);
    expect(error.message).toContain("Lost remote: no heartbeat from the server for 13 s (heartbeat 5 s)");
    expect(error.message).toContain("The server heartbeated this call every ~1 s, then stopped");
    expect(error.message).toContain("declared this client lost and dropped the call (heartbeat mismatch)");
    expect(error.message).toContain("client option heartbeatMs: 1000, CLI --heartbeat 1");
  });

  it("a server heard once, then silent: a heartbeat mismatch is the usual cause", async () => {
    const { error } = await lostCall({ heartbeatMs: 1000 }, [500]);
    expect(error.message).toBe(
      "Lost remote: no heartbeat from the server for 2.5 s (heartbeat 1 s), after 1 heartbeat: the peer was up, so a heartbeat mismatch with the server is the usual cause; use the same interval on both sides (client option heartbeatMs, CLI --heartbeat)",
    );
  });

  it("a peer slower than us: says its interval", async () => {
    const { error } = await lostCall({ heartbeatMs: 1000 }, [100, 1900]);
    expect(error.peerHeartbeatMs).toBe(1800);
    expect(error.message).toContain("The peer heartbeats only every ~1.8 s: a heartbeat mismatch is the usual cause");
  });

  it("the default constructor still gives a sensible message", () => {
    expect(new LostRemote(2000).message).toBe("Lost remote: no heartbeat from the server for 4 s (heartbeat 2 s)");
  });
});
