/**
 * Packs every published package once per test run (`pnpm pack` rewrites the `workspace:` ranges
 * to real versions, as a publish does) and hands the tarball paths to the test files through
 * `inject("tarballs")`. The build (turbo `^build`, through this package's devDependencies) has
 * run before.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { isAbsolute, join } from "node:path";
import { promisify } from "node:util";
import type { TestProject } from "vitest/node";
import { PUBLISHED, packageDir, type PublishedPackage, type Tarballs } from "./packages.js";

const run = promisify(execFile);

/** Every file a package's `exports` point at (nested conditions included). */
function exportTargets(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (typeof value !== "object" || value === null) return [];
  return Object.values(value).flatMap(exportTargets);
}

async function pack(name: PublishedPackage, into: string): Promise<string> {
  // A missing build output would only show up later as a confusing type or import error.
  const dir = packageDir(name);
  const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { exports?: unknown };
  const missing = exportTargets(manifest.exports).filter((target) => !existsSync(join(dir, target)));
  if (missing.length > 0) throw new Error(`@zrpc/${name} is not built (missing ${missing.join(", ")}): build it first`);
  const { stdout } = await run("pnpm", ["pack", "--pack-destination", into], { cwd: dir, encoding: "utf8" });
  const tarball = stdout.trim().split("\n").pop()?.trim() ?? "";
  if (!tarball.endsWith(".tgz")) throw new Error(`pnpm pack of ${name} printed no tarball:\n${stdout}`);
  return isAbsolute(tarball) ? tarball : join(into, tarball);
}

export default async function setup(project: TestProject): Promise<() => void> {
  const dir = mkdtempSync(join(tmpdir(), "zrpc-tarballs-"));
  const paths = await Promise.all(PUBLISHED.map((name) => pack(name, dir)));
  project.provide("tarballs", Object.fromEntries(PUBLISHED.map((name, i) => [name, paths[i]!])) as Tarballs);
  return () => rmSync(dir, { recursive: true, force: true });
}
