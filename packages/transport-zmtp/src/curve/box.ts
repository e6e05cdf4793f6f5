// The NaCl boxes of CurveZMQ (RFC 26) on @noble/ciphers: crypto_box is X25519, then HSalsa20 of
// the shared point (the "beforenm" key), then XSalsa20-Poly1305 (crypto_secretbox) with a 24-byte
// nonce. Handshake boxes go through noble's xsalsa20poly1305; MESSAGE boxes through
// {@link MessageBox}, which derives the XSalsa20 subkey of its fixed 16-byte nonce prefix once per
// connection and direction, and then runs Salsa20 and Poly1305 in the WebAssembly module of
// wasm-box.ts (every frame size: it was as fast or faster than JavaScript from 32 octets on), or,
// where the runtime lacks WebAssembly SIMD, in JavaScript straight into the output frame.

import { hsalsa, salsa20, xsalsa20poly1305 } from "@noble/ciphers/salsa.js";
import { Poly1305 } from "./poly1305.js";
import { keyWords, salsa20Xor } from "./salsa20.js";
import { wasmBox } from "./wasm-box.js";
import { x25519 } from "./x25519.js";

/** Bytes a box adds to its plaintext (the Poly1305 tag). */
export const BOX_OVERHEAD = 16;

const SIGMA = new Uint32Array(new Uint8Array(Buffer.from("expand 32-byte k", "latin1")).buffer.slice(0));
const ZERO_NONCE16 = new Uint8Array(16);

function words(bytes: Uint8Array): Uint32Array {
  // A copy, aligned (little-endian hosts; noble itself rejects big-endian ones for these helpers).
  return new Uint32Array(Uint8Array.from(bytes).buffer);
}

/** HSalsa20 of `key` and a 16-byte input: the 32-byte XSalsa20 subkey. */
function hsalsa20(key: Uint8Array, input16: Uint8Array): Uint8Array {
  const out = new Uint32Array(8);
  hsalsa(SIGMA, words(key), words(input16), out);
  return new Uint8Array(out.buffer);
}

/** crypto_box_beforenm: the secretbox key shared by `secretKey` and the peer's `publicKey`. */
export function boxKey(secretKey: Uint8Array, publicKey: Uint8Array): Uint8Array {
  return hsalsa20(x25519().shared(secretKey, publicKey), ZERO_NONCE16);
}

/** A 24-byte nonce: a 16- or 8-byte prefix (ASCII) followed by the rest. */
export function nonce(prefix: string, rest: Uint8Array): Uint8Array {
  const out = new Uint8Array(24);
  for (let i = 0; i < prefix.length; i++) out[i] = prefix.charCodeAt(i);
  out.set(rest, prefix.length);
  return out;
}

/** Seals `plaintext` with a beforenm `key` and a 24-byte nonce: tag then ciphertext. */
export function seal(key: Uint8Array, nonce24: Uint8Array, plaintext: Uint8Array): Uint8Array {
  return xsalsa20poly1305(key, nonce24).encrypt(plaintext);
}

/** Opens a box sealed by {@link seal}; undefined when it does not authenticate. */
export function open(key: Uint8Array, nonce24: Uint8Array, box: Uint8Array): Uint8Array | undefined {
  if (box.byteLength < BOX_OVERHEAD) return undefined;
  try {
    return xsalsa20poly1305(key, nonce24).decrypt(box);
  } catch {
    return undefined;
  }
}

/**
 * The boxes of one direction of MESSAGE commands: nonce = a fixed 16-byte prefix + an 8-byte
 * counter, so the XSalsa20 subkey (HSalsa20 of the key and the prefix) is computed once here and
 * each box costs one Salsa20 stream and one Poly1305.
 */
export class MessageBox {
  readonly #subkey: Uint32Array;
  readonly #subkeyBytes: Uint8Array;
  readonly #poly = new Poly1305();
  readonly #tag = new Uint8Array(BOX_OVERHEAD);
  readonly #wasmKeys: { subkey: Uint8Array; counter: Uint8Array };

  /**
   * @param key - the beforenm key of the connection
   * @param prefix - the 16-character nonce prefix of this direction
   */
  constructor(key: Uint8Array, prefix: string) {
    this.#subkeyBytes = hsalsa20(key, Uint8Array.from(Buffer.from(prefix, "latin1")));
    this.#subkey = keyWords(this.#subkeyBytes);
    this.#wasmKeys = { subkey: this.#subkeyBytes, counter: ZERO_NONCE16 };
  }

