// @zrpc/cli as a library: the configuration format (for zrpc.config.ts), app autodiscovery, and
// the address and JSON conventions of the `zrpc` command. The command itself is `bin/zrpc`
// (dist/cli.js).

// For configuration files and applications.
export { defineConfig, loadConfig, findConfigFile, CONFIG_FILE_NAMES } from "./config.js";
export type { ZrpcConfig, ServerSettings, MiddlewareEntry, LoadedConfig } from "./config.js";
export { loadApps, RPCS_MODULE_NAMES } from "./apps.js";
export type { DiscoveredApp, LoadAppsOptions } from "./apps.js";
export { ConfigError, ModuleLoadError, DuplicateMethodError, UsageError } from "./errors.js";
export { TRANSPORT_NAMES, DEFAULT_TRANSPORT } from "./transport.js";
export type { TransportName } from "./transport.js";

// For tools built around the command: its address forms and its lossless JSON.
export { parseAddress, AddressError, DEFAULT_HOST, DEFAULT_PORT } from "./address.js";
export type { Address, ParseAddressOptions } from "./address.js";
export { parseJson, formatJson, JsonSyntaxError } from "./json.js";
export { resolveMiddleware, isServerMiddleware } from "./config.js";
