// @zrpc/pool and @zrpc/client on Bun and on Deno against two TestServices on Node.js, and the
// `zrpc call` command on each runtime (its bin, as a user runs it) against one.
import { join } from "node:path";
import { serveTestService } from "@zrpc/conformance";
import type { ServedTestService } from "@zrpc/conformance";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FIXTURES, PINNED, RUNTIMES, packageFile, runtimeVersion, startOn } from "./runtimes.js";

const ZRPC = packageFile("@zrpc/cli", "bin/zrpc.js");

let servers: ServedTestService[] = [];
beforeAll(async () => {
  servers = await Promise.all([0, 1].map(() => serveTestService("zmtp", "tcp://127.0.0.1:*")));
});
afterAll(async () => {
  await Promise.all(servers.map((served) => served.server.close(0)));
});

const endpoint = (index: number): string => servers[index]!.endpoints[0]!;

for (const runtime of RUNTIMES) {
  describe(`on ${runtime}`, () => {
    it(`is the pinned ${runtime} (package.json "runtimes")`, () => {
      expect(runtimeVersion(runtime)).toBe(PINNED[runtime]);
    });

    it("@zrpc/client calls, and @zrpc/pool spreads calls and a stream over two servers", async () => {
      const child = startOn(runtime, join(FIXTURES, "pool-client.mjs"), [endpoint(0), endpoint(1)]);
      const exit = await child.exited;
      expect(child.stdout, child.stderr.join("\n")).toEqual([
        "OK client",
        "OK pool 40 calls, 4 at a time",
        "OK pool stream",
        "OK pool metrics",
        "OK pool closed",
      ]);
      expect(exit).toEqual({ code: 0, signal: null });
    });

    it("zrpc call: a reply, a stream, and a remote error (status 1, the error on stderr)", async () => {
      const add = startOn(runtime, ZRPC, ["call", endpoint(0), "add", "2", "3"], { env: { NO_COLOR: "1" } });
      expect(await add.exited, add.stderr.join("\n")).toEqual({ code: 0, signal: null });
      expect(add.stdout).toEqual(["5"]);

      const range = startOn(runtime, ZRPC, ["call", endpoint(1), "range", "3"], { env: { NO_COLOR: "1" } });
      expect(await range.exited, range.stderr.join("\n")).toEqual({ code: 0, signal: null });
      expect(range.stdout).toEqual(["0", "1", "2"]);

      const fail = startOn(runtime, ZRPC, ["call", endpoint(0), "fail", '"on purpose"'], { env: { NO_COLOR: "1" } });
      expect((await fail.exited).code).toBe(1);
      expect(fail.stderr).toContain("ValueError: on purpose");
    });
  });
}
