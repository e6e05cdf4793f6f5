// docs/guide/cli.md documents every option the `zrpc` command accepts, and no option it does not.
// The options are read from the command's sources (packages/cli/src): each command parses its argv
// with `parseCommandLine(argv, TABLE)`, and TABLE is an array of `{ name, short?, takesValue }`
// (possibly spreading another table). Reading the sources rather than importing them keeps this
// test independent of what the package exports.
import { readFileSync, readdirSync } from "node:fs";
import { basename, join } from "node:path";
import { describe, expect, it } from "vitest";
import { docsRoot } from "./harness/paths.js";

const cliSource = join(docsRoot, "..", "packages", "cli", "src");
const page = readFileSync(join(docsRoot, "guide", "cli.md"), "utf8");

interface OptionEntry {
  readonly name: string;
  readonly short: string | undefined;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sourceFiles(join(dir, entry.name)) : entry.name.endsWith(".ts") ? [join(dir, entry.name)] : [],
  );
}

/** Option tables by name: `const NAME = [ {...}, ...OTHER ] as const`, with the spreads still unresolved. */
function optionTables(files: readonly string[]): Map<string, { entries: OptionEntry[]; spreads: string[] }> {
  const tables = new Map<string, { entries: OptionEntry[]; spreads: string[] }>();
  for (const file of files) {
    const text = readFileSync(file, "utf8");
    for (const match of text.matchAll(/const\s+([A-Z][A-Z0-9_]*)\s*=\s*\[([\s\S]*?)\]\s*as const/g)) {
      const body = match[2]!;
      const entries = [...body.matchAll(/\{\s*name:\s*"([^"]+)"(?:\s*,\s*short:\s*"([^"]+)")?/g)].map((entry) => ({ name: entry[1]!, short: entry[2] }));
      const spreads = [...body.matchAll(/\.\.\.([A-Z][A-Z0-9_]*)/g)].map((spread) => spread[1]!);
      if (entries.length === 0 && spreads.length === 0) continue;
      if (!/takesValue/.test(body) && spreads.length === 0) continue;
      tables.set(match[1]!, { entries, spreads });
    }
  }
  return tables;
}

function resolveTable(name: string, tables: ReturnType<typeof optionTables>, seen = new Set<string>()): OptionEntry[] {
  const table = tables.get(name);
  if (table === undefined) throw new Error(`option table ${name} not found in packages/cli/src`);
  if (seen.has(name)) throw new Error(`option table ${name} spreads itself`);
  seen.add(name);
  return [...table.spreads.flatMap((spread) => resolveTable(spread, tables, seen)), ...table.entries];
}

/** The options of each command: `commands/NAME.ts` parses with `parseCommandLine(argv, TABLE)`. */
function commandOptions(): Map<string, OptionEntry[]> {
  const files = sourceFiles(cliSource);
  const tables = optionTables(files);
  const commands = new Map<string, OptionEntry[]>();
  for (const file of files.filter((path) => basename(join(path, "..")) === "commands")) {
    const text = readFileSync(file, "utf8");
    const used = [...text.matchAll(/parseCommandLine\(\s*[\w.]+\s*,\s*([A-Z][A-Z0-9_]*)\s*\)/g)].map((match) => match[1]!);
    if (used.length === 0) continue;
    const options = used.flatMap((table) => resolveTable(table, tables));
    commands.set(basename(file, ".ts"), options);
  }
  return commands;
}

/** The part of cli.md under the `## \`zrpc NAME\`` heading, up to the next `## ` heading. */
function section(command: string): string {
  const lines = page.split("\n");
  const start = lines.findIndex((line) => line.startsWith("## ") && line.includes(`\`zrpc ${command}\``));
  if (start < 0) return "";
  const end = lines.findIndex((line, index) => index > start && line.startsWith("## "));
  return lines.slice(start, end < 0 ? undefined : end).join("\n");
}

function mentions(text: string, flag: string): boolean {
  const escaped = flag.replace(/[-/\\^$*+?.()|[\]{}]/g, "\\$&");
  return new RegExp("`" + escaped + "[`= ]").test(text);
}

const commands = commandOptions();

describe("docs/guide/cli.md", () => {
  it("finds the commands and their options in packages/cli/src", () => {
    expect([...commands.keys()].sort()).toEqual(expect.arrayContaining(["call", "inspect", "run"]));
    for (const [command, options] of commands) {
      // A table the parser above no longer reads would make every check below pass vacuously.
      // (zrpc keygen has the fewest: --out, --force, --help.)
      expect(options.length, `options of zrpc ${command}`).toBeGreaterThanOrEqual(command === "keygen" ? 3 : 5);
      expect(options.map((option) => option.name), `options of zrpc ${command}`).toContain("help");
    }
  });

  for (const [command, options] of commands) {
    it(`documents every option of zrpc ${command} in its section`, () => {
      const text = section(command);
      expect(text, `cli.md has no "## \`zrpc ${command}\`" section`).not.toBe("");
      const missing = options.flatMap((option) => [
        ...(mentions(text, `--${option.name}`) ? [] : [`--${option.name}`]),
        ...(option.short === undefined || mentions(text, `-${option.short}`) ? [] : [`-${option.short}`]),
      ]);
      expect(missing, `zrpc ${command} accepts these options, but the "zrpc ${command}" section of docs/guide/cli.md does not name them`).toEqual([]);
    });

    it(`documents no option that zrpc ${command} does not accept`, () => {
      const accepted = new Set(options.flatMap((option) => [`--${option.name}`, ...(option.short === undefined ? [] : [`-${option.short}`])]));
      // The first cell of the option tables: | `-c`, `--config PATH` | ...
      const documented = section(command)
        .split("\n")
        .filter((line) => line.startsWith("| `-"))
        .flatMap((line) => [...line.split("|")[1]!.matchAll(/`(--?[a-zA-Z][\w-]*)/g)].map((match) => match[1]!));
      expect(documented.length, `the option table of zrpc ${command}`).toBeGreaterThan(0);
      expect(documented.filter((flag) => !accepted.has(flag))).toEqual([]);
    });
  }

  it("documents the top-level options", () => {
    const main = readFileSync(join(cliSource, "cli.ts"), "utf8");
    const flags = [...new Set([...main.matchAll(/first === "(--?[a-zA-Z][\w-]*)"/g)].map((match) => match[1]!))];
    expect(flags).toEqual(expect.arrayContaining(["--help", "--version"]));
    expect(flags.filter((flag) => !mentions(page, flag))).toEqual([]);
  });
});
