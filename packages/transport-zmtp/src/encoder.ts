// Outgoing ZMTP frames: every message queued on a connection since the last flush is encoded into
// one buffer (headers plus small bodies); bodies of COPY_LIMIT octets and more are not copied but
// written by reference between the pieces of that buffer.
import { Buffer } from "node:buffer";
import { FLAG_LONG, FLAG_MORE } from "./protocol.js";

/**
 * Frame bodies of this many octets and more are written by reference instead of being copied
 * into the batch buffer.
 * @internal
 */
export const COPY_LIMIT = 16 * 1024;

/**
 * A frame body given as several buffers, written one after the other as a single frame (scatter/
 * gather): large chunks by reference, small ones copied into the batch.
 * @internal
 */
export class ChunkedBody {
  readonly chunks: readonly Uint8Array[];
  readonly byteLength: number;

  constructor(chunks: readonly Uint8Array[]) {
    this.chunks = chunks;
    let length = 0;
    for (const chunk of chunks) length += chunk.byteLength;
    this.byteLength = length;
  }
}

/** A frame of an outgoing message. @internal */
export type OutFrame = Uint8Array | ChunkedBody;

/**
 * One queued item of a connection: a message (its frames) or raw, already encoded bytes (a
 * command, a subscription message).
 * @internal
 */
export type OutEntry = readonly OutFrame[] | Buffer;

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Encodes queued entries, in order, into the buffers to write: usually one; more when large
 * bodies are passed through by reference.
 * @internal
 */
export function encodeBatch(entries: readonly OutEntry[]): Buffer[] {
  let copySize = 0;
  for (const entry of entries) {
    if (Buffer.isBuffer(entry)) {
      copySize += entry.byteLength;
      continue;
    }
    for (const frame of entry) {
      const size = frame.byteLength;
      copySize += size > 255 ? 9 : 2;
      if (frame instanceof ChunkedBody) {
        for (const chunk of frame.chunks) if (chunk.byteLength < COPY_LIMIT) copySize += chunk.byteLength;
      } else if (size < COPY_LIMIT) {
        copySize += size;
      }
    }
  }
  const out = Buffer.allocUnsafe(copySize);
  const parts: Buffer[] = [];
  let at = 0;
  let start = 0;
  for (const entry of entries) {
    if (Buffer.isBuffer(entry)) {
      out.set(entry, at);
      at += entry.byteLength;
      continue;
    }
    const frames = entry;
    const last = frames.length - 1;
    for (let i = 0; i <= last; i++) {
      const frame = frames[i] as OutFrame;
      const size = frame.byteLength;
      const more = i < last ? FLAG_MORE : 0;
      if (size <= 255) {
        out[at] = more;
        out[at + 1] = size;
        at += 2;
      } else {
        out[at] = more | FLAG_LONG;
        out.writeUInt32BE(Math.floor(size / 0x1_0000_0000), at + 1);
        out.writeUInt32BE(size >>> 0, at + 5);
        at += 9;
      }
      if (frame instanceof ChunkedBody) {
        for (const chunk of frame.chunks) {
          if (chunk.byteLength < COPY_LIMIT) {
            out.set(chunk, at);
            at += chunk.byteLength;
          } else {
            if (at > start) parts.push(out.subarray(start, at));
            parts.push(asBuffer(chunk));
            start = at;
          }
        }
      } else if (size < COPY_LIMIT) {
        if (size > 0) {
          out.set(frame, at);
          at += size;
        }
      } else {
        if (at > start) parts.push(out.subarray(start, at));
        parts.push(asBuffer(frame));
        start = at;
      }
    }
  }
  if (at > start) parts.push(out.subarray(start, at));
  return parts;
}
