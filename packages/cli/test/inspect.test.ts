// `zrpc inspect` (a child process) against zrpc servers in this process: one that answers
// `_zerorpc_inspect`, and ones that fail it like zerorpc-python on Python >= 3.11 (docs/protocol
// sections 10 and 13), made with a middleware (the built-in introspection methods go through
// middleware like any method, and `_zerorpc_*` names cannot be registered).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ServiceError, createRegistry, createServer } from "@zrpc/server";
import type { Server, ServerMiddleware } from "@zrpc/server";
import { runCli } from "./helpers.js";

function calculator(): ReturnType<typeof createRegistry> {
  const methods = createRegistry();
  methods.register(function add(a: number, b: number) {
    return a + b;
  }, { doc: "Return a + b.\n\n    Both may be floats." });
  methods.register(function scale(value: number, factor = 2, ...rest: number[]) {
    return [value * factor, ...rest];
  }, { doc: "Multiply value by factor." });
  methods.register(function* countdown(n: number) {
    yield n;
  });
  return methods;
}

const getargspecMissing = (): ServiceError => new ServiceError("AttributeError", "module 'inspect' has no attribute 'getargspec'");

/** Python >= 3.11 without a shim: `_zerorpc_inspect` and `_zerorpc_args` raise AttributeError. */
const python311: ServerMiddleware = {
  beforeCall(call) {
    if (call.method === "_zerorpc_inspect" || call.method === "_zerorpc_args") throw getargspecMissing();
  },
};

/** Only `_zerorpc_inspect` fails; `_zerorpc_args` answers like a Python class-based service (with `self`). */
const inspectOnlyBroken: ServerMiddleware = {
  beforeCall(call) {
    if (call.method === "_zerorpc_inspect") throw getargspecMissing();
  },
  async around(call, next) {
    const result = await next();
    if (call.method !== "_zerorpc_args" || !Array.isArray(result)) return result;
    return [["self", ...(result[0] as string[])], ...(result.slice(1) as unknown[])];
  },
};

const servers: Server[] = [];
const endpoints: Record<"plain" | "py311" | "inspectBroken", string> = { plain: "", py311: "", inspectBroken: "" };

beforeAll(async () => {
  for (const [key, middleware] of [["plain", []], ["py311", [python311]], ["inspectBroken", [inspectOnlyBroken]]] as const) {
    const server = createServer(calculator(), { name: "Calculator", middleware: [...middleware] });
    servers.push(server);
    [endpoints[key]] = (await server.bind("tcp://127.0.0.1:*")) as [string];
  }
});

afterAll(async () => {
  await Promise.all(servers.map((server) => server.close(0)));
});

describe("zrpc inspect", () => {
  it("lists the service name, then each method with its arguments and first doc line", async () => {
    const result = await runCli(["inspect", endpoints.plain]);
    expect(result).toMatchObject({ code: 0, stderr: "" });
    // _zerorpc_inspect has no place for a rest parameter (Python's inspect output has none either).
    expect(result.stdout.split("\n")).toEqual([
      "[Calculator]",
      "add(a, b)               Return a + b.",
      "scale(value, factor=2)  Multiply value by factor.",
      "countdown(n)",
    ]);
  });

  it("shows one method's signature and whole documentation", async () => {
    const result = await runCli(["inspect", endpoints.plain, "add"]);
    expect(result.stdout).toBe("[Calculator]\nadd(a, b)\n\nReturn a + b.\n\nBoth may be floats.");
    const missing = await runCli(["inspect", endpoints.plain, "nope"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe('zrpc inspect: Calculator has no method "nope" (it has add, scale, countdown)');
  });

  it("prints the description as JSON with --json", async () => {
    const result = await runCli(["inspect", endpoints.plain, "--json"]);
    expect(JSON.parse(result.stdout)).toEqual({
      name: "Calculator",
      methods: {
        add: { args: [{ name: "a" }, { name: "b" }], doc: "Return a + b.\n\nBoth may be floats." },
        scale: { args: [{ name: "value" }, { name: "factor", default: 2 }], doc: "Multiply value by factor." },
        countdown: { args: [{ name: "n" }], doc: null },
      },
    });
  });

  it("falls back to _zerorpc_list, _zerorpc_name and _zerorpc_help when _zerorpc_inspect fails (Python 3.11)", async () => {
    const result = await runCli(["inspect", endpoints.py311, "--verbose"]);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe(
      "zrpc inspect: _zerorpc_inspect failed (AttributeError: module 'inspect' has no attribute 'getargspec'); using _zerorpc_list, _zerorpc_name and _zerorpc_help",
    );
    // _zerorpc_args fails too on Python 3.11: arguments are unknown.
    expect(result.stdout.split("\n")).toEqual(["[Calculator]", "add(...)        Return a + b.", "scale(...)      Multiply value by factor.", "countdown(...)"]);
    const quiet = await runCli(["inspect", endpoints.py311]);
    expect(quiet).toMatchObject({ code: 0, stderr: "", stdout: result.stdout });
  });

  it("uses _zerorpc_args in the fallback when it works, without Python's self", async () => {
    const result = await runCli(["inspect", endpoints.inspectBroken]);
    expect(result.code).toBe(0);
    expect(result.stdout.split("\n")).toEqual([
      "[Calculator]",
      "add(a, b)                        Return a + b.",
      "scale(value, factor=2, ...rest)  Multiply value by factor.",
      "countdown(n)",
    ]);
  });

  it("fails with status 1 when nobody answers", async () => {
    const result = await runCli(["inspect", "127.0.0.1:9", "--timeout", "0.3"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe("zrpc inspect: TimeoutExpired: timeout after 0.3s, when calling remote method _zerorpc_inspect");
  });
});
