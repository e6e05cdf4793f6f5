// The method table of a service: names, handlers, stream flags, docs and argument specs.
import { RegistrationError } from "./errors.js";
import { processWide } from "./process-wide.js";
import { argsFromInput, arityOf, parseArgs } from "./signature.js";
import type { ArgsInput, ArgsSpec } from "./signature.js";
import type { MethodTypes } from "./method-types.js";
import type { StreamHandler } from "./stream-types.js";

/**
 * Any handler. It receives the request's positional arguments as decoded wire values (see
 * `@zrpc/wire`'s value table: `Float64` for integral floats, `bigint` beyond 2^53, `Uint8Array`
 * for bin, ...). Registry handlers are called with `this` set to the `CallContext`.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- handlers take any wire values
export type Handler = (...args: any[]) => unknown;

/** Options of {@link Registry.register}. */
export interface RegisterOptions {
  /** The method name; defaults to `fn.name`. Must be non-empty and unique in the registry. */
  readonly name?: string;
  /**
   * Reply with a stream (`STREAM` items then `STREAM_DONE`) instead of `OK`. Defaults to true for
   * generator and async generator functions, false otherwise; a stream handler may also be a
   * plain or async function returning an iterable or async iterable.
   */
  readonly stream?: boolean;
  /** Documentation for `_zerorpc_help` / `_zerorpc_inspect`, cleaned like Python's `inspect.cleandoc`. */
  readonly doc?: string;
  /**
   * The argument names (and defaults), when reading them from the function's source is not
   * possible or not wanted (bound functions, `arguments`-based code, minified code). Without it
   * they are parsed from `fn.toString()`.
   */
  readonly args?: ArgsInput;
  /** Where the registration comes from (a module path, ...), for duplicate-name errors. */
  readonly source?: string;
  /**
   * TypeScript type texts of the arguments and the result
   * (`{ args: ["number"], result: "{ id: number; title: string; } | null" }`), sent in the
   * `zrpc_types` key of `_zerorpc_inspect` for `zrpc types`. The module `zrpc types` writes
   * declares no other types: write them structurally (a name such as `Ticket` becomes `unknown`).
   */
  readonly types?: MethodTypes;
}

/** Everything the server knows about one method. */
export interface MethodSpec {
  /** The method name as clients call it. */
  readonly name: string;
  /** The handler. */
  readonly fn: Handler;
  /** True for a stream method (`STREAM`... `STREAM_DONE`). */
  readonly stream: boolean;
  /** Raw documentation, or `null`. */
  readonly doc: string | null;
  /** Declared arguments, or `null` when unknown (no arity check then, introspection shows nil). */
  readonly args: ArgsSpec | null;
  /** Fewest positional arguments accepted (0 when `args` is unknown). */
  readonly minArity: number;
  /** Most positional arguments accepted (`Infinity` with a rest parameter or unknown `args`). */
  readonly maxArity: number;
  /** The `source` given at registration. */
  readonly source: string | undefined;
  /** The type texts given at registration, or `null`. */
  readonly types: MethodTypes | null;
}

/**
 * A table of methods, in registration order. Build one with {@link createRegistry} and serve it
 * with `createServer(registry)`; the server looks methods up at call time, so methods registered
 * after the server started are served too.
 */
export interface Registry {
  /**
   * Adds `fn` as a method and returns `fn` unchanged, so it can wrap a declaration:
   * `export const add = register(function add(a, b) { return a + b; })`.
   * Throws {@link RegistrationError} for a missing, reserved (`_zerorpc_*`) or duplicate name.
   *
   * With `stream: true` the returned function's type says so ({@link StreamHandler}): a client
   * typed from the module's exports sees an `AsyncIterable` of the items (the elements of an
   * array result).
   */
  register<TFn extends Handler>(fn: TFn, options: RegisterOptions & { readonly stream: true }): StreamHandler<TFn>;
  register<TFn extends Handler>(fn: TFn, options?: RegisterOptions): TFn;
  /** The method called `name`, if any. */
  get(name: string): MethodSpec | undefined;
  /** True when a method called `name` is registered. */
  has(name: string): boolean;
  /** Method names in registration order. */
  names(): string[];
  /** The methods in registration order. */
  entries(): MethodSpec[];
}

/** Prefix of zerorpc's introspection methods; user methods cannot use it. */
export const INTROSPECTION_PREFIX = "_zerorpc_";

/**
 * True for generator and async generator functions, which become stream methods by default.
 * @internal
 */
export function isGeneratorFunction(fn: unknown): boolean {
  const tag = Object.prototype.toString.call(fn);
  return tag === "[object GeneratorFunction]" || tag === "[object AsyncGeneratorFunction]";
}

/**
 * Builds a {@link MethodSpec}; validates the name, the function and explicit `args`.
 * @internal
 */
