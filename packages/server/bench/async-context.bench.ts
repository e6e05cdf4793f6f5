// Rough cost of running each call inside AsyncLocalStorage (ServerOptions.asyncContext).
// Run: pnpm --filter @zrpc/server bench   (after building the dependencies)
import { createMemoryServer } from "@zrpc/channel/testing";
import type { TransportMessage } from "@zrpc/channel";
import { decodeEvent, encodeEvent, newMessageId } from "@zrpc/wire";
import { createRegistry, createServer } from "../src/index.js";

const CALLS = 20_000;
const CONCURRENCY = 100;

async function run(asyncContext: boolean): Promise<number> {
  const registry = createRegistry();
  registry.register(async function add(a: number, b: number) {
    await Promise.resolve();
    return a + b;
  });
  const network = createMemoryServer();
  const server = createServer(registry, { asyncContext, heartbeatMs: null, logger: null });
  server.serve(network.transport);
  const client = network.connect();
  let received = 0;
  let wake: (() => void) | undefined;
  const reader = (async () => {
    for await (const message of client as AsyncIterable<TransportMessage>) {
      decodeEvent(message.payload);
      received += 1;
      wake?.();
    }
  })();
  const send = (): void => client.send(undefined, encodeEvent({ header: { message_id: newMessageId(), v: 3 }, name: "add", args: [1, 2] }));
  const started = process.hrtime.bigint();
  let sent = 0;
  while (received < CALLS) {
    while (sent < CALLS && sent - received < CONCURRENCY) {
      send();
      sent += 1;
    }
    await new Promise<void>((resolve) => (wake = resolve));
  }
  const elapsed = Number(process.hrtime.bigint() - started) / 1e6;
  await server.close(0);
  await reader;
  return elapsed;
}

// Plain rounds first: once AsyncLocalStorage.run() has been used, Node 20 keeps its promise hooks
// enabled for the rest of the process, which would slow the plain rounds down too.
const results: Record<string, number[]> = { als: [], plain: [] };
await run(false); // warm-up
for (let round = 0; round < 5; round++) results.plain!.push(await run(false));
for (let round = 0; round < 5; round++) results.als!.push(await run(true));
const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const perCall = (ms: number): string => `${((ms * 1000) / CALLS).toFixed(2)} µs/call`;
process.stdout.write(
  `asyncContext: false ${perCall(median(results.plain!))}, true ${perCall(median(results.als!))} (median of 5 x ${CALLS} calls)\n`,
);
