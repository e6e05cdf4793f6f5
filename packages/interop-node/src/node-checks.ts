// The checks zerorpc-node's client runs against a TestService server (ours), in the spirit of
// docs/protocol/test-service.md "What the checks cover", spelled with zerorpc-node's API (`client.invoke`).
// Longer than 600 lines on purpose: one cohesive table of short, independent checks in checklist
// order (see below for what each value check looks at).
//
// A zerorpc-node program holds plain JS values (numbers, strings, Buffers, objects), encoded and
// decoded by msgpack-lite. So each value check looks at three things:
//   1. the JS value the callback got equals the JS value that was sent (what a user sees);
//   2. the request on the wire has the msgpack types a zerorpc-python client would send for it
//      (the bytes msgpack-lite produced, decoded again losslessly with @zrpc/wire);
//   3. the reply on the wire carries back exactly what the request carried (our server's job).
// A failure of 1 or 2 is zerorpc-node's (listed in expected-failures/), a failure of 3 ours.
import { inspect } from "node:util";
import type { Client, ClientOptions, ZerorpcError } from "zerorpc";
import {
  CheckFailure,
  TEST_METHODS,
  TEST_METHOD_NAMES,
  TEST_SERVICE_NAME,
  eventArgsLayout,
  expectedTypesJson,
  patternBytes,
  stringifyTypedJson,
  toTypedJson,
} from "@zrpc/conformance";
import type { TypedJson } from "@zrpc/conformance";
import { decodeEvent } from "@zrpc/wire";
import type { Event } from "@zrpc/wire";
import { extBuffer, isExtBuffer } from "./peer.js";
import { typedJsonToJs } from "./typed-json-js.js";
import type { TypedJsonTags } from "./typed-json-js.js";
import { channelWire, forgetChannel, lastRequestId } from "./wire-spy.js";
import type { ChannelWire } from "./wire-spy.js";

/** What a check gets to work with. */
export interface NodeCheckContext {
  /** The endpoint of the TestService under test. */
  readonly endpoint: string;
  /** Heartbeat interval of the zerorpc-node clients, in ms (1000). */
  readonly heartbeatMs: number;
  /**
   * A new zerorpc-node client connected to the endpoint (`heartbeatInterval` = heartbeatMs,
   * timeout 30 s unless `options` says otherwise). Closed when the check ends; an "error" event
   * it emits fails the check.
   */
  client(options?: ClientOptions): Client;
  /** Reports stream progress (a `progress` line on stdout), for observers of long streams. */
  progress(items: number): void;
}

/** One named check: `run` resolves when it passes and throws a CheckFailure when it fails. */
export interface NodeCheck {
  readonly name: string;
  /** Run alone (large payloads), after the ordinary checks. */
  readonly exclusive?: boolean;
  /** Run after every other check. */
  readonly last?: boolean;
  /** Time budget in ms (default 30 s). */
  readonly timeoutMs?: number;
  run(ctx: NodeCheckContext): Promise<void>;
}

/** The outcome of one `invoke`, with what went over the wire for it. */
export interface InvokeResult {
  readonly error: ZerorpcError | undefined;
  /** The value of the final callback (the OK value; undefined after STREAM_DONE or an error). */
  readonly value: unknown;
  /** Values of the callbacks with `more = true` (stream items). */
  readonly items: unknown[];
  readonly wire: ChannelWire;
  readonly elapsedMs: number;
}

export interface InvokeOptions {
  /** zerorpc-node's per-call timeout, in (whole) seconds. */
  readonly timeout?: number;
  /** Called after each stream item with the count so far. */
  readonly onItem?: (count: number) => void;
}

/**
 * `client.invoke(method, ...args, callback)` as a promise, resolved by the final callback (an
 * error, an OK, or the end of a stream).
 */
export function invoke(client: Client, method: string, args: readonly unknown[], options: InvokeOptions = {}): Promise<InvokeResult> {
  const started = Date.now();
  const items: unknown[] = [];
  return new Promise<InvokeResult>((resolve) => {
    const channel: { id?: string } = {};
    let settled = false;
    const callback = (error: ZerorpcError | undefined, value: unknown, more: boolean): void => {
      if (settled) return;
      if (error === undefined && more) {
        items.push(value);
        options.onItem?.(items.length);
        return;
      }
      settled = true;
      const wire = channelWire(channel.id ?? "");
      // Let the record go once the call is over (late heartbeats are not recorded again).
      setImmediate(() => forgetChannel(wire.id));
      resolve({ error, value, items, wire, elapsedMs: Date.now() - started });
    };
    const head: unknown[] = options.timeout === undefined ? [method] : [{ timeout: options.timeout }, method];
    client.invoke(...head, ...args, callback);
    // invoke encoded and sent the request synchronously: the last request is this call's.
    channel.id = lastRequestId();
    if (channel.id === undefined) throw new Error("zerorpc-node sent no request");
  });
}

// ------------------------------------------------------------------ assertions

function fail(reason: string): never {
  throw new CheckFailure(reason);
}

function check(condition: boolean, reason: string | (() => string)): asserts condition {
  if (!condition) fail(typeof reason === "string" ? reason : reason());
}

/** Short text of a JS value for a reason. */
export function showJs(value: unknown): string {
  return inspect(value, { depth: 3, breakLength: Infinity, maxArrayLength: 8, maxStringLength: 60, compact: true });
}

