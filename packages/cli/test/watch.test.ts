// `zrpc run --watch`: edits to an rpcs module are served after a reload, calls in flight during
// the reload complete, a module that fails to load leaves the old code serving, a fix is picked up.
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { connect } from "@zrpc/client";
import { FIXTURES, startCli, startServer } from "./helpers.js";

/** Temporary copies live under test/ so that their imports resolve from this package. */
const TEST_DIR = fileURLToPath(new URL(".", import.meta.url));
const copies: string[] = [];

afterEach(() => {
  for (const dir of copies.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A fresh copy of the `watch` fixture. */
function copyFixture(): string {
  const dir = mkdtempSync(join(TEST_DIR, ".tmp-watch-"));
  copies.push(dir);
  cpSync(join(FIXTURES, "watch"), dir, { recursive: true });
  return dir;
}

const RPCS = (body: string): string => `import { register } from "@zrpc/server";\n${body}\n`;

/**
 * Calls `method` on a fresh client; tries again (at most 5 times) if the endpoint is between two
 * servers. Resolves with the result.
 */
async function call(endpoint: string, method: string, args: unknown[] = []): Promise<unknown> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    const client = await connect(endpoint, { timeoutMs: 5000, connectTimeoutMs: 30_000 });
    try {
      return await client.call(method, args);
    } catch (error) {
      lastError = error;
    } finally {
      await client.close();
    }
  }
  throw lastError;
}

describe("zrpc run --watch", () => {
  it("reloads a changed rpcs module, lets a call in flight finish, keeps serving through a broken edit, picks up the fix", async () => {
    const dir = copyFixture();
    const { server, endpoint } = await startServer(["127.0.0.1:0", "--watch"], { cwd: dir });
    await server.waitForLine(/^zrpc: watching \. for changes/, "stderr");
    expect(await call(endpoint, "version")).toBe(1);

    // A call that stays in flight until the file "open" exists.
    const client = await connect(endpoint, { timeoutMs: 60_000, connectTimeoutMs: 30_000 });
    try {
      const gate = client.call("gate", ["open"]);
      await server.waitForLine(/^gate open: waiting$/, "stderr");

      writeFileSync(join(dir, "svc", "rpcs.ts"), RPCS('register(function version() { return 2; });\nregister(function added() { return "added"; });'));
      await server.waitForLine(/^zrpc: changed: svc\/rpcs\.ts; reloading$/, "stderr");
      // The new code loaded; the old server drains with the gate call still in flight.
      await server.waitForLine(/^zrpc: reload: stopping, waiting up to 10s for 1 call in flight$/, "stderr");
      writeFileSync(join(dir, "open"), "");
      expect(await gate).toBe("gate open: open");
    } finally {
      await client.close();
    }
    await server.waitForLine(/^zrpc: reloaded \(svc\/rpcs\.ts\)$/, "stderr");
    // Same endpoint (the port the first server got), new code.
    expect(await server.waitForNthLine(/^Listening on /, 2)).toBe(`Listening on ${endpoint} (heartbeat 5s). Quit with CONTROL-C.`);
    expect(await call(endpoint, "version")).toBe(2);
    expect(await call(endpoint, "added")).toBe("added");

    // A syntax error: the new child fails to load, the old server goes on serving.
    writeFileSync(join(dir, "svc", "rpcs.ts"), RPCS("register(function broken( {"));
    await server.waitForLine(/^zrpc: reload failed \(still serving the previous version\): rpcs module of app \.\/svc: svc\/rpcs\.ts failed to load/, "stderr");
    expect(await call(endpoint, "version")).toBe(2);

    // The fix is picked up.
    writeFileSync(join(dir, "svc", "rpcs.ts"), RPCS("register(function version() { return 3; });"));
    await server.waitForNthLine(/^zrpc: reloaded \(svc\/rpcs\.ts\)$/, 2, "stderr");
    expect(await call(endpoint, "version")).toBe(3);

    expect(await server.stop("SIGTERM")).toEqual({ code: 0, signal: null });
    expect(server.stderr.at(-1)).toBe("zrpc: stopped");
  });

  it("reloads a changed configuration file (a new name, a new app), keeps serving through a broken one", async () => {
    const dir = copyFixture();
    // A second app, not in the configuration yet (written before the watch starts).
    mkdirSync(join(dir, "extra"));
    writeFileSync(join(dir, "extra", "rpcs.ts"), RPCS('register(function extra() { return "extra"; });'));
    const config = (body: string): string => `import { defineConfig } from "@zrpc/cli";\n${body}\n`;
    const { server, endpoint } = await startServer(["127.0.0.1:0", "--watch"], { cwd: dir });
    await server.waitForLine(/^zrpc: watching \. for changes/, "stderr");
    expect(await call(endpoint, "_zerorpc_name")).toBe("Watched");

    writeFileSync(join(dir, "zrpc.config.ts"), config('export default defineConfig({ apps: ["./svc", "./extra"], server: { name: "Rewatched" } });'));
    await server.waitForLine(/^zrpc: changed: zrpc\.config\.ts; reloading$/, "stderr");
    await server.waitForLine(/^zrpc: reloaded \(zrpc\.config\.ts\)$/, "stderr");
    expect(await server.waitForNthLine(/^Listening on /, 2)).toBe(`Listening on ${endpoint} (heartbeat 5s). Quit with CONTROL-C.`);
    expect(await call(endpoint, "_zerorpc_name")).toBe("Rewatched");
    expect(await call(endpoint, "extra")).toBe("extra");
    expect(await call(endpoint, "version")).toBe(1);

    // A configuration that does not parse: the error is printed, the previous server goes on serving.
    writeFileSync(join(dir, "zrpc.config.ts"), config('export default defineConfig({ apps: ["./svc", '));
    const failed = await server.waitForLine(/^zrpc: reload failed \(still serving the previous version\): .*$/, "stderr");
    expect(failed[0]).toContain("zrpc.config.ts");
    expect(await call(endpoint, "_zerorpc_name")).toBe("Rewatched");
    expect(await call(endpoint, "extra")).toBe("extra");

    // A configuration that parses but is wrong is refused the same way.
    writeFileSync(join(dir, "zrpc.config.ts"), config('export default defineConfig({ apps: "./svc" } as never);'));
    const refused = await server.waitForNthLine(/^zrpc: reload failed \(still serving the previous version\): /, 2, "stderr");
    expect(refused).toContain('"apps" must be an array');
    expect(await call(endpoint, "_zerorpc_name")).toBe("Rewatched");

    // The fix is picked up.
    writeFileSync(join(dir, "zrpc.config.ts"), config('export default defineConfig({ apps: ["./svc"], server: { name: "Fixed" } });'));
    await server.waitForNthLine(/^zrpc: reloaded \(zrpc\.config\.ts\)$/, 2, "stderr");
    expect(await call(endpoint, "_zerorpc_name")).toBe("Fixed");
    expect(await server.stop("SIGTERM")).toEqual({ code: 0, signal: null });
  });

  it("with --log-format json, reports reloading, reloaded and reload-failed as JSON records", async () => {
    const dir = copyFixture();
    const server = startCli(["run", "127.0.0.1:0", "--watch", "--log-format", "json"], { cwd: dir });
    const listening = JSON.parse((await server.waitForLine(/^.*"event":"listening".*$/))[0]) as { endpoints: string[] };
    const endpoint = listening.endpoints[0]!;

    writeFileSync(join(dir, "svc", "rpcs.ts"), RPCS("register(function version() { return 2; });"));
    await server.waitForLine(/"event":"reloaded"/);
    expect(await call(endpoint, "version")).toBe(2);
    writeFileSync(join(dir, "svc", "rpcs.ts"), RPCS("throw new Error('not today');"));
    await server.waitForLine(/"event":"reload-failed"/);
    expect(await call(endpoint, "version")).toBe(2);
    expect(await server.stop("SIGTERM")).toEqual({ code: 0, signal: null });

    const records = server.stdout.map((line) => JSON.parse(line) as Record<string, unknown>);
    const events = records.map((record) => record.event);
    expect(events).toEqual(expect.arrayContaining(["message", "listening", "reloading", "draining", "stopped", "reloaded", "reload-failed", "call"]));
    expect(records.find((record) => record.event === "reloaded")).toMatchObject({ changed: ["svc/rpcs.ts"], endpoints: [endpoint] });
    expect(records.find((record) => record.event === "reload-failed")).toMatchObject({
      changed: ["svc/rpcs.ts"],
      serving: true,
      error: expect.stringContaining("Error: not today"),
    });
    for (const record of records) expect(record.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it("refuses a value for --watch (status 2)", async () => {
    const dir = copyFixture();
    const server = startCli(["run", "127.0.0.1:0", "--watch=yes"], { cwd: dir });
    expect(await server.exited).toEqual({ code: 2, signal: null });
    expect(server.stderr).toContain("zrpc run: option --watch takes no value");
  });
});
