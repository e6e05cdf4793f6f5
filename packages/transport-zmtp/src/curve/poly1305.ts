// Poly1305 (RFC 8439 section 2.5) for the MESSAGE boxes: the accumulator and r as ten 13-bit limbs,
// so every product and sum stays exact in doubles; the block function is unrolled (generated
// from the limb-product table: d_i = sum of h_j * r_(i-j), with 5 * r for the wrapped terms). One reusable state per direction instead of
// @noble/ciphers' one-shot object (whose setup, copies and wiping cost more than the arithmetic
// for small frames). Checked against @noble/ciphers in test/curve-keys.test.ts. MessageBox uses it
// only where the runtime lacks WebAssembly SIMD; elsewhere wasm-box.ts does this work.

const MASK13 = 0x1fff;

/** A Poly1305 authenticator that can be re-keyed for every message. */
export class Poly1305 {
  readonly #r = new Float64Array(10);
  readonly #h = new Float64Array(10);
  readonly #pad = new Uint16Array(8);

  /** Writes the 16-octet tag of `message[at, end)` under the 32-octet one-time `key[keyAt, keyAt + 32)` to `out[outAt, outAt + 16)`. */
  tag(key: Uint8Array, keyAt: number, message: { bytes: Uint8Array; at: number; end: number }, out: { bytes: Uint8Array; at: number }): void {
    this.#setKey(key, keyAt);
    blocks(this.#h, this.#r, message);
    this.#finish(out.bytes, out.at);
  }

  #setKey(key: Uint8Array, at: number): void {
    const k = BLOCK;
    for (let i = 0; i < 16; i++) k[i] = key[at + i] as number;
    // Clamp r (RFC 8439 2.5.1).
    k[3] = (k[3] as number) & 15;
    k[7] = (k[7] as number) & 15;
    k[11] = (k[11] as number) & 15;
    k[15] = (k[15] as number) & 15;
    k[4] = (k[4] as number) & 252;
    k[8] = (k[8] as number) & 252;
    k[12] = (k[12] as number) & 252;
    toLimbs(k, 0, this.#r, 0);
    this.#h.fill(0);
    const pad = this.#pad;
    for (let i = 0; i < 8; i++) pad[i] = (key[at + 16 + 2 * i] as number) | ((key[at + 17 + 2 * i] as number) << 8);
  }

  #finish(out: Uint8Array, at: number): void {
    const h = this.#h;
    // Full carry, then h mod p: take h + 5 - 2^130 when that does not borrow.
    let carry = 0;
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 10; i++) {
        const value = (h[i] as number) + carry;
        carry = value >>> 13;
        h[i] = value & MASK13;
      }
      h[0] = (h[0] as number) + carry * 5;
      carry = 0;
    }
    const g = G;
    carry = 5;
    for (let i = 0; i < 10; i++) {
      const value = (h[i] as number) + carry;
      carry = value >>> 13;
      g[i] = value & MASK13;
    }
    // carry is bit 130 of h + 5: set when h >= p.
    const select = carry === 1 ? g : h;
    const words = WORDS;
    const s0 = select[0] as number, s1 = select[1] as number, s2 = select[2] as number, s3 = select[3] as number, s4 = select[4] as number;
    const s5 = select[5] as number, s6 = select[6] as number, s7 = select[7] as number, s8 = select[8] as number, s9 = select[9] as number;
    words[0] = s0 | (s1 << 13);
    words[1] = (s1 >>> 3) | (s2 << 10);
    words[2] = (s2 >>> 6) | (s3 << 7);
    words[3] = (s3 >>> 9) | (s4 << 4);
    words[4] = (s4 >>> 12) | (s5 << 1) | (s6 << 14);
    words[5] = (s6 >>> 2) | (s7 << 11);
    words[6] = (s7 >>> 5) | (s8 << 8);
    words[7] = (s8 >>> 8) | (s9 << 5);
    const pad = this.#pad;
    let sum = 0;
    for (let i = 0; i < 8; i++) {
      sum = (words[i] as number) + (pad[i] as number) + (sum >>> 16);
      out[at + 2 * i] = sum & 0xff;
      out[at + 2 * i + 1] = (sum >>> 8) & 0xff;
    }
  }
}

