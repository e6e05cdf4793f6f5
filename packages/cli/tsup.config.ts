import { defineConfig } from "tsup";
import { packageConfig } from "../../tsup.base.mjs";

// Two builds: the library entry (ESM + CJS + types, like every package) and the `zrpc` command
// (ESM only, keeps its `#!/usr/bin/env node` line; tsup marks it executable). They run in
// parallel, so the library build's clean must leave the command's files alone.
export default defineConfig([
  packageConfig(["src/index.ts"], { clean: ["!cli.js", "!cli.js.map"] }),
  { entry: ["src/cli.ts"], format: ["esm"], dts: false, sourcemap: true, clean: false, target: "node20", splitting: false },
]);
