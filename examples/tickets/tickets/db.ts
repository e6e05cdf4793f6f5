// The tickets database: PGlite (PostgreSQL in this process) by default, a real PostgreSQL when
// DATABASE_URL is set. Handlers never see the difference: both go through @zrpc/middleware-db's
// pg handle.
import { createDbMiddleware } from "@zrpc/middleware-db";
import type { DbMiddleware } from "@zrpc/middleware-db";
import { pgAdapter } from "@zrpc/middleware-db/pg";
import type { PgHandle } from "@zrpc/middleware-db/pg";
import { pgliteAdapter } from "@zrpc/middleware-db/pglite";
import type { Pool } from "pg";

/** The table, as Django would name the `Ticket` model of the `tickets` app. */
export const TICKET_TABLE = "tickets_ticket";

/** The tickets a new database starts with. */
export const SEED_TICKETS: readonly { readonly title: string; readonly status: string }[] = [
  { title: "Printer on the 3rd floor is on fire", status: "open" },
  { title: "VPN drops every 20 minutes", status: "open" },
  { title: "Order more coffee", status: "closed" },
  { title: "Password reset e-mails go to spam", status: "in progress" },
  { title: "Badge reader at the side door beeps twice", status: "open" },
];

/** The database of the tickets app and how to prepare it. */
export interface TicketsDatabase {
  /** The server middleware that lends each call its connection (`getDb()` in handlers). */
  readonly middleware: DbMiddleware<PgHandle>;
  /** What it is, for the start-up log: `PGlite (in memory)`, `PostgreSQL at 127.0.0.1:5432/postgres`. */
  readonly description: string;
  /** Creates the table and seeds it when it is missing. Safe to run from several servers at once. */
  migrate(): Promise<void>;
}

/** `host:port/database` of a connection string, without user or password. */
function describeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.host}${parsed.pathname}`;
  } catch {
    return "(DATABASE_URL)";
  }
}

/** Creates the table and the seed tickets when missing, in one transaction. */
async function migrate(pool: Pool): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    // Two servers starting together on one PostgreSQL must not both create or seed the table.
    await client.query("SELECT pg_advisory_xact_lock(hashtext($1))", [TICKET_TABLE]);
    await client.query(`
      CREATE TABLE IF NOT EXISTS ${TICKET_TABLE} (
        id serial PRIMARY KEY,
        title text NOT NULL,
        status text NOT NULL DEFAULT 'open',
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    const { rows } = await client.query<{ count: string }>(`SELECT count(*) AS count FROM ${TICKET_TABLE}`);
    if (rows[0]?.count === "0") {
      for (const ticket of SEED_TICKETS) {
        await client.query(`INSERT INTO ${TICKET_TABLE} (title, status) VALUES ($1, $2)`, [ticket.title, ticket.status]);
      }
    }
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

/**
 * The tickets database for this environment: PostgreSQL through a `pg.Pool` when `DATABASE_URL`
 * is set, else PGlite, in memory or in `PGLITE_DATA_DIR` (a folder, kept between runs).
 */
export function createTicketsDatabase(env: NodeJS.ProcessEnv = process.env): TicketsDatabase {
  const url = env.DATABASE_URL;
  if (url !== undefined && url !== "") {
    const adapter = pgAdapter(url);
    return {
      middleware: createDbMiddleware({ adapter, name: "tickets-db" }),
      description: `PostgreSQL at ${describeUrl(url)}`,
      migrate: () => migrate(adapter.pool),
    };
  }
  const dataDir = env.PGLITE_DATA_DIR;
  const adapter = pgliteAdapter(dataDir === undefined || dataDir === "" ? undefined : dataDir);
  return {
    middleware: createDbMiddleware({ adapter, name: "tickets-db" }),
    description: `PGlite (${dataDir === undefined || dataDir === "" ? "in memory" : dataDir})`,
    migrate: () => migrate(adapter.pool),
  };
}
