import { afterEach, describe, expect, it, vi } from "vitest";
import { createLinkedPair } from "@zrpc/channel/testing";
import { Float64, f64 } from "@zrpc/wire";
import { createRegistry, createServer, raise, ServiceError } from "../src/index.js";
import type { CallContext, Logger } from "../src/index.js";
import { RawClient, deferred, setup } from "./helpers.js";

function service() {
  const registry = createRegistry();
  registry.register(function add(a: number, b: number) {
    return a + b;
  });
  registry.register(function echo(x: unknown) {
    return x;
  });
  registry.register(async function slowAdd(a: number, b: number) {
    await Promise.resolve();
    return a + b;
  });
  registry.register(function fail(message: string) {
    throw Object.assign(new Error(message), { name: "ValueError" });
  });
  registry.register(async function failAsync(message: string) {
    await Promise.resolve();
    raise("KeyError", message);
  });
  registry.register(function failService() {
    throw new ServiceError("ZeroDivisionError", "division by zero");
  });
  registry.register(function failPythonName() {
    throw Object.assign(new Error("weird"), { name: "LocalName", pythonName: "RuntimeError" });
  });
  registry.register(function throwString() {
    // eslint-disable-next-line @typescript-eslint/only-throw-error -- testing non-Error throws
    throw "plain string";
  });
  registry.register(function throwNumber() {
    // eslint-disable-next-line @typescript-eslint/only-throw-error -- testing non-Error throws
    throw 42;
  });
  registry.register(function unencodable() {
    return new Set([1]);
  });
  registry.register(function huge() {
    return 2n ** 64n;
  });
  registry.register(function* notAStream() {
    yield 1;
  }, { stream: false });
  registry.register(function returnsGenerator() {
    return (function* inner() {
      yield 1;
    })();
  });
  registry.register(function whoAmI(this: CallContext, a: unknown, b: unknown) {
    return [this.method, this.serverName, [a, b].length];
  });
  registry.register(function count(...items: unknown[]) {
    return items.length;
  });
  registry.register(function withDefault(a: number, b = 10) {
    return a + b;
  });
  registry.register(function float() {
    return f64(2);
  });
  return registry;
}

describe("request / reply (docs/protocol §6.1)", () => {
  it("answers OK [result] with response_to = the request id", async () => {
    const { client } = setup(service());
    const id = client.request("add", [2, 3]);
    const reply = await client.next(id);
    expect(reply.name).toBe("OK");
    expect(reply.args).toEqual([5]);
    expect(reply.header.response_to).toEqual(id);
    expect(reply.header.v).toBe(3);
    expect(reply.header.message_id).toBeInstanceOf(Uint8Array);
  });

  it("awaits async handlers", async () => {
    const { client } = setup(service());
    expect((await client.call("slowAdd", [1, 2])).args).toEqual([3]);
  });

  it("keeps float64-ness and exact big ints", async () => {
    const { client } = setup(service());
    const reply = await client.call("echo", [[f64(2), 2n ** 63n, -(2n ** 63n)]]);
    expect(reply.args).toEqual([[new Float64(2), 2n ** 63n, -(2n ** 63n)]]);
    const float = await client.call("float");
    expect(float.args).toEqual([new Float64(2)]);
  });

  it("echoes str and int message ids with their type", async () => {
    const { client } = setup(service());
    const asString = await client.call("add", [1, 2], { id: "abc-str-id" });
    expect(asString.header.response_to).toBe("abc-str-id");
    const asInt = await client.call("add", [1, 2], { id: 12345 });
    expect(asInt.header.response_to).toBe(12345);
  });

  it("binds this to the CallContext for registry functions", async () => {
    const { client } = setup(service(), { name: "Svc" });
    expect((await client.call("whoAmI", [1, 2])).args).toEqual([["whoAmI", "Svc", 2]]);
  });

  it("passes rest and default parameters", async () => {
    const { client } = setup(service());
    expect((await client.call("count", [1, 2, 3, 4])).args).toEqual([4]);
    expect((await client.call("count", [])).args).toEqual([0]);
    expect((await client.call("withDefault", [1])).args).toEqual([11]);
    expect((await client.call("withDefault", [1, 2])).args).toEqual([3]);
  });
});

