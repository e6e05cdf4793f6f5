// The TestService of docs/protocol/test-service.md on zerorpc-node's server, written with zerorpc-node's API
// as faithfully as it allows. Run with
//   node --import tsx src/node-server.ts ENDPOINT [--heartbeat MS]
// It binds ENDPOINT, prints "READY ENDPOINT", then one JSON object per line for what a test
// should know about (see NodeServerLine). SIGTERM / SIGINT close it.
//
// How zerorpc-node serves an object: every enumerable property that is a `function` and whose
// name does not start with "_" becomes a method; its argument names are read from its source text
// (so methods are `function` expressions, never arrow functions or class methods), the last one
// being the reply callback. The callback is `reply(error)`, `reply(null, value)` for a plain reply,
// or `reply(null, item, true)` per stream item and `reply(null, undefined, false)` to end a stream.
// The service name in `_zerorpc_inspect` is the object's constructor name, hence the class.
import { parseArgs } from "node:util";
import type { Reply } from "zerorpc";
import { expectedTypesJson } from "@zrpc/test-support";
import type { TypedJson } from "@zrpc/test-support";
import { extBuffer, peer } from "./peer.js";
import { typedJsonToJs } from "./typed-json-js.js";
import type { TypedJsonTags } from "./typed-json-js.js";

/** One line of this process's output (after "READY ..."). */
export type NodeServerLine =
  | { event: "start"; zerorpc: string; msgpackLite: string }
  /** A reply threw inside zerorpc-node (it throws "Cannot send on closed channel" once the client is gone). */
  | { event: "reply-threw"; method: string; args: unknown[]; error: string }
  /** The server emitted "error" (heartbeat loss of a client, protocol errors). */
  | { event: "server-error"; error: string }
  | { event: "crash"; error: string };

function print(line: NodeServerLine): void {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** JSON-safe summary of call arguments for the log (Buffers as their length). */
function summary(args: readonly unknown[]): unknown[] {
  return args.map((arg) => (Buffer.isBuffer(arg) ? `<${arg.length} bytes>` : typeof arg === "string" && arg.length > 40 ? `<str of ${arg.length}>` : arg));
}

function pythonError(name: string, message: string): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}

/**
 * The reply callback of one call, from the method's `arguments` (zerorpc-node appends it after
 * whatever the client sent, so it is always the last one), with a Python-like TypeError when the
 * client sent the wrong number of arguments. Returns a reply that reports instead of throwing
 * when zerorpc-node throws (it does once the channel is closed: a reply after the client is gone),
 * and tells whether the reply went out; or undefined after answering the arity error.
 */
function replier(method: string, args: IArguments, arity: number): ((error: unknown, value?: unknown, more?: boolean) => boolean) | undefined {
  const all = Array.prototype.slice.call(args) as unknown[];
  const reply = all.pop() as Reply;
  const guarded = (error: unknown, value?: unknown, more?: boolean): boolean => {
    try {
      reply(error, value, more);
      return true;
    } catch (thrown) {
      print({ event: "reply-threw", method, args: summary(all), error: describe(thrown) });
      return false;
    }
  };
  if (all.length !== arity) {
    const plural = arity === 1 ? "" : "s";
    guarded(pythonError("TypeError", `${method}() takes ${arity} positional argument${plural} but ${all.length} were given`));
    return undefined;
  }
  return guarded;
}

function pythonType(value: unknown): string {
  if (value === null || value === undefined) return "NoneType";
  if (typeof value === "number") return Number.isInteger(value) ? "int" : "float";
  if (typeof value === "string") return "str";
  if (typeof value === "boolean") return "bool";
  if (Buffer.isBuffer(value)) return "bytes";
  return Array.isArray(value) ? "list" : "dict";
}

function count(value: unknown, method: string): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    throw pythonError("TypeError", `${method}() expects a non-negative int, got '${pythonType(value)}'`);
  }
  return value;
}

function patternBuffer(n: number): Buffer {
  const out = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) out[i] = i & 0xff;
  return out;
}

/**
 * A typed-JSON value (the TestService table of @zrpc/test-support) as close as zerorpc-node can
 * send it. It cannot send ints outside int32 as ints (msgpack-lite writes them as float64, and
 * 64-bit values are doubles already), a float64 with an integral value (3.0 goes out as the int
 * 3), or a bin map key (a JS object key is a string: the bytes become latin1 characters); ext
 * values, the timestamp included (ext -1, which msgpack-lite numbers 255), are sent as
 * msgpack-lite ExtBuffers.
 */
