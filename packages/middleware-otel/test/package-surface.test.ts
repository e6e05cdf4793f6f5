// The package's surface: the middlewares fit @zrpc/server's and @zrpc/client's hook types, and the
// builds load only @opentelemetry/api at run time (no SDK, nothing from @zrpc).
import { readFile } from "node:fs/promises";
import { describe, expect, expectTypeOf, it } from "vitest";
import type { ClientMiddleware } from "@zrpc/client";
import type { ServerMiddleware } from "@zrpc/server";
import * as api from "../src/index.js";

describe("package surface", () => {
  it("returns middleware assignable to ServerMiddleware and ClientMiddleware", () => {
    expectTypeOf(api.otelServerMiddleware).returns.toExtend<ServerMiddleware>();
    expectTypeOf(api.otelClientMiddleware).returns.toExtend<ClientMiddleware>();
    const server: ServerMiddleware = api.otelServerMiddleware();
    const client: ClientMiddleware = api.otelClientMiddleware();
    expect(Object.keys(server).sort()).toEqual(["around", "name", "onEnd"]);
    expect(Object.keys(client).sort()).toEqual(["afterReply", "around", "beforeRequest", "name"]);
  });

  it("exports exactly these values", () => {
    expect(Object.keys(api).sort()).toEqual([
      "ATTR",
      "DURATION_BUCKETS_SECONDS",
      "INSTRUMENTATION_NAME",
      "INSTRUMENTATION_VERSION",
      "METRIC",
      "OTHER_METHOD",
      "RPC_SYSTEM_NAME",
      "mergeBaggage",
      "otelClientMiddleware",
      "otelServerMiddleware",
      "semconvModeFromEnv",
    ]);
  });

  it("reports the package's own version as the instrumentation scope version", async () => {
    const manifest = JSON.parse(await readFile(new URL("../package.json", import.meta.url), "utf8")) as { version: string; name: string };
    expect([api.INSTRUMENTATION_NAME, api.INSTRUMENTATION_VERSION]).toEqual([manifest.name, manifest.version]);
  });

  it("builds ESM and CJS that import @opentelemetry/api and nothing else", async () => {
    for (const file of ["../dist/index.js", "../dist/index.cjs"]) {
      const text = await readFile(new URL(file, import.meta.url), "utf8");
      const imports = [...text.matchAll(/(?:from\s*|import\s*\(\s*|require\(\s*)["']([^"']+)["']/g)].map((m) => m[1]);
      expect(new Set(imports), file).toEqual(new Set(["@opentelemetry/api"]));
    }
  });
});
