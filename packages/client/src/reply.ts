// Reading the calling side's reply events (docs/protocol sections 4.3, 6.1, 6.2): OK's value and
// ERR's exception. The only module that knows the shapes of OK and ERR args.
import { ProtocolError } from "@zrpc/wire";
import type { Event } from "@zrpc/wire";
import { RemoteError } from "./errors.js";

const utf8 = new TextDecoder("utf-8");

/** A str, or a bin holding text (a Python 2 peer sends its `str` as bin, docs/protocol section 14). */
function text(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (value instanceof Uint8Array) return utf8.decode(value);
  return undefined;
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return "nil";
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (value instanceof Uint8Array) return "bin";
  return typeof value;
}

/**
 * The value of an `OK` reply: `args[0]`. zerorpc-python raises on an `OK` whose args are not an
 * array (`TypeError`) or are empty (`IndexError`); here both are a `ProtocolError`. Extra elements
 * are ignored, as Python does.
 * @internal
 */
export function okValue(event: Event): { value: unknown } | { error: ProtocolError } {
  const args = event.args;
  if (!Array.isArray(args)) {
    return { error: new ProtocolError("bad-event", `malformed OK reply: args must be an array of one element, got ${describe(args)}`) };
  }
  if (args.length === 0) {
    return { error: new ProtocolError("bad-event", "malformed OK reply: args is empty, expected [result]") };
  }
  return { value: args[0] as unknown };
}

/**
 * The exception carried by an `ERR` reply. Accepts the v2+ shape `[name, message, traceback]`
 * (traceback str or nil) and the v1 shape `[repr]` (what a server sends to a request without
 * `v`), whatever the reply's own `v` says. Anything else (for example 2 elements, where Python
 * raises `ValueError`) is a `ProtocolError`.
 * @internal
 */
export function errError(event: Event): RemoteError | ProtocolError {
  const args = event.args;
  if (!Array.isArray(args)) {
    return new ProtocolError("bad-event", `malformed ERR reply: args must be [name, message, traceback], got ${describe(args)}`);
  }
  if (args.length === 3) {
    const name = text(args[0]);
    const message = text(args[1]);
    const traceback = args[2] === null || args[2] === undefined ? null : text(args[2]);
    if (name === undefined || message === undefined || traceback === undefined) {
      return new ProtocolError(
        "bad-event",
        `malformed ERR reply: [name, message, traceback] must be str, str, str or nil; got ${args.map(describe).join(", ")}`,
      );
    }
    return new RemoteError(name, message, traceback);
  }
  if (args.length === 1) {
    const repr = text(args[0]);
    if (repr !== undefined) {
      const parsed = parseRepr(repr);
      return new RemoteError(parsed.name, parsed.message, null);
    }
  }
  return new ProtocolError(
    "bad-event",
    `malformed ERR reply: expected [name, message, traceback] (or [repr] from a v1 server), got ${describe(args)}`,
  );
}

const REPR = /^([A-Za-z_][\w.]*)\(([\s\S]*)\)$/;
const SINGLE_QUOTED = /^'((?:[^'\\]|\\[\s\S])*)'$/;
const DOUBLE_QUOTED = /^"((?:[^"\\]|\\[\s\S])*)"$/;

/**
 * Splits a Python exception repr (`ValueError('bad input')`) into name and message. A repr that
 * is not of that form keeps its full text as the message, with the name `"Error"`.
 * @internal
 */
export function parseRepr(repr: string): { name: string; message: string } {
  const match = REPR.exec(repr);
  if (match === null) return { name: "Error", message: repr };
  const name = match[1]!;
  const inner = match[2]!;
  const literal = SINGLE_QUOTED.exec(inner) ?? DOUBLE_QUOTED.exec(inner);
  return { name, message: literal === null ? inner : unescapePython(literal[1]!) };
}

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = { n: "\n", r: "\r", t: "\t", "\\": "\\", "'": "'", '"': '"', "0": "\0" };

/** Undoes the escapes Python's `repr` of a str produces (`\\n`, `\\'`, `\\xhh`, `\\uhhhh`, `\\Uhhhhhhhh`). */
function unescapePython(body: string): string {
  return body.replace(/\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[\s\S])/g, (whole, escape: string) => {
    const first = escape[0]!;
    if (first === "x" || first === "u" || first === "U") {
      const code = escape.length > 1 ? Number.parseInt(escape.slice(1), 16) : Number.NaN;
      if (code <= 0x10ffff) return String.fromCodePoint(code);
    }
    return SIMPLE_ESCAPES[escape] ?? whole;
  });
}
