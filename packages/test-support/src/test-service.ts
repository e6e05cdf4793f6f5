// The TestService (docs/protocol/test-service.md) as data: its name, heartbeat, methods with their
// argument names and exact docstrings, and the exact reply of `types()` in typed JSON. Every peer
// under test serves it; our server (@zrpc/conformance) and the checks both read it from here.
import { toHex } from "./hex.js";
import { patternBytes } from "./bytes.js";
import type { TypedJson } from "./vectors.js";

/** The name a TestService answers `_zerorpc_name` and `_zerorpc_ping` with. */
export const TEST_SERVICE_NAME = "TestService";

/** The heartbeat interval a TestService is served with, and that the checks use: 1 s. */
export const TEST_SERVICE_HEARTBEAT_MS = 1000;

/** One method of the TestService: its argument names, docstring and whether it streams. */
export interface TestMethodSpec {
  readonly args: readonly string[];
  readonly doc: string;
  readonly stream: boolean;
}

/**
 * The eight methods, alphabetical (the order zerorpc-python's `_zerorpc_list` gives for a
 * class-based service), with their exact docstrings.
 */
export const TEST_METHODS: Readonly<Record<string, TestMethodSpec>> = Object.freeze({
  add: { args: ["a", "b"], doc: "Return a + b.", stream: false },
  big: { args: ["n"], doc: "Return n bytes where byte i is i % 256.", stream: false },
  echo: { args: ["x"], doc: "Return the argument unchanged.", stream: false },
  fail: { args: ["msg"], doc: "Raise ValueError(msg).", stream: false },
  hello: { args: ["name"], doc: 'Return a greeting.\n\nThe reply is "Hello, " followed by name.', stream: false },
  range: { args: ["n"], doc: "Stream the integers 0 .. n-1.", stream: true },
  sleep: { args: ["seconds"], doc: "Sleep for the given number of seconds, then return it.", stream: false },
  types: { args: [], doc: "Return one map holding a value of every msgpack type.", stream: false },
});

/** The method names, alphabetical. */
export const TEST_METHOD_NAMES: readonly string[] = Object.freeze(Object.keys(TEST_METHODS));

/**
 * The exact reply of `types()` in typed JSON, key order included: one value of every msgpack type.
 * Written from the description of the service, not copied from a recording, so a test comparing a
 * recording (vector `call_no_args`) against it checks both.
 */
export function expectedTypesJson(): TypedJson {
  const map16: Record<string, TypedJson> = {};
  for (let i = 0; i <= 16; i++) map16[`k${String(i).padStart(2, "0")}`] = i;
  return {
    nil: null,
    true: true,
    false: false,
    posfixint: 7,
    negfixint: -5,
    uint8: 200,
    uint16: 60000,
    uint32: 4000000000,
    uint64: { $int: "18446744073709551615" },
    int8: -100,
    int16: -30000,
    int32: -2000000000,
    int64: { $int: "-9223372036854775808" },
    float64: { $f64: 3.141592653589793 },
    str_empty: "",
    fixstr: "hello",
    str8: "s".repeat(40),
    str16: "t".repeat(300),
    unicode: "h\u00e9llo w\u00f6rld \u2603 \u{1d11e}",
    bin_empty: { $bin: "" },
    bin8: { $bin: "0001feff" },
    bin16: { $bin: toHex(patternBytes(300)) },
    fixarray: [1, "two", { $f64: 3 }, null],
    array16: Array.from({ length: 20 }, (_, i) => i),
    fixmap: { a: 1, b: { c: [] } },
    map_empty: {},
    map16,
    map_bin_key: { $map: [[{ $bin: "0102" }, "bin key"]] },
    ext: { $ext: [5, "010203"] },
    // 1700000000 s, 0 ns in the timestamp32 form: the seconds as a big-endian uint32.
    timestamp: { $ext: [-1, (1700000000).toString(16).padStart(8, "0")] },
  };
}

/**
 * The events a one-way sender (PUSH or PUB) sends to a TestService receiver, in order; `args` in
 * typed JSON.
 */
export const ONE_WAY_EVENTS: readonly OneWayEvent[] = Object.freeze<OneWayEvent[]>([
  { name: "echo", args: ["pushed"] },
  { name: "add", args: [1, 2] },
  { name: "echo", args: [{ k: [null, true, { $f64: 1.5 }, { $bin: "00ff" }, "\u2603"] }] },
]);

/** One event of {@link ONE_WAY_EVENTS}. */
export interface OneWayEvent {
  readonly name: string;
  readonly args: TypedJson[];
}
