// Issue #18: `zrpc call <endpoint> sleep 4` with the CLI's 5 s heartbeat against a @zrpc/server
// that heartbeats every 1 s. What happens: the client's first heartbeat is due 5 s into the call,
// but the server declares the client lost at its third tick (3 s, no client heartbeat for two of
// its intervals), ends the call and stops heartbeating it (nothing is sent: zerorpc has no such
// message). The client got the server's heartbeats at 1 s and 2 s, then silence, and declares the
// server lost two of its own intervals after the last one. The LostRemote says so.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createMemoryServer } from "@zrpc/channel/testing";
import { createServer } from "@zrpc/server";
import { LostRemote, createClient } from "../src/index.js";

beforeEach(() => {
  vi.useFakeTimers({ now: 0 });
});
afterEach(() => {
  vi.useRealTimers();
});

describe("heartbeat mismatch (issue #18)", () => {
  it("a 5 s client against a 1 s server: the server drops the call, the client's LostRemote says why and what to set", async () => {
    let handlerLost: unknown;
    const events: string[] = [];
    const server = createServer(
      {
        async sleep(seconds: number): Promise<number> {
          await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
          return seconds;
        },
      },
      {
        heartbeatMs: 1000,
        logger: null,
        middleware: [
          {
            name: "observer",
            onEnd(call, outcome) {
              events.push(`${call.method}: ${outcome.kind} at ${Date.now()}`);
              if (outcome.kind === "lost-remote") handlerLost = outcome.error;
            },
          },
        ],
      },
    );
    const network = createMemoryServer();
    server.serve(network.transport);
    const client = createClient({ transport: network.connect(), heartbeatMs: 5000, timeoutMs: 0 });
    const settled = client.call("sleep", [4]).catch((error: unknown) => error);
    await vi.advanceTimersByTimeAsync(20_000);
    const error = await settled;

    // The server gave up on the call at 3 s (its own LostRemote, judged by 1 s).
    expect(events).toEqual(["sleep: lost-remote at 3000"]);
    expect((handlerLost as LostRemote).message).toBe("Lost remote: no heartbeat from the client for 3 s (heartbeat 1 s)");

    // The client saw the server's heartbeats at 1 s and 2 s, then nothing: lost at 15 s.
    expect(error).toBeInstanceOf(LostRemote);
    const lost = error as LostRemote;
    expect(lost.name).toBe("LostRemote");
    expect(lost.peerHeartbeats).toBe(2);
    expect(lost.peerHeartbeatMs).toBe(1000);
    expect(lost.message).toBe(
      "Lost remote: no heartbeat from the server for 13 s (heartbeat 5 s). The server heartbeated this call every ~1 s, then stopped while this client beats every 5 s: the server most likely declared this client lost and dropped the call (heartbeat mismatch). Use the server's interval: client option heartbeatMs: 1000, CLI --heartbeat 1",
    );
    await client.close();
    await server.close(0);
  });
});
