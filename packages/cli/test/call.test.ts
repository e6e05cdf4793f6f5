// `zrpc call` (a child process) against a zrpc server in this process.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRegistry, createServer, raise } from "@zrpc/server";
import type { Server } from "@zrpc/server";
import { Float64, f64 } from "@zrpc/wire";
import { runCli } from "./helpers.js";

/** The msgpack type a value arrived as, seen from the server. */
function kindOf(value: unknown): string {
  if (value === null) return "nil";
  if (value instanceof Float64) return `float(${value.toString()})`;
  if (value instanceof Uint8Array) return `bin(${value.length})`;
  if (value instanceof Map) return "map(non-str keys)";
  if (Array.isArray(value)) return "array";
  switch (typeof value) {
    case "number":
      return Number.isInteger(value) ? "int" : "float";
    case "bigint":
      return `int(${value.toString()})`;
    case "string":
      return `str(${value})`;
    case "boolean":
      return "bool";
    case "object":
      return "map";
    case "undefined":
    case "symbol":
    case "function":
      return typeof value;
  }
  return "unknown";
}

let server: Server;
let endpoint: string;
let pending: (() => void)[] = [];

beforeAll(async () => {
  const methods = createRegistry();
  methods.register(function add(a: number, b: number) {
    return a + b;
  });
  methods.register(function echo(...values: unknown[]) {
    return values;
  });
  methods.register(function kinds(...values: unknown[]) {
    return values.map(kindOf);
  });
  methods.register(function* range(n: number) {
    for (let i = 0; i < n; i++) yield { i, square: i * i };
  });
  methods.register(function fail(message: string) {
    raise("ValueError", message);
  });
  methods.register(function values() {
    return { big: 18446744073709551615n, negative: -9223372036854775808n, float: f64(2), half: 0.5, bytes: new Uint8Array([0, 1, 254, 255]) };
  });
  // Never answers (until the server closes): for the timeout.
  methods.register(function never() {
    return new Promise<void>((resolve) => pending.push(resolve));
  });
  server = createServer(methods, { name: "CallTest" });
  [endpoint] = (await server.bind("tcp://127.0.0.1:*")) as [string];
});

afterAll(async () => {
  for (const resolve of pending) resolve();
  pending = [];
  await server.close(0);
});

describe("zrpc call", () => {
  it("prints a unary result as one JSON line, and nothing on stderr when it is not a terminal", async () => {
    const result = await runCli(["call", endpoint, "add", "2", "3"]);
    expect(result).toEqual({ code: 0, signal: null, stdout: "5", stderr: "" });
  });

  it("prints an array result as one line", async () => {
    const result = await runCli(["call", endpoint, "echo", "1", "2", "3"]);
    expect(result.stdout).toBe("[1,2,3]");
  });

  it("prints a stream as one line per item", async () => {
    const result = await runCli(["call", endpoint, "range", "4"]);
    expect(result.code).toBe(0);
    expect(result.stdout.split("\n")).toEqual(['{"i":0,"square":0}', '{"i":1,"square":1}', '{"i":2,"square":4}', '{"i":3,"square":9}']);
    expect(result.stderr).toBe("");
  });

  it("prints nothing for an empty stream", async () => {
    const result = await runCli(["call", endpoint, "range", "0"]);
    expect(result).toMatchObject({ code: 0, stdout: "" });
  });

  it("sends arguments as JSON where they parse and as strings otherwise", async () => {
    const result = await runCli([
      "call", endpoint, "kinds",
      "42", "-7", "2.0", "2.5", "hello", '"42"', "null", "true", "[1]", '{"a":1}', '{"$bin":"00ff"}', '{"$map":[[{"$bin":"01"},2]]}',
      "18446744073709551615", "not json", "",
    ]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual([
      "int", "int", "float(2)", "float", "str(hello)", "str(42)", "nil", "bool", "array", "map", "bin(2)", "map(non-str keys)",
      "int(18446744073709551615)", "str(not json)", "str()",
    ]);
  });

  it("refuses locally what zerorpc-python would drop (int map keys), with status 1", async () => {
    const result = await runCli(["call", endpoint, "echo", '{"$map":[[1,2]]}']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("zrpc call: EncodeError: map key of type 'number' is not str or bin");
  });

  it("with --json, refuses an argument that is not JSON (status 2, naming it)", async () => {
    const bad = await runCli(["call", "--json", endpoint, "echo", "1", "hello"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('zrpc call: argument 2 "hello" is not valid JSON (--json): unexpected character "h" at position 0');
    expect(bad.stdout).toBe("");
    const good = await runCli(["call", endpoint, "echo", '"hello"', "1", "--json"]);
    expect(good.stdout).toBe('["hello",1]');
  });

  it("keeps every digit of big integers, both ways", async () => {
    const echo = await runCli(["call", endpoint, "echo", "18446744073709551615", "-9223372036854775808", "9007199254740993"]);
    expect(echo.stdout).toBe("[18446744073709551615,-9223372036854775808,9007199254740993]");
  });

  it("writes floats with a fraction, bin as $bin", async () => {
    const result = await runCli(["call", endpoint, "values"]);
    expect(result.stdout).toBe('{"big":18446744073709551615,"negative":-9223372036854775808,"float":2.0,"half":0.5,"bytes":{"$bin":"0001feff"}}');
  });

  it("reports a remote error on stderr as name: message, with status 1", async () => {
    const result = await runCli(["call", endpoint, "fail", "bad input"]);
    expect(result).toMatchObject({ code: 1, stdout: "", stderr: "ValueError: bad input" });
    const verbose = await runCli(["call", endpoint, "fail", "bad input", "-v"]);
    expect(verbose.stderr).toMatch(/^ValueError: bad input\nremote traceback:\nValueError: bad input\n\s+at (Object\.|CallContext\.)?fail /);
  });

  it("reports an unknown method with the server's methods, closest first, and a wrong argument count as the server says", async () => {
    expect(await runCli(["call", endpoint, "ech"])).toMatchObject({
      code: 1,
      stderr: "NameError: ech: no such method. Did you mean: echo; the server has: echo, add, fail, never, kinds, range, values",
    });
    expect(await runCli(["call", endpoint, "zzzzzzzz"])).toMatchObject({
      code: 1,
      stderr: "NameError: zzzzzzzz: no such method; the server has: add, echo, fail, kinds, never, range, values",
    });
    expect(await runCli(["call", endpoint, "add", "1"])).toMatchObject({ code: 1, stderr: "TypeError: add() missing 1 required positional argument: 'b'" });
  });

  it("gives up after --timeout seconds (status 1)", async () => {
    const result = await runCli(["call", endpoint, "never", "--timeout", "0.5"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe("zrpc call: TimeoutExpired: timeout after 0.5s, when calling remote method never");
  });

  it("refuses bad usage with status 2", async () => {
    expect(await runCli(["call", endpoint])).toMatchObject({ code: 2, stderr: expect.stringContaining("zrpc call: missing METHOD") });
    expect(await runCli(["call", endpoint, "add", "--timeout", "soon"])).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('zrpc call: --timeout must be a number of seconds >= 0, got "soon"'),
    });
    expect(await runCli(["call", endpoint, "add", "--bogus"])).toMatchObject({ code: 2, stderr: expect.stringContaining("zrpc call: unknown option --bogus") });
  });

  it("prints its help with status 0", async () => {
    const result = await runCli(["call", "--help"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Usage: zrpc call ENDPOINT METHOD \[ARGS\.\.\.\] \[options\]/);
  });
});
