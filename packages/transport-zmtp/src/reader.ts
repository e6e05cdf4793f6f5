// Reading a connected socket through node:net's `onread` option instead of 'data' events: Node
// then reads into buffers we choose. The rest of a large frame body goes straight into the
// frame's own buffer (no 64 KiB chunk per read, no copy to assemble it); everything else is read
// into a 64 KiB slab, one region after the other, so that the views handed out of it stay valid
// and small reads need no allocation of their own. (net.Server has no `onread`: accepted sockets
// keep reading through 'data' events.)
import { Buffer } from "node:buffer";

/** Size of a slab small reads go into. */
const SLAB_BYTES = 64 * 1024;
/** A read is given at least this much room: a slab with less left is replaced. */
const MIN_READ_BYTES = 16 * 1024;
/** A body is read into directly when at least this much of it is missing. */
const DIRECT_MIN_BYTES = 16 * 1024;

/**
 * What a {@link SocketReader} feeds.
 * @internal
 */
export interface ReadTarget {
  /** See `ZmtpDecoder.directBody`. */
  directBody(min: number): Uint8Array | undefined;
  /** `count` octets were read into the buffer `directBody` returned. */
  onDirectRead(count: number): void;
  /** A received chunk (a view the target may keep). */
  onChunk(chunk: Uint8Array): void;
}

/**
 * The `onread` option of one socket; its target is attached once the connection exists (reads
 * that arrive earlier are kept until then).
 * @internal
 */
export class SocketReader {
  #target: ReadTarget | undefined;
  #early: Uint8Array[] = [];
  #slab: Buffer = Buffer.allocUnsafe(0);
  #offset = 0;
  #direct = false;
  #onFirstRead: (() => void) | undefined;

  /** The value for `net.connect({ onread })`. */
  readonly onread = {
    buffer: (): Uint8Array => this.#next(),
    callback: (count: number, buffer: Uint8Array): boolean => {
      this.#received(count, buffer);
      return true;
    },
  };

  /**
   * Calls `callback` once, when the first octets arrive (before they are handed on): a connector
   * learns that the peer has started to talk (see Connector, the silent-peer report).
   */
  onFirstRead(callback: () => void): void {
    this.#onFirstRead = callback;
  }

  /** Starts feeding `target`, first with whatever arrived before. */
  attach(target: ReadTarget): void {
    this.#target = target;
    const early = this.#early;
    this.#early = [];
    for (const chunk of early) target.onChunk(chunk);
  }

  #next(): Uint8Array {
    const direct = this.#target?.directBody(DIRECT_MIN_BYTES);
    if (direct !== undefined) {
      this.#direct = true;
      return direct;
    }
    this.#direct = false;
    if (this.#slab.byteLength - this.#offset < MIN_READ_BYTES) {
      this.#slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
      this.#offset = 0;
    }
    return this.#slab.subarray(this.#offset);
  }

  #received(count: number, buffer: Uint8Array): void {
    const first = this.#onFirstRead;
    if (first !== undefined && count > 0) {
      this.#onFirstRead = undefined;
      first();
    }
    if (this.#direct) {
      // Only ever handed out with a target attached.
      this.#target?.onDirectRead(count);
      return;
    }
    const chunk = buffer.subarray(0, count);
    this.#offset += count;
    if (this.#target === undefined) this.#early.push(chunk);
    else this.#target.onChunk(chunk);
  }
}
