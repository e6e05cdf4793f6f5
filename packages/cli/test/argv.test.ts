import { describe, expect, it } from "vitest";
import { choiceOption, parseCommandLine, secondsOption } from "../src/argv.js";
import { UsageError } from "../src/errors.js";

const SPECS = [
  { name: "json", takesValue: false },
  { name: "timeout", takesValue: true },
  { name: "verbose", short: "v", takesValue: false },
];

describe("parseCommandLine", () => {
  it("takes options anywhere and negative numbers as arguments", () => {
    const parsed = parseCommandLine(["4242", "add", "-5", "--json", "-1.5e3", "--timeout=2", "-v", "-"], SPECS);
    expect(parsed.positionals).toEqual(["4242", "add", "-5", "-1.5e3", "-"]);
    expect(parsed.options).toEqual({ json: true, timeout: "2", verbose: true });
  });

  it("stops at --", () => {
    expect(parseCommandLine(["--timeout", "3", "--", "--json", "-v"], SPECS)).toEqual({ options: { timeout: "3" }, positionals: ["--json", "-v"] });
  });

  it.each([
    [["--tiemout", "3"], "unknown option --tiemout"],
    [["-x"], "unknown option -x"],
    [["--timeout"], "option --timeout needs a value"],
    [["--json=yes"], "option --json takes no value"],
  ])("refuses %j", (argv, message) => {
    expect(() => parseCommandLine(argv, SPECS)).toThrow(UsageError);
    expect(() => parseCommandLine(argv, SPECS)).toThrow(message);
  });
});

describe("secondsOption", () => {
  it("reads seconds and refuses the rest", () => {
    expect(secondsOption("timeout", undefined, 30)).toBe(30);
    expect(secondsOption("timeout", "0.5", 30)).toBe(0.5);
    expect(secondsOption("timeout", "0", 30, true)).toBe(0);
    expect(() => secondsOption("heartbeat", "0", 5)).toThrow('--heartbeat must be a number of seconds > 0, got "0"');
    expect(() => secondsOption("timeout", "soon", 30, true)).toThrow('--timeout must be a number of seconds >= 0, got "soon"');
    expect(() => secondsOption("timeout", "", 30)).toThrow(UsageError);
  });
});

describe("choiceOption", () => {
  it("takes one of the choices, the fallback when absent, and names the option otherwise", () => {
    expect(choiceOption("log-format", undefined, ["text", "json"], "text")).toBe("text");
    expect(choiceOption("log-format", "json", ["text", "json"], "text")).toBe("json");
    expect(() => choiceOption("log-format", "xml", ["text", "json"], "text")).toThrow('--log-format must be text or json, got "xml"');
    expect(() => choiceOption("log-format", true, ["text", "json"], "text")).toThrow(UsageError);
  });
});
