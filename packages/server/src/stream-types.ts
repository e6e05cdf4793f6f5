// The types that say what a stream method yields, shared by register() (registry.ts) and
// defineRpcs() (define-rpcs.ts); type-only, so neither of those imports the other for them.

/**
 * The item type of a stream method whose function returns `TResult`: the result is awaited, then
 * an array gives its elements and an iterable or async iterable its items (`never` when the result
 * is none of these, so the function cannot be a stream).
 */
export type StreamItemOf<TResult> = IterableItem<Awaited<TResult>>;

type IterableItem<T> = T extends readonly (infer TItem)[]
  ? TItem
  : T extends AsyncIterable<infer TItem>
    ? TItem
    : T extends Iterable<infer TItem>
      ? TItem
      : never;

/**
 * What `register(fn, { stream: true })` returns: `fn` itself, typed with the items its stream
 * yields in an optional, type-only `~zrpc` property (absent at run time). A client typed from the
 * module's exports (`connect<typeof rpcs>()` with `import type * as rpcs`) reads it, so a function
 * returning `Ticket[]` registered as a stream is an `AsyncIterable<Ticket>` there, not a
 * `Promise<Ticket[]>`. `@zrpc/client` reads the property by its shape, without importing this.
 */
export type StreamHandler<TFn extends (...args: never[]) => unknown> = TFn & { readonly "~zrpc"?: { readonly streamItem: StreamItemOf<ReturnOf<TFn>> } };

/** The return type of a function type. @internal */
export type ReturnOf<TFn> = TFn extends (...args: never[]) => infer TResult ? TResult : never;
