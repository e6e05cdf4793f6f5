// Generates src/curve/wasm-module.ts: the WebAssembly module behind the bulk MESSAGE boxes (Salsa20
// four blocks at a time in SIMD v128 lanes, Poly1305 on 26-bit limbs with i64 products), as base64.
// A small assembler written here, so that the build needs no WebAssembly toolchain: each function
// is emitted instruction by instruction, the unrolled parts (rounds, limb products) from loops.
// Run `pnpm --filter @zrpc/transport-zmtp gen:wasm` after a change; test/curve-wasm.test.ts checks
// that the checked-in module is this script's output.
//
// Memory layout (offsets in the module's one memory; see src/curve/wasm-box.ts for the user side):
//   0..32   Salsa20 key (8 little-endian words)    32..40  nonce (2 words)
//   64..104 Poly1305 accumulator h (5 x i64)       104..144 r (5 x i64)   144..160 pad s (16 octets)
//   160..176, 176..208, 208..224: used by the caller only (a padded last Poly1305 block, a one-time
//           Poly1305 key, the tag)
//   256..512 the Salsa20 input of four blocks, each word splatted over four lanes (lane = block)
//   512..768 keystream of the last, partial group of four blocks
//   from 1024: the data a caller copies in

import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const I32 = 0x7f;
const I64 = 0x7e;
const V128 = 0x7b;

/** Offsets of the memory layout above. */
export const LAYOUT = { key: 0, nonce: 32, h: 64, r: 104, pad: 144, block: 160, polyKey: 176, tag: 208, state: 256, stream: 512, data: 1024 } as const;

function uleb(value: number): number[] {
  const out: number[] = [];
  let rest = value;
  do {
    let byte = rest & 0x7f;
    rest = Math.floor(rest / 128);
    if (rest !== 0) byte |= 0x80;
    out.push(byte);
  } while (rest !== 0);
  return out;
}

