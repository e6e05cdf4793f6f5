// Micro-benchmark of the MESSAGE box primitives: milliseconds per MiB of Salsa20 XOR and of
// Poly1305, JavaScript against WebAssembly, and MessageBox seal/open by frame size (which decides
// where MessageBox switches to WebAssembly). Figures vary with the machine's load; compare the
// columns of one run. Run: `node --import tsx scripts/bench-crypto.ts [--seconds 0.5]`.

import { salsa20 } from "@noble/ciphers/salsa.js";
import { MessageBox } from "../src/curve/box.js";
import { Poly1305 } from "../src/curve/poly1305.js";
import { keyWords, salsa20Xor } from "../src/curve/salsa20.js";
import { disableWasmBox, wasmBox } from "../src/curve/wasm-box.js";
import { WASM_DATA_CHUNK, WASM_LAYOUT } from "../src/curve/wasm-module.js";

const secondsArg = process.argv.indexOf("--seconds");
const seconds = secondsArg > 0 ? Number(process.argv[secondsArg + 1]) : 0.5;

/** Microseconds per call of `fn` over about `seconds`, after a warm-up of a third of that (both tiers of the JIT). */
function time(fn: () => void): number {
  const run = (budget: bigint): number => {
    let calls = 0;
    const start = process.hrtime.bigint();
    let elapsed = 0n;
    while (elapsed < budget) {
      for (let i = 0; i < 10; i++) fn();
      calls += 10;
      elapsed = process.hrtime.bigint() - start;
    }
    return Number(elapsed) / 1000 / calls;
  };
  run(BigInt(Math.round((seconds * 1e9) / 3)));
  return run(BigInt(Math.round(seconds * 1e9)));
}

const MiB = 1 << 20;
const key = new Uint8Array(32).map((_, i) => i * 7 + 1);
const counter = new Uint8Array(8).map((_, i) => i + 1);
const data = new Uint8Array(MiB).map((_, i) => i & 0xff);
const wasm = wasmBox();
if (wasm === undefined) throw new Error("WebAssembly (with SIMD) is not available here");
const { exports: x, memory, absorb } = wasm.primitives;

const rows: [string, string, string][] = [];
const ms = (us: number): string => (us / 1000).toFixed(2);

{
  const words = keyWords(key);
  const js = time(() => salsa20Xor(words, counter, data, { at: 0, end: MiB }));
  const noble = time(() => salsa20(key, counter, data, data));
  memory.set(key, WASM_LAYOUT.key);
  memory.set(counter, WASM_LAYOUT.nonce);
  const chunks = MiB / WASM_DATA_CHUNK;
  const w = time(() => {
    for (let c = 0; c < chunks; c++) x.xor(WASM_LAYOUT.data, WASM_DATA_CHUNK, c * (WASM_DATA_CHUNK / 64));
  });
  rows.push(["Salsa20 XOR, ms a MiB", `${ms(js)} (ours) / ${ms(noble)} (@noble/ciphers salsa20)`, `${ms(w)} (no copies)`]);
}
{
  const poly = new Poly1305();
  const out = new Uint8Array(16);
  const js = time(() => poly.tag(key, 0, { bytes: data, at: 0, end: MiB }, { bytes: out, at: 0 }));
  memory.set(key, WASM_LAYOUT.polyKey);
  const chunks = MiB / WASM_DATA_CHUNK;
  const w = time(() => {
    x.poly_init(WASM_LAYOUT.polyKey);
    for (let c = 0; c < chunks; c++) absorb(WASM_LAYOUT.data, WASM_DATA_CHUNK);
    x.poly_finish(WASM_LAYOUT.tag);
  });
  rows.push(["Poly1305, ms a MiB", ms(js), `${ms(w)} (no copies)`]);
}

// Seal and open by frame size: MessageBox's JavaScript path (WebAssembly turned off) against the
// WebAssembly box called directly, copies in and out included; MessageBox switches where they cross.
const box = new MessageBox(key, "CurveZMQMESSAGEC");
const keys = { subkey: key, counter };
for (const size of [32, 64, 128, 256, 512, 1024, 4096, 65536, MiB]) {
  const buffer = new Uint8Array(32 + size);
  const sealed = new Uint8Array(16 + size);
  buffer.fill(1, 32);
  box.sealInPlace(buffer, 0, buffer.byteLength, counter);
  sealed.set(buffer.subarray(16));
  disableWasmBox(true);
  const jsSeal = time(() => box.sealInPlace(buffer, 0, buffer.byteLength, counter));
  const jsOpen = time(() => {
    if (box.open(sealed, counter) === undefined) throw new Error("did not open");
  });
  disableWasmBox(false);
  const wSeal = time(() => wasm.seal(keys, buffer, 0, buffer.byteLength));
  buffer.fill(1, 32);
  wasm.seal(keys, buffer, 0, buffer.byteLength);
  sealed.set(buffer.subarray(16));
  const wOpen = time(() => {
    if (wasm.open(keys, sealed) === undefined) throw new Error("did not open");
  });
  const big = size >= 65536;
  const f = (us: number): string => (big ? ms(us) : us.toFixed(2));
  const label = size === MiB ? "1 MiB (ms)" : big ? `${size / 1024} KiB (ms)` : `${size} octets (µs)`;
  rows.push([`seal ${label}`, f(jsSeal), f(wSeal)]);
  rows.push([`open ${label}`, f(jsOpen), f(wOpen)]);
}

process.stdout.write("| operation | JavaScript | WebAssembly |\n| --- | ---: | ---: |\n");
for (const [name, js, w] of rows) process.stdout.write(`| ${name} | ${js} | ${w} |\n`);
