// JSON in and out of `zrpc call`, without losing what msgpack tells apart and JSON.parse /
// JSON.stringify would blur: integers beyond 2^53 (written as literal digits), integral floats
// (`2.0` stays a float), bin, ext and maps with non-string keys (the `$`-tagged objects of the
// golden vectors' typed JSON).
import { Ext, Float64 } from "@zrpc/wire";

/** A JSON text that could not be parsed: `message` says what and where. */
export class JsonSyntaxError extends SyntaxError {
  /** Offset in the text where parsing stopped. */
  readonly position: number;

  /**
   * @param message - what is wrong
   * @param position - offset in the text
   */
  constructor(message: string, position: number) {
    super(message);
    this.name = "JsonSyntaxError";
    this.position = position;
  }
}

const HEX = "0123456789abcdef";

/** Lowercase hex of some bytes. */
export function bytesToHex(bytes: Uint8Array): string {
  let out = "";
  for (const byte of bytes) out += HEX[byte >> 4]! + HEX[byte & 15]!;
  return out;
}

function hexToBytes(hex: string, position: number): Uint8Array {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) {
    throw new JsonSyntaxError(`"$bin" / "$ext" data must be an even-length hex string`, position);
  }
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

const MAX_DEPTH = 512;
/** JSON's number grammar, matched where the parser stands (sticky). */
const NUMBER = /-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/y;

class Parser {
  private index = 0;
  private readonly text: string;

  constructor(text: string) {
    this.text = text;
  }

  parse(): unknown {
    this.skipSpace();
    const value = this.value(0);
    this.skipSpace();
    if (this.index < this.text.length) this.fail(`unexpected ${this.describe()} after the value`);
    return value;
  }

  private fail(message: string): never {
    throw new JsonSyntaxError(`${message} at position ${this.index}`, this.index);
  }

  private describe(): string {
    return this.index >= this.text.length ? "end of input" : `character ${JSON.stringify(this.text[this.index])}`;
  }

  private skipSpace(): void {
    while (this.index < this.text.length) {
      const char = this.text.charCodeAt(this.index);
      if (char !== 0x20 && char !== 0x09 && char !== 0x0a && char !== 0x0d) break;
      this.index += 1;
    }
  }

  private value(depth: number): unknown {
    if (depth > MAX_DEPTH) this.fail("nested too deeply");
    const char = this.text[this.index];
    switch (char) {
      case "{":
        return this.object(depth);
      case "[":
        return this.array(depth);
      case '"':
        return this.string();
      case "t":
        return this.literal("true", true);
      case "f":
        return this.literal("false", false);
      case "n":
        return this.literal("null", null);
      case undefined:
        return this.fail("unexpected end of input");
      default:
        if (char === "-" || (char !== undefined && char >= "0" && char <= "9")) return this.number();
        return this.fail(`unexpected ${this.describe()}`);
    }
  }

  private literal<T>(word: string, value: T): T {
    if (!this.text.startsWith(word, this.index)) this.fail(`unexpected ${this.describe()}`);
    this.index += word.length;
    return value;
  }

  private number(): unknown {
    NUMBER.lastIndex = this.index;
    const match = NUMBER.exec(this.text);
    if (match === null) this.fail("bad number");
    const literal = match[0];
    this.index += literal.length;
    if (match[1] === undefined && match[2] === undefined) {
      // An integer: exact, whatever its size (msgpack carries up to 64 bits; the encoder says so beyond).
      const big = BigInt(literal);
      return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
    }
    // A fraction or an exponent makes a float, as in Python's json: `2.0` and `1e3` travel as float64.
    const value = Number(literal);
    return Number.isInteger(value) || Object.is(value, -0) ? new Float64(value) : value;
  }

