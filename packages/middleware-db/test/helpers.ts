// Shared pieces of the end-to-end tests: a real zrpc server and client over ZeroMQ on loopback,
// a real PostgreSQL (DATABASE_URL), and polls of the real state (pg_stat_activity, pool counts).
import { randomUUID } from "node:crypto";
import { setTimeout as delay } from "node:timers/promises";
import pg from "pg";
import { connect } from "@zrpc/client";
import type { Client } from "@zrpc/client";
import { createServer, getCallContext } from "@zrpc/server";
import type { Logger, Server, ServerMiddleware, ServerOptions } from "@zrpc/server";

/** Heartbeat of both sides in these tests: a lost client is noticed after about 2 intervals. */
export const HEARTBEAT_MS = 200;

/**
 * The PostgreSQL server the tests run against. Never skips: without DATABASE_URL the tests fail
 * with this message (CI's `.ci/run` starts a server and exports it).
 */
export function databaseUrl(): string {
  const url = process.env.DATABASE_URL;
  if (url === undefined || url === "") {
    throw new Error(
      "DATABASE_URL is not set: the @zrpc/middleware-db tests need a real PostgreSQL server. " +
        "`bash .ci/run` starts one; to run them by hand, start one (see packages/middleware-db/README.md, Testing) " +
        "and export DATABASE_URL=postgres://user@host:port/db",
    );
  }
  return url;
}

/** A unique `application_name` per pool, so pg_stat_activity can be filtered to one test's sessions. */
export function appName(label: string): string {
  return `zrpc-mwdb-${label}-${randomUUID().slice(0, 8)}`;
}

/** A unique table name. */
export function tableName(label: string): string {
  return `mwdb_${label}_${randomUUID().replaceAll("-", "").slice(0, 10)}`;
}

/** Polls `probe` (every 10 ms) until it returns a truthy value; fails after `timeoutMs`. */
export async function waitFor<T>(what: string, probe: () => T | Promise<T>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await delay(10);
  }
}

/** A promise with its resolve function, for "the handler got here" signals. */
export { deferred } from "@zrpc/test-support";

/** Resolves when the current call's signal aborts (lost client, shutdown): a handler "blocked". */
export function untilAborted(): Promise<void> {
  const signal = getCallContext()!.signal;
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
}

/** A logger that keeps every warning. */
export function collectingLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  return { warnings, warn: (message: string) => void warnings.push(message) };
}

/** A separate connection that watches and manipulates the server's sessions. */
export class Admin {
  readonly client: pg.Client;

  private constructor(client: pg.Client) {
    this.client = client;
  }

  static async connect(): Promise<Admin> {
    const client = new pg.Client({ connectionString: databaseUrl(), application_name: "zrpc-mwdb-admin" });
    client.on("error", (error) => {
      throw new Error("the admin connection failed", { cause: error });
    });
    await client.connect();
    return new Admin(client);
  }

  /** The sessions of one application_name. */
  async backends(app: string): Promise<{ pid: number; state: string | null; query: string }[]> {
    const { rows } = await this.client.query<{ pid: number; state: string | null; query: string }>(
      "SELECT pid, state, query FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND datname = current_database() AND application_name = $1",
      [app],
    );
    return rows;
  }

  /** Terminates every session of `app` (server side), returns how many were signalled. */
  async terminate(app: string): Promise<number> {
    // The function in the select list runs only for the rows the WHERE clause kept.
    const { rows } = await this.client.query<{ terminated: boolean }>(
      "SELECT pg_terminate_backend(pid) AS terminated FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND datname = current_database() AND application_name = $1",
      [app],
    );
    return rows.filter((row) => row.terminated).length;
  }

  /** Waits until `app` has no session left (event of the server: the backends exited). */
  async waitGone(app: string, timeoutMs = 10_000): Promise<void> {
    await waitFor(`the sessions of ${app} to end`, async () => (await this.backends(app)).length === 0, timeoutMs);
  }

  /** Waits until no session of `app` is "idle in transaction" or running a statement. */
  async waitQuiet(app: string): Promise<void> {
    await waitFor(`the sessions of ${app} to be idle`, async () => (await this.backends(app)).every((backend) => backend.state === "idle"));
  }

  async ids(table: string): Promise<number[]> {
    const { rows } = await this.client.query<{ id: number }>(`SELECT id FROM ${table} ORDER BY id`);
    return rows.map((row) => row.id);
  }

  async close(): Promise<void> {
    await this.client.end();
  }
}

/** A server with `middleware` and a client connected to it, over ZeroMQ on 127.0.0.1. */
export interface Harness {
  readonly server: Server;
  readonly client: Client;
  readonly endpoint: string;
  /** Another client on the same server. */
  connectClient(): Promise<Client>;
  close(): Promise<void>;
}

export async function serve(service: object, middleware: ServerMiddleware[], options: ServerOptions = {}): Promise<Harness> {
  const server = createServer(service, { heartbeatMs: HEARTBEAT_MS, logger: null, ...options, middleware });
  const [endpoint] = await server.bind("tcp://127.0.0.1:*");
  const clients: Client[] = [];
  const connectClient = async (): Promise<Client> => {
    const client = await connect(endpoint!, { heartbeatMs: HEARTBEAT_MS, timeoutMs: 15_000 });
    clients.push(client);
    return client;
  };
  const client = await connectClient();
  return {
    server,
    client,
    endpoint: endpoint!,
    connectClient,
    async close() {
      for (const each of clients) await each.close();
      await server.close(2_000);
    },
  };
}

/** Collects the resources of a test and closes them in reverse order. */
export { Resources } from "@zrpc/test-support";
