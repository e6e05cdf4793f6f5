// The WebAssembly Salsa20 / Poly1305 / box of the MESSAGE path, differentially against @noble/ciphers,
// and MessageBox on both of its paths (WebAssembly, and the JavaScript fallback).

import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { poly1305 } from "@noble/ciphers/_poly1305.js";
import { salsa20, xsalsa20poly1305 } from "@noble/ciphers/salsa.js";
import { afterEach, describe, expect, it, vi } from "vitest";
import { moduleSource } from "../scripts/wasm-crypto.js";
import { MessageBox, nonce } from "../src/curve/box.js";
import { disableWasmBox, wasmBox } from "../src/curve/wasm-box.js";
import { WASM_DATA_CHUNK, WASM_LAYOUT as L } from "../src/curve/wasm-module.js";

const MiB = 1 << 20;

function prng(seed: number): (n: number) => number {
  let state = seed >>> 0;
  return (n) => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return Math.floor(((state >>> 8) / 0x1000000) * n);
  };
}

const wasm = (): NonNullable<ReturnType<typeof wasmBox>> => {
  const box = wasmBox();
  if (box === undefined) throw new Error("this Node.js runs WebAssembly SIMD: the module must load");
  return box;
};

/** The reference box with a Salsa20 key used directly (no HSalsa20): Poly1305 key, then ciphertext. */
function referenceSeal(subkey: Uint8Array, counter: Uint8Array, plain: Uint8Array): Buffer {
  const stream = salsa20(subkey, counter, new Uint8Array(plain.byteLength + 32));
  const cipher = Uint8Array.from(plain);
  for (let i = 0; i < cipher.byteLength; i++) cipher[i] = (cipher[i] as number) ^ (stream[32 + i] as number);
  return Buffer.concat([poly1305(cipher, stream.subarray(0, 32)), cipher]);
}

afterEach(() => disableWasmBox(false));

