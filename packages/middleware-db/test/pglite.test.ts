// The basic cases on PGlite, the embedded default: one in-process PostgreSQL session shared by
// every call (one PGlite per file: it takes seconds to start), through a real zrpc server and
// client over ZeroMQ.
import { PGlite } from "@electric-sql/pglite";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { RemoteError } from "@zrpc/client";
import { createDbMiddleware, getDb } from "../src/index.js";
import { pgliteAdapter } from "../src/pglite.js";
import type { PgHandle, PgliteAdapter } from "../src/pglite.js";
import { Resources, collectingLogger, deferred, serve, untilAborted } from "./helpers.js";

let lite: PGlite;
let adapter: PgliteAdapter;
const resources = new Resources();

beforeAll(async () => {
  lite = await PGlite.create();
  await lite.exec("CREATE TABLE items (id int PRIMARY KEY, name text)");
  // Shared by every test: a PGlite database takes one adapter (one pool over its one session).
  adapter = pgliteAdapter(lite);
});

afterAll(async () => {
  await adapter?.close(); // ends the pool; the database is ours (passed in), so close it too
  await lite?.close();
});

afterEach(async () => {
  await resources.closeAll();
});

async function ids(): Promise<number[]> {
  const { rows } = await lite.query<{ id: number }>("SELECT id FROM items ORDER BY id");
  return rows.map((row) => row.id);
}

const insert = (id: number, name = "x") => getDb<PgHandle>().query("INSERT INTO items (id, name) VALUES ($1, $2)", [id, name]);

describe("PGlite", () => {
  it("serves queries through the same PgHandle as node-postgres (maxAge: 0 keeps the one session)", async () => {
    const database = createDbMiddleware({ adapter, maxAge: 0, logger: collectingLogger() });
    const service = {
      async add(id: number, name: string): Promise<string> {
        await insert(id, name);
        const { rows } = await getDb<PgHandle>().query<{ name: string }>("SELECT name FROM items WHERE id = $1", [id]);
        return rows[0]!.name;
      },
    };
    const { client } = resources.add(await serve(service, [database]));
    await expect(client.call("add", [1, "one"])).resolves.toBe("one");
    await expect(client.call("add", [2, "two"])).resolves.toBe("two");
    await database.idle();
    expect(await ids()).toEqual(expect.arrayContaining([1, 2]));
    expect(adapter.pool.idleCount).toBe(1);
  });

  it("rolls back a transaction a handler left open, with a warning naming the method", async () => {
    const logger = collectingLogger();
    const database = createDbMiddleware({ adapter, logger });
    const service = {
      async forget(id: number): Promise<void> {
        const db = getDb<PgHandle>();
        const client = await db.connect(); // one session: the call's own connection
        await client.query("BEGIN");
        await insert(id);
        client.release();
      },
      async inTransaction(): Promise<boolean> {
        return (await getDb<PgHandle>().client()).getTransactionStatus() !== "I";
      },
    };
    const { client } = resources.add(await serve(service, [database]));
    await client.call("forget", [10]);
    await expect(client.call("inTransaction")).resolves.toBe(false);
    await database.idle();
    expect(await ids()).not.toContain(10);
    expect(lite.isInTransaction()).toBe(false);
    expect(logger.warnings).toEqual([expect.stringContaining('method "forget" left a transaction open')]);
  });

  it("atomic: commits on ok, rolls back on error", async () => {
    const database = createDbMiddleware({ adapter, atomic: true, logger: collectingLogger() });
    const service = {
      async create(id: number): Promise<void> {
        await insert(id);
      },
      async createThenFail(id: number): Promise<void> {
        await insert(id);
        throw new Error("no");
      },
    };
    const { client } = resources.add(await serve(service, [database]));
    await client.call("create", [20]);
    const error = (await client.call("createThenFail", [21]).catch((e: unknown) => e)) as RemoteError;
    expect(error.rawMessage).toBe("no");
    await database.idle();
    const all = await ids();
    expect(all).toContain(20);
    expect(all).not.toContain(21);
    expect(database.stats).toMatchObject({ commits: 1, rollbacks: 1 });
  });

  it("gives the one session back when the client is lost mid-transaction", async () => {
    const database = createDbMiddleware({ adapter, atomic: true, logger: collectingLogger() });
    const entered = deferred();
    const service = {
      async createAndWait(id: number): Promise<void> {
        await insert(id);
        entered.resolve();
        await untilAborted();
      },
      async count(): Promise<number> {
        const { rows } = await getDb<PgHandle>().query<{ n: number }>("SELECT count(*)::int AS n FROM items WHERE id = 30");
        return rows[0]!.n;
      },
    };
    const harness = resources.add(await serve(service, [database]));
    const gone = await harness.connectClient();
    const pending = gone.call("createAndWait", [30]).catch((e: unknown) => e);
    await entered.promise;
    await gone.close();
    await pending;
    // The next call gets the session (a pool of one): the lost call's transaction is gone.
    await expect(harness.client.call("count")).resolves.toBe(0);
    await database.idle();
    expect(lite.isInTransaction()).toBe(false);
    expect(database.stats.rollbacks).toBe(1);
  });
});
