// The runtime dimension of the benchmark (`--only runtimes`, issue #24): zrpc on ZMTP with both
// processes on Node.js (`zrpc-zmtp`), on Bun (`zrpc-zmtp-bun`) or on Deno (`zrpc-zmtp-deno`),
// the same server.ts and client.ts forked with another `execPath`. Bun and Deno run the TypeScript
// sources themselves (no tsx) and talk to the Node.js parent over the same IPC channel.
// The binaries: $ZRPC_BUN / $ZRPC_DENO, else the pinned npm installs in <repo>/.tools/runtimes
// (`pnpm --filter @zrpc/runtimes install-runtimes`).
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Stack } from "./common.js";

export type Runtime = "node" | "bun" | "deno";

/** The stacks of the runtime comparison. */
export const RUNTIME_STACKS = ["zrpc-zmtp-bun", "zrpc-zmtp-deno"] as const satisfies readonly Stack[];

/** The stacks of `--only runtimes`: ZMTP on Node.js as the reference, then on Bun and on Deno. */
export const RUNTIME_ONLY_STACKS = ["zrpc-zmtp", "zrpc-zmtp-bun", "zrpc-zmtp-deno"] as const satisfies readonly Stack[];

export function isRuntimeStack(stack: Stack): stack is (typeof RUNTIME_STACKS)[number] {
  return (RUNTIME_STACKS as readonly Stack[]).includes(stack);
}

/** The runtime both processes of `stack` run on. */
export function runtimeOf(stack: Stack): Runtime {
  if (stack === "zrpc-zmtp-bun") return "bun";
  if (stack === "zrpc-zmtp-deno") return "deno";
  return "node";
}

const toolsDir = fileURLToPath(new URL("../../../.tools/runtimes/node_modules", import.meta.url));
const INSTALLED: Record<Exclude<Runtime, "node">, string> = {
  bun: join(toolsDir, "bun", "bin", "bun.exe"),
  deno: join(toolsDir, "deno", "deno"),
};

function binary(runtime: Exclude<Runtime, "node">): string {
  const fromEnv = process.env[`ZRPC_${runtime.toUpperCase()}`];
  const path = fromEnv !== undefined && fromEnv !== "" ? fromEnv : INSTALLED[runtime];
  if (!existsSync(path)) throw new Error(`${runtime} not found at ${path}: run \`pnpm --filter @zrpc/runtimes install-runtimes\` or set ZRPC_${runtime.toUpperCase()}`);
  return path;
}

/**
 * How to fork a child on `runtime`: `fork()`'s `execPath` and `execArgv` (Node.js: `--expose-gc
 * --import tsx` and `nodeFlags`; Bun: nothing; Deno: `run -A` with `--sloppy-imports`, for the
 * sources' `./x.js` imports of `./x.ts`, and V8's `--expose-gc`).
 */
export function forkOptions(runtime: Runtime, nodeFlags: readonly string[]): { execPath: string; execArgv: string[] } {
  switch (runtime) {
    case "node":
      return { execPath: process.execPath, execArgv: ["--expose-gc", "--import", "tsx", ...nodeFlags] };
    case "bun":
      return { execPath: binary("bun"), execArgv: [] };
    case "deno":
      return { execPath: binary("deno"), execArgv: ["run", "-A", "--no-lock", "--sloppy-imports", "--v8-flags=--expose-gc"] };
  }
}

/** `bun 1.4.5, deno 2.9.6` for the runtimes among `stacks` (empty when none). */
export function runtimeVersions(stacks: readonly Stack[]): string {
  const runtimes = [...new Set(stacks.map(runtimeOf))].filter((runtime): runtime is Exclude<Runtime, "node"> => runtime !== "node");
  return runtimes
    .map((runtime) => `${runtime} ${/(\d+\.\d+\.\d+)/.exec(spawnSync(binary(runtime), ["--version"], { encoding: "utf8" }).stdout)?.[1] ?? "?"}`)
    .join(", ");
}
