// zerorpc-shaped msgpack echo: a ROUTER server and a DEALER client, each in its own process
// (child_process.fork), over this package's ZMTP transport and over zeromq.js (libzmq) in the same
// run. Workloads: 1 call in flight (rate, p50, p99), 100 in flight (rate), 1 MiB echo (rate).
// Prints a Markdown table with ratios (medians of --rounds runs, default 3).
//
//   pnpm --filter @zrpc/transport-zmtp bench            (or: node --import tsx bench/echo.bench.ts)
//   node --import tsx bench/echo.bench.ts --seconds 2 --rounds 3
import { Buffer } from "node:buffer";
import { fork } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { cpus } from "node:os";
import { fileURLToPath } from "node:url";
import * as zmq from "zeromq";
import { createEvent, decodeEvent, encodeEvent, messageIdKey } from "@zrpc/wire";
import type { MessageId } from "@zrpc/wire";
import { bindRouter, connectDealer } from "../src/index.js";

type Impl = "zmtp" | "zeromq";
type Workload = "sequential" | "inflight100" | "mib";
interface Result {
  calls: number;
  seconds: number;
  p50us?: number;
  p99us?: number;
  cpuUs: number;
}

const EMPTY = Buffer.alloc(0);
const self = fileURLToPath(import.meta.url);

function option(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? Number(process.argv[index + 1]) : fallback;
}

function cpuMicros(): number {
  const usage = process.cpuUsage();
  return usage.user + usage.system;
}

/** The reply a zerorpc server sends: OK [args...] in response to the request. */
function reply(payload: Uint8Array): Uint8Array {
  const request = decodeEvent(payload);
  return encodeEvent(createEvent("OK", request.args, request.header.message_id));
}

// ---------------------------------------------------------------------------------- server

async function serve(impl: Impl): Promise<void> {
  let stop: () => Promise<void>;
  if (impl === "zmtp") {
    const router = await bindRouter("tcp://127.0.0.1:*");
    process.send?.({ endpoint: router.endpoints[0] });
    void (async () => {
      for await (const message of router) router.send(message.peer, reply(message.payload));
    })();
    stop = () => router.close();
  } else {
    const router = new zmq.Router({ linger: 0 });
    await router.bind("tcp://127.0.0.1:*");
    process.send?.({ endpoint: router.lastEndpoint });
    void (async () => {
      try {
        for await (const [id, , payload] of router) await router.send([id as Buffer, EMPTY, Buffer.from(reply(payload as Buffer))]);
      } catch {
        // closed
      }
    })();
    stop = () => {
      router.close();
      return Promise.resolve();
    };
  }
  process.on("message", (message: string) => {
    if (message === "cpu") process.send?.({ cpu: cpuMicros() });
    if (message === "stop") void stop().then(() => process.exit(0));
  });
}

// ---------------------------------------------------------------------------------- client

interface Client {
  call(args: unknown[]): Promise<void>;
  close(): Promise<void>;
}

async function connect(impl: Impl, endpoint: string): Promise<Client> {
  const pending = new Map<string, () => void>();
  const settle = (payload: Uint8Array): void => {
    const event = decodeEvent(payload);
    const key = messageIdKey(event.header.response_to as MessageId);
    const resolve = pending.get(key);
    pending.delete(key);
    resolve?.();
  };
  const request = (args: unknown[]): { payload: Uint8Array; done: Promise<void> } => {
    const event = createEvent("echo", args);
    const done = new Promise<void>((resolve) => pending.set(messageIdKey(event.header.message_id as MessageId), resolve));
    return { payload: encodeEvent(event), done };
  };
  if (impl === "zmtp") {
    const dealer = await connectDealer(endpoint);
    void (async () => {
      for await (const message of dealer) settle(message.payload);
    })();
    return {
      call: (args) => {
        const { payload, done } = request(args);
        dealer.send(undefined, payload);
        return done;
      },
      close: () => dealer.close(),
    };
  }
  const dealer = new zmq.Dealer({ linger: 0 });
  dealer.connect(endpoint);
  void (async () => {
    try {
      for await (const frames of dealer) settle(frames[frames.length - 1] as Buffer);
    } catch {
      // closed
    }
  })();
  // zeromq.js allows one pending send per socket: chain them.
  let sending: Promise<void> = Promise.resolve();
  return {
    call: (args) => {
      const { payload, done } = request(args);
      sending = sending.then(() => dealer.send([EMPTY, Buffer.from(payload)]));
      return done;
    },
    close: () => {
      dealer.close();
      return Promise.resolve();
    },
  };
}

async function runWorkload(client: Client, workload: Workload, seconds: number): Promise<Result> {
  const cpuStart = cpuMicros();
  const started = performance.now();
  const deadline = started + seconds * 1000;
  let calls = 0;
  const latencies: number[] = [];
  if (workload === "sequential") {
    while (performance.now() < deadline) {
      const t = performance.now();
      await client.call([calls, "hello"]);
      latencies.push(performance.now() - t);
      calls += 1;
    }
  } else if (workload === "inflight100") {
    const lane = async (): Promise<void> => {
      while (performance.now() < deadline) {
        await client.call([calls, "hello"]);
        calls += 1;
      }
    };
    await Promise.all(Array.from({ length: 100 }, lane));
  } else {
    const blob = Buffer.alloc(1024 * 1024, 0x5a);
    while (performance.now() < deadline) {
      await client.call([blob]);
      calls += 1;
    }
  }
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const pick = (q: number): number | undefined =>
    latencies.length === 0 ? undefined : Math.round((latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] as number) * 1000);
  return { calls, seconds: elapsed, p50us: pick(0.5), p99us: pick(0.99), cpuUs: cpuMicros() - cpuStart };
}

