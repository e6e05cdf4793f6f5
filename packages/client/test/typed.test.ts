// Compile-time checks of the typed client. The expectTypeOf / @ts-expect-error lines are verified
// by `tsc --noEmit` (typecheck covers test/); the test bodies also run against a fake server.
import { afterEach, describe, expect, expectTypeOf, it } from "vitest";
import { untyped } from "../src/index.js";
import type { CallResult, Client, ClientProxy, StreamItem } from "../src/index.js";
import { FakeServer } from "./helpers.js";

/** The interop TestService (docs/protocol/test-service.md), as a TypeScript server would declare it. */
interface TestService {
  echo<T>(x: T): T;
  add(a: number, b: number): number;
  hello(name: string): Promise<string>;
  fail(msg: string): never;
  sleep(seconds: number): Promise<number>;
  range(n: number): Generator<number>;
  ticks(n: number): AsyncGenerator<{ at: number }>;
  letters(): AsyncIterable<string>;
  big(n: number): Uint8Array;
  words(): string[];
  text(): string;
  types(): Record<string, unknown>;
  /** A method literally called "then": left out of the proxy type. */
  then(): number;
  /** Not a method: left out too. */
  readonly version: string;
}

let server: FakeServer;
let client: Client<TestService>;

afterEach(async () => {
  await client.close();
  await server.close();
});

