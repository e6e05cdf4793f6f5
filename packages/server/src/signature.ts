// Argument names of a JavaScript function, read from its source text, for introspection
// (`_zerorpc_args`, `_zerorpc_inspect`, docs/protocol section 10) and Python-like arity checks.

/** One declared positional parameter. */
export interface ParamSpec {
  /** The parameter name. */
  readonly name: string;
  /** True when the parameter has a default value. */
  readonly hasDefault: boolean;
  /**
   * The default value when it is a literal that could be read (numbers, strings, `true`, `false`,
   * `null`, JSON arrays and objects, bigints); `undefined` when there is none or it is an
   * expression (it is then reported as nil).
   */
  readonly default?: unknown;
}

/** The declared arguments of a method. */
export interface ArgsSpec {
  /** Positional parameters in order (rest parameter excluded). */
  readonly params: readonly ParamSpec[];
  /** Name of the rest parameter (`...rest`, Python's `*varargs`), or `null`. */
  readonly rest: string | null;
}

/**
 * How a caller may describe arguments explicitly (`register(fn, { args })`): names, or objects
 * with a `name` and an optional `default`. A name written `"...rest"` is the rest parameter and
 * must come last.
 */
export type ArgsInput = readonly (string | { readonly name: string; readonly default?: unknown })[];

const IDENTIFIER = /^[\p{ID_Start}$_][\p{ID_Continue}$\u200c\u200d]*$/u;

/**
 * Turns an explicit {@link ArgsInput} into an {@link ArgsSpec}. Throws `TypeError` for an empty
 * or duplicated name or a rest parameter that is not last.
 * @internal
 */
export function argsFromInput(input: ArgsInput): ArgsSpec {
  const params: ParamSpec[] = [];
  let rest: string | null = null;
  const seen = new Set<string>();
  for (const item of input) {
    const entry = typeof item === "string" ? { name: item } : item;
    const name = entry.name;
    if (typeof name !== "string" || name.replace(/^\.\.\./, "").length === 0) {
      throw new TypeError(`argument names must be non-empty strings, got ${String(name)}`);
    }
    if (rest !== null) throw new TypeError(`the rest parameter "...${rest}" must be the last argument`);
    if (name.startsWith("...")) {
      rest = name.slice(3);
      continue;
    }
    if (seen.has(name)) throw new TypeError(`duplicate argument name "${name}"`);
    seen.add(name);
    params.push("default" in entry ? { name, hasDefault: true, default: entry.default } : { name, hasDefault: false });
  }
  return { params, rest };
}

/**
 * Fewest and most positional arguments a method accepts: the parameters before the first one
 * with a default are required (JavaScript's `fn.length` rule), a rest parameter lifts the maximum.
 * @internal
 */
export function arityOf(spec: ArgsSpec): { min: number; max: number } {
  let min = spec.params.findIndex((param) => param.hasDefault);
  if (min < 0) min = spec.params.length;
  return { min, max: spec.rest === null ? spec.params.length : Number.POSITIVE_INFINITY };
}

/**
 * Reads the parameter list of a function from `Function.prototype.toString`. Handles function
 * declarations and expressions, arrow functions with and without parentheses, `async`,
 * generators, methods (also computed and quoted names), default values (any expression; literals
 * are also evaluated) and a rest parameter. Returns `null` when the source is not available
 * (native and bound functions), for classes, and for destructuring parameters, which have no
 * name.
 */
export function parseArgs(fn: (...args: never[]) => unknown): ArgsSpec | null {
  let source: string;
  try {
    source = Function.prototype.toString.call(fn);
  } catch {
    return null;
  }
  if (source.includes("[native code]")) return null;
  try {
    return parseSource(source);
  } catch {
    return null;
  }
}

/** Signals that the text is not something we can read; caught by {@link parseArgs}. */
class Unparsable extends Error {}

