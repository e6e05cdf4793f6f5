import { describe, expect, it } from "vitest";
import { parseCallArgument } from "../src/commands/call.js";
import { describePayload } from "../src/debug.js";
import { UsageError } from "../src/errors.js";
import { editDistance, sharedPrefix, suggestMethods } from "../src/suggest.js";
import { createEvent, encodeEvent } from "@zrpc/wire";

describe("suggestMethods", () => {
  it("measures edit distance and shared prefixes, case-insensitively", () => {
    expect(editDistance("kitten", "sitting")).toBe(3);
    expect(editDistance("", "abc")).toBe(3);
    expect(editDistance("Echo", "echo")).toBe(0);
    expect(sharedPrefix("get_ticket", "get_tickets")).toBe(10);
    expect(sharedPrefix("abc", "xbc")).toBe(0);
  });

  it("ranks every name closest first and keeps the close ones as suggestions", () => {
    const names = ["ticket_list", "get_ticket", "boom", "get"];
    expect(suggestMethods("get_tiket", names)).toEqual({ close: ["get_ticket", "get"], all: ["get_ticket", "get", "ticket_list", "boom"] });
    expect(suggestMethods("zzzz", ["b", "a"])).toEqual({ close: [], all: ["a", "b"] });
    expect(suggestMethods("x", [])).toEqual({ close: [], all: [] });
  });
});

describe("parseCallArgument", () => {
  it("sends text that does not look like JSON as a string, refuses broken JSON, and --raw takes it all as text", () => {
    expect(parseCallArgument("hello", 1, "auto")).toBe("hello");
    expect(parseCallArgument("[1]", 1, "auto")).toEqual([1]);
    expect(() => parseCallArgument("[1,", 3, "auto")).toThrow(UsageError);
    expect(() => parseCallArgument("[1,", 3, "auto")).toThrow(/^argument 3 "\[1," starts like JSON but is not valid JSON: .*position/);
    expect(parseCallArgument("[1,", 1, "raw")).toBe("[1,");
    expect(parseCallArgument("42", 1, "raw")).toBe("42");
    expect(() => parseCallArgument("hello", 2, "json")).toThrow('argument 2 "hello" is not valid JSON (--json)');
  });
});

describe("describePayload", () => {
  it("names the direction, the event, its ids and a summary of its arguments", () => {
    const request = createEvent("add", [1, 2.5, "x"]);
    const line = describePayload("send", encodeEvent(request));
    expect(line).toMatch(/^--> add id=\S+ args=\[1,2\.5,"x"\]$/);
    expect(describePayload("receive", new Uint8Array([1, 2, 3]))).toMatch(/^<-- \(3 bytes that are not a zerorpc event: /);
  });

  it("cuts long arguments", () => {
    const line = describePayload("send", encodeEvent(createEvent("echo", ["y".repeat(500)])));
    expect(line.endsWith("…")).toBe(true);
    expect(line.length).toBeLessThan(300);
  });
});
