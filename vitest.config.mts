// One-shot local run over every package: `pnpm vitest run`. CI runs one vitest per package via turbo.
import { defineConfig } from "vitest/config";
export default defineConfig({ test: { projects: ["packages/*", "docs"] } });
