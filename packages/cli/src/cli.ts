#!/usr/bin/env node
// The `zrpc` command: run, call, inspect, types, keygen. Exit status 0 ok, 1 runtime or remote error, 2 usage.
import { readFileSync } from "node:fs";
import { AddressError } from "./address.js";
import { callCommand, CALL_HELP } from "./commands/call.js";
import { inspectCommand, INSPECT_HELP } from "./commands/inspect.js";
import { KeygenError, keygenCommand, KEYGEN_HELP } from "./commands/keygen.js";
import { RunError, runCommand, RUN_HELP } from "./commands/run.js";
import { typesCommand, TYPES_HELP } from "./commands/types.js";
import { ConfigError, DuplicateMethodError, ModuleLoadError, UsageError, describeError } from "./errors.js";
import { TransportUnavailableError } from "./transport.js";
import { printError, printLine } from "./output.js";

const HELP = `Usage: zrpc COMMAND [ARGS...] [options]

Commands:
  run [ADDRESS]                   serve the apps of zrpc.config.* (default 127.0.0.1:4242)
  call ENDPOINT METHOD [ARGS...]  call a method, print the result as JSON
  inspect ENDPOINT [METHOD]       list a server's methods, arguments and docs
  types ENDPOINT                  write a TypeScript interface for a server
  keygen [NAME]                   make a CURVE key pair (print it, or write NAME.key and
                                  NAME.key_secret)
  help [COMMAND]                  show help for a command

Options:
  -h, --help       show this help (zrpc COMMAND --help for a command's)
  -V, --version    print the version

Exit status: 0 ok, 1 runtime or remote error, 2 usage error.`;

const COMMANDS: Record<string, { run: (argv: readonly string[]) => Promise<number>; help: string }> = {
  run: { run: runCommand, help: RUN_HELP },
  call: { run: callCommand, help: CALL_HELP },
  inspect: { run: inspectCommand, help: INSPECT_HELP },
  types: { run: typesCommand, help: TYPES_HELP },
  keygen: { run: keygenCommand, help: KEYGEN_HELP },
};

function version(): string {
  const manifest = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string };
  return manifest.version;
}

async function main(argv: readonly string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined || first === "-h" || first === "--help") {
    printLine(HELP);
    return first === undefined ? 2 : 0;
  }
  if (first === "-V" || first === "--version") {
    printLine(version());
    return 0;
  }
  if (first === "help") {
    const topic = rest[0];
    if (topic === undefined) {
      printLine(HELP);
      return 0;
    }
    const command = COMMANDS[topic];
    if (command === undefined) throw new UsageError(`unknown command "${topic}" (expected ${Object.keys(COMMANDS).join(", ")})`);
    printLine(command.help);
    return 0;
  }
  const command = Object.hasOwn(COMMANDS, first) ? COMMANDS[first] : undefined;
  if (command === undefined) throw new UsageError(`unknown command "${first}" (expected ${Object.keys(COMMANDS).join(", ")})`);
  try {
    return await command.run(rest);
  } catch (error) {
    if (error instanceof UsageError || error instanceof AddressError) {
      printError(`zrpc ${first}: ${error.message}`);
      printError(`Run 'zrpc ${first} --help' for usage.`);
      return 2;
    }
    throw error;
  }
}

// A closed stdout (`zrpc call ... | head -1`) is not an error of ours.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.exit(0);
  throw error;
});

main(process.argv.slice(2)).then(
  (status) => process.exit(status),
  (error: unknown) => {
    if (error instanceof UsageError) {
      printError(`zrpc: ${error.message}`);
      printError("Run 'zrpc --help' for usage.");
      process.exit(2);
    }
    if (error instanceof ConfigError) {
      printError(`zrpc: ${error.message}`);
      process.exit(2);
    }
    // Our own errors carry what matters (and the cause's stack) in their message.
    const known =
      error instanceof ModuleLoadError ||
      error instanceof DuplicateMethodError ||
      error instanceof RunError ||
      error instanceof KeygenError ||
      error instanceof TransportUnavailableError;
    printError(`zrpc: ${known ? error.message : describeError(error)}`);
    process.exit(1);
  },
);
