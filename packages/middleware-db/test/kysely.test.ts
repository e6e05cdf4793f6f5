// The kysely adapter against a real PostgreSQL: the handle is a Kysely<DB> on the call's
// connection, so atomic and nested transactions behave as with raw queries.
import pg from "pg";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { RemoteError } from "@zrpc/client";
import { createDbMiddleware } from "../src/index.js";
import { kyselyAdapter } from "../src/kysely.js";
import { pgAdapter } from "../src/pg.js";
import { Admin, Resources, appName, collectingLogger, databaseUrl, serve, tableName } from "./helpers.js";

let admin: Admin;
let table: string;
const resources = new Resources();

interface Database {
  [table: string]: { id: number; name: string };
}

// Without DATABASE_URL every test fails with databaseUrl()'s message (a failing beforeAll would
// only mark them skipped).
beforeEach(() => void databaseUrl());

beforeAll(async () => {
  if (process.env.DATABASE_URL === undefined || process.env.DATABASE_URL === "") return;
  admin = await Admin.connect();
  table = tableName("kysely");
  await admin.client.query(`CREATE TABLE ${table} (id int PRIMARY KEY, name text NOT NULL)`);
});

afterAll(async () => {
  await admin?.client.query(`DROP TABLE IF EXISTS ${table}`);
  await admin?.close();
});

afterEach(async () => {
  await resources.closeAll();
});

function setup(atomic: boolean) {
  const pool = new pg.Pool({ connectionString: databaseUrl(), application_name: appName("kysely"), max: 3 });
  resources.add({ close: () => pool.end() });
  const logger = collectingLogger();
  const database = createDbMiddleware({ adapter: kyselyAdapter<Database>(pgAdapter(pool)), atomic, logger });
  const service = {
    async add(id: number, name: string): Promise<{ id: number; name: string }> {
      const db = database.db();
      await db.insertInto(table).values({ id, name }).execute();
      return db.selectFrom(table).selectAll().where("id", "=", id).executeTakeFirstOrThrow();
    },
    async addThenFail(id: number): Promise<void> {
      await database.db().insertInto(table).values({ id, name: "doomed" }).execute();
      throw new Error("rolled back");
    },
    async addNested(id: number): Promise<void> {
      const db = database.db();
      await db.insertInto(table).values({ id, name: "outer" }).execute();
      await db
        .transaction()
        .execute(async (trx) => {
          await trx.insertInto(table).values({ id: id + 1, name: "inner" }).execute();
          throw new Error("inner fails");
        })
        .catch(() => undefined);
    },
  };
  return { pool, database, service, warnings: logger.warnings };
}

describe("kysely adapter", () => {
  it("runs a call's queries on its connection", async () => {
    const { database, service, pool, warnings } = setup(false);
    const { client } = resources.add(await serve(service, [database]));
    await expect(client.call("add", [1, "one"])).resolves.toEqual({ id: 1, name: "one" });
    await database.idle();
    expect(await admin.ids(table)).toContain(1);
    expect(pool.idleCount).toBe(pool.totalCount);
    expect(warnings).toEqual([]);
  });

  it("atomic: rolls back on error; a nested Kysely transaction is a savepoint", async () => {
    const { database, service } = setup(true);
    const { client } = resources.add(await serve(service, [database]));
    const error = (await client.call("addThenFail", [10]).catch((e: unknown) => e)) as RemoteError;
    expect(error.rawMessage).toBe("rolled back");
    await client.call("addNested", [20]);
    await database.idle();
    const ids = await admin.ids(table);
    expect(ids).not.toContain(10);
    expect(ids).toContain(20);
    expect(ids).not.toContain(21);
    expect(database.stats).toMatchObject({ commits: 1, rollbacks: 1 });
  });
});
