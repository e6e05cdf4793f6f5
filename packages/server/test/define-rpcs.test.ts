// defineRpcs() and ServiceOf<>: what they register and serve (run by vitest) and the client view
// they type (the expectTypeOf / @ts-expect-error lines are checked by `tsc --noEmit`, the package's
// typecheck, which covers test/).
import { describe, expect, expectTypeOf, it } from "vitest";
import { createRegistry, defineRpcs, register, registry, RegistrationError } from "../src/index.js";
import type { CallContext, Rpcs, ServiceOf, StreamItemOf } from "../src/index.js";
import { setup } from "./helpers.js";
// Type-only, as a client module imports it: the fixture registers into the default registry when
// it is loaded, which must not happen (checked below).
import type { fixtureRpcs } from "./fixtures/typed-rpcs.js";

interface Ticket {
  readonly id: number;
  readonly title: string;
}

async function get_ticket(id: number): Promise<Ticket | null> {
  await Promise.resolve();
  return id === 1 ? { id, title: "one" } : null;
}
function ticket_list(n: number): Ticket[] {
  return Array.from({ length: n }, (_, index) => ({ id: index + 1, title: `t${index + 1}` }));
}
async function ticket_titles(n: number): Promise<string[]> {
  await Promise.resolve();
  return ticket_list(n).map((ticket) => ticket.title);
}
function* countdown(from: number): Generator<number> {
  for (let i = from; i > 0; i--) yield i;
}
async function* ticks(n: number): AsyncGenerator<{ at: number }> {
  for (let at = 0; at < n; at++) yield await Promise.resolve({ at });
}
function words(): string[] {
  return ["a", "b"];
}
function whoami(this: CallContext): string {
  return this.method;
}
function boom(): never {
  throw new Error("boom");
}

function ticketRpcs() {
  const methods = createRegistry();
  const rpcs = defineRpcs(
    { get_ticket, ticket_list, ticket_titles, countdown, ticks, words, whoami, boom },
    { stream: ["ticket_list", "ticket_titles"], docs: { get_ticket: "One ticket." }, registry: methods },
  );
  return { methods, rpcs };
}

