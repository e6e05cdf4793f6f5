// The README's example is test/fixtures/readme-example.ts, verbatim except for the import
// specifier; this test keeps them in sync and runs it.
import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it, vi } from "vitest";

const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
const example = readFileSync(new URL("./fixtures/readme-example.ts", import.meta.url), "utf8");

describe("README", () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it("shows the example file verbatim (importing from @zrpc/wire)", () => {
    const block = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(block).toBeDefined();
    expect(block).toBe(example.replace('from "../../src/index.js"', 'from "@zrpc/wire"'));
  });

  it("runs the example and prints what its comments say", async () => {
    const lines: unknown[][] = [];
    vi.spyOn(console, "log").mockImplementation((...args: unknown[]) => {
      lines.push(args);
    });
    await import("./fixtures/readme-example.js");
    expect(lines).toHaveLength(3);
    expect(lines[0]).toEqual(["add", 5]);
    expect(lines[1]![0]).toMatch(/^[0-9a-f]{32}$/);
    expect(lines[2]).toEqual([[5]]);
  });
});
