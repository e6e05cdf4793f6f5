// Typed declarations of a service's methods, for clients typed from the server's own code:
// defineRpcs() registers a map of functions and returns a value whose type describes the methods
// as a client calls them; ServiceOf<> gives that type for object and class services. A client
// module reaches it with `import type`, which loads nothing at run time.
import { createMethodSpec, registry as defaultRegistry, isRegistry } from "./registry.js";
import type { Handler, RegisterOptions, Registry } from "./registry.js";
import type { ArgsInput } from "./signature.js";
import type { MethodTypes } from "./method-types.js";
import type { ReturnOf, StreamItemOf } from "./stream-types.js";

/** True when `TFn` was registered with `stream: true` (see `StreamHandler` in stream-types.ts). */
type IsDeclaredStream<TFn> = "~zrpc" extends keyof TFn
  ? Exclude<TFn["~zrpc" & keyof TFn], undefined> extends { readonly streamItem: unknown }
    ? true
    : false
  : false;

/** True when a function returning `TResult` is taken for a generator function (a stream by default). */
type ReturnsGenerator<TResult> = [TResult] extends [never]
  ? false
  : [TResult] extends [Generator<unknown, unknown, never> | AsyncGenerator<unknown, unknown, never>]
    ? true
    : false;

/**
 * A method as a client calls it: `(...args) => AsyncIterable<Item>` for a stream method,
 * `(...args) => Promise<Result>` for a unary one. Parameters are the function's (without `this`).
 */
export type RemoteMethod<TFn, TStream extends boolean> = TFn extends (...args: infer TArgs) => infer TResult
  ? TStream extends true
    ? (...args: TArgs) => AsyncIterable<StreamItemOf<TResult>>
    : (...args: TArgs) => Promise<Awaited<TResult>>
  : never;

/** The function names of `TFns` that can be declared streams (they return an array or an iterable). */
export type StreamableName<TFns> = {
  [K in keyof TFns]-?: K extends string
    ? TFns[K] extends (...args: never[]) => infer TResult
      ? [StreamItemOf<TResult>] extends [never]
        ? never
        : K
      : never
    : never;
}[keyof TFns];

/**
 * The client view of the functions `TFns` registered by {@link defineRpcs}: those named in
 * `TStream` and those returning a `Generator` / `AsyncGenerator` are streams, the others unary.
 */
export type RpcsService<TFns, TStream extends PropertyKey = never> = {
  readonly [K in keyof TFns]: RemoteMethod<TFns[K], K extends TStream ? true : IsDeclaredStream<TFns[K]> extends true ? true : ReturnsGenerator<ReturnOf<TFns[K]>>>;
};


/**
 * What {@link defineRpcs} returns: which methods it registered and where, and, in its type only,
 * the methods as a client calls them. `connect<typeof rpcs>(...)` of `@zrpc/client` types its
 * client with them; {@link ServiceOf} reads them out (`ServiceOf<typeof rpcs>`).
 */
export interface Rpcs<TService> {
  /** The method names registered, in registration order. */
  readonly names: readonly string[];
  /** The registry they were registered in. */
  readonly registry: Registry;
  /**
   * Type information for tools and clients. `service` exists only in the type (at run time it is
   * absent): the methods as a client calls them.
   */
  readonly "~zrpc": { readonly service?: TService };
}

/** Options of {@link defineRpcs}. Names refer to the keys of the function map. */
export interface DefineRpcsOptions<TName extends string, TStream extends TName> {
  /**
   * Methods that reply with a stream although they are not generator functions: functions
   * (also `async`) returning an array, an iterable or an async iterable. Only names of functions
   * that return one are accepted by the compiler. Generator functions are streams without it.
   */
  readonly stream?: readonly TStream[];
  /** Documentation per method, as `RegisterOptions.doc`. */
  readonly docs?: { readonly [K in TName]?: string };
  /** Argument specs per method, as `RegisterOptions.args`. */
  readonly args?: { readonly [K in TName]?: ArgsInput };
  /** Type texts per method, as `RegisterOptions.types` (for `zrpc types`). */
  readonly types?: { readonly [K in TName]?: MethodTypes };
  /** The registry to add the methods to; default: the process-wide default `registry` (as `register()`). */
  readonly registry?: Registry;
  /** Where the registrations come from (a module path, ...), for duplicate-name errors. */
  readonly source?: string;
}

/** Keys starting with `_zerorpc_` are refused by the compiler too (they are zerorpc's introspection). */
type NoReservedNames<TFns> = { readonly [K in keyof TFns as K extends `_zerorpc_${string}` ? K : never]: never };

/**
 * Registers every function of `fns` under its key (`{ get_ticket, ticket_list }` uses the
 * functions' own names), with `register()`'s semantics: the default registry unless
 * `options.registry` is given, unique names, `_zerorpc_*` refused, handlers run with `this` set to
 * the `CallContext`, methods listed in the map's order. Either all functions are registered or,
 * when one cannot be (a duplicate name, a name in the options that is not in the map, ...), none.
 *
 * The returned value's type carries the methods as a client calls them: a client module imports it
 * with `import type` (nothing of the server is loaded) and connects with `connect<typeof rpcs>()`.
 *
 * ```ts
 * export const tickets = defineRpcs({ get_ticket, ticket_list }, { stream: ["ticket_list"] });
 * // client: import type { tickets } from "./tickets/rpcs.js"; connect<typeof tickets>(endpoint)
 * ```
 */
