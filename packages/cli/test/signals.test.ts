// Stopping `zrpc run`: SIGTERM / SIGINT drain the calls in flight, then exit 0.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { connect } from "@zrpc/client";
import { FIXTURES, startServer } from "./helpers.js";

const BASIC = { cwd: join(FIXTURES, "basic") };

describe("zrpc run stops cleanly", () => {
  it("SIGTERM lets an in-flight call finish and reply, then exits 0", async () => {
    const { server, endpoint } = await startServer(["127.0.0.1:0"], BASIC);
    const client = await connect(endpoint, { connectTimeoutMs: 30_000 });
    try {
      // slow() prints "slow: started" when it runs, then works for 1.5 s.
      const reply = client.call("slow", [1500]);
      await server.waitForLine(/^slow: started$/, "stderr");
      server.child.kill("SIGTERM");
      await server.waitForLine(/^zrpc: SIGTERM: stopping, waiting up to 10s for 1 call in flight$/, "stderr");
      expect(await reply).toBe("slow: done");
      expect(await server.exited).toEqual({ code: 0, signal: null });
      expect(server.stderr.some((line) => /^\[\d\d:\d\d:\d\d\] slow -> OK \(\d+ms\)$/.test(line))).toBe(true);
      expect(server.stderr.at(-1)).toBe("zrpc: stopped");
    } finally {
      await client.close();
    }
  });

  it("SIGINT with nothing in flight exits 0", async () => {
    const { server } = await startServer(["127.0.0.1:0", "--quiet"], BASIC);
    expect(await server.stop("SIGINT")).toEqual({ code: 0, signal: null });
    expect(server.stderr).toEqual(["zrpc: SIGINT: stopping", "zrpc: stopped"]);
  });

  it("gives up on calls still running after --grace, and still exits 0", async () => {
    const { server, endpoint } = await startServer(["127.0.0.1:0", "--grace", "0.2"], BASIC);
    const client = await connect(endpoint, { connectTimeoutMs: 30_000 });
    try {
      const reply = client.call("slow", [60_000]);
      reply.catch(() => undefined);
      await server.waitForLine(/^slow: started$/, "stderr");
      server.child.kill("SIGTERM");
      expect(await server.exited).toEqual({ code: 0, signal: null });
      expect(server.stderr).toContain("zrpc: SIGTERM: stopping, waiting up to 0.2s for 1 call in flight");
      expect(server.stderr.some((line) => /slow -> abandoned at shutdown/.test(line))).toBe(true);
    } finally {
      await client.close();
    }
  });

  it("a second signal while draining exits 1 at once", async () => {
    const { server, endpoint } = await startServer(["127.0.0.1:0"], BASIC);
    const client = await connect(endpoint, { connectTimeoutMs: 30_000 });
    try {
      client.call("slow", [60_000]).catch(() => undefined);
      await server.waitForLine(/^slow: started$/, "stderr");
      server.child.kill("SIGTERM");
      await server.waitForLine(/SIGTERM: stopping/, "stderr");
      server.child.kill("SIGINT");
      expect(await server.exited).toEqual({ code: 1, signal: null });
      expect(server.stderr).toContain("zrpc: SIGINT again, exiting without waiting for calls in flight");
    } finally {
      await client.close();
    }
  });
});
