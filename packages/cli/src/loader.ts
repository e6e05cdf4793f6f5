// Imports configuration, middleware and rpcs modules, TypeScript included, without a build step.
//
// TypeScript goes through tsx's global `register()` (ESM and CommonJS hooks), not its `tsImport()`:
// `tsImport` gives every call its own module namespace, so a module imported by both the config
// and an rpcs module (a database module, a shared registry) would be evaluated twice. With the
// global hooks there is one module graph, as in a normal Node.js process.
//
// Modules load as Node.js would load them: `.mts` / `.mjs` as ES modules, `.cts` / `.cjs` as
// CommonJS, and `.ts` / `.js` after the nearest package.json's `"type"` (CommonJS without it, as
// npm's default). A CommonJS module that requires `@zrpc/server` gets its CJS build while this
// command imports the ESM build: the two copies share the default registry and the call context
// (both live on `globalThis`, see @zrpc/server), so methods registered through either are served.
// What a CommonJS module exports reaches `import()` wrapped; {@link defaultExport} unwraps it.
import { existsSync, readFileSync, realpathSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, extname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { pathToFileURL } from "node:url";

const TYPESCRIPT_EXTENSIONS = new Set([".ts", ".mts", ".cts", ".tsx"]);

/**
 * Where the promise of the installed tsx hooks is kept: on `globalThis`, so that two copies of
 * this package in one process (its ESM and CJS builds) install them once, not twice.
 */
const TYPESCRIPT_HOOKS = Symbol.for("zrpc.cli.typescriptHooks");

/**
 * The runtime when it loads TypeScript modules itself (`"bun"`, `"deno"`), else `undefined`
 * (Node.js, where tsx's hooks do it). Bun and Deno strip types natively and neither runs Node.js's
 * module customization hooks, so tsx is neither needed nor loaded there. Node.js's own type
 * stripping (`--experimental-strip-types`) is not relied on: it refuses `enum`s, parameter
 * properties and `.tsx`, which tsx compiles.
 */
export function nativeTypeScriptRuntime(
  versions: Readonly<Record<string, string | undefined>> = process.versions,
  global: object = globalThis,
): "bun" | "deno" | undefined {
  if (typeof versions.bun === "string") return "bun";
  if (typeof versions.deno === "string" || "Deno" in global) return "deno";
  return undefined;
}

/** Installs tsx's hooks once per process (lazily: a process that loads no TypeScript never pays for them). */
function enableTypeScript(): Promise<void> {
  if (nativeTypeScriptRuntime() !== undefined) return Promise.resolve();
  const holder = globalThis as unknown as Record<symbol, unknown>;
  const installed = holder[TYPESCRIPT_HOOKS];
  if (installed instanceof Promise) return installed as Promise<void>;
  const installing = (async () => {
    const [esm, cjs] = await Promise.all([import("tsx/esm/api"), import("tsx/cjs/api")]);
    esm.register();
    cjs.register();
  })();
  Object.defineProperty(globalThis, TYPESCRIPT_HOOKS, { value: installing, configurable: true });
  return installing;
}

/** True for a path whose extension tsx must compile. */
export function isTypeScript(path: string): boolean {
  return TYPESCRIPT_EXTENSIONS.has(extname(path).toLowerCase());
}

/**
 * Imports a module by absolute path, compiling TypeScript on the fly. `.json` files are read and
 * parsed (their value is the `default` export). Rejects with what the module threw.
 */
export async function importModule(path: string): Promise<Record<string, unknown>> {
  if (extname(path).toLowerCase() === ".json") {
    return { default: JSON.parse(readFileSync(path, "utf8")) as unknown };
  }
  if (isTypeScript(path)) await enableTypeScript();
  return (await import(pathToFileURL(path).href)) as Record<string, unknown>;
}

/** What {@link defaultExport} found. */
export type DefaultExport = { readonly found: true; readonly value: unknown } | { readonly found: false };

function isObjectLike(value: unknown): value is Record<string, unknown> {
  return (typeof value === "object" && value !== null) || typeof value === "function";
}

/**
 * The default export of a module namespace (what {@link importModule} returns), whatever the
 * module's format:
 * - an ES module's `export default value`: `value`;
 * - CommonJS `module.exports = value`, which `import()` shows as `{ default: value }`: `value`;
 * - an ES module compiled to CommonJS (TypeScript in a CommonJS package, compiled by tsx; tsc,
 *   esbuild or Babel output): `exports.default = value` with `exports.__esModule = true`, which
 *   `import()` shows as `{ default: { default: value, __esModule: true } }`: `value`. Such a module
 *   without `exports.default` has no default export.
 * - `module.exports = { default: value }` (nothing else): `value`.
 */
export function defaultExport(namespace: Record<string, unknown>): DefaultExport {
  if (!("default" in namespace)) return { found: false };
  const value = namespace.default;
  if (isObjectLike(value)) {
    if (value.__esModule === true) return "default" in value ? { found: true, value: value.default } : { found: false };
    const keys = Object.keys(value);
    if (typeof value === "object" && keys.length === 1 && keys[0] === "default") return { found: true, value: value.default };
  }
  return { found: true, value };
}

/** A path as shown in messages: relative to the working directory when inside it, else absolute. */
export function displayPath(path: string, cwd: string = process.cwd()): string {
  const rel = relative(cwd, path);
  if (rel === "") return ".";
  if (rel.startsWith("..") || isAbsolute(rel)) return path;
  return rel.split(sep).join("/");
}

/** True for a specifier that names a file or folder (`./x`, `../x`, `/x`), not a package. */
export function isPathSpecifier(specifier: string): boolean {
  return specifier.startsWith("./") || specifier.startsWith("../") || specifier === "." || specifier === ".." || isAbsolute(specifier);
}

/** npm's package name rules (scoped or not), loosely: what can follow `node_modules/`. */
const PACKAGE_NAME = /^(?:@[a-z0-9._~-]+\/)?[a-z0-9._~-]+$/i;

/** Splits `@scope/name/sub/path` into the package name and the subpath (`""` or `./sub/path`). */
function splitSpecifier(specifier: string): { name: string; subpath: string } | undefined {
  const parts = specifier.split("/");
  const count = specifier.startsWith("@") ? 2 : 1;
  const name = parts.slice(0, count).join("/");
  if (!PACKAGE_NAME.test(name)) return undefined;
  const rest = parts.slice(count).join("/");
  return { name, subpath: rest === "" ? "." : `./${rest}` };
}

/**
 * The root folder (real path) of package `name` as Node.js would find it from `fromDir`: the first
 * `node_modules/<name>/package.json` walking up. `undefined` when it is not installed.
 */
export function findPackageRoot(name: string, fromDir: string): string | undefined {
  for (let dir = resolve(fromDir); ; dir = dirname(dir)) {
    const candidate = join(dir, "node_modules", name);
    if (existsSync(join(candidate, "package.json"))) return realpathSync(candidate);
    if (dirname(dir) === dir) return undefined;
  }
}

type ExportsValue = string | null | readonly ExportsValue[] | { readonly [key: string]: ExportsValue };

/** Picks the target of an `exports` entry for an ESM import (`import`, `node`, `default` conditions). */
function pickTarget(value: ExportsValue | undefined): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === "string") return value;
  if (Array.isArray(value)) {
    for (const item of value as readonly ExportsValue[]) {
      const target = pickTarget(item);
      if (target !== undefined) return target;
    }
    return undefined;
  }
  const conditions = value as { readonly [key: string]: ExportsValue };
  for (const condition of ["import", "node", "default"]) {
    if (condition in conditions) {
      const target = pickTarget(conditions[condition]);
      if (target !== undefined) return target;
    }
  }
  return undefined;
}

