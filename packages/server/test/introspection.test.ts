import { describe, expect, it } from "vitest";
import { createRegistry } from "../src/index.js";
import { setup } from "./helpers.js";

/** The TestService of docs/protocol/test-service.md, declared through a registry (argument names parsed). */
function testService() {
  const registry = createRegistry();
  registry.register(function echo(x: unknown) {
    return x;
  }, { doc: "Return the argument unchanged." });
  registry.register(function add(a: number, b: number) {
    return a + b;
  }, { doc: "Return a + b." });
  registry.register(function hello(name: string) {
    return `Hello, ${name}`;
  }, {
    doc: `Return a greeting.

    The reply is "Hello, " followed by name.
    `,
  });
  registry.register(function* range(n: number) {
    for (let i = 0; i < n; i++) yield i;
  }, { doc: "Stream the integers 0 .. n-1." });
  registry.register(function nodoc(a: number, b = 3, c = "x", ...rest: unknown[]) {
    return [a, b, c, rest];
  });
  registry.register(function _private() {
    return "hidden";
  });
  registry.register((...args: unknown[]) => args.length, { name: "bound", args: ["first", { name: "second", default: null }, "...more"] });
  registry.register(
    // A bound function has no readable source: its arguments are unknown.
    function unknownArgs() {
      return 1;
    }.bind(null),
    { name: "unknownArgs" },
  );
  return registry;
}

