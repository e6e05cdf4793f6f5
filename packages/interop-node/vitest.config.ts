import { defineProject } from "vitest/config";

export default defineProject({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // One file at a time: the matrix runs peers in child processes and times heartbeats and
    // timeouts; two matrices at once on a 2-core machine would only add noise.
    fileParallelism: false,
  },
});