describe("defineRpcs", () => {
  it("registers every function under its key, in order, with the stream flags, docs and args", () => {
    const methods = createRegistry();
    const rpcs = defineRpcs(
      { get_ticket, ticket_list, countdown, words, renamed: boom },
      {
        stream: ["ticket_list"],
        docs: { get_ticket: "One ticket." },
        args: { words: [] },
        types: { get_ticket: { args: ["number"], result: "Ticket | null" } },
        registry: methods,
        source: "tickets/rpcs.ts",
      },
    );
    expect(rpcs.names).toEqual(["get_ticket", "ticket_list", "countdown", "words", "renamed"]);
    expect(rpcs.registry).toBe(methods);
    expect(methods.names()).toEqual(rpcs.names);
    expect(methods.entries().map((spec) => [spec.name, spec.stream, spec.doc, spec.source])).toEqual([
      ["get_ticket", false, "One ticket.", "tickets/rpcs.ts"],
      ["ticket_list", true, null, "tickets/rpcs.ts"],
      ["countdown", true, null, "tickets/rpcs.ts"],
      ["words", false, null, "tickets/rpcs.ts"],
      ["renamed", false, null, "tickets/rpcs.ts"],
    ]);
    expect(methods.get("get_ticket")!.args).toMatchObject({ params: [{ name: "id" }], rest: null });
    expect(methods.get("words")!.args).toEqual({ params: [], rest: null });
    expect(methods.get("get_ticket")!.types).toEqual({ args: ["number"], result: "Ticket | null" });
    expect(methods.get("words")!.types).toBeNull();
    expect(methods.get("renamed")!.fn).toBe(boom);
    expect(Object.isFrozen(rpcs)).toBe(true);
    expect(rpcs["~zrpc"]).toEqual({});
  });

  it("adds to the default registry without a registry option, like register()", () => {
    const name = `defined_${String(Date.now())}`;
    const rpcs = defineRpcs({ [name]: () => 1 });
    expect(rpcs.registry).toBe(registry);
    expect(registry.get(name)).toMatchObject({ name, stream: false });
  });

  it("registers nothing when one function cannot be registered", () => {
    const methods = createRegistry();
    methods.register(words);
    const duplicate = (() => {
      try {
        defineRpcs({ get_ticket, words }, { registry: methods, source: "b.ts" });
        return undefined;
      } catch (error) {
        return error;
      }
    })();
    expect(RegistrationError.isInstance(duplicate) && [duplicate.reason, duplicate.methodName]).toEqual(["duplicate", "words"]);
    expect(methods.names()).toEqual(["words"]);

    // Names the compiler refuses are refused at run time too (a JavaScript caller, a cast).
    const loose = defineRpcs as (fns: unknown, options?: object) => unknown;
    expect(() => loose({ get_ticket, _zerorpc_list: words }, { registry: methods })).toThrow(/reserved/);
    expect(() => loose({ get_ticket, bad: 3 }, { registry: methods })).toThrow(/not a function/);
    expect(() => loose({ get_ticket }, { registry: methods, stream: ["nope"] })).toThrow('defineRpcs option stream names "nope", which is not a key of the functions');
    expect(() => loose({ get_ticket }, { registry: methods, docs: { nope: "x" } })).toThrow(/option docs names "nope"/);
    expect(() => loose(null)).toThrow(TypeError);
    expect(methods.names()).toEqual(["words"]);
  });

  it("serves a declared stream of an array result item by item", async () => {
    const { methods } = ticketRpcs();
    const { client } = setup(methods);
    const list = await client.stream("ticket_list", [2]);
    expect(list.map((event) => [event.name, event.args])).toEqual([
      ["STREAM", { id: 1, title: "t1" }],
      ["STREAM", { id: 2, title: "t2" }],
      ["STREAM_DONE", null],
    ]);
    const titles = await client.stream("ticket_titles", [2]);
    expect(titles.map((event) => event.args)).toEqual(["t1", "t2", null]);
    expect((await client.call("words")).args).toEqual([["a", "b"]]);
    expect((await client.call("whoami")).args).toEqual(["whoami"]);
  });

  it("serves its registry when given to createServer", async () => {
    const { rpcs } = ticketRpcs();
    const { client } = setup(rpcs);
    expect((await client.call("_zerorpc_list")).args).toEqual([rpcs.names]);
    expect((await client.call("get_ticket", [1])).args).toEqual([{ id: 1, title: "one" }]);
  });

  it("types the methods as a client calls them", () => {
    const { rpcs } = ticketRpcs();
    type Service = ServiceOf<typeof rpcs>;
    expectTypeOf(rpcs).toEqualTypeOf<Rpcs<Service>>();
    expectTypeOf<Service["get_ticket"]>().toEqualTypeOf<(id: number) => Promise<Ticket | null>>();
    // stream: [...] on a function returning an array (or a promise of one): a stream of its elements.
    expectTypeOf<Service["ticket_list"]>().toEqualTypeOf<(n: number) => AsyncIterable<Ticket>>();
    expectTypeOf<Service["ticket_titles"]>().toEqualTypeOf<(n: number) => AsyncIterable<string>>();
    // Generators stream by themselves.
    expectTypeOf<Service["countdown"]>().toEqualTypeOf<(from: number) => AsyncIterable<number>>();
    expectTypeOf<Service["ticks"]>().toEqualTypeOf<(n: number) => AsyncIterable<{ at: number }>>();
    // An array result of an undeclared method is one value.
    expectTypeOf<Service["words"]>().toEqualTypeOf<() => Promise<string[]>>();
    // `this: CallContext` is the server's business, not a parameter.
    expectTypeOf<Service["whoami"]>().toEqualTypeOf<() => Promise<string>>();
    expectTypeOf<Service["boom"]>().toEqualTypeOf<() => Promise<never>>();
    expectTypeOf<keyof Service>().toEqualTypeOf<"get_ticket" | "ticket_list" | "ticket_titles" | "countdown" | "ticks" | "words" | "whoami" | "boom">();

    // @ts-expect-error: not a method
    expectTypeOf<Service["nope"]>().toBeNever();
    // Compiled, never run.
    const misuses = (service: Service): void => {
      // @ts-expect-error: wrong argument type
      void service.get_ticket("1");
      // @ts-expect-error: a stream is not a promise
      void service.ticket_list(3).then;
      // @ts-expect-error: a unary result is not iterable
      void service.get_ticket(1)[Symbol.asyncIterator];
      // @ts-expect-error: a result used as what it is not
      void service.words().then((list) => list.toFixed());
    };
    expect(misuses).toBeTypeOf("function");
  });

  it("refuses at compile time what cannot be registered", () => {
    const methods = createRegistry();
    // @ts-expect-error: get_ticket returns neither an array nor an iterable: it cannot stream
    expect(() => defineRpcs({ get_ticket, words }, { registry: methods, stream: ["get_ticket", "words"] })).not.toThrow();
    // @ts-expect-error: not a key of the functions
    expect(() => defineRpcs({ words }, { registry: createRegistry(), stream: ["nope"] })).toThrow(/nope/);
    // @ts-expect-error: docs for a method that is not in the map
    expect(() => defineRpcs({ words }, { registry: createRegistry(), docs: { nope: "x" } })).toThrow(/nope/);
    // @ts-expect-error: _zerorpc_* names are zerorpc's
    expect(() => defineRpcs({ _zerorpc_list: words }, { registry: createRegistry() })).toThrow(RegistrationError);
    // @ts-expect-error: not a function
    expect(() => defineRpcs({ words: 3 }, { registry: createRegistry() })).toThrow(RegistrationError);
  });

  it("leaves the server module unloaded behind `import type`", () => {
    type Fixture = ServiceOf<typeof fixtureRpcs>;
    expectTypeOf<Fixture["fixture_echo"]>().toEqualTypeOf<(text: string) => Promise<string>>();
    expectTypeOf<Fixture["fixture_letters"]>().toEqualTypeOf<(text: string) => AsyncIterable<string>>();
    // Loading the fixture would have registered these in the default registry.
    expect(registry.has("fixture_echo")).toBe(false);
    expect(registry.has("fixture_letters")).toBe(false);
  });

  it("types register(fn, { stream: true }) as a stream of the result's items for a namespace of registrations", async () => {
    const methods = createRegistry();
    const letters = methods.register(
      async function letters(word: string): Promise<string[]> {
        return await Promise.resolve([...word]);
      },
      { stream: true },
    );
    const shout = methods.register(function shout(text: string): string[] {
      return [text.toUpperCase()];
    });
    // Still the function, callable as it is; the stream item is in a type-only property.
    expectTypeOf(letters).parameters.toEqualTypeOf<[word: string]>();
    expectTypeOf(letters).returns.toEqualTypeOf<Promise<string[]>>();
    expect(Object.keys(letters)).toEqual([]);
    await expect(letters("ab")).resolves.toEqual(["a", "b"]);
    expect(methods.get("letters")!.stream).toBe(true);
    expect(shout("a")).toEqual(["A"]);
    // As `import type * as rpcs` of a module exporting them gives it.
    type Namespace = { letters: typeof letters; shout: typeof shout };
    expectTypeOf<ServiceOf<Namespace>["letters"]>().toEqualTypeOf<(word: string) => AsyncIterable<string>>();
    // Without stream: true an array result is one value.
    expectTypeOf<ServiceOf<Namespace>["shout"]>().toEqualTypeOf<(text: string) => Promise<string[]>>();
    // The default registry's register() has the same overloads (compiled, never run: it would register).
    const viaDefault = (): void => {
      const streamed = register(words, { stream: true });
      expectTypeOf<ServiceOf<{ streamed: typeof streamed }>["streamed"]>().toEqualTypeOf<() => AsyncIterable<string>>();
      expectTypeOf(streamed).toBeFunction();
    };
    expect(viaDefault).toBeTypeOf("function");
  });

  it("computes stream items", () => {
    expectTypeOf<StreamItemOf<number[]>>().toEqualTypeOf<number>();
    expectTypeOf<StreamItemOf<Promise<readonly string[]>>>().toEqualTypeOf<string>();
    expectTypeOf<StreamItemOf<Set<boolean>>>().toEqualTypeOf<boolean>();
    expectTypeOf<StreamItemOf<AsyncGenerator<Ticket>>>().toEqualTypeOf<Ticket>();
    expectTypeOf<StreamItemOf<number>>().toBeNever();
    expectTypeOf<StreamItemOf<Promise<number>>>().toBeNever();
  });
});

