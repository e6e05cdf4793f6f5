// What `zrpc run` says about itself, in one of two formats:
// - `text` (the default): the method listing and "Listening on ..." on stdout, diagnostics as
//   `zrpc: ...` lines on stderr;
// - `json` (`--log-format json`): one JSON object per line on stdout and nothing else there, each
//   with `time` (ISO 8601) and `event` (`listening`, `draining`, `stopped`, `reloading`,
//   `reloaded`, `reload-failed`, `message`, `warning`, `call`).
import { printError, printLine } from "./output.js";

/** The values of `--log-format`. */
export const LOG_FORMATS = ["text", "json"] as const;

/** `text` or `json`. */
export type LogFormat = (typeof LOG_FORMATS)[number];

/** The lifecycle events of `zrpc run`, as the `event` of JSON records. */
export type LifecycleEvent = "listening" | "draining" | "stopped" | "reloading" | "reloaded" | "reload-failed" | "message" | "warning";

/** The log of `zrpc run` (and of its `--watch` supervisor). */
export interface RunLog {
  readonly format: LogFormat;
  /**
   * A lifecycle event: `text` printed as is in text mode (on stderr, prefixed with `zrpc: `, or
   * on stdout with `stdout`); a JSON record of `event` and `fields` in json mode.
   */
  event(event: LifecycleEvent, fields: Readonly<Record<string, unknown>>, text: { readonly line: string; readonly stdout?: boolean }): void;
  /** A diagnostic: `zrpc: message` on stderr, or a `message` record. */
  note(message: string): void;
  /** A warning: `zrpc: warning: message` on stderr, or a `warning` record. */
  warn(message: string): void;
  /** Where a call record / call log line goes. */
  writeCall(line: string): void;
}

/** One JSON log line: `time`, `event`, then `fields`. */
export function jsonRecord(event: string, fields: Readonly<Record<string, unknown>>): string {
  return JSON.stringify({ time: new Date().toISOString(), event, ...fields });
}

/** The log in `format`. */
export function createRunLog(format: LogFormat): RunLog {
  if (format === "json") {
    return {
      format,
      event: (event, fields) => printLine(jsonRecord(event, fields)),
      note: (message) => printLine(jsonRecord("message", { message })),
      warn: (message) => printLine(jsonRecord("warning", { message })),
      writeCall: printLine,
    };
  }
  return {
    format,
    event: (_event, _fields, text) => (text.stdout === true ? printLine(text.line) : printError(`zrpc: ${text.line}`)),
    note: (message) => printError(`zrpc: ${message}`),
    warn: (message) => printError(`zrpc: warning: ${message}`),
    writeCall: printError,
  };
}