function showTyped(json: TypedJson): string {
  const text = stringifyTypedJson(json);
  return text.length > 160 ? `${text.slice(0, 160)}... (${text.length} chars)` : text;
}

/**
 * Where two JS values differ (undefined when equal): numbers by Object.is (NaN equals NaN, -0
 * differs from 0), bytes by content (a Buffer never equals a string), arrays and plain objects
 * element by element (object key order included), ExtBuffers by type and bytes, Dates by time,
 * bigints only equal to bigints.
 */
export function jsDifference(actual: unknown, expected: unknown, path = "$"): string | undefined {
  const here = (): string => `${path}: expected ${showJs(expected)}, got ${showJs(actual)}`;
  if (typeof expected !== typeof actual) return here();
  if (typeof expected === "number") return Object.is(actual, expected) ? undefined : here();
  if (typeof expected !== "object" || expected === null || actual === null) return actual === expected ? undefined : here();
  if (expected instanceof Uint8Array) {
    if (!(actual instanceof Uint8Array)) return here();
    return Buffer.from(actual.buffer, actual.byteOffset, actual.byteLength).equals(expected) ? undefined : here();
  }
  if (expected instanceof Map) {
    if (!(actual instanceof Map)) return here();
    return jsDifference([...(actual as Map<unknown, unknown>).entries()], [...(expected as Map<unknown, unknown>).entries()], `${path}.entries`);
  }
  if (expected instanceof Date) return actual instanceof Date && actual.getTime() === expected.getTime() ? undefined : here();
  if (isExtBuffer(expected)) {
    return isExtBuffer(actual) && actual.type === expected.type && actual.buffer.equals(expected.buffer) ? undefined : here();
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual) || actual.length !== expected.length) return here();
    for (let i = 0; i < expected.length; i++) {
      const difference = jsDifference(actual[i], expected[i], `${path}[${i}]`);
      if (difference !== undefined) return difference;
    }
    return undefined;
  }
  if (Array.isArray(actual) || Object.getPrototypeOf(actual) !== Object.prototype) return here();
  const keys = Object.keys(expected);
  const actualKeys = Object.keys(actual as object);
  if (keys.join("\u0000") !== actualKeys.join("\u0000")) return `${path}: expected keys ${showJs(keys)}, got ${showJs(actualKeys)}`;
  for (const key of keys) {
    const difference = jsDifference((actual as Record<string, unknown>)[key], (expected as Record<string, unknown>)[key], `${path}.${key}`);
    if (difference !== undefined) return difference;
  }
  return undefined;
}

function expectJs(actual: unknown, expected: unknown, what: string): void {
  const difference = jsDifference(actual, expected);
  if (difference !== undefined) fail(`${what}: ${difference}`);
}

function expectNoError(result: InvokeResult, what: string): void {
  if (result.error !== undefined) fail(`${what}: ${result.error.name}: ${result.error.message}`);
}

/** The decoded events of a channel's replies. */
function replyEvents(wire: ChannelWire): Event[] {
  return wire.replies.map((bytes) => decodeEvent(bytes));
}

/** args[0] of the request, decoded losslessly, in typed JSON. */
function requestArgTyped(wire: ChannelWire, index = 0): TypedJson {
  check(wire.request !== undefined, "no request was recorded");
  const args = decodeEvent(wire.request).args;
  check(Array.isArray(args), () => `request args are not an array: ${showJs(args)}`);
  return toTypedJson(args[index]);
}

/** The OK value on the wire, decoded losslessly, in typed JSON. */
function okValueTyped(wire: ChannelWire): TypedJson {
  const events = replyEvents(wire);
  const ok = events.find((event) => event.name === "OK");
  check(ok !== undefined, () => `no OK reply on the wire (got ${showJs(events.map((event) => event.name))})`);
  check(Array.isArray(ok.args) && ok.args.length === 1, () => `OK args are not [value]: ${showJs(ok.args)}`);
  return toTypedJson(ok.args[0]);
}

function sameTyped(a: TypedJson, b: TypedJson): boolean {
  return stringifyTypedJson(a) === stringifyTypedJson(b);
}

async function call(client: Client, method: string, args: readonly unknown[]): Promise<unknown> {
  const result = await invoke(client, method, args);
  expectNoError(result, `${method}(${args.map((arg) => showJs(arg)).join(", ")})`);
  return result.value;
}