  /**
   * Seals in place: `buffer[at, at + 32)` is scratch (overwritten; the tag is written to
   * `buffer[at + 16, at + 32)`), the plaintext is `buffer[at + 32, end)` and becomes ciphertext.
   * `counter` is the 8-byte short nonce.
   */
  sealInPlace(buffer: Uint8Array, at: number, end: number, counter: Uint8Array): void {
    const wasm = wasmBox();
    if (wasm !== undefined) {
      const keys = this.#wasmKeys;
      keys.counter = counter;
      wasm.seal(keys, buffer, at, end);
      return;
    }
    buffer.fill(0, at, at + 32);
    this.#xor(counter, buffer, at, end);
    // The first 32 octets of the stream are the one-time Poly1305 key; the tag replaces its second half.
    this.#poly.tag(buffer, at, { bytes: buffer, at: at + 32, end }, { bytes: buffer, at: at + 16 });
  }

  /** XORs `data[at, end)` with this direction's Salsa20 stream for the short nonce `counter`. */
  #xor(counter: Uint8Array, data: Uint8Array, at: number, end: number): void {
    if (end - at >= BULK) {
      const region = data.subarray(at, end);
      salsa20(this.#subkeyBytes, counter, region, region);
    } else {
      salsa20Xor(this.#subkey, counter, data, { at, end });
    }
  }

  /**
   * Opens `box` (tag then ciphertext) with the 8-byte short nonce `counter`: the plaintext (in a
   * new buffer), or undefined when the tag does not authenticate.
   */
  open(box: Uint8Array, counter: Uint8Array): Uint8Array | undefined {
    return this.openRange(box, 0, box.byteLength, counter);
  }

  /** {@link open} of the box `bytes[at, end)`, without a view of it where WebAssembly does the work. */
  openRange(bytes: Uint8Array, at: number, end: number, counter: Uint8Array): Uint8Array | undefined {
    if (end - at < BOX_OVERHEAD) return undefined;
    const wasm = wasmBox();
    if (wasm !== undefined) {
      const keys = this.#wasmKeys;
      keys.counter = counter;
      return wasm.openRange(keys, bytes, at, end);
    }
    return this.#openJs(at === 0 && end === bytes.byteLength ? bytes : bytes.subarray(at, end), counter);
  }

  #openJs(box: Uint8Array, counter: Uint8Array): Uint8Array | undefined {
    const work = Buffer.allocUnsafe(32 + box.byteLength - BOX_OVERHEAD);
    work.fill(0, 0, 32);
    work.set(box.subarray(BOX_OVERHEAD), 32);
    // One pass: the first 32 octets of the stream become the Poly1305 key, the rest decrypts.
    this.#xor(counter, work, 0, work.byteLength);
    const tag = this.#tag;
    this.#poly.tag(work, 0, { bytes: box, at: BOX_OVERHEAD, end: box.byteLength }, { bytes: tag, at: 0 });
    // A forged box's plaintext is never handed out.
    if (!sameTag(tag, box)) return undefined;
    return work.subarray(32);
  }

  /**
   * As {@link open}, but the plaintext replaces the ciphertext in `box` (returned as the view
   * `box[16, end)`): no allocation, for a caller that owns `box` (a frame body assembled for it
   * alone). When the tag does not authenticate, undefined, and `box` after its tag is unspecified.
   */
  openInPlace(box: Uint8Array, counter: Uint8Array): Uint8Array | undefined {
    if (box.byteLength < BOX_OVERHEAD) return undefined;
    const wasm = wasmBox();
    if (wasm !== undefined) {
      const keys = this.#wasmKeys;
      keys.counter = counter;
      return wasm.openInPlace(keys, box);
    }
    const plain = this.open(box, counter);
    if (plain === undefined) return undefined;
    box.set(plain, BOX_OVERHEAD);
    return box.subarray(BOX_OVERHEAD);
  }
}

/** Without WebAssembly, frames from this size on go through @noble/ciphers' salsa20 (faster in bulk: 3.9 against 8.7 ms a MiB). */
const BULK = 4096;

function sameTag(tag: Uint8Array, box: Uint8Array): boolean {
  let diff = 0;
  for (let i = 0; i < BOX_OVERHEAD; i++) diff |= (tag[i] as number) ^ (box[i] as number);
  return diff === 0;
}
