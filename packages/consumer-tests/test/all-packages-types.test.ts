/**
 * The published declarations of every package type-check in a user's project: all tarballs plus
 * the peers their entries need, installed with npm; every entry point imported from a CommonJS
 * module (the package has no "type": the .d.cts files) and from an ES module (esm/ has
 * "type": "module": the .d.ts files), in one strict tsc run with `skipLibCheck: false`.
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createProject, npmInstall, tsc, type Project } from "./consumer.js";
import { PUBLISHED } from "./packages.js";

const tarballs = inject("tarballs");

// The peers of the entries imported, at the versions the workspace tests with. `@types/emscripten`
// is PGlite's: its own declarations use the Emscripten namespace without depending on it.
const PEERS = [
  "pg@8.23.1",
  "@types/pg@8.23.1",
  "@electric-sql/pglite@0.5.16",
  "@types/emscripten@^1.41.1",
  "kysely@0.28.18",
  "@sentry/node@10.78.0",
  "@opentelemetry/api@1.9.1",
  "@types/node@^20.19.0",
];

let project: Project | undefined;

beforeAll(async () => {
  project = createProject("all-packages");
  // Types only: no install scripts (zeromq's would just load its prebuilt addon).
  await npmInstall(project.dir, [...PUBLISHED.map((name) => tarballs[name]), ...PEERS], ["--ignore-scripts"]);
});

afterAll(() => project?.remove());

describe("published declarations", () => {
  it("every entry of every published package type-checks from CJS and ESM with skipLibCheck false", async () => {
    if (project === undefined) throw new Error("beforeAll did not create the project");
    const checked = await tsc(join(project.dir, "tsconfig.json"));
    expect({ code: checked.code, diagnostics: checked.stdout.trim().split("\n").filter(Boolean) }).toEqual({ code: 0, diagnostics: [] });
  });
});
