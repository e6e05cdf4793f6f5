// Typed loaders for the golden transcripts (data/vectors/*.json) and probes (data/probes.json).
// The types follow data/vectors/README.md; fields that only some modes have are optional.
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { DATA_DIR, VECTORS_DIR } from "./paths.js";

/** A value in the vectors' typed JSON (`{"$bin": ...}`, `{"$int": ...}`, `{"$f64": ...}`, ...). */
export type TypedJson = null | boolean | number | string | TypedJson[] | { [key: string]: TypedJson };

/** One frame of a recorded ZeroMQ message. */
export interface VectorFrame {
  readonly len: number;
  readonly hex: string;
  readonly role: string;
  /** The msgpack format of every value, in encoding order (payload frames only). */
  readonly layout?: string;
  /** The payload in typed JSON (payload frames only). */
  readonly decoded?: unknown;
}

/** A recorded event with its ids replaced by symbols (`#1`, `#2`, ... in order of first appearance). */
export interface VectorEvent {
  readonly name: string;
  readonly header: Record<string, unknown>;
  readonly args: unknown;
}

/** One recorded ZeroMQ message (or, in `tcp` mode, one raw TCP chunk). */
export interface VectorMessage {
  readonly seq: number;
  /** Milliseconds since the first recorded message. */
  readonly t_ms: number;
  readonly direction: "client->server" | "server->client";
  /** The frames as they travelled (not in `tcp` mode). */
  readonly frames?: VectorFrame[];
  /** The raw TCP bytes (`tcp` mode only). */
  readonly chunk_hex?: string;
  readonly event?: VectorEvent;
}

/** One part of a parsed ZMTP connection (`tcp` mode). */
export interface ZmtpPart {
  readonly part: "greeting" | "command" | "frame";
  readonly version?: [number, number];
  readonly mechanism?: string;
  readonly command?: string;
  readonly properties?: Record<string, string>;
  readonly more?: boolean;
  readonly size?: number;
  readonly body_hex?: string;
  readonly decoded?: unknown;
}

/** One golden transcript. */
export interface Vector {
  /** The file's base name without `.json` (equal to `scenario`). */
  readonly name: string;
  /** The file name (`call_add.json`). */
  readonly file: string;
  readonly scenario: string;
  readonly description: string;
  readonly mode: "router" | "push" | "pub" | "tcp";
  readonly capture_point: string;
  readonly client_action: string;
  readonly client_result: Record<string, unknown>;
  readonly settings: Record<string, unknown>;
  readonly versions: Record<string, string>;
  /** Symbol -> the id as it travelled (typed JSON) and as text. */
  readonly ids: Record<string, { readonly wire: unknown; readonly text: string }>;
  readonly messages: VectorMessage[];
  /** What the receiving side got (`push` and `pub` modes). */
  readonly server_received?: unknown[];
  /** Each direction parsed into ZMTP parts (`tcp` mode). */
  readonly zmtp?: Partial<Record<"client->server" | "server->client", ZmtpPart[]>>;
}

/** The names of every vendored transcript (file names without `.json`), sorted. */
export function listVectors(): string[] {
  return readdirSync(VECTORS_DIR)
    .filter((file) => file.endsWith(".json"))
    .map((file) => file.slice(0, -".json".length))
    .sort();
}

/** One transcript by name (`"call_add"`); throws naming the known ones when it does not exist. */
export function loadVector(name: string): Vector {
  if (!/^[a-z0-9_]+$/.test(name)) throw new Error(`not a vector name: ${JSON.stringify(name)}`);
  let text: string;
  try {
    text = readFileSync(join(VECTORS_DIR, `${name}.json`), "utf8");
  } catch {
    throw new Error(`no vector ${JSON.stringify(name)}; known: ${listVectors().join(", ")}`);
  }
  return { name, file: `${name}.json`, ...(JSON.parse(text) as Omit<Vector, "name" | "file">) };
}

/** Every transcript, sorted by name. */
export function loadVectors(): Vector[] {
  return listVectors().map(loadVector);
}

/** The payload frame of a recorded message (the frame whose role is `payload`), if it has one. */
export function payloadFrame(message: VectorMessage): VectorFrame | undefined {
  return message.frames?.find((frame) => frame.role === "payload");
}

/** One hand-made message sent to a real zerorpc-python peer, and what came back. */
export interface Probe {
  readonly probe: string;
  readonly result: string;
}

/** data/probes.json. */
export interface Probes {
  readonly versions: Record<string, string>;
  readonly probes: Probe[];
}

/** Loads data/probes.json. */
export function loadProbes(): Probes {
  return JSON.parse(readFileSync(join(DATA_DIR, "probes.json"), "utf8")) as Probes;
}