describe("introspection (docs/protocol §10)", () => {
  it("_zerorpc_list: user methods in table order, without _ names or introspection", async () => {
    const { client } = setup(testService(), { name: "TestService" });
    const reply = await client.call("_zerorpc_list");
    expect(reply.name).toBe("OK");
    expect(reply.args).toEqual([["echo", "add", "hello", "range", "nodoc", "bound", "unknownArgs"]]);
  });

  it("_zerorpc_name and _zerorpc_ping", async () => {
    const { client } = setup(testService(), { name: "TestService" });
    expect((await client.call("_zerorpc_name")).args).toEqual(["TestService"]);
    expect((await client.call("_zerorpc_ping")).args).toEqual([["pong", "TestService"]]);
  });

  it("_zerorpc_help: the doc cleaned like inspect.cleandoc, or nil", async () => {
    const { client } = setup(testService());
    expect((await client.call("_zerorpc_help", ["hello"])).args).toEqual([
      'Return a greeting.\n\nThe reply is "Hello, " followed by name.',
    ]);
    expect((await client.call("_zerorpc_help", ["add"])).args).toEqual(["Return a + b."]);
    expect((await client.call("_zerorpc_help", ["nodoc"])).args).toEqual([null]);
  });

  it("_zerorpc_args: [args, varargs, varkw, defaults]", async () => {
    const { client } = setup(testService());
    expect((await client.call("_zerorpc_args", ["add"])).args).toEqual([[["a", "b"], null, null, null]]);
    expect((await client.call("_zerorpc_args", ["nodoc"])).args).toEqual([[["a", "b", "c"], "rest", null, [3, "x"]]]);
    expect((await client.call("_zerorpc_args", ["bound"])).args).toEqual([[["first", "second"], "more", null, [null]]]);
    const unknown = await client.call("_zerorpc_args", ["unknownArgs"]);
    expect((unknown.args as unknown[]).slice(0, 2)).toEqual(["TypeError", "unsupported callable"]);
  });

  it("_zerorpc_help / _zerorpc_args of an unknown method: ERR KeyError 'nope'", async () => {
    const { client } = setup(testService());
    for (const method of ["_zerorpc_help", "_zerorpc_args"]) {
      const reply = await client.call(method, ["nope"]);
      expect(reply.name).toBe("ERR");
      expect(reply.args as unknown[]).toHaveLength(3);
      expect((reply.args as unknown[]).slice(0, 2)).toEqual(["KeyError", "'nope'"]);
    }
  });

  it("_zerorpc_inspect: {name, methods: {m: {args: [{name}, {name, default}], doc}}}", async () => {
    const { client } = setup(testService(), { name: "TestService" });
    const reply = await client.call("_zerorpc_inspect");
    expect(reply.args).toEqual([
      {
        name: "TestService",
        methods: {
          echo: { args: [{ name: "x" }], doc: "Return the argument unchanged." },
          add: { args: [{ name: "a" }, { name: "b" }], doc: "Return a + b." },
          hello: { args: [{ name: "name" }], doc: 'Return a greeting.\n\nThe reply is "Hello, " followed by name.' },
          range: { args: [{ name: "n" }], doc: "Stream the integers 0 .. n-1." },
          nodoc: { args: [{ name: "a" }, { name: "b", default: 3 }, { name: "c", default: "x" }], doc: null },
          bound: { args: [{ name: "first" }, { name: "second", default: null }], doc: null },
          unknownArgs: { args: null, doc: null },
        },
        zrpc_types: {
          echo: { args: ["unknown"], rest: null, result: "unknown", stream: false },
          add: { args: ["unknown", "unknown"], rest: null, result: "unknown", stream: false },
          hello: { args: ["unknown"], rest: null, result: "unknown", stream: false },
          range: { args: ["unknown"], rest: null, result: "unknown", stream: true },
          nodoc: { args: ["unknown", "unknown", "unknown"], rest: { name: "rest", type: "unknown" }, result: "unknown", stream: false },
          bound: { args: ["unknown", "unknown"], rest: { name: "more", type: "unknown" }, result: "unknown", stream: false },
          unknownArgs: { args: null, rest: null, result: "unknown", stream: false },
        },
      },
    ]);
  });

  it("_zerorpc_inspect: zrpc_types carries the type texts of the types option, after name and methods", async () => {
    const types = {
      add: { args: ["number", "number"], result: "number" },
      range: { args: ["number"], result: "number" },
      nodoc: { args: ["number"], rest: "string", result: "[number, number, string, string[]]" },
      _private: { result: "string" },
      missing: { result: "never" },
    };
    const { client } = setup(testService(), { name: "TestService", types });
    const reply = await client.call("_zerorpc_inspect");
    const inspect = (reply.args as [Record<string, Record<string, unknown>>])[0];
    expect(Object.keys(inspect)).toEqual(["name", "methods", "zrpc_types"]);
    expect(Object.keys(inspect.zrpc_types!)).toEqual(Object.keys(inspect.methods!));
    expect(inspect.zrpc_types).toMatchObject({
      add: { args: ["number", "number"], rest: null, result: "number", stream: false },
      range: { args: ["number"], rest: null, result: "number", stream: true },
      nodoc: { args: ["number", "unknown", "unknown"], rest: { name: "rest", type: "string" }, result: "[number, number, string, string[]]", stream: false },
      echo: { args: ["unknown"], rest: null, result: "unknown", stream: false },
    });
  });

  it("_zerorpc_inspect: a registration's own types win over the server's types table", async () => {
    const registry = createRegistry();
    registry.register(function add(a: number, b: number) {
      return a + b;
    }, { types: { args: ["number", "number"], result: "number" } });
    registry.register(function neg(a: number) {
      return -a;
    });
    const { client } = setup(registry, { types: { add: { result: "string" }, neg: { args: ["number"], result: "number" } } });
    const reply = await client.call("_zerorpc_inspect");
    expect((reply.args as [{ zrpc_types: unknown }])[0].zrpc_types).toEqual({
      add: { args: ["number", "number"], rest: null, result: "number", stream: false },
      neg: { args: ["number"], rest: null, result: "number", stream: false },
    });
  });

  it("checks the arity of introspection calls too", async () => {
    const { client } = setup(testService());
    const reply = await client.call("_zerorpc_help", []);
    expect((reply.args as unknown[]).slice(0, 2)).toEqual(["TypeError", "_zerorpc_help() missing 1 required positional argument: 'method'"]);
  });

  it("serves methods registered after the server started", async () => {
    const registry = createRegistry();
    const { client } = setup(registry);
    expect((await client.call("_zerorpc_list")).args).toEqual([[]]);
    registry.register(function late() {
      return "here";
    });
    expect((await client.call("_zerorpc_list")).args).toEqual([["late"]]);
    expect((await client.call("late")).args).toEqual(["here"]);
  });
});
