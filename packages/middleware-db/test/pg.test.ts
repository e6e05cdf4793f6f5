// End to end with node-postgres against a real PostgreSQL (DATABASE_URL), through a real zrpc
// server and client over ZeroMQ: broken sessions, leaks, lost clients and maxAge.
import pg from "pg";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createDbMiddleware, DbMiddlewareError } from "../src/index.js";
import type { DbMiddlewareOptions } from "../src/index.js";
import { pgAdapter } from "../src/pg.js";
import type { PgHandle } from "../src/pg.js";
import type { PoolClient } from "pg";
import { Admin, Resources, appName, collectingLogger, databaseUrl, deferred, serve, tableName, untilAborted, waitFor } from "./helpers.js";

let admin: Admin;
let table: string;
const resources = new Resources();

// Without DATABASE_URL every test fails with databaseUrl()'s message (a failing beforeAll would
// only mark them skipped).
beforeEach(() => void databaseUrl());

beforeAll(async () => {
  if (process.env.DATABASE_URL === undefined || process.env.DATABASE_URL === "") return;
  admin = await Admin.connect();
  table = tableName("pg");
  await admin.client.query(`CREATE TABLE ${table} (id int PRIMARY KEY)`);
});

afterAll(async () => {
  await admin?.client.query(`DROP TABLE IF EXISTS ${table}`);
  await admin?.close();
});

afterEach(async () => {
  await resources.closeAll();
});

/** A pool with its own application_name, closed after the test. */
function newPool(label: string, config: pg.PoolConfig = {}): { pool: pg.Pool; app: string } {
  const app = appName(label);
  const pool = new pg.Pool({ connectionString: databaseUrl(), application_name: app, max: 5, ...config });
  resources.add({ close: () => pool.end() });
  return { pool, app };
}

function middleware(pool: pg.Pool, options: Omit<DbMiddlewareOptions<PoolClient, PgHandle>, "adapter"> = {}, clock?: { now(): number }) {
  return createDbMiddleware({ adapter: pgAdapter(pool, clock === undefined ? {} : { clock }), logger: collectingLogger(), ...options });
}

describe("broken sessions between calls", () => {
  it("survives every backend being terminated server-side between two calls", async () => {
    const { pool, app } = newPool("terminate");
    const database = middleware(pool);
    const service = {
      async pid(): Promise<number> {
        const { rows } = await database.db().query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
        return rows[0]!.pid;
      },
      async slowPid(): Promise<number> {
        const { rows } = await database.db().query<{ pid: number }>("SELECT pg_backend_pid() AS pid, pg_sleep(0.05)");
        return rows[0]!.pid;
      },
    };
    const { client } = resources.add(await serve(service, [database]));

    // Three sessions in the pool (three calls at once), then all of them killed by the server.
    const before = await Promise.all([client.call<number>("slowPid"), client.call<number>("slowPid"), client.call<number>("slowPid")]);
    expect(new Set(before).size).toBe(3);
    await waitFor("the pool to hold 3 idle clients", () => pool.idleCount === 3);
    expect(await admin.terminate(app)).toBe(3);
    await admin.waitGone(app);

    const after = await client.call<number>("pid");
    expect(before).not.toContain(after);
    await expect(Promise.all([client.call("slowPid"), client.call("slowPid")])).resolves.toHaveLength(2);
    expect(pool.totalCount).toBeLessThanOrEqual(5);
  });

  it("with healthChecks, a call right after the termination (before the pool noticed) still succeeds", async () => {
    const { pool, app } = newPool("terminate-hc");
    const database = middleware(pool, { healthChecks: true });
    const service = {
      async pid(): Promise<number> {
        const { rows } = await database.db().query<{ pid: number }>("SELECT pg_backend_pid() AS pid, pg_sleep(0.05)");
        return rows[0]!.pid;
      },
    };
    const { client } = resources.add(await serve(service, [database]));
    const before = await Promise.all([client.call<number>("pid"), client.call<number>("pid")]);
    await waitFor("the pool to hold 2 idle clients", () => pool.idleCount === 2);

    expect(await admin.terminate(app)).toBe(2);
    // No waiting: whether the driver has seen the FATAL yet or not, the call gets a live session.
    const after = await client.call<number>("pid");
    expect(before).not.toContain(after);
  });

  it("survives idle_session_timeout closing the pooled session between calls", async () => {
    const { pool, app } = newPool("idle-timeout", { options: "-c idle_session_timeout=200" });
    const database = middleware(pool);
    const service = {
      async pid(): Promise<number> {
        const { rows } = await database.db().query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
        return rows[0]!.pid;
      },
    };
    const { client } = resources.add(await serve(service, [database]));
    const first = await client.call<number>("pid");
    expect((await admin.backends(app)).map((backend) => backend.pid)).toEqual([first]);

    await admin.waitGone(app); // the server closed the idle session after 200 ms
    const second = await client.call<number>("pid");
    expect(second).not.toBe(first);
    expect(database.stats.checkouts).toBeGreaterThanOrEqual(2);
  });
});

