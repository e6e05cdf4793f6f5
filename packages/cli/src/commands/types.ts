// `zrpc types ENDPOINT`: a TypeScript interface for a live server, from what `zrpc inspect` learns
// (method names, argument names, docs) plus, from a zrpc server, the type texts of its
// `zrpc_types` inspect extension. `--check FILE` compares a checked-in module with it.
import { readFile, writeFile } from "node:fs/promises";
import { TYPES_COMMAND_OPTIONS, parseCommandLine } from "../argv.js";
import { UsageError } from "../errors.js";
import { printError } from "../output.js";
import { diffTypes, generateTypes } from "../typegen.js";
import { DESCRIBE_OPTIONS_HELP, reportCallError, startClientCommand } from "./call.js";
import { describeService } from "./inspect.js";
import type { ServiceDescription } from "./inspect.js";

/** `zrpc types --help`. */
export const TYPES_HELP = `Usage: zrpc types ENDPOINT [-o FILE | --check FILE] [options]

Write a TypeScript module with an interface for the zerorpc server at ENDPOINT:
one method per remote method, with its argument names in order and its
documentation as TSDoc, returning Promise<R> (or AsyncIterable<I> for a stream),
the shape connect<T>() of @zrpc/client takes. Types are unknown unless the
server says more: a zrpc server sends the types it was given (createServer's
types option, or zrpc run's reading of the rpcs modules) in the zrpc_types key
of its _zerorpc_inspect reply. Like zrpc inspect, falls back to _zerorpc_list,
_zerorpc_name, _zerorpc_help and _zerorpc_args when _zerorpc_inspect fails.

Options:
  -o, --output FILE          write the module to FILE (default: stdout)
      --check FILE           compare FILE with what the server reports: exit 0 when
                             they agree, 1 with the differing lines when FILE is stale
                             (the first line, naming the endpoint, is not compared)
      --interface NAME       name of the interface (default: the service name in
                             PascalCase, ending in Service)
${DESCRIBE_OPTIONS_HELP}

Exit status: 0 ok (or FILE is current), 1 the server failed or could not be reached,
or FILE is stale, 2 bad usage.

Examples:
  zrpc types 4242 -o src/ticket-service.ts
  zrpc types tcp://127.0.0.1:4242 --check src/ticket-service.ts`;

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** Asks the server; resolves with the description, or with an exit status after reporting a failure. */
async function describe(endpointText: string, options: Readonly<Record<string, string | true>>): Promise<{ endpoint: string; service: ServiceDescription } | number> {
  const { address, verbose, progress, client } = await startClientCommand(endpointText, options, () => undefined);
  try {
    progress.start(`inspecting ${address.endpoint}`);
    const service = await describeService(client, (error) => {
      if (verbose) {
        progress.clear();
        printError(`zrpc types: _zerorpc_inspect failed (${error.remoteName}: ${error.rawMessage}); using _zerorpc_list, _zerorpc_name, _zerorpc_help and _zerorpc_args`);
      }
    });
    return { endpoint: address.endpoint, service };
  } catch (error) {
    progress.stop();
    return reportCallError("types", error, verbose);
  } finally {
    progress.stop();
    await client.close();
  }
}

/** Runs `zrpc types` with `argv` (after the command name); resolves with the exit status. */
export async function typesCommand(argv: readonly string[]): Promise<number> {
  const { options, positionals } = parseCommandLine(argv, TYPES_COMMAND_OPTIONS);
  if (options.help === true) {
    process.stdout.write(`${TYPES_HELP}\n`);
    return 0;
  }
  const [endpointText, ...extra] = positionals;
  if (endpointText === undefined) throw new UsageError("missing ENDPOINT");
  if (extra.length > 0) throw new UsageError(`unexpected arguments: ${extra.join(" ")}`);
  const { output, check, interface: name } = options;
  if (output === true || check === true || name === true) throw new UsageError("--output, --check and --interface need a value");
  if (output !== undefined && check !== undefined) throw new UsageError("give --output or --check, not both");
  if (name !== undefined && !IDENTIFIER.test(name)) throw new UsageError(`--interface must be a TypeScript identifier, got ${JSON.stringify(name)}`);

  const described = await describe(endpointText, options);
  if (typeof described === "number") return described;
  const generated = generateTypes(described.service, { endpoint: described.endpoint, ...(name === undefined ? {} : { interfaceName: name }) });
  for (const warning of generated.warnings) printError(`zrpc types: ${warning}`);

  if (check !== undefined) {
    let checkedIn: string;
    try {
      checkedIn = await readFile(check, "utf8");
    } catch (error) {
      printError(`zrpc types: cannot read ${check}: ${(error as Error).message}`);
      return 1;
    }
    const differences = diffTypes(checkedIn, generated.text);
    if (differences.length === 0) return 0;
    printError(`zrpc types: ${check} is stale: it differs from what ${described.endpoint} reports (- ${check}, + server):`);
    for (const line of differences) printError(line);
    printError(`Regenerate it with: zrpc types ${endpointText} -o ${check}`);
    return 1;
  }
  if (output !== undefined) {
    await writeFile(output, generated.text);
    return 0;
  }
  process.stdout.write(generated.text);
  return 0;
}
