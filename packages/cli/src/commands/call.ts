// `zrpc call ENDPOINT METHOD [ARGS...]`: one call from the shell, results as JSON lines.
import { ConnectError, DEFAULT_CONNECT_TIMEOUT_MS, RemoteError, connect } from "@zrpc/client";
import type { CurveClientOptions } from "@zrpc/channel";
import type { Client } from "@zrpc/client";
import { parseAddress } from "../address.js";
import type { Address } from "../address.js";
import { CALL_COMMAND_OPTIONS, parseCommandLine, secondsOption } from "../argv.js";
import { readKeyPairFile, readPublicKeyOption } from "../curve-keys.js";
import { tracingFactory } from "../debug.js";
import { UsageError } from "../errors.js";
import { JsonSyntaxError, formatJson, parseJson } from "../json.js";
import { Progress } from "../progress.js";
import { printError, printLine } from "../output.js";
import { suggestMethods } from "../suggest.js";
import { DEFAULT_TRANSPORT, transportFactory, transportOption } from "../transport.js";
import type { TransportName, ZeromqLoader } from "../transport.js";

/**
 * The lines of `--help` for the options that `zrpc call` and `zrpc inspect` share, from
 * `--connect-timeout` to `--debug` (each command says what its `--timeout` and `--verbose` do).
 */
export const CLIENT_OPTIONS_HELP = `      --connect-timeout SEC  how long to wait for the connection to the server (default 1;
                             0 = forever); a refused connection fails at once
      --heartbeat SEC        heartbeat interval in seconds (default 5; use the server's)
      --transport T          zmtp (pure-TypeScript ZMTP, no native addon; the default) or zeromq
                             (zeromq.js, libzmq); either reaches a server on either, or
                             zerorpc-python; zeromq needs: npm install @zrpc/transport-zeromq
      --curve-server-key K   encrypt with CURVE and accept only the server with public key K:
                             40 characters of Z85, or @FILE (a .key certificate, or a file
                             holding the key), as zrpc run prints it
      --curve-secret-key-file F
                             this client's key pair, from F (a .key_secret certificate of
                             zrpc keygen, or the secret key alone); default: a new pair per
                             run (for servers that accept any client key)
  -d, --debug                print every zerorpc event sent and received on stderr`;

/**
 * The options part of the help of the commands that describe a server (`zrpc inspect`, `zrpc
 * types`): each reply's timeout, {@link CLIENT_OPTIONS_HELP}, and what `--verbose` adds there.
 */
export const DESCRIBE_OPTIONS_HELP = `      --timeout SEC          how long to wait for each reply (default 30; 0 = forever)
${CLIENT_OPTIONS_HELP}
  -v, --verbose              say on stderr when the fallback was used, and the causes of a
                             connection failure
  -q, --quiet                no progress on stderr (it is only shown when stderr is a terminal)
  -h, --help                 show this help`;

/** `zrpc call --help`. */
export const CALL_HELP = `Usage: zrpc call ENDPOINT METHOD [ARGS...] [options]

Call METHOD on the zerorpc server at ENDPOINT (a zrpc or zerorpc-python server)
and print the result as JSON on stdout: one line for a value (an array result
too), one line per item for a stream.

ENDPOINT: tcp://HOST:PORT, ipc://PATH, or the short forms of zrpc run
(4242 = tcp://127.0.0.1:4242, HOST:PORT, [IPV6]:PORT).

ARGS are parsed as JSON where they parse and sent as strings otherwise:
  42  2.0  -1  true  null  '"42"'  '[1,2]'  '{"a":1}'   JSON values
  hello                                            the string "hello"
An ARG that starts like JSON ({, [ or ") but does not parse is an error (exit 2,
naming the position); --raw sends every ARG as a string instead.
Integers keep every digit (18446744073709551615 is sent as a uint64), a number
with a fraction or exponent is a float (2.0 is sent as float64, 2 as an int);
{"$bin": "00ff"} is bin, {"$ext": [TYPE, "HEX"]} an ext, {"$map": [[K, V], ...]}
a map with non-string keys. Results are printed the same way (NaN, Infinity and
-Infinity as Python's json writes them).

Options:
      --json                 every ARG must be JSON (a non-JSON ARG is an error, exit 2)
      --raw                  send every ARG as a string, as typed (not with --json)
      --timeout SEC          how long to wait for the first reply (default 30; 0 = forever)
${CLIENT_OPTIONS_HELP}
  -v, --verbose              print the remote traceback of an error, and the causes of a
                             connection failure
  -q, --quiet                no progress on stderr (it is only shown when stderr is a terminal)
  -h, --help                 show this help

Exit status: 0 ok, 1 the remote method raised (its name and message are printed
on stderr) or the call failed (cannot connect, timeout, lost server), 2 bad usage
(including an ARG that is not valid JSON).

Examples:
  zrpc call 4242 get_ticket
  zrpc call tcp://127.0.0.1:4242 ticket_list 3
  zrpc call 4242 echo hello '{"a": [1, 2.5, null]}'
  zrpc call --json 4242 add 1 2
  zrpc call --raw 4242 echo '{not json'
  zrpc call --transport zmtp 4242 add 1 2
  zrpc call --curve-server-key @keys/server.key 4242 add 1 2`;


