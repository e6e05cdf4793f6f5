import { defineProject } from "vitest/config";

// Every test starts Bun or Deno processes; two files at a time keep a 2-core machine responsive.
export default defineProject({
  test: { include: ["test/**/*.test.ts"], testTimeout: 120_000, hookTimeout: 60_000, maxWorkers: 2 },
});