describe("the WebAssembly module", () => {
  it("is the output of scripts/wasm-crypto.ts (regenerate with `pnpm gen:wasm`)", () => {
    expect(readFileSync(new URL("../src/curve/wasm-module.ts", import.meta.url), "utf8")).toBe(moduleSource());
  });

  it("Salsa20 XOR matches @noble/ciphers' salsa20 for every length 0..300, unaligned, and from a later block", () => {
    const { exports: x, memory } = wasm().primitives;
    const next = prng(1);
    for (let length = 0; length <= 300; length++) {
      const key = randomBytes(32);
      const counter = randomBytes(8);
      const data = randomBytes(length);
      const shift = next(16);
      const block = length % 3 === 0 ? next(1000) : 0;
      memory.set(key, L.key);
      memory.set(counter, L.nonce);
      memory.set(data, L.data + shift);
      x.xor(L.data + shift, length, block);
      const expected = salsa20(key, counter, data, undefined, block);
      expect(Buffer.from(memory.subarray(L.data + shift, L.data + shift + length))).toEqual(Buffer.from(expected));
    }
  });

  it("Salsa20 XOR over a whole data area and a random length, from a block past 2^16", () => {
    const { exports: x, memory } = wasm().primitives;
    for (const length of [WASM_DATA_CHUNK, 40_000 + 13, 64 * 257 + 5]) {
      const key = randomBytes(32);
      const counter = randomBytes(8);
      const data = randomBytes(length);
      memory.set(key, L.key);
      memory.set(counter, L.nonce);
      memory.set(data, L.data);
      x.xor(L.data, length, 70_001);
      expect(Buffer.from(memory.subarray(L.data, L.data + length))).toEqual(Buffer.from(salsa20(key, counter, data, undefined, 70_001)));
    }
  });

  it("Poly1305 gives the RFC 8439 2.5.2 tag and matches @noble/ciphers for lengths 0..300, all-ones and big inputs", () => {
    const { exports: x, memory, absorb } = wasm().primitives;
    const tag = (key: Uint8Array, message: Uint8Array, piece = WASM_DATA_CHUNK): Buffer => {
      memory.set(key, L.polyKey);
      x.poly_init(L.polyKey);
      for (let at = 0; at < message.byteLength || at === 0; at += piece) {
        const part = message.subarray(at, Math.min(at + piece, message.byteLength));
        memory.set(part, L.data + 3);
        absorb(L.data + 3, part.byteLength);
        if (message.byteLength === 0) break;
      }
      x.poly_finish(L.tag);
      return Buffer.from(memory.subarray(L.tag, L.tag + 16));
    };
    const rfcKey = Buffer.from("85d6be7857556d337f4452fe42d506a80103808afb0db2fd4abff6af4149f51b", "hex");
    expect(tag(rfcKey, Buffer.from("Cryptographic Forum Research Group")).toString("hex")).toBe("a8061dc1305136c6c22b8baf0c0127a9");
    for (let length = 0; length <= 300; length++) {
      const key = length % 7 === 0 ? Buffer.alloc(32, 0xff) : randomBytes(32);
      const message = length % 5 === 0 ? Buffer.alloc(length, 0xff) : randomBytes(length);
      expect(tag(key, message)).toEqual(Buffer.from(poly1305(message, key)));
    }
    // Several data areas' worth, absorbed in pieces (multiples of 16 but the last).
    for (const length of [3 * WASM_DATA_CHUNK + 7, 200_000]) {
      const key = randomBytes(32);
      const message = randomBytes(length);
      expect(tag(key, message, 4096)).toEqual(Buffer.from(poly1305(message, key)));
    }
    // h close to 2^130 - 5 at the end: the final reduction's other branch.
    const ones = Buffer.alloc(32, 0xff);
    ones.fill(0, 16);
    expect(tag(ones, Buffer.alloc(16 * 40, 0xff))).toEqual(Buffer.from(poly1305(Buffer.alloc(16 * 40, 0xff), ones)));
  });

  it("seals and opens (also a range, and in place) like Salsa20 + Poly1305 for every length 0..300 and big, unaligned frames up to 8 MiB", () => {
    const box = wasm();
    const next = prng(2);
    const lengths = [...Array.from({ length: 301 }, (_, i) => i), WASM_DATA_CHUNK - 32, WASM_DATA_CHUNK - 31, WASM_DATA_CHUNK, WASM_DATA_CHUNK + 1, 1 + next(3 * MiB), MiB, 8 * MiB + 13];
    for (const length of lengths) {
      const subkey = randomBytes(32);
      const counter = randomBytes(8);
      const plain = randomBytes(length);
      const expected = referenceSeal(subkey, counter, plain);
      const at = next(16);
      const buffer = new Uint8Array(at + 32 + length + 5);
      buffer.set(plain, at + 32);
      box.seal({ subkey, counter }, buffer, at, at + 32 + length);
      const sealed = Buffer.from(buffer.buffer, at + 16, 16 + length);
      if (!sealed.equals(expected)) expect.fail(`seal differs at length ${length}`);
      // An odd offset into a bigger buffer, as a MESSAGE command's box is.
      const received = Buffer.alloc(sealed.byteLength + 3);
      sealed.copy(received, 3);
      const opened = box.open({ subkey, counter }, received.subarray(3));
      if (opened === undefined || !Buffer.from(opened).equals(plain)) expect.fail(`open differs at length ${length}`);
      const ranged = box.openRange({ subkey, counter }, received, 3, received.byteLength);
      if (ranged === undefined || !Buffer.from(ranged).equals(plain)) expect.fail(`openRange differs at length ${length}`);
      const inPlace = box.openInPlace({ subkey, counter }, received.subarray(3));
      if (inPlace === undefined || !Buffer.from(inPlace).equals(plain)) expect.fail(`openInPlace differs at length ${length}`);
      if (inPlace.buffer !== received.buffer || inPlace.byteOffset !== received.byteOffset + 3 + 16) expect.fail("openInPlace did not decrypt in place");
      // A changed tag, first or last octet of ciphertext, or one in a later data area: refused.
      for (const position of new Set([0, 15, 16, 16 + (length >> 1), 16 + length - 1, 16 + WASM_DATA_CHUNK + 5].filter((p) => p < 16 + length))) {
        const forged = Buffer.from(sealed);
        forged[position]! ^= 0x40;
        if (box.open({ subkey, counter }, forged) !== undefined) expect.fail(`a forged box opened (length ${length}, octet ${position})`);
        if (box.openInPlace({ subkey, counter }, forged) !== undefined) expect.fail(`a forged box opened in place (length ${length}, octet ${position})`);
      }
      if (box.open({ subkey, counter: Buffer.alloc(8) }, sealed) !== undefined && length > 0) expect.fail("opened with another nonce");
    }
  });
});