const BLOCK = new Uint8Array(17);
const LIMBS = new Float64Array(10);
const G = new Float64Array(10);
const WORDS = new Uint16Array(8);

/** The 16 little-endian octets of `bytes` at `at` as ten 13-bit limbs, `hibit` added to the top one. */
function toLimbs(bytes: Uint8Array, at: number, limbs: Float64Array, hibit: number): void {
  const t0 = (bytes[at] as number) | ((bytes[at + 1] as number) << 8);
  const t1 = (bytes[at + 2] as number) | ((bytes[at + 3] as number) << 8);
  const t2 = (bytes[at + 4] as number) | ((bytes[at + 5] as number) << 8);
  const t3 = (bytes[at + 6] as number) | ((bytes[at + 7] as number) << 8);
  const t4 = (bytes[at + 8] as number) | ((bytes[at + 9] as number) << 8);
  const t5 = (bytes[at + 10] as number) | ((bytes[at + 11] as number) << 8);
  const t6 = (bytes[at + 12] as number) | ((bytes[at + 13] as number) << 8);
  const t7 = (bytes[at + 14] as number) | ((bytes[at + 15] as number) << 8);
  limbs[0] = t0 & MASK13;
  limbs[1] = ((t0 >>> 13) | (t1 << 3)) & MASK13;
  limbs[2] = ((t1 >>> 10) | (t2 << 6)) & MASK13;
  limbs[3] = ((t2 >>> 7) | (t3 << 9)) & MASK13;
  limbs[4] = ((t3 >>> 4) | (t4 << 12)) & MASK13;
  limbs[5] = (t4 >>> 1) & MASK13;
  limbs[6] = ((t4 >>> 14) | (t5 << 2)) & MASK13;
  limbs[7] = ((t5 >>> 11) | (t6 << 5)) & MASK13;
  limbs[8] = ((t6 >>> 8) | (t7 << 8)) & MASK13;
  limbs[9] = (t7 >>> 5) | hibit;
}

