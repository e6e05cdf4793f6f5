// Compile-time typing of a client from a service type: the proxy's methods and the typed
// overloads of call() and stream(). Types only.
import type { CallResult } from "./call.js";
import type { CallOptions } from "./options.js";

/** Any function type (the widest parameter list is `never[]`, so every function is assignable). */
type AnyFunction = (...args: never[]) => unknown;

/**
 * Results that are iterable but travel as one msgpack value, never as a stream: strings, arrays,
 * binary data (`Uint8Array` and other typed arrays) and maps.
 */
type PlainIterable = string | readonly unknown[] | ArrayBufferView | ReadonlyMap<unknown, unknown>;

/**
 * The item type of a streaming result, or `never` when `TResult` is not a stream. A server method
 * streams when it returns a `Generator`, `AsyncGenerator`, `Iterable` or `AsyncIterable` that is
 * not a string, array, typed array or map (docs/protocol section 6.3).
 */
export type StreamItem<TResult> = TResult extends PlainIterable
  ? never
  : TResult extends AsyncIterable<infer TItem>
    ? TItem
    : TResult extends Iterable<infer TItem>
      ? TItem
      : never;

/**
 * `[TItem]` when method type `TMethod` carries the stream item type a server declared for it,
 * `[]` otherwise. `@zrpc/server`'s `register(fn, { stream: true })` returns `fn` typed with an
 * optional, type-only `~zrpc.streamItem` property (its `StreamHandler`): a function returning
 * `Ticket[]` registered so is a stream of `Ticket` for a client typed from the module's exports.
 */
type DeclaredStream<TMethod> = "~zrpc" extends keyof TMethod
  ? Exclude<TMethod["~zrpc" & keyof TMethod], undefined> extends { readonly streamItem: infer TItem }
    ? [TItem]
    : []
  : [];

/**
 * The item type of the stream method type `TMethod`, or `never` when it is unary: the declared
 * item type (see {@link DeclaredStream}), else {@link StreamItem} of its result.
 */
type MethodStreamItem<TMethod> = DeclaredStream<TMethod> extends [infer TItem]
  ? TItem
  : TMethod extends (...args: never[]) => infer TResult
    ? StreamItem<TResult>
    : never;

/**
 * The methods a client is typed with, for a service type `TService`: the type itself (an interface
 * or class of the server's methods), or, for a value that carries its client view in a
 * `~zrpc.service` property, that view. `@zrpc/server`'s `defineRpcs()` returns such a value, so
 * `connect<typeof rpcs>(...)` (with `import type { rpcs } from "./app/rpcs.js"`) is typed from the
 * server's own code without loading it.
 */
export type ServiceType<TService> = TService extends { readonly "~zrpc": { readonly service?: infer TView } }
  ? Exclude<TView, undefined>
  : TService;

/** The names of the methods of a resolved service type (string keys whose value is a function). */
type MethodNameOf<TMethods> = {
  [K in keyof TMethods]-?: K extends string ? (TMethods[K] extends AnyFunction ? K : never) : never;
}[keyof TMethods];

/** The method `TName` of a resolved service type. */
type MethodOf<TMethods, TName> = TName extends keyof TMethods ? TMethods[TName] : never;

/** The names of `TService`'s methods (string keys whose value is a function). */
export type MethodName<TService> = MethodNameOf<ServiceType<TService>>;

/** The parameter list of method `TName` of `TService`. */
export type MethodArgs<TService, TName extends MethodName<TService>> = MethodOf<ServiceType<TService>, TName> extends (...args: infer TArgs) => unknown
  ? TArgs
  : never;

/** The raw return type of method `TName` of `TService`. */
type MethodReturn<TService, TName extends MethodName<TService>> = MethodOf<ServiceType<TService>, TName> extends (...args: never[]) => infer TResult
  ? TResult
  : never;

/** The stream item type of method `TName` of `TService`, or `never` when it is unary. */
type MethodItem<TService, TName extends MethodName<TService>> = MethodStreamItem<MethodOf<ServiceType<TService>, TName>>;

/**
 * What `call()` resolves with for method `TName`: the awaited result of a unary method, or an
 * array of the items of a streaming one (the client collects a streamed reply).
 */
export type CallValue<TService, TName extends MethodName<TService>> = [MethodItem<TService, TName>] extends [never]
  ? Awaited<MethodReturn<TService, TName>>
  : MethodItem<TService, TName>[];

/**
 * What `stream()` yields for method `TName`: the items of a streaming method, or the single result
 * of a unary one (yielded once).
 */
export type StreamValue<TService, TName extends MethodName<TService>> = [MethodItem<TService, TName>] extends [never]
  ? Awaited<MethodReturn<TService, TName>>
  : MethodItem<TService, TName>;

/**
 * The arguments after the method name of a typed `call`/`stream`: the argument tuple (optional
 * when the method takes none) and the call options.
 */
export type TypedCallRest<TArgs extends readonly unknown[]> = [] extends TArgs
  ? [args?: TArgs, options?: CallOptions]
  : [args: TArgs, options?: CallOptions];

/** The names of zerorpc's introspection methods (`_zerorpc_inspect`, `_zerorpc_list`, ...), served by every server. */
export type IntrospectionName = `_zerorpc_${string}`;

/**
 * The names the untyped overloads of `call`/`stream`/`invoke` accept, given `TName`: without a
 * service type (`Client`, `Client<unknown>`) any name; with one, only the introspection names
 * (`_zerorpc_*`, which no service declares). A name of the service is `never` here, so a known
 * method always goes through the typed overload (its arguments are checked), and a name the
 * service does not have fails to compile. When `TName` is not inferred (an explicit result type,
 * `call<string[]>("_zerorpc_list")`), it is `string` and this gives the introspection names.
 * `untyped(client)` (`@zrpc/client`) is the way to call other names on a typed client.
 */
export type UnknownMethodName<TService, TName extends string> = unknown extends TService
  ? TName
  : TName extends MethodName<TService>
    ? never
    : TName extends IntrospectionName
      ? TName
      : string extends TName
        ? IntrospectionName
        : never;

/**
 * A typed proxy method: streaming methods return an `AsyncIterable`, others a `Promise`. A method
 * streams when its result is a stream ({@link StreamItem}) or when the server declared it one
 * (`register(fn, { stream: true })` of `@zrpc/server`).
 */
export type ProxyMethod<TMethod> = TMethod extends (...args: infer TArgs) => infer TResult
  ? [MethodStreamItem<TMethod>] extends [never]
    ? (...args: TArgs) => Promise<Awaited<TResult>>
    : (...args: TArgs) => AsyncIterable<MethodStreamItem<TMethod>>
  : never;

/** The proxy of a client without a service type: any name, any arguments, a {@link CallResult}. */
export type UntypedProxy = { readonly [method: string]: (...args: unknown[]) => CallResult };

/**
 * `client.proxy`: one function per remote method. `client.proxy.add(1, 2)` is
 * `client.invoke("add", [1, 2])`. Typed from `TService` when the client has one (the method
 * names, parameters and results are checked at compile time; `then` is left out so that the proxy
 * is never a thenable), otherwise {@link UntypedProxy}. `TService` may be a value type that
 * carries its client view (see {@link ServiceType}).
 */
export type ClientProxy<TService> = unknown extends TService ? UntypedProxy : TypedProxy<ServiceType<TService>>;

/** The proxy of a resolved service type. */
type TypedProxy<TMethods> = { readonly [K in MethodNameOf<TMethods> as K extends "then" ? never : K]: ProxyMethod<TMethods[K]> };
