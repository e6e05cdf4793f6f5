// The checks of docs/protocol/test-service.md "What the checks cover", run with our client against any
// TestService server endpoint (ours, or zerorpc-python's reference one).
//
// Longer than 600 lines on purpose: it is one cohesive thing, the table of checks in the order of
// that checklist, each a short independent function; splitting it would only scatter the list.
import { RemoteError, TimeoutExpired } from "@zrpc/client";
import type { Client } from "@zrpc/client";
import { Float64, encodeValue, messageIdToString } from "@zrpc/wire";
import { CheckFailure, check, describeError, expectSame, expectTyped, rejection, show } from "./assert.js";
import { eventArgsLayout, msgpackLayout } from "./msgpack-layout.js";
import { rawCall } from "./raw-call.js";
import {
  TEST_METHODS,
  TEST_METHOD_NAMES,
  TEST_SERVICE_HEARTBEAT_MS,
  TEST_SERVICE_NAME,
  expectedTypesJson,
  patternBytes,
} from "@zrpc/test-support";
import { DEFAULT_TRANSPORT, connectClient } from "./transports.js";
import type { ConnectClientOptions, TransportName } from "./transports.js";
import { fromTypedJson } from "./typed-json.js";
import type { TypedJson } from "./typed-json.js";

/** What a check gets to work with. */
export interface CheckContext {
  /** The endpoint of the TestService under test. */
  readonly endpoint: string;
  /** The transport our clients (and {@link rawCall}) run on. */
  readonly transport: TransportName;
  /** Heartbeat interval of our clients, in ms (1000 unless changed with `--heartbeat`). */
  readonly heartbeatMs: number;
  /**
   * Connects one more client to the endpoint, on {@link transport}, with the check defaults
   * (`heartbeatMs`) merged with `options`. Every client a check opens is closed when the check ends.
   */
  client(options?: ConnectClientOptions): Promise<Client>;
  /** Aborted when the check runs out of time; long waits should honour it. */
  readonly signal: AbortSignal;
}

/** One named check. `run` resolves when the check passes and throws (a reason) when it fails. */
export interface Check {
  /** The name printed in `PASS name` / `FAIL name: reason`. */
  readonly name: string;
  /** Run after every other check has finished (e.g. "server still alive at the end"). */
  readonly last?: boolean;
  /**
   * Run alone, never concurrently with another check: for checks whose load (16 MiB payloads)
   * would stall the heartbeats or timers of checks running beside them in one process.
   */
  readonly exclusive?: boolean;
  /** Time budget in ms; the check fails when it is exceeded. Default 60 s. */
  readonly timeoutMs?: number;
  run(ctx: CheckContext): Promise<void>;
}

/** The outcome of one check. */
export interface CheckResult {
  readonly name: string;
  readonly passed: boolean;
  /** Why it failed (absent when it passed). */
  readonly reason?: string;
  /** Wall-clock time the check took, in ms. */
  readonly durationMs: number;
}

const DEFAULT_CHECK_TIMEOUT_MS = 60_000;
const KIB = 1024;
const MIB = 1024 * 1024;

function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted === true) {
      reject(new CheckFailure("aborted"));
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new CheckFailure("aborted"));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

async function collect(items: AsyncIterable<unknown>): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const item of items) out.push(item);
  return out;
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

/** Fails unless `error` is a RemoteError named `name` (any name when undefined) with message `message`. */
function expectRemoteError(error: unknown, name: string | undefined, message: string | undefined, what: string): void {
  check(RemoteError.isInstance(error), () => `${what}: expected a RemoteError, got ${describeError(error)}`);
  if (name !== undefined) {
    check(error.remoteName === name, () => `${what}: expected ERR name ${show(name)}, got ${show(error.remoteName)}`);
  }
  if (message !== undefined) {
    check(error.rawMessage === message, () => `${what}: expected ERR message ${show(message)}, got ${show(error.rawMessage)}`);
  }
}

function expectBytes(actual: unknown, expected: Uint8Array, what: string): void {
  check(actual instanceof Uint8Array, () => `${what}: expected bin (Uint8Array), got ${show(actual)}`);
  check(actual.length === expected.length, () => `${what}: expected ${expected.length} bytes, got ${actual.length}`);
  for (let i = 0; i < expected.length; i++) {
    if (actual[i] !== expected[i]) throw new CheckFailure(`${what}: byte ${i} is ${actual[i]}, expected ${expected[i]}`);
  }
}

