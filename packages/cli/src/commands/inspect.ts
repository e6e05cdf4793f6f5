// `zrpc inspect ENDPOINT [METHOD]`: what `zerorpc tcp://...` prints (docs/protocol section 12),
// with argument names: the service name, then one line per method.
import { RemoteError } from "@zrpc/client";
import type { Client } from "@zrpc/client";
import { cleandoc } from "@zrpc/server";
import { CLIENT_COMMAND_OPTIONS, parseCommandLine } from "../argv.js";
import { UsageError } from "../errors.js";
import { formatJson } from "../json.js";
import { suggestMethods } from "../suggest.js";
import { columns, firstDocLine, printError, printLine, signature } from "../output.js";
import type { ArgumentInfo } from "../output.js";
import { DESCRIBE_OPTIONS_HELP, reportCallError, startClientCommand } from "./call.js";

/** `zrpc inspect --help`. */
export const INSPECT_HELP = `Usage: zrpc inspect ENDPOINT [METHOD] [options]

List the methods of the zerorpc server at ENDPOINT with their arguments and the
first line of their documentation, like \`zerorpc ENDPOINT\`; with METHOD, show
that method's signature and whole documentation.

Uses _zerorpc_inspect; when the server answers it with an error (zerorpc-python
on Python >= 3.11 raises AttributeError there), falls back to _zerorpc_list,
_zerorpc_name, _zerorpc_help and _zerorpc_args.

Options:
      --json                 print the description as one line of JSON:
                             {"name": ..., "methods": {NAME: {"args": [...], "doc": ...}}}
${DESCRIBE_OPTIONS_HELP}

Exit status: 0 ok, 1 the server failed or could not be reached, 2 bad usage.

Examples:
  zrpc inspect 4242
  zrpc inspect tcp://127.0.0.1:4242 ticket_list
  zrpc inspect --transport zmtp 4242`;


/** One method of a described service. */
export interface MethodDescription {
  readonly name: string;
  /** Arguments without Python's leading `self`; `null` when the server does not know them. */
  readonly args: readonly ArgumentInfo[] | null;
  /** Rest parameter (Python's `*varargs`), when known. */
  readonly rest: string | null;
  /** The documentation, or `null`. */
  readonly doc: string | null;
  /** Type texts from a zrpc server's `zrpc_types` inspect extension, or `null` (other servers). */
  readonly types?: MethodTypeTexts | null;
}

/** One method of the `zrpc_types` key of a zrpc server's `_zerorpc_inspect` reply. */
export interface MethodTypeTexts {
  /** One TypeScript type text per argument, or `null` when the arguments are unknown. */
  readonly args: readonly string[] | null;
  /** The rest parameter's name and element type, if it has one. */
  readonly rest: { readonly name: string; readonly type: string } | null;
  /** The result type (for a stream, one item's). */
  readonly result: string;
  /** True for a stream method. */
  readonly stream: boolean;
}

/** A service as `zrpc inspect` describes it. */
export interface ServiceDescription {
  readonly name: string;
  readonly methods: readonly MethodDescription[];
  /** How it was learnt: `_zerorpc_inspect`, or the older methods after it failed. */
  readonly via: "inspect" | "fallback";
}

const decoder = new TextDecoder();

/** Text from a str, or from bin (what a Python 2 server sends for its `str`). */
function text(value: unknown): string {
  if (typeof value === "string") return value;
  if (value instanceof Uint8Array) return decoder.decode(value);
  return String(value);
}

function optionalText(value: unknown): string | null {
  return value === null || value === undefined ? null : text(value);
}

/** Entries of a decoded msgpack map (a plain object, or a `Map` when keys were not all str). */
function entries(value: unknown): [string, unknown][] {
  if (value instanceof Map) return [...(value as Map<unknown, unknown>).entries()].map(([key, item]) => [text(key), item]);
  if (typeof value === "object" && value !== null && !Array.isArray(value)) return Object.entries(value);
  return [];
}

