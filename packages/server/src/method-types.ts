// Type texts of a service's methods (for `zrpc types`), shared by the registry, defineRpcs and
// introspection: its own module, so that none of them imports another for a type.

/**
 * TypeScript type texts of one method, as `zrpc types` writes them into a generated interface
 * (TypeScript types are erased at run time, so a server only knows what it is told). Every field
 * is optional; a missing one is `unknown` in the generated code.
 */
export interface MethodTypes {
  /** The type of each declared parameter, in order (`["number", "number"]`). */
  readonly args?: readonly string[];
  /** The element type of the rest parameter (`number` for `...values: number[]`). */
  readonly rest?: string;
  /** The result type; for a stream method, the type of one item. */
  readonly result?: string;
}

/** Type texts by method name (the `types` option of `createServer`). */
export type MethodTypesTable = Readonly<Record<string, MethodTypes>>;
