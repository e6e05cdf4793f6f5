// Child process: the client of one stack, running one workload. Talks to the parent over IPC.
//   node --import tsx src/client.ts <stack> <endpoint> <workload|soak> <seconds> <warm-seconds>
// Connects, warms up with the same workload, replies `warm`; on `go` runs the measured window and
// replies `result`; on `report` sends its RSS (after a GC if asked); on `exit` exits.
import { createClient } from "@zrpc/client";
import { connectDealer as connectZeromqDealer } from "@zrpc/transport-zeromq";
import { connectDealer as connectZmtpDealer } from "@zrpc/transport-zmtp";
import {
  IN_FLIGHT,
  MIB,
  SMALL_ARG,
  SOAK_CALLS,
  SOAK_IN_FLIGHT,
  SOAK_WARM_CALLS,
  STREAM_ITEMS,
  STREAM_WARM_ITEMS,
  Samples,
  cpuMicros,
  isStack,
  isWorkload,
  percentile,
  report,
  rssMb,
  tell,
} from "./common.js";
import type { Command, RunResult, Stack } from "./common.js";
import { HWM, LimitClient } from "./limit.js";
import { profileWindow } from "./window.js";

/** What the workloads need from a stack's client. */
interface BenchClient {
  call(arg: unknown): Promise<unknown>;
  /** Streams `range(count)`; resolves with the number of items received. */
  stream(count: number): Promise<number>;
}

async function open(stack: Stack, endpoint: string): Promise<BenchClient> {
  if (stack === "limit") return new LimitClient(endpoint);
  // The same high-water marks as the limit's sockets (see limit.ts); everything else default.
  const options = { sendHighWaterMark: HWM, receiveHighWaterMark: HWM };
  const transport = stack === "zrpc-zeromq" ? await connectZeromqDealer(endpoint, options) : await connectZmtpDealer(endpoint, options);
  const client = createClient({ transport });
  return {
    call: (arg) => client.call("echo", [arg]),
    stream: async (count) => {
      let items = 0;
      for await (const item of client.stream("range", [count])) {
        if (item !== items) throw new Error(`stream item ${items} was ${String(item)}`);
        items += 1;
      }
      return items;
    },
  };
}

interface Window {
  ops: number;
  seconds: number;
}

/** How {@link callLanes} calls: `lanes` loops calling with `arg` until `until()` says stop, latencies into `samples`. */
interface LaneOptions {
  readonly arg: unknown;
  readonly lanes: number;
  readonly until: (issued: number) => boolean;
  readonly samples?: Samples;
}

/** `lanes` loops of calls, each waiting for its reply before the next, until `until()` says stop. */
async function callLanes(client: BenchClient, { arg, lanes, until, samples }: LaneOptions): Promise<Window> {
  let issued = 0;
  let ops = 0;
  const started = performance.now();
  const lane = async (): Promise<void> => {
    while (!until(issued)) {
      issued += 1;
      const t = performance.now();
      await client.call(arg);
      samples?.push((performance.now() - t) * 1000);
      ops += 1;
    }
  };
  const all: Promise<void>[] = [];
  for (let i = 0; i < lanes; i++) all.push(lane());
  await Promise.all(all);
  return { ops, seconds: (performance.now() - started) / 1000 };
}

function forSeconds(seconds: number): () => boolean {
  const deadline = performance.now() + seconds * 1000;
  return () => performance.now() >= deadline;
}

const [stack, endpoint, workload, secondsText, warmText] = process.argv.slice(2);
if (!isStack(stack)) throw new Error(`unknown stack ${String(stack)}`);
if (!isWorkload(workload) && workload !== "soak") throw new Error(`unknown workload ${String(workload)}`);
const seconds = Number(secondsText);
const warmSeconds = Number(warmText);

const profiler = profileWindow("client");
let go: () => void = () => undefined;
const started = new Promise<void>((resolve) => {
  go = resolve;
});
let cpuStart = cpuMicros();
process.on("message", (command: Command) => {
  switch (command.cmd) {
    case "go":
      go();
      return;
    case "report":
      tell({ type: "report", report: report(cpuStart, command.gc === true) });
      return;
    case "exit":
      process.exit(0);
      break;
    case "mark":
      return;
  }
});
process.on("disconnect", () => process.exit(0));

const client = await open(stack, endpoint!);
const blob = new Uint8Array(MIB).fill(0x5a);

let result: RunResult;
if (workload === "stream") {
  const warmItems = await client.stream(STREAM_WARM_ITEMS);
  if (warmItems !== STREAM_WARM_ITEMS) throw new Error(`warm-up stream gave ${warmItems} items`);
  tell({ type: "warm" });
  await started;
  await profiler.start();
  cpuStart = cpuMicros();
  const t = performance.now();
  const items = await client.stream(STREAM_ITEMS);
  const elapsed = (performance.now() - t) / 1000;
  const cpuUs = cpuMicros() - cpuStart;
  await profiler.end();
  if (items !== STREAM_ITEMS) throw new Error(`stream gave ${items} items`);
  result = { ops: items, seconds: elapsed, p50Us: null, p99Us: null, cpuUs, rssMb: rssMb() };
} else if (workload === "soak") {
  // Warm-up, then the parent takes the post-warm-up RSS (after a GC) before `go`.
  await callLanes(client, { arg: SMALL_ARG, lanes: SOAK_IN_FLIGHT, until: (issued) => issued >= SOAK_WARM_CALLS });
  tell({ type: "warm" });
  await started;
  cpuStart = cpuMicros();
  const run = await callLanes(client, { arg: SMALL_ARG, lanes: SOAK_IN_FLIGHT, until: (issued) => issued >= SOAK_CALLS });
  result = { ops: run.ops, seconds: run.seconds, p50Us: null, p99Us: null, cpuUs: cpuMicros() - cpuStart, rssMb: rssMb() };
} else {
  const lanes = IN_FLIGHT[workload];
  const arg = workload === "mib" ? blob : SMALL_ARG;
  await callLanes(client, { arg, lanes, until: forSeconds(warmSeconds) });
  tell({ type: "warm" });
  await started;
  const samples = new Samples();
  await profiler.start();
  cpuStart = cpuMicros();
  const run = await callLanes(client, { arg, lanes, until: forSeconds(seconds), samples });
  const cpuUs = cpuMicros() - cpuStart;
  await profiler.end();
  const sorted = samples.sorted();
  result = {
    ops: run.ops,
    seconds: run.seconds,
    p50Us: percentile(sorted, 0.5),
    p99Us: percentile(sorted, 0.99),
    cpuUs,
    rssMb: rssMb(),
  };
}
tell({ type: "result", result });
