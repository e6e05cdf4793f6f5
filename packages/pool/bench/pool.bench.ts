// Per-call overhead of the pool against a bare client, over real ZeroMQ sockets to one in-process
// zrpc server. Run: pnpm --filter @zrpc/pool bench   (after building the dependencies)
//
// Rows: sequential calls (one at a time), and 100 calls in flight. A bare client multiplexes the
// 100 calls over one connection; the pool gives each call a connection of its own (max 100), or
// makes them queue for 10 connections (max 10). The last rows take I/O out: an instant fake
// client, so the difference is the pool's own cost per call.
import { cpus, loadavg } from "node:os";
import { connect } from "@zrpc/client";
import type { Client } from "@zrpc/client";
import { createServer } from "@zrpc/server";
import { createPool } from "../src/index.js";
import type { Pool } from "../src/index.js";

const SEQUENTIAL_CALLS = Number(process.env.BENCH_SEQUENTIAL ?? 5_000);
const CONCURRENT_CALLS = Number(process.env.BENCH_CONCURRENT ?? 20_000);
const IN_FLIGHT = 100;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const BOOKKEEPING_CALLS = 200_000;

type Caller = (a: number, b: number) => Promise<unknown>;

async function sequential(call: Caller, n: number): Promise<number> {
  const started = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await call(i, 1);
  return Number(process.hrtime.bigint() - started) / 1e3 / n;
}

async function inFlight(call: Caller, n: number, width: number): Promise<number> {
  const started = process.hrtime.bigint();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n) {
      const i = next++;
      await call(i, 1);
    }
  };
  await Promise.all(Array.from({ length: width }, worker));
  return Number(process.hrtime.bigint() - started) / 1e3 / n;
}

/**
 * Runs every measurement once per round, interleaved (so that a busy moment of the machine hits
 * all of them alike), and keeps the best of `ROUNDS` for each.
 */
async function bestOf(runs: Record<string, () => Promise<number>>): Promise<Record<string, number>> {
  const best: Record<string, number> = {};
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, run] of Object.entries(runs)) best[name] = Math.min(best[name] ?? Infinity, await run());
  }
  return best;
}

/** A client that answers at once, without I/O: what is left is the pool's own bookkeeping. */
function instantClient(): Client {
  const client = {
    call: (_method: string, args: readonly number[]) => Promise.resolve(args[0]! + args[1]!),
    close: () => Promise.resolve(),
    isClosed: false,
    closed: Promise.resolve(undefined),
  };
  return client as unknown as Client;
}

function format(us: number): string {
  return us >= 100 ? us.toFixed(0) : us >= 1 ? us.toFixed(1) : us.toFixed(2);
}

async function main(): Promise<void> {
  // First, before any socket or server exists: the pool's own cost, without I/O.
  const fake = instantClient();
  const fakePool = createPool({ endpoints: "fake://instant", max: 10, connect: () => Promise.resolve(fake) });
  const bookkeepingRuns = await bestOf({
    bare: () => sequential((a, b) => fake.call("add", [a, b]), BOOKKEEPING_CALLS),
    pool: () => sequential((a, b) => fakePool.call("add", [a, b]), BOOKKEEPING_CALLS),
  });
  await fakePool.close();
  const server = createServer(
    {
      add(a: number, b: number): number {
        return a + b;
      },
    },
    { logger: null },
  );
  const [endpoint] = await server.bind("tcp://127.0.0.1:*");
  const client: Client = await connect(endpoint!);
  const pool10: Pool = createPool({ endpoints: endpoint!, max: 10 });
  const pool100: Pool = createPool({ endpoints: endpoint!, max: 100 });

  const bare: Caller = (a, b) => client.call("add", [a, b]);
  const pooled10: Caller = (a, b) => pool10.call("add", [a, b]);
  const pooled100: Caller = (a, b) => pool100.call("add", [a, b]);
  const proxied: Caller = (a, b) => pool10.proxy.add!(a, b);

  // Warm up: JIT, and let the pools open their connections.
  await inFlight(bare, 2_000, IN_FLIGHT);
  await inFlight(pooled10, 2_000, IN_FLIGHT);
  await inFlight(pooled100, 2_000, IN_FLIGHT);

  const sequentialRuns = await bestOf({
    bare: () => sequential(bare, SEQUENTIAL_CALLS),
    pool: () => sequential(pooled10, SEQUENTIAL_CALLS),
    proxy: () => sequential(proxied, SEQUENTIAL_CALLS),
  });
  const concurrentRuns = await bestOf({
    bare: () => inFlight(bare, CONCURRENT_CALLS, IN_FLIGHT),
    pool100: () => inFlight(pooled100, CONCURRENT_CALLS, IN_FLIGHT),
    pool10: () => inFlight(pooled10, CONCURRENT_CALLS, IN_FLIGHT),
  });

  const rows: [string, string, number, number][] = [
    ["sequential", "bare client", sequentialRuns.bare!, sequentialRuns.bare!],
    ["sequential", "pool.call (max 10)", sequentialRuns.pool!, sequentialRuns.bare!],
    ["sequential", "pool.proxy.add (max 10)", sequentialRuns.proxy!, sequentialRuns.bare!],
    [`${IN_FLIGHT} in flight`, "bare client (1 connection, 100 channels)", concurrentRuns.bare!, concurrentRuns.bare!],
    [`${IN_FLIGHT} in flight`, "pool.call (max 100: a connection per call)", concurrentRuns.pool100!, concurrentRuns.bare!],
    [`${IN_FLIGHT} in flight`, "pool.call (max 10: 10 at once, 90 waiting)", concurrentRuns.pool10!, concurrentRuns.bare!],
    ["no I/O (instant fake client)", "client.call", bookkeepingRuns.bare!, bookkeepingRuns.bare!],
    ["no I/O (instant fake client)", "pool.call: acquire + call + release", bookkeepingRuns.pool!, bookkeepingRuns.bare!],
  ];

  const lines = [
    `Node ${process.version}, ${cpus().length} CPUs (load ${loadavg()[0]!.toFixed(1)}), add(a, b) over ZeroMQ on 127.0.0.1: ` +
      `${SEQUENTIAL_CALLS} sequential / ${CONCURRENT_CALLS} concurrent calls, best of ${ROUNDS} interleaved rounds`,
    "",
    "| load | caller | µs per call | vs bare client |",
    "| --- | --- | ---: | ---: |",
    ...rows.map(([load, caller, us, base]) => {
      // Against an instant fake a ratio means nothing: show what the pool adds, in µs.
      const versus = load.startsWith("no I/O") && us !== base ? `+${format(us - base)} µs` : `${(us / base).toFixed(2)}×`;
      return `| ${load} | ${caller} | ${format(us)} | ${versus} |`;
    }),
  ];
  process.stdout.write(`${lines.join("\n")}\n`);

  await Promise.all([pool10.close(), pool100.close(), client.close()]);
  await server.close(0);
}

await main();