/** Runs full 16-octet blocks (hibit set) and the padded last block over the limbs; returns nothing, state in `h`. */
function blocks(h: Float64Array, r: Float64Array, message: { bytes: Uint8Array; at: number; end: number }): void {
  const m = LIMBS;
  const r0 = r[0] as number, r1 = r[1] as number, r2 = r[2] as number, r3 = r[3] as number, r4 = r[4] as number, r5 = r[5] as number, r6 = r[6] as number, r7 = r[7] as number, r8 = r[8] as number, r9 = r[9] as number;
  const s1 = 5 * (r[1] as number), s2 = 5 * (r[2] as number), s3 = 5 * (r[3] as number), s4 = 5 * (r[4] as number), s5 = 5 * (r[5] as number), s6 = 5 * (r[6] as number), s7 = 5 * (r[7] as number), s8 = 5 * (r[8] as number), s9 = 5 * (r[9] as number);
  let h0 = h[0] as number, h1 = h[1] as number, h2 = h[2] as number, h3 = h[3] as number, h4 = h[4] as number, h5 = h[5] as number, h6 = h[6] as number, h7 = h[7] as number, h8 = h[8] as number, h9 = h[9] as number;
  const { bytes, end } = message;
  for (let position = message.at; position < end; position += 16) {
    const take = Math.min(16, end - position);
    if (take === 16) {
      toLimbs(bytes, position, m, 1 << 11);
    } else {
      const block = BLOCK;
      block.fill(0);
      for (let i = 0; i < take; i++) block[i] = bytes[position + i] as number;
      block[take] = 1;
      toLimbs(block, 0, m, 0);
    }
    h0 += m[0] as number;
    h1 += m[1] as number;
    h2 += m[2] as number;
    h3 += m[3] as number;
    h4 += m[4] as number;
    h5 += m[5] as number;
    h6 += m[6] as number;
    h7 += m[7] as number;
    h8 += m[8] as number;
    h9 += m[9] as number;
    const d0 = h0 * r0 + h1 * s9 + h2 * s8 + h3 * s7 + h4 * s6 + h5 * s5 + h6 * s4 + h7 * s3 + h8 * s2 + h9 * s1;
    let d1 = h0 * r1 + h1 * r0 + h2 * s9 + h3 * s8 + h4 * s7 + h5 * s6 + h6 * s5 + h7 * s4 + h8 * s3 + h9 * s2;
    let d2 = h0 * r2 + h1 * r1 + h2 * r0 + h3 * s9 + h4 * s8 + h5 * s7 + h6 * s6 + h7 * s5 + h8 * s4 + h9 * s3;
    let d3 = h0 * r3 + h1 * r2 + h2 * r1 + h3 * r0 + h4 * s9 + h5 * s8 + h6 * s7 + h7 * s6 + h8 * s5 + h9 * s4;
    let d4 = h0 * r4 + h1 * r3 + h2 * r2 + h3 * r1 + h4 * r0 + h5 * s9 + h6 * s8 + h7 * s7 + h8 * s6 + h9 * s5;
    let d5 = h0 * r5 + h1 * r4 + h2 * r3 + h3 * r2 + h4 * r1 + h5 * r0 + h6 * s9 + h7 * s8 + h8 * s7 + h9 * s6;
    let d6 = h0 * r6 + h1 * r5 + h2 * r4 + h3 * r3 + h4 * r2 + h5 * r1 + h6 * r0 + h7 * s9 + h8 * s8 + h9 * s7;
    let d7 = h0 * r7 + h1 * r6 + h2 * r5 + h3 * r4 + h4 * r3 + h5 * r2 + h6 * r1 + h7 * r0 + h8 * s9 + h9 * s8;
    let d8 = h0 * r8 + h1 * r7 + h2 * r6 + h3 * r5 + h4 * r4 + h5 * r3 + h6 * r2 + h7 * r1 + h8 * r0 + h9 * s9;
    let d9 = h0 * r9 + h1 * r8 + h2 * r7 + h3 * r6 + h4 * r5 + h5 * r4 + h6 * r3 + h7 * r2 + h8 * r1 + h9 * r0;
    let c = (d0 / 8192) >>> 0;
    h0 = d0 - c * 8192;
    d1 += c;
    c = (d1 / 8192) >>> 0;
    h1 = d1 - c * 8192;
    d2 += c;
    c = (d2 / 8192) >>> 0;
    h2 = d2 - c * 8192;
    d3 += c;
    c = (d3 / 8192) >>> 0;
    h3 = d3 - c * 8192;
    d4 += c;
    c = (d4 / 8192) >>> 0;
    h4 = d4 - c * 8192;
    d5 += c;
    c = (d5 / 8192) >>> 0;
    h5 = d5 - c * 8192;
    d6 += c;
    c = (d6 / 8192) >>> 0;
    h6 = d6 - c * 8192;
    d7 += c;
    c = (d7 / 8192) >>> 0;
    h7 = d7 - c * 8192;
    d8 += c;
    c = (d8 / 8192) >>> 0;
    h8 = d8 - c * 8192;
    d9 += c;
    c = (d9 / 8192) >>> 0;
    h9 = d9 - c * 8192;
    c = c * 5 + h0;
    h0 = c & MASK13;
    h1 += c >>> 13;
  }
  h[0] = h0;
  h[1] = h1;
  h[2] = h2;
  h[3] = h3;
  h[4] = h4;
  h[5] = h5;
  h[6] = h6;
  h[7] = h7;
  h[8] = h8;
  h[9] = h9;
}
