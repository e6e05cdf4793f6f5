/**
 * The whole check suite in every pairing of the two transports that involves ZMTP: our client on
 * @zrpc/transport-zmtp against our server on @zrpc/transport-zmtp (the defaults), ZMTP to
 * zeromq.js and back (zeromq.js to zeromq.js is checks.test.ts). In one process over real sockets on loopback; the
 * pairings run one after the other (each one like checks.test.ts: 12 checks at a time).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createChecks, openTransport, runChecks, serveTestService } from "../src/index.js";
import type { CheckResult, ServedTestService, TransportName } from "../src/index.js";

const checks = createChecks();

const PAIRINGS: readonly (readonly [client: TransportName, server: TransportName])[] = [
  ["zmtp", "zmtp"],
  ["zmtp", "zeromq"],
  ["zeromq", "zmtp"],
];

describe("openTransport", () => {
  it("makes the transport of the package named", async () => {
    const zmtp = await openTransport("zmtp", "router", { bind: "tcp://127.0.0.1:*" });
    const zeromq = await openTransport("zeromq", "router", { bind: "tcp://127.0.0.1:*" });
    try {
      // Only @zrpc/transport-zmtp's transports have stats().
      expect(typeof (zmtp as { stats?: unknown }).stats).toBe("function");
      expect((zeromq as { stats?: unknown }).stats).toBeUndefined();
      for (const transport of [zmtp, zeromq]) {
        expect(transport.kind).toBe("router");
        expect(transport.endpoints[0]).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
      }
    } finally {
      await Promise.all([zmtp.close(), zeromq.close()]);
    }
  });
});

describe.each(PAIRINGS)("TestService checks: our client on %s against our server on %s", (clientTransport, serverTransport) => {
  let served: ServedTestService | undefined;
  let results: Map<string, CheckResult>;
  let elapsedMs = 0;

  beforeAll(async () => {
    served = await serveTestService(serverTransport, "tcp://127.0.0.1:*");
    const started = Date.now();
    const list = await runChecks(served.endpoints[0]!, { checks, concurrency: 12, transport: clientTransport });
    elapsedMs = Date.now() - started;
    results = new Map(list.map((result) => [result.name, result]));
  }, 120_000);

  afterAll(async () => {
    await served?.server.close();
  });

  it("ran every check", () => {
    expect(results.size).toBe(checks.length);
    expect(elapsedMs).toBeLessThan(60_000);
  });

  it.each(checks.map((check) => check.name))("%s", (name) => {
    const result = results.get(name)!;
    expect(result.reason, name).toBeUndefined();
    expect(result.passed).toBe(true);
  });
});
