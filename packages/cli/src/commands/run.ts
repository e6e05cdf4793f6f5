// `zrpc run [ADDRESS]`: Django's runserver (and the seed's runrpc) for zrpc. Loads the
// configuration, imports every app's rpcs module, serves the default registry, drains on
// SIGINT / SIGTERM.
import { existsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { createServer, registry } from "@zrpc/server";
import type { CurveServerOptions } from "@zrpc/channel";
import type { Logger, MethodTypesTable, Server, ServerMiddleware, TransportFactory } from "@zrpc/server";
import { DEFAULT_PORT, parseAddress } from "../address.js";
import type { Address } from "../address.js";
import { loadApps } from "../apps.js";
import type { DiscoveredApp } from "../apps.js";
import { choiceOption, parseCommandLine, secondsOption } from "../argv.js";
import { createCallLog } from "../call-log.js";
import { deriveTypes } from "../derive-types.js";
import { CONFIG_FILE_NAMES, findConfigFile, isServerMiddleware, loadConfig, resolveMiddleware } from "../config.js";
import type { LoadedConfig } from "../config.js";
import { readAllowList, readKeyPairFile } from "../curve-keys.js";
import { ConfigError, ModuleLoadError, UsageError, describeError } from "../errors.js";
import { formatJson } from "../json.js";
import { displayPath } from "../loader.js";
import { columns, firstDocLine, printError, printLine, signature } from "../output.js";
import { createRunLog, LOG_FORMATS } from "../run-log.js";
import type { RunLog } from "../run-log.js";
import { DEFAULT_TRANSPORT, transportFactory, transportOption } from "../transport.js";
import type { TransportName } from "../transport.js";
import { superviseWatch, WATCH_CHILD_ENV } from "../watch.js";
import type { ChildMessage, SupervisorMessage } from "../watch.js";

/** `zrpc run --help`. */
export const RUN_HELP = `Usage: zrpc run [ADDRESS] [options]

Serve the apps listed in the configuration file: import each app's rpcs module,
print the registered methods, listen on ADDRESS. SIGINT (CONTROL-C) or SIGTERM
stops the server: calls in flight get --grace seconds to finish, then it exits 0.

ADDRESS (default 127.0.0.1:${DEFAULT_PORT}):
  4242                 port on 127.0.0.1 (0 = any free port; the real one is printed)
  0.0.0.0:4242         IPv4 address and port
  [::1]:4242           IPv6 address in brackets and port
  localhost:4242       host name and port
  tcp://HOST:PORT      a ZeroMQ tcp endpoint
  ipc:///tmp/app.sock  a ZeroMQ ipc endpoint (Unix socket)

Options:
  -c, --config PATH    configuration file (default: zrpc.config.{ts,mts,cts,js,mjs,cjs,json} in
                       the current directory)
      --heartbeat SEC  heartbeat interval in seconds (default: server.heartbeat, else 5);
                       clients must use the same
      --grace SEC      how long a stop waits for calls in flight (default: server.grace, else 10)
      --transport T    zmtp (pure-TypeScript ZMTP, no native addon) or zeromq (zeromq.js,
                       libzmq) (default: server.transport, else zmtp); clients may use either;
                       zeromq needs: npm install @zrpc/transport-zeromq
      --curve-secret-key-file F
                       encrypt every connection with CURVE, with the server key pair
                       in F (a .key_secret certificate of zrpc keygen, pyzmq or czmq,
                       or the secret key alone: 40 characters of Z85 or 32 bytes);
                       prints the public key, which clients pass to --curve-server-key
      --curve-allow-file F
                       accept only the clients whose public keys F lists (one Z85 key
                       a line, # comments), or, for a folder, whose .key certificates
                       it holds; others are refused and logged (default: any client
                       that has the server's public key)
      --watch          restart when a module or JSON file under the configuration's folder
                       changes (not node_modules): the new code loads first, then the old
                       server drains and the new one takes over the endpoint; a module that
                       fails to load leaves the old server serving
      --log-format F   text (default: a line per call on stderr) or json (one JSON object
                       per line on stdout, per call and per lifecycle event)
      --types          read the argument and result types of the methods from the
                       TypeScript rpcs modules (with the project's typescript package) and
                       serve them to \`zrpc types\` (the zrpc_types key of _zerorpc_inspect)
  -v, --verbose        say what discovery does (apps skipped, modules loaded) and log
                       introspection calls too
  -q, --quiet          no per-call log lines
  -h, --help           show this help

Prints "Listening on ENDPOINT" on stdout once it serves (with --log-format json: a
"listening" record). Exit status: 0 after a clean stop, 1 when an app fails to load,
the server cannot listen or a second signal cut the drain short, 2 for a bad
address, option or configuration.

Examples:
  zrpc run
  zrpc run 0.0.0.0:4242 --config deploy/zrpc.config.ts
  zrpc run 0 --heartbeat 2
  zrpc run 4242 --transport zeromq
  zrpc run 4242 --curve-secret-key-file keys/server.key_secret --curve-allow-file keys/clients
  zrpc run --watch
  zrpc run 0.0.0.0:4242 --log-format json`;

const OPTIONS = [
  { name: "config", short: "c", takesValue: true },
  { name: "watch", takesValue: false },
  { name: "log-format", takesValue: true },
  { name: "heartbeat", takesValue: true },
  { name: "grace", takesValue: true },
  { name: "transport", takesValue: true },
  { name: "curve-secret-key-file", takesValue: true },
  { name: "curve-allow-file", takesValue: true },
  { name: "types", takesValue: false },
  { name: "verbose", short: "v", takesValue: false },
  { name: "quiet", short: "q", takesValue: false },
  { name: "help", short: "h", takesValue: false },
] as const;

/** A failure of `zrpc run` after its input was accepted (exit status 1). */
export class RunError extends Error {
  /** @param message - what failed */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "RunError";
  }
}