  private string(): string {
    this.index += 1;
    let out = "";
    let start = this.index;
    for (;;) {
      if (this.index >= this.text.length) this.fail("unterminated string");
      const code = this.text.charCodeAt(this.index);
      if (code === 0x22) {
        out += this.text.slice(start, this.index);
        this.index += 1;
        return out;
      }
      if (code < 0x20) this.fail("control character in string");
      if (code !== 0x5c) {
        this.index += 1;
        continue;
      }
      out += this.text.slice(start, this.index);
      const escape = this.text[this.index + 1];
      this.index += 2;
      switch (escape) {
        case '"':
        case "\\":
        case "/":
          out += escape;
          break;
        case "b":
          out += "\b";
          break;
        case "f":
          out += "\f";
          break;
        case "n":
          out += "\n";
          break;
        case "r":
          out += "\r";
          break;
        case "t":
          out += "\t";
          break;
        case undefined:
          this.fail("unterminated string");
          break;
        case "u": {
          const hex = this.text.slice(this.index, this.index + 4);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail("bad \\u escape");
          out += String.fromCharCode(Number.parseInt(hex, 16));
          this.index += 4;
          break;
        }
        default:
          this.index -= 1;
          this.fail("bad escape");
      }
      start = this.index;
    }
  }

  private array(depth: number): unknown[] {
    this.index += 1;
    const out: unknown[] = [];
    this.skipSpace();
    if (this.text[this.index] === "]") {
      this.index += 1;
      return out;
    }
    for (;;) {
      this.skipSpace();
      out.push(this.value(depth + 1));
      this.skipSpace();
      const char = this.text[this.index];
      this.index += 1;
      if (char === "]") return out;
      if (char !== ",") {
        this.index -= 1;
        this.fail(`expected , or ] but found ${this.describe()}`);
      }
    }
  }

  private object(depth: number): unknown {
    const start = this.index;
    this.index += 1;
    const out: Record<string, unknown> = {};
    const keys: string[] = [];
    this.skipSpace();
    if (this.text[this.index] === "}") {
      this.index += 1;
      return out;
    }
    for (;;) {
      this.skipSpace();
      if (this.text[this.index] !== '"') this.fail(`expected a string key but found ${this.describe()}`);
      const key = this.string();
      this.skipSpace();
      if (this.text[this.index] !== ":") this.fail(`expected : but found ${this.describe()}`);
      this.index += 1;
      this.skipSpace();
      const value = this.value(depth + 1);
      // defineProperty: a "__proto__" key is data, not the prototype.
      Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
      keys.push(key);
      this.skipSpace();
      const char = this.text[this.index];
      this.index += 1;
      if (char === "}") return keys.length === 1 ? tagged(keys[0]!, out[keys[0]!], start) ?? out : out;
      if (char !== ",") {
        this.index -= 1;
        this.fail(`expected , or } but found ${this.describe()}`);
      }
    }
  }
}

/** The value of a `{"$bin": ...}`, `{"$ext": ...}` or `{"$map": ...}` object, or undefined for a plain one. */
function tagged(key: string, value: unknown, position: number): unknown {
  switch (key) {
    case "$bin":
      if (typeof value !== "string") throw new JsonSyntaxError(`"$bin" needs a hex string at position ${position}`, position);
      return hexToBytes(value, position);
    case "$ext": {
      if (!Array.isArray(value) || value.length !== 2 || typeof value[0] !== "number" || typeof value[1] !== "string") {
        throw new JsonSyntaxError(`"$ext" needs [type, hex] at position ${position}`, position);
      }
      try {
        return new Ext(value[0], hexToBytes(value[1], position));
      } catch (error) {
        throw new JsonSyntaxError(`"$ext": ${(error as Error).message} at position ${position}`, position);
      }
    }
    case "$map": {
      const pairs = Array.isArray(value) ? value : [];
      if (!Array.isArray(value) || !pairs.every((pair) => Array.isArray(pair) && pair.length === 2)) {
        throw new JsonSyntaxError(`"$map" needs [[key, value], ...] at position ${position}`, position);
      }
      return new Map(pairs as [unknown, unknown][]);
    }
    default:
      return undefined;
  }
}

/**
 * Parses JSON for `zrpc call` arguments, keeping what msgpack distinguishes:
 * - an integer is a `number`, or a `bigint` beyond 2^53 - 1 (exact digits, e.g. uint64 ids);
 * - a number with a fraction or exponent is a float: `Float64` when integral (`2.0`, `1e3`), so it
 *   is sent as float64 and not as an int;
 * - `{"$bin": "00ff"}` is bin (a `Uint8Array`), `{"$ext": [type, "hex"]}` an ext, and
 *   `{"$map": [[key, value], ...]}` a map with any keys (an object with one of these as its only
 *   key; anything else is a plain object).
 * Throws {@link JsonSyntaxError} for text that is not JSON.
 */
