import { describe, expect, it } from "vitest";
import { createRegistry, isRegistry, register, registry, RegistrationError } from "../src/index.js";

describe("createRegistry", () => {
  it("registers under fn.name, returns fn, lists names in registration order", () => {
    const methods = createRegistry();
    function zeta(): number {
      return 1;
    }
    const returned = methods.register(zeta);
    expect(returned).toBe(zeta);
    methods.register(function alpha(a: number) {
      return a;
    });
    methods.register(() => 3, { name: "middle" });
    expect(methods.names()).toEqual(["zeta", "alpha", "middle"]);
    expect(methods.entries().map((spec) => spec.name)).toEqual(["zeta", "alpha", "middle"]);
    expect(methods.has("alpha")).toBe(true);
    expect(methods.has("nope")).toBe(false);
    expect(methods.get("alpha")).toMatchObject({ name: "alpha", stream: false, doc: null, minArity: 1, maxArity: 1 });
    expect(methods.get("nope")).toBeUndefined();
  });

  it("records stream flag (generators by default), doc, args and arity", () => {
    const methods = createRegistry();
    methods.register(function* gen() {
      yield 1;
    });
    methods.register(async function* agen() {
      await Promise.resolve();
      yield 1;
    });
    methods.register(function* notStream() {
      yield 1;
    }, { stream: false });
    methods.register(() => [1], { name: "listy", stream: true, doc: "A list." });
    methods.register(function opt(a: number, b = 2, ...rest: number[]) {
      return [a, b, rest];
    });
    expect(methods.get("gen")!.stream).toBe(true);
    expect(methods.get("agen")!.stream).toBe(true);
    expect(methods.get("notStream")!.stream).toBe(false);
    expect(methods.get("listy")).toMatchObject({ stream: true, doc: "A list." });
    const opt = methods.get("opt")!;
    expect(opt.args).toEqual({
      params: [
        { name: "a", hasDefault: false },
        { name: "b", hasDefault: true, default: 2 },
      ],
      rest: "rest",
    });
    expect([opt.minArity, opt.maxArity]).toEqual([1, Number.POSITIVE_INFINITY]);
  });

  it("takes explicit args as names or {name, default}, with ...rest last", () => {
    const methods = createRegistry();
    methods.register((...args: unknown[]) => args, { name: "f", args: ["a", { name: "b", default: 5 }, "...more"] });
    const spec = methods.get("f")!;
    expect(spec.args).toEqual({
      params: [
        { name: "a", hasDefault: false },
        { name: "b", hasDefault: true, default: 5 },
      ],
      rest: "more",
    });
    expect([spec.minArity, spec.maxArity]).toEqual([1, Number.POSITIVE_INFINITY]);
    expect(() => methods.register(() => 1, { name: "g", args: ["...r", "a"] })).toThrow(RegistrationError);
    expect(() => methods.register(() => 1, { name: "h", args: ["a", "a"] })).toThrow(/duplicate argument/);
  });

  it("refuses a duplicate name, naming the method and both sources", () => {
    const methods = createRegistry();
    methods.register(function add() {
      return 1;
    }, { source: "src/math.ts" });
    let error: unknown;
    try {
      methods.register(function add() {
        return 2;
      }, { source: "src/other.ts" });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(RegistrationError);
    expect(RegistrationError.isInstance(error)).toBe(true);
    const registration = error as RegistrationError;
    expect(registration.reason).toBe("duplicate");
    expect(registration.methodName).toBe("add");
    expect(registration.existingSource).toBe("src/math.ts");
    expect(registration.source).toBe("src/other.ts");
    expect(registration.message).toBe('method "add" is already registered (first registered at src/math.ts, again at src/other.ts)');
    // The first registration is kept.
    expect((methods.get("add")!.fn as () => number)()).toBe(1);
  });

  it("refuses empty, reserved and non-function registrations", () => {
    const methods = createRegistry();
    const reason = (fn: () => void): string | undefined => {
      try {
        fn();
      } catch (error) {
        return (error as RegistrationError).reason;
      }
      return undefined;
    };
    expect(reason(() => methods.register(() => 1, { name: "" }))).toBe("invalid-name");
    expect(reason(() => methods.register((() => () => 1)()))).toBe("invalid-name");
    expect(reason(() => methods.register(() => 1, { name: "_zerorpc_list" }))).toBe("reserved-name");
    expect(reason(() => methods.register(5 as unknown as () => void, { name: "five" }))).toBe("not-a-function");
    expect(methods.names()).toEqual([]);
  });

  it("is told apart from object services", () => {
    expect(isRegistry(createRegistry())).toBe(true);
    expect(isRegistry({ register: () => 1, get: () => 1, names: () => [] })).toBe(false);
    expect(isRegistry(null)).toBe(false);
  });
});

describe("default registry", () => {
  it("register() adds to the shared registry", () => {
    const name = `shared_${Math.random().toString(36).slice(2)}`;
    const fn = register(() => 42, { name });
    expect(fn()).toBe(42);
    expect(registry.has(name)).toBe(true);
    expect(() => register(() => 43, { name })).toThrow(RegistrationError);
  });
});