/** Calls `echo(x)` and fails unless the result has the same msgpack types and values. */
async function echoRoundTrip(ctx: CheckContext, json: TypedJson): Promise<void> {
  const client = await ctx.client();
  const result = await client.call("echo", [fromTypedJson(json)]);
  expectTyped(result, json, "echo result");
}

/** The argument of zerorpc-python's `call_args_all_types` recording: every type in one array. */
function allTypesArray(): TypedJson {
  return [
    null, true, false, 0, 1, 127, 128, 255, 256, 65535, 65536, 4294967295, 4294967296,
    { $int: "9223372036854775807" }, { $int: "18446744073709551615" },
    -1, -32, -33, -128, -129, -32768, -32769, -2147483648, -2147483649, { $int: "-9223372036854775808" },
    { $f64: 1.5 }, { $f64: -0.25 }, { $f64: 2 },
    "", "hello", "h\u00e9llo \u2603 \u{1d11e}",
    { $bin: "" }, { $bin: "0001feff" },
    [1, [2, [3, []]]],
    { a: 1, b: [true, null], c: { d: "e" } },
    { $map: [[{ $bin: "62696e6b6579" }, "v"]] },
  ];
}

/** Values sent through `echo`: every msgpack type and its edge values. */
const ECHO_CASES: readonly (readonly [string, TypedJson])[] = [
  ["nil", null],
  ["true", true],
  ["false", false],
  ["posfixint 0 and 127", [0, 127]],
  ["uint8 128 and 255", [128, 255]],
  ["uint16 256 and 65535", [256, 65535]],
  ["uint32 65536 and 4294967295", [65536, 4294967295]],
  ["uint64 2^32 and 2^53-1", [4294967296, Number.MAX_SAFE_INTEGER]],
  ["uint64 2^53 (beyond JS safe integers)", { $int: "9007199254740992" }],
  ["uint64 int64 max", { $int: "9223372036854775807" }],
  ["uint64 max 18446744073709551615", { $int: "18446744073709551615" }],
  ["negfixint -1 and -32", [-1, -32]],
  ["int8 -33 and -128", [-33, -128]],
  ["int16 -129 and -32768", [-129, -32768]],
  ["int32 -32769 and -2147483648", [-32769, -2147483648]],
  ["int64 -2147483649 and -(2^53-1)", [-2147483649, -Number.MAX_SAFE_INTEGER]],
  ["int64 min -9223372036854775808", { $int: "-9223372036854775808" }],
  ["float64 1.5 and -0.25", [{ $f64: 1.5 }, { $f64: -0.25 }]],
  ["float64 2.0 stays float64", { $f64: 2 }],
  ["float64 -0.0 stays -0.0", { $f64: -0 }],
  ["float64 0.0 stays float64", { $f64: 0 }],
  ["float64 pi, 1e300, 5e-324", [{ $f64: 3.141592653589793 }, { $f64: 1e300 }, { $f64: 5e-324 }]],
  ["float64 2^64 (integral, beyond uint64)", { $f64: 18446744073709551616 }],
  ["float64 NaN", { $f64: "NaN" }],
  ["float64 +Infinity", { $f64: "Infinity" }],
  ["float64 -Infinity", { $f64: "-Infinity" }],
  ["str empty", ""],
  ["str fixstr", "hello"],
  ["str8 (40 chars)", "s".repeat(40)],
  ["str16 (300 chars)", "t".repeat(300)],
  ["str unicode incl. non-BMP", "h\u00e9llo w\u00f6rld \u2603 \u{1d11e}"],
  ["str 64 KiB", "x".repeat(64 * KIB)],
  ["str that looks like bytes stays str", "\u0000\u0001\u00fe\u00ff"],
  ["bin empty", { $bin: "" }],
  ["bin 00 01 fe ff", { $bin: "0001feff" }],
  ["bin that is valid UTF-8 stays bin", { $bin: "68656c6c6f" }],
  ["bin 64 KiB", { $bin: "ab".repeat(64 * KIB) }],
  ["array empty", []],
  ["array16 (20 items)", range(20)],
  ["array32 (70000 items)", range(70_000)],
  ["nested arrays", [1, [2, [3, [4, [5, []]]]], [[[]]]]],
  ["array (a Python tuple) arrives as an array", [1, "two", { $f64: 3 }, null]],
  ["map empty", {}],
  ["map nested", { a: 1, b: [true, null], c: { d: "e", f: { g: { h: [] } } } }],
  ["map16 keeps key order", Object.fromEntries(range(17).map((i) => [`k${String(16 - i).padStart(2, "0")}`, i]))],
  ["map with a bin key", { $map: [[{ $bin: "0102" }, "bin key"]] }],
  ["map with str and bin keys", { $map: [["s", 1], [{ $bin: "73" }, 2]] }],
  ["map with a $-prefixed str key", { $map: [["$int", "not an int"]] }],
  ["ext type 5 (3 bytes)", { $ext: [5, "010203"] }],
  ["ext fixext1 / fixext16 / ext8 / ext16", [
    { $ext: [0, "ff"] },
    { $ext: [127, "00112233445566778899aabbccddeeff"] },
    { $ext: [1, "00".repeat(17)] },
    { $ext: [2, "01".repeat(300)] },
  ]],
  ["timestamp32 (1700000000 s)", { $ext: [-1, "6553f100"] }],
  ["timestamp64 (1700000000 s, 123456789 ns)", { $ext: [-1, "1d6f3454" + "6553f100"] }],
  ["timestamp96 (before 1970)", { $ext: [-1, "00000000" + "ffffffffffffff9c"] }],
  ["every type in one array", allTypesArray()],
];

