// The README's example is examples/quick-start.ts, verbatim, and prints what the README says.
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("..", import.meta.url));
const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
const example = readFileSync(new URL("../examples/quick-start.ts", import.meta.url), "utf8");

/** The fenced block of `language` that follows `marker` in the README. */
function block(language: string, marker: string): string {
  const start = readme.indexOf(marker);
  const open = readme.indexOf("```" + language + "\n", start);
  const close = readme.indexOf("\n```", open);
  return readme.slice(open + language.length + 4, close + 1);
}

describe("README", () => {
  it("shows examples/quick-start.ts verbatim", () => {
    expect(block("ts", "## Example")).toBe(example);
  });

  it("quotes the example's real output", async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", "examples/quick-start.ts"], {
      cwd: root,
      timeout: 20_000,
    });
    expect(stdout).toBe(block("text", "Output:"));
  });
});
