// zerorpc-node 0.9.8 (npm `zerorpc`) as this package loads it: the module itself, and the
// msgpack-lite instance it encodes and decodes every event with (resolved from zerorpc's own
// directory, so it is the very module object zerorpc's lib/events.js holds).
//
// Loaded on first use only: requiring zerorpc loads the zeromq shim, which switches zeromq@6's
// shared context to non-blocky (linger 0). The child processes want that; a test process that only
// imports the check list (for the names) must not get it.
import { createRequire } from "node:module";
import type * as Zerorpc from "zerorpc";

/** msgpack-lite's ext value: `type` is 0..255 (msgpack's ext -1 is 255 here). */
export interface ExtBufferValue {
  readonly buffer: Buffer;
  readonly type: number;
}

export interface MsgpackLite {
  encode(value: unknown, options?: unknown): Buffer;
  decode(bytes: Uint8Array, options?: unknown): unknown;
}

export interface Peer {
  /** The zerorpc-node module (`Client`, `Server`). */
  readonly zerorpc: typeof Zerorpc;
  /** The msgpack-lite module zerorpc-node uses (its `encode` / `decode` are looked up per call). */
  readonly msgpackLite: MsgpackLite;
  /** msgpack-lite's ext class, for sending ext values the way a zerorpc-node program can. */
  readonly ExtBuffer: new (buffer: Buffer, type: number) => ExtBufferValue;
  /** The exact versions under test, read from the installed packages. */
  readonly versions: { readonly zerorpc: string; readonly msgpackLite: string };
}

let loaded: Peer | undefined;

/** zerorpc-node and its msgpack-lite, loaded once. */
export function peer(): Peer {
  if (loaded !== undefined) return loaded;
  const require = createRequire(import.meta.url);
  const fromZerorpc = createRequire(require.resolve("zerorpc"));
  const version = (manifest: string, from: NodeJS.Require): string => (from(manifest) as { version: string }).version;
  loaded = {
    zerorpc: require("zerorpc") as typeof Zerorpc,
    msgpackLite: fromZerorpc("msgpack-lite") as MsgpackLite,
    ExtBuffer: (fromZerorpc("msgpack-lite/lib/ext-buffer") as { ExtBuffer: Peer["ExtBuffer"] }).ExtBuffer,
    versions: { zerorpc: version("zerorpc/package.json", require), msgpackLite: version("msgpack-lite/package.json", fromZerorpc) },
  };
  return loaded;
}

/** A msgpack-lite ExtBuffer (`type` 0..255). */
export function extBuffer(data: Buffer, type: number): ExtBufferValue {
  return new (peer().ExtBuffer)(data, type);
}

/** True for a msgpack-lite ExtBuffer. */
export function isExtBuffer(value: unknown): value is ExtBufferValue {
  return loaded !== undefined && value instanceof loaded.ExtBuffer;
}
