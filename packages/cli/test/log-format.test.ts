// `zrpc run --log-format json`: one JSON object per line on stdout, per call and per lifecycle event.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { connect } from "@zrpc/client";
import { FIXTURES, runCli, startCli } from "./helpers.js";

const BASIC = { cwd: join(FIXTURES, "basic") };
const ISO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

describe("zrpc run --log-format json", () => {
  it("writes a record per call and per lifecycle event, and nothing else on stdout or stderr", async () => {
    const server = startCli(["run", "127.0.0.1:0", "--log-format", "json"], BASIC);
    const listening = JSON.parse((await server.waitForLine(/^.*"event":"listening".*$/))[0]) as Record<string, unknown>;
    expect(listening).toMatchObject({ event: "listening", name: "Basic", heartbeat_s: 5, transport: "zmtp", time: expect.stringMatching(ISO_TIME) });
    expect(listening.methods).toEqual(expect.arrayContaining(["add", "countdown", "fail", "hello", "slow"]));
    const endpoint = (listening.endpoints as string[])[0]!;

    const client = await connect(endpoint, { connectTimeoutMs: 30_000 });
    try {
      expect(await client.call("add", [2, 3])).toBe(5);
      await expect(client.call("fail", ["bad input"])).rejects.toThrow("bad input");
      await expect(client.call("nope")).rejects.toThrow("nope");
      const items: unknown[] = [];
      for await (const item of client.stream("countdown", [2])) items.push(item);
      expect(items).toEqual([2, 1]);
    } finally {
      await client.close();
    }
    await server.waitForLine(/"method":"countdown"/);
    expect(await server.stop("SIGTERM")).toEqual({ code: 0, signal: null });
    expect(server.stderr).toEqual([]);

    const records = server.stdout.map((line) => JSON.parse(line) as Record<string, unknown>);
    for (const record of records) expect(record.time).toMatch(ISO_TIME);
    const calls = records.filter((record) => record.event === "call");
    expect(calls.map((record) => [record.method, record.outcome, record.error])).toEqual([
      ["add", "ok", undefined],
      ["fail", "error", "ValueError"],
      ["nope", "error", "NameError"],
      ["countdown", "ok", undefined],
    ]);
    for (const record of calls) {
      // An unknown method is refused before the call starts: no duration.
      expect(record.duration_ms).toEqual(record.method === "nope" ? null : expect.any(Number));
      expect(record.peer).toEqual(expect.any(String));
    }
    expect(calls[1]).toMatchObject({ message: "bad input" });
    expect(calls[3]).toMatchObject({ items: 2 });
    expect(records.map((record) => record.event).filter((event) => event !== "call")).toEqual(["listening", "draining", "stopped"]);
    expect(records.find((record) => record.event === "draining")).toMatchObject({ reason: "SIGTERM", in_flight: 0, grace_s: 10 });
  });

  it("refuses an unknown format (status 2)", async () => {
    const result = await runCli(["run", "127.0.0.1:0", "--log-format", "xml"], BASIC);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('zrpc run: --log-format must be text or json, got "xml"');
  });
});
