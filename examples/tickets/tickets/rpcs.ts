// The methods of the tickets app. `zrpc run` imports this module (autodiscovery); `defineRpcs()`
// adds the methods to @zrpc/server's default registry, like `register()`, and its result types
// the clients. The database connection of a call comes from @zrpc/middleware-db (`getDb()`),
// which the configuration installs.
import { getDb } from "@zrpc/middleware-db";
import type { PgHandle } from "@zrpc/middleware-db/pg";
import { defineRpcs, raise } from "@zrpc/server";
import { TICKET_TABLE } from "./db.js";

/** A ticket as it travels: a msgpack map (`created_at` as an ISO 8601 string, as Django's JSON). */
export interface Ticket {
  readonly id: number;
  readonly title: string;
  readonly status: string;
  readonly created_at: string;
}

interface TicketRow {
  id: number;
  title: string;
  status: string;
  created_at: Date;
}

function toTicket(row: TicketRow): Ticket {
  return { id: row.id, title: row.title, status: row.status, created_at: row.created_at.toISOString() };
}

const COLUMNS = "id, title, status, created_at";

async function get_ticket(): Promise<Ticket | null> {
  const { rows } = await getDb<PgHandle>().query<TicketRow>(`SELECT ${COLUMNS} FROM ${TICKET_TABLE} ORDER BY id LIMIT 1`);
  return rows[0] === undefined ? null : toTicket(rows[0]);
}

// Returns an array; `stream` below makes it a stream method (one STREAM event per ticket), and
// clients see it as an AsyncIterable<Ticket>.
async function ticket_list(n: number): Promise<Ticket[]> {
  const count = Number(n);
  if (!Number.isInteger(count) || count < 0) raise("ValueError", `n must be a non-negative integer, got ${String(n)}`);
  const { rows } = await getDb<PgHandle>().query<TicketRow>(`SELECT ${COLUMNS} FROM ${TICKET_TABLE} ORDER BY id LIMIT $1`, [count]);
  return rows.map(toTicket);
}

function boom(): never {
  // Not a ServiceError: an unexpected failure. The client gets ERR with the name, message and
  // stack; `zrpc run` logs the stack; error reporting middleware (Sentry) would report it.
  throw new Error("boom: an unexpected error, raised on purpose");
}

/**
 * The app's methods, registered in the default registry (as `register()` does). Clients take their
 * type from here without loading this module:
 * `import type { tickets } from "./tickets/rpcs.js"; connect<typeof tickets>(endpoint)`.
 */
export const tickets = defineRpcs(
  { get_ticket, ticket_list, boom },
  {
    stream: ["ticket_list"],
    docs: {
      get_ticket: "Return the first ticket (a map), or nil when there is none.",
      ticket_list: "Stream the first n tickets, oldest first.",
      boom: "Fail with an unexpected error, to see how errors are reported.",
    },
  },
);
