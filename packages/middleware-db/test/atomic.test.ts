// `atomic: true` (Django's ATOMIC_REQUESTS) end to end against a real PostgreSQL: commit on ok,
// rollback on error, on a lost client (also after a client-side cancel) and on shutdown; a stream
// is one transaction. Rows are checked from a separate connection.
import pg from "pg";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { RemoteError } from "@zrpc/client";
import { createDbMiddleware, getDb } from "../src/index.js";
import type { DbMiddleware } from "../src/index.js";
import { pgAdapter } from "../src/pg.js";
import type { PgHandle } from "../src/pg.js";
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
  table = tableName("atomic");
  await admin.client.query(`CREATE TABLE ${table} (id int PRIMARY KEY)`);
});

afterAll(async () => {
  await admin?.client.query(`DROP TABLE IF EXISTS ${table}`);
  await admin?.close();
});

afterEach(async () => {
  await resources.closeAll();
});

interface Setup {
  database: DbMiddleware<PgHandle>;
  pool: pg.Pool;
  app: string;
  warnings: string[];
}

function setup(label: string, atomic: boolean | ((call: { method: string }) => boolean) = true): Setup {
  const app = appName(label);
  const pool = new pg.Pool({ connectionString: databaseUrl(), application_name: app, max: 5 });
  resources.add({ close: () => pool.end() });
  const logger = collectingLogger();
  const database = createDbMiddleware({ adapter: pgAdapter(pool), atomic, logger });
  return { database, pool, app, warnings: logger.warnings };
}

const insert = (id: number) => getDb<PgHandle>().query(`INSERT INTO ${table} (id) VALUES ($1)`, [id]);