describe("MessageBox on both paths", () => {
  /** A connection's beforenm key. */
  const key = randomBytes(32);

  for (const path of ["WebAssembly", "JavaScript"] as const) {
    it(`${path}: seals exactly as xsalsa20poly1305 with the full nonce and opens (also a range, and in place) what noble sealed`, () => {
      disableWasmBox(path === "JavaScript");
      expect(wasmBox() === undefined).toBe(path === "JavaScript");
      const sender = new MessageBox(key, "CurveZMQMESSAGEC");
      const receiver = new MessageBox(key, "CurveZMQMESSAGEC");
      const next = prng(path === "JavaScript" ? 3 : 4);
      for (const length of [0, 1, 60, 61, 255, 4095, 4096, 70_000, 1 + next(2 * MiB), 8 * MiB]) {
        const counter = randomBytes(8);
        const plain = randomBytes(length);
        const reference = Buffer.from(xsalsa20poly1305(key, nonce("CurveZMQMESSAGEC", counter)).encrypt(plain));
        const at = next(9);
        const buffer = new Uint8Array(at + 32 + length);
        buffer.set(plain, at + 32);
        sender.sealInPlace(buffer, at, buffer.byteLength, counter);
        if (!Buffer.from(buffer.subarray(at + 16)).equals(reference)) expect.fail(`${path} seal differs at ${length}`);
        const opened = receiver.open(reference, counter);
        if (opened === undefined || !Buffer.from(opened).equals(plain)) expect.fail(`${path} open differs at ${length}`);
        const forged = Buffer.from(reference);
        forged[forged.length - 1]! ^= 1;
        expect(receiver.open(forged, counter)).toBeUndefined();
        expect(receiver.openInPlace(forged, counter)).toBeUndefined();
        const padded = Buffer.concat([Buffer.alloc(3), reference, Buffer.alloc(2)]);
        const ranged = receiver.openRange(padded, 3, 3 + reference.byteLength, counter);
        if (ranged === undefined || !Buffer.from(ranged).equals(plain)) expect.fail(`${path} openRange differs at ${length}`);
        expect(receiver.openRange(padded, 3, 3 + 15, counter)).toBeUndefined();
        const own = Buffer.from(reference);
        const inPlace = receiver.openInPlace(own, counter);
        if (inPlace === undefined || !Buffer.from(inPlace).equals(plain) || inPlace.buffer !== own.buffer) expect.fail(`${path} openInPlace differs at ${length}`);
      }
    }, 60_000);
  }

  it("without WebAssembly in the runtime, the box loads nothing and MessageBox still seals and opens", async () => {
    vi.resetModules();
    vi.stubGlobal("WebAssembly", undefined);
    try {
      const fresh = await import("../src/curve/wasm-box.js");
      expect(fresh.wasmBox()).toBeUndefined();
      const { MessageBox: FreshBox } = await import("../src/curve/box.js");
      const box = new FreshBox(key, "CurveZMQMESSAGES");
      const counter = randomBytes(8);
      const plain = randomBytes(5000);
      const reference = Buffer.from(xsalsa20poly1305(key, nonce("CurveZMQMESSAGES", counter)).encrypt(plain));
      expect(Buffer.from(box.open(reference, counter) as Uint8Array)).toEqual(plain);
    } finally {
      vi.unstubAllGlobals();
      vi.resetModules();
    }
  });
});
