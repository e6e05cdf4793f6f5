// One process, one registry: the ESM build (dist/index.js), the CJS build (dist/index.cjs) and the
// source loaded side by side share the default registry and the call context, as a CommonJS app's
// rpcs module (requiring the CJS build) served by `zrpc run` (importing the ESM build) needs.
import { createRequire } from "node:module";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createMemoryServer } from "@zrpc/channel/testing";
import * as source from "../src/index.js";
import { processWide } from "../src/process-wide.js";
import { RawClient } from "./helpers.js";

type ServerModule = typeof source;

// Paths in variables: the builds are loaded at run time (the test task builds first), and the
// type checker must not need them.
const esmPath = "../dist/index.js";
const cjsPath = "../dist/index.cjs";

async function builds(): Promise<{ esm: ServerModule; cjs: ServerModule }> {
  const esm = (await import(/* @vite-ignore */ esmPath)) as ServerModule;
  const cjs = createRequire(import.meta.url)(cjsPath) as ServerModule;
  return { esm, cjs };
}

const servers: source.Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close(0)));
});

/** Serves the default registry of `copy` over an in-memory ROUTER; returns a raw client. */
function serveDefault(copy: ServerModule): RawClient {
  const network = createMemoryServer();
  const server = copy.createServer(copy.registry, { name: "dual", logger: null });
  servers.push(server);
  server.serve(network.transport);
  return new RawClient(network.connect());
}

const unique = (prefix: string): string => `${prefix}_${Math.random().toString(36).slice(2, 10)}`;

describe("two builds of @zrpc/server in one process", () => {
  it("are two copies with one default registry", async () => {
    const { esm, cjs } = await builds();
    expect(esm.createServer).not.toBe(cjs.createServer);
    expect(esm.registry).toBe(cjs.registry);
    expect(source.registry).toBe(esm.registry);
    expect(esm.registry).toBe((globalThis as unknown as Record<symbol, unknown>)[Symbol.for("zrpc.server.defaultRegistry")]);
  });

  it("serves through one copy what was registered through the other", async () => {
    const { esm, cjs } = await builds();
    for (const [registrar, server] of [
      [cjs, esm],
      [esm, cjs],
    ] as const) {
      const name = unique("sum");
      registrar.register((a: number, b: number) => a + b, { name, doc: "Add." });
      expect(server.registry.names()).toContain(name);
      const client = serveDefault(server);
      expect((await client.call(name, [2, 3])).args).toEqual([5]);
      const [listed] = (await client.call("_zerorpc_list")).args as [string[]];
      expect(listed).toContain(name);
      // A duplicate is refused whichever copy registers it.
      expect(() => server.register(() => 0, { name })).toThrow(registrar.RegistrationError);
      client.close();
    }
  });

  it("gives a handler loaded through one copy the call context of a server of the other", async () => {
    const { esm, cjs } = await builds();
    for (const [registrar, server] of [
      [cjs, esm],
      [esm, cjs],
    ] as const) {
      const name = unique("where");
      registrar.register(
        async () => {
          await Promise.resolve();
          const call = registrar.getCallContext();
          return call === undefined ? null : [call.method, call.serverName, call.args.length];
        },
        { name },
      );
      const client = serveDefault(server);
      expect((await client.call(name, [])).args).toEqual([[name, "dual", 0]]);
      client.close();
    }
    expect(esm.getCallContext()).toBeUndefined();
    expect(cjs.getCallContext()).toBeUndefined();
  });

  it("keeps instanceof of the error classes across the copies", async () => {
    const { esm, cjs } = await builds();
    for (const [maker, checker] of [
      [esm, cjs],
      [cjs, esm],
    ] as const) {
      expect(new maker.ServiceError("ValueError", "bad")).toBeInstanceOf(checker.ServiceError);
      expect(new maker.RegistrationError("duplicate", "x", "taken")).toBeInstanceOf(checker.RegistrationError);
      expect(new maker.CallCanceled()).toBeInstanceOf(checker.CallCanceled);
      // The deprecated spelling is the same class.
      expect(new maker.CallCanceled()).toBeInstanceOf(checker.CallCancelled);
      expect(new maker.ServiceError("ValueError", "bad")).not.toBeInstanceOf(checker.RegistrationError);
      expect(new Error("plain")).not.toBeInstanceOf(checker.ServiceError);
    }
    // An application's subclass keeps the ordinary prototype check.
    class NotFound extends esm.ServiceError {}
    expect(new NotFound("KeyError", "k")).toBeInstanceOf(NotFound);
    expect(new NotFound("KeyError", "k")).toBeInstanceOf(cjs.ServiceError);
    expect(new esm.ServiceError("KeyError", "k")).not.toBeInstanceOf(NotFound);
  });
});

describe("processWide", () => {
  it("stores the first value on globalThis and hands it to later callers", () => {
    const key = unique("zrpc.test.processWide");
    const first = processWide(key, () => ({ n: 1 }), (value): value is { n: number } => typeof value === "object" && value !== null);
    const second = processWide(key, () => ({ n: 2 }), (value): value is { n: number } => typeof value === "object" && value !== null);
    expect(second).toBe(first);
    expect(Object.keys(globalThis)).not.toContain(key);
    expect(Object.getOwnPropertyDescriptor(globalThis, Symbol.for(key))).toMatchObject({ writable: false, enumerable: false, configurable: false });
  });

  it("keeps a value of its own, with a warning, when the stored one does not fit (another version)", () => {
    const key = unique("zrpc.test.processWide");
    const foreign = { version: 0 };
    Object.defineProperty(globalThis, Symbol.for(key), { value: foreign, configurable: true });
    const warn = vi.spyOn(process, "emitWarning").mockImplementation(() => undefined);
    try {
      const fits = (value: unknown): value is { version: number } => (value as { version?: number } | undefined)?.version === 1;
      const own = processWide(key, () => ({ version: 1 }), fits);
      expect(own).toEqual({ version: 1 });
      expect((globalThis as unknown as Record<symbol, unknown>)[Symbol.for(key)]).toBe(foreign);
      expect(warn).toHaveBeenCalledTimes(1);
      expect(String(warn.mock.calls[0]![0])).toContain(`Symbol.for(${JSON.stringify(key)})`);
    } finally {
      warn.mockRestore();
      delete (globalThis as unknown as Record<symbol, unknown>)[Symbol.for(key)];
    }
  });
});
