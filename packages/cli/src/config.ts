// The configuration file: which apps a server is made of and how it runs. Like Django's
// INSTALLED_APPS plus the few settings runserver needs.
import { existsSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import type { ServerMiddleware } from "@zrpc/server";
import { ConfigError, ModuleLoadError } from "./errors.js";
import { defaultExport, displayPath, importModule, resolveModule } from "./loader.js";
import { TRANSPORT_NAMES, isTransportName } from "./transport.js";
import type { TransportName } from "./transport.js";

/**
 * A server middleware as a configuration lists it:
 * - a middleware object (TS/JS configs), e.g. `createDbMiddleware({ ... })`;
 * - a module reference, a path relative to the configuration file (`"./middleware.ts"`) or a
 *   package specifier, whose default export is a middleware object or a function returning one;
 * - a function returning a middleware (or a promise of one), called once at start (TS/JS configs).
 *
 * After the server has stopped, `zrpc run` calls `close()` (or `[Symbol.asyncDispose]()`) of
 * every middleware that has one, so a middleware that owns a database pool releases it.
 */
export type MiddlewareEntry = ServerMiddleware | string | (() => ServerMiddleware | Promise<ServerMiddleware>);

/** Server settings of a configuration; command line options win over them. */
export interface ServerSettings {
  /** The service name (`_zerorpc_name`, `[Name]` in `zrpc inspect`). Default `"zrpc"`. */
  readonly name?: string;
  /** Heartbeat interval in seconds (default 5, as zerorpc-python); `--heartbeat` overrides it. */
  readonly heartbeat?: number;
  /** How long a stop (SIGINT, SIGTERM) lets calls in flight finish, in seconds. Default 10; `--grace` overrides it. */
  readonly grace?: number;
  /** Send JavaScript stacks as `ERR` tracebacks (default true, as zerorpc-python sends its tracebacks). */
  readonly tracebacks?: boolean;
  /**
   * The transport of the server's socket: `"zmtp"` (@zrpc/transport-zmtp, pure TypeScript; the
   * default) or `"zeromq"` (@zrpc/transport-zeromq, zeromq.js). `--transport` overrides it.
   * Clients may use either: both speak ZMTP.
   */
  readonly transport?: TransportName;
  /** Server middleware, outermost first. */
  readonly middleware?: readonly MiddlewareEntry[];
}

/**
 * A zrpc configuration (`zrpc.config.ts`, `.mts`, `.cts`, `.js`, `.mjs`, `.cjs` or `.json`): the
 * default export (`export default`, or `module.exports =` in CommonJS), or the whole file for
 * JSON. ES module and CommonJS packages both work.
 */
export interface ZrpcConfig {
  /**
   * The apps: folders relative to the configuration file (`"./tickets"`) or package names
   * resolved from it (`"@acme/billing"`, whose root folder is the app). Each app's `rpcs` module
   * (`rpcs.ts`, `rpcs.mts`, `rpcs.cts`, `rpcs.js`, `rpcs.mjs` or `rpcs.cjs`, the first found) is
   * imported at start, in this order; an app without one is skipped.
   */
  readonly apps: readonly string[];
  /** How the server runs. */
  readonly server?: ServerSettings;
  /**
   * Runs once after the apps are loaded and before the server listens (create a database
   * schema, warm a cache). A failure stops the start.
   */
  readonly setup?: () => void | Promise<void>;
}

/**
 * Returns `config` unchanged, typed: `export default defineConfig({ apps: ["./app"] })` gets
 * completion and checks in the editor. A configuration may also export a function (sync or async)
 * returning the configuration.
 */
export function defineConfig<TConfig extends ZrpcConfig | (() => ZrpcConfig | Promise<ZrpcConfig>)>(config: TConfig): TConfig {
  return config;
}

/** Names `zrpc` looks for in the working directory, in this order. */
export const CONFIG_FILE_NAMES = [
  "zrpc.config.ts",
  "zrpc.config.mts",
  "zrpc.config.cts",
  "zrpc.config.js",
  "zrpc.config.mjs",
  "zrpc.config.cjs",
  "zrpc.config.json",
] as const;

/** A configuration as loaded and checked. */
export interface LoadedConfig {
  /** The configuration file (absolute path). */
  readonly file: string;
  /** Its folder: app paths and module references are relative to it. */
  readonly dir: string;
  /** The apps as written in the file. */
  readonly apps: readonly string[];
  /** Server settings (empty when the file has none). */
  readonly server: ServerSettings;
  /** The setup hook, if any. */
  readonly setup: (() => void | Promise<void>) | undefined;
}

/**
 * Finds the configuration file in `cwd`: one of {@link CONFIG_FILE_NAMES}. Returns `undefined`
 * when there is none; throws a {@link ConfigError} when there are several (which one is meant is
 * then not clear: keep one, or pass `--config`).
 */
export function findConfigFile(cwd: string = process.cwd()): string | undefined {
  const found = CONFIG_FILE_NAMES.map((name) => join(cwd, name)).filter((file) => existsSync(file));
  if (found.length > 1) {
    throw new ConfigError(
      `found several configuration files in ${displayPath(cwd)}: ${found.map((file) => displayPath(file)).join(", ")}; keep one or pass --config`,
    );
  }
  return found[0];
}

const CONFIG_KEYS = ["apps", "server", "setup"];
const SERVER_KEYS = ["name", "heartbeat", "grace", "tracebacks", "transport", "middleware"];

function typeName(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}

function checkKeys(value: Record<string, unknown>, allowed: readonly string[], where: string, fail: (message: string) => never): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) fail(`unknown key "${key}" in ${where} (expected ${allowed.join(", ")})`);
  }
}