function echoChecks(): Check[] {
  return ECHO_CASES.map(([label, json]) => ({
    name: `echo ${label}`,
    run: (ctx: CheckContext) => echoRoundTrip(ctx, json),
  }));
}

function expectLayout(actual: readonly string[], expected: readonly string[], what: string): void {
  const a = actual.join(" ");
  const e = expected.join(" ");
  if (a === e) return;
  let i = 0;
  while (i < actual.length && actual[i] === expected[i]) i++;
  throw new CheckFailure(
    `${what}: msgpack layout differs at value #${i}: expected ${expected[i] ?? "(end)"}, got ${actual[i] ?? "(end)"}`,
  );
}

function wireChecks(): Check[] {
  return [
    {
      name: "echo keeps the msgpack formats on the wire (smallest ints, float64, str/bin)",
      async run(ctx) {
        const value = fromTypedJson(allTypesArray());
        const reply = await rawCall(ctx.endpoint, "echo", [value], { transport: ctx.transport });
        check(reply.event.name === "OK", () => `expected OK, got ${reply.event.name} ${show(reply.event.args)}`);
        expectLayout(eventArgsLayout(reply.payload), eventArgsLayout(reply.request), "echo reply args");
      },
    },
    {
      name: "reply header: response_to = request message_id (same type and bytes), v = 3",
      async run(ctx) {
        const reply = await rawCall(ctx.endpoint, "hello", ["wire"], { transport: ctx.transport });
        const header = reply.event.header;
        const sent = reply.messageId as Uint8Array;
        const got = header.response_to;
        check(got instanceof Uint8Array, () => `response_to is not bin: ${show(got)}`);
        check(
          messageIdToString(got) === messageIdToString(sent) && got.length === sent.length,
          () => `response_to ${show(got)} is not the request id ${show(sent)}`,
        );
        check(header.v === 3, () => `reply v is ${show(header.v)}, expected 3`);
        check(header.message_id !== undefined, "reply has no message_id");
        expectSame(reply.event.args, ["Hello, wire"], "hello reply args");
      },
    },
  ];
}

