// `zrpc run` on Bun and on Deno, called by `zrpc call` on Node.js: the tickets example (its
// TypeScript zrpc.config.ts and rpcs.ts, PGlite as the database) and a fixture app whose config
// uses an enum and a parameter property. Both runtimes compile TypeScript themselves: the CLI
// must not load tsx there (the fixture app reports whether its hooks were installed).
import { join } from "node:path";
import { startNode } from "@zrpc/test-support";
import type { ChildHandle } from "@zrpc/test-support";
import { describe, expect, it } from "vitest";
import { FIXTURES, REPO_DIR, RUNTIMES, packageFile, startOn } from "./runtimes.js";

const ZRPC = packageFile("@zrpc/cli", "bin/zrpc.js");
const TICKETS_DIR = join(REPO_DIR, "examples", "tickets");
const APP_DIR = join(FIXTURES, "app");

/** The environment of the servers: PGlite in memory, no Sentry, no OpenTelemetry export. */
const SERVER_ENV = {
  NO_COLOR: "1",
  DATABASE_URL: undefined,
  PGLITE_DATA_DIR: undefined,
  SENTRY_DSN: undefined,
  OTEL_EXPORTER_OTLP_ENDPOINT: undefined,
  OTEL_METRICS_EXPORTER: undefined,
};

/** `zrpc call ENDPOINT ...args` on Node.js, to completion. */
async function callOnNode(endpoint: string, args: readonly string[]): Promise<{ code: number | null; stdout: string[]; stderr: string[] }> {
  const child = startNode(ZRPC, ["call", endpoint, ...args], { env: { NO_COLOR: "1" } });
  const { code } = await child.exited;
  return { code, stdout: child.stdout, stderr: child.stderr };
}

/** `zrpc run 127.0.0.1:0` in `cwd` on `runtime`; resolves once it listens. */
async function runOn(runtime: (typeof RUNTIMES)[number], cwd: string): Promise<{ server: ChildHandle; endpoint: string }> {
  // Deno: --sloppy-imports, for the `./tickets/db.js` that means db.ts (TypeScript's NodeNext style).
  const server = startOn(runtime, ZRPC, ["run", "127.0.0.1:0"], { cwd, env: SERVER_ENV, denoFlags: ["--sloppy-imports"] });
  const match = await server.waitForLine(/^Listening on (\S+) /);
  return { server, endpoint: match[1]! };
}

for (const runtime of RUNTIMES) {
  describe(`zrpc run on ${runtime}`, () => {
    // PGlite (PostgreSQL in WebAssembly) takes from a few seconds to over 40 on a busy 2-core machine to start.
    it("serves the tickets example (TypeScript config and rpcs, PGlite) to zrpc call on Node.js, and stops with status 0", { timeout: 300_000 }, async () => {
      const { server, endpoint } = await runOn(runtime, TICKETS_DIR);
      try {
        expect(server.stdout).toContain("Tickets: 3 methods from 1 app (zrpc.config.ts)");
        await server.waitForLine(/^tickets: database ready: PGlite \(in memory\)$/, "stderr");

        const one = await callOnNode(endpoint, ["get_ticket"]);
        expect(one.code, one.stderr.join("\n")).toBe(0);
        expect(JSON.parse(one.stdout.join("\n"))).toMatchObject({ id: 1, title: "Printer on the 3rd floor is on fire", status: "open" });

        const list = await callOnNode(endpoint, ["ticket_list", "3"]);
        expect(list.code, list.stderr.join("\n")).toBe(0);
        expect(list.stdout.map((line) => (JSON.parse(line) as { id: number }).id)).toEqual([1, 2, 3]);

        const boom = await callOnNode(endpoint, ["boom"]);
        expect(boom).toMatchObject({ code: 1, stdout: [], stderr: ["Error: boom: an unexpected error, raised on purpose"] });
        await server.waitForLine(/^\[\d\d:\d\d:\d\d\] boom -> ERR Error: boom: an unexpected error, raised on purpose/, "stderr");
      } finally {
        expect(await server.stop({ signal: "SIGTERM", graceMs: 30_000 })).toEqual({ code: 0, signal: null });
      }
      expect(server.stderr).toContain("zrpc: stopped");
    });

    it(`loads a TypeScript config with an enum and a parameter property natively (no tsx on ${runtime})`, async () => {
      const { server, endpoint } = await runOn(runtime, APP_DIR);
      try {
        expect(server.stdout[0]).toBe("Runtimes-plain: 2 methods from 1 app (zrpc.config.ts)");
        const whoami = await callOnNode(endpoint, ["whoami"]);
        expect(whoami.stdout, whoami.stderr.join("\n")).toEqual([`"Hello from ${runtime}"`]);
        const tsx = await callOnNode(endpoint, ["tsx_loaded"]);
        expect(tsx.stdout, tsx.stderr.join("\n")).toEqual(["false"]);
      } finally {
        expect(await server.stop({ signal: "SIGTERM", graceMs: 30_000 })).toEqual({ code: 0, signal: null });
      }
    });
  });
}

describe("zrpc run on Node.js (the same fixture app)", () => {
  it("compiles the TypeScript with tsx", async () => {
    const server = startNode(ZRPC, ["run", "127.0.0.1:0"], { cwd: APP_DIR, env: SERVER_ENV });
    const endpoint = (await server.waitForLine(/^Listening on (\S+) /))[1]!;
    try {
      expect((await callOnNode(endpoint, ["whoami"])).stdout).toEqual(['"Hello from node"']);
      expect((await callOnNode(endpoint, ["tsx_loaded"])).stdout).toEqual(["true"]);
    } finally {
      expect(await server.stop({ signal: "SIGTERM", graceMs: 30_000 })).toEqual({ code: 0, signal: null });
    }
  });
});
