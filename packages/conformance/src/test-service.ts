// The TestService of docs/protocol/test-service.md on our server: the same eight methods every zerorpc peer we
// test against implements, so any client can be pointed at any server.
import { ServiceError, createRegistry, createServer } from "@zrpc/server";
import type { CallContext, Registry, Server, ServerOptions } from "@zrpc/server";
import { Float64 } from "@zrpc/wire";
import type { WireValue } from "@zrpc/wire";
import { TEST_METHODS, TEST_SERVICE_HEARTBEAT_MS, TEST_SERVICE_NAME, expectedTypesJson, patternBytes } from "@zrpc/test-support";
import { fromTypedJson } from "./typed-json.js";

/** A float on the wire: a {@link Float64}, or a plain number that is not a safe integer (or is -0). */
function isFloat(value: unknown): value is Float64 | number {
  if (value instanceof Float64) return true;
  return typeof value === "number" && (!Number.isSafeInteger(value) || Object.is(value, -0));
}

/** An int on the wire: a safe-integer number or a bigint. */
function isInt(value: unknown): value is number | bigint {
  return typeof value === "bigint" || (typeof value === "number" && Number.isSafeInteger(value) && !Object.is(value, -0));
}

/** Python's type name, for TypeError messages like Python's. */
function pythonType(value: unknown): string {
  if (value === null || value === undefined) return "NoneType";
  if (typeof value === "boolean") return "bool";
  if (isInt(value)) return "int";
  if (isFloat(value)) return "float";
  if (typeof value === "string") return "str";
  if (value instanceof Uint8Array) return "bytes";
  if (Array.isArray(value)) return "list";
  return "dict";
}

/**
 * `a + b` as Python computes it: exact integers of any size (bigint arithmetic when an operand is
 * a bigint or the sum leaves the safe range; the result is a plain number again when it fits),
 * float + int or float -> float64 (a {@link Float64}, so `3.0` stays float64), str and bytes and
 * list concatenation. Anything else throws `TypeError` like Python.
 */
export function pythonAdd(a: unknown, b: unknown): unknown {
  if (isInt(a) && isInt(b)) {
    if (typeof a === "number" && typeof b === "number") {
      const sum = a + b;
      if (Number.isSafeInteger(sum)) return sum;
    }
    const exact = BigInt(a) + BigInt(b);
    return exact >= BigInt(Number.MIN_SAFE_INTEGER) && exact <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(exact) : exact;
  }
  if ((isFloat(a) || isInt(a)) && (isFloat(b) || isInt(b))) {
    return new Float64(Number(a) + Number(b));
  }
  if (typeof a === "string" && typeof b === "string") return a + b;
  if (a instanceof Uint8Array && b instanceof Uint8Array) {
    const out = new Uint8Array(a.length + b.length);
    out.set(a);
    out.set(b, a.length);
    return out;
  }
  if (Array.isArray(a) && Array.isArray(b)) return [...(a as unknown[]), ...(b as unknown[])];
  throw new ServiceError("TypeError", `unsupported operand type(s) for +: '${pythonType(a)}' and '${pythonType(b)}'`);
}

/** Waits `ms` milliseconds, or rejects with the signal's reason as soon as it aborts. */
function wait(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted === true) {
      reject(signal.reason as Error);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

function count(value: unknown, method: string): number {
  const n = typeof value === "bigint" ? Number(value) : value;
  if (typeof n !== "number" || !Number.isSafeInteger(n)) {
    throw new ServiceError("TypeError", `${method}() expects an int, got '${pythonType(value)}'`);
  }
  return n;
}

/**
 * The reply of `types()`: one value of every msgpack type, built from the table in
 * @zrpc/test-support (whose own tests compare it with zerorpc-python's recorded reply,
 * vector `call_no_args`).
 */
export function testTypesValue(): WireValue {
  return fromTypedJson(expectedTypesJson());
}

/**
 * The TestService's methods in a new registry, registered in alphabetical order (the order
 * zerorpc-python's `_zerorpc_list` gives for a class-based service), with the argument names and
 * docstrings of docs/protocol/test-service.md.
 */
export function createTestRegistry(): Registry {
  const registry = createRegistry();
  const options = (name: string): { name: string; args: readonly string[]; doc: string; stream: boolean } => {
    const spec = TEST_METHODS[name]!;
    return { name, args: spec.args, doc: spec.doc, stream: spec.stream };
  };
  registry.register((a: unknown, b: unknown) => pythonAdd(a, b), options("add"));
  registry.register((n: unknown) => patternBytes(count(n, "big")), options("big"));
  registry.register((x: unknown) => x, options("echo"));
  registry.register((msg: unknown): never => {
    throw new ServiceError("ValueError", typeof msg === "string" ? msg : String(msg));
  }, options("fail"));
  registry.register((name: unknown) => {
    if (typeof name !== "string") throw new ServiceError("TypeError", `can only concatenate str (not "${pythonType(name)}") to str`);
    return `Hello, ${name}`;
  }, options("hello"));
  registry.register(function* range(n: unknown) {
    const limit = count(n, "range");
    for (let i = 0; i < limit; i++) yield i;
  }, options("range"));
  registry.register(async function sleep(this: CallContext | undefined, seconds: unknown) {
    const value = Number(seconds);
    if (!Number.isFinite(value) || value < 0) {
      throw new ServiceError("ValueError", "sleep length must be a non-negative finite number");
    }
    // Honour the call's signal: when the client is lost the timer stops with the call.
    await wait(value * 1000, this?.signal);
    return seconds;
  }, options("sleep"));
  registry.register(() => testTypesValue(), options("types"));
  return registry;
}

/** Options of {@link createTestService}: the server's, with name and heartbeat preset. */
export type TestServiceOptions = Partial<ServerOptions>;

/**
 * Our server serving the TestService: name `TestService`, heartbeat 1 s (both overridable through
 * `options`). Call `bind(endpoint)` on the result, and `close()` when done.
 */
export function createTestService(options: TestServiceOptions = {}): Server {
  return createServer(createTestRegistry(), {
    name: TEST_SERVICE_NAME,
    heartbeatMs: TEST_SERVICE_HEARTBEAT_MS,
    ...options,
  });
}
