// A client typed from the server's own code, for both ways of declaring a service: an rpcs module
// with @zrpc/server's defineRpcs() (imported with `import type`, so nothing of it loads) and a
// class served with createServer(new Service()) (ServiceOf<typeof Service>). Served by the real
// @zrpc/server over loopback sockets. The expectTypeOf / @ts-expect-error lines are verified by
// `tsc --noEmit` (the package's typecheck covers test/).
import { afterEach, describe, expect, expectTypeOf, it } from "vitest";
import { createServer, registry } from "@zrpc/server";
import type { Service, ServiceOf } from "@zrpc/server";
import { RemoteError, connect, untyped } from "../src/index.js";
import type { CallResult, Client } from "../src/index.js";
import type { Ticket, ticketRpcs } from "./fixtures/ticket-rpcs.js";
import type * as registerRpcs from "./fixtures/register-rpcs.js";

const opened: { close(): Promise<unknown> }[] = [];
afterEach(async () => {
  for (const resource of opened.splice(0).reverse()) await resource.close();
});

async function serve(service: Service): Promise<string> {
  const server = createServer(service, { heartbeatMs: 1000, logger: null });
  opened.push({ close: () => server.close(0) });
  const [endpoint] = await server.bind("tcp://127.0.0.1:*");
  return endpoint!;
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}

describe("a client typed by defineRpcs()", () => {
  it("is typed by `import type` alone, which loads nothing of the server module", async () => {
    // The fixture registers these when it is loaded: the type-only import did not load it.
    expect(registry.has("fixture_ticket")).toBe(false);
    await import("./fixtures/ticket-rpcs.js");
    expect(registry.names()).toEqual(["fixture_ticket", "fixture_tickets", "fixture_ids", "fixture_titles", "fixture_method"]);

    const client = await connect<typeof ticketRpcs>(await serve(registry), { heartbeatMs: 1000 });
    opened.push(client);
    const proxy = client.proxy;

    expectTypeOf(proxy.fixture_ticket).toEqualTypeOf<(id: number) => Promise<Ticket | null>>();
    // stream: ["fixture_tickets"] on a function returning Promise<Ticket[]>: a stream of tickets.
    expectTypeOf(proxy.fixture_tickets).toEqualTypeOf<(n: number) => AsyncIterable<Ticket>>();
    expectTypeOf(proxy.fixture_ids).toEqualTypeOf<(n: number) => AsyncIterable<number>>();
    // An array result of a method not declared a stream travels as one value.
    expectTypeOf(proxy.fixture_titles).toEqualTypeOf<() => Promise<string[]>>();
    expectTypeOf(proxy.fixture_method).toEqualTypeOf<() => Promise<string>>();
    expectTypeOf(client.call("fixture_tickets", [2])).toEqualTypeOf<Promise<Ticket[]>>();
    expectTypeOf(client.stream("fixture_tickets", [2])).toEqualTypeOf<AsyncIterable<Ticket>>();
    expectTypeOf(client.call("fixture_ticket", [1])).toEqualTypeOf<Promise<Ticket | null>>();
    // zerorpc's introspection names stay callable, untyped.
    expectTypeOf(client.call("_zerorpc_list")).toEqualTypeOf<Promise<unknown>>();
    expectTypeOf(client.invoke("fixture_ticket", [1])).toEqualTypeOf<CallResult>();
    expectTypeOf(client).toEqualTypeOf<Client<typeof ticketRpcs>>();

    // Compiled, never run.
    const misuses = (typed: Client<typeof ticketRpcs>): void => {
      // @ts-expect-error: not a method of the service
      void typed.proxy.fixture_nope();
      // @ts-expect-error: wrong argument type
      void typed.proxy.fixture_ticket("1");
      // @ts-expect-error: missing argument
      void typed.proxy.fixture_tickets();
      // @ts-expect-error: wrong argument types through call()
      void typed.call("fixture_ticket", ["1"]);
      // @ts-expect-error: not a method of the service, through call()
      void typed.call("fixture_tickett", [2]);
      // @ts-expect-error: not a method of the service, through stream()
      void typed.stream("fixture_tickett", [2]);
      // @ts-expect-error: not a method of the service, through invoke()
      void typed.invoke("fixture_tickett", [2]);
      // @ts-expect-error: wrong argument types through invoke()
      void typed.invoke("fixture_tickets", ["2"]);
      // The escape: the same client, untyped.
      void untyped(typed).call("fixture_tickett", [2]);
      // @ts-expect-error: a stream is not a promise
      void typed.proxy.fixture_tickets(2).then;
      // @ts-expect-error: a unary result is not iterable
      void typed.proxy.fixture_titles()[Symbol.asyncIterator];
      // @ts-expect-error: the result may be null
      void typed.proxy.fixture_ticket(1).then((ticket) => ticket.title);
      // @ts-expect-error: stream items are tickets, not numbers
      void collect(typed.proxy.fixture_tickets(2)).then((tickets): number => tickets[0]!);
    };
    expect(misuses).toBeTypeOf("function");

    await expect(proxy.fixture_ticket(2)).resolves.toEqual({ id: 2, title: "VPN drops" });
    await expect(proxy.fixture_ticket(9)).resolves.toBeNull();
    expect(await collect(proxy.fixture_tickets(2))).toEqual([
      { id: 1, title: "Printer on fire" },
      { id: 2, title: "VPN drops" },
    ]);
    await expect(client.call("fixture_tickets", [1])).resolves.toEqual([{ id: 1, title: "Printer on fire" }]);
    expect(await collect(proxy.fixture_ids(3))).toEqual([1, 2, 3]);
    await expect(proxy.fixture_titles()).resolves.toEqual(["Printer on fire", "VPN drops", "Order more coffee"]);
    await expect(proxy.fixture_method()).resolves.toBe("fixture_method");
    const bad = await collect(proxy.fixture_tickets(-1)).catch((error: unknown) => error);
    expect(RemoteError.isInstance(bad) && bad.remoteName).toBe("ValueError");
    await expect(client.call("_zerorpc_help", ["fixture_ticket"])).resolves.toBe("One ticket by id, or nil.");
  });
});

