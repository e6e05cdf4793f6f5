// The tickets app on a real PostgreSQL (DATABASE_URL), served by `zrpc run`. `.ci/run` starts a
// throw-away cluster and exports DATABASE_URL; without it these tests fail (they never skip).
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TICKET_TABLE } from "../tickets/db.js";
import { startTickets } from "./helpers.js";
import { checkTickets, checkTicketsWithCli } from "./scenario.js";

const SCHEMA = "zrpc_example_tickets_test";
const databaseUrl = process.env.DATABASE_URL;

/** DATABASE_URL with the test's own schema first on the search_path, so real data is never touched. */
function urlForSchema(url: string): string {
  const parsed = new URL(url);
  parsed.searchParams.set("options", `-c search_path=${SCHEMA}`);
  return parsed.toString();
}

/** DATABASE_URL, or a failure that says how to provide it: these tests fail without it, never skip. */
function requireDatabaseUrl(): string {
  if (databaseUrl === undefined || databaseUrl === "") {
    throw new Error(
      "DATABASE_URL is not set: the PostgreSQL tests of the tickets example need a server. " +
        "Run them through `bash .ci/run` (it starts one), or start PostgreSQL and export DATABASE_URL=postgres://USER@HOST:PORT/DB.",
    );
  }
  return databaseUrl;
}

let admin: pg.Client | undefined;

beforeAll(async () => {
  if (databaseUrl === undefined || databaseUrl === "") return;
  admin = new pg.Client({ connectionString: databaseUrl });
  await admin.connect();
  await admin.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
  await admin.query(`CREATE SCHEMA ${SCHEMA}`);
});

afterAll(async () => {
  if (admin === undefined) return;
  await admin.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
  await admin.end();
});

describe("tickets on PostgreSQL (DATABASE_URL)", () => {
  it("creates and seeds the missing schema, serves get_ticket, ticket_list and boom, stops with status 0", async () => {
    const url = requireDatabaseUrl();
    const { server, endpoint } = await startTickets({ DATABASE_URL: urlForSchema(url), SENTRY_DSN: undefined });
    await server.waitForLine(new RegExp(`^tickets: database ready: PostgreSQL at ${new URL(url).host.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}/`), "stderr");
    const { rows } = await admin!.query<{ count: string }>(`SELECT count(*) AS count FROM ${SCHEMA}.${TICKET_TABLE}`);
    expect(rows[0]!.count).toBe("5");
    await checkTickets(endpoint);
    await checkTicketsWithCli(endpoint);
    expect(await server.stop("SIGTERM")).toEqual({ code: 0, signal: null });
  });

  it("does not seed again when the table exists", async () => {
    const url = requireDatabaseUrl();
    const { server, endpoint } = await startTickets({ DATABASE_URL: urlForSchema(url), SENTRY_DSN: undefined });
    await checkTickets(endpoint);
    const { rows } = await admin!.query<{ count: string }>(`SELECT count(*) AS count FROM ${SCHEMA}.${TICKET_TABLE}`);
    expect(rows[0]!.count).toBe("5");
    expect(await server.stop("SIGTERM")).toEqual({ code: 0, signal: null });
  });
});
