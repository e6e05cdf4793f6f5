// zerorpc-node's client against a TestService server: runs the checks of node-checks.ts and
// prints one JSON object per line on stdout (see README "Child processes"). Run with
//   node --import tsx src/node-client.ts ENDPOINT [--only TEXT] [--concurrency N] [--heartbeat MS]
// Exit code 0 when every check ran (passed or failed: judging is the test's job), 2 on bad usage,
// 70 when the process itself crashed.
import { parseArgs } from "node:util";
import type { Client, ClientOptions } from "zerorpc";
import { CheckFailure } from "@zrpc/conformance";
import { createNodeChecks } from "./node-checks.js";
import type { NodeCheck, NodeCheckContext } from "./node-checks.js";
import { peer } from "./peer.js";
import { installWireSpy } from "./wire-spy.js";

/** One line of this process's output. */
export type NodeClientLine =
  | { type: "start"; zerorpc: string; msgpackLite: string; checks: number }
  | { type: "progress"; check: string; items: number }
  | { type: "result"; check: string; passed: boolean; reason?: string; ms: number }
  | { type: "done"; passed: number; failed: number }
  | { type: "crash"; error: string };

const DEFAULT_TIMEOUT_MS = 30_000;

function print(line: NodeClientLine): void {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

function describe(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

/** Runs one check with its own clients and time budget, prints its result, resolves with it. */
async function runOne(check: NodeCheck, endpoint: string, heartbeatMs: number): Promise<boolean> {
  const started = Date.now();
  const clients: Client[] = [];
  const errors: string[] = [];
  const ctx: NodeCheckContext = {
    endpoint,
    heartbeatMs,
    client(options: ClientOptions = {}) {
      const client = new (peer().zerorpc.Client)({ timeout: 30, heartbeatInterval: heartbeatMs, ...options });
      client.on("error", (error: unknown) => errors.push(describe(error)));
      client.connect(endpoint);
      clients.push(client);
      return client;
    },
    progress(items) {
      print({ type: "progress", check: check.name, items });
    },
  };
  let timer: NodeJS.Timeout | undefined;
  let reason: string | undefined;
  try {
    const budget = check.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new CheckFailure(`did not finish within ${budget / 1000} s`)), budget);
    });
    await Promise.race([check.run(ctx), expired]);
    if (errors.length > 0) reason = `the zerorpc-node client emitted "error": ${errors.join("; ")}`;
  } catch (error) {
    reason = error instanceof CheckFailure ? error.message : `unexpected ${describe(error)}`;
  } finally {
    clearTimeout(timer);
    for (const client of clients) if (!client.closed()) client.close();
  }
  const ms = Date.now() - started;
  print(reason === undefined ? { type: "result", check: check.name, passed: true, ms } : { type: "result", check: check.name, passed: false, reason, ms });
  return reason === undefined;
}

/** Runs `checks`, `concurrency` at a time; resolves with how many passed. */
async function runBatch(checks: readonly NodeCheck[], concurrency: number, endpoint: string, heartbeatMs: number): Promise<number> {
  let next = 0;
  let passed = 0;
  const worker = async (): Promise<void> => {
    while (next < checks.length) {
      if (await runOne(checks[next++]!, endpoint, heartbeatMs)) passed += 1;
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, checks.length)) }, () => worker()));
  return passed;
}

async function main(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: { only: { type: "string" }, concurrency: { type: "string" }, heartbeat: { type: "string" } },
  });
  const [endpoint] = positionals;
  if (endpoint === undefined || positionals.length > 1) {
    process.stderr.write("usage: node-client ENDPOINT [--only TEXT] [--concurrency N] [--heartbeat MS]\n");
    return 2;
  }
  const concurrency = Number(values.concurrency ?? "1");
  const heartbeatMs = Number(values.heartbeat ?? "1000");
  const needle = values.only?.toLowerCase();
  const checks = createNodeChecks().filter((check) => needle === undefined || check.name.toLowerCase().includes(needle));
  installWireSpy();
  print({ type: "start", ...peer().versions, checks: checks.length });
  let passed = 0;
  passed += await runBatch(checks.filter((check) => check.last !== true && check.exclusive !== true), concurrency, endpoint, heartbeatMs);
  passed += await runBatch(checks.filter((check) => check.last !== true && check.exclusive === true), 1, endpoint, heartbeatMs);
  passed += await runBatch(checks.filter((check) => check.last === true), concurrency, endpoint, heartbeatMs);
  print({ type: "done", passed, failed: checks.length - passed });
  return 0;
}

process.on("uncaughtException", (error) => {
  print({ type: "crash", error: error.stack ?? describe(error) });
  process.exit(70);
});

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    print({ type: "crash", error: error instanceof Error ? (error.stack ?? describe(error)) : String(error) });
    process.exit(70);
  },
);
