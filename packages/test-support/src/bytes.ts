// Deterministic test data: reproducible payloads and random numbers from a seed.
import { Buffer } from "node:buffer";

/** `n` bytes where byte `i` is `i % 256` (the TestService's `big(n)`). */
export function patternBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = i & 0xff;
  return out;
}

/** A pseudo-random payload of `size` bytes from `seed` (xorshift32): the same seed, the same bytes. */
export function pseudoRandomBytes(size: number, seed: number): Buffer {
  const data = Buffer.allocUnsafe(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    data[i] = x & 0xff;
  }
  return data;
}

/** A seeded generator of floats in [0, 1) (mulberry32), for reproducible fuzz and chunking. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
