// The DbAdapter interface on its own: a fake in-memory driver written against the documented
// interface, served over real ZeroMQ. Covers the policy paths that a real database makes hard to
// reach: unknown transaction state, failing health checks, a hanging ROLLBACK.
import { afterEach, describe, expect, it, vi } from "vitest";
import { createDbMiddleware, getDb } from "../src/index.js";
import type { DbAdapter, DbScope, TransactionStatus } from "../src/index.js";
import { Resources, collectingLogger, serve } from "./helpers.js";

interface FakeConnection {
  readonly id: number;
  status: TransactionStatus;
  broken: boolean;
  healthy: boolean;
  log: string[];
}

interface FakeHandle {
  exec(sql: string): Promise<number>;
}

function fakeAdapter(options: { rollbackHangs?: boolean; status?: "unknown" } = {}) {
  let nextId = 0;
  const idle: FakeConnection[] = [];
  const destroyed: FakeConnection[] = [];
  const released: FakeConnection[] = [];
  const apply = (connection: FakeConnection, sql: string): void => {
    connection.log.push(sql);
    if (options.status === "unknown") return;
    if (sql === "BEGIN") connection.status = "in-transaction";
    if (sql === "COMMIT" || sql === "ROLLBACK") connection.status = "idle";
  };
  const adapter: DbAdapter<FakeConnection, FakeHandle> = {
    name: "fake",
    acquire: () => Promise.resolve(idle.pop() ?? { id: ++nextId, status: options.status ?? "idle", broken: false, healthy: true, log: [] }),
    release(connection, destroy) {
      if (destroy) destroyed.push(connection);
      else {
        released.push(connection);
        idle.push(connection);
      }
    },
    isBroken: (connection) => connection.broken,
    validate: (connection) => Promise.resolve(connection.healthy),
    age: () => 0,
    begin: (connection) => Promise.resolve(apply(connection, "BEGIN")),
    commit: (connection) => Promise.resolve(apply(connection, "COMMIT")),
    rollback: (connection) => (options.rollbackHangs === true ? new Promise(() => undefined) : Promise.resolve(apply(connection, "ROLLBACK"))),
    transactionStatus: (connection) => connection.status,
    createHandle: (scope: DbScope<FakeConnection>) => ({
      async exec(sql: string): Promise<number> {
        const connection = await scope.connection();
        await scope.run(connection, () => Promise.resolve(apply(connection, sql)));
        return connection.id;
      },
    }),
    close: () => Promise.resolve(),
  };
  return { adapter, idle, destroyed, released };
}

describe("a custom DbAdapter", () => {
  const resources = new Resources();
  afterEach(() => resources.closeAll());

  it("rolls back silently when the driver cannot tell the transaction state", async () => {
    const { adapter, released } = fakeAdapter({ status: "unknown" });
    const logger = collectingLogger();
    const database = createDbMiddleware({ adapter, logger });
    const service = { use: () => getDb<FakeHandle>().exec("SELECT 1") };
    const { client } = resources.add(await serve(service, [database]));
    await expect(client.call("use")).resolves.toBe(1);
    await database.idle();
    expect(released[0]!.log).toEqual(["SELECT 1", "ROLLBACK"]);
    expect(logger.warnings).toEqual([]);
  });

  it("replaces a reused connection that fails its health check, and destroys one whose ROLLBACK hangs", async () => {
    const fake = fakeAdapter();
    const database = createDbMiddleware({ adapter: fake.adapter, healthChecks: true, logger: null });
    const service = { use: () => getDb<FakeHandle>().exec("SELECT 1") };
    const harness = resources.add(await serve(service, [database]));
    await expect(harness.client.call("use")).resolves.toBe(1);
    await database.idle();
    fake.idle[0]!.healthy = false;
    await expect(harness.client.call("use")).resolves.toBe(2);
    expect(fake.destroyed.map((connection) => connection.id)).toEqual([1]);
    expect(database.stats.discarded).toBe(1);

    const hanging = fakeAdapter({ rollbackHangs: true });
    const strict = createDbMiddleware({ adapter: hanging.adapter, cleanupTimeoutMs: 50, logger: null });
    const leaky = { leave: () => getDb<FakeHandle>().exec("BEGIN") };
    const second = resources.add(await serve(leaky, [strict]));
    await expect(second.client.call("leave")).resolves.toBe(1);
    await strict.idle();
    expect(hanging.destroyed.map((connection) => connection.id)).toEqual([1]);
    expect(strict.stats).toMatchObject({ leakedTransactions: 1, closed: 1, checkedOut: 0 });
  });

  it("getDb() finds the first database middleware of the call; db() each one's own", async () => {
    const first = createDbMiddleware({ adapter: fakeAdapter().adapter, logger: null });
    const second = createDbMiddleware({ adapter: fakeAdapter().adapter, logger: null, name: "other" });
    const service = {
      which: (): boolean[] => [getDb() === first.db(), getDb() === second.db(), first.db() === first.db()],
    };
    const harness = resources.add(await serve(service, [first, second]));
    await expect(harness.client.call("which")).resolves.toEqual([true, false, true]);
  });

  it("warns through a ZrpcDbWarning process warning by default", async () => {
    const emit = vi.spyOn(process, "emitWarning").mockImplementation(() => undefined);
    try {
      const database = createDbMiddleware({ adapter: fakeAdapter().adapter });
      const leaky = { leave: () => getDb<FakeHandle>().exec("BEGIN") };
      const { client } = resources.add(await serve(leaky, [database]));
      await expect(client.call("leave")).resolves.toBe(1);
      await database.idle();
      expect(emit.mock.calls).toEqual([['zrpc db: method "leave" left a transaction open when it returned; rolled it back', { type: "ZrpcDbWarning" }]]);
    } finally {
      emit.mockRestore();
    }
  });
});