export function parseJson(text: string): unknown {
  return new Parser(text).parse();
}

function isFloat64(value: object): value is Float64 {
  return value instanceof Float64 || (value as Record<symbol, unknown>)[Symbol.for("zrpc.Float64")] === true;
}

function isExt(value: object): value is Ext {
  return value instanceof Ext || (value as Record<symbol, unknown>)[Symbol.for("zrpc.Ext")] === true;
}

/** A float as a JSON-ish literal that reads back as a float: `2.0`, `-0.0`, `1.5`, `1e+21`, `NaN`, `Infinity`. */
function formatFloat(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Number.POSITIVE_INFINITY) return "Infinity";
  if (value === Number.NEGATIVE_INFINITY) return "-Infinity";
  if (Object.is(value, -0)) return "-0.0";
  const text = String(value);
  return /[.eE]/.test(text) ? text : `${text}.0`;
}

/** Keys that would read back as a typed value: such an object is written as `{"$map": ...}`. */
const TAGS = new Set(["$bin", "$ext", "$map"]);

function format(value: unknown, seen: Set<object>): string {
  switch (typeof value) {
    case "undefined":
      return "null";
    case "boolean":
      return value ? "true" : "false";
    case "string":
      return JSON.stringify(value);
    case "number":
      return Number.isSafeInteger(value) && !Object.is(value, -0) ? String(value) : formatFloat(value);
    case "bigint":
      return value.toString();
    case "object": {
      if (value === null) return "null";
      if (seen.has(value)) throw new TypeError("cannot format a cyclic value");
      seen.add(value);
      try {
        return formatObject(value, seen);
      } finally {
        seen.delete(value);
      }
    }
    case "symbol":
    case "function":
      throw new TypeError(`cannot format a ${typeof value}`);
  }
}

function formatObject(value: object, seen: Set<object>): string {
  if (isFloat64(value)) return formatFloat(value.value);
  if (value instanceof Uint8Array) return `{"$bin":"${bytesToHex(value)}"}`;
  if (value instanceof ArrayBuffer) return `{"$bin":"${bytesToHex(new Uint8Array(value))}"}`;
  if (isExt(value)) return `{"$ext":[${value.type},"${bytesToHex(value.data)}"]}`;
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) return `[${value.map((item) => format(item, seen)).join(",")}]`;
  if (value instanceof Map) {
    const entries = [...(value as Map<unknown, unknown>).entries()];
    if (entries.every(([key]) => typeof key === "string") && !(entries.length === 1 && TAGS.has(entries[0]![0] as string))) {
      return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${format(item, seen)}`).join(",")}}`;
    }
    return `{"$map":[${entries.map(([key, item]) => `[${format(key, seen)},${format(item, seen)}]`).join(",")}]}`;
  }
  const keys = Object.keys(value);
  const record = value as Record<string, unknown>;
  if (keys.length === 1 && TAGS.has(keys[0]!)) {
    return `{"$map":[[${JSON.stringify(keys[0])},${format(record[keys[0]!], seen)}]]}`;
  }
  return `{${keys.map((key) => `${JSON.stringify(key)}:${format(record[key], seen)}`).join(",")}}`;
}

/**
 * Formats a decoded msgpack value as one line of JSON, the inverse of {@link parseJson}:
 * integers as digits whatever their size (`18446744073709551615`), floats always with a fraction
 * or exponent (`2.0`; `NaN`, `Infinity` and `-Infinity` as Python's `json` writes them),
 * bin as `{"$bin": "<hex>"}`, ext as `{"$ext": [type, "<hex>"]}` (timestamps are ext -1), a map
 * with non-string keys as `{"$map": [[key, value], ...]}`, a `Date` as its ISO string.
 */
export function formatJson(value: unknown): string {
  return format(value, new Set());
}
