// Every ts block of the tested pages compiles: one tsc over all of them, against the built
// packages (as a user's project would see them), with the repository's compiler options.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { afterAll, expect, it } from "vitest";
import { parsePage } from "./harness/blocks.js";
import { testedPages } from "./harness/pages.js";
import { docsRoot } from "./harness/paths.js";

mkdirSync(join(docsRoot, ".tmp"), { recursive: true });
const dir = mkdtempSync(join(docsRoot, ".tmp", "typecheck-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it("type-checks every ts block of index.md and guide/*.md", () => {
  // file (relative to dir) -> where its lines come from: [first line in the file, page, line in the page]
  const origins = new Map<string, [number, string, number][]>();
  let blocks = 0;
  for (const page of testedPages()) {
    const slug = page.replace(/\.md$/, "").replace(/\W+/g, "-");
    for (const unit of parsePage(readFileSync(join(docsRoot, page), "utf8"), page).units) {
      if (unit.kind === "shell") continue;
      const isTs = unit.kind === "program" || unit.path.endsWith(".ts");
      if (!isTs) continue;
      const file = unit.kind === "file" ? join(slug, unit.path) : join(slug, `block-line-${unit.line}.ts`);
      const target = join(dir, file);
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, unit.kind === "program" ? `${unit.code}export {};\n` : unit.code);
      // Where each piece of a continued block starts, to name the page line of an error.
      const map: [number, string, number][] = [];
      if (unit.kind === "program") {
        const pieces = unit.lines;
        let at = 1;
        const text = readFileSync(join(docsRoot, page), "utf8").split("\n");
        for (const fenceLine of pieces) {
          map.push([at, page, fenceLine]);
          let n = 0;
          while (!/^\s*(```|~~~)/.test(text[fenceLine + n] ?? "```")) n++;
          at += n;
        }
      } else map.push([1, page, unit.line]);
      origins.set(file, map);
      blocks += 1;
    }
  }
  writeFileSync(join(dir, "tsconfig.json"), JSON.stringify({
    extends: relative(dir, join(docsRoot, "tsconfig.json")),
    compilerOptions: { noEmit: true, skipLibCheck: true, rootDir: "." },
    include: ["**/*.ts"],
    exclude: [],
  }));
  const tsc = spawnSync(process.execPath, [join(docsRoot, "node_modules/typescript/bin/tsc"), "-p", "."], { cwd: dir, encoding: "utf8" });
  const errors = tsc.stdout.split("\n").filter((l) => / error TS\d+/.test(l)).map((l) => {
    const m = /^(.+?)\((\d+),(\d+)\): (.*)$/.exec(l);
    if (!m) return l;
    const map = origins.get(m[1]!);
    const line = Number(m[2]);
    const origin = map?.filter(([first]) => first <= line).at(-1);
    return origin ? `${origin[1]}:${origin[2] + 1 + line - origin[0]}: ${m[4]}` : l;
  });
  expect(errors, tsc.stdout).toEqual([]);
  expect(tsc.status, tsc.stdout + tsc.stderr).toBe(0);
  expect(blocks).toBeGreaterThan(0);
});
