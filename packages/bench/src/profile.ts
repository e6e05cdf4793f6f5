// Summarises the .cpuprofile files of one profiled measurement (server and client): CPU per call
// by package, the hottest functions by self time, and zrpc's functions by inclusive time. The
// profiles cover the measured window only (see window.ts).
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}

interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly children?: readonly number[];
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

const ZRPC = ["wire", "channel", "server", "client", "transport-zeromq", "transport-zmtp"];

/** The package (or runtime part) a frame belongs to. */
export function categoryOf(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (url === "") {
    if (functionName === "(garbage collector)") return "gc";
    if (functionName === "(program)") return "(program): native, VM, I/O";
    if (functionName === "(idle)") return "idle";
    if (functionName === "(root)") return "root";
    return "v8 builtins";
  }
  const pkg = /\/packages\/([^/]+)\//.exec(url);
  if (pkg !== null && !url.includes("node_modules")) return pkg[1] === "bench" ? "bench harness" : pkg[1]!;
  if (url.includes("zeromq")) return "zeromq.js";
  if (url.includes("@msgpack")) return "@msgpack/msgpack";
  if (url.startsWith("node:")) return "node";
  return "other";
}

function label(frame: CallFrame): string {
  const name = frame.functionName === "" ? "(anonymous)" : frame.functionName;
  return `${name} [${categoryOf(frame)}]`;
}

interface Totals {
  readonly total: number;
  readonly byCategory: Map<string, number>;
  readonly self: Map<string, number>;
  readonly inclusive: Map<string, number>;
}

function analyse(profile: CpuProfile): Totals {
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const node of profile.nodes) {
    byId.set(node.id, node);
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  const byCategory = new Map<string, number>();
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const add = (map: Map<string, number>, key: string, value: number): void => {
    map.set(key, (map.get(key) ?? 0) + value);
  };
  let total = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const delta = profile.timeDeltas[i] ?? 0;
    const leaf = byId.get(profile.samples[i]!)!;
    if (leaf.callFrame.functionName === "(idle)") continue;
    total += delta;
    add(byCategory, categoryOf(leaf.callFrame), delta);
    add(self, label(leaf.callFrame), delta);
    const seen = new Set<string>();
    for (let id: number | undefined = leaf.id; id !== undefined; id = parent.get(id)) {
      const frame = byId.get(id)!.callFrame;
      const key = label(frame);
      if (seen.has(key)) continue;
      seen.add(key);
      add(inclusive, key, delta);
    }
  }
  return { total, byCategory, self, inclusive };
}

function top(map: Map<string, number>, count: number, filter: (key: string) => boolean = () => true): [string, number][] {
  return [...map.entries()].filter(([key]) => filter(key)).sort((a, b) => b[1] - a[1]).slice(0, count);
}

const perOp = (us: number, ops: number): string => (us / ops).toFixed(2);
const share = (us: number, total: number): string => `${((us / total) * 100).toFixed(1)}%`;

/**
 * The concerns of issue #11, as groups of functions by self time ("name [category]" keys). Native
 * functions of zeromq.js carry one V8 builtin name (Proxy, setUint64Option, ...), so "socket I/O"
 * takes every v8 builtin that is not a known JavaScript builtin.
 */
const CONCERNS: readonly (readonly [string, (name: string, category: string) => boolean])[] = [
  ["socket I/O (zeromq.js native calls, or the zmtp write syscall)", (name, category) =>
    category === "v8 builtins" && !["dispatch", "runMicrotasks", "now", "toggleTimerRef", "Promise", "then"].includes(name)],
  ["error objects (ZrpcError / ChannelClosedError construction)", (name) => name === "_ZrpcError" || name === "ChannelClosedError" || name === "captureLargerStackTrace"],
  ["AbortController / EventTarget (server call signal, raceSignal)", (name, category) =>
    (category === "node" && ["createAbortSignal", "abortSignal", "addEventListener", "removeEventListener", "Event", "Listener", "dispatchEvent", "AbortController", "AbortSignal", "abort", "get signal", "validateEventListener", "validateEventListenerOptions"].includes(name)) ||
    (category === "server" && (name === "raceSignal" || name === "abort"))],
  ["client call machinery (client package, captureCallSite included)", (_name, category) => category === "client"],
  ["captureCallSite alone", (name) => name === "captureCallSite"],
  ["server call machinery (server package, raceSignal/abort excluded)", (name, category) => category === "server" && name !== "raceSignal" && name !== "abort"],
  ["channel / multiplexer (channel package)", (_name, category) => category === "channel"],
  ["wire encode + decode (wire package, errors and ids excluded)", (name, category) =>
    category === "wire" && !["_ZrpcError", "newMessageId", "latin1", "messageIdKey"].includes(name)],
  ["ids (newMessageId, messageIdKey/latin1)", (name, category) => category === "wire" && ["newMessageId", "latin1", "messageIdKey"].includes(name)],
  ["transport JS (transport-zeromq / transport-zmtp packages)", (_name, category) => category.startsWith("transport-")],
  ["timers (setTimeout/clearTimeout, timer lists)", (name, category) =>
    category === "node" && ["setTimeout", "clearTimeout", "insert", "unenroll", "Timeout", "incRefCount", "decRefCount", "getTimerDuration", "processTimers", "listOnTimeout", "insertGuarded", "initAsyncResource"].includes(name)],
  ["AsyncLocalStorage / promise hooks", (name, category) =>
    category === "node" && ["promiseInitHook", "promiseInitHookWithDestroyTracking", "promiseBeforeHook", "promiseAfterHook", "promiseResolveHook", "run", "enterWith", "getStore", "executionAsyncResource", "emitInitScript", "emitBeforeScript", "emitAfterScript", "AsyncResource"].includes(name)],
  ["microtasks / callbacks (runMicrotasks, dispatch)", (name, category) => category === "v8 builtins" && (name === "runMicrotasks" || name === "dispatch")],
  ["GC", (_name, category) => category === "gc"],
];

