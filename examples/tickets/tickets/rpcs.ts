// The methods of the tickets app. `zrpc run` imports this module (autodiscovery); each
// `register()` adds a method to @zrpc/server's default registry. The database connection of a
// call comes from @zrpc/middleware-db (`getDb()`), which the configuration installs.
import { getDb } from "@zrpc/middleware-db";
import type { PgHandle } from "@zrpc/middleware-db/pg";
import { raise, register } from "@zrpc/server";
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

/** The methods, typed for `connect<TicketsService>(...)` on the client side. */
export interface TicketsService {
  get_ticket(): Ticket | null;
  ticket_list(n: number): AsyncIterable<Ticket>;
  boom(): never;
}

register(
  async function get_ticket(): Promise<Ticket | null> {
    const { rows } = await getDb<PgHandle>().query<TicketRow>(`SELECT ${COLUMNS} FROM ${TICKET_TABLE} ORDER BY id LIMIT 1`);
    return rows[0] === undefined ? null : toTicket(rows[0]);
  },
  { doc: "Return the first ticket (a map), or nil when there is none." },
);

register(
  async function* ticket_list(n: number): AsyncGenerator<Ticket> {
    const count = Number(n);
    if (!Number.isInteger(count) || count < 0) raise("ValueError", `n must be a non-negative integer, got ${String(n)}`);
    const { rows } = await getDb<PgHandle>().query<TicketRow>(`SELECT ${COLUMNS} FROM ${TICKET_TABLE} ORDER BY id LIMIT $1`, [count]);
    for (const row of rows) yield toTicket(row);
  },
  { stream: true, doc: "Stream the first n tickets, oldest first." },
);

register(
  function boom(): never {
    // Not a ServiceError: an unexpected failure. The client gets ERR with the name, message and
    // stack; `zrpc run` logs the stack; error reporting middleware (Sentry) would report it.
    throw new Error("boom: an unexpected error, raised on purpose");
  },
  { doc: "Fail with an unexpected error, to see how errors are reported." },
);
