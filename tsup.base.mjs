// Shared tsup settings: every package builds ESM (.js) + CJS (.cjs) with a declaration file per
// format (.d.ts / .d.cts). Keep package configs to one call so swapping bundlers stays cheap.
import { defineConfig } from "tsup";

/** @param {string[]} entry @param {Partial<import("tsup").Options>} [extra] */
export function packageConfig(entry = ["src/index.ts"], extra = {}) {
  return defineConfig({
    entry,
    format: ["esm", "cjs"],
    // TS 6: tsup injects baseUrl into the dts build, which TS 6 deprecates (TS5101).
    // No `stripInternal`: it deletes `@internal` members from the declarations while the JS keeps
    // them, so a public class that implements an interface with such members (Multiplexer
    // implements ChannelHost) no longer type-checks in a consumer with `skipLibCheck: false`.
    // `@internal` stays a documentation tag: not part of the supported API, may change in a patch.
    dts: { compilerOptions: { ignoreDeprecations: "6.0" } },
    sourcemap: true,
    clean: true,
    target: "node20",
    splitting: false,
    ...extra,
  });
}
