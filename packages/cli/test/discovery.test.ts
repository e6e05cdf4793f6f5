// Autodiscovery through `zrpc run`: configurations in each format, apps with .ts / .mts / .mjs
// rpcs modules, an app without one, a duplicate method name, a module that throws.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FIXTURES, runCli, startServer } from "./helpers.js";

const fixture = (...parts: string[]): string => join(FIXTURES, ...parts);

describe("zrpc run discovers the apps of a configuration", () => {
  it("a .ts configuration found in the working directory: .ts and .mjs rpcs modules, an app without one skipped", async () => {
    const { server, endpoint } = await startServer(["127.0.0.1:0", "--verbose"], { cwd: fixture("basic") });
    expect(server.stdout[0]).toBe("Basic: 7 methods from 2 apps (zrpc.config.ts)");
    expect(server.stdout).toContain("  ./alpha (alpha/rpcs.ts)");
    expect(server.stdout).toContain("  ./beta (beta/rpcs.mjs)");
    expect(server.stdout.some((line) => /^ {4}countdown\(n\) +Stream n, n-1, \.\.\., 1\. \[stream\]$/.test(line))).toBe(true);
    expect(server.stdout.some((line) => /^ {4}hello\(name="world"\) +Return a greeting\.$/.test(line))).toBe(true);
    await server.waitForLine(/^zrpc: app \.\/empty: no rpcs module \(rpcs\.ts, rpcs\.mts, rpcs\.cts, rpcs\.js, rpcs\.mjs, rpcs\.cjs\) in empty, skipped$/, "stderr");
    await server.waitForLine(/^zrpc: app \.\/alpha: alpha\/rpcs\.ts registered add, echo, countdown, fail, half, slow$/, "stderr");

    const add = await runCli(["call", endpoint, "add", "2", "3"]);
    expect(add.stdout).toBe("5");
    const hello = await runCli(["call", endpoint, "hello"]);
    expect(hello.stdout).toBe('"Hello, world!"');
    expect(await server.stop()).toEqual({ code: 0, signal: null });
  });

  it("an .mjs configuration given with --config (app paths relative to it)", async () => {
    const { server, endpoint } = await startServer(["127.0.0.1:0", "--config", "mjs-config/zrpc.config.mjs"]);
    expect(server.stdout[0]).toBe("FromMjs: 1 method from 1 app (mjs-config/zrpc.config.mjs)");
    expect((await runCli(["call", endpoint, "hello", "mjs"])).stdout).toBe('"Hello, mjs!"');
    await server.stop();
  });

  it("a .json configuration with a middleware module reference and an .mts rpcs module", async () => {
    const { server, endpoint } = await startServer(["127.0.0.1:0"], { cwd: fixture("json-config") });
    expect(server.stdout[0]).toBe("FromJson: 1 method from 1 app (zrpc.config.json)");
    expect(server.stdout.at(-1)).toMatch(/\(heartbeat 2s\)/);
    const result = await runCli(["call", endpoint, "whoami", "--heartbeat", "2"]);
    expect(result.stdout).toBe('"json-config app (tagged)"');
    const inspect = await runCli(["inspect", endpoint, "--heartbeat", "2"]);
    expect(inspect.stdout.split("\n")[0]).toBe("[FromJson]");
    await server.stop();
  });

  it("stops with status 1 naming both modules when two apps register the same name", async () => {
    const result = await runCli(["run", "127.0.0.1:0"], { cwd: fixture("duplicate") });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      'zrpc: duplicate method name "same": registered by one/rpcs.ts and again by two/rpcs.mjs; method names must be unique across all apps',
    );
    expect(result.stdout).not.toContain("Listening on");
  });

  it("stops with status 1 naming the module and its error when an rpcs module throws", async () => {
    const result = await runCli(["run", "127.0.0.1:0"], { cwd: fixture("throws") });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("zrpc: rpcs module of app ./broken: broken/rpcs.ts failed to load: Error: kaboom: retries is not configured");
    // The stack points into the TypeScript source (tsx keeps source maps).
    expect(result.stderr).toMatch(/at .*broken[/\\]rpcs\.ts:3:/);
    expect(result.stdout).not.toContain("Listening on");
  });

  it("refuses a configuration with an unknown key (status 2)", async () => {
    const result = await runCli(["run", "127.0.0.1:0"], { cwd: fixture("bad-key") });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('zrpc: zrpc.config.json: unknown key "middlewares" in the configuration (expected apps, server, setup)');
  });

  it("says so when there is no configuration (status 2)", async () => {
    const result = await runCli(["run", "127.0.0.1:0"], { cwd: fixture("basic", "empty") });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("zrpc: no configuration file in the current directory (looked for zrpc.config.ts, zrpc.config.mts, zrpc.config.cts, zrpc.config.js, zrpc.config.mjs, zrpc.config.cjs, zrpc.config.json)");
  });

  it("says so when --config names a missing file (status 2)", async () => {
    const result = await runCli(["run", "--config", "nope.config.ts"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("zrpc: configuration file nope.config.ts does not exist");
  });
});
