// The harness itself: how pages are read, and that every tested page has its test file.
import { existsSync } from "node:fs";
import { basename, join } from "node:path";
import { describe, expect, it } from "vitest";
import { missingLine, parsePage, shellWords, withPorts } from "./harness/blocks.js";
import { testedPages } from "./harness/pages.js";
import { docsRoot } from "./harness/paths.js";

const fence = "```";

describe("parsePage", () => {
  it("reads programs, continued pieces, files, background blocks and expected output", () => {
    const page = [
      "<!-- serve: demo -->",
      "<!-- file: app/rpcs.ts -->",
      `${fence}ts`, "export const x = 1;", fence,
      "<!-- run: background -->", "", `${fence}ts`, "serve(4242);", fence,
      `${fence}ts`, "const a = 1;", fence,
      "Some prose.",
      "<!-- continue -->", `${fence}ts`, "console.log(a);", fence,
      "<!-- output -->", `${fence}text`, "1", fence,
      `${fence}python`, "print(1)", fence,
    ].join("\n");
    const { units, serve } = parsePage(page, "p.md");
    expect(serve).toBe("demo");
    expect(units.map((u) => u.kind)).toEqual(["file", "program", "program"]);
    expect(units[0]).toMatchObject({ path: "app/rpcs.ts", code: "export const x = 1;\n" });
    expect(units[1]).toMatchObject({ background: true, line: 8 });
    expect(units[2]).toMatchObject({ code: "const a = 1;\nconsole.log(a);\n", lines: [11, 16], expect: { lines: ["1"] } });
  });

  it("runs marked console blocks: $ lines are zrpc commands, the others their output", () => {
    const page = ["<!-- run -->", `${fence}console`, "$ npx zrpc run 4242", "Listening on tcp://127.0.0.1:4242", "$ zrpc call 4242 fail x  # exit 1", "ValueError: x", fence].join("\n");
    const [unit] = parsePage(page, "p.md").units;
    expect(unit).toMatchObject({
      kind: "shell",
      commands: [
        { argv: ["run", "4242"], background: true, exit: 0, expect: { lines: ["Listening on tcp://127.0.0.1:4242"] } },
        { argv: ["call", "4242", "fail", "x"], background: false, exit: 1, expect: { lines: ["ValueError: x"] } },
      ],
    });
  });

  it("refuses what it cannot run faithfully", () => {
    expect(() => parsePage(`<!-- run -->\n${fence}sh\nnpm install x\n${fence}`, "p.md")).toThrow(/zrpc and tsx commands only/);
    expect(() => parsePage(`<!-- run -->\n${fence}sh\nzrpc run\n${fence}`, "p.md")).toThrow(/give zrpc run its address/);
    expect(() => parsePage(`<!-- skip -->\n${fence}ts\nx\n${fence}`, "p.md")).toThrow(/unknown directive/);
    expect(() => parsePage(`${fence}typescript\nx\n${fence}`, "p.md")).toThrow(/write ```ts/);
    expect(() => parsePage(`<!-- output -->\n${fence}text\nx\n${fence}`, "p.md")).toThrow(/follows no runnable block/);
    expect(() => parsePage(`<!-- run -->\n${fence}sh\nzrpc call 4242 x | head\n${fence}`, "p.md")).toThrow(/no pipes/);
  });
});

describe("helpers", () => {
  it("splits shell words with quotes", () => {
    expect(shellWords(`call 4242 add 2 '{"a": 1}' "x y" ''`, "w")).toEqual(["call", "4242", "add", "2", '{"a": 1}', "x y", ""]);
  });

  it("rewrites the placeholder ports 4242..4249 only", () => {
    expect(withPorts("tcp://127.0.0.1:4242 4243 42420 14242", new Map([[4242, 50001], [4243, 50002]]))).toBe("tcp://127.0.0.1:50001 50002 42420 14242");
  });

  it("matches expected lines in order, with ... eliding", () => {
    expect(missingLine(["a", "...", "c"], "a\nb\nc\n")).toBeUndefined();
    expect(missingLine(["c", "a"], "a\nb\nc\n")).toBe("a");
  });
});

it("every tested page has its test file in test/pages", () => {
  const missing = testedPages().filter((page) => !existsSync(join(docsRoot, "test/pages", `${basename(page, ".md")}.test.ts`)));
  expect(missing).toEqual([]);
});
