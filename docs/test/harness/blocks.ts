// Reads a docs page into the units the harness runs: TypeScript programs (foreground or
// background), files for the page's project, shell commands, and the output they must print.
// The conventions are in docs/_meta/CONVENTIONS.md ("Code blocks are tests").

export interface Fence {
  lang: string;
  code: string;
  /** 1-based line of the opening fence. */
  line: number;
  directives: Directive[];
}

export type Directive =
  | { kind: "run"; background: boolean }
  | { kind: "continue" }
  | { kind: "file"; path: string }
  | { kind: "output" };

export interface Expectation {
  lines: string[];
  line: number;
}

export type Unit =
  | { kind: "program"; code: string; line: number; lines: number[]; background: boolean; expect?: Expectation }
  | { kind: "file"; path: string; code: string; line: number }
  | { kind: "shell"; commands: Command[]; line: number };

export interface Command {
  /** `zrpc ARGS` (the CLI) or `tsx FILE.ts` (a file block of the page, run with the tsx loader). */
  tool: "zrpc" | "tsx";
  argv: string[];
  text: string;
  exit: number;
  expect?: Expectation;
  background: boolean;
}

export interface Page {
  units: Unit[];
  /** `<!-- serve: demo -->`: the demo server runs on port 4242 for the whole page. */
  serve: string | undefined;
}

const RUN_LANGS = new Set(["ts", "typescript"]);
const directiveRE = /^<!--\s*(run|continue|file|output|serve)(?:\s*:\s*(.*?))?\s*-->$/;

function parseDirective(text: string, where: string): Directive | { kind: "serve"; name: string } {
  const m = directiveRE.exec(text);
  if (!m) throw new Error(`${where}: unknown directive ${text} (run, run: background, continue, file: PATH, output, serve: demo)`);
  const name = m[1] as "run" | "continue" | "file" | "output" | "serve";
  const arg = m[2];
  switch (name) {
    case "run":
      if (arg !== undefined && arg !== "background") throw new Error(`${where}: "${text}": only "run" or "run: background"`);
      return { kind: "run", background: arg === "background" };
    case "continue":
    case "output":
      if (arg !== undefined) throw new Error(`${where}: "${text}" takes no argument`);
      return { kind: name };
    case "file":
      if (!arg || arg.startsWith("/") || arg.split("/").includes("..")) throw new Error(`${where}: "${text}": a relative path inside the project`);
      return { kind: "file", path: arg };
    case "serve":
      if (arg !== "demo") throw new Error(`${where}: "${text}": the only server is "demo"`);
      return { kind: "serve", name: arg };
  }
}