/** µs per op of each concern, client + server, from the profiles in `dir`. */
export function concernsPerOp(dir: string, ops: number): { concern: string; client: number; server: number }[] {
  const totals: Partial<Record<"client" | "server", Totals>> = {};
  for (const role of ["client", "server"] as const) {
    const file = join(dir, `${role}.cpuprofile`);
    if (existsSync(file)) totals[role] = analyse(JSON.parse(readFileSync(file, "utf8")) as CpuProfile);
  }
  return CONCERNS.map(([concern, match]) => {
    const sum = (role: "client" | "server"): number => {
      let us = 0;
      for (const [key, value] of totals[role]?.self ?? []) {
        const at = key.lastIndexOf(" [");
        const name = key.slice(0, at);
        const category = key.slice(at + 2, -1);
        if (match(name === "(anonymous)" ? "" : name, category)) us += value;
      }
      return us / ops;
    };
    return { concern, client: sum("client"), server: sum("server") };
  });
}

/** A Markdown summary of `<dir>/{server,client}.cpuprofile` for `ops` calls (or items). */
export function summariseProfiles(dir: string, ops: number): string {
  const parts: string[] = [];
  const concerns = ["| concern (self time) | client µs/op | server µs/op | both |", "|---|---:|---:|---:|"];
  for (const { concern, client, server } of concernsPerOp(dir, ops)) {
    concerns.push(`| ${concern} | ${client.toFixed(1)} | ${server.toFixed(1)} | ${(client + server).toFixed(1)} |`);
  }
  parts.push(concerns.join("\n"));
  for (const role of ["client", "server"] as const) {
    const file = join(dir, `${role}.cpuprofile`);
    if (!existsSync(file)) {
      parts.push(`### ${role}: no profile written`);
      continue;
    }
    const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
    const totals = analyse(profile);
    const lines = [`### ${role}: ${perOp(totals.total, ops)} µs of CPU samples per op (idle excluded)`, ""];
    lines.push("| by package | µs/op | share |", "|---|---:|---:|");
    for (const [key, us] of top(totals.byCategory, 20)) lines.push(`| ${key} | ${perOp(us, ops)} | ${share(us, totals.total)} |`);
    lines.push("", "| hottest functions (self) | µs/op | share |", "|---|---:|---:|");
    for (const [key, us] of top(totals.self, 25)) lines.push(`| ${key} | ${perOp(us, ops)} | ${share(us, totals.total)} |`);
    lines.push("", "| zrpc functions (inclusive) | µs/op | share |", "|---|---:|---:|");
    const isZrpc = (key: string): boolean => ZRPC.some((name) => key.endsWith(`[${name}]`));
    for (const [key, us] of top(totals.inclusive, 30, isZrpc)) lines.push(`| ${key} | ${perOp(us, ops)} | ${share(us, totals.total)} |`);
    const isNode = (key: string): boolean => key.endsWith("[node]");
    lines.push("", "| node functions (inclusive) | µs/op | share |", "|---|---:|---:|");
    for (const [key, us] of top(totals.inclusive, 12, isNode)) lines.push(`| ${key} | ${perOp(us, ops)} | ${share(us, totals.total)} |`);
    parts.push(lines.join("\n"));
  }
  return parts.join("\n\n");
}
