import { defineProject } from "vitest/config";

// The CLI tests start `zrpc` child processes (each loads tsx and ZeroMQ): generous timeouts.
export default defineProject({
  test: { include: ["test/**/*.test.ts"], testTimeout: 60_000, hookTimeout: 60_000 },
});
