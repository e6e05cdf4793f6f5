import { defineProject } from "vitest/config";

// Each test starts `zrpc run` (tsx, ZeroMQ, and PGlite, which takes seconds to start): generous timeouts.
export default defineProject({
  test: { include: ["test/**/*.test.ts"], testTimeout: 180_000, hookTimeout: 180_000 },
});
