// `--transport zmtp|zeromq` (and `server.transport` in the configuration): a server on one
// transport, called and inspected by `zrpc call` / `zrpc inspect` on the other, as child processes.
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { TransportUnavailableError, transportFactory } from "../src/transport.js";
import { FIXTURES, runCli, startServer } from "./helpers.js";

// ES module / JSON configurations: no TypeScript to compile, so these children start fast.
const MJS_CONFIG = join(FIXTURES, "mjs-config", "zrpc.config.mjs");
const ZEROMQ_CONFIG = join(FIXTURES, "zeromq-config", "zrpc.config.json");

/** `zrpc call ENDPOINT hello NAME` with `extra` options must print the greeting and exit 0. */
async function expectHello(endpoint: string, name: string, extra: readonly string[]): Promise<void> {
  const result = await runCli(["call", endpoint, "hello", name, ...extra]);
  expect(result.stderr).toBe("");
  expect(result.stdout).toBe(`"Hello, ${name}!"`);
  expect(result.code).toBe(0);
}

describe("zrpc --transport", () => {
  it("zrpc run --transport zeromq, called by zrpc call on zmtp (the default, and named), inspected over zmtp", async () => {
    const { server, endpoint } = await startServer(["127.0.0.1:0", "--config", MJS_CONFIG, "--quiet", "--transport", "zeromq"]);
    expect(endpoint).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
    expect(server.stdout.at(-1)).toBe(`Listening on ${endpoint} (heartbeat 5s, transport zeromq). Quit with CONTROL-C.`);
    await expectHello(endpoint, "zmtp", ["--transport", "zmtp"]);
    await expectHello(endpoint, "default", []);
    const inspect = await runCli(["inspect", endpoint]);
    expect(inspect.stdout.split("\n")).toEqual(["[FromMjs]", 'hello(name="world")  Return a greeting.']);
    expect(inspect.code).toBe(0);
    expect(await server.stop("SIGTERM")).toEqual({ code: 0, signal: null });
  });

  it("zrpc run on zmtp (the default), called and inspected with --transport zeromq", async () => {
    const { server, endpoint } = await startServer(["127.0.0.1:0", "--config", MJS_CONFIG, "--quiet"]);
    expect(server.stdout.at(-1)).toBe(`Listening on ${endpoint} (heartbeat 5s). Quit with CONTROL-C.`);
    await expectHello(endpoint, "zeromq", ["--transport", "zeromq"]);
    const inspect = await runCli(["inspect", endpoint, "--transport", "zeromq"]);
    expect(inspect.stdout.split("\n")).toEqual(["[FromMjs]", 'hello(name="world")  Return a greeting.']);
    expect(inspect.code).toBe(0);
    expect(await server.stop("SIGTERM")).toEqual({ code: 0, signal: null });
  });

  it("zmtp on both ends, over IPv6 and ipc too", async () => {
    for (const address of ["[::1]:0", "ipc://*"]) {
      const { server, endpoint } = await startServer([address, "--config", MJS_CONFIG, "--quiet", "--transport", "zmtp"]);
      await expectHello(endpoint, "zmtp", ["--transport", "zmtp"]);
      await expectHello(endpoint, "zeromq", ["--transport", "zeromq"]);
      expect(await server.stop("SIGTERM")).toEqual({ code: 0, signal: null });
    }
  });

  it("server.transport in the configuration chooses the server's transport; --transport overrides it", async () => {
    const fromConfig = await startServer(["127.0.0.1:0", "--config", ZEROMQ_CONFIG, "--quiet"]);
    expect(fromConfig.server.stdout.at(-1)).toMatch(/\(heartbeat 5s, transport zeromq\)/);
    await expectHello(fromConfig.endpoint, "config", []);
    expect(await fromConfig.server.stop("SIGTERM")).toEqual({ code: 0, signal: null });

    const overridden = await startServer(["127.0.0.1:0", "--config", ZEROMQ_CONFIG, "--quiet", "--transport", "zmtp"]);
    expect(overridden.server.stdout.at(-1)).toMatch(/\(heartbeat 5s\)\. Quit/);
    await expectHello(overridden.endpoint, "flag", ["--transport", "zeromq"]);
    expect(await overridden.server.stop("SIGTERM")).toEqual({ code: 0, signal: null });
  });

  it("exits 1 naming the endpoint when a server cannot listen (port in use), on either transport", async () => {
    const { server, endpoint } = await startServer(["127.0.0.1:0", "--config", MJS_CONFIG, "--quiet"]);
    for (const transport of ["zmtp", "zeromq"]) {
      const second = await runCli(["run", endpoint, "--config", MJS_CONFIG, "--transport", transport]);
      expect(second.code).toBe(1);
      expect(second.stderr).toContain(`zrpc: cannot listen on ${endpoint}: `);
      expect(second.stdout).not.toContain("Listening on");
    }
    await server.stop();
  });

  it.each([
    ["run", "0", "--config", MJS_CONFIG],
    ["call", "4242", "hello"],
    ["inspect", "4242"],
  ])("zrpc %s refuses an unknown --transport with status 2", async (...args) => {
    const result = await runCli([...args, "--transport", "nanomsg"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`zrpc ${args[0]}: --transport must be zmtp or zeromq, got "nanomsg"`);
  });
});

describe("--transport zeromq without @zrpc/transport-zeromq installed", () => {
  // A real run of the command in which the package does not resolve (a resolve hook refuses it).
  const NO_ZEROMQ = { env: { NODE_OPTIONS: `--import=${pathToFileURL(join(FIXTURES, "no-zeromq", "register.mjs")).href}` } };
  const INSTALL = "zrpc: --transport zeromq needs the package @zrpc/transport-zeromq (zeromq.js, a native addon), which is not installed: npm install @zrpc/transport-zeromq, or use --transport zmtp (the default, no native addon)";

  it.each([
    ["run", "127.0.0.1:0", "--config", MJS_CONFIG],
    ["call", "4242", "hello"],
    ["inspect", "4242"],
  ])("zrpc %s prints what to install and exits 1", async (...args) => {
    const result = await runCli([...args, "--transport", "zeromq"], NO_ZEROMQ);
    expect(result.stderr.split("\n")).toContain(INSTALL);
    expect(result.stdout).not.toContain("Listening on");
    expect(result.code).toBe(1);
  });

  it("the server.transport setting of the configuration too; zmtp still works in that process", async () => {
    const result = await runCli(["run", "127.0.0.1:0", "--config", ZEROMQ_CONFIG], NO_ZEROMQ);
    expect(result.stderr.split("\n")).toContain(INSTALL);
    expect(result.code).toBe(1);
    const { server, endpoint } = await startServer(["127.0.0.1:0", "--config", MJS_CONFIG, "--quiet"], NO_ZEROMQ);
    await expectHello(endpoint, "zmtp", []);
    expect(await server.stop("SIGTERM")).toEqual({ code: 0, signal: null });
  });

  it("maps the names to factories; a loader that fails otherwise is reported with its reason", async () => {
    expect((await transportFactory("zmtp")).name).toBe("zmtp");
    expect((await transportFactory("zeromq", { linger: 0 })).name).toBe("zeromq");
    const missing = Object.assign(new Error("Cannot find module '@zrpc/transport-zeromq'"), { code: "MODULE_NOT_FOUND" });
    await expect(transportFactory("zeromq", { loadZeromq: () => Promise.reject(missing) })).rejects.toThrow(
      new TransportUnavailableError(INSTALL.slice("zrpc: ".length)),
    );
    const broken = new Error("zeromq.js: the native addon was built for another Node.js");
    const failure = await transportFactory("zeromq", { loadZeromq: () => Promise.reject(broken) }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(TransportUnavailableError);
    expect((failure as Error).message).toContain("which failed to load (zeromq.js: the native addon was built for another Node.js): npm install @zrpc/transport-zeromq");
    expect((failure as Error).cause).toBe(broken);
    let asked = false;
    const factory = await transportFactory("zeromq", {
      linger: 5,
      loadZeromq: () => {
        asked = true;
        return Promise.resolve({ zeromq: (options) => ({ name: `fake ${JSON.stringify(options)}`, open: () => Promise.reject(new Error("unused")) }) });
      },
    });
    expect(asked).toBe(true);
    expect(factory.name).toBe('fake {"linger":5}');
  });
});
