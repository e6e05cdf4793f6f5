// Salsa20/20 (D. J. Bernstein, "Salsa20 specification") as an in-place XOR over a byte range,
// for the MESSAGE boxes. Written here rather than calling @noble/ciphers' salsa20 per frame: that
// general entry point copies and checks its key and nonce on every call, which cost more than the
// cipher itself for the small frames zerorpc sends (about 2 µs against 0.3 µs for a 64-byte block
// here). Checked against @noble/ciphers' xsalsa20poly1305 in test/curve-keys.test.ts. MessageBox
// uses it only where the runtime lacks WebAssembly SIMD; elsewhere wasm-box.ts does this work.

const SIGMA0 = 0x61707865;
const SIGMA1 = 0x3320646e;
const SIGMA2 = 0x79622d32;
const SIGMA3 = 0x6b206574;

/** One keystream block (reused: single-threaded, never re-entered). */
const BLOCK = new Uint32Array(16);
const BLOCK_BYTES = new Uint8Array(BLOCK.buffer);
const LITTLE_ENDIAN = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

function rotl(value: number, shift: number): number {
  return (value << shift) | (value >>> (32 - shift));
}

/** The 32-bit little-endian word at `at` of `bytes`. */
export function wordLE(bytes: Uint8Array, at: number): number {
  return ((bytes[at] as number) | ((bytes[at + 1] as number) << 8) | ((bytes[at + 2] as number) << 16) | ((bytes[at + 3] as number) << 24)) >>> 0;
}

/** The 8 key words (little-endian) of a 32-byte key. */
export function keyWords(key: Uint8Array): Uint32Array {
  const words = new Uint32Array(8);
  for (let i = 0; i < 8; i++) words[i] = wordLE(key, i * 4);
  return words;
}

/** Fills {@link BLOCK} with keystream block `counter` of `key` and the nonce words. */
function block(key: Uint32Array, n0: number, n1: number, counter: number): void {
  const j0 = SIGMA0;
  const j1 = key[0] as number;
  const j2 = key[1] as number;
  const j3 = key[2] as number;
  const j4 = key[3] as number;
  const j5 = SIGMA1;
  const j6 = n0;
  const j7 = n1;
  const j8 = counter >>> 0;
  const j9 = Math.floor(counter / 0x1_0000_0000) >>> 0;
  const j10 = SIGMA2;
  const j11 = key[4] as number;
  const j12 = key[5] as number;
  const j13 = key[6] as number;
  const j14 = key[7] as number;
  const j15 = SIGMA3;
  let x0 = j0, x1 = j1, x2 = j2, x3 = j3, x4 = j4, x5 = j5, x6 = j6, x7 = j7;
  let x8 = j8, x9 = j9, x10 = j10, x11 = j11, x12 = j12, x13 = j13, x14 = j14, x15 = j15;
  for (let round = 0; round < 20; round += 2) {
    // Column round.
    x4 ^= rotl((x0 + x12) | 0, 7);
    x8 ^= rotl((x4 + x0) | 0, 9);
    x12 ^= rotl((x8 + x4) | 0, 13);
    x0 ^= rotl((x12 + x8) | 0, 18);
    x9 ^= rotl((x5 + x1) | 0, 7);
    x13 ^= rotl((x9 + x5) | 0, 9);
    x1 ^= rotl((x13 + x9) | 0, 13);
    x5 ^= rotl((x1 + x13) | 0, 18);
    x14 ^= rotl((x10 + x6) | 0, 7);
    x2 ^= rotl((x14 + x10) | 0, 9);
    x6 ^= rotl((x2 + x14) | 0, 13);
    x10 ^= rotl((x6 + x2) | 0, 18);
    x3 ^= rotl((x15 + x11) | 0, 7);
    x7 ^= rotl((x3 + x15) | 0, 9);
    x11 ^= rotl((x7 + x3) | 0, 13);
    x15 ^= rotl((x11 + x7) | 0, 18);
    // Row round.
    x1 ^= rotl((x0 + x3) | 0, 7);
    x2 ^= rotl((x1 + x0) | 0, 9);
    x3 ^= rotl((x2 + x1) | 0, 13);
    x0 ^= rotl((x3 + x2) | 0, 18);
    x6 ^= rotl((x5 + x4) | 0, 7);
    x7 ^= rotl((x6 + x5) | 0, 9);
    x4 ^= rotl((x7 + x6) | 0, 13);
    x5 ^= rotl((x4 + x7) | 0, 18);
    x11 ^= rotl((x10 + x9) | 0, 7);
    x8 ^= rotl((x11 + x10) | 0, 9);
    x9 ^= rotl((x8 + x11) | 0, 13);
    x10 ^= rotl((x9 + x8) | 0, 18);
    x12 ^= rotl((x15 + x14) | 0, 7);
    x13 ^= rotl((x12 + x15) | 0, 9);
    x14 ^= rotl((x13 + x12) | 0, 13);
    x15 ^= rotl((x14 + x13) | 0, 18);
  }
  const out = BLOCK;
  out[0] = x0 + j0;
  out[1] = x1 + j1;
  out[2] = x2 + j2;
  out[3] = x3 + j3;
  out[4] = x4 + j4;
  out[5] = x5 + j5;
  out[6] = x6 + j6;
  out[7] = x7 + j7;
  out[8] = x8 + j8;
  out[9] = x9 + j9;
  out[10] = x10 + j10;
  out[11] = x11 + j11;
  out[12] = x12 + j12;
  out[13] = x13 + j13;
  out[14] = x14 + j14;
  out[15] = x15 + j15;
  if (!LITTLE_ENDIAN) {
    for (let i = 0; i < 16; i++) {
      const w = out[i] as number;
      out[i] = ((w & 0xff) << 24) | ((w & 0xff00) << 8) | ((w >>> 8) & 0xff00) | (w >>> 24);
    }
  }
}

/**
 * XORs `data[at, end)` in place with the Salsa20 keystream of `key` (8 words) and the 8-byte
 * nonce at `nonce[0, 8)`, from block 0.
 */
export function salsa20Xor(key: Uint32Array, nonce: Uint8Array, data: Uint8Array, range: { at: number; end: number }): void {
  const n0 = wordLE(nonce, 0);
  const n1 = wordLE(nonce, 4);
  const stream = BLOCK_BYTES;
  let counter = 0;
  for (let at = range.at; at < range.end; at += 64) {
    block(key, n0, n1, counter);
    counter += 1;
    const take = Math.min(64, range.end - at);
    for (let i = 0; i < take; i++) data[at + i] = (data[at + i] as number) ^ (stream[i] as number);
  }
}
