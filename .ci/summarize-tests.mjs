// Sums vitest's JSON reports of every package into the one line CI reads:
// "tests: N passed, N failed, N skipped". A package with a test script but no report (its
// vitest crashed before writing one) counts as one failure, so a crash never looks green.
import { existsSync, readFileSync, readdirSync } from "node:fs";

let passed = 0, failed = 0, skipped = 0, reports = 0;
// Every workspace package: packages/*, examples/*, and docs (the site, whose code blocks are tests).
const packageDirs = [
  ...["packages", "examples"].flatMap((root) => (existsSync(root) ? readdirSync(root).map((dir) => `${root}/${dir}`) : [])),
  "docs",
];
for (const path of packageDirs) {
  const manifest = `${path}/package.json`;
  if (!existsSync(manifest)) continue;
  const pkg = JSON.parse(readFileSync(manifest, "utf8"));
  if (!pkg.scripts?.test) continue;
  const file = `${path}/.test-results.json`;
  if (!existsSync(file)) {
    console.error(`no test report from ${path}: counted as 1 failure`);
    failed += 1;
    continue;
  }
  const report = JSON.parse(readFileSync(file, "utf8"));
  reports += 1;
  passed += report.numPassedTests;
  // A test file that failed to load has no failed assertions: count it as one failure.
  const brokenFiles = (report.testResults ?? []).filter(
    (file) => file.status === "failed" && !(file.assertionResults ?? []).some((a) => a.status === "failed"),
  ).length;
  failed += report.numFailedTests + brokenFiles;
  skipped += (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
  console.error(`${path}: ${report.numPassedTests} passed, ${report.numFailedTests} failed`);
}
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
if (reports === 0 || passed === 0 || failed > 0) process.exit(1);
