// Autodiscovery: import the `rpcs` module of every app, the way Celery's autodiscover_tasks() and
// Django's admin.autodiscover() import a module of each installed app. The modules register their
// methods in @zrpc/server's default registry as a side effect of being imported. An rpcs module may
// be an ES module or CommonJS: whichever build of @zrpc/server it loads, the default registry is
// the same one (it lives on `globalThis`).
import { existsSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { RegistrationError } from "@zrpc/server";
import type { Registry } from "@zrpc/server";
import type { LoadedConfig } from "./config.js";
import { ConfigError, DuplicateMethodError, ModuleLoadError } from "./errors.js";
import { displayPath, findPackageRoot, importModule, isPathSpecifier } from "./loader.js";

/** File names of an app's rpcs module, in order of preference. */
export const RPCS_MODULE_NAMES = ["rpcs.ts", "rpcs.mts", "rpcs.cts", "rpcs.js", "rpcs.mjs", "rpcs.cjs"] as const;

/** What discovery found for one app. */
export interface DiscoveredApp {
  /** The app as written in the configuration. */
  readonly app: string;
  /** Its folder (absolute). */
  readonly dir: string;
  /** Its rpcs module (absolute path), or `undefined` when it has none (the app is skipped). */
  readonly module: string | undefined;
  /** Names of the methods its rpcs module registered, in registration order. */
  readonly methods: readonly string[];
}

/** Options of {@link loadApps}. */
export interface LoadAppsOptions {
  /**
   * The registry the rpcs modules register in: `@zrpc/server`'s default `registry` (what
   * `register()` adds to). Read before and after each import to learn which module registered
   * which method.
   */
  readonly registry: Registry;
  /** Receives progress messages (an app skipped, a module loaded); for verbose output. */
  readonly log?: (message: string) => void;
}

/** The folder of an app: a path relative to the configuration, or an installed package's root. */
export function resolveAppDir(app: string, config: LoadedConfig): string {
  if (isPathSpecifier(app)) {
    const dir = resolve(config.dir, app);
    if (!existsSync(dir)) throw new ConfigError(`${displayPath(config.file)}: app folder ${app} does not exist (${displayPath(dir)})`, config.file);
    if (!statSync(dir).isDirectory()) throw new ConfigError(`${displayPath(config.file)}: app ${app} is not a folder (${displayPath(dir)})`, config.file);
    return dir;
  }
  const root = findPackageRoot(app, config.dir);
  if (root === undefined) {
    throw new ConfigError(
      `${displayPath(config.file)}: app "${app}" is neither a folder (start paths with ./) nor an installed package (no node_modules/${app} from ${displayPath(config.dir)})`,
      config.file,
    );
  }
  return root;
}

/** The rpcs module of an app folder, if any (the first of {@link RPCS_MODULE_NAMES} that exists), and the others found. */
export function findRpcsModule(dir: string): { module: string | undefined; ignored: string[] } {
  const found = RPCS_MODULE_NAMES.map((name) => join(dir, name)).filter((file) => existsSync(file) && statSync(file).isFile());
  return { module: found[0], ignored: found.slice(1) };
}

/**
 * Imports the rpcs module of every app of `config`, in order, and returns what each registered.
 *
 * - An app without an rpcs module is skipped (and logged).
 * - An rpcs module that throws stops everything: {@link ModuleLoadError} with its path and the
 *   error (nothing is swallowed).
 * - A method name registered by two modules: {@link DuplicateMethodError} naming both. The
 *   registry throws on the second `register()`; which module made the first one is known because
 *   the registry's names are compared before and after each import (registrations made before
 *   discovery, e.g. by the configuration file, are attributed to it).
 * - A missing app folder or package: {@link ConfigError}.
 */
export async function loadApps(config: LoadedConfig, options: LoadAppsOptions): Promise<DiscoveredApp[]> {
  const { registry } = options;
  const log = options.log ?? ((): void => undefined);
  const owner = new Map<string, string>();
  for (const name of registry.names()) owner.set(name, `${displayPath(config.file)} (or a module it imports)`);
  // Resolve every app first: a typo in the last app should not wait for the first ones to load.
  const apps = config.apps.map((app) => ({ app, dir: resolveAppDir(app, config) }));
  const out: DiscoveredApp[] = [];
  for (const { app, dir } of apps) {
    const { module, ignored } = findRpcsModule(dir);
    if (module === undefined) {
      log(`app ${app}: no rpcs module (${RPCS_MODULE_NAMES.join(", ")}) in ${displayPath(dir)}, skipped`);
      out.push({ app, dir, module: undefined, methods: [] });
      continue;
    }
    for (const other of ignored) log(`app ${app}: using ${displayPath(module)}, ignoring ${displayPath(other)}`);
    const shown = displayPath(module);
    const before = new Set(registry.names());
    try {
      await importModule(module);
    } catch (error) {
      if (RegistrationError.isInstance(error) && error.reason === "duplicate") {
        throw new DuplicateMethodError(error.methodName, error.existingSource ?? owner.get(error.methodName) ?? shown, error.source ?? shown, error);
      }
      throw new ModuleLoadError(`rpcs module of app ${app}:`, module, shown, error);
    }
    const methods = registry.names().filter((name) => !before.has(name));
    for (const name of methods) owner.set(name, shown);
    log(`app ${app}: ${shown} registered ${methods.length === 0 ? "no methods" : methods.join(", ")}`);
    out.push({ app, dir, module, methods });
  }
  return out;
}