describe("leaks", () => {
  it("1,000 calls that leak a client or leave a transaction open do not exhaust a pool of 5", async () => {
    const { pool, app } = newPool("leaks", { max: 5 });
    const logger = collectingLogger();
    const database = createDbMiddleware({ adapter: pgAdapter(pool), logger });
    let maxTotal = 0;
    const service = {
      async leakClient(i: number): Promise<number> {
        const client = await database.db().connect(); // never released
        await client.query("BEGIN");
        await client.query("SELECT $1::int AS i", [i]);
        maxTotal = Math.max(maxTotal, pool.totalCount);
        return i;
      },
      async leakTransaction(i: number): Promise<number> {
        await database.db().query("BEGIN"); // never committed
        await database.db().query("SELECT $1::int AS i", [i]);
        maxTotal = Math.max(maxTotal, pool.totalCount);
        return i;
      },
      async count(): Promise<number> {
        const { rows } = await database.db().query<{ n: string }>("SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = $1", [app]);
        return Number(rows[0]!.n);
      },
    };
    const { client } = resources.add(await serve(service, [database]));

    const total = 1_000;
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < total) {
        const i = next++;
        const result = await client.call<number>(i % 2 === 0 ? "leakClient" : "leakTransaction", [i]);
        expect(result).toBe(i);
      }
    };
    await Promise.all(Array.from({ length: 10 }, worker));
    await database.idle();

    expect(maxTotal).toBeLessThanOrEqual(5);
    expect(pool.totalCount).toBeLessThanOrEqual(5);
    expect(pool.waitingCount).toBe(0);
    expect(pool.idleCount).toBe(pool.totalCount);
    await expect(client.call("count")).resolves.toBeLessThanOrEqual(5);
    await admin.waitQuiet(app); // nobody "idle in transaction"

    const stats = database.stats;
    expect(stats.leakedConnections).toBe(500);
    expect(stats.leakedTransactions).toBe(1_000); // 500 on the leaked clients, 500 on the calls' own connections
    expect(stats.checkedOut).toBe(0);
    const leakedClients = logger.warnings.filter((message) => message.includes('method "leakClient" left a connection checked out'));
    const clientTransactions = logger.warnings.filter((message) => message.includes('method "leakClient" left a transaction open'));
    const callTransactions = logger.warnings.filter((message) => message.includes('method "leakTransaction" left a transaction open'));
    expect([leakedClients.length, clientTransactions.length, callTransactions.length]).toEqual([500, 500, 500]);
    expect(logger.warnings).toHaveLength(1_500);
  });

  it("rolls back a transaction on a client the handler released (and warns), and refuses a double release", async () => {
    const { pool } = newPool("release-in-tx");
    const logger = collectingLogger();
    const database = createDbMiddleware({ adapter: pgAdapter(pool), logger });
    const service = {
      async releaseInTransaction(): Promise<string> {
        const client = await database.db().connect();
        await client.query("BEGIN");
        client.release();
        try {
          client.release();
          return "released twice";
        } catch (error) {
          return (error as DbMiddlewareError).code;
        }
      },
    };
    const { client } = resources.add(await serve(service, [database]));
    await expect(client.call("releaseInTransaction")).resolves.toBe("released");
    await database.idle();
    expect(logger.warnings).toEqual([expect.stringContaining('method "releaseInTransaction" left a transaction open')]);
    expect(database.stats.leakedConnections).toBe(0);
    expect(pool.idleCount).toBe(pool.totalCount);
  });
});