function valueChecks(): Check[] {
  return [
    {
      name: "types() returns the exact map (types, values, key order)",
      async run(ctx) {
        const client = await ctx.client();
        expectTyped(await client.call("types", []), expectedTypesJson(), "types()");
      },
    },
    {
      name: "types() msgpack formats on the wire",
      async run(ctx) {
        const reply = await rawCall(ctx.endpoint, "types", [], { transport: ctx.transport });
        check(reply.event.name === "OK", () => `expected OK, got ${reply.event.name}`);
        const expected = ["fixarray[1]", ...msgpackLayout(encodeValue(fromTypedJson(expectedTypesJson())))];
        expectLayout(eventArgsLayout(reply.payload), expected, "types() reply");
      },
    },
    {
      name: "add(2, 3) = 5",
      async run(ctx) {
        const client = await ctx.client();
        expectTyped(await client.call("add", [2, 3]), 5, "add(2, 3)");
      },
    },
    {
      name: "add(2**53, 1) = 9007199254740993 exactly",
      async run(ctx) {
        const client = await ctx.client();
        expectTyped(await client.call("add", [2n ** 53n, 1]), { $int: "9007199254740993" }, "add(2**53, 1)");
      },
    },
    {
      name: "add(2**62, 2**62) = 2**63 (uint64)",
      async run(ctx) {
        const client = await ctx.client();
        expectTyped(await client.call("add", [2n ** 62n, 2n ** 62n]), { $int: "9223372036854775808" }, "add(2**62, 2**62)");
      },
    },
    {
      name: "add(int64 min, uint64 max) = 2**63 - 1",
      async run(ctx) {
        const client = await ctx.client();
        const result = await client.call("add", [-(2n ** 63n), 2n ** 64n - 1n]);
        expectTyped(result, { $int: "9223372036854775807" }, "add(-2**63, 2**64-1)");
      },
    },
    {
      name: "add floats: 1.5 + 2.25 = 3.75, 1.5 + 1.5 = 3.0 (float64), 1 + 0.5 = 1.5",
      async run(ctx) {
        const client = await ctx.client();
        expectTyped(await client.call("add", [1.5, 2.25]), { $f64: 3.75 }, "add(1.5, 2.25)");
        expectTyped(await client.call("add", [1.5, 1.5]), { $f64: 3 }, "add(1.5, 1.5)");
        expectTyped(await client.call("add", [1, 0.5]), { $f64: 1.5 }, "add(1, 0.5)");
        expectTyped(await client.call("add", [new Float64(2), new Float64(2)]), { $f64: 4 }, "add(2.0, 2.0)");
      },
    },
    {
      name: 'add strings: add("ab", "cd") = "abcd"',
      async run(ctx) {
        const client = await ctx.client();
        expectTyped(await client.call("add", ["ab", "cd"]), "abcd", 'add("ab", "cd")');
      },
    },
    {
      name: "hello(name) with unicode",
      async run(ctx) {
        const client = await ctx.client();
        expectTyped(await client.call("hello", ["Zo\u00eb \u2603"]), "Hello, Zo\u00eb \u2603", "hello");
        expectTyped(await client.call("hello", ["world"]), "Hello, world", "hello");
      },
    },
    {
      name: "sleep returns its argument (int stays int, float stays float)",
      async run(ctx) {
        const client = await ctx.client();
        expectTyped(await client.call("sleep", [0]), 0, "sleep(0)");
        expectTyped(await client.call("sleep", [new Float64(0)]), { $f64: 0 }, "sleep(0.0)");
        expectTyped(await client.call("sleep", [0.05]), { $f64: 0.05 }, "sleep(0.05)");
      },
    },
    {
      name: "big(n): n bytes, byte i = i % 256",
      async run(ctx) {
        const client = await ctx.client();
        expectBytes(await client.call("big", [0]), new Uint8Array(0), "big(0)");
        expectBytes(await client.call("big", [300]), patternBytes(300), "big(300)");
      },
    },
  ];
}

function loadChecks(): Check[] {
  return [
    {
      name: "1,000 sequential calls",
      async run(ctx) {
        const client = await ctx.client();
        for (let i = 0; i < 1000; i++) {
          const result = await client.call("add", [i, 1]);
          if (result !== i + 1) throw new CheckFailure(`call #${i}: add(${i}, 1) returned ${show(result)}`);
        }
      },
    },
    {
      name: "200 concurrent calls on one client",
      async run(ctx) {
        const client = await ctx.client();
        const results = await Promise.all(range(200).map((i) => client.call("echo", [`call ${i}`])));
        results.forEach((result, i) => expectTyped(result, `call ${i}`, `call #${i}`));
      },
    },
    {
      name: "5 clients at once (20 calls and a stream each)",
      async run(ctx) {
        const clients = await Promise.all(range(5).map(() => ctx.client()));
        await Promise.all(
          clients.map(async (client, c) => {
            const calls = Promise.all(range(20).map((i) => client.call("add", [c * 1000, i])));
            const items = collect(client.stream("range", [50]));
            const [sums, streamed] = await Promise.all([calls, items]);
            sums.forEach((sum, i) => expectTyped(sum, c * 1000 + i, `client ${c} call ${i}`));
            expectTyped(streamed, range(50), `client ${c} range(50)`);
          }),
        );
      },
    },
    {
      name: "calls run concurrently: 50 x sleep(0.5) in well under 5 s",
      async run(ctx) {
        const client = await ctx.client();
        const started = Date.now();
        const results = await Promise.all(range(50).map(() => client.call("sleep", [0.5])));
        const elapsed = Date.now() - started;
        results.forEach((result, i) => expectTyped(result, { $f64: 0.5 }, `sleep #${i}`));
        check(elapsed < 2500, () => `50 concurrent sleep(0.5) took ${elapsed} ms`);
      },
    },
  ];
}

