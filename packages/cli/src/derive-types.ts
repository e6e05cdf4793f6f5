// `zrpc run --types`: the TypeScript types of the registered methods, read from the rpcs modules'
// source with the TypeScript compiler API (types are erased at run time), for the `types` option
// of the server (the `zrpc_types` key of `_zerorpc_inspect`, which `zrpc types` reads). Uses the
// project's own `typescript` package; without it, or for a method it cannot find, nothing.
//
// The texts stand alone: `zrpc types` pastes them into a module that declares nothing else, so a
// named type (an interface, a type alias, a class) is written out structurally, as the value
// travels in msgpack (data properties only; methods do not travel). Well-known types are mapped
// to what a zrpc client decodes: `Uint8Array`, `Buffer` and `ArrayBuffer` to `Uint8Array` (bin),
// `Map<string, V>` to `Record<string, V>` (a map with str keys decodes as an object). Types that
// do not survive the trip as themselves (`Date` arrives as a msgpack timestamp `Ext`, functions,
// `Set`, other classes of the runtime), recursive types and types too deep or too large to write
// out become `unknown /* why */`.
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

/**
 * The compiler options of the project's `tsconfig.json` (the nearest one from `projectDir` up),
 * so that types resolve as in the project (`types`, `paths`, ...); without one, strict NodeNext
 * defaults with Node.js's types.
 */