async function clientMain(impl: Impl, endpoint: string): Promise<void> {
  const client = await connect(impl, endpoint);
  for (let i = 0; i < 2000; i++) await client.call([i, "warm-up"]);
  process.on("message", (message: { run?: Workload; seconds?: number; stop?: boolean }) => {
    if (message.stop === true) {
      void client.close().then(() => process.exit(0));
      return;
    }
    if (message.run !== undefined) void runWorkload(client, message.run, message.seconds ?? 2).then((result) => process.send?.({ result }));
  });
  process.send?.({ ready: true });
}

// ---------------------------------------------------------------------------------- parent

function nextMessage<T>(child: ChildProcess, key: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: Record<string, unknown>): void => {
      if (key in message) {
        child.off("message", onMessage);
        resolve(message[key] as T);
      }
    };
    child.on("message", onMessage);
    child.once("exit", (code) => reject(new Error(`child exited (${String(code)}) before sending ${key}`)));
  });
}

function spawnRole(args: string[]): ChildProcess {
  return fork(self, args, { execArgv: ["--import", "tsx"], stdio: ["ignore", "inherit", "inherit", "ipc"] });
}

async function measure(impl: Impl, seconds: number): Promise<Record<Workload, Result & { serverCpuUs: number }>> {
  const server = spawnRole(["server", impl]);
  const endpoint = await nextMessage<string>(server, "endpoint");
  const client = spawnRole(["client", impl, endpoint]);
  await nextMessage(client, "ready");
  const results = {} as Record<Workload, Result & { serverCpuUs: number }>;
  for (const workload of ["sequential", "inflight100", "mib"] as const) {
    server.send("cpu");
    const serverBefore = await nextMessage<number>(server, "cpu");
    client.send({ run: workload, seconds });
    const result = await nextMessage<Result>(client, "result");
    server.send("cpu");
    const serverAfter = await nextMessage<number>(server, "cpu");
    results[workload] = { ...result, serverCpuUs: serverAfter - serverBefore };
  }
  const exits = [client, server].map((child) => new Promise((resolve) => child.once("exit", resolve)));
  client.send({ stop: true });
  server.send("stop");
  await Promise.all(exits);
  return results;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

const format = (value: number): string => Math.round(value).toLocaleString("en");

async function main(): Promise<void> {
  const seconds = option("seconds", 2);
  const rounds = option("rounds", 3);
  const runs: Record<Impl, Record<Workload, Result & { serverCpuUs: number }>[]> = { zmtp: [], zeromq: [] };
  for (let round = 0; round < rounds; round++) {
    for (const impl of ["zmtp", "zeromq"] as const) runs[impl].push(await measure(impl, seconds));
  }
  const rate = (impl: Impl, workload: Workload): number => median(runs[impl].map((run) => run[workload].calls / run[workload].seconds));
  const stat = (impl: Impl, workload: Workload, key: "p50us" | "p99us"): number => median(runs[impl].map((run) => run[workload][key] ?? 0));
  const cpu = (impl: Impl, workload: Workload): number =>
    median(runs[impl].map((run) => (run[workload].cpuUs + run[workload].serverCpuUs) / run[workload].calls));
  const cpuText = (micros: number): string => (micros >= 1000 ? `${(micros / 1000).toFixed(1)} ms` : `${Math.round(micros)} µs`);
  const lines = [
    `zerorpc-shaped msgpack echo, server and client in separate processes, loopback TCP; medians of ${rounds} runs of ${seconds} s per workload`,
    `(node ${process.version}, libzmq ${zmq.version} via zeromq.js, ${cpus().length} × ${cpus()[0]?.model.trim() ?? "cpu"})`,
    "",
    "| workload | @zrpc/transport-zmtp | zeromq.js | ratio | CPU per call, both processes (zmtp vs zeromq.js) |",
    "|---|---:|---:|---:|---:|",
  ];
  const row = (label: string, workload: Workload, extra: (impl: Impl) => string): void => {
    const ours = rate("zmtp", workload);
    const theirs = rate("zeromq", workload);
    lines.push(
      `| ${label} | ${format(ours)} calls/s${extra("zmtp")} | ${format(theirs)} calls/s${extra("zeromq")} | ${(ours / theirs).toFixed(1)}x | ${cpuText(cpu("zmtp", workload))} vs ${cpuText(cpu("zeromq", workload))} |`,
    );
  };
  row("1 call in flight", "sequential", (impl) => `, p50 ${format(stat(impl, "sequential", "p50us"))} µs, p99 ${format(stat(impl, "sequential", "p99us"))} µs`);
  row("100 in flight", "inflight100", () => "");
  row("1 MiB echo (1 in flight)", "mib", () => "");
  process.stdout.write(`${lines.join("\n")}\n`);
}

const [role, impl, endpoint] = process.argv.slice(2);
if (role === "server") await serve(impl as Impl);
else if (role === "client") await clientMain(impl as Impl, endpoint as string);
else await main();
