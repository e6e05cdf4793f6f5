// zerorpc's built-in introspection methods, with the reply shapes of docs/protocol section 10.
import { ServiceError } from "./errors.js";
import { cleandoc, pythonKeyText } from "./python.js";
import { INTROSPECTION_PREFIX, createMethodSpec } from "./registry.js";
import type { MethodSpec } from "./registry.js";
import type { MethodTable } from "./service.js";
import type { ArgsSpec } from "./signature.js";
import type { MethodTypes, MethodTypesTable } from "./method-types.js";

/** Names of the built-in methods every server answers. */
export const INTROSPECTION_METHODS = [
  "_zerorpc_list",
  "_zerorpc_name",
  "_zerorpc_ping",
  "_zerorpc_help",
  "_zerorpc_args",
  "_zerorpc_inspect",
] as const;

/** One method of the `zrpc_types` key of a `_zerorpc_inspect` reply. */
export interface InspectMethodTypes {
  /** One type text per parameter (`"unknown"` where none was given). */
  args: string[] | null;
  /** The rest parameter, or nil without one. */
  rest: { name: string; type: string } | null;
  /** The result type (the item type of a stream method). */
  result: string;
  /** True for a stream method. */
  stream: boolean;
}

/** True for a name of zerorpc's introspection namespace (`_zerorpc_*`). */
export function isIntrospectionName(name: string): boolean {
  return name.startsWith(INTROSPECTION_PREFIX);
}

/** Methods that `_zerorpc_list` and `_zerorpc_inspect` show: zerorpc-python hides `_`-prefixed names. */
function publicNames(table: MethodTable): string[] {
  return table.names().filter((name) => !name.startsWith("_"));
}

/** `_zerorpc_help` / `_zerorpc_args` of an unknown method: ERR `KeyError` `'nope'`, as in Python. */
function lookup(table: MethodTable, name: unknown): MethodSpec {
  const spec = typeof name === "string" ? table.get(name) : undefined;
  if (spec === undefined) throw new ServiceError("KeyError", pythonKeyText(name));
  return spec;
}

function docOf(spec: MethodSpec): string | null {
  return spec.doc === null ? null : cleandoc(spec.doc);
}

/** Values of the trailing run of parameters with defaults (Python's `defaults` tuple). */
function trailingDefaults(args: ArgsSpec): unknown[] {
  const values: unknown[] = [];
  for (let i = args.params.length - 1; i >= 0; i--) {
    const param = args.params[i]!;
    if (!param.hasDefault) break;
    values.unshift(param.default ?? null);
  }
  return values;
}

/** `[args, varargs, varkw, defaults]`, the shape of Python's `getargspec`. */
function argSpecTuple(spec: MethodSpec): [string[], string | null, null, unknown[] | null] {
  const args = spec.args;
  if (args === null) {
    // inspect.getargspec raises this for callables it cannot read.
    throw new ServiceError("TypeError", "unsupported callable");
  }
  const defaults = trailingDefaults(args);
  return [args.params.map((param) => param.name), args.rest, null, defaults.length === 0 ? null : defaults];
}

/** `[{name}, {name, default}, ...]` as `_zerorpc_inspect` lists arguments, or nil when unknown. */
function inspectArgs(spec: MethodSpec): { name: string; default?: unknown }[] | null {
  const args = spec.args;
  if (args === null) return null;
  const defaults = trailingDefaults(args);
  const firstDefault = args.params.length - defaults.length;
  return args.params.map((param, index) =>
    index >= firstDefault ? { name: param.name, default: defaults[index - firstDefault] } : { name: param.name },
  );
}

const UNKNOWN = "unknown";

/** The `zrpc_types` entry of one method: what `types` says, `unknown` elsewhere. */
function inspectTypes(spec: MethodSpec, types: MethodTypes | undefined): InspectMethodTypes {
  const args = spec.args;
  return {
    args: args === null ? null : args.params.map((_, index) => types?.args?.[index] ?? UNKNOWN),
    rest: args?.rest === null || args?.rest === undefined ? null : { name: args.rest, type: types?.rest ?? UNKNOWN },
    result: types?.result ?? UNKNOWN,
    stream: spec.stream,
  };
}

/** Own entries only: a `types` table built from JSON may hold a `__proto__` key. */
function typesFor(table: MethodTypesTable | undefined, name: string): MethodTypes | undefined {
  return table !== undefined && Object.hasOwn(table, name) ? table[name] : undefined;
}

/**
 * @internal The introspection methods of a server, as method specs (so they get the same arity
 * checks and middleware as user methods). `types` adds the `zrpc_types` key to the
 * `_zerorpc_inspect` reply (after `name` and `methods`, which stay as zerorpc-python shapes them).
 */
export function createIntrospection(table: MethodTable, serverName: () => string, types?: MethodTypesTable): Map<string, MethodSpec> {
  const specs: MethodSpec[] = [
    createMethodSpec(() => publicNames(table), {
      name: "_zerorpc_list",
      args: [],
      doc: "List the methods of this service.",
    }, true),
    createMethodSpec(() => serverName(), { name: "_zerorpc_name", args: [], doc: "The name of this service." }, true),
    createMethodSpec(() => ["pong", serverName()], { name: "_zerorpc_ping", args: [], doc: "Answer ['pong', name]." }, true),
    createMethodSpec((method: unknown) => docOf(lookup(table, method)), {
      name: "_zerorpc_help",
      args: ["method"],
      doc: "The documentation of a method.",
    }, true),
    createMethodSpec((method: unknown) => argSpecTuple(lookup(table, method)), {
      name: "_zerorpc_args",
      args: ["method"],
      doc: "The arguments of a method: [args, varargs, varkw, defaults].",
    }, true),
    createMethodSpec(
      () => {
        const methods: Record<string, { args: unknown; doc: string | null }> = Object.create(null) as Record<
          string,
          { args: unknown; doc: string | null }
        >;
        const typeTable: Record<string, InspectMethodTypes> = Object.create(null) as Record<string, InspectMethodTypes>;
        for (const name of publicNames(table)) {
          const spec = table.get(name);
          if (spec === undefined) continue;
          methods[name] = { args: inspectArgs(spec), doc: docOf(spec) };
          // The registration's own types win over the server's table (e.g. what `zrpc run --types` derived).
          typeTable[name] = inspectTypes(spec, spec.types ?? typesFor(types, name));
        }
        // zrpc_types is a zrpc extension: zerorpc-python clients read `name` and `methods` only.
        return { name: serverName(), methods, zrpc_types: typeTable };
      },
      { name: "_zerorpc_inspect", args: [], doc: "Describe the service: its name and methods." },
      true,
    ),
  ];
  return new Map(specs.map((spec) => [spec.name, spec]));
}