function sleb(value: bigint): number[] {
  const out: number[] = [];
  let rest = value;
  for (;;) {
    const byte = Number(rest & 0x7fn);
    rest >>= 7n;
    const signClear = (byte & 0x40) === 0;
    if ((rest === 0n && signClear) || (rest === -1n && !signClear)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

const OPS = {
  block: 0x02, loop: 0x03, if: 0x04, else: 0x05, end: 0x0b, br: 0x0c, br_if: 0x0d, select: 0x1b,
  "i32.eqz": 0x45, "i32.lt_u": 0x49, "i32.ge_u": 0x4f, "i64.ne": 0x52,
  "i32.add": 0x6a, "i32.sub": 0x6b, "i32.xor": 0x73,
  "i64.add": 0x7c, "i64.mul": 0x7e, "i64.and": 0x83, "i64.or": 0x84, "i64.shl": 0x86, "i64.shr_u": 0x88,
  "i64.extend_i32_u": 0xad,
} as const;

const MEMORY_OPS = {
  "i32.load": [0x28, 2], "i64.load": [0x29, 3], "i32.load8_u": [0x2d, 0], "i64.load32_u": [0x35, 2],
  "i64.store": [0x37, 3], "i32.store8": [0x3a, 0], "i64.store32": [0x3e, 2],
} as const;

const SIMD_OPS = {
  "v128.load": 0x00, "v128.store": 0x0b, "i32x4.splat": 0x11, "v128.or": 0x50, "v128.xor": 0x51,
  "i32x4.shl": 0xab, "i32x4.shr_u": 0xad, "i32x4.add": 0xae,
} as const;

type Op = keyof typeof OPS;

/** One function's body under construction. */
class Fn {
  readonly code: number[] = [];
  readonly locals: number[] = [];

  constructor(readonly params: readonly number[], readonly results: readonly number[]) {}

  /** Declares a local of `type`; its index. */
  local(type: number): number {
    this.locals.push(type);
    return this.params.length + this.locals.length - 1;
  }

  op(...names: Op[]): this {
    for (const name of names) this.code.push(OPS[name]);
    return this;
  }

  /** `block`, `loop` or `if` with an empty block type. */
  open(kind: "block" | "loop" | "if"): this {
    this.code.push(OPS[kind], 0x40);
    return this;
  }

  br(kind: "br" | "br_if", depth: number): this {
    this.code.push(OPS[kind], ...uleb(depth));
    return this;
  }

  get(index: number): this {
    this.code.push(0x20, ...uleb(index));
    return this;
  }

  set(index: number): this {
    this.code.push(0x21, ...uleb(index));
    return this;
  }

  tee(index: number): this {
    this.code.push(0x22, ...uleb(index));
    return this;
  }

  i32(value: number): this {
    this.code.push(0x41, ...sleb(BigInt(value | 0)));
    return this;
  }

  i64(value: number | bigint): this {
    this.code.push(0x42, ...sleb(BigInt(value)));
    return this;
  }

  mem(name: keyof typeof MEMORY_OPS, offset = 0): this {
    const [code, align] = MEMORY_OPS[name];
    this.code.push(code, align, ...uleb(offset));
    return this;
  }

  simd(name: keyof typeof SIMD_OPS, offset?: number): this {
    this.code.push(0xfd, ...uleb(SIMD_OPS[name]));
    if (name === "v128.load" || name === "v128.store") this.code.push(4, ...uleb(offset ?? 0));
    return this;
  }

  /** v128.const of four i32 lanes. */
  v128(lanes: readonly [number, number, number, number]): this {
    this.code.push(0xfd, 0x0c);
    for (const lane of lanes) this.code.push(lane & 0xff, (lane >>> 8) & 0xff, (lane >>> 16) & 0xff, (lane >>> 24) & 0xff);
    return this;
  }

  /** i8x16.shuffle picking four i32 lanes (0..3 from the first operand, 4..7 from the second). */
  shuffle32(lanes: readonly [number, number, number, number]): this {
    this.code.push(0xfd, 0x0d);
    for (const lane of lanes) this.code.push(lane * 4, lane * 4 + 1, lane * 4 + 2, lane * 4 + 3);
    return this;
  }

  /** The code section entry: size, locals (run-length), body, end. */
  encode(): number[] {
    const groups: number[][] = [];
    for (const type of this.locals) {
      const last = groups[groups.length - 1];
      if (last !== undefined && last[1] === type) last[0] = (last[0] as number) + 1;
      else groups.push([1, type]);
    }
    const body = [...uleb(groups.length), ...groups.flatMap(([count, type]) => [...uleb(count as number), type as number]), ...this.code, OPS.end];
    return [...uleb(body.length), ...body];
  }
}

// Salsa20 -------------------------------------------------------------------------------------------

const SIGMA = [0x61707865, 0x3320646e, 0x79622d32, 0x6b206574];

/** The quarter-round steps of a double round, `x[target] ^= rotl(x[a] + x[b], shift)`: columns, then rows. */
function doubleRoundSteps(): (readonly [number, number, number, number])[] {
  const steps: (readonly [number, number, number, number])[] = [];
  // Each quarter round on (y0, y1, y2, y3): y1 ^= (y0+y3)<<<7, y2 ^= (y1+y0)<<<9, y3 ^= (y2+y1)<<<13, y0 ^= (y3+y2)<<<18.
  const quarter = (y: readonly number[]): (readonly [number, number, number, number])[] => {
    const [y0, y1, y2, y3] = y as [number, number, number, number];
    return [[y1, y0, y3, 7], [y2, y1, y0, 9], [y3, y2, y1, 13], [y0, y3, y2, 18]];
  };
  const columns = [[0, 4, 8, 12], [5, 9, 13, 1], [10, 14, 2, 6], [15, 3, 7, 11]].map(quarter);
  const rows = [[0, 1, 2, 3], [5, 6, 7, 4], [10, 11, 8, 9], [15, 12, 13, 14]].map(quarter);
  // The four quarter rounds of a half are independent: interleave them step by step.
  for (const half of [columns, rows]) {
    for (let step = 0; step < 4; step++) for (const q of half) steps.push(q[step] as readonly [number, number, number, number]);
  }
  return steps;
}

/**
 * `xor(ptr, len, counter)`: XORs `len` octets at `ptr` with the Salsa20 keystream of the key and
 * nonce at {@link LAYOUT}, from block `counter` on (the high counter word is 0: a caller passes
 * fewer than 2^32 blocks). Four blocks per iteration, block i of a group in lane i.
 */
function salsaXor(): Fn {
  const f = new Fn([I32, I32, I32], []);
  const [ptr, len, counter] = [0, 1, 2];
  const x = Array.from({ length: 16 }, () => f.local(V128));
  const t = Array.from({ length: 4 }, () => f.local(V128));
  const tmp = f.local(V128);
  const round = f.local(I32);
  const i = f.local(I32);
  const address = f.local(I32);
  const S = LAYOUT.state;
  // The input words, each splatted over four lanes; word 8 (the low counter) is counter + lane.
  const keyWord = [-1, 0, 1, 2, 3, -1, -1, -1, -1, -1, -1, 4, 5, 6, 7, -1];
  for (let w = 0; w < 16; w++) {
    f.i32(S + 16 * w);
    if (w === 0 || w === 5 || w === 10 || w === 15) f.i32(SIGMA[w / 5] as number).simd("i32x4.splat");
    else if (w === 6 || w === 7) f.i32(0).mem("i32.load", LAYOUT.nonce + 4 * (w - 6)).simd("i32x4.splat");
    else if (w === 8) f.get(counter).simd("i32x4.splat").v128([0, 1, 2, 3]).simd("i32x4.add");
    else if (w === 9) f.i32(0).simd("i32x4.splat");
    else f.i32(0).mem("i32.load", LAYOUT.key + 4 * (keyWord[w] as number)).simd("i32x4.splat");
    f.simd("v128.store");
  }
  const steps = doubleRoundSteps();
  f.open("block").open("loop");
  f.get(len).op("i32.eqz").br("br_if", 1);
  for (let w = 0; w < 16; w++) f.i32(0).simd("v128.load", S + 16 * w).set(x[w] as number);
  f.i32(10).set(round);
  f.open("loop");
  for (const [target, a, b, shift] of steps) {
    f.get(x[target] as number);
    f.get(x[a] as number).get(x[b] as number).simd("i32x4.add").tee(tmp);
    f.i32(shift).simd("i32x4.shl").get(tmp).i32(32 - shift).simd("i32x4.shr_u").simd("v128.or");
    f.simd("v128.xor").set(x[target] as number);
  }
  f.get(round).i32(1).op("i32.sub").tee(round).br("br_if", 0);
  f.op("end");
  for (let w = 0; w < 16; w++) f.get(x[w] as number).i32(0).simd("v128.load", S + 16 * w).simd("i32x4.add").set(x[w] as number);
  f.i32(S + 128).i32(0).simd("v128.load", S + 128).v128([4, 4, 4, 4]).simd("i32x4.add").simd("v128.store");
  // Lane L of x[4q .. 4q+3] is words 4q .. 4q+3 of block L: transpose each group of four.
  const output = (toData: boolean): void => {
    for (let q = 0; q < 4; q++) {
      const [a, b, c, d] = [x[4 * q], x[4 * q + 1], x[4 * q + 2], x[4 * q + 3]] as [number, number, number, number];
      const [t0, t1, t2, t3] = t as [number, number, number, number];
      f.get(a).get(b).shuffle32([0, 4, 1, 5]).set(t0);
      f.get(a).get(b).shuffle32([2, 6, 3, 7]).set(t1);
      f.get(c).get(d).shuffle32([0, 4, 1, 5]).set(t2);
      f.get(c).get(d).shuffle32([2, 6, 3, 7]).set(t3);
      const lanes: [number, number, readonly [number, number, number, number]][] = [
        [t0, t2, [0, 1, 4, 5]], [t0, t2, [2, 3, 6, 7]], [t1, t3, [0, 1, 4, 5]], [t1, t3, [2, 3, 6, 7]],
      ];
      lanes.forEach(([first, second, pick], block) => {
        const offset = 64 * block + 16 * q;
        if (toData) {
          f.get(ptr).get(ptr).simd("v128.load", offset).get(first).get(second).shuffle32(pick).simd("v128.xor").simd("v128.store", offset);
        } else {
          f.i32(0).get(first).get(second).shuffle32(pick).simd("v128.store", LAYOUT.stream + offset);
        }
      });
    }
  };
  f.get(len).i32(256).op("i32.ge_u").open("if");
  output(true);
  f.get(ptr).i32(256).op("i32.add").set(ptr);
  f.get(len).i32(256).op("i32.sub").set(len);
  f.br("br", 1);
  f.op("else");
  output(false);
  f.i32(0).set(i);
  f.open("block").open("loop");
  f.get(i).get(len).op("i32.ge_u").br("br_if", 1);
  f.get(ptr).get(i).op("i32.add").tee(address);
  f.get(address).mem("i32.load8_u").get(i).mem("i32.load8_u", LAYOUT.stream).op("i32.xor").mem("i32.store8");
  f.get(i).i32(1).op("i32.add").set(i);
  f.br("br", 0);
  f.op("end", "end");
  f.br("br", 2);
  f.op("end");
  f.op("end", "end");
  return f;
}

// Poly1305 ------------------------------------------------------------------------------------------

const MASK26 = 0x3ffffff;
/** Where limb i of a 16-octet little-endian number starts (octet) and its shift within the 32-bit word there. */
const LIMB_AT = [[0, 0], [3, 2], [6, 4], [9, 6], [12, 8]] as const;
/** The clamp of r (RFC 8439 2.5.1) as masks on its 26-bit limbs. */
const R_MASK = [0x3ffffff, 0x3ffff03, 0x3ffc0ff, 0x3f03fff, 0x00fffff];

/** `poly_init(key)`: r (clamped) and s from the 32-octet one-time key at `key`, h = 0. */
function polyInit(): Fn {
  const f = new Fn([I32], []);
  LIMB_AT.forEach(([at, shift], limb) => {
    f.i32(0).get(0).mem("i64.load32_u", at).i64(shift).op("i64.shr_u").i64(R_MASK[limb] as number).op("i64.and");
    f.mem("i64.store", LAYOUT.r + 8 * limb);
    f.i32(0).i64(0).mem("i64.store", LAYOUT.h + 8 * limb);
  });
  f.i32(0).get(0).mem("i64.load", 16).mem("i64.store", LAYOUT.pad);
  f.i32(0).get(0).mem("i64.load", 24).mem("i64.store", LAYOUT.pad + 8);
  return f;
}

/** Emits the carry chain d0 -> d1 -> ... -> d4 -> 5 * c into h0 -> h1, leaving the limbs in `h`. */
function carry(f: Fn, d: readonly number[], h: readonly number[], c: number): void {
  for (let i = 0; i < 5; i++) {
    if (i > 0) f.get(d[i] as number).get(c).op("i64.add").set(d[i] as number);
    f.get(d[i] as number).i64(26).op("i64.shr_u").set(c);
    f.get(d[i] as number).i64(MASK26).op("i64.and").set(h[i] as number);
  }
  f.get(h[0] as number).get(c).i64(5).op("i64.mul").op("i64.add").tee(h[0] as number);
  f.i64(26).op("i64.shr_u").set(c);
  f.get(h[0] as number).i64(MASK26).op("i64.and").set(h[0] as number);
  f.get(h[1] as number).get(c).op("i64.add").set(h[1] as number);
}

/**
 * `poly_blocks(ptr, len, hibit)`: absorbs the whole 16-octet blocks of `len` octets at `ptr`, each
 * with `hibit` (1 << 24 for a full block, 0 for a padded last one) added as bit 128.
 */
function polyBlocks(): Fn {
  const f = new Fn([I32, I32, I32], []);
  const [ptr, len, hibitArg] = [0, 1, 2];
  const h = Array.from({ length: 5 }, () => f.local(I64));
  const r = Array.from({ length: 5 }, () => f.local(I64));
  const s = Array.from({ length: 5 }, () => f.local(I64));
  const d = Array.from({ length: 5 }, () => f.local(I64));
  const c = f.local(I64);
  const hibit = f.local(I64);
  f.get(hibitArg).op("i64.extend_i32_u").set(hibit);
  for (let i = 0; i < 5; i++) {
    f.i32(0).mem("i64.load", LAYOUT.h + 8 * i).set(h[i] as number);
    f.i32(0).mem("i64.load", LAYOUT.r + 8 * i).tee(r[i] as number).i64(5).op("i64.mul").set(s[i] as number);
  }
  f.open("block").open("loop");
  f.get(len).i32(16).op("i32.lt_u").br("br_if", 1);
  LIMB_AT.forEach(([at, shift], limb) => {
    f.get(h[limb] as number).get(ptr).mem("i64.load32_u", at).i64(shift).op("i64.shr_u");
    if (limb < 4) f.i64(MASK26).op("i64.and");
    else f.get(hibit).op("i64.or");
    f.op("i64.add").set(h[limb] as number);
  });
  // d_i = sum over j of h_j * r_(i-j), with r_(i-j+5) * 5 = s for the terms that wrap past 2^130.
  for (let i = 0; i < 5; i++) {
    for (let j = 0; j < 5; j++) {
      const k = i - j;
      f.get(h[j] as number).get(k >= 0 ? (r[k] as number) : (s[k + 5] as number)).op("i64.mul");
      if (j > 0) f.op("i64.add");
    }
    f.set(d[i] as number);
  }
  carry(f, d, h, c);
  f.get(ptr).i32(16).op("i32.add").set(ptr);
  f.get(len).i32(16).op("i32.sub").set(len);
  f.br("br", 0);
  f.op("end", "end");
  for (let i = 0; i < 5; i++) f.i32(0).get(h[i] as number).mem("i64.store", LAYOUT.h + 8 * i);
  return f;
}

/** `poly_finish(out)`: h mod 2^130 - 5, plus s, as the 16-octet tag at `out`. */
function polyFinish(): Fn {
  const f = new Fn([I32], []);
  const out = 0;
  const h = Array.from({ length: 5 }, () => f.local(I64));
  const g = Array.from({ length: 5 }, () => f.local(I64));
  const c = f.local(I64);
  const sum = f.local(I64);
  for (let i = 0; i < 5; i++) f.i32(0).mem("i64.load", LAYOUT.h + 8 * i).set(h[i] as number);
  // Two passes of carries from h1 on leave every limb under 2^26 (h < 2^130).
  for (let pass = 0; pass < 2; pass++) {
    for (let i = 1; i < 5; i++) {
      f.get(h[i] as number).i64(26).op("i64.shr_u").set(c);
      f.get(h[i] as number).i64(MASK26).op("i64.and").set(h[i] as number);
      if (i < 4) f.get(h[i + 1] as number).get(c).op("i64.add").set(h[i + 1] as number);
    }
    f.get(h[0] as number).get(c).i64(5).op("i64.mul").op("i64.add").tee(h[0] as number);
    f.i64(26).op("i64.shr_u").set(c);
    f.get(h[0] as number).i64(MASK26).op("i64.and").set(h[0] as number);
    f.get(h[1] as number).get(c).op("i64.add").set(h[1] as number);
  }
  // g = h + 5; when it reaches 2^130 (h >= p), h mod p is g - 2^130.
  f.i64(5).set(c);
  for (let i = 0; i < 5; i++) {
    f.get(h[i] as number).get(c).op("i64.add").tee(g[i] as number).i64(26).op("i64.shr_u").set(c);
    f.get(g[i] as number).i64(MASK26).op("i64.and").set(g[i] as number);
  }
  for (let i = 0; i < 5; i++) f.get(g[i] as number).get(h[i] as number).get(c).i64(0).op("i64.ne", "select").set(h[i] as number);
  // The four 32-bit words of h, each plus the word of s and the carry of the one before.
  const words: [number, number, number][] = [[0, 0, 26], [1, 6, 20], [2, 12, 14], [3, 18, 8]];
  for (const [w, shiftDown, shiftUp] of words) {
    f.get(h[w] as number).i64(shiftDown).op("i64.shr_u").get(h[w + 1] as number).i64(shiftUp).op("i64.shl").op("i64.or");
    f.i64(0xffffffff).op("i64.and");
    f.i32(0).mem("i64.load32_u", LAYOUT.pad + 4 * w).op("i64.add");
    if (w > 0) f.get(sum).i64(32).op("i64.shr_u").op("i64.add");
    f.set(sum);
    f.get(out).get(sum).mem("i64.store32", 4 * w);
  }
  return f;
}

// Module --------------------------------------------------------------------------------------------

function vec(items: readonly (readonly number[])[]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

function name(text: string): number[] {
  const bytes = [...Buffer.from(text, "utf8")];
  return [...uleb(bytes.length), ...bytes];
}

function section(id: number, payload: readonly number[]): number[] {
  return [id, ...uleb(payload.length), ...payload];
}

/** Memory pages of the module (64 KiB each): the layout's first 1024 octets and the data area. */
export const DATA_CHUNK = 64 * 1024;
const PAGES = 1 + DATA_CHUNK / 65536;

/** The module: exports `memory`, `xor`, `poly_init`, `poly_blocks`, `poly_finish`. */
export function buildCryptoModule(): Uint8Array {
  const functions: [string, Fn][] = [["xor", salsaXor()], ["poly_init", polyInit()], ["poly_blocks", polyBlocks()], ["poly_finish", polyFinish()]];
  const types = functions.map(([, fn]) => [0x60, ...vec(fn.params.map((p) => [p])), ...vec(fn.results.map((r) => [r]))]);
  const bytes = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec(types)),
    ...section(3, vec(functions.map((_, index) => uleb(index)))),
    ...section(5, vec([[0x01, ...uleb(PAGES), ...uleb(PAGES)]])),
    ...section(7, vec([[...name("memory"), 0x02, 0x00], ...functions.map(([label], index) => [...name(label), 0x00, ...uleb(index)])])),
    ...section(10, vec(functions.map(([, fn]) => fn.encode()))),
  ];
  return Uint8Array.from(bytes);
}

/** The source of src/curve/wasm-module.ts. */
export function moduleSource(): string {
  const base64 = Buffer.from(buildCryptoModule()).toString("base64");
  const lines = base64.match(/.{1,100}/g) ?? [];
  return [
    "// Generated by scripts/wasm-crypto.ts (`pnpm --filter @zrpc/transport-zmtp gen:wasm`); do not edit.",
    "// The WebAssembly module of the bulk MESSAGE boxes: Salsa20 (SIMD, four blocks at a time) and Poly1305.",
    "",
    "/** The module's bytes, base64. */",
    "export const WASM_CRYPTO = [",
    ...lines.map((line) => `  "${line}",`),
    '].join("");',
    "",
    `/** Offsets in the module's memory. */`,
    `export const WASM_LAYOUT = ${JSON.stringify(LAYOUT).replace(/"/g, "").replace(/,/g, ", ").replace(/:/g, ": ").replace("{", "{ ").replace(/}$/, " }")} as const;`,
    "",
    "/** Octets of the data area (from WASM_LAYOUT.data). */",
    `export const WASM_DATA_CHUNK = ${DATA_CHUNK};`,
    "",
  ].join("\n");
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const target = fileURLToPath(new URL("../src/curve/wasm-module.ts", import.meta.url));
  writeFileSync(target, moduleSource());
  process.stdout.write(`wrote ${target} (${buildCryptoModule().byteLength} octets of WebAssembly)\n`);
}
