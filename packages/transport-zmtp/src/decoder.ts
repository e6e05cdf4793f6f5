// Incremental ZMTP 3.x parser for one connection's byte stream: greeting, then frames (message
// frames grouped into multipart messages, and commands). Frames lying wholly inside one received
// chunk are handed out as zero-copy views of it; a header split over chunks goes through a 9-byte
// scratch buffer; a body split over chunks is assembled in a buffer the socket may also read
// into directly (see directBody): of its final size up to 1 MiB, beyond that one that grows with
// what has arrived, so that a declared size alone (9 octets of a hostile peer) never reserves
// more than 1 MiB. Every declared size is checked against the limits before anything is
// allocated for it; a failed allocation is a "limit" error of the connection, never a throw.
import { Buffer } from "node:buffer";
import { ZmtpError } from "./errors.js";
import {
  FLAG_COMMAND,
  FLAG_LONG,
  FLAG_MORE,
  FLAG_RESERVED,
  GREETING_SIZE,
  greetingProblem,
  parseGreeting,
} from "./protocol.js";
import type { Greeting } from "./protocol.js";

/**
 * Where a {@link ZmtpDecoder} delivers what it parsed. Callbacks run synchronously inside
 * {@link ZmtpDecoder.push}; they may call `pause()` or `stop()` on the decoder.
 * @internal
 */
export interface DecoderSink {
  /** The peer's 64-octet greeting, validated (signature, version 3+, our mechanism). */
  onGreeting(greeting: Greeting): void;
  /** One command frame: its name and the data after the name (a view; copy to keep it). */
  onCommand(name: string, data: Uint8Array): void;
  /** One complete message (at least one frame). Frames may be views of received chunks. */
  onMessage(frames: Uint8Array[]): void;
  /** The stream broke the protocol or a limit; the decoder has stopped for good. */
  onError(error: ZmtpError): void;
}

/**
 * Limits of a {@link ZmtpDecoder}.
 * @internal
 */
export interface DecoderLimits {
  /** Largest message in octets: each frame and the sum of a message's frames. */
  readonly maxMessageSize: number;
  /** Most frames in one message. */
  readonly maxFramesPerMessage: number;
  /** Largest command body in octets. */
  readonly maxCommandSize: number;
  /** Allocates the buffer a split frame body is assembled in (a seam for tests). */
  readonly allocate?: (size: number) => Uint8Array;
}

const PHASE_GREETING = 0;
const PHASE_HEADER = 1;
const PHASE_BODY = 2;
const PHASE_STOPPED = 3;

const defaultAllocate = (size: number): Uint8Array => Buffer.allocUnsafe(size);

/**
 * A split body is given a buffer of at most this size when its header arrives; a larger body's
 * buffer grows by {@link BODY_GROWTH} (capped at the declared size) each time it is full, so
 * beyond its first MiB it never reserves more than 4 times what arrived. (Doubling costs more: a 64 MiB frame took 60%
 * longer to assemble than in a buffer of its final size, growing fourfold about 12%.)
 */
const FIRST_BODY_ALLOCATION = 1024 * 1024;
const BODY_GROWTH = 4;

/**
 * Reads the 8-octet size field at `at` as a number. Sizes above 2^53 lose precision but stay far
 * above any limit, so the limit checks remain correct.
 */
function readLongSize(bytes: Uint8Array, at: number): number {
  const high = ((bytes[at] ?? 0) << 24) | ((bytes[at + 1] ?? 0) << 16) | ((bytes[at + 2] ?? 0) << 8) | (bytes[at + 3] ?? 0);
  const low = ((bytes[at + 4] ?? 0) << 24) | ((bytes[at + 5] ?? 0) << 16) | ((bytes[at + 6] ?? 0) << 8) | (bytes[at + 7] ?? 0);
  return (high >>> 0) * 0x1_0000_0000 + (low >>> 0);
}

/**
 * The streaming parser of one ZMTP connection. Feed it every received chunk in order with
 * {@link push}; it calls its {@link DecoderSink}. After an error it ignores further input.
 * @internal
 */
export class ZmtpDecoder {
  readonly #sink: DecoderSink;
  readonly #maxMessageSize: number;
  readonly #maxFrames: number;
  #maxCommandSize: number;
  readonly #mechanism: string;
  readonly #allocate: (size: number) => Uint8Array;

