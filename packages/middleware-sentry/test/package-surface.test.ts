// The package's surface: the middlewares fit @zrpc/server's and @zrpc/client's hook types, and the
// builds load neither at run time (each half works with only its own peer installed).
import { readFile } from "node:fs/promises";
import { describe, expect, expectTypeOf, it } from "vitest";
import type { ClientMiddleware } from "@zrpc/client";
import type { ServerMiddleware } from "@zrpc/server";
import * as api from "../src/index.js";

describe("package surface", () => {
  it("returns middleware assignable to ServerMiddleware and ClientMiddleware", () => {
    expectTypeOf(api.sentryServerMiddleware).returns.toExtend<ServerMiddleware>();
    expectTypeOf(api.sentryClientMiddleware).returns.toExtend<ClientMiddleware>();
    const server: ServerMiddleware = api.sentryServerMiddleware({ tracing: false });
    const client: ClientMiddleware = api.sentryClientMiddleware({ tracing: false });
    expect(Object.keys(server).sort()).toEqual(["around", "beforeCall", "close", "name", "onEnd"]);
    expect(Object.keys(client).sort()).toEqual(["around", "beforeRequest", "name"]);
  });

  it("exports exactly these values", () => {
    expect(Object.keys(api).sort()).toEqual([
      "BAGGAGE_KEY",
      "DEFAULT_REDACT_KEYS",
      "RPC_SYSTEM",
      "SENTRY_TRACE_KEY",
      "describeValue",
      "messageIdText",
      "peerText",
      "sentryClientMiddleware",
      "sentryServerMiddleware",
      "summarizeArgs",
    ]);
    expect([api.SENTRY_TRACE_KEY, api.BAGGAGE_KEY, api.RPC_SYSTEM]).toEqual(["sentry-trace", "baggage", "zerorpc"]);
  });

  it("builds ESM and CJS that import @sentry/node and nothing from @zrpc", async () => {
    for (const file of ["../dist/index.js", "../dist/index.cjs", "../dist/index.d.ts", "../dist/index.d.cts"]) {
      const text = await readFile(new URL(file, import.meta.url), "utf8");
      // An import or require of any @zrpc package (the error messages may name this package).
      expect(text, file).not.toMatch(/(from\s*|import\s*\(\s*|require\(\s*)["']@zrpc\//);
      if (!file.includes(".d.")) expect(text, file).toMatch(/@sentry\/node/);
    }
  });
});
