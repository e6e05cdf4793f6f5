// The pages whose code blocks are tests: docs/index.md and every docs/guide/*.md.
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { docsRoot } from "./paths.js";

export function testedPages(): string[] {
  return ["index.md", ...readdirSync(join(docsRoot, "guide")).filter((f) => f.endsWith(".md")).sort().map((f) => `guide/${f}`)];
}
