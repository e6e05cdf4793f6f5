// `zrpc run ADDRESS` as a child process: every accepted form actually serves (and `zrpc call`
// reaches it), every rejected one exits 2 naming the input.
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { FIXTURES, runCli, startServer } from "./helpers.js";

// An ES module configuration: no TypeScript to compile, so these children start fast.
const CONFIG = join(FIXTURES, "mjs-config", "zrpc.config.mjs");

/** A port that was free a moment ago (the OS picks it; nothing else on loopback races for it here). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const tmp = mkdtempSync(join(tmpdir(), "zrpc-cli-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Serves at `address`, calls hello through `zrpc call` at `callAt(endpoint)`, stops with SIGTERM. */
async function serveAndCall(address: string, callAt: (endpoint: string) => string = (endpoint) => endpoint): Promise<string> {
  const { server, endpoint } = await startServer([address, "--config", CONFIG, "--quiet"]);
  const result = await runCli(["call", callAt(endpoint), "hello", "zrpc"]);
  expect(result.stderr).toBe("");
  expect(result.stdout).toBe('"Hello, zrpc!"');
  expect(result.code).toBe(0);
  expect(await server.stop("SIGTERM")).toEqual({ code: 0, signal: null });
  return endpoint;
}

describe("zrpc run serves every address form", () => {
  it("a bare port (and zrpc call with a bare port)", async () => {
    const port = await freePort();
    const endpoint = await serveAndCall(String(port), () => String(port));
    expect(endpoint).toBe(`tcp://127.0.0.1:${port}`);
  });

  it("ipv4:port, with port 0 for any free port", async () => {
    const endpoint = await serveAndCall("127.0.0.1:0");
    expect(endpoint).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
    expect(endpoint).not.toBe("tcp://127.0.0.1:0");
  });

  it("[::1]:port (IPv6; zrpc call turns IPv6 on too)", async () => {
    const endpoint = await serveAndCall("[::1]:0");
    expect(endpoint).toMatch(/^tcp:\/\/\[::1\]:\d+$/);
  });

  it("localhost:port (a host name), called as localhost:port", async () => {
    const port = await freePort();
    await serveAndCall(`localhost:${port}`, () => `localhost:${port}`);
  });

  it("a tcp:// endpoint", async () => {
    const endpoint = await serveAndCall("tcp://127.0.0.1:*");
    expect(endpoint).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
  });

  it("an ipc:// endpoint", async () => {
    const path = join(tmp, "run.sock");
    const endpoint = await serveAndCall(`ipc://${path}`);
    expect(endpoint).toBe(`ipc://${path}`);
  });

  it("exits 1 naming the endpoint when it cannot listen (port in use)", async () => {
    const { server, endpoint } = await startServer(["127.0.0.1:0", "--config", CONFIG, "--quiet"]);
    const second = await runCli(["run", endpoint, "--config", CONFIG]);
    expect(second.code).toBe(1);
    expect(second.stderr).toContain(`zrpc: cannot listen on ${endpoint}: `);
    expect(second.stdout).not.toContain("Listening on");
    await server.stop();
  });
});

describe("zrpc run refuses invalid addresses with status 2", () => {
  it.each([
    ["70000", 'invalid address "70000": port 70000 is out of range (0-65535)'],
    [":4242", 'invalid address ":4242": empty host'],
    ["[::1", 'invalid address "[::1": bad IPv6 address: missing ]'],
    ["[::zz]:4242", 'invalid address "[::zz]:4242": bad IPv6 address "::zz"'],
    ["::1:4242", 'invalid address "::1:4242": IPv6 addresses must be written in brackets'],
    ["udp://127.0.0.1:4242", 'invalid address "udp://127.0.0.1:4242": unknown scheme "udp"://'],
    ["localhost", 'invalid address "localhost": missing port'],
    ["localhost:abc", 'invalid address "localhost:abc": port "abc" is not a number'],
  ])("%s", async (address, message) => {
    const result = await runCli(["run", address, "--config", CONFIG]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`zrpc run: ${message}`);
    expect(result.stderr).toContain("Run 'zrpc run --help' for usage.");
    expect(result.stdout).toBe("");
  });

  it("zrpc call refuses them the same way", async () => {
    const result = await runCli(["call", "127.0.0.1:0", "hello"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('zrpc call: invalid address "127.0.0.1:0": port 0 is out of range (1-65535)');
  });
});