export function defineRpcs<TFns extends Readonly<Record<string, Handler>>, const TStream extends StreamableName<TFns> = never>(
  fns: TFns & NoReservedNames<TFns>,
  options: DefineRpcsOptions<keyof TFns & string, TStream> = {},
): Rpcs<RpcsService<TFns, TStream>> {
  if (typeof fns !== "object" || fns === null) throw new TypeError("defineRpcs needs an object whose values are the method functions");
  const target = options.registry ?? defaultRegistry;
  const names = Object.keys(fns);
  const known = new Set(names);
  const streams = new Set<string>(options.stream ?? []);
  const docs: Readonly<Record<string, string | undefined>> = options.docs ?? {};
  const args: Readonly<Record<string, ArgsInput | undefined>> = options.args ?? {};
  const types: Readonly<Record<string, MethodTypes | undefined>> = options.types ?? {};
  for (const [option, listed] of [
    ["stream", [...streams]],
    ["docs", Object.keys(docs)],
    ["args", Object.keys(args)],
    ["types", Object.keys(types)],
  ] as const) {
    for (const name of listed) {
      if (!known.has(name)) throw new TypeError(`defineRpcs option ${option} names "${name}", which is not a key of the functions`);
    }
  }
  const registrations = names.map((name): [Handler, RegisterOptions] => {
    const doc = docs[name];
    const methodArgs = args[name];
    const methodTypes = types[name];
    return [
      fns[name]!,
      {
        name,
        ...(streams.has(name) ? { stream: true } : {}),
        ...(doc === undefined ? {} : { doc }),
        ...(methodArgs === undefined ? {} : { args: methodArgs }),
        ...(methodTypes === undefined ? {} : { types: methodTypes }),
        ...(options.source === undefined ? {} : { source: options.source }),
      },
    ];
  });
  // Validate everything before registering anything: a failure leaves the registry as it was.
  for (const [fn, registerOptions] of registrations) {
    createMethodSpec(fn, registerOptions);
    // A taken name: let the registry throw its own duplicate error (it registers nothing then).
    if (target.has(registerOptions.name!)) target.register(fn, registerOptions);
  }
  for (const [fn, registerOptions] of registrations) target.register(fn, registerOptions);
  return Object.freeze({ names: Object.freeze([...names]), registry: target, "~zrpc": Object.freeze({}) });
}

/**
 * True for what {@link defineRpcs} returned (from any loaded copy of this package):
 * `createServer(rpcs)` serves `rpcs.registry`.
 * @internal
 */
export function isRpcs(value: unknown): value is Rpcs<unknown> {
  return typeof value === "object" && value !== null && Object.hasOwn(value, "~zrpc") && isRegistry((value as { registry?: unknown }).registry);
}

/** The method names of an object service: functions, not `constructor`, not `_`-prefixed. */
type ObjectMethodName<T> = {
  [K in keyof T]-?: K extends string ? (K extends "constructor" | `_${string}` ? never : T[K] extends Handler ? K : never) : never;
}[keyof T];

/** Names listed under `key` of a class's static `zrpc` options (declared `as const`; a plain `string[]` says nothing). */
type StaticNames<TClass, TKey extends "streams" | "notStreams"> = TClass extends { readonly zrpc: { readonly [K in TKey]?: readonly (infer TName)[] } }
  ? string extends TName
    ? never
    : TName
  : never;

/** The client view of an object service `T`, with `TStream` declared streams and `TNotStream` generators that do not stream. */
type ObjectService<T, TStream, TNotStream> = {
  readonly [K in ObjectMethodName<T>]: RemoteMethod<
    T[K],
    K extends TNotStream ? false : K extends TStream ? true : IsDeclaredStream<T[K]> extends true ? true : ReturnsGenerator<ReturnOf<T[K]>>
  >;
};

/**
 * The methods of a service as a client calls them (stream methods `AsyncIterable<Item>`, unary ones
 * `Promise<Result>`), for `connect<ServiceOf<...>>()`:
 *
 * - `ServiceOf<typeof rpcs>`: what {@link defineRpcs} returned;
 * - `ServiceOf<typeof MyService>` (the class): its instance methods as `createServer(new MyService())`
 *   serves them, with the streams of its static `zrpc` options (declare them `as const`:
 *   `static zrpc = { streams: ["letters"] } as const`);
 * - `ServiceOf<typeof service, "letters">`: a plain object (or instance) service, with the names of
 *   `ServerOptions.methods.streams` as the second argument.
 *
 * Generator methods stream by themselves. Types only: `import type` it.
 */
export type ServiceOf<T, TStream extends string = never> = T extends { readonly "~zrpc": { readonly service?: infer TService } }
  ? Exclude<TService, undefined>
  : T extends abstract new (...args: never[]) => infer TInstance
    ? ObjectService<TInstance, StaticNames<T, "streams"> | TStream, StaticNames<T, "notStreams">>
    : ObjectService<T, TStream, never>;