type Closable = { close?: () => unknown; [Symbol.asyncDispose]?: () => unknown };

/** Closes what middleware own (database pools...), each at most once, never throwing. */
async function closeMiddleware(middleware: readonly ServerMiddleware[]): Promise<void> {
  for (const item of [...middleware].reverse()) {
    const closable = item as ServerMiddleware & Closable;
    try {
      if (typeof closable.close === "function") await closable.close();
      else if (typeof closable[Symbol.asyncDispose] === "function") await closable[Symbol.asyncDispose]!();
    } catch (error) {
      printError(`zrpc: closing middleware ${item.name ?? "(unnamed)"} failed: ${describeError(error)}`);
    }
  }
}

/** The listing printed at start: methods grouped by the module that registered them. */
function describeMethods(name: string, config: LoadedConfig, apps: readonly DiscoveredApp[]): string[] {
  const lines: string[] = [];
  const names = registry.names();
  const loaded = apps.filter((app) => app.module !== undefined).length;
  lines.push(`${name}: ${names.length} method${names.length === 1 ? "" : "s"} from ${loaded} app${loaded === 1 ? "" : "s"} (${displayPath(config.file)})`);
  const grouped = new Map<string, string[]>();
  const fromApps = new Set<string>();
  for (const app of apps) {
    if (app.module === undefined) continue;
    grouped.set(`${app.app} (${displayPath(app.module)})`, [...app.methods]);
    for (const method of app.methods) fromApps.add(method);
  }
  const other = names.filter((method) => !fromApps.has(method));
  if (other.length > 0) grouped.set(`${displayPath(config.file)} and its imports`, other);
  for (const [group, methods] of grouped) {
    if (methods.length === 0) {
      lines.push(`  ${group}: no methods`);
      continue;
    }
    lines.push(`  ${group}`);
    const rows = methods.map((method): [string, string] => {
      const spec = registry.get(method);
      if (spec === undefined) return [method, ""];
      const args = spec.args === null ? null : spec.args.params;
      const text = signature(method, args, spec.args?.rest ?? null, (value) => (value === undefined ? "…" : formatJson(value)));
      const doc = firstDocLine(spec.doc);
      return [text, `${doc}${spec.stream ? `${doc === "" ? "" : " "}[stream]` : ""}`];
    });
    lines.push(...columns(rows, "    "));
  }
  return lines;
}

/**
 * Binds a ROUTER of `transport` to `endpoint` (with CURVE when `curve` is given) and serves it
 * with `server`; resolves with the endpoints bound (wildcard ports resolved).
 */
