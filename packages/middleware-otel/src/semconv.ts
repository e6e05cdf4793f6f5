// The OpenTelemetry RPC semantic conventions this package follows: the stable names (semantic
// conventions 1.45: `rpc.system.name`, fully-qualified `rpc.method`, `rpc.*.call.duration` in
// seconds) by default, the experimental ones of v1.37 and before (`rpc.system`, `rpc.service`,
// `rpc.*.duration` in milliseconds) on request, or both, switched by `OTEL_SEMCONV_STABILITY_OPT_IN`.
import type { Attributes } from "@opentelemetry/api";

/**
 * Which RPC conventions are emitted:
 * - `"stable"`: the current conventions only (the default);
 * - `"old"`: only the experimental conventions of semantic conventions v1.37 and before, for
 *   dashboards built on them;
 * - `"dup"`: both (`OTEL_SEMCONV_STABILITY_OPT_IN=rpc/dup`), for a phased migration.
 */
export type SemconvMode = "stable" | "old" | "dup";

/**
 * The mode `OTEL_SEMCONV_STABILITY_OPT_IN` asks for (a comma-separated list): `rpc/dup` wins over
 * `rpc`, as the specification says. This package has no earlier release emitting the old names,
 * so both `rpc` and the absence of a value mean the stable conventions; `rpc/dup` adds the old
 * ones. `"old"` alone can only be chosen with the `semconv` option.
 */
export function semconvModeFromEnv(value: string | undefined = readEnv("OTEL_SEMCONV_STABILITY_OPT_IN")): SemconvMode {
  if (value === undefined) return "stable";
  const entries = value.split(",").map((entry) => entry.trim().toLowerCase());
  return entries.includes("rpc/dup") ? "dup" : "stable";
}

function readEnv(name: string): string | undefined {
  // `process` may be missing (bundled for another runtime): then no opt-in.
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  return env?.[name];
}

/** The `rpc.system.name` (stable) and `rpc.system` (old) value for zerorpc. */
export const RPC_SYSTEM_NAME = "zerorpc";

/** `rpc.method` for a method the server does not know (the original goes to `rpc.method_original`). */
export const OTHER_METHOD = "_OTHER";

/** Attribute names used here (stable unless marked). */
export const ATTR = {
  rpcSystemName: "rpc.system.name",
  rpcMethod: "rpc.method",
  rpcMethodOriginal: "rpc.method_original",
  serverAddress: "server.address",
  serverPort: "server.port",
  networkTransport: "network.transport",
  errorType: "error.type",
  /** Old conventions (v1.37 and before). */
  rpcSystem: "rpc.system",
  /** Old conventions (v1.37 and before). */
  rpcService: "rpc.service",
  /** This package's: the number of `STREAM` items of a streamed reply. */
  streamItems: "zerorpc.stream.items",
  /** This package's: how a server call ended (`CallOutcome.kind` of `@zrpc/server`). */
  outcome: "zerorpc.outcome",
} as const;

/** Metric names. */
export const METRIC = {
  serverCallDuration: "rpc.server.call.duration",
  clientCallDuration: "rpc.client.call.duration",
  /** Old conventions: milliseconds. */
  serverDurationOld: "rpc.server.duration",
  /** Old conventions: milliseconds. */
  clientDurationOld: "rpc.client.duration",
  /** Not in the conventions (they define no RPC concurrency metric): this package's. */
  serverActiveCalls: "zerorpc.server.active_calls",
  /** Not in the conventions: this package's. */
  clientActiveCalls: "zerorpc.client.active_calls",
} as const;

/**
 * The bucket boundaries the conventions advise for `rpc.server.call.duration` and
 * `rpc.client.call.duration` (seconds).
 */
export const DURATION_BUCKETS_SECONDS: readonly number[] = [
  0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
];

/** Where the server is: `server.address` / `server.port` / `network.transport`. */
export interface ServerLocation {
  readonly address: string;
  readonly port?: number | undefined;
  readonly transport: string;
}

/**
 * The server location of a zerorpc endpoint: `tcp://host:port` (IPv6 hosts in brackets) or
 * `ipc://path`; `undefined` for anything else (`inproc://`, a malformed string).
 */
export function parseEndpoint(endpoint: string | undefined): ServerLocation | undefined {
  if (endpoint === undefined) return undefined;
  const tcp = /^tcp:\/\/(\[[^\]]*\]|[^:/]+):(\d+)$/.exec(endpoint);
  if (tcp !== null) {
    const host = tcp[1]!.startsWith("[") ? tcp[1]!.slice(1, -1) : tcp[1]!;
    return { address: host, port: Number(tcp[2]), transport: "tcp" };
  }
  if (endpoint.startsWith("ipc://") && endpoint.length > "ipc://".length) {
    return { address: endpoint.slice("ipc://".length), transport: "unix" };
  }
  return undefined;
}

/** The span name and attributes of a call. */
export interface CallNaming {
  readonly spanName: string;
  readonly attributes: Attributes;
  /** Attributes of the duration metric (a low-cardinality subset of `attributes`). */
  readonly metricAttributes: Attributes;
}

/** What a call is named from. */
export interface CallDescription {
  readonly method: string;
  /** The service name (`_zerorpc_name`), when known. */
  readonly service: string | undefined;
  /** False for a method the server does not have. */
  readonly known: boolean;
  readonly location: ServerLocation | undefined;
}

/**
 * Names a call: the span name is the fully-qualified method (`Service/method`, or the method alone
 * when the service is unknown), `zerorpc` for a method the server does not know.
 */
export function nameCall(mode: SemconvMode, { method, service, known, location }: CallDescription): CallNaming {
  const qualified = service === undefined || service === "" ? method : `${service}/${method}`;
  const attributes: Attributes = {};
  const metricAttributes: Attributes = {};
  const both = (key: string, value: string | number): void => {
    attributes[key] = value;
    metricAttributes[key] = value;
  };
  if (mode !== "stable") {
    both(ATTR.rpcSystem, RPC_SYSTEM_NAME);
    if (service !== undefined && service !== "") both(ATTR.rpcService, service);
    both(ATTR.rpcMethod, method);
  }
  if (mode !== "old") {
    both(ATTR.rpcSystemName, RPC_SYSTEM_NAME);
    // In "dup" the stable (fully-qualified) value of the shared key `rpc.method` wins.
    both(ATTR.rpcMethod, known ? qualified : OTHER_METHOD);
    if (!known) attributes[ATTR.rpcMethodOriginal] = method;
  }
  if (location !== undefined) {
    both(ATTR.serverAddress, location.address);
    if (location.port !== undefined) both(ATTR.serverPort, location.port);
    both(ATTR.networkTransport, location.transport);
  }
  return { spanName: known ? qualified : RPC_SYSTEM_NAME, attributes, metricAttributes };
}
