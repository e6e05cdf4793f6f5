// What TEST-SERVICE.md fixes about the TestService, written down once as data: the name, the
// heartbeat, the methods with their argument names and exact docstrings, and the exact reply of
// `types()` in typed JSON. The server (test-service.ts) and the checks (checks.ts) both read it,
// but the checks compare what comes over the wire against it, so a server bug cannot hide here.
import { bytesToHex } from "./typed-json.js";
import type { TypedJson } from "./typed-json.js";

/** The service name every TestService answers `_zerorpc_name` / `_zerorpc_ping` with. */
export const TEST_SERVICE_NAME = "TestService";

/** The heartbeat interval the TestService is served with, and that the checks use: 1 s. */
export const TEST_SERVICE_HEARTBEAT_MS = 1000;

/** One method of the TestService: its argument names, docstring and whether it streams. */
export interface TestMethodSpec {
  readonly args: readonly string[];
  readonly doc: string;
  readonly stream: boolean;
}

/**
 * The eight methods of the TestService, alphabetical (zerorpc-python's `_zerorpc_list` order for
 * class-based services), with the exact docstrings of TEST-SERVICE.md.
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

/** `n` bytes where byte `i` is `i % 256` (the reply of `big(n)`). */
export function patternBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = i & 0xff;
  return out;
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

/**
 * The exact reply of `types()` in typed JSON, key order included (TEST-SERVICE.md "types()").
 * Built from the specification's description, not copied from a recording.
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
    bin16: { $bin: bytesToHex(patternBytes(300)) },
    fixarray: [1, "two", { $f64: 3 }, null],
    array16: range(20),
    fixmap: { a: 1, b: { c: [] } },
    map_empty: {},
    map16,
    map_bin_key: { $map: [[{ $bin: "0102" }, "bin key"]] },
    ext: { $ext: [5, "010203"] },
    // 1700000000 s, 0 ns in the timestamp32 form: the seconds as a big-endian uint32.
    timestamp: { $ext: [-1, (1700000000).toString(16).padStart(8, "0")] },
  };
}
