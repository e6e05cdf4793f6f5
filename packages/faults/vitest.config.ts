import { defineProject } from "vitest/config";

// The scenarios measure timing (heartbeat intervals, settle times) against real processes: run
// the files one after the other so they do not steal each other's CPU on a 2-core machine.
export default defineProject({
  test: { include: ["test/**/*.test.ts"], testTimeout: 60_000, hookTimeout: 30_000, fileParallelism: false },
});
