// A small command line parser. node:util's parseArgs treats `-5` as an option, but negative
// numbers are ordinary arguments of `zrpc call`, so options are recognised by name only.
import { UsageError } from "./errors.js";

/** One option of a command. */
export interface OptionSpec {
  /** Long name without dashes: `timeout` for `--timeout`. */
  readonly name: string;
  /** One-letter alias without the dash: `v` for `-v`. */
  readonly short?: string;
  /** True for an option that takes a value (`--timeout 5`, `--timeout=5`); false for a flag. */
  readonly takesValue: boolean;
}

/** The parsed command line. */
export interface ParsedCommandLine {
  /** Option values by long name: a string for valued options, `true` for flags. Last one wins. */
  readonly options: Readonly<Record<string, string | true>>;
  /** Everything else, in order. */
  readonly positionals: readonly string[];
}

/** A token that is a number (`-5`, `-1.5e3`): an argument, not an option. */
const NUMBER = /^-(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** The options of every command that makes client calls to a server: how to reach it and what to say. */
export const CONNECTION_OPTIONS = [
  { name: "timeout", takesValue: true },
  { name: "connect-timeout", takesValue: true },
  { name: "heartbeat", takesValue: true },
  { name: "transport", takesValue: true },
  { name: "curve-server-key", takesValue: true },
  { name: "curve-secret-key-file", takesValue: true },
  { name: "verbose", short: "v", takesValue: false },
  { name: "quiet", short: "q", takesValue: false },
  { name: "debug", short: "d", takesValue: false },
  { name: "help", short: "h", takesValue: false },
] as const satisfies readonly OptionSpec[];

/** The options of `zrpc call` and `zrpc inspect`: both make one client call to a server. */
export const CLIENT_COMMAND_OPTIONS = [{ name: "json", takesValue: false }, ...CONNECTION_OPTIONS] as const satisfies readonly OptionSpec[];

/** The options of `zrpc call`: those of {@link CLIENT_COMMAND_OPTIONS} and `--raw`. */
export const CALL_COMMAND_OPTIONS = [...CLIENT_COMMAND_OPTIONS, { name: "raw", takesValue: false }] as const satisfies readonly OptionSpec[];

/** The options of `zrpc types`: the {@link CONNECTION_OPTIONS}, and where to write or what to check. */
export const TYPES_COMMAND_OPTIONS = [
  ...CONNECTION_OPTIONS,
  { name: "output", short: "o", takesValue: true },
  { name: "check", takesValue: true },
  { name: "interface", takesValue: true },
] as const satisfies readonly OptionSpec[];

/**
 * Parses `argv` against `specs`. Options may come anywhere; `--` ends them. A lone `-` and negative
 * numbers are positionals. Throws a {@link UsageError} for an unknown option, a missing value or a
 * value given to a flag.
 */
export function parseCommandLine(argv: readonly string[], specs: readonly OptionSpec[]): ParsedCommandLine {
  const options: Record<string, string | true> = {};
  const positionals: string[] = [];
  const byLong = new Map(specs.map((spec) => [spec.name, spec]));
  const byShort = new Map(specs.filter((spec) => spec.short !== undefined).map((spec) => [spec.short!, spec]));
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]!;
    if (token === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!token.startsWith("-") || token === "-" || NUMBER.test(token)) {
      positionals.push(token);
      continue;
    }
    let spec: OptionSpec | undefined;
    let inline: string | undefined;
    if (token.startsWith("--")) {
      const equals = token.indexOf("=");
      const name = equals < 0 ? token.slice(2) : token.slice(2, equals);
      inline = equals < 0 ? undefined : token.slice(equals + 1);
      spec = byLong.get(name);
      if (spec === undefined) throw new UsageError(`unknown option --${name}`);
    } else {
      spec = token.length === 2 ? byShort.get(token.slice(1)) : undefined;
      if (spec === undefined) throw new UsageError(`unknown option ${token}`);
    }
    if (!spec.takesValue) {
      if (inline !== undefined) throw new UsageError(`option --${spec.name} takes no value`);
      options[spec.name] = true;
      continue;
    }
    let value = inline;
    if (value === undefined) {
      value = argv[i + 1];
      if (value === undefined) throw new UsageError(`option --${spec.name} needs a value`);
      i += 1;
    }
    options[spec.name] = value;
  }
  return { options, positionals };
}

/**
 * Reads a number of seconds from an option value: finite, and > 0 (or >= 0 with `allowZero`).
 * Throws a {@link UsageError} naming the option otherwise.
 */
export function secondsOption(name: string, value: string | true | undefined, fallback: number, allowZero = false): number {
  if (value === undefined) return fallback;
  const number = typeof value === "string" && value.trim() !== "" ? Number(value) : Number.NaN;
  if (!Number.isFinite(number) || number < 0 || (!allowZero && number === 0)) {
    throw new UsageError(`--${name} must be a number of seconds ${allowZero ? ">= 0" : "> 0"}, got ${JSON.stringify(value)}`);
  }
  return number;
}

/**
 * Reads an option that takes one of `choices`: `fallback` when absent, else the value, or a
 * {@link UsageError} naming the option, the choices and what was given.
 */
export function choiceOption<T extends string>(name: string, value: string | true | undefined, choices: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (typeof value === "string" && (choices as readonly string[]).includes(value)) return value as T;
  throw new UsageError(`--${name} must be ${choices.join(" or ")}, got ${JSON.stringify(value)}`);
}