/**
 * Checks a configuration value (what the file exports) and returns it typed. Throws a
 * {@link ConfigError} naming `file` and the offending key for anything unexpected: unknown keys
 * are refused, so that a typo (`middlewares`) is not silently ignored.
 */
export function validateConfig(value: unknown, file: string): LoadedConfig {
  const shown = displayPath(file);
  const fail = (message: string): never => {
    throw new ConfigError(`${shown}: ${message}`, file);
  };
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return fail(`the configuration must be an object with "apps", got ${typeName(value)}`);
  }
  const config = value as Record<string, unknown>;
  checkKeys(config, CONFIG_KEYS, "the configuration", fail);
  const apps = config.apps;
  if (!Array.isArray(apps)) return fail(`"apps" must be an array of app folders or package names, got ${typeName(apps)}`);
  const seen = new Set<string>();
  for (const [index, app] of (apps as unknown[]).entries()) {
    if (typeof app !== "string" || app.trim() === "") fail(`"apps"[${index}] must be a non-empty string, got ${typeName(app)}`);
    if (seen.has(app as string)) fail(`app "${String(app)}" is listed twice in "apps"`);
    seen.add(app as string);
  }
  const server = config.server ?? {};
  if (typeof server !== "object" || server === null || Array.isArray(server)) return fail(`"server" must be an object, got ${typeName(server)}`);
  const settings = server as Record<string, unknown>;
  checkKeys(settings, SERVER_KEYS, `"server"`, fail);
  if (settings.name !== undefined && (typeof settings.name !== "string" || settings.name === "")) {
    fail(`"server.name" must be a non-empty string, got ${typeName(settings.name)}`);
  }
  for (const key of ["heartbeat", "grace"] as const) {
    const number = settings[key];
    if (number === undefined) continue;
    const positive = key === "heartbeat";
    if (typeof number !== "number" || !Number.isFinite(number) || (positive ? number <= 0 : number < 0)) {
      fail(`"server.${key}" must be a number of seconds ${positive ? "> 0" : ">= 0"}, got ${typeof number === "number" ? String(number) : typeName(number)}`);
    }
  }
  if (settings.tracebacks !== undefined && typeof settings.tracebacks !== "boolean") {
    fail(`"server.tracebacks" must be true or false, got ${typeName(settings.tracebacks)}`);
  }
  if (settings.transport !== undefined && !isTransportName(settings.transport)) {
    fail(
      `"server.transport" must be ${TRANSPORT_NAMES.map((name) => JSON.stringify(name)).join(" or ")}, got ${
        typeof settings.transport === "string" ? JSON.stringify(settings.transport) : typeName(settings.transport)
      }`,
    );
  }
  const middleware = settings.middleware;
  if (middleware !== undefined) {
    if (!Array.isArray(middleware)) fail(`"server.middleware" must be an array, got ${typeName(middleware)}`);
    for (const [index, entry] of (middleware as unknown[]).entries()) {
      const ok = typeof entry === "string" ? entry !== "" : typeof entry === "function" || (typeof entry === "object" && entry !== null && !Array.isArray(entry));
      if (!ok) fail(`"server.middleware"[${index}] must be a middleware object, a module reference or a function, got ${typeName(entry)}`);
    }
  }
  if (config.setup !== undefined && typeof config.setup !== "function") fail(`"setup" must be a function, got ${typeName(config.setup)}`);
  return {
    file,
    dir: dirname(file),
    apps: apps as string[],
    server: settings,
    setup: config.setup as (() => void | Promise<void>) | undefined,
  };
}

