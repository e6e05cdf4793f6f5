/**
 * A frontend-for-backend installs only the client: the tarballs of @zrpc/client and what it needs
 * (wire, channel, transport-zmtp: exactly what npm would fetch), installed with npm into an empty
 * project. One install serves four checks: (e) what is in node_modules; (a) an ES module package
 * and (b) a CommonJS package written in TypeScript, type-checked with `skipLibCheck: false` and
 * compiled with tsc; (c) a plain CommonJS script. (a), (b) and (c) call a real server.
 */
import { readFileSync, readdirSync } from "node:fs";
import { join, sep } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createProject, listTree, node, npmInstall, tsc, type Project } from "./consumer.js";
import { startCalcServer } from "./server.js";

const tarballs = inject("tarballs");
const expected = { sum: 5, remote: "RangeError: out of range" };

let project: Project | undefined;
let server: Awaited<ReturnType<typeof startCalcServer>> | undefined;

beforeAll(async () => {
  project = createProject("client-only");
  await npmInstall(project.dir, [tarballs.wire, tarballs.channel, tarballs["transport-zmtp"], tarballs.client, "@types/node@^20.19.0"]);
  server = await startCalcServer();
});

afterAll(async () => {
  await server?.close();
  project?.remove();
});

function dir(): string {
  if (project === undefined) throw new Error("beforeAll did not create the project");
  return project.dir;
}

function endpoint(): string {
  if (server === undefined) throw new Error("beforeAll did not start the server");
  return server.endpoint;
}

function lastLine(text: string): unknown {
  return JSON.parse(text.trim().split("\n").pop() ?? "null");
}

describe("client-only install (wire, channel, transport-zmtp, client tarballs)", () => {
  it("(e) holds no zeromq, no @zrpc/transport-zeromq, no server code and no native addon", () => {
    const modules = join(dir(), "node_modules");
    expect(readdirSync(join(modules, "@zrpc")).sort()).toEqual(["channel", "client", "transport-zmtp", "wire"]);
    const tree = listTree(modules);
    expect(tree.filter((path) => path.split(sep).includes("zeromq"))).toEqual([]);
    expect(tree.filter((path) => path.includes(join("@zrpc", "transport-zeromq")))).toEqual([]);
    expect(tree.filter((path) => path.includes(join("@zrpc", "server")))).toEqual([]);
    expect(tree.filter((path) => path.endsWith(".node"))).toEqual([]);
  });

  it("(a) TypeScript ES module: strict tsc with skipLibCheck false is clean; the compiled module calls a server", async () => {
    const checked = await tsc(join(dir(), "tsconfig.json"));
    expect({ code: checked.code, diagnostics: checked.stdout.trim().split("\n").filter(Boolean) }).toEqual({ code: 0, diagnostics: [] });
    expect(readFileSync(join(dir(), "main.js"), "utf8")).toMatch(/^import \{ connect, RemoteError \} from "@zrpc\/client";$/m);

    const ran = await node(dir(), ["main.js", endpoint()]);
    expect(ran.stderr).toBe("");
    expect(lastLine(ran.stdout)).toEqual({ format: "esm", ...expected });
    expect(ran.code).toBe(0);
  });

  it("(b) TypeScript CommonJS package: strict tsc with skipLibCheck false is clean; the require()-compiled module calls a server", async () => {
    const cjs = join(dir(), "cjs");
    const checked = await tsc(join(cjs, "tsconfig.json"));
    expect({ code: checked.code, diagnostics: checked.stdout.trim().split("\n").filter(Boolean) }).toEqual({ code: 0, diagnostics: [] });
    expect(readFileSync(join(cjs, "main.js"), "utf8")).toContain('require("@zrpc/client")');

    const ran = await node(cjs, ["main.js", endpoint()]);
    expect(ran.stderr).toBe("");
    expect(lastLine(ran.stdout)).toEqual({ format: "cjs", ...expected });
    expect(ran.code).toBe(0);
  });

  it('(c) plain JavaScript, CommonJS: require("@zrpc/client") calls a server', async () => {
    const ran = await node(join(dir(), "cjs"), ["call.js", endpoint()]);
    expect(ran.stderr).toBe("");
    expect(lastLine(ran.stdout)).toEqual({ format: "cjs", ...expected });
    expect(ran.code).toBe(0);
  });
});