async function expectStillServing(client: Client, what: string): Promise<void> {
  const result = await invoke(client, "echo", ["still here"]);
  if (result.error !== undefined) fail(`${what}: echo failed: ${result.error.name}: ${result.error.message}`);
  expectJs(result.value, "still here", `${what}: echo`);
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

// ------------------------------------------------------------------ echo

interface EchoCase {
  readonly label: string;
  /** The JS value a zerorpc-node program sends. */
  readonly send: () => unknown;
  /** The msgpack value a zerorpc-python client would send for it, in typed JSON. */
  readonly wire: TypedJson;
}

const KIB = 1024;
const MIB = 1024 * 1024;

function hexBuffer(hex: string): Buffer {
  return Buffer.from(hex, "hex");
}

/** A mixed array of values every zerorpc peer can carry exactly. */
function portableArray(): { send: () => unknown; wire: TypedJson } {
  return {
    send: () => [
      null, true, false, 0, 1, 127, 128, 255, 256, 65535, 65536, 2147483647,
      -1, -32, -33, -128, -129, -32768, -32769, -2147483648,
      1.5, -0.25, "", "hello", "h\u00e9llo \u2603 \u{1d11e}", Buffer.alloc(0), hexBuffer("0001feff"),
      [1, [2, [3, []]]], { a: 1, b: [true, null], c: { d: "e" } },
    ],
    wire: [
      null, true, false, 0, 1, 127, 128, 255, 256, 65535, 65536, 2147483647,
      -1, -32, -33, -128, -129, -32768, -32769, -2147483648,
      { $f64: 1.5 }, { $f64: -0.25 }, "", "hello", "h\u00e9llo \u2603 \u{1d11e}", { $bin: "" }, { $bin: "0001feff" },
      [1, [2, [3, []]]], { a: 1, b: [true, null], c: { d: "e" } },
    ],
  };
}

const ECHO_CASES: readonly EchoCase[] = [
  { label: "nil", send: () => null, wire: null },
  { label: "true", send: () => true, wire: true },
  { label: "false", send: () => false, wire: false },
  { label: "posfixint 0 and 127", send: () => [0, 127], wire: [0, 127] },
  { label: "uint8 128 and 255", send: () => [128, 255], wire: [128, 255] },
  { label: "uint16 256 and 65535", send: () => [256, 65535], wire: [256, 65535] },
  { label: "uint32 65536 and 2147483647 (inside int32)", send: () => [65536, 2147483647], wire: [65536, 2147483647] },
  { label: "uint32 2147483648 and 4294967295 (beyond int32)", send: () => [2147483648, 4294967295], wire: [2147483648, 4294967295] },
  { label: "uint64 2^32 and 2^53-1", send: () => [4294967296, Number.MAX_SAFE_INTEGER], wire: [4294967296, Number.MAX_SAFE_INTEGER] },
  { label: "negfixint -1 and -32", send: () => [-1, -32], wire: [-1, -32] },
  { label: "int8 -33 and -128", send: () => [-33, -128], wire: [-33, -128] },
  { label: "int16 -129 and -32768", send: () => [-129, -32768], wire: [-129, -32768] },
  { label: "int32 -32769 and -2147483648", send: () => [-32769, -2147483648], wire: [-32769, -2147483648] },
  { label: "int64 -2147483649 and -(2^53-1)", send: () => [-2147483649, -Number.MAX_SAFE_INTEGER], wire: [-2147483649, -Number.MAX_SAFE_INTEGER] },
  { label: "float64 1.5 and -0.25", send: () => [1.5, -0.25], wire: [{ $f64: 1.5 }, { $f64: -0.25 }] },
  { label: "float64 2.0 stays float64", send: () => 2.0, wire: { $f64: 2 } },
  { label: "float64 -0.0 stays -0.0", send: () => -0, wire: { $f64: -0 } },
  {
    label: "float64 pi, 1e300, 5e-324",
    send: () => [Math.PI, 1e300, 5e-324],
    wire: [{ $f64: Math.PI }, { $f64: 1e300 }, { $f64: 5e-324 }],
  },
  {
    label: "float64 NaN, +Infinity, -Infinity",
    send: () => [NaN, Infinity, -Infinity],
    wire: [{ $f64: "NaN" }, { $f64: "Infinity" }, { $f64: "-Infinity" }],
  },
  { label: "str empty", send: () => "", wire: "" },
  { label: "str fixstr", send: () => "hello", wire: "hello" },
  { label: "str8 (40 chars)", send: () => "s".repeat(40), wire: "s".repeat(40) },
  { label: "str16 (300 chars)", send: () => "t".repeat(300), wire: "t".repeat(300) },
  { label: "str unicode incl. non-BMP", send: () => "h\u00e9llo w\u00f6rld \u2603 \u{1d11e}", wire: "h\u00e9llo w\u00f6rld \u2603 \u{1d11e}" },
  { label: "str 64 KiB", send: () => "x".repeat(64 * KIB), wire: "x".repeat(64 * KIB) },
  { label: "str that looks like bytes stays str", send: () => "\u0000\u0001\u00fe\u00ff", wire: "\u0000\u0001\u00fe\u00ff" },
  { label: "bin empty", send: () => Buffer.alloc(0), wire: { $bin: "" } },
  { label: "bin 00 01 fe ff", send: () => hexBuffer("0001feff"), wire: { $bin: "0001feff" } },
  { label: "bin that is valid UTF-8 stays bin", send: () => Buffer.from("hello"), wire: { $bin: "68656c6c6f" } },
  { label: "bin 64 KiB", send: () => Buffer.alloc(64 * KIB, 0xab), wire: { $bin: "ab".repeat(64 * KIB) } },
  { label: "array empty", send: () => [], wire: [] },
  { label: "array16 (20 items)", send: () => range(20), wire: range(20) },
  { label: "array32 (70000 items)", send: () => range(70_000), wire: range(70_000) },
  { label: "nested arrays", send: () => [1, [2, [3, [4, [5, []]]]], [[[]]]], wire: [1, [2, [3, [4, [5, []]]]], [[[]]]] },
  { label: "map empty", send: () => ({}), wire: {} },
  {
    label: "map nested",
    send: () => ({ a: 1, b: [true, null], c: { d: "e", f: { g: { h: [] } } } }),
    wire: { a: 1, b: [true, null], c: { d: "e", f: { g: { h: [] } } } },
  },
  {
    label: "map16 keeps key order",
    send: () => Object.fromEntries(range(17).map((i) => [`k${String(16 - i).padStart(2, "0")}`, i])),
    wire: Object.fromEntries(range(17).map((i) => [`k${String(16 - i).padStart(2, "0")}`, i])),
  },
  { label: "map with a $-prefixed str key", send: () => ({ $int: "not an int" }), wire: { $map: [["$int", "not an int"]] } },
  { label: "ext type 5 (3 bytes)", send: () => extBuffer(hexBuffer("010203"), 5), wire: { $ext: [5, "010203"] } },
  {
    label: "ext types 0, 16, 30 and 127 (outside the types msgpack-lite claims, 1-15 and 17-29)",
    send: () => [
      extBuffer(hexBuffer("ff"), 0),
      extBuffer(hexBuffer("0102"), 16),
      extBuffer(hexBuffer("010203"), 30),
      extBuffer(hexBuffer("00112233"), 127),
    ],
    wire: [{ $ext: [0, "ff"] }, { $ext: [16, "0102"] }, { $ext: [30, "010203"] }, { $ext: [127, "00112233"] }],
  },
  { label: "ext type 20 (3 bytes)", send: () => extBuffer(hexBuffer("010203"), 20), wire: { $ext: [20, "010203"] } },
  {
    label: "timestamp32 as msgpack-lite holds it (ExtBuffer type 255 = ext -1)",
    send: () => extBuffer(hexBuffer("6553f100"), 255),
    wire: { $ext: [-1, "6553f100"] },
  },
  { label: "a Date goes out as a msgpack timestamp (ext -1)", send: () => new Date(1_700_000_000_000), wire: { $ext: [-1, "6553f100"] } },
  { label: "every portable type in one array", ...portableArray() },
];

function echoChecks(): NodeCheck[] {
  return ECHO_CASES.map((item) => ({
    name: `echo ${item.label}`,
    async run(ctx: NodeCheckContext) {
      const client = ctx.client();
      const sent = item.send();
      const result = await invoke(client, "echo", [sent]);
      expectNoError(result, "echo");
      // 3 first: our server must send back exactly what it got. When it did not, that is the
      // only reason given (an expected-failure entry matching zerorpc-node's defects below must
      // not cover a fault of ours).
      const request = requestArgTyped(result.wire);
      const reply = okValueTyped(result.wire);
      if (!sameTyped(reply, request)) fail(`server replied ${showTyped(reply)} to ${showTyped(request)}`);
      const problems: string[] = [];
      // 2: what msgpack-lite put on the wire, against what zerorpc-python would have.
      if (!sameTyped(request, item.wire)) problems.push(`msgpack-lite sent ${showTyped(request)} where zerorpc-python sends ${showTyped(item.wire)}`);
      // 1: what the zerorpc-node program got back.
      const difference = jsDifference(result.value, sent);
      if (difference !== undefined) problems.push(`zerorpc-node returned a different JS value (${difference})`);
      if (problems.length > 0) fail(problems.join("; "));
    },
  }));
}

function formatChecks(): NodeCheck[] {
  return [
    {
      name: "echo keeps the msgpack formats of the request on the wire",
      async run(ctx) {
        const result = await invoke(ctx.client(), "echo", [portableArray().send()]);
        expectNoError(result, "echo");
        const ok = result.wire.replies[result.wire.replyNames.indexOf("OK")];
        check(ok !== undefined && result.wire.request !== undefined, "no OK reply on the wire");
        const sent = eventArgsLayout(result.wire.request);
        const got = eventArgsLayout(ok);
        const at = sent.findIndex((format, i) => got[i] !== format);
        check(
          at === -1 && sent.length === got.length,
          () => `reply formats differ from the request's at value #${at}: sent ${String(sent[at])}, got ${String(got[at])}`,
        );
      },
    },
  ];
}

// ------------------------------------------------------------------ values

/** A msgpack timestamp (ext -1; 4, 8 or 12 data bytes) as a Date. */
function timestampDate(data: Buffer): Date {
  if (data.length === 4) return new Date(data.readUInt32BE(0) * 1000);
  if (data.length === 8) {
    const high = data.readUInt32BE(0);
    const seconds = (high & 0x3) * 2 ** 32 + data.readUInt32BE(4);
    return new Date(seconds * 1000 + Math.floor((high >>> 2) / 1e6));
  }
  return new Date(Number(data.readBigInt64BE(4)) * 1000 + Math.floor(data.readUInt32BE(0) / 1e6));
}

/**
 * A typed-JSON value (the TestService contract in @zrpc/test-support) as a zerorpc-node program
 * holds it once received: integers beyond 2^53 as BigInt, bin as Buffer, ext as an ExtBuffer, the
 * timestamp as a Date, a map with non-str keys as a Map.
 */
const RECEIVED: TypedJsonTags = {
  $int: (inner) => (Number.isSafeInteger(Number(inner)) ? Number(inner) : BigInt(inner as string)),
  $f64: (inner) => Number(inner),
  $bin: (inner) => hexBuffer(inner as string),
  $ext: (inner) => {
    const [type, hex] = inner as [number, string];
    return type === -1 ? timestampDate(hexBuffer(hex)) : extBuffer(hexBuffer(hex), type);
  },
  $map: (inner, convert) => new Map((inner as [TypedJson, TypedJson][]).map(([key, value]) => [convert(key), convert(value)])),
};

function asReceived(json: TypedJson): unknown {
  return typedJsonToJs(json, RECEIVED);
}

/** types() as a zerorpc-node program would expect to hold it (exact values where JS has them). */
function expectedTypesJs(): Record<string, unknown> {
  return asReceived(expectedTypesJson()) as Record<string, unknown>;
}

/** The keys of types() whose JS spelling zerorpc-node cannot hold, each checked on its own. */
const TYPES_SPECIAL: Readonly<Record<string, string>> = {
  uint64: "types(): uint64 max and int64 min decode exactly (as BigInt)",
  int64: "types(): uint64 max and int64 min decode exactly (as BigInt)",
  map_bin_key: "types(): a bin map key stays bin",
  ext: "types(): ext type 5 decodes as ext data",
  timestamp: "types(): the timestamp (ext -1) decodes as a Date",
};

async function typesValue(ctx: NodeCheckContext): Promise<{ value: Record<string, unknown>; wire: ChannelWire }> {
  const client = ctx.client();
  const result = await invoke(client, "types", []);
  expectNoError(result, "types()");
  check(typeof result.value === "object" && result.value !== null, () => `types() returned ${showJs(result.value)}`);
  return { value: result.value as Record<string, unknown>, wire: result.wire };
}

function typesKeyCheck(name: string, keys: readonly string[], explain: (key: string, got: unknown) => string | undefined): NodeCheck {
  return {
    name,
    async run(ctx) {
      const { value } = await typesValue(ctx);
      const expected = expectedTypesJs();
      const problems: string[] = [];
      for (const key of keys) {
        const got = value[key];
        const difference = explain(key, got) ?? jsDifference(got, expected[key], key);
        if (difference !== undefined) problems.push(difference);
      }
      if (problems.length > 0) fail(problems.join("; "));
    },
  };
}

function valueChecks(): NodeCheck[] {
  const plainKeys = Object.keys(expectedTypesJs()).filter((key) => TYPES_SPECIAL[key] === undefined);
  return [
    {
      name: "types() reply on the wire is exact (types, values, key order)",
      async run(ctx) {
        const { wire } = await typesValue(ctx);
        const got = okValueTyped(wire);
        check(sameTyped(got, expectedTypesJson()), () => `types() on the wire: expected ${showTyped(expectedTypesJson())}, got ${showTyped(got)}`);
      },
    },
    {
      name: "types(): every value a JS program can hold exactly decodes to it (in key order)",
      async run(ctx) {
        const { value } = await typesValue(ctx);
        const expected = expectedTypesJs();
        const subset = (source: Record<string, unknown>): Record<string, unknown> =>
          Object.fromEntries(Object.keys(source).filter((key) => plainKeys.includes(key)).map((key) => [key, source[key]]));
        expectJs(subset(value), subset(expected), "types()");
      },
    },
    typesKeyCheck(TYPES_SPECIAL.uint64!, ["uint64", "int64"], (key, got) =>
      typeof got === "bigint" ? undefined : `${key}: got the ${typeof got} ${showJs(got)}, not an exact integer`,
    ),
    typesKeyCheck(TYPES_SPECIAL.map_bin_key!, ["map_bin_key"], (key, got) => {
      if (got instanceof Map && [...(got as Map<unknown, unknown>).keys()].every((k) => Buffer.isBuffer(k))) return undefined;
      return `${key}: got ${showJs(got)}`;
    }),
    typesKeyCheck(TYPES_SPECIAL.ext!, ["ext"], (key, got) => (isExtBuffer(got) ? undefined : `${key}: got ${Object.prototype.toString.call(got)} ${showJs(got)}`)),
    typesKeyCheck(TYPES_SPECIAL.timestamp!, ["timestamp"], (key, got) => (got instanceof Date ? undefined : `${key}: got ${showJs(got)}`)),
    {
      name: "add(2, 3) = 5",
      async run(ctx) {
        expectJs(await call(ctx.client(), "add", [2, 3]), 5, "add(2, 3)");
      },
    },
    {
      name: "add(2**31, 2**31) = 2**32, an int on the wire",
      async run(ctx) {
        const result = await invoke(ctx.client(), "add", [2 ** 31, 2 ** 31]);
        expectNoError(result, "add");
        expectJs(result.value, 2 ** 32, "add(2**31, 2**31)");
        const request = requestArgTyped(result.wire);
        const reply = okValueTyped(result.wire);
        check(sameTyped(reply, 4294967296), () => `the sum came back as ${showTyped(reply)}, because the arguments went out as ${showTyped(request)} (x2)`);
      },
    },
    {
      name: "add floats: 1.5 + 2.25 = 3.75",
      async run(ctx) {
        const result = await invoke(ctx.client(), "add", [1.5, 2.25]);
        expectNoError(result, "add");
        expectJs(result.value, 3.75, "add(1.5, 2.25)");
        check(sameTyped(okValueTyped(result.wire), { $f64: 3.75 }), "the sum is not a float64 on the wire");
      },
    },
    {
      name: 'add strings: add("ab", "cd") = "abcd"',
      async run(ctx) {
        expectJs(await call(ctx.client(), "add", ["ab", "cd"]), "abcd", 'add("ab", "cd")');
      },
    },
    {
      name: "hello(name) with unicode",
      async run(ctx) {
        const client = ctx.client();
        expectJs(await call(client, "hello", ["Zo\u00eb \u2603"]), "Hello, Zo\u00eb \u2603", "hello");
        expectJs(await call(client, "hello", ["world"]), "Hello, world", "hello");
      },
    },
    {
      name: "sleep returns its argument",
      async run(ctx) {
        const client = ctx.client();
        expectJs(await call(client, "sleep", [0]), 0, "sleep(0)");
        expectJs(await call(client, "sleep", [0.05]), 0.05, "sleep(0.05)");
      },
    },
    {
      name: "big(n): n bytes, byte i = i % 256",
      async run(ctx) {
        const client = ctx.client();
        expectJs(await call(client, "big", [0]), Buffer.alloc(0), "big(0)");
        expectJs(await call(client, "big", [300]), Buffer.from(patternBytes(300)), "big(300)");
      },
    },
  ];
}

// ------------------------------------------------------------------ load

function loadChecks(): NodeCheck[] {
  return [
    {
      name: "1,000 sequential calls",
      async run(ctx) {
        const client = ctx.client();
        for (let i = 0; i < 1000; i++) {
          const result = await call(client, "add", [i, 1]);
          if (result !== i + 1) fail(`call #${i}: add(${i}, 1) returned ${showJs(result)}`);
        }
      },
    },
    {
      name: "200 concurrent calls on one client",
      async run(ctx) {
        const client = ctx.client();
        const results = await Promise.all(range(200).map((i) => call(client, "echo", [`call ${i}`])));
        results.forEach((result, i) => expectJs(result, `call ${i}`, `call #${i}`));
      },
    },
    {
      name: "5 clients at once (20 calls and a stream each)",
      async run(ctx) {
        const clients = range(5).map(() => ctx.client());
        await Promise.all(
          clients.map(async (client, c) => {
            const calls = Promise.all(range(20).map((i) => call(client, "add", [c * 1000, i])));
            const stream = invoke(client, "range", [50]);
            const [sums, streamed] = await Promise.all([calls, stream]);
            sums.forEach((sum, i) => expectJs(sum, c * 1000 + i, `client ${c} call ${i}`));
            expectRange(streamed, 50, `client ${c} range(50)`);
          }),
        );
      },
    },
    {
      name: "calls run concurrently: 50 x sleep(0.5) in well under 5 s",
      async run(ctx) {
        const client = ctx.client();
        const started = Date.now();
        const results = await Promise.all(range(50).map(() => call(client, "sleep", [0.5])));
        const elapsed = Date.now() - started;
        results.forEach((result, i) => expectJs(result, 0.5, `sleep #${i}`));
        check(elapsed < 2500, () => `50 concurrent sleep(0.5) took ${elapsed} ms`);
      },
    },
  ];
}

// ------------------------------------------------------------------ errors

function expectRemoteError(result: InvokeResult, name: string | undefined, message: string | undefined, what: string): void {
  const error = result.error;
  check(error !== undefined, () => `${what}: expected an error, got ${showJs(result.value)}`);
  if (name !== undefined) check(error.name === name, () => `${what}: expected error name ${name}, got ${error.name} (${error.message})`);
  if (message !== undefined) check(error.message === message, () => `${what}: expected message ${showJs(message)}, got ${showJs(error.message)}`);
  check(typeof error.stack === "string", () => `${what}: the traceback (error.stack) is not a string: ${showJs(error.stack)}`);
  const events = replyEvents(result.wire);
  const err = events.find((event) => event.name === "ERR");
  check(err !== undefined, () => `${what}: no ERR event on the wire (got ${showJs(events.map((event) => event.name))})`);
  const args = err.args;
  check(
    Array.isArray(args) && args.length === 3 && args.every((arg) => typeof arg === "string"),
    () => `${what}: ERR args are not [name, message, traceback] strs: ${showJs(args)}`,
  );
}

function errorChecks(): NodeCheck[] {
  return [
    {
      name: "fail(ascii): error name ValueError, the message, a traceback",
      async run(ctx) {
        const client = ctx.client();
        expectRemoteError(await invoke(client, "fail", ["boom"]), "ValueError", "boom", "fail('boom')");
        await expectStillServing(client, "after ValueError");
      },
    },
    {
      name: "fail(unicode): error name ValueError, the unicode message",
      async run(ctx) {
        const client = ctx.client();
        const message = "d\u00e9j\u00e0 vu \u2603 \u{1d11e}";
        expectRemoteError(await invoke(client, "fail", [message]), "ValueError", message, "fail(unicode)");
        await expectStillServing(client, "after ValueError");
      },
    },
    {
      name: "unknown method: NameError with the method name",
      async run(ctx) {
        const client = ctx.client();
        expectRemoteError(await invoke(client, "no_such_method", [1, 2]), "NameError", "no_such_method", "no_such_method(1, 2)");
        await expectStillServing(client, "after NameError");
      },
    },
    {
      name: "wrong arity raises an error: add(1) and add(1, 2, 3)",
      async run(ctx) {
        const client = ctx.client();
        expectRemoteError(await invoke(client, "add", [1]), undefined, undefined, "add(1)");
        expectRemoteError(await invoke(client, "add", [1, 2, 3]), undefined, undefined, "add(1, 2, 3)");
        await expectStillServing(client, "after wrong arity");
      },
    },
  ];
}

// ------------------------------------------------------------------ streams

/** Credits zerorpc-python's receiver sends for an n-item stream with B = 100: [100], then [51]s. */
export function pythonCreditCount(items: number): number {
  if (items <= 1) return 0;
  // The first take grants nothing; the second grants 100; then every 51 takes grant 51. The take
  // that finds STREAM_DONE counts too.
  let reserved = 1;
  let grants = 0;
  for (let take = 1; take <= items + 1; take++) {
    if (take > 1 && reserved < 50) {
      reserved = 100;
      grants += 1;
    }
    reserved -= 1;
  }
  return grants;
}

/** Fails unless `result` is a complete stream of the ints 0 .. n-1 ending in STREAM_DONE. */
function expectRange(result: InvokeResult, n: number, what: string): void {
  expectNoError(result, what);
  const names = result.wire.replyNames;
  check(names.at(-1) === "STREAM_DONE", () => `${what} did not end with STREAM_DONE on the wire (last: ${String(names.at(-1))})`);
  if (result.items.length !== n) {
    const events = names.filter((name) => name === "STREAM").length;
    fail(`${what} delivered ${result.items.length} of ${n} items before STREAM_DONE (${events} STREAM events reached the client's socket): items were lost`);
  }
  const difference = jsDifference(result.items, range(n));
  if (difference !== undefined) fail(`${what}: ${difference.slice(0, 300)}`);
}

async function expectStream(ctx: NodeCheckContext, n: number, progress = false): Promise<InvokeResult> {
  const client = ctx.client();
  const result = await invoke(client, "range", [n], progress ? { onItem: (count) => (count === 1 || count % 1000 === 0) && ctx.progress(count) } : {});
  expectRange(result, n, `range(${n})`);
  return result;
}

function streamChecks(): NodeCheck[] {
  const sizes: readonly number[] = [0, 1, 30, 10_000];
  return [
    ...sizes.map(
      (n): NodeCheck => ({
        name: `stream of ${n.toLocaleString("en-US")} item${n === 1 ? "" : "s"}: range(${n})`,
        // The long stream runs alone: it is also the one the test measures other calls against.
        exclusive: n >= 10_000,
        async run(ctx) {
          await expectStream(ctx, n, n >= 10_000);
        },
      }),
    ),
    {
      name: "10 concurrent streams on one client",
      async run(ctx) {
        const client = ctx.client();
        const all = await Promise.all(range(10).map((i) => invoke(client, "range", [100 + i])));
        all.forEach((result, i) => expectRange(result, 100 + i, `stream #${i}: range(${100 + i})`));
      },
    },
    {
      name: "stream credits: the client sends no more _zpc_more than zerorpc-python would (range(1000))",
      async run(ctx) {
        const result = await expectStream(ctx, 1000);
        const credits = result.wire.creditsSent;
        const python = pythonCreditCount(1000);
        const total = credits.reduce<number>((sum, credit) => sum + (Array.isArray(credit) && typeof credit[0] === "number" ? credit[0] : 0), 0);
        check(
          credits.length <= 2 * python,
          () => `zerorpc-node sent ${credits.length} _zpc_more (granting ${total} credits in all) for 1000 items; zerorpc-python sends ${python}`,
        );
      },
    },
    {
      name: "stream abandoned early (client closed mid-stream); the server keeps serving",
      timeoutMs: 30_000,
      async run(ctx) {
        const doomed = ctx.client();
        await new Promise<void>((resolve, reject) => {
          let seen = 0;
          void invoke(doomed, "range", [100_000], {
            onItem: (count) => {
              seen = count;
              if (count === 5) {
                doomed.close();
                resolve();
              }
            },
          }).then((result) => {
            if (seen < 5) reject(new CheckFailure(`range(100000) ended after ${seen} items: ${String(result.error?.message)}`));
          });
        });
        const client = ctx.client();
        await expectStillServing(client, "right after abandoning");
        // The server notices the lost client only through missing heartbeats (> 2 intervals).
        await new Promise((resolve) => setTimeout(resolve, 3.5 * ctx.heartbeatMs));
        await expectStillServing(client, "after the server noticed the lost client");
        expectRange(await invoke(client, "range", [10]), 10, "range(10) afterwards");
      },
    },
  ];
}

// ------------------------------------------------------------------ heartbeat, timeouts

function heartbeatChecks(): NodeCheck[] {
  return [
    {
      name: "heartbeat: a 6 s call (sleep(6)) completes with 1 s heartbeats",
      async run(ctx) {
        const result = await invoke(ctx.client(), "sleep", [6]);
        expectNoError(result, "sleep(6)");
        expectJs(result.value, 6, "sleep(6)");
        check(result.wire.heartbeatsReceived >= 4, () => `only ${result.wire.heartbeatsReceived} heartbeats from the server during sleep(6)`);
      },
    },
  ];
}

function timeoutChecks(): NodeCheck[] {
  return [
    {
      name: "timeout: a per-call timeout (1 s) shorter than sleep(2) raises TimeoutExpired",
      async run(ctx) {
        const client = ctx.client();
        const result = await invoke(client, "sleep", [2], { timeout: 1 });
        check(result.error?.name === "TimeoutExpired", () => `expected TimeoutExpired, got ${showJs(result.error ?? result.value)}`);
        check(result.elapsedMs >= 950 && result.elapsedMs < 2500, () => `TimeoutExpired after ${result.elapsedMs} ms, expected about 1000 ms`);
        await expectStillServing(client, "after the timeout");
      },
    },
    {
      name: "timeout: the client's default timeout (2 s here) raises TimeoutExpired on sleep(3)",
      async run(ctx) {
        const client = ctx.client({ timeout: 2 });
        const result = await invoke(client, "sleep", [3]);
        check(result.error?.name === "TimeoutExpired", () => `expected TimeoutExpired, got ${showJs(result.error ?? result.value)}`);
        check(result.elapsedMs >= 1950 && result.elapsedMs < 3500, () => `TimeoutExpired after ${result.elapsedMs} ms, expected about 2000 ms`);
        await expectStillServing(client, "after the timeout");
      },
    },
  ];
}

// ------------------------------------------------------------------ payloads

/**
 * 1 MiB payloads. No 16 MiB ones: zerorpc-node's client counts its 2-interval heartbeat deadline
 * from before it encodes the request and gives no grace interval, so a call whose round trip
 * (msgpack-lite encoding, transfer, the server's work, decoding) takes over ~2 s before the
 * server's first heartbeat arrives dies with HeartbeatError; a 16 MiB echo takes about that long
 * on a busy 2-core machine. The 16 MiB checks run in the other direction (our client).
 */
function payloadChecks(): NodeCheck[] {
  const bytes = (size: number): Buffer => Buffer.from(patternBytes(size));
  return [
    {
      name: "payload: echo of 1 MiB bin",
      exclusive: true,
      async run(ctx) {
        const data = bytes(MIB);
        expectJs(await call(ctx.client(), "echo", [data]), data, "echo(1 MiB)");
      },
    },
    {
      name: "payload: big(1048576) returns 1 MiB",
      exclusive: true,
      async run(ctx) {
        expectJs(await call(ctx.client(), "big", [MIB]), bytes(MIB), "big(1 MiB)");
      },
    },
    {
      name: "payload: echo of a 1 MiB str",
      exclusive: true,
      async run(ctx) {
        const text = "z\u00e9".repeat(MIB / 3);
        const result = await call(ctx.client(), "echo", [text]);
        check(result === text, () => `echo of ${text.length} chars returned ${showJs(result)}`);
      },
    },
  ];
}

// ------------------------------------------------------------------ introspection

function introspectionChecks(): NodeCheck[] {
  const sorted = (names: readonly string[]): string[] => [...names].sort();
  return [
    {
      name: "_zerorpc_list returns the 8 method names",
      async run(ctx) {
        const list = await call(ctx.client(), "_zerorpc_list", []);
        check(Array.isArray(list), () => `expected a list, got ${showJs(list)}`);
        expectJs(sorted(list as string[]), sorted(TEST_METHOD_NAMES), "_zerorpc_list (sorted)");
      },
    },
    {
      name: "_zerorpc_name returns TestService",
      async run(ctx) {
        expectJs(await call(ctx.client(), "_zerorpc_name", []), TEST_SERVICE_NAME, "_zerorpc_name");
      },
    },
    {
      name: '_zerorpc_ping returns ["pong", "TestService"]',
      async run(ctx) {
        expectJs(await call(ctx.client(), "_zerorpc_ping", []), ["pong", TEST_SERVICE_NAME], "_zerorpc_ping");
      },
    },
    {
      name: "_zerorpc_help returns each docstring",
      async run(ctx) {
        const client = ctx.client();
        for (const name of TEST_METHOD_NAMES) {
          expectJs(await call(client, "_zerorpc_help", [name]), TEST_METHODS[name]!.doc, `_zerorpc_help(${name})`);
        }
      },
    },
    {
      name: "_zerorpc_args lists each method's argument names first",
      async run(ctx) {
        const client = ctx.client();
        for (const name of TEST_METHOD_NAMES) {
          const spec = await call(client, "_zerorpc_args", [name]);
          check(Array.isArray(spec) && Array.isArray(spec[0]), () => `_zerorpc_args(${name}): expected [[names...], ...], got ${showJs(spec)}`);
          expectJs(spec[0], [...TEST_METHODS[name]!.args], `_zerorpc_args(${name})[0]`);
        }
      },
    },
    {
      name: "_zerorpc_inspect: name, 8 methods, docstrings, argument names",
      async run(ctx) {
        const result = (await call(ctx.client(), "_zerorpc_inspect", [])) as { name?: unknown; methods?: Record<string, { args?: { name?: unknown }[]; doc?: unknown }> };
        check(typeof result === "object" && result !== null, () => `expected a map, got ${showJs(result)}`);
        expectJs(result.name, TEST_SERVICE_NAME, "_zerorpc_inspect name");
        const methods = result.methods ?? {};
        expectJs(sorted(Object.keys(methods)), sorted(TEST_METHOD_NAMES), "_zerorpc_inspect method names");
        for (const name of TEST_METHOD_NAMES) {
          expectJs(methods[name]!.doc, TEST_METHODS[name]!.doc, `_zerorpc_inspect ${name}.doc`);
          expectJs((methods[name]!.args ?? []).map((arg) => arg.name), [...TEST_METHODS[name]!.args], `_zerorpc_inspect ${name}.args names`);
        }
      },
    },
  ];
}

function miscChecks(): NodeCheck[] {
  return [
    {
      name: "server still alive at the end",
      last: true,
      async run(ctx) {
        const client = ctx.client();
        expectJs(await call(client, "_zerorpc_ping", []), ["pong", TEST_SERVICE_NAME], "_zerorpc_ping");
        await expectStillServing(client, "at the end");
      },
    },
  ];
}

/** Every check zerorpc-node's client runs against a TestService server, in report order. */
export function createNodeChecks(): NodeCheck[] {
  return [
    ...echoChecks(),
    ...formatChecks(),
    ...valueChecks(),
    ...loadChecks(),
    ...errorChecks(),
    ...streamChecks(),
    ...heartbeatChecks(),
    ...timeoutChecks(),
    ...payloadChecks(),
    ...introspectionChecks(),
    ...miscChecks(),
  ];
}

