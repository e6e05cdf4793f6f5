// The Node.js APIs the packages use beyond node:net, on Bun and on Deno: the server's call context
// (AsyncLocalStorage) after awaits and in a stream, the client's node:diagnostics_channel events,
// and the one-way PUSH -> PULL pair, in one process on each runtime (fixtures/context-diagnostics.mjs).
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FIXTURES, RUNTIMES, startOn } from "./runtimes.js";

for (const runtime of RUNTIMES) {
  describe(`on ${runtime}`, () => {
    it("call context (AsyncLocalStorage), client diagnostics_channel events, push -> pull", async () => {
      const child = startOn(runtime, join(FIXTURES, "context-diagnostics.mjs"));
      const exit = await child.exited;
      expect(child.stdout, child.stderr.join("\n")).toEqual([
        "OK call context after awaits, 20 calls at once",
        "OK call context in a stream",
        "OK client diagnostics_channel events",
        "OK push -> pull",
      ]);
      expect(exit).toEqual({ code: 0, signal: null });
    });
  });
}