/** How `zrpc call` reads its ARGS: JSON where it parses (`auto`), JSON only (`--json`), strings (`--raw`). */
export type ArgumentMode = "auto" | "json" | "raw";

/** The first characters of a JSON array, object or string: an ARG starting so is meant as JSON. */
const JSON_START = /^\s*[[{"]/;

/**
 * Parses one command line argument of `zrpc call` (`position` counts from 1):
 * - `raw`: the text itself;
 * - `json`: JSON (see `parseJson`), else a {@link UsageError} naming the argument;
 * - `auto`: JSON when it parses; text that starts like JSON (`{`, `[`, `"`) but does not parse is
 *   a {@link UsageError} saying what is wrong and where; any other text is sent as a string.
 */
export function parseCallArgument(text: string, position: number, mode: ArgumentMode): unknown {
  if (mode === "raw") return text;
  try {
    return parseJson(text);
  } catch (error) {
    if (!(error instanceof JsonSyntaxError)) throw error;
    if (mode === "json") throw new UsageError(`argument ${position} ${JSON.stringify(text)} is not valid JSON (--json): ${error.message}`);
    if (JSON_START.test(text)) {
      throw new UsageError(
        `argument ${position} ${JSON.stringify(text)} starts like JSON but is not valid JSON: ${error.message} ` +
          "(use --raw to send every argument as a string)",
      );
    }
    return text;
  }
}

/** Reads `--json` / `--raw` (both at once is a {@link UsageError}). */
export function argumentMode(options: Readonly<Record<string, string | true>>): ArgumentMode {
  if (options.json === true && options.raw === true) throw new UsageError("--json and --raw exclude each other");
  if (options.json === true) return "json";
  return options.raw === true ? "raw" : "auto";
}

/** Options shared by the commands that talk to a server. */
export interface ClientSettings {
  readonly heartbeatSeconds: number;
  readonly timeoutSeconds: number;
  /** How long to wait for the connection (0: no limit). */
  readonly connectTimeoutSeconds: number;
  /** The transport of the client's DEALER. */
  readonly transport: TransportName;
  /** Print every event sent and received on stderr (`--debug`). */
  readonly debug: boolean;
  /** CURVE (`--curve-server-key`, `--curve-secret-key-file`), when asked for. */
  readonly curve?: CurveClientOptions;
  /** Loads @zrpc/transport-zeromq (for tests); default: import it. */
  readonly loadZeromq?: ZeromqLoader;
}

/** Connects a client for `call` / `inspect` on a DEALER of the chosen transport. */
export async function openClient(address: Address, settings: ClientSettings): Promise<Client> {
  const options = {
    heartbeatMs: settings.heartbeatSeconds * 1000,
    timeoutMs: settings.timeoutSeconds > 0 ? settings.timeoutSeconds * 1000 : null,
    connectTimeoutMs: settings.connectTimeoutSeconds > 0 ? settings.connectTimeoutSeconds * 1000 : null,
  };
  // A command line client should not wait a second at exit for messages nobody will read.
  const factory = await transportFactory(settings.transport, {
    linger: 100,
    ...(settings.loadZeromq !== undefined && { loadZeromq: settings.loadZeromq }),
  });
  const transport = settings.debug ? tracingFactory(factory, (line) => printError(`debug: ${line}`)) : factory;
  return connect(address.endpoint, { ...options, transport, ...(settings.curve !== undefined && { curve: settings.curve }) });
}

/** Default of `--connect-timeout`, in seconds. */
export const DEFAULT_CONNECT_TIMEOUT_SECONDS = DEFAULT_CONNECT_TIMEOUT_MS / 1000;

/**
 * Reads `--curve-server-key` and `--curve-secret-key-file`: `undefined` without them, else the
 * client's CURVE options (a fresh key pair per socket without a key file). A bad key or key file
 * is a `KeyFileError` (exit status 2) naming the option and the file.
 */
export function curveClientOption(options: Readonly<Record<string, string | true>>): CurveClientOptions | undefined {
  const serverKey = options["curve-server-key"];
  const keyFile = options["curve-secret-key-file"];
  if (serverKey === undefined) {
    if (typeof keyFile === "string") throw new UsageError("--curve-secret-key-file needs --curve-server-key K (the server's public key)");
    return undefined;
  }
  if (typeof serverKey !== "string") return undefined;
  const server = readPublicKeyOption("--curve-server-key", serverKey);
  const pair = typeof keyFile === "string" ? readKeyPairFile("--curve-secret-key-file", keyFile) : undefined;
  return { serverKey: server, ...(pair !== undefined && { publicKey: pair.publicKey, secretKey: pair.secretKey }) };
}

/** Reads `--timeout`, `--connect-timeout`, `--heartbeat`, `--transport`, the `--curve-*` options and `--debug`. */
export function clientSettings(options: Readonly<Record<string, string | true>>): ClientSettings {
  const settings: ClientSettings = {
    heartbeatSeconds: secondsOption("heartbeat", options.heartbeat, 5),
    timeoutSeconds: secondsOption("timeout", options.timeout, 30, true),
    connectTimeoutSeconds: secondsOption("connect-timeout", options["connect-timeout"], DEFAULT_CONNECT_TIMEOUT_SECONDS, true),
    transport: transportOption(options.transport) ?? DEFAULT_TRANSPORT,
    debug: options.debug === true,
  };
  const curve = curveClientOption(options);
  return curve === undefined ? settings : { ...settings, curve };
}

/** What `zrpc call` and `zrpc inspect` work with once their command line is read. */
export interface ClientCommand<T> {
  /** The server (ENDPOINT). */
  readonly address: Address;
  readonly settings: ClientSettings;
  /** `--verbose`. */
  readonly verbose: boolean;
  /** Progress on stderr: only on a terminal, and neither with `--quiet` nor with `--debug`. */
  readonly progress: Progress;
  /** What the command's own arguments read as. */
  readonly args: T;
  /** The client, connected to `address`; the command closes it. */
  readonly client: Client;
}

/**
 * Starts a command that talks to one server (`zrpc call`, `zrpc inspect`) once it has checked its
 * positionals: reads ENDPOINT (`endpointText`), then the command's own arguments (`readArguments`,
 * which throws a {@link UsageError} for a bad one), then the client options (`--timeout`,
 * `--connect-timeout`, `--heartbeat`, `--transport`, `--debug`), and opens the client. A command
 * line with several mistakes is reported for the first in that order.
 */
export async function startClientCommand<T>(
  endpointText: string,
  options: Readonly<Record<string, string | true>>,
  readArguments: () => T,
): Promise<ClientCommand<T>> {
  const address = parseAddress(endpointText, { mode: "connect" });
  const args = readArguments();
  const settings = clientSettings(options);
  const verbose = options.verbose === true;
  const progress = new Progress(process.stderr, process.stderr.isTTY === true && options.quiet !== true && !settings.debug);
  const client = await openClient(address, settings);
  return { address, settings, verbose, progress, args, client };
}

/** `Name: message` of each cause under `error`, outermost first (at most 10). */
function causeChain(error: Error): string[] {
  const lines: string[] = [];
  let cause: unknown = error.cause;
  while (cause !== undefined && cause !== null && lines.length < 10) {
    if (cause instanceof Error) {
      const code = (cause as { code?: unknown }).code;
      lines.push(`${cause.name}${typeof code === "string" && !cause.message.includes(code) ? ` (${code})` : ""}: ${cause.message}`);
      cause = cause.cause;
    } else {
      let text: string;
      try {
        text = typeof cause === "string" ? cause : formatJson(cause);
      } catch {
        text = Object.prototype.toString.call(cause);
      }
      lines.push(text);
      break;
    }
  }
  return lines;
}

/**
 * Prints a failed call on stderr and returns exit status 1: `Name: message` for a remote error
 * (with the remote traceback under `verbose`), the connection failure and its cause for a
 * `ConnectError` (the whole cause chain under `verbose`), `Name: message` of anything else.
 */
export function reportCallError(command: string, error: unknown, verbose: boolean): number {
  if (RemoteError.isInstance(error)) {
    printError(`${error.remoteName}: ${error.rawMessage}`);
    if (verbose && error.remoteTraceback !== undefined && error.remoteTraceback !== "") {
      printError(`remote traceback:\n${error.remoteTraceback}`);
    }
    return 1;
  }
  if (ConnectError.isInstance(error)) {
    // The message names the endpoint and says why in words (refused, not a ZeroMQ peer, ...).
    printError(`zrpc ${command}: ${error.message}`);
    if (verbose) for (const line of causeChain(error)) printError(`  caused by ${line}`);
    return 1;
  }
  if (error instanceof Error) {
    printError(`zrpc ${command}: ${error.name}: ${error.message}`);
    return 1;
  }
  throw error;
}

/** How long `zrpc call` waits for `_zerorpc_list` after a `NameError`, in ms. */
const LIST_TIMEOUT_MS = 2000;

/**
 * For a `NameError` of `method`: `NameError: nope: no such method. Did you mean: a, b; the server
 * has: a, b, c` from the server's `_zerorpc_list`, closest names first. `undefined` when the
 * list cannot be had (the plain error is printed then).
 */
async function describeUnknownMethod(client: Client, method: string, timeoutSeconds: number): Promise<string | undefined> {
  let names: unknown;
  try {
    const limit = timeoutSeconds > 0 ? Math.min(LIST_TIMEOUT_MS, timeoutSeconds * 1000) : LIST_TIMEOUT_MS;
    names = await client.call("_zerorpc_list", [], { timeoutMs: limit });
  } catch {
    return undefined;
  }
  if (!Array.isArray(names)) return undefined;
  const decoder = new TextDecoder();
  const list = names.map((name: unknown) => (name instanceof Uint8Array ? decoder.decode(name) : String(name)));
  const { close, all } = suggestMethods(method, list);
  const has = all.length > 0 ? `the server has: ${all.join(", ")}` : "the server has no methods";
  const parts = [`NameError: ${method}: no such method`, close.length > 0 ? `. Did you mean: ${close.join(", ")}; ${has}` : `; ${has}`];
  return parts.join("");
}

/** Runs `zrpc call` with `argv` (after the command name); resolves with the exit status. */
export async function callCommand(argv: readonly string[]): Promise<number> {
  const { options, positionals } = parseCommandLine(argv, CALL_COMMAND_OPTIONS);
  if (options.help === true) {
    printLine(CALL_HELP);
    return 0;
  }
  const [endpointText, method, ...rawArgs] = positionals;
  if (endpointText === undefined) throw new UsageError("missing ENDPOINT and METHOD");
  if (method === undefined || method === "") throw new UsageError("missing METHOD");
  const { address, settings, verbose, progress, args, client } = await startClientCommand(endpointText, options, () => {
    const mode = argumentMode(options);
    return rawArgs.map((text, index) => parseCallArgument(text, index + 1, mode));
  });
  let count = 0;
  try {
    progress.start(`calling ${method} on ${address.endpoint}`);
    for await (const item of client.invoke(method, args)) {
      count += 1;
      progress.clear();
      printLine(formatJson(item));
      progress.update(`${method}: ${count} item${count === 1 ? "" : "s"} received`);
    }
    return 0;
  } catch (error) {
    progress.stop();
    if (RemoteError.isInstance(error) && error.remoteName === "NameError" && error.rawMessage === method) {
      const described = await describeUnknownMethod(client, method, settings.timeoutSeconds);
      if (described !== undefined) {
        printError(described);
        return 1;
      }
    }
    return reportCallError("call", error, verbose);
  } finally {
    progress.stop();
    await client.close();
  }
}
