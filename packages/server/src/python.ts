// Python-flavoured text: the messages zerorpc-python peers and users expect to see in ERR replies
// and introspection results (docs/protocol sections 4.1, 6.2 and 10).
import { Ext, Float64 } from "@zrpc/wire";

/**
 * Python's `repr()` of a str: single quotes unless the text contains a single quote and no double
 * quote; backslash, the quote, `\n`, `\r`, `\t` and other control characters escaped.
 * @internal
 */
export function pythonStrRepr(text: string): string {
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  let out = quote;
  for (const char of text) {
    const code = char.codePointAt(0)!;
    if (char === quote || char === "\\") out += "\\" + char;
    else if (char === "\n") out += "\\n";
    else if (char === "\r") out += "\\r";
    else if (char === "\t") out += "\\t";
    else if (code < 0x20 || code === 0x7f) out += "\\x" + code.toString(16).padStart(2, "0");
    else if (code >= 0x80 && code < 0xa0) out += "\\x" + code.toString(16).padStart(2, "0");
    else out += char;
  }
  return out + quote;
}

/**
 * Python's `repr()` of bytes: `b'...'` with printable ASCII as is and other bytes as `\xNN`.
 * @internal
 */
export function pythonBytesRepr(bytes: Uint8Array): string {
  let hasSingle = false;
  let hasDouble = false;
  for (const byte of bytes) {
    if (byte === 0x27) hasSingle = true;
    else if (byte === 0x22) hasDouble = true;
  }
  const quote = hasSingle && !hasDouble ? '"' : "'";
  let out = "b" + quote;
  for (const byte of bytes) {
    const char = String.fromCharCode(byte);
    if (char === quote || char === "\\") out += "\\" + char;
    else if (byte === 0x0a) out += "\\n";
    else if (byte === 0x0d) out += "\\r";
    else if (byte === 0x09) out += "\\t";
    else if (byte < 0x20 || byte >= 0x7f) out += "\\x" + byte.toString(16).padStart(2, "0");
    else out += char;
  }
  return out + quote;
}

/**
 * `str(KeyError(key))` in Python: the repr of a str or bytes key, the text of anything else. This
 * is the message of the ERR `KeyError` that `_zerorpc_help` / `_zerorpc_args` answer for an
 * unknown method (`"'nope'"`).
 * @internal
 */
export function pythonKeyText(key: unknown): string {
  if (typeof key === "string") return pythonStrRepr(key);
  if (key instanceof Uint8Array) return pythonBytesRepr(key);
  return pythonValueText(key);
}

/**
 * A short Python-like rendering of a decoded wire value, for error messages.
 * @internal
 */
export function pythonValueText(value: unknown): string {
  if (value === null || value === undefined) return "None";
  if (value === true) return "True";
  if (value === false) return "False";
  if (typeof value === "string") return pythonStrRepr(value);
  if (value instanceof Uint8Array) return pythonBytesRepr(value);
  if (value instanceof Float64) return Number.isInteger(value.value) ? value.value.toFixed(1) : String(value.value);
  if (typeof value === "number" || typeof value === "bigint") return String(value);
  return `<${pythonTypeName(value)}>`;
}

/**
 * The Python type name of a decoded wire value: `NoneType`, `bool`, `int`, `float`, `str`,
 * `bytes`, `list`, `dict`, `ExtType`.
 * @internal
 */
export function pythonTypeName(value: unknown): string {
  if (value === null || value === undefined) return "NoneType";
  if (typeof value === "boolean") return "bool";
  if (typeof value === "bigint") return "int";
  if (typeof value === "number") return Number.isInteger(value) ? "int" : "float";
  if (value instanceof Float64) return "float";
  if (typeof value === "string") return "str";
  if (value instanceof Uint8Array) return "bytes";
  if (value instanceof Ext) return "ExtType";
  if (Array.isArray(value)) return "list";
  if (value instanceof Map || typeof value === "object") return "dict";
  return typeof value;
}

/**
 * Python's `repr()` of an exception built from a class name and a message, as a v1 peer gets it
 * in `ERR [repr]` (docs/protocol section 4.1): `ValueError('boom')`, or `ValueError()` when the
 * message is empty.
 * @internal
 */
export function pythonExceptionRepr(name: string, message: string): string {
  return message === "" ? `${name}()` : `${name}(${pythonStrRepr(message)})`;
}

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? "" : "s"}`;
}

/** `'a'`, `'a' and 'b'`, `'a', 'b', and 'c'`: how Python lists missing arguments. */
function pythonNameList(names: readonly string[]): string {
  const quoted = names.map((name) => `'${name}'`);
  if (quoted.length <= 1) return quoted.join("");
  if (quoted.length === 2) return `${quoted[0]} and ${quoted[1]}`;
  return `${quoted.slice(0, -1).join(", ")}, and ${quoted[quoted.length - 1]}`;
}

/**
 * The `TypeError` message CPython gives for a call with the wrong number of positional
 * arguments, or `undefined` when `given` fits:
 * - `add() takes 2 positional arguments but 3 were given`
 * - `add() takes from 1 to 2 positional arguments but 3 were given`
 * - `add() missing 1 required positional argument: 'b'`
 *
 * `arity.names` are the parameter names, `minArity`/`maxArity` how many positional arguments fit.
 * @internal
 */
export function pythonArityMessage(
  method: string,
  arity: { readonly names: readonly string[]; readonly minArity: number; readonly maxArity: number },
  given: number,
): string | undefined {
  const { names, minArity, maxArity } = arity;
  if (given > maxArity) {
    const takes = minArity === maxArity ? plural(maxArity, "positional argument") : `from ${minArity} to ${maxArity} positional arguments`;
    return `${method}() takes ${takes} but ${given} ${given === 1 ? "was" : "were"} given`;
  }
  if (given < minArity) {
    const missing = names.slice(given, minArity);
    return `${method}() missing ${plural(missing.length, "required positional argument")}: ${pythonNameList(missing)}`;
  }
  return undefined;
}

/** Python's `str.expandtabs(8)`: tab stops every 8 columns, columns restart after `\n` / `\r`. */
function expandTabs(text: string): string {
  if (!text.includes("\t")) return text;
  let out = "";
  let column = 0;
  for (const char of text) {
    if (char === "\t") {
      const spaces = 8 - (column % 8);
      out += " ".repeat(spaces);
      column += spaces;
    } else {
      out += char;
      column = char === "\n" || char === "\r" ? 0 : column + 1;
    }
  }
  return out;
}

/** Python's `str.lstrip()` without arguments strips Unicode whitespace, like JS `trimStart`. */
function leadingWhitespace(line: string): number {
  return line.length - line.trimStart().length;
}

/**
 * Python's `inspect.cleandoc`, which zerorpc-python applies to docstrings (docs/protocol section
 * 10): tabs expanded, leading whitespace stripped from the first line, the smallest indentation of
 * the other non-blank lines removed from all of them, blank lines at both ends dropped.
 */
export function cleandoc(doc: string): string {
  const lines = expandTabs(doc).split("\n");
  let margin = Number.POSITIVE_INFINITY;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const indent = leadingWhitespace(line);
    if (indent < line.length) margin = Math.min(margin, indent);
  }
  lines[0] = lines[0]!.trimStart();
  if (margin !== Number.POSITIVE_INFINITY) {
    for (let i = 1; i < lines.length; i++) lines[i] = lines[i]!.slice(margin);
  }
  while (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  while (lines.length > 0 && lines[0] === "") lines.shift();
  return lines.join("\n");
}