describe("ServiceOf an object service", () => {
  class TestService {
    static zrpc = { docs: { add: "Return a + b." }, streams: ["letters"], notStreams: ["raw"] } as const;
    add(a: number, b: number): number {
      return a + b;
    }
    *range(n: number): Generator<number> {
      for (let i = 0; i < n; i++) yield i;
    }
    letters(): string[] {
      return ["a", "b"];
    }
    words(): string[] {
      return ["a", "b"];
    }
    *raw(): Generator<number> {
      yield 1;
    }
    _hidden(): number {
      return 1;
    }
    readonly version = "1";
  }

  it("types a class with its static zrpc streams", async () => {
    type Service = ServiceOf<typeof TestService>;
    expectTypeOf<keyof Service>().toEqualTypeOf<"add" | "range" | "letters" | "words" | "raw">();
    expectTypeOf<Service["add"]>().toEqualTypeOf<(a: number, b: number) => Promise<number>>();
    expectTypeOf<Service["range"]>().toEqualTypeOf<(n: number) => AsyncIterable<number>>();
    expectTypeOf<Service["letters"]>().toEqualTypeOf<() => AsyncIterable<string>>();
    expectTypeOf<Service["words"]>().toEqualTypeOf<() => Promise<string[]>>();
    expectTypeOf<Service["raw"]>().toEqualTypeOf<() => Promise<Generator<number>>>();
    // @ts-expect-error: `_` methods are not served
    expectTypeOf<Service["_hidden"]>().toBeNever();
    const misuses = (service: Service): void => {
      // @ts-expect-error: wrong argument types
      void service.add("1", 2);
      // @ts-expect-error: a stream is not a promise
      void service.letters().then;
    };
    expect(misuses).toBeTypeOf("function");

    // What the server serves agrees.
    const { client } = setup(new TestService());
    expect((await client.stream("letters")).map((event) => event.args)).toEqual(["a", "b", null]);
    expect((await client.call("words")).args).toEqual([["a", "b"]]);
  });

  it("types a plain object with the streams given as the second argument", () => {
    const service = {
      letters: (): string[] => ["a"],
      hello: (name: string): Promise<string> => Promise.resolve(`Hello, ${name}`),
    };
    expect(Object.keys(service)).toEqual(["letters", "hello"]);
    type Service = ServiceOf<typeof service, "letters">;
    expectTypeOf<Service>().toEqualTypeOf<{ readonly letters: () => AsyncIterable<string>; readonly hello: (name: string) => Promise<string> }>();
    expectTypeOf<ServiceOf<typeof service>["letters"]>().toEqualTypeOf<() => Promise<string[]>>();
    // An instance type works as the plain object does (a class's static options are not in it).
    expectTypeOf<ServiceOf<TestService>["letters"]>().toEqualTypeOf<() => Promise<string[]>>();
    expectTypeOf<ServiceOf<TestService, "letters">["letters"]>().toEqualTypeOf<() => AsyncIterable<string>>();
  });

  it("reads only static streams whose names are in the type", () => {
    class DocsOnly {
      static zrpc = { docs: { letters: "Letters." } } as const;
      letters(): string[] {
        return ["a"];
      }
    }
    // Without `as const` the names are just string[]: they say nothing, generators alone stream.
    class NotConst {
      static zrpc = { streams: ["letters"] };
      letters(): string[] {
        return ["a"];
      }
      *count(): Generator<number> {
        yield 1;
      }
    }
    expectTypeOf<ServiceOf<typeof DocsOnly>["letters"]>().toEqualTypeOf<() => Promise<string[]>>();
    expectTypeOf<ServiceOf<typeof NotConst>["letters"]>().toEqualTypeOf<() => Promise<string[]>>();
    expectTypeOf<ServiceOf<typeof NotConst>["count"]>().toEqualTypeOf<() => AsyncIterable<number>>();
    expect(new DocsOnly().letters()).toEqual(new NotConst().letters());
  });
});