/** Skips a string, template literal or comment starting at `i`; returns the index after it, or -1. */
function skipNonCode(source: string, i: number): number {
  const char = source[i];
  if (char === '"' || char === "'") {
    for (let j = i + 1; j < source.length; j++) {
      if (source[j] === "\\") j++;
      else if (source[j] === char) return j + 1;
    }
    throw new Unparsable("unterminated string");
  }
  if (char === "`") {
    for (let j = i + 1; j < source.length; j++) {
      if (source[j] === "\\") j++;
      else if (source[j] === "`") return j + 1;
      else if (source[j] === "$" && source[j + 1] === "{") j = skipBalanced(source, j + 1) - 1;
    }
    throw new Unparsable("unterminated template");
  }
  if (char === "/" && source[i + 1] === "/") {
    const end = source.indexOf("\n", i);
    return end < 0 ? source.length : end + 1;
  }
  if (char === "/" && source[i + 1] === "*") {
    const end = source.indexOf("*/", i + 2);
    if (end < 0) throw new Unparsable("unterminated comment");
    return end + 2;
  }
  return -1;
}

const CLOSERS: Record<string, string> = { "(": ")", "[": "]", "{": "}" };

/** `source[open]` is a bracket; returns the index after its matching closer. */
function skipBalanced(source: string, open: number): number {
  const stack: string[] = [CLOSERS[source[open]!]!];
  let i = open + 1;
  while (i < source.length) {
    const skipped = skipNonCode(source, i);
    if (skipped >= 0) {
      i = skipped;
      continue;
    }
    const char = source[i]!;
    const closer = CLOSERS[char];
    if (closer !== undefined) stack.push(closer);
    else if (char === ")" || char === "]" || char === "}") {
      if (stack.pop() !== char) throw new Unparsable("unbalanced brackets");
      if (stack.length === 0) return i + 1;
    }
    i++;
  }
  throw new Unparsable("unbalanced brackets");
}

/** Removes comments and surrounding whitespace (strings are kept as they are). */
function stripComments(text: string): string {
  let out = "";
  let i = 0;
  while (i < text.length) {
    const char = text[i]!;
    if (char === "/" && (text[i + 1] === "/" || text[i + 1] === "*")) {
      i = skipNonCode(text, i);
      out += " ";
      continue;
    }
    if (char === '"' || char === "'" || char === "`") {
      const end = skipNonCode(text, i);
      out += text.slice(i, end);
      i = end;
      continue;
    }
    out += char;
    i++;
  }
  return out.trim();
}

