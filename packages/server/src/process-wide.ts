// State that is one per process, not one per loaded copy of this package. A process holds two
// copies of @zrpc/server when ESM and CommonJS code both load it: `zrpc run` (ESM) imports the
// ESM build while a CommonJS app's rpcs.ts, compiled to CommonJS, requires the CJS build; and a
// bundle or a nested install may add more. Each piece of shared state lives on `globalThis` under
// a `Symbol.for` key, made by whichever copy asks first and found there by the others.
//
// Copies of different versions may meet. The stored value is therefore checked against what this
// copy needs before it is used; a value that does not fit is left alone (the copy that made it
// keeps working) and this copy falls back to a value of its own, with a process warning. A change
// that makes an old value unusable must come with a new key (`...v2`), not a crash.
import { processWarningLogger } from "./logger.js";

/**
 * The value stored on `globalThis` under `Symbol.for(key)`; the first caller in the process
 * stores `create()` there (non-enumerable, read-only). When the stored value fails `fits`, a
 * value made by `create()` is returned without being stored, and a warning says so.
 * @internal
 */
export function processWide<T>(key: string, create: () => T, fits: (value: unknown) => value is T): T {
  const symbol = Symbol.for(key);
  const holder = globalThis as unknown as Record<symbol, unknown>;
  const existing = holder[symbol];
  if (fits(existing)) return existing;
  const own = create();
  if (existing === undefined && !Object.prototype.hasOwnProperty.call(globalThis, symbol)) {
    Object.defineProperty(globalThis, symbol, { value: own, enumerable: false, writable: false, configurable: false });
  } else {
    processWarningLogger.warn(
      `@zrpc/server: globalThis[Symbol.for(${JSON.stringify(key)})] holds a value this copy of @zrpc/server cannot use ` +
        "(another, incompatible version is loaded in this process); this copy keeps its own, so the two do not share it",
    );
  }
  return own;
}
