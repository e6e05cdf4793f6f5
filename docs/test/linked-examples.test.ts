// The runnable examples that README.md and guide/get-started.md send a newcomer to still run and
// say what the pages promise.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { docsRoot } from "./harness/paths.js";

const repoRoot = join(docsRoot, "..");

describe("examples/hello", () => {
  it("is linked from the README and the get-started page", () => {
    expect(readFileSync(join(repoRoot, "README.md"), "utf8")).toContain("](examples/hello/demo.mjs)");
    expect(readFileSync(join(docsRoot, "guide", "get-started.md"), "utf8")).toContain("](../../examples/hello/demo.mjs)");
  });

  it("node examples/hello/demo.mjs serves and calls over loopback, then exits 0", async () => {
    const child = spawn(process.execPath, ["examples/hello/demo.mjs"], { cwd: repoRoot });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
    expect(stdout).toMatch(/^server: listening on tcp:\/\/127\.0\.0\.1:\d+, methods hello, add, countdown$/m);
    expect(stdout).toContain('client: hello("zrpc")  -> "Hello, zrpc!"');
    expect(stdout).toContain("client: add(2, 3)      -> 5");
    expect(stdout).toContain("client: countdown(3)   -> [3,2,1] (streamed)");
    expect(stdout.trimEnd().split("\n").at(-1)).toBe("demo: done");
  });
});
