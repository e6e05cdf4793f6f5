// `zrpc run --types`: the TypeScript types of the registered methods, read from the rpcs modules'
// source with the TypeScript compiler API (types are erased at run time), for the `types` option
// of the server (the `zrpc_types` key of `_zerorpc_inspect`, which `zrpc types` reads). Uses the
// project's own `typescript` package; without it, or for a method it cannot find, nothing.
import { createRequire } from "node:module";
import { join } from "node:path";
import type { MethodTypes } from "@zrpc/server";
import type * as TypeScript from "typescript";

/** One rpcs module and the methods it registered. */
export interface TypedModule {
  readonly module: string;
  readonly methods: readonly string[];
}

/** What {@link deriveTypes} found. */
export interface DerivedTypes {
  /** Type texts by method name. */
  readonly types: Record<string, MethodTypes>;
  /** For methods returning an array: its element type, the result type when the method streams. */
  readonly itemResults: Record<string, string>;
  /** Why nothing was derived (no `typescript` package), if so. */
  readonly unavailable?: string;
}

type TS = typeof TypeScript;

/** Result types whose first type argument is what a stream method built from them yields. */
const ITERABLES = new Set(["Iterable", "AsyncIterable", "IterableIterator", "AsyncIterableIterator", "ReadonlyArray", "Set", "ReadonlySet"]);

/** The project's `typescript` (resolved from `fromDir`), or the reason it cannot be loaded. */
function loadTypeScript(fromDir: string): TS | string {
  try {
    return createRequire(join(fromDir, "noop.js"))("typescript") as TS;
  } catch (error) {
    return `the typescript package cannot be loaded from ${fromDir} (${(error as Error).message.split("\n")[0]})`;
  }
}

type FunctionNode = TypeScript.FunctionExpression | TypeScript.ArrowFunction | TypeScript.FunctionDeclaration | TypeScript.MethodDeclaration;

/** The method name of `register(fn, { name })`: the `name` string, else the function's name. */
function registeredName(ts: TS, call: TypeScript.CallExpression, fn: FunctionNode): string | undefined {
  const options = call.arguments[1];
  if (options !== undefined && ts.isObjectLiteralExpression(options)) {
    for (const property of options.properties) {
      if (ts.isPropertyAssignment(property) && property.name.getText() === "name") {
        return ts.isStringLiteralLike(property.initializer) ? property.initializer.text : undefined;
      }
    }
  }
  return fn.name !== undefined && ts.isIdentifier(fn.name) ? fn.name.text : undefined;
}

/** The function given to `register(...)`: inline, or a function declared under that identifier. */
function functionOf(ts: TS, checker: TypeScript.TypeChecker, node: TypeScript.Expression | undefined): FunctionNode | undefined {
  if (node === undefined) return undefined;
  if (ts.isFunctionExpression(node) || ts.isArrowFunction(node)) return node;
  if (ts.isIdentifier(node)) {
    const declaration = checker.getSymbolAtLocation(node)?.declarations?.[0];
    if (declaration !== undefined && ts.isFunctionDeclaration(declaration)) return declaration;
  }
  return undefined;
}

/**
 * Type texts of one function: parameters (no `this`), rest element, result (awaited, or a
 * generator's item). `itemResult` is the element type of an awaited array or iterable result, for
 * a plain function served as a stream (`stream: true`, `defineRpcs`'s `stream` list).
 */