async function expectStillServing(client: Client, what: string): Promise<void> {
  let result: unknown;
  try {
    result = await client.call("echo", ["still here"]);
  } catch (error) {
    throw new CheckFailure(`${what}: echo failed: ${describeError(error)}`);
  }
  expectTyped(result, "still here", `${what}: echo`);
}

function errorChecks(): Check[] {
  return [
    {
      name: "fail(ascii) raises ValueError with the message",
      async run(ctx) {
        const client = await ctx.client();
        const error = await rejection(client.call("fail", ["boom"]), "fail('boom')");
        expectRemoteError(error, "ValueError", "boom", "fail('boom')");
        await expectStillServing(client, "after ValueError");
      },
    },
    {
      name: "fail(unicode) raises ValueError with the unicode message",
      async run(ctx) {
        const client = await ctx.client();
        const message = "d\u00e9j\u00e0 vu \u2603 \u{1d11e}";
        const error = await rejection(client.call("fail", [message]), "fail(unicode)");
        expectRemoteError(error, "ValueError", message, "fail(unicode)");
        await expectStillServing(client, "after ValueError");
      },
    },
    {
      name: "unknown method raises NameError with the method name",
      async run(ctx) {
        const client = await ctx.client();
        const error = await rejection(client.call("no_such_method", [1, 2]), "no_such_method(1, 2)");
        expectRemoteError(error, "NameError", "no_such_method", "no_such_method(1, 2)");
        await expectStillServing(client, "after NameError");
      },
    },
    {
      name: "wrong arity raises an ERR: add(1) and add(1, 2, 3)",
      async run(ctx) {
        const client = await ctx.client();
        expectRemoteError(await rejection(client.call("add", [1]), "add(1)"), undefined, undefined, "add(1)");
        expectRemoteError(await rejection(client.call("add", [1, 2, 3]), "add(1, 2, 3)"), undefined, undefined, "add(1, 2, 3)");
        await expectStillServing(client, "after wrong arity");
      },
    },
  ];
}

function streamChecks(): Check[] {
  const sizes: readonly number[] = [0, 1, 30, 10_000];
  return [
    ...sizes.map((n) => ({
      name: `stream of ${n.toLocaleString("en-US")} item${n === 1 ? "" : "s"}: range(${n})`,
      async run(ctx: CheckContext) {
        const client = await ctx.client();
        expectTyped(await collect(client.stream("range", [n])), range(n), `range(${n})`);
      },
    })),
    {
      name: "stream of 500 items with a 10-slot window (receiveBuffer 10)",
      async run(ctx) {
        const client = await ctx.client();
        const items = await collect(client.stream("range", [500], { receiveBuffer: 10 }));
        expectTyped(items, range(500), "range(500) with 10 slots");
      },
    },
    {
      name: "10 concurrent streams on one client",
      async run(ctx) {
        const client = await ctx.client();
        const all = await Promise.all(range(10).map((i) => collect(client.stream("range", [100 + i]))));
        all.forEach((items, i) => expectTyped(items, range(100 + i), `stream #${i}: range(${100 + i})`));
      },
    },
    {
      name: "stream abandoned early; the server keeps serving, also after it notices the lost client",
      timeoutMs: 30_000,
      async run(ctx) {
        const client = await ctx.client();
        const taken: unknown[] = [];
        for await (const item of client.stream("range", [100_000])) {
          taken.push(item);
          if (taken.length === 5) break;
        }
        expectTyped(taken, range(5), "first 5 items of range(100000)");
        await expectStillServing(client, "right after abandoning");
        // The server notices only through missing heartbeats: > 2 intervals, reported by 3-4.
        await delay(3.5 * ctx.heartbeatMs, ctx.signal);
        await expectStillServing(client, "after the server noticed the lost stream");
        const fresh = await ctx.client();
        await expectStillServing(fresh, "a new client after the abandoned stream");
        expectTyped(await collect(fresh.stream("range", [10])), range(10), "range(10) afterwards");
      },
    },
  ];
}