export function createMethodSpec(fn: Handler, options: RegisterOptions = {}, allowReserved = false): MethodSpec {
  const name = options.name ?? (typeof fn === "function" ? fn.name : undefined);
  const source = options.source;
  if (typeof name !== "string" || name.length === 0) {
    throw new RegistrationError(
      "invalid-name",
      String(name),
      `a method needs a non-empty name: pass { name } to register an anonymous function${source === undefined ? "" : ` (at ${source})`}`,
      { source },
    );
  }
  if (name.startsWith(INTROSPECTION_PREFIX) && !allowReserved) {
    throw new RegistrationError("reserved-name", name, `method name "${name}" is reserved for zerorpc introspection`, { source });
  }
  if (typeof fn !== "function") {
    throw new RegistrationError("not-a-function", name, `method "${name}" is not a function`, { source });
  }
  let args: ArgsSpec | null;
  if (options.args === undefined) {
    args = parseArgs(fn);
  } else {
    try {
      args = argsFromInput(options.args);
    } catch (error) {
      throw new RegistrationError("invalid-args", name, `method "${name}": ${(error as Error).message}`, { source });
    }
  }
  const arity = args === null ? { min: 0, max: Number.POSITIVE_INFINITY } : arityOf(args);
  return {
    name,
    fn,
    stream: options.stream ?? isGeneratorFunction(fn),
    doc: options.doc ?? null,
    args,
    minArity: arity.min,
    maxArity: arity.max,
    source,
    types: options.types ?? null,
  };
}

const REGISTRY_BRAND = Symbol.for("zrpc.server.registry");

class MethodRegistry implements Registry {
  readonly [REGISTRY_BRAND] = true;
  private readonly table = new Map<string, MethodSpec>();

  register<TFn extends Handler>(fn: TFn, options: RegisterOptions & { readonly stream: true }): StreamHandler<TFn>;
  register<TFn extends Handler>(fn: TFn, options?: RegisterOptions): TFn;
  register<TFn extends Handler>(fn: TFn, options: RegisterOptions = {}): TFn {
    const spec = createMethodSpec(fn, options);
    const existing = this.table.get(spec.name);
    if (existing !== undefined) {
      const where = (value: string | undefined): string => value ?? "an unnamed source";
      const detail =
        existing.source === undefined && spec.source === undefined
          ? ""
          : ` (first registered at ${where(existing.source)}, again at ${where(spec.source)})`;
      throw new RegistrationError("duplicate", spec.name, `method "${spec.name}" is already registered${detail}`, {
        existing: existing.source,
        source: spec.source,
      });
    }
    this.table.set(spec.name, spec);
    return fn;
  }

  get(name: string): MethodSpec | undefined {
    return this.table.get(name);
  }

  has(name: string): boolean {
    return this.table.has(name);
  }

  names(): string[] {
    return [...this.table.keys()];
  }

  entries(): MethodSpec[] {
    return [...this.table.values()];
  }
}

/** A new, empty {@link Registry}. */
export function createRegistry(): Registry {
  return new MethodRegistry();
}

/**
 * True when `value` is a {@link Registry} made by {@link createRegistry} (from any loaded copy of
 * this package). `createServer` uses it to tell a registry from an object service.
 */
export function isRegistry(value: unknown): value is Registry {
  return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[REGISTRY_BRAND] === true;
}

const REGISTRY_METHODS = ["register", "get", "has", "names", "entries"] as const;

/** True for a registry from any copy of this package that has every method this copy calls. */
function fitsAsDefault(value: unknown): value is Registry {
  return isRegistry(value) && REGISTRY_METHODS.every((method) => typeof (value as unknown as Record<string, unknown>)[method] === "function");
}

/**
 * The process-wide default registry, for applications that declare methods across modules
 * (like Celery tasks): `register(fn)` adds to it, `createServer(registry)` serves it. Libraries
 * should create their own with {@link createRegistry}.
 *
 * It is one per process, not one per loaded copy of this package: it lives on `globalThis` under
 * `Symbol.for("zrpc.server.defaultRegistry")`, so a method registered through the CommonJS build
 * (`require("@zrpc/server")`, e.g. a CommonJS app's `rpcs.ts`) is served by a server made with
 * the ESM build (`zrpc run`), and the other way round.
 */
export const registry: Registry = processWide("zrpc.server.defaultRegistry", createRegistry, fitsAsDefault);

/**
 * Registers `fn` in the default {@link registry} and returns it; see {@link Registry.register}.
 * With `stream: true` its type says so ({@link StreamHandler}), for clients typed from the module.
 */
export function register<TFn extends Handler>(fn: TFn, options: RegisterOptions & { readonly stream: true }): StreamHandler<TFn>;
export function register<TFn extends Handler>(fn: TFn, options?: RegisterOptions): TFn;
export function register<TFn extends Handler>(fn: TFn, options?: RegisterOptions): TFn {
  return registry.register(fn, options);
}