function field(value: unknown, key: string): unknown {
  return entries(value).find(([name]) => name === key)?.[1];
}

/** zerorpc lists `self` first for class-based Python services; clients ignore it. */
function withoutSelf<T extends { name: string }>(args: T[]): T[] {
  return args.length > 0 && args[0]!.name === "self" ? args.slice(1) : args;
}

/** The `zrpc_types` entry of one method, or `null` when it is missing or not shaped as expected. */
function parseMethodTypes(value: unknown): MethodTypeTexts | null {
  if (value === undefined || value === null) return null;
  const args = field(value, "args");
  const rest = field(value, "rest");
  const result = field(value, "result");
  const stream = field(value, "stream");
  const texts = (items: unknown[]): string[] | null => (items.every((item) => typeof item === "string") ? items : null);
  const argTexts = Array.isArray(args) ? texts(args) : null;
  if ((args !== null && argTexts === null) || typeof result !== "string" || typeof stream !== "boolean") return null;
  const restName = field(rest, "name");
  const restType = field(rest, "type");
  return {
    args: argTexts,
    rest: typeof restName === "string" && typeof restType === "string" ? { name: restName, type: restType } : null,
    result,
    stream,
  };
}

/** Parses a `_zerorpc_inspect` reply (docs/protocol section 10), with zrpc's `zrpc_types` extension when present. */
export function parseInspectReply(reply: unknown): ServiceDescription {
  const typeTable = field(reply, "zrpc_types");
  const methods = entries(field(reply, "methods")).map(([name, info]): MethodDescription => {
    const rawArgs = field(info, "args");
    const args = Array.isArray(rawArgs)
      ? withoutSelf(
          rawArgs.map((arg): ArgumentInfo => {
            const pairs = entries(arg);
            const defaultPair = pairs.find(([key]) => key === "default");
            return defaultPair === undefined
              ? { name: text(field(arg, "name")), hasDefault: false }
              : { name: text(field(arg, "name")), hasDefault: true, default: defaultPair[1] };
          }),
        )
      : null;
    const types = parseMethodTypes(field(typeTable, name));
    return { name, args, rest: null, doc: optionalText(field(info, "doc")), types };
  });
  return { name: text(field(reply, "name")), methods, via: "inspect" };
}

/** Arguments from a `_zerorpc_args` reply: `[args, varargs, varkw, defaults]` (Python's getargspec). */
function argsFromArgspec(reply: unknown): { args: ArgumentInfo[]; rest: string | null } | null {
  if (!Array.isArray(reply) || !Array.isArray(reply[0])) return null;
  const names = (reply[0] as unknown[]).map(text);
  const defaults = Array.isArray(reply[3]) ? (reply[3] as unknown[]) : [];
  const first = names.length - defaults.length;
  const args = names.map((name, index): ArgumentInfo =>
    index >= first ? { name, hasDefault: true, default: defaults[index - first] } : { name, hasDefault: false },
  );
  return { args: withoutSelf(args), rest: optionalText(reply[1]) };
}

/**
 * Describes the service behind `client`: `_zerorpc_inspect`, or when that answers `ERR` (e.g.
 * `AttributeError` from zerorpc-python on Python >= 3.11, docs/protocol section 13; `NameError` from
 * a server without it) `_zerorpc_name` + `_zerorpc_list` + `_zerorpc_help` per method, plus
 * `_zerorpc_args` where it works. `onFallback` hears why the fallback was taken.
 */
