// Turns what `createServer` is given (a Registry, or an object whose methods are the service) into
// one method table the dispatcher reads.
import { isRpcs } from "./define-rpcs.js";
import { createMethodSpec, isGeneratorFunction, isRegistry } from "./registry.js";
import type { Handler, MethodSpec, Registry } from "./registry.js";
import type { ArgsInput } from "./signature.js";

/**
 * Per-method settings of an object service, for what a class cannot say in JavaScript: which
 * methods stream (generator methods already do), their docs and argument specs. Give it as
 * `ServerOptions.methods`, or as a static `zrpc` property of the class
 * (`static zrpc = { streams: ["range"], docs: { add: "Return a + b." } }`); the options win.
 */
export interface ServiceMethodsOptions {
  /** Methods that reply with a stream although they are not generator functions. */
  readonly streams?: readonly string[];
  /** Methods that must not stream although they are generator functions (they then fail like Python). */
  readonly notStreams?: readonly string[];
  /** Documentation per method name. */
  readonly docs?: Readonly<Record<string, string>>;
  /** Argument specs per method name (see `RegisterOptions.args`). */
  readonly args?: Readonly<Record<string, ArgsInput>>;
}

/**
 * A service as `createServer` accepts it: a registry, what `defineRpcs()` returned (its registry is
 * served, with every method in it), or an object whose methods are the service.
 */
export type Service = Registry | object;

/** @internal The dispatcher's view of a service. */
export interface MethodTable {
  /** Default service name (class name of an object service, else "zrpc"). */
  readonly defaultName: string;
  get(name: string): MethodSpec | undefined;
  /** User method names in table order. */
  names(): string[];
  /** `this` for a handler: the object of an object service, `undefined` for "use the CallContext". */
  readonly thisArg: object | undefined;
}

/** @internal Builds the method table of a service. */
export function createMethodTable(service: Service, methods: ServiceMethodsOptions | undefined): MethodTable {
  if (isRpcs(service)) return createMethodTable(service.registry, methods);
  if (isRegistry(service)) {
    if (methods !== undefined) throw new TypeError("ServerOptions.methods applies to object services; give registry methods their options at register()");
    return {
      defaultName: "zrpc",
      get: (name) => service.get(name),
      names: () => service.names(),
      thisArg: undefined,
    };
  }
  if (typeof service !== "object" || service === null) {
    throw new TypeError("createServer needs a Registry or an object whose methods are the service");
  }
  return objectTable(service, methods);
}

function staticOptions(service: object): ServiceMethodsOptions | undefined {
  const ctor = (service as { constructor?: unknown }).constructor;
  if (typeof ctor !== "function") return undefined;
  const value = (ctor as { zrpc?: unknown }).zrpc;
  return typeof value === "object" && value !== null ? (value) : undefined;
}

function className(service: object): string {
  const proto = Object.getPrototypeOf(service) as object | null;
  if (proto === null || proto === Object.prototype) return "zrpc";
  const ctor = (proto as { constructor?: unknown }).constructor;
  const name = typeof ctor === "function" ? ctor.name : "";
  return name.length > 0 ? name : "zrpc";
}

/** Own and inherited methods, not `_`-prefixed, not `constructor`; the nearest definition wins. */
function collectMethods(service: object): Map<string, Handler> {
  const found = new Map<string, Handler>();
  const seen = new Set<string>();
  for (let target: object | null = service; target !== null && target !== Object.prototype; target = Object.getPrototypeOf(target) as object | null) {
    for (const key of Object.getOwnPropertyNames(target)) {
      if (seen.has(key)) continue;
      seen.add(key);
      if (key === "constructor" || key.startsWith("_")) continue;
      // Read the descriptor, not the property: a getter must not run here.
      const descriptor = Object.getOwnPropertyDescriptor(target, key);
      if (descriptor !== undefined && typeof descriptor.value === "function") found.set(key, descriptor.value as Handler);
    }
  }
  return found;
}

function objectTable(service: object, options: ServiceMethodsOptions | undefined): MethodTable {
  const fromClass = staticOptions(service);
  const functions = collectMethods(service);
  const streams = new Set([...(fromClass?.streams ?? []), ...(options?.streams ?? [])]);
  const notStreams = new Set([...(fromClass?.notStreams ?? []), ...(options?.notStreams ?? [])]);
  const docs = { ...fromClass?.docs, ...options?.docs };
  const args = { ...fromClass?.args, ...options?.args };
  for (const name of [...streams, ...notStreams, ...Object.keys(docs), ...Object.keys(args)]) {
    if (!functions.has(name)) throw new TypeError(`service methods options name "${name}", which is not a method of the service`);
  }
  const table = new Map<string, MethodSpec>();
  for (const name of [...functions.keys()].sort()) {
    const fn = functions.get(name)!;
    const stream = streams.has(name) ? true : notStreams.has(name) ? false : isGeneratorFunction(fn);
    const doc = docs[name];
    const methodArgs = args[name];
    table.set(
      name,
      createMethodSpec(fn, {
        name,
        stream,
        ...(doc === undefined ? {} : { doc }),
        ...(methodArgs === undefined ? {} : { args: methodArgs }),
      }),
    );
  }
  const names = [...table.keys()];
  return {
    defaultName: className(service),
    get: (name) => table.get(name),
    names: () => [...names],
    thisArg: service,
  };
}