function typesOf(ts: TS, checker: TypeScript.TypeChecker, fn: FunctionNode): { types: MethodTypes; itemResult?: string } | undefined {
  const signature = checker.getSignatureFromDeclaration(fn);
  if (signature === undefined) return undefined;
  // `any` (an unannotated parameter) is `unknown` for a caller.
  const text = (type: TypeScript.Type): string =>
    (type.flags & ts.TypeFlags.Any) !== 0 ? "unknown" : checker.typeToString(type, fn, ts.TypeFormatFlags.NoTruncation | ts.TypeFormatFlags.UseSingleQuotesForStringLiteralType);
  const args: string[] = [];
  let rest: string | undefined;
  // The signature's parameters leave out a `this` parameter.
  for (const symbol of signature.getParameters()) {
    const parameter = symbol.valueDeclaration;
    if (parameter === undefined || !ts.isParameter(parameter)) return undefined;
    let type = checker.getTypeOfSymbolAtLocation(symbol, parameter);
    // In a map given to defineRpcs() a parameter is contextually typed by the handler type (`any`):
    // an unannotated one with a default then has its default's type, as it would standing alone.
    if (parameter.type === undefined && parameter.initializer !== undefined && (type.flags & ts.TypeFlags.Any) !== 0) {
      type = checker.getBaseTypeOfLiteralType(checker.getTypeAtLocation(parameter.initializer));
    }
    if (parameter.dotDotDotToken !== undefined) {
      const element = checker.getIndexTypeOfType(type, ts.IndexKind.Number);
      rest = element === undefined ? "unknown" : text(element);
    } else {
      args.push(text(parameter.questionToken === undefined && parameter.initializer === undefined ? type : checker.getNonNullableType(type)));
    }
  }
  const returned = checker.getReturnTypeOfSignature(signature);
  let result: TypeScript.Type | undefined;
  let item: TypeScript.Type | undefined;
  if (fn.asteriskToken !== undefined) {
    // Generator<T, ...> / AsyncGenerator<T, ...>: the item type is the first type argument.
    result = checker.getTypeArguments(returned as TypeScript.TypeReference)[0];
  } else {
    result = checker.getAwaitedType(returned);
    const container = result?.getSymbol()?.getName();
    if (result !== undefined && (checker.isArrayType(result) || (container !== undefined && ITERABLES.has(container)))) {
      item = checker.getTypeArguments(result as TypeScript.TypeReference)[0];
    }
  }
  const types = { args, ...(rest === undefined ? {} : { rest }), result: result === undefined ? "unknown" : text(result) };
  return item === undefined ? { types } : { types, itemResult: text(item) };
}

/**
 * Reads the types of the methods that `modules` registered with `register(fn, ...)` (an inline
 * function or a function declared in the module). TypeScript modules only; compiled with the
 * project's `typescript`, resolved from `projectDir`.
 */
export function deriveTypes(modules: readonly TypedModule[], projectDir: string): DerivedTypes {
  const sources = modules.filter((item) => /\.[cm]?ts$/.test(item.module));
  if (sources.length === 0) return { types: {}, itemResults: {} };
  const loaded = loadTypeScript(projectDir);
  if (typeof loaded === "string") return { types: {}, itemResults: {}, unavailable: loaded };
  const ts = loaded;
  const program = ts.createProgram(
    sources.map((item) => item.module),
    {
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
    },
  );
  const checker = program.getTypeChecker();
  const types: Record<string, MethodTypes> = {};
  const itemResults: Record<string, string> = {};
  const add = (name: string | undefined, fn: FunctionNode | undefined, wanted: ReadonlySet<string>): void => {
    if (fn === undefined || name === undefined || !wanted.has(name) || Object.hasOwn(types, name)) return;
    const found = typesOf(ts, checker, fn);
    if (found === undefined) return;
    types[name] = found.types;
    if (found.itemResult !== undefined) itemResults[name] = found.itemResult;
  };
  for (const { module, methods } of sources) {
    const source = program.getSourceFile(module);
    if (source === undefined) continue;
    const wanted = new Set(methods);
    const visit = (node: TypeScript.Node): void => {
      if (ts.isCallExpression(node)) {
        const callee = node.expression;
        const calleeName = ts.isIdentifier(callee) ? callee.text : ts.isPropertyAccessExpression(callee) ? callee.name.text : undefined;
        const first = node.arguments[0];
        if (calleeName === "register") {
          const fn = functionOf(ts, checker, first);
          add(fn === undefined ? undefined : registeredName(ts, node, fn), fn, wanted);
        } else if (calleeName === "defineRpcs" && first !== undefined && ts.isObjectLiteralExpression(first)) {
          // defineRpcs({ add(a: number) {...}, hello: function (...) {...}, ticket }): methods under their keys.
          for (const property of first.properties) {
            const key = property.name !== undefined && (ts.isIdentifier(property.name) || ts.isStringLiteralLike(property.name)) ? property.name.text : undefined;
            if (ts.isMethodDeclaration(property)) add(key, property, wanted);
            else if (ts.isPropertyAssignment(property)) add(key, functionOf(ts, checker, property.initializer), wanted);
            else if (ts.isShorthandPropertyAssignment(property)) {
              const declaration = checker.getShorthandAssignmentValueSymbol(property)?.declarations?.[0];
              add(key, declaration !== undefined && ts.isFunctionDeclaration(declaration) ? declaration : undefined, wanted);
            }
          }
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return { types, itemResults };
}
