// Shared tsup settings: every package builds ESM (.js) + CJS (.cjs) with a declaration file per
// format (.d.ts / .d.cts). Keep package configs to one call so swapping bundlers stays cheap.
import { defineConfig } from "tsup";

/** @param {string[]} entry @param {Partial<import("tsup").Options>} [extra] */
export function packageConfig(entry = ["src/index.ts"], extra = {}) {
  return defineConfig({
    entry,
    format: ["esm", "cjs"],
    // TS 6: tsup injects baseUrl into the dts build, which TS 6 deprecates (TS5101).
    dts: { compilerOptions: { ignoreDeprecations: "6.0", stripInternal: true } },
    sourcemap: true,
    clean: true,
    target: "node20",
    splitting: false,
    ...extra,
  });
}