/** Every fenced block with the directives in the HTML comments right above it. */
export function fences(markdown: string, page: string): { fences: Fence[]; serve: string | undefined } {
  const lines = markdown.split("\n");
  const out: Fence[] = [];
  let serve: string | undefined;
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    const serveMatch = /^\s*(<!--\s*serve\b.*-->)\s*$/.exec(raw);
    if (serveMatch) {
      const d = parseDirective(serveMatch[1]!, `${page}:${i + 1}`);
      if (d.kind === "serve") serve = d.name;
      continue;
    }
    const open = /^(\s*)(`{3,}|~{3,})\s*([^\s`{]*)/.exec(raw);
    if (!open) continue;
    const [, indent, marker, lang] = open;
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length; j++) {
      const l = lines[j]!;
      if (l.trim().startsWith(marker!) && l.trim().replace(/[`~]/g, "") === "") break;
      body.push(l.startsWith(indent!) ? l.slice(indent!.length) : l.trimStart());
    }
    if (j >= lines.length) throw new Error(`${page}:${i + 1}: unclosed code fence`);
    const directives: Directive[] = [];
    for (let k = i - 1; k >= 0; k--) {
      const t = lines[k]!.trim();
      if (t === "") continue;
      if (!t.startsWith("<!--")) break;
      if (/^<!--\s*serve\b/.test(t)) continue;
      const d = parseDirective(t, `${page}:${k + 1}`);
      if (d.kind !== "serve") directives.unshift(d);
    }
    out.push({ lang: lang!.toLowerCase(), code: body.join("\n") + "\n", line: i + 1, directives });
    i = j;
  }
  return { fences: out, serve };
}

/** Splits a shell line into words: '...' and "..." quote, nothing else is special. */
export function shellWords(line: string, where: string): string[] {
  const words: string[] = [];
  let current = "";
  let quote: string | undefined;
  let started = false;
  for (const ch of line) {
    if (quote) {
      if (ch === quote) quote = undefined;
      else current += ch;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      started = true;
    } else if (/\s/.test(ch)) {
      if (started || current) words.push(current);
      current = "";
      started = false;
    } else if ("|&;<>$`\\".includes(ch)) {
      throw new Error(`${where}: "${line}": no pipes, redirections, variables or ; && in run blocks`);
    } else current += ch;
  }
  if (quote) throw new Error(`${where}: unclosed quote in "${line}"`);
  if (started || current) words.push(current);
  return words;
}

function command(text: string, where: string): Command {
  let exit = 0;
  const exitMatch = /\s+#\s*exit\s+(\d+)\s*$/.exec(text);
  let line = text;
  if (exitMatch) {
    exit = Number(exitMatch[1]);
    line = text.slice(0, exitMatch.index);
  } else if (/\s#/.test(text)) {
    line = text.replace(/\s+#.*$/, "");
  }
  let argv = shellWords(line, where);
  if (argv[0] === "npx") argv = argv.slice(1);
  if (argv[0] === "tsx") {
    if (argv.length !== 2 || !argv[1]!.endsWith(".ts")) throw new Error(`${where}: "${text}": tsx runs one .ts file of the page`);
    return { tool: "tsx", argv: argv.slice(1), text: line.trim(), exit, background: false };
  }
  if (argv[0] !== "zrpc") throw new Error(`${where}: "${text}": run blocks hold zrpc and tsx commands only`);
  const background = argv[1] === "run";
  if (background && portsIn(line).length === 0) throw new Error(`${where}: "${text}": give zrpc run its address (zrpc run 4242), the harness moves it to a free port`);
  return { tool: "zrpc", argv: argv.slice(1), text: line.trim(), exit, background };
}

/** The units of a page, in document order. */
export function parsePage(markdown: string, page: string): Page {
  const { fences: all, serve } = fences(markdown, page);
  const units: Unit[] = [];
  let lastRunnable: { expect?: Expectation } | undefined;
  for (const fence of all) {
    const where = `${page}:${fence.line}`;
    const has = (kind: Directive["kind"]) => fence.directives.find((d) => d.kind === kind);
    const file = has("file") as { path: string } | undefined;
    const run = has("run") as { background: boolean } | undefined;
    if (has("output")) {
      if (!lastRunnable) throw new Error(`${where}: <!-- output --> follows no runnable block`);
      if (lastRunnable.expect) throw new Error(`${where}: a second <!-- output --> for the same block`);
      lastRunnable.expect = { lines: fence.code.replace(/\n$/, "").split("\n"), line: fence.line };
      continue;
    }
    if (RUN_LANGS.has(fence.lang)) {
      if (fence.lang !== "ts") throw new Error(`${where}: write \`\`\`ts, not \`\`\`${fence.lang}`);
      if (file) {
        if (run || has("continue")) throw new Error(`${where}: a file block is not run by itself`);
        units.push({ kind: "file", path: file.path, code: fence.code, line: fence.line });
        continue;
      }
      if (has("continue")) {
        const previous = units.at(-1);
        if (previous?.kind !== "program") throw new Error(`${where}: <!-- continue --> must follow a ts block`);
        if (run) throw new Error(`${where}: put <!-- run: background --> on the first piece`);
        previous.code += fence.code;
        previous.lines.push(fence.line);
        continue;
      }
      const unit: Unit = { kind: "program", code: fence.code, line: fence.line, lines: [fence.line], background: run?.background ?? false };
      units.push(unit);
      lastRunnable = unit;
      continue;
    }
    if (file) {
      units.push({ kind: "file", path: file.path, code: fence.code, line: fence.line });
      continue;
    }
    if (run) {
      if (run.background) throw new Error(`${where}: "run: background" is for ts blocks (zrpc run is always in the background)`);
      if (fence.lang === "sh" || fence.lang === "bash" || fence.lang === "shell") {
        const commands = fence.code.split("\n").map((l) => l.trim()).filter((l) => l !== "" && !l.startsWith("#")).map((l) => command(l, where));
        const unit: Unit = { kind: "shell", commands, line: fence.line };
        units.push(unit);
        lastRunnable = commands.at(-1);
      } else if (fence.lang === "console") {
        const commands: Command[] = [];
        for (const l of fence.code.replace(/\n$/, "").split("\n")) {
          if (l.startsWith("$ ")) commands.push(command(l.slice(2), where));
          else {
            const current = commands.at(-1);
            if (!current) throw new Error(`${where}: a console block starts with a "$ " command`);
            (current.expect ??= { lines: [], line: fence.line }).lines.push(l);
          }
        }
        units.push({ kind: "shell", commands, line: fence.line });
        lastRunnable = undefined;
      } else throw new Error(`${where}: <!-- run --> is for sh and console blocks (ts blocks always run)`);
      continue;
    }
    if (fence.directives.length > 0) throw new Error(`${where}: directives on a \`\`\`${fence.lang} block that is not run`);
  }
  return { units, serve };
}

/** Placeholder ports of the docs (4242..4249) mentioned in a text. */
export function portsIn(text: string): number[] {
  return [...new Set([...text.matchAll(/\b(424[2-9])\b/g)].map((m) => Number(m[1])))];
}

/** Replaces the placeholder ports with the page's own. */
export function withPorts(text: string, ports: ReadonlyMap<number, number>): string {
  return text.replace(/\b(424[2-9])\b/g, (m) => String(ports.get(Number(m)) ?? m));
}

/** Whether `expected` lines appear in `actual`, in order ("..." elides). Returns the first line not found. */
export function missingLine(expected: readonly string[], actual: string): string | undefined {
  // eslint-disable-next-line no-control-regex -- colour codes, should a tool print them despite NO_COLOR
  const have = actual.replace(/\x1b\[[0-9;]*m/g, "").split(/\r?\n/).map((l) => l.trimEnd());
  let at = 0;
  for (const want of expected.map((l) => l.trimEnd())) {
    if (want === "" || want === "...") continue;
    const found = have.indexOf(want, at);
    if (found < 0) return want;
    at = found + 1;
  }
  return undefined;
}
