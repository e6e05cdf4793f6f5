/**
 * A frontend-for-backend installs only the client: the packed tarballs of @zrpc/client and what
 * it needs, installed with npm into an empty folder, bring in no server code and no native addon
 * (the default transport is the pure-TypeScript ZMTP one; zeromq.js is an optional peer), and a
 * five-line script there calls our server over a real socket.
 */
import { execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { createRegistry, createServer } from "@zrpc/server";

const here = dirname(fileURLToPath(import.meta.url));
const packagesDir = join(here, "..", "..");
const work = mkdtempSync(join(tmpdir(), "zrpc-client-only-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function pack(pkg: string, into: string): string {
  const out = execFileSync("pnpm", ["pack", "--pack-destination", into], { cwd: join(packagesDir, pkg), encoding: "utf8" });
  const tarball = out.trim().split("\n").pop()!.trim();
  return tarball.startsWith("/") ? tarball : join(into, tarball);
}

describe("client-only install", () => {
  it("npm installs @zrpc/client from its tarballs without any server code, and a five-line script calls a server", async () => {
    const tarballs = join(work, "tarballs");
    const app = join(work, "app");
    execFileSync("mkdir", ["-p", tarballs, app]);
    const files = ["wire", "channel", "transport-zmtp", "client"].map((pkg) => pack(pkg, tarballs));
    writeFileSync(join(app, "package.json"), JSON.stringify({ name: "frontend", private: true, type: "module" }));
    execFileSync("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error", ...files], { cwd: app, stdio: "pipe" });

    const scoped = readdirSync(join(app, "node_modules", "@zrpc")).sort();
    expect(scoped).toEqual(["channel", "client", "transport-zmtp", "wire"]);
    expect(existsSync(join(app, "node_modules", "@zrpc", "server"))).toBe(false);
    // No native addon anywhere: no zeromq package, no compiled .node file.
    expect(existsSync(join(app, "node_modules", "zeromq"))).toBe(false);
    const entries = readdirSync(join(app, "node_modules"), { recursive: true, withFileTypes: true });
    expect(entries.filter((entry) => entry.isFile() && entry.name.endsWith(".node")).map((entry) => entry.name)).toEqual([]);

    const registry = createRegistry();
    registry.register(function add(a: number, b: number) {
      return a + b;
    });
    const server = createServer(registry, { name: "Calc" });
    const [endpoint] = await server.bind("tcp://127.0.0.1:*");
    try {
      writeFileSync(
        join(app, "call.mjs"),
        [
          'import { connect } from "@zrpc/client";',
          "const client = await connect(process.argv[2]);",
          'const sum = await client.call("add", [2, 3]);',
          "console.log(JSON.stringify(sum));",
          "await client.close();",
          // Asking for zeromq.js without installing it is a clear, typed error.
          'const error = await connect(process.argv[2], { transport: "zeromq" }).catch((e) => e);',
          "console.log(error.code, error.message);",
        ].join("\n"),
      );
      const child = spawn(process.execPath, ["call.mjs", endpoint!], { cwd: app, stdio: ["ignore", "pipe", "inherit"] });
      let output = "";
      child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
      const [code] = (await once(child, "exit")) as [number | null];
      expect(code).toBe(0);
      const [sum, missing] = output.trim().split("\n");
      expect(sum).toBe("5");
      expect(missing).toMatch(/^connect transport "zeromq" needs the package @zrpc\/transport-zeromq .*npm install @zrpc\/transport-zeromq/);
    } finally {
      await server.close();
    }
  }, 180_000);
});
