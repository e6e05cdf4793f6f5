#!/usr/bin/env node
// The `zrpc` bin. The command is built to dist/cli.js (runnable directly: `node dist/cli.js`);
// this file exists before any build, so that package managers link the bin at install time even
// in a fresh workspace clone, where dist/ appears only after the first build.
import("../dist/cli.js").catch((error) => {
  if (error?.code === "ERR_MODULE_NOT_FOUND" && String(error.message).includes("cli.js")) {
    console.error("zrpc: dist/cli.js is missing: build @zrpc/cli first (pnpm build)");
    process.exit(1);
  }
  throw error;
});
