import { defineProject } from "vitest/config";

// Each test file installs packed tarballs with npm and runs tsc or a child process: minutes, not
// seconds, on a loaded machine. globalSetup packs every published package once per run.
export default defineProject({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/global-setup.ts"],
    testTimeout: 180_000,
    hookTimeout: 180_000,
    // The three files mostly wait on child processes (npm fetching, tsc, node): run them side by
    // side even on two cores (vitest's default there is one worker).
    maxWorkers: 3,
  },
});