function parseSource(source: string): ArgsSpec | null {
  // A class's source text starts with the keyword itself.
  if (/^class[\s{]/.test(source)) return null;
  // Find the first "(" or "=>" outside strings, comments and brackets other than "(".
  let i = 0;
  while (i < source.length) {
    const skipped = skipNonCode(source, i);
    if (skipped >= 0) {
      i = skipped;
      continue;
    }
    const char = source[i]!;
    if (char === "(") {
      const end = skipBalanced(source, i);
      return parseParamList(source.slice(i + 1, end - 1));
    }
    if (char === "[" || char === "{") {
      // A computed method name ([key](a) {}); a "{" before any "(" is not a parameter list.
      if (char === "{") throw new Unparsable("body before parameters");
      i = skipBalanced(source, i);
      continue;
    }
    if (char === "=" && source[i + 1] === ">") {
      // `x => ...` or `async x => ...`: the single parameter is the last word before the arrow.
      const words = stripComments(source.slice(0, i)).split(/\s+/);
      return parseParamList(words[words.length - 1] ?? "");
    }
    i++;
  }
  throw new Unparsable("no parameter list");
}

/** Splits at top-level commas. */
function splitTopLevel(text: string, separator: string): string[] {
  const parts: string[] = [];
  let start = 0;
  let i = 0;
  while (i < text.length) {
    const skipped = skipNonCode(text, i);
    if (skipped >= 0) {
      i = skipped;
      continue;
    }
    const char = text[i]!;
    if (CLOSERS[char] !== undefined) {
      i = skipBalanced(text, i);
      continue;
    }
    if (char === separator) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
    i++;
  }
  parts.push(text.slice(start));
  return parts;
}

/** Index of the `=` of a default value at the top level, ignoring `==`, `=>`, `<=`, ... */
function defaultSeparator(text: string): number {
  let i = 0;
  while (i < text.length) {
    const skipped = skipNonCode(text, i);
    if (skipped >= 0) {
      i = skipped;
      continue;
    }
    const char = text[i]!;
    if (CLOSERS[char] !== undefined) {
      i = skipBalanced(text, i);
      continue;
    }
    if (char === "=" && text[i + 1] !== "=" && text[i + 1] !== ">" && !"=!<>".includes(text[i - 1] ?? "")) return i;
    i++;
  }
  return -1;
}

function parseParamList(text: string): ArgsSpec | null {
  const params: ParamSpec[] = [];
  let rest: string | null = null;
  const pieces = splitTopLevel(text, ",").map(stripComments);
  // A trailing comma leaves one empty piece at the end.
  if (pieces.length > 0 && pieces[pieces.length - 1] === "") pieces.pop();
  for (const piece of pieces) {
    if (rest !== null) throw new Unparsable("parameter after rest");
    if (piece.startsWith("...")) {
      const name = piece.slice(3).trim();
      if (!IDENTIFIER.test(name)) return null;
      rest = name;
      continue;
    }
    const equals = defaultSeparator(piece);
    const name = (equals < 0 ? piece : piece.slice(0, equals)).trim();
    // Destructuring patterns ({ a }, [a, b]) have no name Python could show.
    if (!IDENTIFIER.test(name)) return null;
    if (equals < 0) {
      params.push({ name, hasDefault: false });
    } else {
      const literal = readLiteral(piece.slice(equals + 1).trim());
      params.push(literal.ok ? { name, hasDefault: true, default: literal.value } : { name, hasDefault: true });
    }
  }
  return { params, rest };
}

type Literal = { ok: true; value: unknown } | { ok: false };

const NUMBER = /^[+-]?(?:\d[\d_]*(?:\.[\d_]*)?|\.\d[\d_]*)(?:[eE][+-]?\d+)?$/;
const RADIX_NUMBER = /^[+-]?0[xXoObB][\da-fA-F_]+$/;
const BIGINT = /^-?(?:\d[\d_]*|0[xXoObB][\da-fA-F_]+)n$/;

/** Evaluates a default value written as a literal, without running any code. */
function readLiteral(text: string): Literal {
  switch (text) {
    case "true":
      return { ok: true, value: true };
    case "false":
      return { ok: true, value: false };
    case "null":
    case "undefined":
    case "void 0":
      return { ok: true, value: null };
    case "NaN":
      return { ok: true, value: Number.NaN };
    case "Infinity":
      return { ok: true, value: Number.POSITIVE_INFINITY };
    case "-Infinity":
      return { ok: true, value: Number.NEGATIVE_INFINITY };
    default:
      break;
  }
  if (NUMBER.test(text) || RADIX_NUMBER.test(text)) {
    const negative = text.startsWith("-");
    const digits = text.replace(/^[+-]/, "").replaceAll("_", "");
    const value = Number(digits);
    if (!Number.isNaN(value)) return { ok: true, value: negative ? -value : value };
  }
  if (BIGINT.test(text)) {
    const negative = text.startsWith("-");
    const value = BigInt(text.replace(/^-/, "").replaceAll("_", "").slice(0, -1));
    return { ok: true, value: negative ? -value : value };
  }
  const first = text[0];
  if ((first === "'" || first === '"') && text.length >= 2 && skipNonCode(text, 0) === text.length) {
    return readJson(first === '"' ? text : toDoubleQuoted(text));
  }
  if (first === "`" && !text.includes("${") && skipNonCode(text, 0) === text.length) {
    return readJson(toDoubleQuoted(text));
  }
  if (first === "[" || first === "{") return readJson(text);
  return { ok: false };
}

/** Rewrites a '...' or `...` string literal as a JSON "..." string. */
function toDoubleQuoted(text: string): string {
  const body = text.slice(1, -1);
  let out = '"';
  for (let i = 0; i < body.length; i++) {
    const char = body[i]!;
    if (char === "\\") {
      const next = body[i + 1] ?? "";
      i++;
      out += next === "'" || next === "`" ? next : "\\" + next;
    } else if (char === '"') out += '\\"';
    else if (char === "\n") out += "\\n";
    else out += char;
  }
  return out + '"';
}

function readJson(text: string): Literal {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}