export async function describeService(client: Client, onFallback?: (error: RemoteError) => void): Promise<ServiceDescription> {
  try {
    return parseInspectReply(await client.call("_zerorpc_inspect"));
  } catch (error) {
    if (!RemoteError.isInstance(error)) throw error;
    onFallback?.(error);
  }
  const [name, list] = await Promise.all([client.call("_zerorpc_name"), client.call("_zerorpc_list")]);
  const names = Array.isArray(list) ? (list as unknown[]).map(text) : [];
  const methods = await Promise.all(
    names.map(async (method): Promise<MethodDescription> => {
      const [doc, spec] = await Promise.all([
        client.call("_zerorpc_help", [method]).catch((error: unknown) => {
          if (RemoteError.isInstance(error)) return null;
          throw error;
        }),
        // Broken on Python >= 3.11 like _zerorpc_inspect: arguments are then unknown.
        client.call("_zerorpc_args", [method]).catch((error: unknown) => {
          if (RemoteError.isInstance(error)) return null;
          throw error;
        }),
      ]);
      const parsed = argsFromArgspec(spec);
      return { name: method, args: parsed?.args ?? null, rest: parsed?.rest ?? null, doc: optionalText(doc) };
    }),
  );
  return { name: text(name), methods, via: "fallback" };
}

function methodSignature(method: MethodDescription): string {
  return signature(method.name, method.args, method.rest, (value) => formatJson(value));
}

/** The description as `_zerorpc_inspect` shapes it (arguments without `self`), for `--json`. */
function toJson(service: ServiceDescription): unknown {
  const methods = new Map<string, unknown>();
  for (const method of service.methods) {
    methods.set(method.name, {
      args: method.args === null ? null : method.args.map((arg) => (arg.hasDefault ? { name: arg.name, default: arg.default } : { name: arg.name })),
      doc: method.doc,
    });
  }
  return { name: service.name, methods };
}

/** Runs `zrpc inspect` with `argv` (after the command name); resolves with the exit status. */
export async function inspectCommand(argv: readonly string[]): Promise<number> {
  const { options, positionals } = parseCommandLine(argv, CLIENT_COMMAND_OPTIONS);
  if (options.help === true) {
    printLine(INSPECT_HELP);
    return 0;
  }
  const [endpointText, methodName, ...extra] = positionals;
  if (endpointText === undefined) throw new UsageError("missing ENDPOINT");
  if (extra.length > 0) throw new UsageError(`unexpected arguments: ${extra.join(" ")}`);
  const { address, verbose, progress, client } = await startClientCommand(endpointText, options, () => undefined);
  let service: ServiceDescription;
  try {
    progress.start(`inspecting ${address.endpoint}`);
    service = await describeService(client, (error) => {
      if (verbose) {
        progress.clear();
        printError(`zrpc inspect: _zerorpc_inspect failed (${error.remoteName}: ${error.rawMessage}); using _zerorpc_list, _zerorpc_name and _zerorpc_help`);
      }
    });
  } catch (error) {
    progress.stop();
    return reportCallError("inspect", error, verbose);
  } finally {
    progress.stop();
    await client.close();
  }

  if (methodName !== undefined) {
    const method = service.methods.find((item) => item.name === methodName);
    if (method === undefined) {
      const names = service.methods.map((item) => item.name);
      const { close } = suggestMethods(methodName, names);
      const hint = close.length > 0 ? `did you mean: ${close.join(", ")}; ` : "";
      printError(`zrpc inspect: ${service.name} has no method ${JSON.stringify(methodName)} (${hint}it has ${names.join(", ") || "none"})`);
      return 1;
    }
    if (options.json === true) {
      printLine(formatJson(toJson({ ...service, methods: [method] })));
      return 0;
    }
    printLine(`[${service.name}]`);
    printLine(methodSignature(method));
    printLine("");
    printLine(method.doc === null ? "(no documentation)" : cleandoc(method.doc));
    return 0;
  }
  if (options.json === true) {
    printLine(formatJson(toJson(service)));
    return 0;
  }
  printLine(`[${service.name}]`);
  for (const line of columns(service.methods.map((method) => [methodSignature(method), firstDocLine(method.doc)] as const))) printLine(line);
  return 0;
}
