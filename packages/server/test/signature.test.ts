/* eslint-disable @typescript-eslint/unbound-method, @typescript-eslint/require-await -- the functions below exist only for their source text */
import { describe, expect, it } from "vitest";
import { parseArgs } from "../src/index.js";
import type { ArgsSpec } from "../src/index.js";

/** Parameter names, or null. */
function names(fn: (...args: never[]) => unknown): string[] | null {
  const spec = parseArgs(fn);
  return spec === null ? null : spec.params.map((param) => param.name);
}

/** Builds a function from source text, as a module loader would (what toString() returns). */
function fromSource(source: string): (...args: never[]) => unknown {
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- building test functions from source text is the point
  return new Function(`return (${source});`)() as (...args: never[]) => unknown;
}

describe("parseArgs(fn.toString())", () => {
  it.each([
    ["function declaration", "function add(a, b) { return a + b; }", ["a", "b"]],
    ["anonymous function", "function (x) { return x; }", ["x"]],
    ["async function", "async function f(a, b) {}", ["a", "b"]],
    ["generator", "function* g(n) { yield n; }", ["n"]],
    ["async generator", "async function* g(n, m) {}", ["n", "m"]],
    ["arrow with parens", "(a, b) => a + b", ["a", "b"]],
    ["arrow without parens", "x => x * 2", ["x"]],
    ["async arrow without parens", "async x => x", ["x"]],
    ["async arrow with parens", "async (a) => a", ["a"]],
    ["no parameters", "() => 1", []],
    ["trailing comma", "function f(a, b,) {}", ["a", "b"]],
    ["comments", "function f(/* first */ a, // second\n b) {}", ["a", "b"]],
    ["unicode and $ names", "function f($x, _y, héllo) {}", ["$x", "_y", "héllo"]],
  ])("%s", (_label, source, expected) => {
    expect(names(fromSource(source))).toEqual(expected);
  });

  it("reads methods, async, generator, computed and quoted method names", () => {
    const object = {
      plain(a: number, b: number) {
        return a + b;
      },
      async later(x: number) {
        return x;
      },
      *gen(n: number) {
        yield n;
      },
      async *agen(n: number, m: number) {
        yield n + m;
      },
      ["comp" + "uted"](q: number) {
        return q;
      },
      "with (paren)"(z: number) {
        return z;
      },
    };
    expect(names(object.plain)).toEqual(["a", "b"]);
    expect(names(object.later)).toEqual(["x"]);
    expect(names(object.gen)).toEqual(["n"]);
    expect(names(object.agen)).toEqual(["n", "m"]);
    expect(names(object.computed!)).toEqual(["q"]);
    expect(names(object["with (paren)"])).toEqual(["z"]);
    class Service {
      static make(config: unknown) {
        return config;
      }
      method(first: number, second = 2) {
        return first + second;
      }
    }
    expect(names(Service.make)).toEqual(["config"]);
    expect(names(new Service().method)).toEqual(["first", "second"]);
  });

  it("reads default values: literals evaluated, expressions marked without a value", () => {
    const spec = parseArgs(
      fromSource(
        "function f(a, b = 3, c = 'x', d = \"y\", e = -1.5, f = null, g = [1, {\"k\": 2}], h = true, i = `t`, j = 10n, k = Math.max(1, 2), l = (p) => p, m = { a: 1 }) {}",
      ),
    ) as ArgsSpec;
    expect(spec.params.map((p) => p.name)).toEqual(["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m"]);
    expect(spec.params[0]).toEqual({ name: "a", hasDefault: false });
    expect(spec.params.slice(1, 10).map((p) => p.default)).toEqual([3, "x", "y", -1.5, null, [1, { k: 2 }], true, "t", 10n]);
    for (const param of spec.params.slice(10)) {
      expect(param).toEqual({ name: param.name, hasDefault: true });
    }
  });

  it("keeps commas and brackets inside defaults and strings apart", () => {
    expect(names(fromSource("function f(a = 'x,y)', b = [1, (2)], c = { k: [3, 4] }, d = `a,${1},b`) {}"))).toEqual(["a", "b", "c", "d"]);
    expect(names(fromSource("(a = (x) => { return x, 1; }, b) => b"))).toEqual(["a", "b"]);
    expect(names(fromSource("function f(a = b == c, d = e >= f) {}"))).toEqual(["a", "d"]);
  });

  it("reads a rest parameter", () => {
    expect(parseArgs(fromSource("function f(a, ...rest) {}"))).toEqual({ params: [{ name: "a", hasDefault: false }], rest: "rest" });
    expect(parseArgs(fromSource("(...all) => all"))).toEqual({ params: [], rest: "all" });
  });

  it("gives up (null) on destructuring, native, bound functions and classes", () => {
    expect(parseArgs(fromSource("function f({ a, b }) {}"))).toBeNull();
    expect(parseArgs(fromSource("([x, y]) => x"))).toBeNull();
    expect(parseArgs(fromSource("function f(...[a, b]) {}"))).toBeNull();
    expect(parseArgs(Math.max)).toBeNull();
    expect(parseArgs(function f(a: number) {
      return a;
    }.bind(null))).toBeNull();
    expect(parseArgs(class Foo {} as unknown as () => void)).toBeNull();
  });
});