describe("a client typed by register() functions exported from an rpcs module", () => {
  it("types the namespace's functions, generators as streams", async () => {
    expect(registry.has("fixture_add")).toBe(false);
    await import("./fixtures/register-rpcs.js");
    const client = await connect<typeof registerRpcs>(await serve(registry), { heartbeatMs: 1000 });
    opened.push(client);
    expectTypeOf(client.proxy.fixture_add).toEqualTypeOf<(a: number, b: number) => Promise<number>>();
    expectTypeOf(client.proxy.fixture_count).toEqualTypeOf<(n: number) => AsyncIterable<number>>();
    // register(fn, { stream: true }) on a function returning Promise<string[]>: a stream of strings.
    expectTypeOf(client.proxy.fixture_letters).toEqualTypeOf<(word: string) => AsyncIterable<string>>();
    expectTypeOf(client.stream("fixture_letters", ["ab"])).toEqualTypeOf<AsyncIterable<string>>();
    expectTypeOf(client.call("fixture_letters", ["ab"])).toEqualTypeOf<Promise<string[]>>();
    const misuses = (typed: Client<typeof registerRpcs>): void => {
      // @ts-expect-error: an exported constant is not a method
      void typed.proxy.VERSION;
      // @ts-expect-error: wrong argument type
      void typed.proxy.fixture_add(1, "2");
      // @ts-expect-error: not a method of the service, through call()
      void typed.call("fixture_addd", [1, 2]);
      // @ts-expect-error: not a method of the service, through stream()
      void typed.stream("fixture_countt", [2]);
      // @ts-expect-error: not a method of the service, through invoke()
      void typed.invoke("fixture_addd", [1, 2]);
      // @ts-expect-error: an exported constant is not a method, through call()
      void typed.call("VERSION");
      // @ts-expect-error: a stream is not a promise
      void typed.proxy.fixture_count(2).then;
      // @ts-expect-error: a declared stream is not a promise either
      void typed.proxy.fixture_letters("ab").then;
    };
    expect(misuses).toBeTypeOf("function");
    await expect(client.proxy.fixture_add(2, 3)).resolves.toBe(5);
    expect(await collect(client.proxy.fixture_count(3))).toEqual([0, 1, 2]);
    expect(await collect(client.proxy.fixture_letters("abc"))).toEqual(["a", "b", "c"]);
  });
});

/** A class service: generator methods stream by themselves, `letters` by its static options. */
class Letters {
  static zrpc = { streams: ["letters"], docs: { shout: "Upper-case text." } } as const;
  shout(text: string): string {
    return text.toUpperCase();
  }
  letters(text: string): string[] {
    return [...text];
  }
  *count(n: number): Generator<number> {
    for (let i = 0; i < n; i++) yield i;
  }
  words(text: string): string[] {
    return text.split(" ");
  }
  _internal(): number {
    return 1;
  }
}

describe("a client typed by ServiceOf<typeof Class>", () => {
  it("streams what the class declares and checks names, arguments and results", async () => {
    const client = await connect<ServiceOf<typeof Letters>>(await serve(new Letters()), { heartbeatMs: 1000 });
    opened.push(client);
    const proxy = client.proxy;

    expectTypeOf(proxy.shout).toEqualTypeOf<(text: string) => Promise<string>>();
    expectTypeOf(proxy.letters).toEqualTypeOf<(text: string) => AsyncIterable<string>>();
    expectTypeOf(proxy.count).toEqualTypeOf<(n: number) => AsyncIterable<number>>();
    expectTypeOf(proxy.words).toEqualTypeOf<(text: string) => Promise<string[]>>();
    expectTypeOf(client.call("letters", ["ab"])).toEqualTypeOf<Promise<string[]>>();

    const misuses = (typed: Client<ServiceOf<typeof Letters>>): void => {
      // @ts-expect-error: `_` methods are not served
      void typed.proxy._internal();
      // @ts-expect-error: not a method of the service
      void typed.proxy.whisper("x");
      // @ts-expect-error: not a method of the service, through call()
      void typed.call("whisper", ["x"]);
      // @ts-expect-error: not a method of the service, through stream()
      void typed.stream("whisper", ["x"]);
      // @ts-expect-error: not a method of the service, through invoke()
      void typed.invoke("whisper", ["x"]);
      // @ts-expect-error: `_` methods are not served, through call()
      void typed.call("_internal");
      // @ts-expect-error: wrong argument type
      void typed.proxy.shout(1);
      // @ts-expect-error: a stream is not a promise
      void typed.proxy.letters("ab").then;
      // @ts-expect-error: a string result is not a number
      void typed.proxy.shout("x").then((text) => text.toFixed());
    };
    expect(misuses).toBeTypeOf("function");

    await expect(proxy.shout("hi")).resolves.toBe("HI");
    expect(await collect(proxy.letters("abc"))).toEqual(["a", "b", "c"]);
    expect(await collect(proxy.count(3))).toEqual([0, 1, 2]);
    await expect(proxy.words("a b")).resolves.toEqual(["a", "b"]);
  });
});