/**
 * Loads the configuration: the file at `path` (relative to `cwd`), else the one
 * {@link findConfigFile} finds in `cwd`. TypeScript configurations are compiled on the fly. A
 * default export that is a function is called (and awaited) for the configuration.
 *
 * Throws a {@link ConfigError} when there is no file or its value is not a valid configuration,
 * and a {@link ModuleLoadError} when the file throws while being imported.
 */
export async function loadConfig(path?: string, cwd: string = process.cwd()): Promise<LoadedConfig> {
  let file: string;
  if (path === undefined) {
    const found = findConfigFile(cwd);
    if (found === undefined) {
      throw new ConfigError(
        `no configuration file in ${displayPath(cwd) === "." ? "the current directory" : displayPath(cwd)} (looked for ${CONFIG_FILE_NAMES.join(", ")}); create one or pass --config PATH`,
      );
    }
    file = found;
  } else {
    file = resolve(cwd, path);
    if (!existsSync(file)) throw new ConfigError(`configuration file ${displayPath(file)} does not exist`, file);
    if (!statSync(file).isFile()) throw new ConfigError(`configuration file ${displayPath(file)} is not a file`, file);
  }
  let namespace: Record<string, unknown>;
  try {
    namespace = await importModule(file);
  } catch (error) {
    throw new ModuleLoadError("configuration file", file, displayPath(file), error);
  }
  const exported = defaultExport(namespace);
  if (!exported.found) {
    throw new ConfigError(
      `${displayPath(file)} has no default export: export default defineConfig({ apps: [...] }) (in CommonJS: module.exports = defineConfig({ apps: [...] }))`,
      file,
    );
  }
  let value = exported.value;
  if (typeof value === "function") {
    try {
      value = await (value as () => unknown)();
    } catch (error) {
      throw new ModuleLoadError("configuration function of", file, displayPath(file), error);
    }
  }
  return validateConfig(value, file);
}

const HOOKS = ["beforeCall", "around", "afterCall", "inspectError", "taskContext", "onEnd"] as const;

/** True for an object with at least one server middleware hook. */
export function isServerMiddleware(value: unknown): value is ServerMiddleware {
  if (typeof value !== "object" || value === null) return false;
  const record = value as Record<string, unknown>;
  return HOOKS.some((hook) => typeof record[hook] === "function");
}

/**
 * Turns the configuration's middleware entries into middleware objects: imports module
 * references (relative to the configuration file, or packages resolved from it) and calls
 * factories. Throws a {@link ConfigError} for an entry that does not give a middleware and a
 * {@link ModuleLoadError} for a module or factory that throws.
 */
export async function resolveMiddleware(config: LoadedConfig): Promise<ServerMiddleware[]> {
  const out: ServerMiddleware[] = [];
  const entries = config.server.middleware ?? [];
  for (const [index, entry] of entries.entries()) {
    const label = `"server.middleware"[${index}]`;
    let value: unknown = entry;
    let origin = `${displayPath(config.file)}: ${label}`;
    if (typeof entry === "string") {
      let file: string;
      try {
        file = resolveModule(entry, config.dir);
      } catch (error) {
        throw new ConfigError(`${origin}: cannot find middleware module "${entry}": ${(error as Error).message.split("\n")[0]}`, config.file);
      }
      let namespace: Record<string, unknown>;
      try {
        namespace = await importModule(file);
      } catch (error) {
        throw new ModuleLoadError("middleware module", file, displayPath(file), error);
      }
      const exported = defaultExport(namespace);
      if (!exported.found) {
        throw new ConfigError(`middleware module ${displayPath(file)} has no default export (expected a server middleware or a function returning one)`, config.file);
      }
      value = exported.value;
      origin = `middleware module ${displayPath(file)}`;
    }
    if (typeof value === "function") {
      try {
        value = await (value as () => unknown)();
      } catch (error) {
        throw new ModuleLoadError("middleware factory", config.file, origin, error);
      }
    }
    if (!isServerMiddleware(value)) {
      throw new ConfigError(`${origin}: not a server middleware (an object with at least one of ${HOOKS.join(", ")})`, config.file);
    }
    out.push(value);
  }
  return out;
}