describe("errors (docs/protocol §6.2)", () => {
  it("answers ERR [name, message, traceback], all three str", async () => {
    const { client } = setup(service());
    const reply = await client.call("fail", ["boom"]);
    expect(reply.name).toBe("ERR");
    const args = reply.args as unknown[];
    expect(args).toHaveLength(3);
    expect(args.slice(0, 2)).toEqual(["ValueError", "boom"]);
    expect(typeof args[2]).toBe("string");
    expect(args[2]).toContain("ValueError: boom");
    expect(args[2]).toMatch(/at .*fail/);
  });

  it("names errors by pythonName, then name; ServiceError and raise()", async () => {
    const { client } = setup(service());
    const raised = (await client.call("failAsync", ["k"])).args as string[];
    expect(raised.slice(0, 2)).toEqual(["KeyError", "k"]);
    // raise() leaves itself out of the traceback: the first frame is the handler.
    expect(raised[2]!.split("\n")[1]).toMatch(/at (Object\.|CallContext\.)?failAsync/);
    expect(((await client.call("failService")).args as unknown[]).slice(0, 2)).toEqual(["ZeroDivisionError", "division by zero"]);
    expect(((await client.call("failPythonName")).args as unknown[]).slice(0, 2)).toEqual(["RuntimeError", "weird"]);
  });

  it("reports non-Error throws as Error with String(value) and no traceback", async () => {
    const { client } = setup(service());
    expect((await client.call("throwString")).args).toEqual(["Error", "plain string", ""]);
    expect((await client.call("throwNumber")).args).toEqual(["Error", "42", ""]);
  });

  it("sends an empty traceback when tracebacks are off", async () => {
    const { client } = setup(service(), { tracebacks: false });
    expect((await client.call("fail", ["boom"])).args).toEqual(["ValueError", "boom", ""]);
  });

  it("answers a v1 request (no v) with ERR [repr] (docs/protocol §4.1)", async () => {
    const { client } = setup(service());
    const reply = await client.call("fail", ["x"], { v: null });
    expect(reply.name).toBe("ERR");
    expect(reply.args).toEqual(["ValueError('x')"]);
    expect(reply.header.v).toBe(3);
    const quoted = await client.call("fail", ["it's"], { v: null });
    expect(quoted.args).toEqual([`ValueError("it's")`]);
    const v2 = await client.call("fail", ["x"], { v: 2 });
    expect((v2.args as unknown[]).slice(0, 2)).toEqual(["ValueError", "x"]);
  });

  it("answers NameError with the method name as the message for an unknown method", async () => {
    const { client } = setup(service());
    const reply = await client.call("nope", [1]);
    expect(reply.name).toBe("ERR");
    expect((reply.args as unknown[]).slice(0, 2)).toEqual(["NameError", "nope"]);
    expect(typeof (reply.args as unknown[])[2]).toBe("string");
    const introspectionLike = await client.call("_zerorpc_nope");
    expect((introspectionLike.args as unknown[]).slice(0, 2)).toEqual(["NameError", "_zerorpc_nope"]);
  });

  it("answers TypeError with Python's messages for a wrong argument count", async () => {
    const { client } = setup(service());
    const tooMany = await client.call("add", [1, 2, 3]);
    expect((tooMany.args as unknown[]).slice(0, 2)).toEqual(["TypeError", "add() takes 2 positional arguments but 3 were given"]);
    const tooFew = await client.call("add", [1]);
    expect((tooFew.args as unknown[]).slice(0, 2)).toEqual(["TypeError", "add() missing 1 required positional argument: 'b'"]);
    const none = await client.call("add", []);
    expect((none.args as unknown[])[1]).toBe("add() missing 2 required positional arguments: 'a' and 'b'");
    const range = await client.call("withDefault", [1, 2, 3]);
    expect((range.args as unknown[])[1]).toBe("withDefault() takes from 1 to 2 positional arguments but 3 were given");
  });

  it("calls method(*args): a map passes its keys, nil and scalars fail with TypeError", async () => {
    const { client } = setup(service());
    expect((await client.call("echo", { k: 1 })).args).toEqual(["k"]);
    expect((await client.call("echo", "x")).args).toEqual(["x"]);
    const nil = await client.call("echo", null);
    expect((nil.args as unknown[]).slice(0, 2)).toEqual(["TypeError", "echo() argument after * must be an iterable, not NoneType"]);
    const scalar = await client.call("echo", 5);
    expect((scalar.args as unknown[]).slice(0, 2)).toEqual(["TypeError", "echo() argument after * must be an iterable, not int"]);
  });

  it("answers ERR TypeError for a result that cannot be encoded, never nothing", async () => {
    const { client } = setup(service());
    const reply = await client.call("unencodable");
    expect(reply.name).toBe("ERR");
    expect((reply.args as unknown[]).slice(0, 2)).toEqual(["TypeError", "can not serialize 'Set' object"]);
  });

  it("answers ERR OverflowError for an int beyond uint64", async () => {
    const { client } = setup(service());
    const reply = await client.call("huge");
    expect((reply.args as unknown[]).slice(0, 2)).toEqual(["OverflowError", "Integer value out of range"]);
  });

  it("does not stream a generator returned by a plain method: TypeError like Python", async () => {
    const { client } = setup(service());
    for (const method of ["notAStream", "returnsGenerator"]) {
      const reply = await client.call(method);
      expect((reply.args as unknown[]).slice(0, 2)).toEqual(["TypeError", "can not serialize 'generator' object"]);
    }
  });

  it("keeps serving after errors", async () => {
    const { client } = setup(service());
    await client.call("fail", ["a"]);
    await client.call("nope");
    await client.call("unencodable");
    expect((await client.call("add", [1, 1])).args).toEqual([2]);
  });
});

