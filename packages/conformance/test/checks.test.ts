/**
 * The whole check suite, our client against our TestService server in one process over real
 * sockets on loopback, both on zeromq.js (the pairings with the default ZMTP transport are
 * pairings.test.ts). The checks run concurrently (they are independent; "server still
 * alive at the end" runs after all others), so the file takes about as long as the slowest check.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { zeromq } from "@zrpc/transport-zeromq";
import { createChecks, createTestService, runChecks } from "../src/index.js";
import type { CheckResult } from "../src/index.js";

const checks = createChecks();
let server: ReturnType<typeof createTestService>;
let results: Map<string, CheckResult>;
let elapsedMs = 0;

beforeAll(async () => {
  server = createTestService();
  const [endpoint] = (await server.bind("tcp://127.0.0.1:*", { transport: zeromq() })) as [string];
  const started = Date.now();
  const list = await runChecks(endpoint, { checks, concurrency: 12, transport: "zeromq" });
  elapsedMs = Date.now() - started;
  results = new Map(list.map((result) => [result.name, result]));
}, 120_000);

afterAll(async () => {
  await server?.close();
});

describe("TestService checks: our client against our server", () => {
  it("has unique check names and ran every check", () => {
    expect(new Set(checks.map((check) => check.name)).size).toBe(checks.length);
    expect(results.size).toBe(checks.length);
    expect(elapsedMs).toBeLessThan(60_000);
  });

  it.each(checks.map((check) => check.name))("%s", (name) => {
    const result = results.get(name)!;
    expect(result.reason, name).toBeUndefined();
    expect(result.passed).toBe(true);
  });
});