function compilerOptions(ts: TS, projectDir: string): TypeScript.CompilerOptions {
  const defaults: TypeScript.CompilerOptions = {
    strict: true,
    skipLibCheck: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    types: ["node"],
  };
  const file = ts.findConfigFile(projectDir, (path) => ts.sys.fileExists(path));
  if (file === undefined) return { ...defaults, noEmit: true };
  const parsed = ts.getParsedCommandLineOfConfigFile(file, {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined });
  if (parsed === undefined) return { ...defaults, noEmit: true };
  return { ...parsed.options, strict: true, skipLibCheck: true, noEmit: true };
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

/** Object types nested deeper than this are written `unknown`. */
const MAX_DEPTH = 8;
/** Type texts longer than this (characters) are written `unknown`. */
const MAX_TEXT = 3000;

/** `unknown`, with why, as a comment `zrpc types` keeps (no `*`, `/`, quotes or backslashes inside). */
function unknownBecause(why: string): string {
  return `unknown /* ${why.replace(/[*/'"`\\\r\n]/g, " ").replace(/\s+/g, " ").trim()} */`;
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** Runtime classes that do not travel as themselves, and what a client gets instead. */
const NOT_TRAVELLING: Readonly<Record<string, string>> = {
  Date: "a Date travels as a msgpack timestamp and arrives as an Ext",
  Set: "a Set does not travel as msgpack",
  ReadonlySet: "a Set does not travel as msgpack",
  WeakMap: "a WeakMap does not travel as msgpack",
  WeakSet: "a WeakSet does not travel as msgpack",
  Promise: "a Promise does not travel as msgpack",
  RegExp: "a RegExp does not travel as msgpack",
  Error: "an Error does not travel as msgpack",
  Function: "a function does not travel as msgpack",
  DataView: "a DataView does not travel as msgpack",
  SharedArrayBuffer: "a SharedArrayBuffer does not travel as msgpack",
};

/** Binary types, all sent as msgpack bin and decoded as `Uint8Array`. */
const BINARY = new Set(["Uint8Array", "Buffer", "ArrayBuffer"]);

/** Other typed arrays: not sent as bin by @zrpc/wire. */
const TYPED_ARRAYS = new Set([
  "Int8Array",
  "Uint8ClampedArray",
  "Int16Array",
  "Uint16Array",
  "Int32Array",
  "Uint32Array",
  "Float16Array",
  "Float32Array",
  "Float64Array",
  "BigInt64Array",
  "BigUint64Array",
]);

/**
 * True when a written type can take `[]` or `?` as it is: no union, intersection, function type,
 * conditional or prefix operator at its top level.
 */
function isPostfixable(text: string): boolean {
  if (/^(readonly|keyof|unique|typeof|infer|unknown \/\*) /.test(text)) return false;
  let depth = 0;
  let quote: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    if (quote !== null) {
      if (char === quote) quote = null;
    } else if (char === "'" || char === '"') {
      quote = char;
    } else if (char === "(" || char === "[" || char === "{" || char === "<") {
      depth++;
    } else if (char === ")" || char === "]" || char === "}" || (char === ">" && text[i - 1] !== "=")) {
      depth--;
    } else if (depth === 0 && (char === "|" || char === "&" || char === "?" || (char === "=" && text[i + 1] === ">"))) {
      return false;
    }
  }
  return true;
}

/**
 * Writes types as self-contained TypeScript text (see the module comment): keywords and literals
 * as they are, unions, intersections, arrays and tuples of written types, object types
 * structurally (named ones too), within {@link MAX_DEPTH} and {@link MAX_TEXT}.
 */
function typeWriter(ts: TS, checker: TypeScript.TypeChecker, at: TypeScript.Node): (type: TypeScript.Type) => string {
  const F = ts.TypeFlags;
  const literal = (type: TypeScript.Type): string => checker.typeToString(type, at, ts.TypeFormatFlags.NoTruncation | ts.TypeFormatFlags.UseSingleQuotesForStringLiteralType);
  /** A written type as an array element or a union member of an intersection. */
  const wrap = (text: string): string => (isPostfixable(text) ? text : `(${text})`);
  const nameOf = (type: TypeScript.Type): string | undefined => type.aliasSymbol?.getName() ?? type.getSymbol()?.getName();

  const write = (type: TypeScript.Type, depth: number, open: ReadonlySet<TypeScript.Type>, omitUndefined = false): string => {
    const flags = type.flags;
    if ((flags & (F.Any | F.Unknown)) !== 0) return "unknown";
    if ((flags & F.Never) !== 0) return "never";
    if ((flags & F.Boolean) !== 0) return "boolean";
    if ((flags & F.EnumLiteral) !== 0 && (flags & F.Union) === 0) {
      const value = (type as TypeScript.LiteralType).value;
      if (typeof value === "number") return String(value);
      return typeof value === "string" ? `'${value.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'` : "unknown";
    }
    if ((flags & (F.StringLiteral | F.NumberLiteral | F.BigIntLiteral | F.BooleanLiteral)) !== 0) return literal(type);
    if ((flags & F.String) !== 0) return "string";
    if ((flags & F.Number) !== 0) return "number";
    if ((flags & F.BigInt) !== 0) return "bigint";
    if ((flags & F.Null) !== 0) return "null";
    if ((flags & F.Undefined) !== 0) return "undefined";
    if ((flags & F.Void) !== 0) return "void";
    if ((flags & (F.ESSymbol | F.UniqueESSymbol)) !== 0) return unknownBecause("a symbol does not travel as msgpack");
    if ((flags & F.TemplateLiteral) !== 0) return "string";
    if ((flags & F.TypeParameter) !== 0) return "unknown";
    if (type.isUnion()) {
      const members: string[] = [];
      let booleans = 0;
      for (const member of type.types) {
        if ((member.flags & F.BooleanLiteral) !== 0) booleans++;
      }
      for (const member of type.types) {
        // An optional property's `undefined` (strict mode adds it; the `?` says it).
        if (omitUndefined && (member.flags & F.Undefined) !== 0) continue;
        // `true | false` (what `boolean` is) written once as `boolean`.
        const text = booleans === 2 && (member.flags & F.BooleanLiteral) !== 0 ? "boolean" : write(member, depth, open);
        if (text === "unknown" || text.startsWith("unknown /*")) return text;
        if (!members.includes(text)) members.push(text);
      }
      // `null` and `undefined` last, as people write them (`Ticket | null`).
      const last = members.filter((member) => member === "null" || member === "undefined");
      return [...members.filter((member) => member !== "null" && member !== "undefined"), ...last].join(" | ");
    }
    if (type.isIntersection()) {
      return type.types.map((member) => (member.isUnion() ? `(${write(member, depth, open)})` : write(member, depth, open))).join(" & ");
    }
    if ((flags & F.Object) === 0) return "unknown";
    const name = nameOf(type);
    const symbolName = type.getSymbol()?.getName();
    if (symbolName !== undefined && BINARY.has(symbolName)) return "Uint8Array";
    if (symbolName !== undefined && TYPED_ARRAYS.has(symbolName)) return unknownBecause(`a ${symbolName} does not travel as msgpack bin; send a Uint8Array`);
    if (symbolName !== undefined && Object.hasOwn(NOT_TRAVELLING, symbolName)) return unknownBecause(NOT_TRAVELLING[symbolName]!);
    if (checker.isArrayType(type)) {
      const element = checker.getTypeArguments(type as TypeScript.TypeReference)[0];
      const readonly = symbolName === "ReadonlyArray" ? "readonly " : "";
      return `${readonly}${wrap(element === undefined ? "unknown" : write(element, depth, open))}[]`;
    }
    if (checker.isTupleType(type)) {
      const reference = type as TypeScript.TupleTypeReference;
      const target = reference.target;
      const elements = checker.getTypeArguments(reference).map((element, index) => {
        const elementFlags = target.elementFlags[index] ?? ts.ElementFlags.Required;
        const text = write(element, depth, open);
        if ((elementFlags & ts.ElementFlags.Rest) !== 0) return `...${wrap(text)}[]`;
        if ((elementFlags & ts.ElementFlags.Variadic) !== 0) return `...${text}`;
        return (elementFlags & ts.ElementFlags.Optional) !== 0 ? `${wrap(text)}?` : text;
      });
      return `${target.readonly ? "readonly " : ""}[${elements.join(", ")}]`;
    }
    if (symbolName === "Map" || symbolName === "ReadonlyMap") {
      const [key, value] = checker.getTypeArguments(type as TypeScript.TypeReference);
      const keyText = key === undefined ? "unknown" : write(key, depth, open);
      const valueText = value === undefined ? "unknown" : write(value, depth, open);
      // A map whose keys are all str decodes as an object; other keys keep the Map.
      return keyText === "string" ? `Record<string, ${valueText}>` : `Map<${keyText}, ${valueText}>`;
    }
    if (type.getCallSignatures().length > 0 || type.getConstructSignatures().length > 0) return unknownBecause("a function does not travel as msgpack");
    if (open.has(type)) return unknownBecause(`${name ?? "a type"} is recursive`);
    if (depth >= MAX_DEPTH) return unknownBecause(`${name ?? "a type"} is nested too deep to write out`);
    const inner = new Set(open).add(type);
    const members: string[] = [];
    for (const info of checker.getIndexInfosOfType(type)) {
      const key = (info.keyType.flags & F.Number) !== 0 ? "number" : "string";
      if ((info.keyType.flags & (F.String | F.Number)) === 0) continue;
      members.push(`${info.isReadonly ? "readonly " : ""}[key: ${key}]: ${write(info.type, depth + 1, inner)}`);
    }
    for (const property of checker.getPropertiesOfType(type)) {
      const key = property.getName();
      // Symbol-keyed members (`__@iterator@12`) and private names do not travel.
      if (key.startsWith("__@") || key.startsWith("#")) continue;
      const declaration = property.valueDeclaration ?? property.declarations?.[0];
      if (declaration !== undefined && (ts.isMethodDeclaration(declaration) || ts.isMethodSignature(declaration))) continue;
      const propertyType = checker.getTypeOfSymbolAtLocation(property, declaration ?? at);
      if (propertyType.getCallSignatures().length > 0 && (propertyType.flags & F.Union) === 0) continue;
      const optional = (property.flags & ts.SymbolFlags.Optional) !== 0;
      const readonly = declaration !== undefined && (ts.getCombinedModifierFlags(declaration) & ts.ModifierFlags.Readonly) !== 0;
      members.push(`${readonly ? "readonly " : ""}${IDENTIFIER.test(key) ? key : JSON.stringify(key)}${optional ? "?" : ""}: ${write(propertyType, depth + 1, inner, optional)}`);
    }
    const text = members.length === 0 ? "{}" : `{ ${members.map((member) => `${member}; `).join("")}}`;
    return text.length > MAX_TEXT ? unknownBecause(`${name ?? "a type"} is too large to write out`) : text;
  };

  return (type) => {
    const text = write(type, 0, new Set());
    return text.length > MAX_TEXT ? unknownBecause(`${nameOf(type) ?? "the type"} is too large to write out`) : text;
  };
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
  const text = typeWriter(ts, checker, fn);
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
    compilerOptions(ts, projectDir),
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
