/**
 * (d) A CommonJS app package (no "type" in package.json, npm's default) with `zrpc.config.ts` and
 * two apps whose `rpcs.ts` each register a method with `register()` from @zrpc/server, served by
 * `zrpc run`, the bin of the packed @zrpc/cli, and called by a client. The same project, which
 * installs none of @zrpc/middleware-db's optional peers, type-checks its main entry.
 */
import { join, sep } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { connect } from "@zrpc/client";
import { createProject, killStarted, listTree, npmInstall, startUntil, tsc, type Project } from "./consumer.js";

const tarballs = inject("tarballs");

let project: Project | undefined;

beforeAll(async () => {
  project = createProject("cli-app");
  const packages = ["wire", "channel", "transport-zmtp", "client", "server", "cli", "middleware-db"] as const;
  await npmInstall(project.dir, [...packages.map((name) => tarballs[name]), "@types/node@^20.19.0"]);
});

afterAll(async () => {
  await killStarted();
  project?.remove();
});

function dir(): string {
  if (project === undefined) throw new Error("beforeAll did not create the project");
  return project.dir;
}

describe("CommonJS app package served by the packed zrpc CLI", () => {
  it("installing @zrpc/cli brings neither zeromq nor @zrpc/transport-zeromq", () => {
    const tree = listTree(join(dir(), "node_modules"));
    expect(tree.filter((path) => path.split(sep).includes("zeromq"))).toEqual([]);
    expect(tree.filter((path) => path.includes(join("@zrpc", "transport-zeromq")))).toEqual([]);
    expect(tree.filter((path) => path.endsWith(".node"))).toEqual([]);
  });

  it("its zrpc.config.ts, rpcs.ts modules and a middleware-db import without optional peers type-check (skipLibCheck false)", async () => {
    const checked = await tsc(join(dir(), "tsconfig.json"));
    expect({ code: checked.code, diagnostics: checked.stdout.trim().split("\n").filter(Boolean) }).toEqual({ code: 0, diagnostics: [] });
  });

  it("zrpc run serves the methods registered by both apps' rpcs.ts, and a client calls them", async () => {
    const bin = join(dir(), "node_modules", ".bin", "zrpc");
    const server = await startUntil(bin, ["run", "tcp://127.0.0.1:*"], dir(), /Listening on (tcp:\/\/127\.0\.0\.1:\d+)/);
    try {
      const client = await connect(server.match[1]!);
      try {
        expect(await client.call("alpha_add", [2, 3])).toBe(5);
        expect(await client.call("beta_greet", ["cjs"])).toBe("hello cjs");
      } finally {
        await client.close();
      }
    } finally {
      const stopped = await server.stop();
      expect(stopped.stdout).toMatch(/CjsApp: 2 methods from 2 apps/);
      expect(stopped.code).toBe(0);
    }
  });
});