function heartbeatChecks(): Check[] {
  return [
    {
      name: "heartbeat: a 6 s call (sleep(6)) completes with 1 s heartbeats",
      timeoutMs: 30_000,
      async run(ctx) {
        const client = await ctx.client();
        expectTyped(await client.call("sleep", [6]), 6, "sleep(6)");
      },
    },
    {
      name: "heartbeat: a passive client (answers heartbeats only) completes sleep(2.5)",
      timeoutMs: 30_000,
      async run(ctx) {
        const client = await ctx.client({ passiveHeartbeat: true });
        expectTyped(await client.call("sleep", [2.5]), { $f64: 2.5 }, "sleep(2.5)");
      },
    },
  ];
}

function timeoutChecks(): Check[] {
  return [
    {
      name: "timeout: a per-call timeout (0.5 s) shorter than sleep(2) raises TimeoutExpired",
      async run(ctx) {
        const client = await ctx.client();
        const started = Date.now();
        const error = await rejection(client.call("sleep", [2], { timeoutMs: 500 }), "sleep(2) with timeout 0.5 s");
        const elapsed = Date.now() - started;
        check(TimeoutExpired.isInstance(error), () => `expected TimeoutExpired, got ${describeError(error)}`);
        check(elapsed >= 450 && elapsed < 1900, () => `TimeoutExpired after ${elapsed} ms, expected about 500 ms`);
        await expectStillServing(client, "after the timeout");
      },
    },
    {
      name: "timeout: the client's default timeout (set to 1.5 s here; the real default is 30 s) raises TimeoutExpired on sleep(3)",
      async run(ctx) {
        const client = await ctx.client({ timeoutMs: 1500 });
        const started = Date.now();
        const error = await rejection(client.call("sleep", [3]), "sleep(3) with the client default 1.5 s");
        const elapsed = Date.now() - started;
        check(TimeoutExpired.isInstance(error), () => `expected TimeoutExpired, got ${describeError(error)}`);
        check(elapsed >= 1400 && elapsed < 2900, () => `TimeoutExpired after ${elapsed} ms, expected about 1500 ms`);
        await expectStillServing(client, "after the timeout");
      },
    },
  ];
}

/**
 * The client of a payload check of `size` bytes. Its heartbeat grows with the payload: the peer's
 * heartbeats travel behind a big message on the same connection, and nothing of the reply is
 * seen before its last byte has arrived and been decoded, so a peer moving 16 MiB each way on a
 * loaded machine can be silent for longer than two 1 s intervals (LostRemote mid-transfer) while
 * it is busy with this very call. One second per MiB keeps the 1 MiB checks at the context's
 * heartbeat and gives 16 MiB 16 s, well inside the check's 60 s budget.
 */
function payloadClient(ctx: CheckContext, size: number): Promise<Client> {
  return ctx.client({ heartbeatMs: Math.max(ctx.heartbeatMs, Math.ceil(size / MIB) * 1000) });
}

function payloadChecks(): Check[] {
  const sizes: readonly [string, number][] = [["1 MiB", MIB], ["16 MiB", 16 * MIB]];
  return sizes.flatMap(([label, size]) => [
    {
      name: `payload: echo of ${label} bin`,
      exclusive: true,
      async run(ctx: CheckContext) {
        const client = await payloadClient(ctx, size);
        const data = patternBytes(size);
        expectBytes(await client.call("echo", [data]), data, `echo(${label})`);
      },
    },
    {
      name: `payload: big(${size}) returns ${label}`,
      exclusive: true,
      async run(ctx: CheckContext) {
        const client = await payloadClient(ctx, size);
        expectBytes(await client.call("big", [size]), patternBytes(size), `big(${size})`);
      },
    },
    {
      name: `payload: echo of a ${label} str`,
      exclusive: true,
      async run(ctx: CheckContext) {
        const client = await payloadClient(ctx, size);
        const text = "z\u00e9".repeat(size / 3);
        const result = await client.call("echo", [text]);
        check(typeof result === "string", () => `expected str, got ${show(result)}`);
        check(result === text, () => `echo of ${text.length} chars returned ${result.length} different chars`);
      },
    },
  ]);
}

