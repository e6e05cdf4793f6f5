// Import-cycle check of every package's `src/` (issue #17), run by `pnpm lint` (turbo's `lint`
// depends on the root task `//#lint:cycles`). Any cycle fails, type-only edges included: dpdm reads
// the TypeScript sources as they are (no `--transform`, which would drop `import type`).
//
//   node tools/check-cycles.mjs              check packages/*/src (exit 1 and the cycles named)
//   node tools/check-cycles.mjs --self-test  only the self-test below
//
// Before the real check it runs the same dpdm command on two files with a deliberate cycle (one
// edge type-only) in a temporary folder and fails unless dpdm exits non-zero and names both files,
// so that a dpdm upgrade or a flag change that stops seeing cycles cannot pass silently.
import { spawnSync } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(import.meta.url);
const dpdmBin = join(dirname(require.resolve("dpdm/package.json")), "lib", "bin", "dpdm.js");

/** The one checker command: dpdm over `glob`, run in `cwd`; exit code 1 when there is a cycle. */
function runDpdm(cwd, glob) {
  const result = spawnSync(process.execPath, [dpdmBin, "--no-tree", "--no-warning", "--exit-code", "circular:1", glob], {
    cwd,
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0" },
  });
  if (result.error) throw result.error;
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

function selfTest() {
  const dir = mkdtempSync(join(tmpdir(), "zrpc-cycles-"));
  try {
    mkdirSync(join(dir, "src"));
    // Like every package: a tsconfig.json with NodeNext resolution (dpdm reads the nearest one to map "./x.js" to x.ts).
    writeFileSync(join(dir, "tsconfig.json"), JSON.stringify({ compilerOptions: { module: "NodeNext", moduleResolution: "NodeNext" } }));
    writeFileSync(join(dir, "src", "alpha.ts"), 'import { beta } from "./beta.js";\nexport const alpha = (): number => beta + 1;\n');
    writeFileSync(join(dir, "src", "beta.ts"), 'import type { alpha } from "./alpha.js";\nexport const beta = 1;\nexport type Alpha = typeof alpha;\n');
    const { status, output } = runDpdm(dir, "src/**/*.ts");
    const named = /alpha\.ts/.test(output) && /beta\.ts/.test(output);
    if (status === 0 || !named) {
      process.stderr.write(`check-cycles self-test FAILED: dpdm exited ${status} on a deliberate cycle (alpha.ts <-> beta.ts, one edge type-only)${named ? "" : " without naming it"}:\n${output}\n`);
      return false;
    }
    process.stdout.write("check-cycles self-test: the deliberate cycle src/alpha.ts <-> src/beta.ts is reported (exit code " + status + ")\n");
    return true;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (!selfTest()) process.exit(1);
if (process.argv.includes("--self-test")) process.exit(0);

const { status, output } = runDpdm(root, "packages/*/src/**/*.ts");
process.stdout.write(output.replace(/^.*analyz.*\n?/gim, ""));
if (status !== 0) {
  process.stderr.write("Import cycles found in packages/*/src (listed above): break each one (move the shared types or code to a module both sides import).\n");
  process.exit(1);
}