async function listen(server: Server, endpoint: string, transport: TransportFactory, curve: CurveServerOptions | undefined): Promise<string[]> {
  return server.bind(endpoint, { transport, ...(curve !== undefined && { curve }) });
}

/** The start-up lines of a CURVE server: its public key, and who may connect. */
function describeCurve(curve: ServerCurve): string[] {
  const allowed =
    curve.allowList === undefined
      ? "any client that has this public key (no --curve-allow-file)"
      : `${plural(curve.allowList.count, "client key")} listed in ${curve.allowList.path}`;
  return [`CURVE public key: ${curve.options.publicKey}`, `CURVE clients allowed: ${allowed}`];
}

/** The IPC channel to the `--watch` supervisor, when this process is one of its children. */
type Supervisor = { send(message: ChildMessage, callback: () => void): void; on: NodeJS.Process["on"] };

function supervisor(): Supervisor | undefined {
  if (process.env[WATCH_CHILD_ENV] !== "1" || process.send === undefined) return undefined;
  const send = process.send.bind(process);
  return {
    send: (message, callback) => {
      if (process.connected) send(message, undefined, {}, () => callback());
      else callback();
    },
    on: process.on.bind(process),
  };
}

/** Sends `message` to the supervisor and resolves once it is written. */
function tell(channel: Supervisor | undefined, message: ChildMessage): Promise<void> {
  if (channel === undefined) return Promise.resolve();
  return new Promise((resolve) => channel.send(message, resolve));
}

/**
 * Resolves with why the server must stop: the first SIGINT / SIGTERM, or the supervisor's stop
 * message (`reload`) or its disappearance. A second signal exits at once (status 1).
 */