/** Drops a leading "self" (class-based Python services list it). */
function withoutSelf(names: readonly unknown[]): unknown[] {
  return names[0] === "self" ? names.slice(1) : [...names];
}

function introspectionChecks(): Check[] {
  return [
    {
      name: "_zerorpc_list returns the 8 method names",
      async run(ctx) {
        const client = await ctx.client();
        const list = await client.call("_zerorpc_list", []);
        check(Array.isArray(list), () => `expected a list, got ${show(list)}`);
        expectSame([...(list as unknown[])].sort(), [...TEST_METHOD_NAMES].sort(), "_zerorpc_list (sorted)");
      },
    },
    {
      name: "_zerorpc_name returns TestService",
      async run(ctx) {
        const client = await ctx.client();
        expectTyped(await client.call("_zerorpc_name", []), TEST_SERVICE_NAME, "_zerorpc_name");
      },
    },
    {
      name: '_zerorpc_ping returns ["pong", "TestService"]',
      async run(ctx) {
        const client = await ctx.client();
        expectTyped(await client.call("_zerorpc_ping", []), ["pong", TEST_SERVICE_NAME], "_zerorpc_ping");
      },
    },
    {
      name: "_zerorpc_help returns each docstring",
      async run(ctx) {
        const client = await ctx.client();
        for (const name of TEST_METHOD_NAMES) {
          expectTyped(await client.call("_zerorpc_help", [name]), TEST_METHODS[name]!.doc, `_zerorpc_help(${name})`);
        }
      },
    },
    {
      name: "_zerorpc_args lists each method's argument names first",
      async run(ctx) {
        const client = await ctx.client();
        for (const name of TEST_METHOD_NAMES) {
          const spec = await client.call("_zerorpc_args", [name]);
          check(Array.isArray(spec) && Array.isArray(spec[0]), () => `_zerorpc_args(${name}): expected [[names...], ...], got ${show(spec)}`);
          expectSame(withoutSelf(spec[0] as unknown[]), TEST_METHODS[name]!.args, `_zerorpc_args(${name})[0]`);
        }
      },
    },
    {
      name: "_zerorpc_inspect: name, 8 methods, docstrings, argument names",
      async run(ctx) {
        const client = await ctx.client();
        const result = await client.call("_zerorpc_inspect", []);
        check(typeof result === "object" && result !== null && !Array.isArray(result), () => `expected a map, got ${show(result)}`);
        const inspect = result as { name?: unknown; methods?: unknown };
        expectTyped(inspect.name, TEST_SERVICE_NAME, "_zerorpc_inspect name");
        const methods = inspect.methods;
        check(typeof methods === "object" && methods !== null && !Array.isArray(methods), () => `methods is not a map: ${show(methods)}`);
        const table = methods as Record<string, { args?: unknown; doc?: unknown }>;
        expectSame(Object.keys(table).sort(), [...TEST_METHOD_NAMES].sort(), "_zerorpc_inspect method names");
        for (const name of TEST_METHOD_NAMES) {
          const entry = table[name]!;
          expectTyped(entry.doc, TEST_METHODS[name]!.doc, `_zerorpc_inspect ${name}.doc`);
          check(Array.isArray(entry.args), () => `${name}.args is not a list: ${show(entry.args)}`);
          const names = (entry.args as { name?: unknown }[]).map((arg) => arg.name);
          expectSame(withoutSelf(names), TEST_METHODS[name]!.args, `_zerorpc_inspect ${name}.args names`);
        }
      },
    },
  ];
}

function miscChecks(): Check[] {
  return [
    {
      name: "extra header keys are tolerated",
      async run(ctx) {
        const client = await ctx.client();
        const header = { trace_id: "t-123", span: [1, 2] };
        expectTyped(await client.call("echo", ["ctx"], { header }), "ctx", "echo with extra header keys");
        const reply = await rawCall(ctx.endpoint, "echo", ["raw"], {
          header: { ...header, extra: { $weird: null } },
          transport: ctx.transport,
        });
        check(reply.event.name === "OK", () => `raw call with extra header keys: got ${reply.event.name} ${show(reply.event.args)}`);
        expectSame(reply.event.args, ["raw"], "raw echo with extra header keys");
      },
    },
    {
      name: "server still alive at the end",
      last: true,
      async run(ctx) {
        const client = await ctx.client();
        expectTyped(await client.call("_zerorpc_ping", []), ["pong", TEST_SERVICE_NAME], "_zerorpc_ping");
        await expectStillServing(client, "at the end");
      },
    },
  ];
}

