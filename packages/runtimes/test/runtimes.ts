// The runtimes under test and how to start a script on each. Bun and Deno are pinned in this
// package's package.json ("runtimes") and installed from npm (`bun`, `deno`) into
// <repo>/.tools/runtimes by .ci/run or `pnpm --filter @zrpc/runtimes install-runtimes`.
// $ZRPC_BUN / $ZRPC_DENO point at other binaries. A missing runtime fails the tests (no skipping).
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { startNode, startProcess } from "@zrpc/test-support";
import type { ChildHandle, StartProcessOptions } from "@zrpc/test-support";

export const PACKAGE_DIR = fileURLToPath(new URL("..", import.meta.url));
export const REPO_DIR = join(PACKAGE_DIR, "..", "..");
export const FIXTURES = join(PACKAGE_DIR, "test", "fixtures");

/** A runtime other than Node.js that the packages are tested on. */
export type RuntimeName = "bun" | "deno";
export const RUNTIMES: readonly RuntimeName[] = ["bun", "deno"];

/** The pinned versions (package.json "runtimes"). */
export const PINNED: Readonly<Record<RuntimeName, string>> = (
  JSON.parse(readFileSync(join(PACKAGE_DIR, "package.json"), "utf8")) as { runtimes: Record<RuntimeName, string> }
).runtimes;

/** Where the npm packages put each binary under <repo>/.tools/runtimes/node_modules. */
const INSTALLED: Readonly<Record<RuntimeName, string>> = {
  bun: join(REPO_DIR, ".tools", "runtimes", "node_modules", "bun", "bin", "bun.exe"),
  deno: join(REPO_DIR, ".tools", "runtimes", "node_modules", "deno", "deno"),
};

/** The binary of `runtime`: $ZRPC_BUN / $ZRPC_DENO, else the pinned npm install. Throws when neither exists. */
export function runtimeBinary(runtime: RuntimeName): string {
  const fromEnv = process.env[`ZRPC_${runtime.toUpperCase()}`];
  const path = fromEnv !== undefined && fromEnv !== "" ? fromEnv : INSTALLED[runtime];
  if (!existsSync(path)) {
    throw new Error(
      `${runtime} not found at ${path}: run \`pnpm --filter @zrpc/runtimes install-runtimes\` ` +
        `(npm install of ${runtime}@${PINNED[runtime]} into .tools/runtimes) or set ZRPC_${runtime.toUpperCase()}`,
    );
  }
  return path;
}

/** `bun --version` / `deno --version`'s version number. */
export function runtimeVersion(runtime: RuntimeName): string {
  const probe = spawnSync(runtimeBinary(runtime), ["--version"], { encoding: "utf8" });
  if (probe.status !== 0) throw new Error(`${runtime} --version failed: ${probe.stderr}`);
  const match = /(\d+\.\d+\.\d+)/.exec(probe.stdout);
  if (match === null) throw new Error(`${runtime} --version printed ${probe.stdout}`);
  return match[1]!;
}

/**
 * The command line that runs the ES module `script` on `runtime`: `bun script`, or
 * `deno run -A --no-lock [...denoFlags] script` (Deno 2 resolves bare specifiers through the
 * nearest package.json and the node_modules folder pnpm made; no deno.json, no lock file written).
 * `--sloppy-imports` in `denoFlags` lets TypeScript import `./x.js` meaning `./x.ts`, as tsc's
 * NodeNext resolution, tsx and Bun do.
 */
export function runtimeCommand(
  runtime: RuntimeName,
  script: string,
  args: readonly string[] = [],
  denoFlags: readonly string[] = [],
): { command: string; args: string[] } {
  const binary = runtimeBinary(runtime);
  return runtime === "bun"
    ? { command: binary, args: [script, ...args] }
    : { command: binary, args: ["run", "-A", "--no-lock", ...denoFlags, script, ...args] };
}

/** Starts `script` on `runtime` ("node" runs it with the Node.js running the tests). */
export function startOn(
  runtime: RuntimeName | "node",
  script: string,
  args: readonly string[] = [],
  options: StartProcessOptions & { readonly denoFlags?: readonly string[] } = {},
): ChildHandle {
  const label = `${runtime} ${script.startsWith(REPO_DIR) ? script.slice(REPO_DIR.length + 1) : script} ${args.join(" ")}`.trim();
  if (runtime === "node") return startNode(script, args, { label, ...options });
  const { command, args: argv } = runtimeCommand(runtime, script, args, options.denoFlags);
  return startProcess(command, argv, { label, ...options });
}

/** The built entry `file` (e.g. `dist/cli.js`) of workspace package `name`, as resolved from this package. */
export function packageFile(name: string, file: string): string {
  const manifest = createRequire(import.meta.url).resolve(`${name}/package.json`);
  return join(dirname(manifest), file);
}
