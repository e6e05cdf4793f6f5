// Locates the shared protocol data (vectors, probes) beside the repository: walk up from this
// package to the directory holding pnpm-workspace.yaml, then ../shared. $ZRPC_SHARED_DIR overrides.
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The shared folder (containing protocol/). */
export function sharedDir(): string {
  const override = process.env.ZRPC_SHARED_DIR;
  if (override !== undefined && override !== "") return override;
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "pnpm-workspace.yaml"))) {
    const up = dirname(dir);
    if (up === dir) throw new Error("repository root (pnpm-workspace.yaml) not found above the test directory");
    dir = up;
  }
  return resolve(dir, "..", "shared");
}

/** Absolute path of the vectors directory. */
export function vectorsDir(): string {
  return join(sharedDir(), "protocol", "vectors");
}

/** One recorded frame of a vector message. */
export interface VectorFrame {
  len: number;
  hex: string;
  role: string;
  layout?: string;
  decoded?: unknown;
}

/** One recorded ZeroMQ message of a vector. */
export interface VectorMessage {
  seq: number;
  direction: string;
  frames?: VectorFrame[];
  chunk_hex?: string;
  event?: { name: string; header: Record<string, unknown>; args: unknown };
}

/** A ZMTP part of a `tcp` vector. */
export interface ZmtpPart {
  part: string;
  more?: boolean;
  size?: number;
  body_hex?: string;
  decoded?: unknown;
}

/** A golden transcript file. */
export interface Vector {
  file: string;
  scenario: string;
  mode: "router" | "push" | "pub" | "tcp";
  ids: Record<string, { wire: unknown; text: string }>;
  messages: VectorMessage[];
  zmtp?: Record<string, ZmtpPart[]>;
}

/** Every *.json vector, sorted by file name. */
export function loadVectors(): Vector[] {
  return readdirSync(vectorsDir())
    .filter((name) => name.endsWith(".json"))
    .sort()
    .map((file) => ({ file, ...(JSON.parse(readFileSync(join(vectorsDir(), file), "utf8")) as Omit<Vector, "file">) }));
}

/** probes.json: one-line outcomes of hand-made messages sent to real zerorpc-python peers. */
export interface Probes {
  versions: Record<string, string>;
  probes: { probe: string; result: string }[];
}

/** Loads probes.json. */
export function loadProbes(): Probes {
  return JSON.parse(readFileSync(join(sharedDir(), "protocol", "probes.json"), "utf8")) as Probes;
}

/** Hex string -> bytes. */
export function fromHex(hex: string): Uint8Array {
  return Uint8Array.from(Buffer.from(hex, "hex"));
}

/** Bytes -> lowercase hex. */
export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");
}
