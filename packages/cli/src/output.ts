// Where the command writes. stdout carries results (JSON lines, listings); stderr carries
// diagnostics, errors and progress.
import { cleandoc } from "@zrpc/server";

/** Writes one line to stdout. */
export function printLine(text: string): void {
  process.stdout.write(`${text}\n`);
}

/** Writes one line to stderr. */
export function printError(text: string): void {
  process.stderr.write(`${text}\n`);
}

/** An argument as introspection reports it. */
export interface ArgumentInfo {
  readonly name: string;
  readonly hasDefault: boolean;
  readonly default?: unknown;
}

/** `name(a, b=3, ...rest)`; `name(...)` when the arguments are unknown. */
export function signature(name: string, args: readonly ArgumentInfo[] | null, rest: string | null, formatDefault: (value: unknown) => string): string {
  if (args === null) return `${name}(...)`;
  const parts = args.map((arg) => (arg.hasDefault ? `${arg.name}=${formatDefault(arg.default)}` : arg.name));
  if (rest !== null) parts.push(`...${rest}`);
  return `${name}(${parts.join(", ")})`;
}

/** The first line of a docstring after Python's `inspect.cleandoc`, or `""`. */
export function firstDocLine(doc: string | null | undefined): string {
  if (doc === null || doc === undefined) return "";
  return cleandoc(doc).split("\n")[0] ?? "";
}

/** Rows of `[left, right]` as lines with the left column padded to the widest entry. */
export function columns(rows: readonly (readonly [string, string])[], indent = ""): string[] {
  const width = Math.max(0, ...rows.map(([left]) => left.length));
  return rows.map(([left, right]) => (right === "" ? `${indent}${left}` : `${indent}${left.padEnd(width)}  ${right}`).trimEnd());
}