/**
 * Every check of docs/protocol/test-service.md "What the checks cover" (the one-way patterns are separate: see
 * the CLI's push/pull/pub/sub commands), in the order they are reported.
 */
export function createChecks(): Check[] {
  return [
    ...echoChecks(),
    ...wireChecks(),
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

/** Options of {@link runChecks}. */
export interface RunChecksOptions {
  /** Heartbeat interval of our clients in ms. Default 1000 (the TestService's). */
  readonly heartbeatMs?: number;
  /** The transport of our clients: `"zmtp"` (default) or `"zeromq"`. */
  readonly transport?: TransportName;
  /** Only run checks whose name contains this substring (case-insensitive). */
  readonly only?: string;
  /** How many checks run at once. Default 1 (one after the other). */
  readonly concurrency?: number;
  /** The checks to run. Default {@link createChecks}(). */
  readonly checks?: readonly Check[];
  /** Called with each result as soon as its check ends. */
  readonly onResult?: (result: CheckResult) => void;
}

/** Runs one check with its own clients (on `transport`, default `"zmtp"`) and time budget. */
export async function runCheck(
  check: Check,
  endpoint: string,
  heartbeatMs: number,
  transport: TransportName = DEFAULT_TRANSPORT,
): Promise<CheckResult> {
  const started = Date.now();
  const clients: Client[] = [];
  const controller = new AbortController();
  const budget = check.timeoutMs ?? DEFAULT_CHECK_TIMEOUT_MS;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const ctx: CheckContext = {
    endpoint,
    transport,
    heartbeatMs,
    signal: controller.signal,
    async client(options) {
      const client = await connectClient(transport, endpoint, { heartbeatMs, ...options });
      clients.push(client);
      return client;
    },
  };
  try {
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        controller.abort();
        reject(new CheckFailure(`did not finish within ${budget / 1000} s`));
      }, budget);
    });
    await Promise.race([check.run(ctx), expired]);
    return { name: check.name, passed: true, durationMs: Date.now() - started };
  } catch (error) {
    const reason = error instanceof CheckFailure ? error.message : `unexpected ${describeError(error)}`;
    return { name: check.name, passed: false, reason, durationMs: Date.now() - started };
  } finally {
    clearTimeout(timer);
    await Promise.allSettled(clients.map((client) => client.close()));
  }
}

/**
 * Runs the checks against the TestService at `endpoint` and resolves with one result per check,
 * in check order: first the ordinary ones (`concurrency` at a time), then the `exclusive` ones one
 * by one, then those marked `last`.
 */
export async function runChecks(endpoint: string, options: RunChecksOptions = {}): Promise<CheckResult[]> {
  const heartbeatMs = options.heartbeatMs ?? TEST_SERVICE_HEARTBEAT_MS;
  const transport = options.transport ?? DEFAULT_TRANSPORT;
  const needle = options.only?.toLowerCase();
  const selected = (options.checks ?? createChecks()).filter(
    (item) => needle === undefined || item.name.toLowerCase().includes(needle),
  );
  const results = new Map<Check, CheckResult>();
  const runBatch = async (batch: readonly Check[], concurrency: number): Promise<void> => {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < batch.length) {
        const item = batch[next++]!;
        const result = await runCheck(item, endpoint, heartbeatMs, transport);
        results.set(item, result);
        options.onResult?.(result);
      }
    };
    const width = Math.max(1, Math.min(concurrency, batch.length));
    await Promise.all(range(width).map(() => worker()));
  };
  const concurrency = options.concurrency ?? 1;
  await runBatch(selected.filter((item) => item.last !== true && item.exclusive !== true), concurrency);
  await runBatch(selected.filter((item) => item.last !== true && item.exclusive === true), 1);
  await runBatch(selected.filter((item) => item.last === true), concurrency);
  return selected.map((item) => results.get(item)!);
}
