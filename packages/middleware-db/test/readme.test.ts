// The README's examples run as written (imports of this package pointed at src/), and print what
// their comments say: `console.log(x); // expected`.
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import { format } from "node:util";
import { afterEach, describe, expect, it, vi } from "vitest";
import { databaseUrl } from "./helpers.js";

const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
const examples = [...readme.matchAll(/<!-- readme-test: (\w+) -->\s*```ts\n([\s\S]*?)```/g)].map((match) => ({
  name: match[1]!,
  code: match[2]!,
}));

/** The examples that talk to PostgreSQL (the others are self-contained). */
const NEEDS_DATABASE = new Set(["pg", "kysely"]);

const written: string[] = [];
afterEach(() => {
  for (const file of written.splice(0)) rmSync(file, { force: true });
  vi.restoreAllMocks();
});

async function run(name: string, code: string): Promise<{ printed: string[]; expected: string[] }> {
  const source = code.replace(/from "@zrpc\/middleware-db(?:\/(\w+))?"/g, (_match, entry: string | undefined) => `from "../src/${entry ?? "index"}.js"`);
  const expected = [...code.matchAll(/^console\.log\(.*\); \/\/ (.*)$/gm)].map((match) => match[1]!);
  const file = fileURLToPath(new URL(`./.readme-${name}-${process.pid}.ts`, import.meta.url));
  writeFileSync(file, `${source}\nexport {};\n`);
  written.push(file);
  const printed: string[] = [];
  vi.spyOn(console, "log").mockImplementation((...args: unknown[]) => void printed.push(format(...args)));
  await import(pathToFileURL(file).href);
  return { printed, expected };
}

describe("README", () => {
  it("has the three runnable examples", () => {
    expect(examples.map((example) => example.name)).toEqual(["pglite", "pg", "kysely"]);
  });

  for (const { name, code } of examples) {
    // The PGlite example starts its own database: 2-4 s, far more on a loaded machine.
    const timeout = name === "pglite" ? 90_000 : 30_000;
    it(`example "${name}" runs and prints what it says`, { timeout }, async () => {
      if (NEEDS_DATABASE.has(name)) databaseUrl();
      const { printed, expected } = await run(name, code);
      expect(expected.length).toBeGreaterThan(0);
      expect(printed).toEqual(expected);
    });
  }
});