describe("object services", () => {
  class Calculator {
    private readonly offset = 100;
    add(a: number, b: number): number {
      return a + b + this.offset;
    }
    hello(name: string): string {
      return `Hello, ${name}`;
    }
    _hidden(): string {
      return "secret";
    }
    *range(n: number): Generator<number> {
      for (let i = 0; i < n; i++) yield i;
    }
  }

  it("serves own and prototype methods with this bound to the object", async () => {
    const { client } = setup(new Calculator());
    expect((await client.call("add", [1, 2])).args).toEqual([103]);
    expect((await client.call("hello", ["x"])).args).toEqual(["Hello, x"]);
  });

  it("hides _-prefixed methods and the constructor", async () => {
    const { client } = setup(new Calculator());
    expect(((await client.call("_hidden")).args as unknown[])[0]).toBe("NameError");
    expect(((await client.call("constructor")).args as unknown[])[0]).toBe("NameError");
  });

  it("uses the class name as the default service name, and sorts methods", async () => {
    class Zeta {
      zed(): number {
        return 1;
      }
      alpha(): number {
        return 2;
      }
    }
    const { client, server } = setup(new Zeta());
    expect(server.name).toBe("Zeta");
    expect((await client.call("_zerorpc_list")).args).toEqual([["alpha", "zed"]]);
    const plain = setup({ b: () => 1, a: () => 2 });
    expect(plain.server.name).toBe("zrpc");
    expect((await plain.client.call("_zerorpc_list")).args).toEqual([["a", "b"]]);
  });

  it("streams generator methods automatically and others through the streams option", async () => {
    class Svc {
      *gen(): Generator<number> {
        yield 1;
      }
      list(): number[] {
        return [1, 2];
      }
    }
    const { client } = setup(new Svc(), { methods: { streams: ["list"] } });
    expect((await client.stream("gen")).map((e) => e.name)).toEqual(["STREAM", "STREAM_DONE"]);
    expect((await client.stream("list")).map((e) => [e.name, e.args])).toEqual([
      ["STREAM", 1],
      ["STREAM", 2],
      ["STREAM_DONE", null],
    ]);
  });

  it("reads stream flags and docs from a static zrpc property", async () => {
    class Svc {
      static zrpc = { streams: ["items"], docs: { items: "  Items.\n    More." } };
      items(): string[] {
        return ["a"];
      }
    }
    const { client } = setup(new Svc());
    expect((await client.stream("items")).map((e) => e.name)).toEqual(["STREAM", "STREAM_DONE"]);
    expect((await client.call("_zerorpc_help", ["items"])).args).toEqual(["Items.\nMore."]);
  });

  it("rejects method options naming methods that do not exist", () => {
    expect(() => createServer(new Calculator(), { methods: { streams: ["nope"] } })).toThrow(/nope/);
  });
});

