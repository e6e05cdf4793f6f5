// `zrpc run [ADDRESS]`: Django's runserver (and the seed's runrpc) for zrpc. Loads the
// configuration, imports every app's rpcs module, serves the default registry, drains on
// SIGINT / SIGTERM.
import { createServer, registry } from "@zrpc/server";
import type { Logger, Server, ServerMiddleware, TransportFactory } from "@zrpc/server";
import { DEFAULT_PORT, parseAddress } from "../address.js";
import type { Address } from "../address.js";
import { loadApps } from "../apps.js";
import type { DiscoveredApp } from "../apps.js";
import { parseCommandLine, secondsOption } from "../argv.js";
import { createCallLog } from "../call-log.js";
import { isServerMiddleware, loadConfig, resolveMiddleware } from "../config.js";
import type { LoadedConfig } from "../config.js";
import { ModuleLoadError, UsageError, describeError } from "../errors.js";
import { formatJson } from "../json.js";
import { displayPath } from "../loader.js";
import { columns, firstDocLine, printError, printLine, signature } from "../output.js";
import { DEFAULT_TRANSPORT, transportFactory, transportOption } from "../transport.js";

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
  -v, --verbose        say what discovery does (apps skipped, modules loaded) and log
                       introspection calls too
  -q, --quiet          no per-call log lines on stderr
  -h, --help           show this help

Prints "Listening on ENDPOINT" on stdout once it serves. Exit status: 0 after a
clean stop, 1 when an app fails to load or the server cannot listen, 2 for a bad
address, option or configuration.

Examples:
  zrpc run
  zrpc run 0.0.0.0:4242 --config deploy/zrpc.config.ts
  zrpc run 0 --heartbeat 2
  zrpc run 4242 --transport zeromq`;

const OPTIONS = [
  { name: "config", short: "c", takesValue: true },
  { name: "heartbeat", takesValue: true },
  { name: "grace", takesValue: true },
  { name: "transport", takesValue: true },
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
 * Binds a ROUTER of `transport` to `endpoint` and serves it with `server`; resolves with the
 * endpoints bound (wildcard ports resolved).
 */
async function listen(server: Server, endpoint: string, transport: TransportFactory): Promise<string[]> {
  return server.bind(endpoint, { transport });
}

/** Resolves with the first SIGINT / SIGTERM; a second one exits at once (status 1). */
function waitForStop(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals): void => {
      if (stopping) {
        printError(`zrpc: ${signal} again, exiting without waiting for calls in flight`);
        process.exit(1);
      }
      stopping = true;
      resolve(signal);
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
  });
}

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? "" : "s"}`;
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
  const address: Address = parseAddress(positionals[0] ?? String(DEFAULT_PORT), { mode: "bind" });
  const heartbeatFlag = options.heartbeat === undefined ? undefined : secondsOption("heartbeat", options.heartbeat, 5);
  const graceFlag = options.grace === undefined ? undefined : secondsOption("grace", options.grace, 10, true);
  const transportFlag = transportOption(options.transport);
  const verbose = options.verbose === true;
  const quiet = options.quiet === true;
  const note = (message: string): void => printError(`zrpc: ${message}`);
  // From here on a stop signal must not kill the process half-way: it is honoured once started.
  const stop = waitForStop();

  const config = await loadConfig(typeof options.config === "string" ? options.config : undefined);
  if (verbose) note(`configuration ${displayPath(config.file)}: ${plural(config.apps.length, "app")}`);
  let middleware: ServerMiddleware[] = [];
  try {
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
      note(
        "warning: no methods are registered. Do the apps have rpcs modules that call register() from @zrpc/server " +
          "(ES modules and CommonJS alike; an incompatible version of @zrpc/server keeps a registry of its own)? " +
            "Run with --verbose to see what discovery did.",
      );
    }
    const heartbeat = heartbeatFlag ?? config.server.heartbeat ?? 5;
    const grace = graceFlag ?? config.server.grace ?? 10;
    const name = config.server.name ?? "zrpc";
    const transport = transportFlag ?? config.server.transport ?? DEFAULT_TRANSPORT;
    // Before the server exists: a missing @zrpc/transport-zeromq is reported with what to install.
    const factory = await transportFactory(transport);
    const logger: Logger = {
      warn: (message, error) => note(`warning: ${message}${error === undefined ? "" : `: ${describeError(error)}`}`),
      ...(verbose ? { debug: (message: string) => note(message) } : {}),
    };
    const callLog = quiet ? [] : [createCallLog({ write: printError, introspection: verbose })];
    const server = createServer(registry, {
      name,
      heartbeatMs: heartbeat * 1000,
      closeGraceMs: grace * 1000,
      middleware: [...callLog, ...middleware],
      logger,
      ...(config.server.tracebacks === undefined ? {} : { tracebacks: config.server.tracebacks }),
    });
    let endpoints: string[];
    try {
      endpoints = await listen(server, address.endpoint, factory);
    } catch (error) {
      await server.close(0);
      throw new RunError(`cannot listen on ${address.endpoint}: ${(error as Error).message}`, { cause: error });
    }
    for (const line of describeMethods(name, config, apps)) printLine(line);
    const details = `heartbeat ${heartbeat}s${transport === DEFAULT_TRANSPORT ? "" : `, transport ${transport}`}`;
    printLine(`Listening on ${endpoints.join(", ")} (${details}). Quit with CONTROL-C.`);

    const signal = await stop;
    const inFlight = server.inFlight;
    note(`${signal}: stopping${inFlight === 0 ? "" : `, waiting up to ${grace}s for ${plural(inFlight, "call")} in flight`}`);
    await server.close();
    await closeMiddleware(middleware);
    note("stopped");
    return 0;
  } catch (error) {
    // Middleware created by the configuration itself (a database pool, an embedded database)
    // must be closed too, or it may keep the process alive.
    await closeMiddleware(middleware.length > 0 ? middleware : (config.server.middleware ?? []).filter(isServerMiddleware));
    throw error;
  }
}
