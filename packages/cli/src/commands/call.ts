// `zrpc call ENDPOINT METHOD [ARGS...]`: one call from the shell, results as JSON lines.
import { RemoteError, connect } from "@zrpc/client";
import type { Client } from "@zrpc/client";
import { parseAddress } from "../address.js";
import type { Address } from "../address.js";
import { CLIENT_COMMAND_OPTIONS, parseCommandLine, secondsOption } from "../argv.js";
import { UsageError } from "../errors.js";
import { JsonSyntaxError, formatJson, parseJson } from "../json.js";
import { Progress } from "../progress.js";
import { printError, printLine } from "../output.js";
import { DEFAULT_TRANSPORT, transportFactory, transportOption } from "../transport.js";
import type { TransportName, ZeromqLoader } from "../transport.js";

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
Integers keep every digit (18446744073709551615 is sent as a uint64), a number
with a fraction or exponent is a float (2.0 is sent as float64, 2 as an int);
{"$bin": "00ff"} is bin, {"$ext": [TYPE, "HEX"]} an ext, {"$map": [[K, V], ...]}
a map with non-string keys. Results are printed the same way (NaN, Infinity and
-Infinity as Python's json writes them).

Options:
      --json           every ARG must be JSON (a non-JSON ARG is an error, exit 2)
      --timeout SEC    how long to wait for the first reply (default 30; 0 = forever)
      --heartbeat SEC  heartbeat interval in seconds (default 5; use the server's)
      --transport T    zmtp (pure-TypeScript ZMTP, no native addon; the default) or zeromq
                       (zeromq.js, libzmq); either reaches a server on either, or zerorpc-python;
                       zeromq needs: npm install @zrpc/transport-zeromq
  -v, --verbose        print the remote traceback of an error
  -q, --quiet          no progress on stderr (it is only shown when stderr is a terminal)
  -h, --help           show this help

Exit status: 0 ok, 1 the remote method raised (its name and message are printed
on stderr) or the call failed (timeout, lost server), 2 bad usage.

Examples:
  zrpc call 4242 get_ticket
  zrpc call tcp://127.0.0.1:4242 ticket_list 3
  zrpc call 4242 echo hello '{"a": [1, 2.5, null]}'
  zrpc call --json 4242 add 1 2
  zrpc call --transport zmtp 4242 add 1 2`;


/**
 * Parses one command line argument of `zrpc call`: JSON when it parses (see `parseJson`), else the
 * text itself; with `strict`, text that is not JSON is a {@link UsageError} naming the argument.
 */
export function parseCallArgument(text: string, position: number, strict: boolean): unknown {
  try {
    return parseJson(text);
  } catch (error) {
    if (!(error instanceof JsonSyntaxError)) throw error;
    if (strict) throw new UsageError(`argument ${position} ${JSON.stringify(text)} is not valid JSON (--json): ${error.message}`);
    return text;
  }
}

/** Options shared by the commands that talk to a server. */
export interface ClientSettings {
  readonly heartbeatSeconds: number;
  readonly timeoutSeconds: number;
  /** The transport of the client's DEALER. */
  readonly transport: TransportName;
  /** Loads @zrpc/transport-zeromq (for tests); default: import it. */
  readonly loadZeromq?: ZeromqLoader;
}

/** Connects a client for `call` / `inspect` on a DEALER of the chosen transport. */
export async function openClient(address: Address, settings: ClientSettings): Promise<Client> {
  const options = {
    heartbeatMs: settings.heartbeatSeconds * 1000,
    timeoutMs: settings.timeoutSeconds > 0 ? settings.timeoutSeconds * 1000 : null,
  };
  // A command line client should not wait a second at exit for messages nobody will read.
  const transport = await transportFactory(settings.transport, {
    linger: 100,
    ...(settings.loadZeromq !== undefined && { loadZeromq: settings.loadZeromq }),
  });
  return connect(address.endpoint, { ...options, transport });
}

/** Reads `--timeout`, `--heartbeat` and `--transport`. */
export function clientSettings(options: Readonly<Record<string, string | true>>): ClientSettings {
  return {
    heartbeatSeconds: secondsOption("heartbeat", options.heartbeat, 5),
    timeoutSeconds: secondsOption("timeout", options.timeout, 30, true),
    transport: transportOption(options.transport) ?? DEFAULT_TRANSPORT,
  };
}

/** Prints a failed call on stderr: `Name: message` for a remote error, and returns exit status 1. */
export function reportCallError(command: string, error: unknown, verbose: boolean): number {
  if (RemoteError.isInstance(error)) {
    printError(`${error.remoteName}: ${error.rawMessage}`);
    if (verbose && error.remoteTraceback !== undefined && error.remoteTraceback !== "") {
      printError(`remote traceback:\n${error.remoteTraceback}`);
    }
    return 1;
  }
  if (error instanceof Error) {
    printError(`zrpc ${command}: ${error.name}: ${error.message}`);
    return 1;
  }
  throw error;
}

/** Runs `zrpc call` with `argv` (after the command name); resolves with the exit status. */
export async function callCommand(argv: readonly string[]): Promise<number> {
  const { options, positionals } = parseCommandLine(argv, CLIENT_COMMAND_OPTIONS);
  if (options.help === true) {
    printLine(CALL_HELP);
    return 0;
  }
  const [endpointText, method, ...rawArgs] = positionals;
  if (endpointText === undefined) throw new UsageError("missing ENDPOINT and METHOD");
  if (method === undefined || method === "") throw new UsageError("missing METHOD");
  const address = parseAddress(endpointText, { mode: "connect" });
  const strict = options.json === true;
  const args = rawArgs.map((text, index) => parseCallArgument(text, index + 1, strict));
  const settings = clientSettings(options);
  const verbose = options.verbose === true;
  const progress = new Progress(process.stderr, process.stderr.isTTY === true && options.quiet !== true);

  const client = await openClient(address, settings);
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
    return reportCallError("call", error, verbose);
  } finally {
    progress.stop();
    await client.close();
  }
}