/**
 * Resolves a module specifier as an ES module import written in a file of `fromDir` would:
 * a path (relative to `fromDir`), or a package name with an optional subpath, through the
 * package's `exports` (`import` / `node` / `default` conditions, no patterns) or its `main`.
 * Resolving for `import` (not `require`) matters for dual packages: the ESM build is the one the
 * rest of the process shares. Falls back to `require.resolve` for what this does not cover.
 * Throws a plain `Error` when nothing is found.
 */
export function resolveModule(specifier: string, fromDir: string): string {
  if (isPathSpecifier(specifier)) return resolve(fromDir, specifier);
  const parsed = splitSpecifier(specifier);
  const root = parsed === undefined ? undefined : findPackageRoot(parsed.name, fromDir);
  if (parsed !== undefined && root !== undefined) {
    const manifest = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
      exports?: ExportsValue;
      main?: string;
    };
    const exportsField = manifest.exports;
    let target: string | undefined;
    if (exportsField !== undefined) {
      const isSubpathMap =
        typeof exportsField === "object" && exportsField !== null && !Array.isArray(exportsField) && Object.keys(exportsField).some((key) => key.startsWith("."));
      target = isSubpathMap
        ? pickTarget((exportsField as { readonly [key: string]: ExportsValue })[parsed.subpath])
        : parsed.subpath === "."
          ? pickTarget(exportsField)
          : undefined;
    } else if (parsed.subpath === ".") {
      target = manifest.main ?? "index.js";
    } else {
      target = parsed.subpath;
    }
    if (target !== undefined) {
      const file = resolve(root, target);
      if (existsSync(file) && statSync(file).isFile()) return file;
    }
  }
  return createRequire(join(fromDir, "noop.js")).resolve(specifier);
}
