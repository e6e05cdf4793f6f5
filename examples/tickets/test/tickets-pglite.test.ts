// The tickets app on PGlite (the default: no DATABASE_URL), served by `zrpc run`.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { startTickets } from "./helpers.js";
import { checkTickets, checkTicketsWithCli } from "./scenario.js";

const PGLITE = { DATABASE_URL: undefined, PGLITE_DATA_DIR: undefined, SENTRY_DSN: undefined };

const dataDir = mkdtempSync(join(tmpdir(), "zrpc-tickets-"));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe("tickets on PGlite", () => {
  it("serves get_ticket, ticket_list and boom from an in-memory database, and stops with status 0", async () => {
    const { server, endpoint } = await startTickets(PGLITE);
    expect(server.stdout).toContain("Tickets: 3 methods from 1 app (zrpc.config.ts)");
    await server.waitForLine(/^tickets: database ready: PGlite \(in memory\)$/, "stderr");
    await checkTickets(endpoint);
    await checkTicketsWithCli(endpoint);
    // The unexpected error is logged with its stack; the expected one (ValueError) without.
    await server.waitForLine(/^\[\d\d:\d\d:\d\d\] boom -> ERR Error: boom: an unexpected error, raised on purpose/, "stderr");
    expect(server.stderr.some((line) => /^\s+at (Object\.|CallContext\.)?boom \(.*rpcs\.ts:\d+:\d+\)$/.test(line))).toBe(true);
    expect(await server.stop("SIGTERM")).toEqual({ code: 0, signal: null });
  });

  it("creates and seeds the schema in a data directory on first start only", async () => {
    for (let start = 1; start <= 2; start++) {
      const { server, endpoint } = await startTickets({ ...PGLITE, PGLITE_DATA_DIR: dataDir });
      await server.waitForLine(new RegExp(`^tickets: database ready: PGlite \\(${dataDir.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\)$`), "stderr");
      await checkTickets(endpoint);
      expect(await server.stop("SIGTERM")).toEqual({ code: 0, signal: null });
    }
  });
});
