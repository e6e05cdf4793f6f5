// Small assertion helpers for the checks: each failure throws a CheckFailure whose message is the
// reason printed after `FAIL name:`.
import { describeValue, toTypedJson, typedJsonEqual } from "./typed-json.js";
import type { TypedJson } from "./typed-json.js";

/** A check's assertion failed; `message` is the reason. */
export class CheckFailure extends Error {
  override name = "CheckFailure";
}

/**
 * Fails the check with `reason` unless `condition` holds. Pass the reason as a function when
 * building it is costly (it may describe a 16 MiB value): it is only called on failure.
 */
export function check(condition: boolean, reason: string | (() => string)): asserts condition {
  if (!condition) throw new CheckFailure(typeof reason === "string" ? reason : reason());
}

const MAX_SHOWN = 160;

/** Typed JSON text of a value, shortened for a failure reason. */
export function show(value: unknown): string {
  let text: string;
  try {
    text = describeValue(value);
  } catch {
    text = String(value);
  }
  return text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN)}... (${text.length} chars)` : text;
}

/** Fails unless `actual`, in typed JSON (msgpack types included), equals `expected`. */
export function expectTyped(actual: unknown, expected: TypedJson, what: string): void {
  let json: TypedJson;
  try {
    json = toTypedJson(actual);
  } catch (error) {
    throw new CheckFailure(`${what}: not a msgpack value (${String(error)})`);
  }
  if (!typedJsonEqual(json, expected)) {
    throw new CheckFailure(`${what}: expected ${show(expected)}, got ${show(actual)}${firstDifference(json, expected)}`);
  }
}

/** Fails unless `actual` and `expected` have the same msgpack types and values. */
export function expectSame(actual: unknown, expected: unknown, what: string): void {
  expectTyped(actual, toTypedJson(expected), what);
}

/** " (first difference at path p: ...)" for nested values, or "" when the difference is at the top. */
function firstDifference(actual: TypedJson, expected: TypedJson): string {
  const path = diffPath(actual, expected, "");
  return path === undefined || path.path === "" ? "" : ` (first difference at ${path.path}: expected ${show(path.expected)}, got ${show(path.actual)})`;
}

interface Difference {
  path: string;
  actual: TypedJson | undefined;
  expected: TypedJson | undefined;
}

function diffPath(actual: TypedJson | undefined, expected: TypedJson | undefined, path: string): Difference | undefined {
  if (actual !== undefined && expected !== undefined && typedJsonEqual(actual, expected)) return undefined;
  const bothArrays = Array.isArray(actual) && Array.isArray(expected);
  const bothObjects =
    typeof actual === "object" && actual !== null && !Array.isArray(actual) &&
    typeof expected === "object" && expected !== null && !Array.isArray(expected);
  if (bothArrays) {
    const length = Math.max(actual.length, expected.length);
    for (let i = 0; i < length; i++) {
      const inner = diffPath(actual[i], expected[i], `${path}[${i}]`);
      if (inner !== undefined) return inner;
    }
  } else if (bothObjects) {
    const keys = [...new Set([...Object.keys(expected), ...Object.keys(actual)])];
    for (const key of keys) {
      const inner = diffPath(actual[key], expected[key], `${path}.${key}`);
      if (inner !== undefined) return inner;
    }
    if (Object.keys(actual).join("\0") !== Object.keys(expected).join("\0")) {
      return { path: `${path} (key order)`, actual: Object.keys(actual), expected: Object.keys(expected) };
    }
  }
  return { path, actual, expected };
}

/** What a rejected promise rejected with, or a CheckFailure if it fulfilled. */
export async function rejection(promise: Promise<unknown>, what: string): Promise<unknown> {
  let value: unknown;
  try {
    value = await promise;
  } catch (error) {
    return error;
  }
  throw new CheckFailure(`${what}: expected an error, got the result ${show(value)}`);
}

/** A short description of an error for failure reasons. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}
