#!/usr/bin/env node
// Installs the Bun and Deno that @zrpc/runtimes tests on, at the versions pinned in its
// package.json ("runtimes"), from npm (the `bun` and `deno` packages carry the binaries) into
// <repo>/.tools/runtimes, with npm, whose install scripts put each binary in place (pnpm 10 would
// block them). Does nothing when both are there at those versions. Used by .ci/run; by hand:
// `pnpm --filter @zrpc/runtimes install-runtimes`.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const packageDir = fileURLToPath(new URL("..", import.meta.url));
const prefix = join(packageDir, "..", "..", ".tools", "runtimes");
const { runtimes } = JSON.parse(readFileSync(join(packageDir, "package.json"), "utf8"));
const binaries = {
  bun: join(prefix, "node_modules", "bun", "bin", "bun.exe"),
  deno: join(prefix, "node_modules", "deno", "deno"),
};

function installedVersion(name) {
  if (!existsSync(binaries[name])) return undefined;
  const probe = spawnSync(binaries[name], ["--version"], { encoding: "utf8" });
  return /(\d+\.\d+\.\d+)/.exec(probe.stdout ?? "")?.[1];
}

const missing = Object.keys(runtimes).filter((name) => installedVersion(name) !== runtimes[name]);
if (missing.length === 0) {
  console.log(`runtimes: ${Object.entries(runtimes).map(([name, version]) => `${name} ${version}`).join(", ")} (installed)`);
} else {
  const specs = Object.entries(runtimes).map(([name, version]) => `${name}@${version}`);
  // One npm call for both: a second --no-save install into the same prefix would remove the first.
  execFileSync("npm", ["install", "--prefix", prefix, "--no-save", "--no-package-lock", "--no-audit", "--no-fund", "--silent", ...specs], { stdio: "inherit" });
  for (const name of Object.keys(runtimes)) {
    const version = installedVersion(name);
    if (version !== runtimes[name]) throw new Error(`${name}: expected ${runtimes[name]} at ${binaries[name]}, found ${version ?? "nothing"}`);
  }
  console.log(`runtimes: installed ${specs.join(", ")}`);
}