describe("a client that disappears mid-call", () => {
  it("releases the connection and rolls back the transaction of a handler blocked awaiting", async () => {
    const { pool, app } = newPool("lost-await");
    const logger = collectingLogger();
    const database = createDbMiddleware({ adapter: pgAdapter(pool), logger });
    const entered = deferred();
    const late: unknown[] = [];
    const service = {
      async hold(id: number): Promise<void> {
        const db = database.db();
        await db.query("BEGIN");
        await db.query(`INSERT INTO ${table} (id) VALUES ($1)`, [id]);
        entered.resolve();
        await untilAborted();
        await db.query("SELECT 1").catch((error: unknown) => late.push(error));
      },
      async ping(): Promise<number> {
        const { rows } = await database.db().query<{ one: number }>("SELECT 1 AS one");
        return rows[0]!.one;
      },
    };
    const harness = resources.add(await serve(service, [database]));
    const gone = await harness.connectClient();
    const pending = gone.call("hold", [101]).catch((error: unknown) => error);
    await entered.promise;
    expect((await admin.backends(app)).map((backend) => backend.state)).toEqual(["idle in transaction"]);

    await gone.close(); // no more heartbeats: the server declares the client lost after ~2 intervals
    await pending;
    await database.idle();
    await waitFor("the handler to try the database again", () => late.length === 1);

    expect(pool.waitingCount).toBe(0);
    expect(pool.idleCount).toBe(pool.totalCount);
    await admin.waitQuiet(app);
    expect((await admin.backends(app)).every((backend) => backend.state === "idle")).toBe(true);
    expect(await admin.ids(table)).not.toContain(101);
    expect(DbMiddlewareError.isInstance(late[0]) && late[0].code).toBe("call-ended");
    expect(logger.warnings).toEqual([expect.stringMatching(/method "hold" left a transaction open when the call was abandoned \(lost-remote\)/)]);
    // The server still serves, on the same pool.
    await expect(harness.client.call("ping")).resolves.toBe(1);
  });

  it("terminates the backend of a statement still running when the client is lost", async () => {
    const { pool, app } = newPool("lost-statement");
    const database = middleware(pool);
    const entered = deferred();
    const service = {
      async sleepy(id: number): Promise<void> {
        const db = database.db();
        await db.query("BEGIN");
        await db.query(`INSERT INTO ${table} (id) VALUES ($1)`, [id]);
        entered.resolve();
        await db.query("SELECT pg_sleep(30)");
      },
    };
    const harness = resources.add(await serve(service, [database]));
    const gone = await harness.connectClient();
    const pending = gone.call("sleepy", [201]).catch((error: unknown) => error);
    await entered.promise;
    await waitFor("the statement to run", async () => (await admin.backends(app)).some((backend) => backend.state === "active"));

    await gone.close();
    await pending;
    await database.idle();
    await admin.waitGone(app); // pg_terminate_backend: not 30 s later
    expect(database.stats.terminated).toBe(1);
    expect(database.stats.closed).toBe(1);
    expect(pool.totalCount).toBe(0);
    expect(await admin.ids(table)).not.toContain(201);
  });
});

describe("maxAge", () => {
  const pidService = (database: ReturnType<typeof middleware>) => ({
    async pid(): Promise<number> {
      const { rows } = await database.db().query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
      return rows[0]!.pid;
    },
  });

  it("maxAge: 0 closes the connection after every call", async () => {
    const { pool, app } = newPool("max-age-0");
    const database = middleware(pool, { maxAge: 0 });
    const { client } = resources.add(await serve(pidService(database), [database]));
    const pids = [await client.call<number>("pid"), await client.call<number>("pid"), await client.call<number>("pid")];
    await database.idle();
    expect(new Set(pids).size).toBe(3);
    expect(database.stats.closed).toBe(3);
    await admin.waitGone(app);
    expect(pool.totalCount).toBe(0);
  });

  it("maxAge: null keeps the same backend across calls", async () => {
    const { pool } = newPool("max-age-null");
    const database = middleware(pool, { maxAge: null });
    const { client } = resources.add(await serve(pidService(database), [database]));
    const pids = [await client.call<number>("pid"), await client.call<number>("pid"), await client.call<number>("pid")];
    expect(new Set(pids).size).toBe(1);
    expect(database.stats.closed + database.stats.discarded).toBe(0);
  });

  it("maxAge: N recycles a connection once it is N ms old (fake clock)", async () => {
    const { pool } = newPool("max-age-n");
    let now = 1_000_000;
    const database = middleware(pool, { maxAge: 1_000 }, { now: () => now });
    const service = {
      ...pidService(database),
      async pidThenWait(ms: number): Promise<number> {
        const pid = await service.pid();
        now += ms;
        return pid;
      },
    };
    const { client } = resources.add(await serve(service, [database]));
    const first = await client.call<number>("pid");
    now += 500;
    expect(await client.call<number>("pid")).toBe(first); // 500 ms old: reused
    now += 400;
    expect(await client.call<number>("pid")).toBe(first); // 900 ms old: reused
    await database.idle();
    now += 200; // 1100 ms old while idle in the pool: discarded when checked out
    const second = await client.call<number>("pid");
    expect(second).not.toBe(first);
    expect(database.stats.discarded).toBe(1);
    expect(database.stats.closed).toBe(0);
    // Old enough by the time the call gives it back: closed instead of pooled.
    expect(await client.call<number>("pidThenWait", [1_500])).toBe(second);
    await database.idle();
    expect(database.stats.closed).toBe(1);
    expect(await client.call<number>("pid")).not.toBe(second);
    expect(database.stats.discarded).toBe(1);
  });
});

describe("handles", () => {
  it("db() outside a call, or without the middleware, throws a DbMiddlewareError", async () => {
    const { pool } = newPool("misuse");
    const database = middleware(pool);
    expect(() => database.db()).toThrow(expect.objectContaining({ code: "no-call" }));
    const service = {
      use(): string {
        try {
          database.db();
          return "no error";
        } catch (error) {
          return (error as DbMiddlewareError).code;
        }
      },
    };
    const { client } = resources.add(await serve(service, []));
    await expect(client.call("use")).resolves.toBe("not-installed");
  });
});
