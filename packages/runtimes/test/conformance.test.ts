// The conformance suite across runtimes: the TestService served by the conformance CLI on Bun and
// on Deno, checked by our client on Node.js (in this process); and the conformance CLI's client on
// Bun and on Deno against a TestService on Node.js (in this process). One test per check, so a
// failure names it; the whole suite runs once per pairing (12 checks at a time) before them.
import { createChecks, runChecks, serveTestService } from "@zrpc/conformance";
import type { ServedTestService } from "@zrpc/conformance";
import { freePort } from "@zrpc/test-support";
import type { ChildHandle } from "@zrpc/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RUNTIMES, packageFile, startOn } from "./runtimes.js";

const CONFORMANCE_CLI = packageFile("@zrpc/conformance", "dist/cli.js");
const CHECK_NAMES = createChecks().map((check) => check.name);

interface Outcome {
  readonly passed: boolean;
  readonly reason?: string | undefined;
}

/** The checks' results by name, filled by a beforeAll; one test per check reads its result. */
function checkTests(results: () => ReadonlyMap<string, Outcome>): void {
  it("runs every check", () => {
    expect([...results().keys()].sort()).toEqual([...CHECK_NAMES].sort());
  });
  for (const name of CHECK_NAMES) {
    it(name, () => {
      const result = results().get(name);
      expect(result, `no result for ${name}`).toBeDefined();
      expect(result!.reason ?? "", name).toBe("");
      expect(result!.passed).toBe(true);
    });
  }
}

for (const runtime of RUNTIMES) {
  describe(`server on ${runtime}, client on Node.js`, () => {
    let server: ChildHandle | undefined;
    const results = new Map<string, Outcome>();

    beforeAll(async () => {
      const endpoint = `tcp://127.0.0.1:${await freePort()}`;
      server = startOn(runtime, CONFORMANCE_CLI, ["serve", endpoint]);
      expect(await server.waitForLine((line) => line.startsWith("READY"))).toBe(`READY ${endpoint}`);
      for (const result of await runChecks(endpoint, { concurrency: 12 })) results.set(result.name, result);
    }, 180_000);

    afterAll(async () => {
      await server?.stop({ signal: "SIGKILL" });
    });

    checkTests(() => results);

    it(`the ${runtime} server closes on SIGTERM with status 0`, async () => {
      expect(await server!.stop({ signal: "SIGTERM", graceMs: 20_000 })).toEqual({ code: 0, signal: null });
    });
  });

  describe(`client on ${runtime}, server on Node.js`, () => {
    let served: ServedTestService | undefined;
    let client: ChildHandle | undefined;
    const results = new Map<string, Outcome>();

    beforeAll(async () => {
      served = await serveTestService("zmtp", "tcp://127.0.0.1:*");
      client = startOn(runtime, CONFORMANCE_CLI, ["client", served.endpoints[0]!, "--concurrency", "12"]);
      await client.exited;
      for (const line of client.stdout) {
        const pass = /^PASS (.+)$/.exec(line);
        const fail = /^FAIL (.+?): (.*)$/.exec(line);
        if (pass !== null) results.set(pass[1]!, { passed: true });
        else if (fail !== null) results.set(fail[1]!, { passed: false, reason: fail[2]! });
      }
    }, 180_000);

    afterAll(async () => {
      await client?.stop({ signal: "SIGKILL" });
      await served?.server.close(0);
    });

    checkTests(() => results);

    it(`the ${runtime} client prints the totals and exits 0`, async () => {
      expect(client!.stdout.at(-1), client!.stderr.join("\n")).toBe(`${CHECK_NAMES.length} passed, 0 failed`);
      expect(await client!.exited).toEqual({ code: 0, signal: null });
    });
  });
}
