import { describe, expect, it } from "vitest";
import { cleandoc } from "../src/index.js";
import { pythonArityMessage, pythonBytesRepr, pythonExceptionRepr, pythonKeyText, pythonStrRepr } from "../src/python.js";

describe("cleandoc (Python's inspect.cleandoc)", () => {
  it.each([
    ["one line", "Return a + b.", "Return a + b."],
    ["strips the first line and the common indentation", "  Summary.\n\n    Details\n      indented more\n    ", "Summary.\n\nDetails\n  indented more"],
    ["drops blank lines at both ends", "\n\n   Text.\n\n", "Text."],
    ["first line indentation does not count for the margin", "First.\n  Second.\n    Third.", "First.\nSecond.\n  Third."],
    ["expands tabs to 8 columns", "Title.\n\tTabbed\n\t  more", "Title.\nTabbed\n  more"],
    ["whitespace-only lines do not set the margin", "T.\n    a\n  \n    b", "T.\na\n\nb"],
    ["empty", "", ""],
  ])("%s", (_label, input, expected) => {
    expect(cleandoc(input)).toBe(expected);
  });
});

describe("Python reprs", () => {
  it("quotes str like repr()", () => {
    expect(pythonStrRepr("nope")).toBe("'nope'");
    expect(pythonStrRepr("it's")).toBe(`"it's"`);
    expect(pythonStrRepr(`both ' and "`)).toBe(`'both \\' and "'`);
    expect(pythonStrRepr("a\nb\\c\u0001")).toBe("'a\\nb\\\\c\\x01'");
    expect(pythonStrRepr("héllo ☃")).toBe("'héllo ☃'");
  });

  it("quotes bytes like repr()", () => {
    expect(pythonBytesRepr(new TextEncoder().encode("add"))).toBe("b'add'");
    expect(pythonBytesRepr(Uint8Array.of(0, 0xff, 0x41))).toBe("b'\\x00\\xffA'");
  });

  it("renders KeyError messages and v1 exception reprs", () => {
    expect(pythonKeyText("nope")).toBe("'nope'");
    expect(pythonKeyText(5)).toBe("5");
    expect(pythonKeyText(null)).toBe("None");
    expect(pythonExceptionRepr("ValueError", "boom")).toBe("ValueError('boom')");
    expect(pythonExceptionRepr("ValueError", "")).toBe("ValueError()");
  });
});

describe("arity messages (CPython's TypeError texts)", () => {
  it.each([
    [["a", "b"], 2, 2, 3, "add() takes 2 positional arguments but 3 were given"],
    [["a"], 1, 1, 2, "add() takes 1 positional argument but 2 were given"],
    [[], 0, 0, 1, "add() takes 0 positional arguments but 1 was given"],
    [["a", "b"], 1, 2, 3, "add() takes from 1 to 2 positional arguments but 3 were given"],
    [["a", "b"], 2, 2, 1, "add() missing 1 required positional argument: 'b'"],
    [["a", "b"], 2, 2, 0, "add() missing 2 required positional arguments: 'a' and 'b'"],
    [["a", "b", "c"], 3, 3, 0, "add() missing 3 required positional arguments: 'a', 'b', and 'c'"],
  ])("%j min %d max %d given %d", (names, min, max, given, expected) => {
    expect(pythonArityMessage("add", { names, minArity: min, maxArity: max }, given)).toBe(expected);
  });

  it("accepts counts in range", () => {
    expect(pythonArityMessage("f", { names: ["a", "b"], minArity: 1, maxArity: 2 }, 1)).toBeUndefined();
    expect(pythonArityMessage("f", { names: ["a"], minArity: 1, maxArity: Number.POSITIVE_INFINITY }, 10)).toBeUndefined();
  });
});
