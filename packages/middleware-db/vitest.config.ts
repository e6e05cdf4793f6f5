import { defineProject } from "vitest/config";

// PGlite takes 2-4 s to start (up to ~20 s on a loaded machine): one instance per file, in beforeAll.
export default defineProject({
  test: { include: ["test/**/*.test.ts"], testTimeout: 30_000, hookTimeout: 60_000 },
});