function waitForStop(channel: Supervisor | undefined): Promise<string> {
  return new Promise((resolve) => {
    let signals = 0;
    let stopping = false;
    const stopFor = (reason: string): void => {
      if (stopping) return;
      stopping = true;
      resolve(reason);
    };
    const onSignal = (signal: NodeJS.Signals): void => {
      signals += 1;
      if (signals > 1) {
        printError(`zrpc: ${signal} again, exiting without waiting for calls in flight`);
        process.exit(1);
      }
      stopFor(signal);
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
    channel?.on("message", (message: SupervisorMessage) => {
      if (message.type === "stop") stopFor(message.reason);
    });
    channel?.on("disconnect", () => stopFor("supervisor gone"));
  });
}

/** Resolves with the endpoint of the supervisor's `bind` message. */
function waitForBind(channel: Supervisor): Promise<string> {
  return new Promise((resolve) => {
    channel.on("message", (message: SupervisorMessage) => {
      if (message.type === "bind") resolve(message.endpoint);
    });
  });
}

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? "" : "s"}`;
}

/** The first line of an error's description, for one-line reports. */
function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split("\n")[0] ?? text;
}

/** The settings `zrpc run` read from its command line. */
interface RunSettings {
  readonly address: Address;
  readonly configPath: string | undefined;
  readonly heartbeat: number | undefined;
  readonly grace: number | undefined;
  readonly transport: TransportName | undefined;
  /** CURVE (`--curve-secret-key-file`, `--curve-allow-file`), when asked for. */
  readonly curve: ServerCurve | undefined;
  readonly types: boolean;
  readonly verbose: boolean;
  readonly quiet: boolean;
  readonly log: RunLog;
}

/** The server's CURVE options and where they came from, for the start-up lines. */
interface ServerCurve {
  readonly options: CurveServerOptions & { readonly publicKey: string };
  /** The allow list's file or folder and its number of keys, when there is one. */
  readonly allowList: { readonly path: string; readonly count: number } | undefined;
}

/**
 * Reads `--curve-secret-key-file` and `--curve-allow-file`: `undefined` without them, else the
 * server's CURVE options. A bad key file is a `KeyFileError` (exit status 2).
 */
function curveServerOption(options: Readonly<Record<string, string | true>>): ServerCurve | undefined {
  const keyFile = options["curve-secret-key-file"];
  const allowFile = options["curve-allow-file"];
  if (typeof keyFile !== "string") {
    if (typeof allowFile === "string") throw new UsageError("--curve-allow-file needs --curve-secret-key-file F (the server's key pair)");
    return undefined;
  }
  const pair = readKeyPairFile("--curve-secret-key-file", keyFile);
  const allowed = typeof allowFile === "string" ? readAllowList("--curve-allow-file", allowFile) : undefined;
  return {
    options: { publicKey: pair.publicKey, secretKey: pair.secretKey, ...(allowed !== undefined && { allowedClientKeys: allowed }) },
    allowList: allowed === undefined || typeof allowFile !== "string" ? undefined : { path: allowFile, count: allowed.length },
  };
}

/** Runs `zrpc run` with `argv` (after the command name); resolves with the exit status. */
export async function runCommand(argv: readonly string[]): Promise<number> {
  const { options, positionals } = parseCommandLine(argv, OPTIONS);
  if (options.help === true) {
    printLine(RUN_HELP);
    return 0;
  }
  if (positionals.length > 1) {
    throw new UsageError(`expected at most one ADDRESS, got ${positionals.length}: ${positionals.join(" ")}`);
  }
  const settings: RunSettings = {
    address: parseAddress(positionals[0] ?? String(DEFAULT_PORT), { mode: "bind" }),
    configPath: typeof options.config === "string" ? options.config : undefined,
    heartbeat: options.heartbeat === undefined ? undefined : secondsOption("heartbeat", options.heartbeat, 5),
    grace: options.grace === undefined ? undefined : secondsOption("grace", options.grace, 10, true),
    transport: transportOption(options.transport),
    curve: curveServerOption(options),
    types: options.types === true,
    verbose: options.verbose === true,
    quiet: options.quiet === true,
    log: createRunLog(choiceOption("log-format", options["log-format"], LOG_FORMATS, "text")),
  };
  if (options.watch === true) {
    // The supervisor only needs to know which folder to watch; the children load everything.
    const configFile = configFileOf(settings.configPath);
    return superviseWatch({
      argv: argv.filter((token) => token !== "--watch"),
      endpoint: settings.address.endpoint,
      root: dirname(configFile),
      log: settings.log,
    });
  }
  return serve(settings);
}

/** The configuration file `zrpc run` would load (without loading it), or a `ConfigError`. */
function configFileOf(path: string | undefined): string {
  if (path !== undefined) {
    const file = resolve(path);
    if (!existsSync(file)) throw new ConfigError(`configuration file ${displayPath(file)} does not exist`, file);
    return file;
  }
  const found = findConfigFile();
  if (found === undefined) {
    throw new ConfigError(
      `no configuration file in the current directory (looked for ${CONFIG_FILE_NAMES.join(", ")}); create one or pass --config PATH`,
    );
  }
  return found;
}

/** Loads the configuration and the apps, serves them until stopped; resolves with the exit status. */
async function serve(settings: RunSettings): Promise<number> {
  const { address, verbose, quiet, log } = settings;
  const note = (message: string): void => log.note(message);
  const channel = supervisor();
  // From here on a stop signal must not kill the process half-way: it is honoured once started.
  const stop = waitForStop(channel);

  let config: LoadedConfig | undefined;
  let middleware: ServerMiddleware[] = [];
  try {
    config = await loadConfig(settings.configPath);
    if (verbose) note(`configuration ${displayPath(config.file)}: ${plural(config.apps.length, "app")}`);
    const apps = await loadApps(config, { registry, ...(verbose ? { log: note } : {}) });
    middleware = await resolveMiddleware(config);
    if (config.setup !== undefined) {
      if (verbose) note(`running setup() of ${displayPath(config.file)}`);
      try {
        await config.setup();
      } catch (error) {
        throw new ModuleLoadError("setup() of", config.file, displayPath(config.file), error);
      }
    }
    if (registry.names().length === 0) {
      log.warn(
        "no methods are registered. Do the apps have rpcs modules that call register() from @zrpc/server " +
          "(ES modules and CommonJS alike; an incompatible version of @zrpc/server keeps a registry of its own)? " +
            "Run with --verbose to see what discovery did.",
      );
    }
    const heartbeat = settings.heartbeat ?? config.server.heartbeat ?? 5;
    const grace = settings.grace ?? config.server.grace ?? 10;
    const name = config.server.name ?? "zrpc";
    const transport = settings.transport ?? config.server.transport ?? DEFAULT_TRANSPORT;
    // Before the server exists: a missing @zrpc/transport-zeromq is reported with what to install.
    const curve = settings.curve;
    const factory = await transportFactory(transport);
    const logger: Logger = {
      warn: (message, error) => log.warn(`${message}${error === undefined ? "" : `: ${describeError(error)}`}`),
      ...(verbose ? { debug: (message: string) => note(message) } : {}),
    };
    let types: MethodTypesTable | undefined;
    if (settings.types) {
      const modules = apps.flatMap((app) => (app.module === undefined ? [] : [{ module: app.module, methods: app.methods }]));
      const derived = deriveTypes(modules, dirname(config.file));
      if (derived.unavailable !== undefined) log.warn(`--types: ${derived.unavailable}; the types are unknown`);
      else if (verbose) note(`--types: types of ${plural(Object.keys(derived.types).length, "method")} read from the rpcs modules`);
      // A plain function served as a stream (stream: true) streams its array's items.
      types = Object.fromEntries(
        Object.entries(derived.types).map(([name, found]) => {
          const item = derived.itemResults[name];
          return [name, item !== undefined && registry.get(name)?.stream === true ? { ...found, result: item } : found];
        }),
      );
    }
    const callLog = quiet ? [] : [createCallLog({ write: (line) => log.writeCall(line), introspection: verbose, format: log.format })];
    const server = createServer(registry, {
      name,
      heartbeatMs: heartbeat * 1000,
      closeGraceMs: grace * 1000,
      middleware: [...callLog, ...middleware],
      logger,
      ...(types === undefined ? {} : { types }),
      ...(config.server.tracebacks === undefined ? {} : { tracebacks: config.server.tracebacks }),
    });
    let endpoint = address.endpoint;
    if (channel !== undefined) {
      // Under --watch: loaded; the supervisor says when the previous server has drained.
      await tell(channel, { type: "ready" });
      const next = await Promise.race([waitForBind(channel), stop.then(() => undefined)]);
      if (next === undefined) {
        await server.close(0);
        await closeMiddleware(middleware);
        return 0;
      }
      endpoint = next;
    }
    let endpoints: string[];
    try {
      endpoints = await listen(server, endpoint, factory, curve?.options);
    } catch (error) {
      await server.close(0);
      throw new RunError(`cannot listen on ${endpoint}: ${(error as Error).message}`, { cause: error });
    }
    const details = `heartbeat ${heartbeat}s${transport === DEFAULT_TRANSPORT ? "" : `, transport ${transport}`}${curve === undefined ? "" : ", CURVE"}`;
    if (log.format === "text") {
      for (const line of describeMethods(name, config, apps)) printLine(line);
      if (curve !== undefined) for (const line of describeCurve(curve)) printLine(line);
    }
    const curveFields =
      curve === undefined ? {} : { curve: { public_key: curve.options.publicKey, allowed_clients: curve.allowList?.count ?? null } };
    log.event(
      "listening",
      { endpoints, name, methods: registry.names(), heartbeat_s: heartbeat, transport, ...curveFields, pid: process.pid },
      { line: `Listening on ${endpoints.join(", ")} (${details}). Quit with CONTROL-C.`, stdout: true },
    );
    await tell(channel, { type: "listening", endpoints });

    const reason = await stop;
    const inFlight = server.inFlight;
    log.event(
      "draining",
      { reason, in_flight: inFlight, grace_s: grace },
      { line: `${reason}: stopping${inFlight === 0 ? "" : `, waiting up to ${grace}s for ${plural(inFlight, "call")} in flight`}` },
    );
    await server.close();
    await closeMiddleware(middleware);
    log.event("stopped", { reason }, { line: "stopped" });
    return 0;
  } catch (error) {
    await tell(channel, { type: "failed", message: firstLine(error) });
    // Middleware created by the configuration itself (a database pool, an embedded database)
    // must be closed too, or it may keep the process alive.
    await closeMiddleware(middleware.length > 0 ? middleware : (config?.server.middleware ?? []).filter(isServerMiddleware));
    throw error;
  }
}