describe("typed client", () => {
  it("types the proxy from the service", async () => {
    server = new FakeServer((request, s) => {
      const args = request.args as unknown[];
      if (request.name === "add") s.ok(request, (args[0] as number) + (args[1] as number));
      else if (request.name === "range") void s.stream(request, [0, 1, 2]);
      else s.ok(request, `Hello, ${String(args[0])}`);
    });
    client = server.client<TestService>({ heartbeatMs: 0 });
    const proxy = client.proxy;

    expectTypeOf(proxy.add).toEqualTypeOf<(a: number, b: number) => Promise<number>>();
    expectTypeOf(proxy.hello).toEqualTypeOf<(name: string) => Promise<string>>();
    expectTypeOf(proxy.sleep).returns.toEqualTypeOf<Promise<number>>();
    expectTypeOf(proxy.range).toEqualTypeOf<(n: number) => AsyncIterable<number>>();
    expectTypeOf(proxy.ticks).returns.toEqualTypeOf<AsyncIterable<{ at: number }>>();
    expectTypeOf(proxy.letters).returns.toEqualTypeOf<AsyncIterable<string>>();
    // Iterable results that travel as one value are not streams.
    expectTypeOf(proxy.big).returns.toEqualTypeOf<Promise<Uint8Array>>();
    expectTypeOf(proxy.words).returns.toEqualTypeOf<Promise<string[]>>();
    expectTypeOf(proxy.text).returns.toEqualTypeOf<Promise<string>>();
    expectTypeOf(proxy.fail).returns.toEqualTypeOf<Promise<never>>();
    expectTypeOf<keyof typeof proxy>().not.toEqualTypeOf<"then" | "version">();
    expectTypeOf<"then" extends keyof typeof proxy ? true : false>().toEqualTypeOf<false>();
    expectTypeOf<"version" extends keyof typeof proxy ? true : false>().toEqualTypeOf<false>();

    // @ts-expect-error: unknown method
    void proxy.nope;
    // @ts-expect-error: wrong argument type
    void proxy.add(1, "2");
    // @ts-expect-error: missing argument
    void proxy.hello();

    await expect(proxy.add(2, 3)).resolves.toBe(5);
    const items: number[] = [];
    for await (const item of proxy.range(3)) items.push(item);
    expect(items).toEqual([0, 1, 2]);
  });

  it("types call() and stream() for known names", async () => {
    server = new FakeServer((request, s) => {
      if (request.name === "range") void s.stream(request, [0, 1]);
      else s.ok(request, 3);
    });
    client = server.client<TestService>({ heartbeatMs: 0 });

    expectTypeOf(client.call("add", [1, 2])).toEqualTypeOf<Promise<number>>();
    expectTypeOf(client.call("hello", ["x"])).toEqualTypeOf<Promise<string>>();
    // A streaming method called as unary resolves with all items.
    expectTypeOf(client.call("range", [2])).toEqualTypeOf<Promise<number[]>>();
    expectTypeOf(client.call("types")).toEqualTypeOf<Promise<Record<string, unknown>>>();
    expectTypeOf(client.stream("range", [2])).toEqualTypeOf<AsyncIterable<number>>();
    // A unary method streamed yields its one value.
    expectTypeOf(client.stream("add", [1, 2])).toEqualTypeOf<AsyncIterable<number>>();
    // zerorpc's introspection methods (which no service declares) stay callable, untyped.
    expectTypeOf(client.call("_zerorpc_ping")).toEqualTypeOf<Promise<unknown>>();
    expectTypeOf(client.call<string[]>("_zerorpc_list")).toEqualTypeOf<Promise<string[]>>();
    expectTypeOf(client.stream("_zerorpc_inspect")).toEqualTypeOf<AsyncIterable<unknown>>();
    expectTypeOf(client.invoke("_zerorpc_help", ["add"])).toEqualTypeOf<CallResult>();
    expectTypeOf(client.invoke("add", [1, 2])).toEqualTypeOf<CallResult>();
    expectTypeOf(client.invoke("text")).toEqualTypeOf<CallResult>();

    // @ts-expect-error: wrong argument types for a known method
    void client.call("add", ["1", 2]).catch(() => undefined);
    // @ts-expect-error: missing arguments for a known method
    void client.call("add").catch(() => undefined);
    // @ts-expect-error: too many arguments
    void client.stream("range", [1, 2]);
    // @ts-expect-error: wrong argument type through invoke()
    void client.invoke("add", [1, "2"]);

    // Compiled, never run: names the service does not declare fail to compile, for every entry point.
    const wrongNames = (typed: Client<TestService>, name: string): void => {
      // @ts-expect-error: not a method of the service
      void typed.call("nope");
      // @ts-expect-error: not a method of the service, with an explicit result type
      void typed.call<number>("nope");
      // @ts-expect-error: not a method of the service
      void typed.stream("nope", [1]);
      // @ts-expect-error: not a method of the service
      void typed.invoke("nope");
      // @ts-expect-error: a name known only at run time
      void typed.call(name);
      // @ts-expect-error: a property, not a method
      void typed.call("version");
      // The untyped view of the same client takes any name.
      expectTypeOf(untyped(typed).call("nope")).toEqualTypeOf<Promise<unknown>>();
      expectTypeOf(untyped(typed).call<number>(name, [1])).toEqualTypeOf<Promise<number>>();
      expectTypeOf(untyped(typed).stream<string>("nope")).toEqualTypeOf<AsyncIterable<string>>();
      expectTypeOf(untyped(typed).invoke(name)).toEqualTypeOf<CallResult>();
      expectTypeOf(untyped(typed)).toEqualTypeOf<Client>();
    };
    expect(wrongNames).toBeTypeOf("function");
    expect(untyped(client)).toBe(client);

    await expect(client.call("add", [1, 2])).resolves.toBe(3);
    await expect(client.call("range", [2])).resolves.toEqual([0, 1]);
  });

  it("leaves an untyped client open to any name", async () => {
    server = new FakeServer((request, s) => s.ok(request, 7));
    const plain = server.client({ heartbeatMs: 0 });
    client = plain as unknown as Client<TestService>;
    expectTypeOf(plain.proxy).toEqualTypeOf<ClientProxy<unknown>>();
    // An index signature: with noUncheckedIndexedAccess a member may be undefined.
    expectTypeOf(plain.proxy.anything).toEqualTypeOf<((...args: unknown[]) => CallResult) | undefined>();
    expectTypeOf(plain.call("x", [1, "2"])).toEqualTypeOf<Promise<unknown>>();
    expectTypeOf(plain.call<number>("x")).toEqualTypeOf<Promise<number>>();
    expectTypeOf(plain.stream<string>("x")).toEqualTypeOf<AsyncIterable<string>>();
    const name: string = "x";
    expectTypeOf(plain.call(name)).toEqualTypeOf<Promise<unknown>>();
    expectTypeOf(plain.invoke(name, [1])).toEqualTypeOf<CallResult>();
    await expect(plain.proxy.anything!(1)).resolves.toBe(7);
  });

  it("computes stream item types", () => {
    expectTypeOf<StreamItem<Generator<number, void, unknown>>>().toEqualTypeOf<number>();
    expectTypeOf<StreamItem<AsyncGenerator<string>>>().toEqualTypeOf<string>();
    expectTypeOf<StreamItem<Set<boolean>>>().toEqualTypeOf<boolean>();
    expectTypeOf<StreamItem<string>>().toBeNever();
    expectTypeOf<StreamItem<number[]>>().toBeNever();
    expectTypeOf<StreamItem<readonly string[]>>().toBeNever();
    expectTypeOf<StreamItem<Uint8Array>>().toBeNever();
    expectTypeOf<StreamItem<Map<string, number>>>().toBeNever();
    expectTypeOf<StreamItem<Promise<number>>>().toBeNever();
    server = new FakeServer();
    client = server.client<TestService>({ heartbeatMs: 0 });
  });
});