describe("concurrency", () => {
  it("runs 50 slow calls at once and they finish together", async () => {
    const gate = deferred();
    let running = 0;
    let maxRunning = 0;
    const registry = createRegistry();
    registry.register(async function slow(n: number) {
      running += 1;
      maxRunning = Math.max(maxRunning, running);
      await gate.promise;
      running -= 1;
      return n;
    });
    const { client, server } = setup(registry);
    const ids = Array.from({ length: 50 }, (_, i) => client.request("slow", [i]));
    await client.until(() => running === 50);
    expect(server.inFlight).toBe(50);
    expect(client.events.filter((e) => e.name === "OK")).toHaveLength(0);
    gate.resolve();
    const replies = await Promise.all(ids.map((id) => client.next(id)));
    expect(replies.map((r) => r.args)).toEqual(Array.from({ length: 50 }, (_, i) => [i]));
    expect(maxRunning).toBe(50);
    expect(server.inFlight).toBe(0);
  });

  it("serves several clients at once, each its own replies", async () => {
    const registry = createRegistry();
    registry.register(function echo(x: unknown) {
      return x;
    });
    const network = setup(registry);
    const clients = Array.from({ length: 5 }, () => network.newClient());
    // The same message id from every client: channels are keyed by peer too.
    const replies = await Promise.all(clients.map((c, i) => c.call("echo", [i], { id: "same-id" })));
    expect(replies.map((r) => r.args)).toEqual([[0], [1], [2], [3], [4]]);
  });

  it("queues calls beyond maxConcurrentCalls, first come first served", async () => {
    const gates = Array.from({ length: 5 }, () => deferred());
    const started: number[] = [];
    const registry = createRegistry();
    registry.register(async function job(n: number) {
      started.push(n);
      await gates[n]!.promise;
      return n;
    });
    const { client, server } = setup(registry, { maxConcurrentCalls: 2 });
    const ids = [0, 1, 2, 3, 4].map((n) => client.request("job", [n]));
    await client.until(() => started.length === 2);
    expect(started).toEqual([0, 1]);
    expect(server.inFlight).toBe(5);
    gates[1]!.resolve();
    expect((await client.next(ids[1]!)).args).toEqual([1]);
    await client.until(() => started.length === 3);
    expect(started).toEqual([0, 1, 2]);
    gates[0]!.resolve();
    gates[2]!.resolve();
    await client.until(() => started.length === 5);
    expect(started).toEqual([0, 1, 2, 3, 4]);
    gates[3]!.resolve();
    gates[4]!.resolve();
    await client.until(() => ids.every((id) => client.replies(id).length === 1));
    expect(ids.map((id) => client.replies(id)[0]!.args)).toEqual([[0], [1], [2], [3], [4]]);
    expect(server.inFlight).toBe(0);
  });
});

describe("transports", () => {
  it("serves any Transport, here a linked in-memory pair", async () => {
    const { client, server: serverTransport } = createLinkedPair();
    const registry = createRegistry();
    registry.register(function ping() {
      return "pong";
    });
    const server = createServer(registry, { logger: null });
    server.serve(serverTransport);
    const raw = new RawClient(client);
    expect((await raw.call("ping")).args).toEqual(["pong"]);
    await server.close(0);
  });

  it("refuses transports of the wrong kind and serve() after close()", async () => {
    const server = createServer(createRegistry(), { logger: null });
    const fake = { kind: "pub" } as unknown as Parameters<typeof server.serve>[0];
    expect(() => server.serve(fake)).toThrow(/router/);
    await server.close(0);
    expect(() => server.serve(createLinkedPair().server)).toThrow(/closed/);
  });
});

describe("channels do not outlive their calls", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("stops heartbeating a call once it replied, and drops later events for it as unroutable", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] });
    const debug: string[] = [];
    const logger: Logger = { warn: () => undefined, debug: (message) => void debug.push(message) };
    const registry = createRegistry();
    registry.register(async function slow() {
      await new Promise((resolve) => setTimeout(resolve, 2_500));
      return "done";
    });
    const { client } = setup(registry, { heartbeatMs: 1_000, logger, logRateLimit: 1_000 });
    const id = client.request("slow");
    await vi.advanceTimersByTimeAsync(1_500);
    client.heartbeat(id);
    await vi.advanceTimersByTimeAsync(1_100);
    expect(client.replies(id).map((e) => e.name)).toEqual(["OK"]);
    const heartbeats = (): number => client.events.filter((e) => e.name === "_zpc_hb").length;
    const beforeIdle = heartbeats();
    expect(beforeIdle).toBe(2);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(heartbeats()).toBe(beforeIdle);
    client.heartbeat(id);
    await vi.advanceTimersByTimeAsync(1);
    expect(debug.some((line) => line.includes("dropped _zpc_hb") && line.includes("unroutable"))).toBe(true);
  });

  it("closes the channel of a call whose client was lost, even if the handler never settles", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] });
    const debug: string[] = [];
    const logger: Logger = { warn: () => undefined, debug: (message) => void debug.push(message) };
    const registry = createRegistry();
    registry.register(() => new Promise(() => undefined), { name: "never", args: [] });
    const { client, server } = setup(registry, { heartbeatMs: 1_000, logger, logRateLimit: 1_000 });
    const id = client.request("never");
    await vi.advanceTimersByTimeAsync(3_500);
    expect(server.inFlight).toBe(0);
    const heartbeats = client.events.filter((e) => e.name === "_zpc_hb").length;
    await vi.advanceTimersByTimeAsync(10_000);
    expect(client.events.filter((e) => e.name === "_zpc_hb")).toHaveLength(heartbeats);
    client.heartbeat(id);
    await vi.advanceTimersByTimeAsync(1);
    expect(debug.some((line) => line.includes("dropped _zpc_hb") && line.includes("unroutable"))).toBe(true);
  });
});