const SENT: TypedJsonTags = {
  $int: (inner) => Number(inner),
  $f64: (inner) => Number(inner),
  $bin: (inner) => Buffer.from(inner as string, "hex"),
  $ext: (inner) => {
    const [type, hex] = inner as [number, string];
    return extBuffer(Buffer.from(hex, "hex"), type & 0xff);
  },
  $map: (inner, convert) =>
    Object.fromEntries(
      (inner as [TypedJson, TypedJson][]).map(([key, value]) => {
        const name = convert(key);
        return [Buffer.isBuffer(name) ? name.toString("latin1") : String(name), convert(value)];
      }),
    ),
};

function asSent(json: TypedJson): unknown {
  return typedJsonToJs(json, SENT);
}

/** types(): the map of docs/protocol/test-service.md as close as zerorpc-node can send it (see {@link asSent}). */
function typesValue(): Record<string, unknown> {
  return asSent(expectedTypesJson()) as Record<string, unknown>;
}

/** The service object: its constructor's name is what `_zerorpc_inspect` reports. */
class TestService {}

/* eslint-disable @typescript-eslint/no-unused-vars, prefer-rest-params -- zerorpc-node reads each
   method's parameter names from its source; the reply is taken from `arguments` (see replier). */
const methods = {
  add: function (a: unknown, b: unknown, reply: Reply) {
    const done = replier("add", arguments, 2);
    if (done === undefined) return;
    if (typeof a === "number" && typeof b === "number") done(null, a + b);
    else if (typeof a === "string" && typeof b === "string") done(null, a + b);
    else if (Buffer.isBuffer(a) && Buffer.isBuffer(b)) done(null, Buffer.concat([a, b]));
    else if (Array.isArray(a) && Array.isArray(b)) done(null, [...(a as unknown[]), ...(b as unknown[])]);
    else done(pythonError("TypeError", `unsupported operand type(s) for +: '${pythonType(a)}' and '${pythonType(b)}'`));
  },
  big: function (n: unknown, reply: Reply) {
    const done = replier("big", arguments, 1);
    if (done === undefined) return;
    done(null, patternBuffer(count(n, "big")));
  },
  echo: function (x: unknown, reply: Reply) {
    const done = replier("echo", arguments, 1);
    if (done === undefined) return;
    done(null, x);
  },
  fail: function (msg: unknown, reply: Reply) {
    const done = replier("fail", arguments, 1);
    if (done === undefined) return;
    done(pythonError("ValueError", String(msg)));
  },
  hello: function (name: unknown, reply: Reply) {
    const done = replier("hello", arguments, 1);
    if (done === undefined) return;
    if (typeof name !== "string") done(pythonError("TypeError", `can only concatenate str (not "${pythonType(name)}") to str`));
    else done(null, `Hello, ${name}`);
  },
  range: function (n: unknown, reply: Reply) {
    const done = replier("range", arguments, 1);
    if (done === undefined) return;
    const limit = count(n, "range");
    // zerorpc-node decides reply or stream by the first callback: a first OK would make range(0)
    // a plain reply. `more = true` without an item marks the call as a stream and sends nothing.
    if (!done(null, undefined, true)) return;
    // zerorpc-node queues what the client's credit does not cover yet; it sends on `_zpc_more`.
    for (let i = 0; i < limit; i++) if (!done(null, i, true)) return;
    done(null, undefined, false);
  },
  sleep: function (seconds: unknown, reply: Reply) {
    const done = replier("sleep", arguments, 1);
    if (done === undefined) return;
    if (typeof seconds !== "number" || !Number.isFinite(seconds) || seconds < 0) {
      done(pythonError("ValueError", "sleep length must be a non-negative finite number"));
      return;
    }
    setTimeout(() => done(null, seconds), seconds * 1000);
  },
  types: function (reply: Reply) {
    const done = replier("types", arguments, 0);
    if (done === undefined) return;
    done(null, typesValue());
  },
};
/* eslint-enable @typescript-eslint/no-unused-vars, prefer-rest-params */

function main(argv: readonly string[]): void {
  const { values, positionals } = parseArgs({ args: [...argv], allowPositionals: true, options: { heartbeat: { type: "string" } } });
  const [endpoint] = positionals;
  if (endpoint === undefined || positionals.length > 1) {
    process.stderr.write("usage: node-server ENDPOINT [--heartbeat MS]\n");
    process.exit(2);
  }
  const heartbeatMs = Number(values.heartbeat ?? "1000");
  const server = new (peer().zerorpc.Server)(Object.assign(new TestService(), methods), heartbeatMs);
  // Without a listener, zerorpc-node's "error" (e.g. a client's lost heartbeat) would throw.
  server.on("error", (error: unknown) => print({ event: "server-error", error: describe(error) }));
  server.bind(endpoint);
  process.stdout.write(`READY ${endpoint}\n`);
  print({ event: "start", ...peer().versions });
  const stop = (): void => {
    server.close();
    process.exit(0);
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

process.on("uncaughtException", (error) => {
  print({ event: "crash", error: error.stack ?? describe(error) });
  process.exit(70);
});

main(process.argv.slice(2));