  #phase = PHASE_GREETING;
  readonly #greeting = new Uint8Array(GREETING_SIZE);
  #greetingLength = 0;

  /** A frame header split over chunks: flags plus up to 8 size octets. */
  readonly #scratch = new Uint8Array(9);
  #scratchLength = 0;

  #flags = 0;
  #size = 0;
  /**
   * Body being assembled from several chunks (its buffer may still be smaller than the declared
   * `#size`), and how much of it has arrived.
   */
  #body: Uint8Array | undefined;
  #bodyFilled = 0;

  /** Frames of the message being received, and their total size. */
  #frames: Uint8Array[] = [];
  #messageBytes = 0;

  #paused = false;
  #draining = false;
  #held: Uint8Array | undefined;

  /**
   * @param sink - receives greeting, commands, messages and the error
   * @param limits - size and frame-count limits
   * @param mechanism - the security mechanism the peer's greeting must announce (NULL by default)
   */
  constructor(sink: DecoderSink, limits: DecoderLimits, mechanism = "NULL") {
    this.#mechanism = mechanism;
    this.#sink = sink;
    this.#maxMessageSize = limits.maxMessageSize;
    this.#maxFrames = limits.maxFramesPerMessage;
    this.#maxCommandSize = limits.maxCommandSize;
    this.#allocate = limits.allocate ?? defaultAllocate;
  }

  /** Raises the command size limit (CURVE carries every frame in a MESSAGE command once the handshake is done). */
  setMaxCommandSize(size: number): void {
    this.#maxCommandSize = size;
  }

  /** True once the decoder stopped (error or {@link stop}). */
  get stopped(): boolean {
    return this.#phase === PHASE_STOPPED;
  }

  /** True while the greeting has not been received completely. */
  get inGreeting(): boolean {
    return this.#phase === PHASE_GREETING;
  }

  /** True while {@link pause} holds parsing. */
  get paused(): boolean {
    return this.#paused;
  }

  /** Stops parsing for good (the connection is going away); releases buffers. */
  stop(): void {
    this.#phase = PHASE_STOPPED;
    this.#body = undefined;
    this.#frames = [];
    this.#held = undefined;
  }

  /**
   * Holds parsing after the current message: the rest of the current chunk (and any chunk pushed
   * meanwhile) is kept until {@link resume}.
   */
  pause(): void {
    if (!this.#draining) this.#paused = true;
  }

  /**
   * Parses whatever {@link pause} held back, ignoring further pauses: the stream has ended, so
   * the held messages (at most one chunk) are delivered now or never.
   */
  drainHeld(): void {
    this.#draining = true;
    this.#paused = false;
    const held = this.#held;
    this.#held = undefined;
    if (held !== undefined) this.push(held);
  }

  /** Continues parsing, starting with what {@link pause} held back. */
  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    const held = this.#held;
    if (held !== undefined) {
      this.#held = undefined;
      this.push(held);
    }
  }

