// A pool over two zerorpc servers. Run: node --import tsx examples/quick-start.ts
import { createServer } from "@zrpc/server";
import { createPool } from "@zrpc/pool";

// What the servers expose (for the typed proxy). Any zerorpc server works, Python ones too.
interface Tickets {
  get_ticket(): string;
  countdown(n: number): Generator<number>;
}

// Two stand-ins for Python worker processes, on ephemeral ports.
const servers = ["worker-1", "worker-2"].map((name) =>
  createServer(
    {
      get_ticket: () => `ticket from ${name}`,
      *countdown(n: number) {
        for (let i = n; i > 0; i--) yield i;
      },
    },
    { name },
  ),
);
const endpoints = await Promise.all(servers.map(async (server) => (await server.bind("tcp://127.0.0.1:*"))[0]!));

// At most 4 connections (so at most 4 calls at once), one DEALER per server connection.
const pool = createPool<Tickets>({ endpoints, max: 4, acquireTimeoutMs: 5_000, timeoutMs: 10_000 });

console.log(await pool.proxy.get_ticket()); // like the seed's pool.__getattr__
const tickets = await Promise.all(Array.from({ length: 20 }, () => pool.call("get_ticket")));
console.log([...new Set(tickets)].sort().join(", "));
for await (const n of pool.proxy.countdown(3)) console.log(n); // a stream keeps its connection until it ends
const both = await pool.withClient(async (client) => [await client.proxy.get_ticket(), await client.proxy.get_ticket()]);
console.log(both[0] === both[1] ? "withClient: one connection, one server" : "unexpected");

const { size, inUse, created, endpoints: perEndpoint } = pool.metrics();
console.log({ size, inUse, created, states: perEndpoint.map((e) => e.state) });

await pool.close();
await Promise.all(servers.map((server) => server.close()));
