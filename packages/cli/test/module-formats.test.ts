// `zrpc run` in a CommonJS package (no "type", as npm creates it) and in an ES module package,
// with the configuration in each of the six extensions and six apps whose rpcs modules cover them
// too. A CommonJS rpcs module requires the CJS build of @zrpc/server while `zrpc` imports the ESM
// build: both must register into the one default registry the command serves, and a handler
// must see the call context through the copy it loaded.
import { join } from "node:path";
import { connect } from "@zrpc/client";
import { describe, expect, it } from "vitest";
import { FIXTURES, runCli, startServer } from "./helpers.js";

const EXTENSIONS = ["ts", "mts", "cts", "js", "mjs", "cjs"] as const;
type Extension = (typeof EXTENSIONS)[number];
type Kind = "cjs" | "esm";

/**
 * The module format Node.js gives each extension in each kind of package, which is also the build
 * of @zrpc/server the rpcs module gets (a CommonJS module requires the CJS build).
 */
const FORMAT: Record<Kind, Record<Extension, Kind>> = {
  cjs: { ts: "cjs", mts: "esm", cts: "cjs", js: "cjs", mjs: "esm", cjs: "cjs" },
  esm: { ts: "esm", mts: "esm", cts: "cjs", js: "esm", mjs: "esm", cjs: "cjs" },
};

const matrix = (["cjs", "esm"] as const).flatMap((kind) => EXTENSIONS.map((ext) => [kind, ext] as const));

describe("zrpc run serves CommonJS and ES module packages alike", () => {
  it.each(matrix)("a %s package, zrpc.config.%s, rpcs modules in every extension", async (kind, ext) => {
    const cwd = join(FIXTURES, "formats", kind);
    const { server, endpoint } = await startServer(["127.0.0.1:0", "--config", `zrpc.config.${ext}`], { cwd });
    // The command reads the registry the rpcs modules registered into, whichever build they loaded.
    expect(server.stdout[0]).toBe(`${kind}-${ext}: 6 methods from 6 apps (zrpc.config.${ext})`);
    for (const app of EXTENSIONS) {
      expect(server.stdout).toContain(`  ./apps/${app} (apps/${app}/rpcs.${app})`);
    }
    const client = await connect(endpoint, { connectTimeoutMs: 30_000 });
    try {
      for (const app of EXTENSIONS) {
        const method = `${app}_where`;
        expect(await client.call(method, [])).toEqual([`rpcs.${app}`, FORMAT[kind][app], method]);
      }
      expect((await client.call<string[]>("_zerorpc_list", [])).sort()).toEqual(EXTENSIONS.map((app) => `${app}_where`).sort());
    } finally {
      await client.close();
    }
    expect(await server.stop()).toEqual({ code: 0, signal: null });
  });

  it("names the wrong key of a compiled-to-CommonJS configuration, not its default wrapper (status 2)", async () => {
    const result = await runCli(["run", "127.0.0.1:0", "--config", "wrong.config.ts"], { cwd: join(FIXTURES, "formats", "cjs") });
    expect(result.code).toBe(2);
    expect(result.stderr).toBe('zrpc: wrong.config.ts: unknown key "middlewares" in the configuration (expected apps, server, setup)');
  });

  it("says a compiled-to-CommonJS configuration with named exports only has no default export (status 2)", async () => {
    const result = await runCli(["run", "127.0.0.1:0", "--config", "named.config.ts"], { cwd: join(FIXTURES, "formats", "cjs") });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("zrpc: named.config.ts has no default export: export default defineConfig({ apps: [...] })");
  });
});
