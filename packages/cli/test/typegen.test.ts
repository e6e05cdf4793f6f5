// The module `zrpc types` writes, from a service description: names, optional arguments, type
// texts that are refused, and the `--check` differences.
import { describe, expect, it } from "vitest";
import type { ServiceDescription } from "../src/commands/inspect.js";
import { diffTypes, generateTypes, interfaceName, isSafeTypeText, resolveTypeNames } from "../src/typegen.js";

describe("interfaceName", () => {
  it("PascalCases the service name and ends it in Service", () => {
    expect(interfaceName("TestService")).toBe("TestService");
    expect(interfaceName("ticket-service")).toBe("TicketService");
    expect(interfaceName("calc")).toBe("CalcService");
    expect(interfaceName("2fa")).toBe("_2faService");
    expect(interfaceName("")).toBe("RemoteService");
  });
});

describe("isSafeTypeText", () => {
  it("accepts one balanced type expression", () => {
    for (const text of ["number", "{ a: number; b: string[] }", "(x: number) => string", "'}' | \"{\"", "Map<string, [number, boolean]>", "unknown /* Tree is recursive */", "{ at: unknown /* a Date, as an Ext */; }"]) {
      expect(isSafeTypeText(text), text).toBe(true);
    }
  });

  it("refuses what could end the type position", () => {
    for (const text of ["", "number }; export const x = 1; interface Y {", "number\nstring", "/* c */ */ number", "/* it's */ number", "/*c*/ number", "/* a/b */ x", "/* */", "`t`", "(number", "'open"]) {
      expect(isSafeTypeText(text), text).toBe(false);
    }
  });
});

describe("resolveTypeNames", () => {
  it("keeps keywords, ES globals, property and parameter names and names declared in the text", () => {
    for (const text of [
      "{ id: number; readonly title?: string; tags: readonly string[]; }",
      "Record<string, Map<string, [number, boolean | null]>>",
      "(a: number, ...rest: string[]) => void",
      "{ [K in 'a' | 'b']: K }",
      "Uint8Array | Promise<Date> | Partial<{ Ticket: number }>",
      "unknown /* Tree is recursive */",
    ]) {
      expect(resolveTypeNames(text), text).toEqual({ text, unknownNames: [] });
    }
  });

  it("replaces undeclared names, with their qualifiers and type arguments, by unknown; Buffer by Uint8Array", () => {
    expect(resolveTypeNames("Ticket | null")).toEqual({ text: "unknown | null", unknownNames: ["Ticket"] });
    expect(resolveTypeNames("Page<Ticket>[]")).toEqual({ text: "unknown[]", unknownNames: ["Page<Ticket>"] });
    expect(resolveTypeNames("{ a: ns.Ticket<A>; b: import('./x').T; c: typeof value }")).toEqual({
      text: "{ a: unknown; b: unknown; c: unknown }",
      unknownNames: ["ns.Ticket<A>", "import('./x').T", "typeof value"],
    });
    expect(resolveTypeNames("X extends Y ? Z : never")).toEqual({ text: "unknown extends unknown ? unknown : never", unknownNames: ["X", "Y", "Z"] });
    expect(resolveTypeNames("{ data: Buffer; }")).toEqual({ text: "{ data: Uint8Array; }", unknownNames: [] });
  });
});

const service: ServiceDescription = {
  name: "demo",
  via: "inspect",
  methods: [
    {
      name: "scale",
      args: [
        { name: "value", hasDefault: false },
        { name: "factor", hasDefault: true, default: 2 },
      ],
      rest: null,
      doc: "Multiply.",
      types: { args: ["number", "number"], rest: { name: "extra", type: "number | string" }, result: "number }; evil(); interface X {", stream: false },
    },
    { name: "then", args: [{ name: "x", hasDefault: true, default: 1 }, { name: "y", hasDefault: false }], rest: null, doc: null, types: null },
  ],
};

describe("generateTypes", () => {
  it("marks a trailing run of defaults optional, wraps union rest types, replaces unsafe texts with unknown", () => {
    const { text, warnings } = generateTypes(service, { endpoint: "tcp://127.0.0.1:1" });
    expect(text.split("\n").slice(5)).toEqual([
      "export interface DemoService {",
      "  /** Multiply. */",
      "  scale(value: number, factor?: number, ...extra: (number | string)[]): Promise<unknown>;",
      "",
      "  then(x: unknown, y: unknown): Promise<unknown>;",
      "}",
      "",
    ]);
    expect(warnings).toEqual(['scale: result: type "number }; evil(); interface X {" is not a single balanced type expression; using unknown']);
  });

  it("writes names the module does not declare as unknown, with a warning for each", () => {
    const named: ServiceDescription = {
      name: "tickets",
      via: "inspect",
      methods: [
        {
          name: "get_ticket",
          args: [{ name: "id", hasDefault: false }],
          rest: null,
          doc: null,
          types: { args: ["TicketId"], rest: null, result: "Ticket | null", stream: false },
        },
      ],
    };
    const { text, warnings } = generateTypes(named, { endpoint: "tcp://127.0.0.1:1" });
    expect(text).toContain("  get_ticket(id: unknown): Promise<unknown | null>;");
    expect(warnings).toEqual([
      'get_ticket: argument id: type "TicketId" is not declared in the generated module; using unknown',
      'get_ticket: result: type "Ticket" is not declared in the generated module; using unknown',
    ]);
  });
});

describe("diffTypes", () => {
  it("ignores the endpoint line and lists changed lines with their numbers", () => {
    const a = "// Generated by `zrpc types` from tcp://a\nx\ny\nz\n";
    const b = "// Generated by `zrpc types` from tcp://b\nx\nY\nz\n";
    expect(diffTypes(a, a.replace("tcp://a", "tcp://b"))).toEqual([]);
    expect(diffTypes(a, b)).toEqual(["- line 3: y", "+ line 3: Y"]);
    expect(diffTypes(a.replace(/\n/g, "\r\n"), a)).toEqual([]);
  });
});
