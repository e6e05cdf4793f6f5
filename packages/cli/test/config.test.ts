// Configuration checks and module resolution, in process (no child needed: nothing is imported).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { findConfigFile, isServerMiddleware, validateConfig } from "../src/config.js";
import { ConfigError } from "../src/errors.js";
import { defaultExport, resolveModule } from "../src/loader.js";

const tmp = mkdtempSync(join(tmpdir(), "zrpc-config-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const FILE = join(tmp, "zrpc.config.ts");

describe("validateConfig", () => {
  it("accepts a full configuration", () => {
    const setup = (): void => undefined;
    const middleware = { beforeCall: (): void => undefined };
    const config = validateConfig({ apps: ["./a", "@acme/b"], server: { name: "S", heartbeat: 2, grace: 0, tracebacks: false, transport: "zmtp", middleware: [middleware, "./m.ts", () => middleware] }, setup }, FILE);
    expect(config).toMatchObject({ file: FILE, dir: tmp, apps: ["./a", "@acme/b"], setup });
    expect(config.server.heartbeat).toBe(2);
    expect(config.server.transport).toBe("zmtp");
  });

  it.each([
    [[], "the configuration must be an object with \"apps\", got an array"],
    [{}, '"apps" must be an array of app folders or package names, got a undefined'],
    [{ apps: ["./a", "./a"] }, 'app "./a" is listed twice in "apps"'],
    [{ apps: [""] }, '"apps"[0] must be a non-empty string'],
    [{ apps: [], middleware: [] }, 'unknown key "middleware" in the configuration (expected apps, server, setup)'],
    [{ apps: [], server: { heartbeat: 0 } }, '"server.heartbeat" must be a number of seconds > 0, got 0'],
    [{ apps: [], server: { grace: -1 } }, '"server.grace" must be a number of seconds >= 0, got -1'],
    [{ apps: [], server: { name: 3 } }, '"server.name" must be a non-empty string, got a number'],
    [{ apps: [], server: { port: 4242 } }, 'unknown key "port" in "server"'],
    [{ apps: [], server: { transport: "tcp" } }, '"server.transport" must be "zmtp" or "zeromq", got "tcp"'],
    [{ apps: [], server: { transport: true } }, '"server.transport" must be "zmtp" or "zeromq", got a boolean'],
    [{ apps: [], server: { middleware: [42] } }, '"server.middleware"[0] must be a middleware object, a module reference or a function, got a number'],
    [{ apps: [], setup: "migrate" }, '"setup" must be a function, got a string'],
  ])("refuses %j", (value, message) => {
    expect(() => validateConfig(value, FILE)).toThrow(ConfigError);
    expect(() => validateConfig(value, FILE)).toThrow(message);
  });
});

describe("findConfigFile", () => {
  it("finds the one configuration file, refuses two", () => {
    const dir = join(tmp, "find");
    mkdirSync(dir);
    expect(findConfigFile(dir)).toBeUndefined();
    writeFileSync(join(dir, "zrpc.config.json"), "{}");
    expect(findConfigFile(dir)).toBe(join(dir, "zrpc.config.json"));
    writeFileSync(join(dir, "zrpc.config.ts"), "export default {}");
    expect(() => findConfigFile(dir)).toThrow(/found several configuration files in .*: .*zrpc\.config\.ts, .*zrpc\.config\.json; keep one or pass --config/);
  });

  it.each(["cts", "cjs"])("finds zrpc.config.%s (CommonJS)", (ext) => {
    const dir = join(tmp, `find-${ext}`);
    mkdirSync(dir);
    writeFileSync(join(dir, `zrpc.config.${ext}`), "module.exports = {}");
    expect(findConfigFile(dir)).toBe(join(dir, `zrpc.config.${ext}`));
  });
});

describe("resolveModule", () => {
  it("resolves paths against the folder and packages through their exports, for import", () => {
    expect(resolveModule("./x/y.ts", tmp)).toBe(join(tmp, "x", "y.ts"));
    const pkg = join(tmp, "node_modules", "@acme", "mw");
    mkdirSync(join(pkg, "dist"), { recursive: true });
    writeFileSync(join(pkg, "package.json"), JSON.stringify({ name: "@acme/mw", exports: { ".": { import: { types: "./dist/index.d.ts", default: "./dist/index.js" }, require: "./dist/index.cjs" }, "./sentry": "./dist/sentry.js" } }));
    for (const file of ["index.js", "index.cjs", "sentry.js"]) writeFileSync(join(pkg, "dist", file), "");
    mkdirSync(join(tmp, "app"));
    expect(resolveModule("@acme/mw", join(tmp, "app"))).toBe(join(pkg, "dist", "index.js"));
    expect(resolveModule("@acme/mw/sentry", tmp)).toBe(join(pkg, "dist", "sentry.js"));
    expect(() => resolveModule("@acme/nope", tmp)).toThrow(/Cannot find module '@acme\/nope'/);
  });
});

describe("defaultExport", () => {
  const config = { apps: ["./a"] };
  const compiled = (exports: Record<string, unknown>): Record<string, unknown> => Object.defineProperty(exports, "__esModule", { value: true });

  it.each([
    ["an ES module's export default", { default: config, other: 1 }],
    ["CommonJS module.exports = config, seen through import()", { default: config, apps: config.apps }],
    ["an ES module compiled to CommonJS (exports.default, __esModule)", { default: compiled({ default: config }) }],
    ["module.exports = { default: config }", { default: { default: config } }],
  ])("unwraps %s", (_label, namespace) => {
    expect(defaultExport(namespace)).toEqual({ found: true, value: config });
  });

  it("keeps a function and an object with more keys than default as they are", () => {
    const factory = (): typeof config => config;
    expect(defaultExport({ default: factory })).toEqual({ found: true, value: factory });
    const both = { default: config, apps: [] };
    expect(defaultExport({ default: both })).toEqual({ found: true, value: both });
    expect(defaultExport({ default: undefined })).toEqual({ found: true, value: undefined });
  });

  it("finds none without a default, or in compiled CommonJS without exports.default", () => {
    expect(defaultExport({ apps: [] })).toEqual({ found: false });
    expect(defaultExport({ default: compiled({ apps: [] }), apps: [] })).toEqual({ found: false });
  });
});

describe("isServerMiddleware", () => {
  it("wants an object with at least one hook", () => {
    expect(isServerMiddleware({ onEnd() {} })).toBe(true);
    expect(isServerMiddleware({ name: "x" })).toBe(false);
    expect(isServerMiddleware(null)).toBe(false);
  });
});