describe("atomic", () => {
  it("commits when the handler returns and rolls back when it throws", async () => {
    const { database, pool, warnings } = setup("commit-rollback");
    const service = {
      async create(id: number): Promise<number> {
        await insert(id);
        await insert(id + 1);
        return id;
      },
      async createThenFail(id: number): Promise<never> {
        await insert(id);
        throw Object.assign(new Error("changed my mind"), { name: "ValueError" });
      },
      async duplicate(id: number): Promise<void> {
        await insert(id);
        await insert(id); // unique violation: the transaction is aborted
      },
    };
    const { client } = resources.add(await serve(service, [database]));

    await expect(client.call("create", [1])).resolves.toBe(1);
    expect(await admin.ids(table)).toEqual(expect.arrayContaining([1, 2]));

    const error = (await client.call("createThenFail", [10]).catch((e: unknown) => e)) as RemoteError;
    expect(error.remoteName).toBe("ValueError");
    const failedWithDuplicate = (await client.call("duplicate", [20]).catch((e: unknown) => e)) as RemoteError;
    expect(failedWithDuplicate.rawMessage).toMatch(/duplicate key/);
    await database.idle();
    const ids = await admin.ids(table);
    expect(ids).not.toContain(10);
    expect(ids).not.toContain(20);
    expect(database.stats).toMatchObject({ commits: 1, rollbacks: 2, leakedTransactions: 0 });
    expect(warnings).toEqual([]);
    expect(pool.idleCount).toBe(pool.totalCount);
  });

  it("answers ERR rather than OK when the handler swallowed an error that aborted the transaction", async () => {
    const { database } = setup("aborted");
    const service = {
      async swallow(id: number): Promise<string> {
        await insert(id);
        await getDb<PgHandle>().query("SELECT 1/0").catch(() => undefined);
        return "looks fine";
      },
    };
    const { client } = resources.add(await serve(service, [database]));
    const error = (await client.call("swallow", [30]).catch((e: unknown) => e)) as RemoteError;
    expect(error.remoteName).toBe("DbMiddlewareError");
    expect(error.rawMessage).toMatch(/aborted by an earlier error/);
    expect(await admin.ids(table)).not.toContain(30);
  });

  it("rolls back when the client is lost, or cancels, while the handler is inside the transaction", async () => {
    const { database, pool, app, warnings } = setup("lost");
    let entered = deferred();
    const service = {
      async createAndWait(id: number): Promise<void> {
        await insert(id);
        entered.resolve();
        await untilAborted();
      },
    };
    const harness = resources.add(await serve(service, [database]));

    // The client goes away.
    const gone = await harness.connectClient();
    const lost = gone.call("createAndWait", [40]).catch((e: unknown) => e);
    await entered.promise;
    expect((await admin.backends(app)).map((backend) => backend.state)).toEqual(["idle in transaction"]);
    await gone.close();
    await lost;
    await database.idle();

    // The client cancels the call (nothing is sent: the server notices the missing heartbeats).
    entered = deferred();
    const controller = new AbortController();
    const cancelled = harness.client.call("createAndWait", [41], { signal: controller.signal }).catch((e: unknown) => (e as Error).name);
    await entered.promise;
    controller.abort();
    await expect(cancelled).resolves.toBe("CanceledError");
    await waitFor("the server to give up on the canceled call", () => database.stats.rollbacks === 2);
    await database.idle();

    await admin.waitQuiet(app);
    const ids = await admin.ids(table);
    expect(ids).not.toContain(40);
    expect(ids).not.toContain(41);
    expect(pool.idleCount).toBe(pool.totalCount);
    expect(warnings).toEqual([]); // the atomic transaction is the middleware's own: no leak
  });

  it("rolls back the calls cut off by a server shutdown", async () => {
    const { database, app } = setup("shutdown");
    const entered = deferred();
    const service = {
      async createAndWait(id: number): Promise<void> {
        await insert(id);
        entered.resolve();
        await new Promise(() => undefined); // never returns
      },
    };
    const harness = await serve(service, [database]);
    const pending = harness.client.call("createAndWait", [50]).catch((e: unknown) => e);
    await entered.promise;
    await harness.server.close(0); // gives up on the call at once: outcome "shutdown"
    await database.idle();
    await harness.client.close();
    await pending;
    expect(database.stats.rollbacks).toBe(1);
    await admin.waitQuiet(app);
    expect(await admin.ids(table)).not.toContain(50);
  });

  it("spans a whole stream: committed after the last item, rolled back when the client walks away", async () => {
    const { database, app } = setup("stream");
    let gate = deferred();
    const service = {
      async *fill(from: number, count: number): AsyncGenerator<number> {
        for (let id = from; id < from + count; id++) {
          await insert(id);
          yield id;
          if (id === from) await gate.promise;
        }
      },
    };
    const { client } = resources.add(await serve(service, [database]));

    const all: number[] = [];
    for await (const id of client.stream<number>("fill", [100, 5])) {
      all.push(id);
      if (id === 100) {
        // The stream is under way: nothing is visible to other sessions yet.
        expect(await admin.ids(table)).not.toContain(100);
        gate.resolve();
      }
    }
    expect(all).toEqual([100, 101, 102, 103, 104]);
    await database.idle();
    expect(await admin.ids(table)).toEqual(expect.arrayContaining(all));

    gate = deferred();
    gate.resolve();
    // Leave after 3 of 1000 items: the server notices the lost client and rolls everything back.
    let seen = 0;
    for await (const id of client.stream<number>("fill", [200, 1000])) {
      expect(id).toBe(200 + seen);
      if (++seen === 3) break;
    }
    await waitFor("the abandoned stream to be rolled back", () => database.stats.rollbacks === 1);
    await database.idle();
    await admin.waitQuiet(app);
    expect((await admin.ids(table)).filter((id) => id >= 200 && id < 1200)).toEqual([]);
    expect(database.stats.commits).toBe(1);
  });

  it("turns nested transaction() blocks into savepoints, and can be chosen per call", async () => {
    const { database } = setup("nested", (call) => call.method !== "notAtomic");
    const service = {
      async nested(id: number): Promise<void> {
        const db = getDb<PgHandle>();
        await insert(id);
        await db
          .transaction(async (inner) => {
            await inner.query(`INSERT INTO ${table} (id) VALUES ($1)`, [id + 1]);
            throw new Error("inner block fails");
          })
          .catch(() => undefined);
        await db.transaction(async (inner) => {
          await inner.query(`INSERT INTO ${table} (id) VALUES ($1)`, [id + 2]);
        });
      },
      async notAtomic(id: number): Promise<void> {
        await insert(id);
        throw new Error("too late: autocommit");
      },
    };
    const { client } = resources.add(await serve(service, [database]));
    await client.call("nested", [300]);
    await client.call("notAtomic", [310]).catch(() => undefined);
    await database.idle();
    const ids = await admin.ids(table);
    expect(ids).toEqual(expect.arrayContaining([300, 302, 310]));
    expect(ids).not.toContain(301);
    expect(database.stats.commits).toBe(1);
  });
});