  /**
   * Where the next socket read may go directly: the missing part of a frame body being assembled,
   * when at least `min` octets are missing and nothing is held back by {@link pause}. The caller
   * then reports what it read with {@link pushDirect} (and feeds anything else with
   * {@link push}). `undefined` when the next octets must go through {@link push}.
   */
  directBody(min: number): Uint8Array | undefined {
    if (this.#phase !== PHASE_BODY || this.#paused || this.#held !== undefined) return undefined;
    let body = this.#body as Uint8Array;
    const filled = this.#bodyFilled;
    if (body.byteLength - filled < min && body.byteLength < this.#size) {
      if (!this.#grow()) return undefined;
      body = this.#body as Uint8Array;
    }
    return body.byteLength - filled >= min ? body.subarray(filled) : undefined;
  }

  /** `count` octets were read into the buffer {@link directBody} returned, at its start. */
  pushDirect(count: number): void {
    if (this.#phase !== PHASE_BODY || count <= 0) return;
    const body = this.#body as Uint8Array;
    this.#bodyFilled = Math.min(body.byteLength, this.#bodyFilled + count);
    if (this.#bodyFilled === this.#size) {
      this.#body = undefined;
      this.#phase = PHASE_HEADER;
      this.#endFrame(body);
    }
  }

  /** Parses one received chunk. Views of it may be handed out: do not reuse its memory. */
  push(chunk: Uint8Array): void {
    if (this.#phase === PHASE_STOPPED) return;
    if (this.#paused) {
      this.#hold(chunk, 0);
      return;
    }
    const end = chunk.byteLength;
    let at = 0;
    while (at < end) {
      if (this.#paused) {
        this.#hold(chunk, at);
        return;
      }
      switch (this.#phase) {
        case PHASE_HEADER: {
          if (this.#scratchLength === 0) {
            // Fast path: the whole header is in this chunk.
            const flags = chunk[at] as number;
            const headerSize = (flags & FLAG_LONG) === 0 ? 2 : 9;
            if (end - at >= headerSize) {
              const size = headerSize === 2 ? (chunk[at + 1] as number) : readLongSize(chunk, at + 1);
              at += headerSize;
              if (!this.#beginFrame(flags, size)) return;
              if (end - at >= size) {
                const body = chunk.subarray(at, at + size);
                at += size;
                if (!this.#endFrame(body)) return;
              } else {
                if (!this.#startBody(size)) return;
                at = this.#fillBody(chunk, at);
                if (this.stopped) return;
              }
              continue;
            }
          }
          at = this.#readSplitHeader(chunk, at);
          if (this.stopped) return;
          continue;
        }
        case PHASE_BODY: {
          at = this.#fillBody(chunk, at);
          if (this.stopped) return;
          const body = this.#body as Uint8Array;
          if (this.#bodyFilled === this.#size) {
            this.#body = undefined;
            this.#phase = PHASE_HEADER;
            if (!this.#endFrame(body)) return;
          }
          continue;
        }
        case PHASE_GREETING: {
          at = this.#readGreeting(chunk, at);
          if (this.stopped) return;
          continue;
        }
        default:
          return;
      }
    }
  }

  #hold(chunk: Uint8Array, at: number): void {
    const rest = chunk.subarray(at);
    if (rest.byteLength === 0) return;
    this.#held = this.#held === undefined ? rest : Buffer.concat([this.#held, rest]);
  }

  #readGreeting(chunk: Uint8Array, at: number): number {
    const take = Math.min(GREETING_SIZE - this.#greetingLength, chunk.byteLength - at);
    this.#greeting.set(chunk.subarray(at, at + take), this.#greetingLength);
    this.#greetingLength += take;
    const problem = greetingProblem(this.#greeting, this.#greetingLength, this.#mechanism);
    if (problem !== undefined) {
      this.#fail("protocol", problem);
      return chunk.byteLength;
    }
    if (this.#greetingLength === GREETING_SIZE) {
      this.#phase = PHASE_HEADER;
      this.#sink.onGreeting(parseGreeting(this.#greeting));
    }
    return at + take;
  }

  /** Accumulates a header that did not arrive in one piece; starts the frame once complete. */
  #readSplitHeader(chunk: Uint8Array, at: number): number {
    const scratch = this.#scratch;
    if (this.#scratchLength === 0) {
      scratch[0] = chunk[at] as number;
      this.#scratchLength = 1;
      at += 1;
    }
    const headerSize = ((scratch[0] as number) & FLAG_LONG) === 0 ? 2 : 9;
    const take = Math.min(headerSize - this.#scratchLength, chunk.byteLength - at);
    scratch.set(chunk.subarray(at, at + take), this.#scratchLength);
    this.#scratchLength += take;
    at += take;
    if (this.#scratchLength < headerSize) return at;
    this.#scratchLength = 0;
    const size = headerSize === 2 ? (scratch[1] as number) : readLongSize(scratch, 1);
    if (!this.#beginFrame(scratch[0] as number, size)) return chunk.byteLength;
    if (size === 0) {
      if (!this.#endFrame(EMPTY_BODY)) return chunk.byteLength;
      return at;
    }
    if (chunk.byteLength - at >= size) {
      const body = chunk.subarray(at, at + size);
      if (!this.#endFrame(body)) return chunk.byteLength;
      return at + size;
    }
    if (!this.#startBody(size)) return chunk.byteLength;
    return this.#fillBody(chunk, at);
  }

  /** Validates a frame header against the protocol and the limits, before any allocation. */
  #beginFrame(flags: number, size: number): boolean {
    if ((flags & FLAG_RESERVED) !== 0) {
      return this.#fail("protocol", `frame flags ${flags.toString(16).padStart(2, "0")} use reserved bits`);
    }
    if ((flags & FLAG_COMMAND) !== 0) {
      if ((flags & FLAG_MORE) !== 0) return this.#fail("protocol", "command frame with the MORE flag");
      if (this.#frames.length > 0) return this.#fail("protocol", "command frame inside a multipart message");
      if (size === 0) return this.#fail("protocol", "empty command frame");
      if (size > this.#maxCommandSize) {
        return this.#fail("limit", `command of ${size} octets exceeds the limit of ${this.#maxCommandSize}`);
      }
    } else {
      if (this.#frames.length >= this.#maxFrames) {
        return this.#fail("limit", `message has more than ${this.#maxFrames} frames (maxFramesPerMessage)`);
      }
      if (size > this.#maxMessageSize - this.#messageBytes) {
        return this.#fail(
          "limit",
          `frame of ${size} octets makes the message exceed maxMessageSize (${this.#maxMessageSize} octets)`,
        );
      }
    }
    this.#flags = flags;
    this.#size = size;
    return true;
  }

  /** Starts assembling a body of `size` (> 0) octets. False when the decoder had to stop. */
  #startBody(size: number): boolean {
    const body = this.#tryAllocate(Math.min(size, FIRST_BODY_ALLOCATION));
    if (body === undefined) return false;
    this.#body = body;
    this.#bodyFilled = 0;
    this.#phase = PHASE_BODY;
    return true;
  }

  /** Grows the body's buffer (at most to the declared size). False when the decoder had to stop. */
  #grow(): boolean {
    const body = this.#body as Uint8Array;
    const next = this.#tryAllocate(Math.min(this.#size, body.byteLength * BODY_GROWTH));
    if (next === undefined) return false;
    next.set(body.subarray(0, this.#bodyFilled));
    this.#body = next;
    return true;
  }

  /** `allocate(size)`, or undefined after stopping with a "limit" error if that failed. */
  #tryAllocate(size: number): Uint8Array | undefined {
    try {
      return this.#allocate(size);
    } catch (error) {
      this.#fail("limit", `cannot allocate ${size} octets for a frame of ${this.#size} octets (${String(error)})`);
      return undefined;
    }
  }

  /** Copies from `chunk` at `at` into the body; returns where it stopped (the chunk's end if it had to stop). */
  #fillBody(chunk: Uint8Array, at: number): number {
    const end = chunk.byteLength;
    while (at < end && this.#bodyFilled < this.#size) {
      let body = this.#body as Uint8Array;
      if (this.#bodyFilled === body.byteLength) {
        if (!this.#grow()) return end;
        body = this.#body as Uint8Array;
      }
      const take = Math.min(body.byteLength - this.#bodyFilled, end - at);
      body.set(chunk.subarray(at, at + take), this.#bodyFilled);
      this.#bodyFilled += take;
      at += take;
    }
    return at;
  }

  /** Delivers a complete frame. Returns false when the sink stopped the decoder. */
  #endFrame(body: Uint8Array): boolean {
    const flags = this.#flags;
    if ((flags & FLAG_COMMAND) !== 0) {
      const nameLength = body[0] as number;
      if (nameLength === 0 || 1 + nameLength > body.byteLength) {
        return this.#fail("protocol", "malformed command name");
      }
      let name = "";
      for (let i = 1; i <= nameLength; i++) {
        const c = body[i] as number;
        if (!((c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a))) return this.#fail("protocol", "malformed command name");
        name += String.fromCharCode(c);
      }
      this.#sink.onCommand(name, body.subarray(1 + nameLength));
    } else {
      this.#frames.push(body);
      this.#messageBytes += this.#size;
      if ((flags & FLAG_MORE) === 0) {
        const frames = this.#frames;
        this.#frames = [];
        this.#messageBytes = 0;
        this.#sink.onMessage(frames);
      }
    }
    return this.#phase !== PHASE_STOPPED;
  }

  #fail(code: "protocol" | "limit", message: string): false {
    this.stop();
    this.#sink.onError(new ZmtpError(code, message));
    return false;
  }
}

const EMPTY_BODY = new Uint8Array(0);
