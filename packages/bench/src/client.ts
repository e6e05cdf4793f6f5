// Child process: the client of one stack, running one workload. Talks to the parent over IPC.
//   node --import tsx src/client.ts <stack> <endpoint> <workload|soak> <seconds> <warm-seconds>
// Connects, warms up with the same workload, replies `warm`; on `go` runs the measured window and
// replies `result`; on `report` sends its RSS (after a GC if asked); on `exit` exits.
import { createClient } from "@zrpc/client";
import {
  HANDSHAKES,
  HANDSHAKE_WARM,
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
import { LimitClient } from "./limit.js";
import { clientMiddlewareOf } from "./otel.js";
import { createStackDealer } from "./stacks.js";
import type { ZrpcStack } from "./stacks.js";
import { profileWindow } from "./window.js";

/** What the workloads need from a stack's client. */
interface BenchClient {
  call(arg: unknown): Promise<unknown>;
  /** Streams `range(count)`; resolves with the number of items received. */
  stream(count: number): Promise<number>;
}

async function open(stack: Stack, endpoint: string): Promise<BenchClient> {
  if (stack === "limit") return new LimitClient(endpoint);
  // @zrpc/middleware-otel on the OpenTelemetry stacks, no middleware on the others.
  const middleware = clientMiddlewareOf(stack, endpoint);
  const client = createClient({ transport: await createStackDealer(stack, endpoint), ...(middleware.length > 0 && { middleware }) });
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

/** One handshake's times in µs: from `connect` to the `connected` event, and to the first reply. */
interface HandshakeTimes {
  readonly connected: number;
  readonly reply: number;
}

/**
 * Opens a fresh client on a DEALER created without endpoints, connects it to `endpoint` and times
 * the `connected` event (the transport's handshake done: ZMTP greeting and READY, and for CURVE
 * HELLO, WELCOME, INITIATE, READY) and the reply of a first `echo`; then closes it. The socket's
 * creation is not timed; the client's is (it is a few object allocations).
 */
async function handshake(zrpcStack: ZrpcStack, endpoint: string): Promise<HandshakeTimes> {
  const transport = await createStackDealer(zrpcStack);
  let connectedAt = Number.NaN;
  let onConnected: () => void = () => undefined;
  const connected = new Promise<void>((resolve) => {
    onConnected = resolve;
  });
  const unwatch = transport.watchConnections((event) => {
    if (event.state === "connected" && Number.isNaN(connectedAt)) {
      connectedAt = performance.now();
      onConnected();
    }
  });
  const client = createClient({ transport });
  try {
    const t = performance.now();
    transport.connect(endpoint);
    await client.call("echo", [SMALL_ARG]);
    const repliedAt = performance.now();
    // zeromq.js reports `connected` from its monitor socket, which may be read after the reply.
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("no connected event within 10 s of the first reply")), 10_000);
    });
    await Promise.race([connected, late]).finally(() => clearTimeout(timer));
    return { connected: (connectedAt - t) * 1000, reply: (repliedAt - t) * 1000 };
  } finally {
    unwatch();
    await client.close();
  }
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

const blob = new Uint8Array(MIB).fill(0x5a);

/** The handshake workload: warm-up connections, then {@link HANDSHAKES} measured ones. */
async function measureHandshakes(zrpcStack: ZrpcStack, to: string): Promise<RunResult> {
  for (let i = 0; i < HANDSHAKE_WARM; i++) await handshake(zrpcStack, to);
  tell({ type: "warm" });
  await started;
  const replies = new Samples();
  const connections = new Samples();
  await profiler.start();
  cpuStart = cpuMicros();
  const t = performance.now();
  for (let i = 0; i < HANDSHAKES; i++) {
    const times = await handshake(zrpcStack, to);
    replies.push(times.reply);
    connections.push(times.connected);
  }
  const elapsed = (performance.now() - t) / 1000;
  const cpuUs = cpuMicros() - cpuStart;
  await profiler.end();
  const [byReply, byEvent] = [replies.sorted(), connections.sorted()];
  return {
    ops: HANDSHAKES,
    seconds: elapsed,
    p50Us: percentile(byReply, 0.5),
    p99Us: percentile(byReply, 0.99),
    connectedP50Us: percentile(byEvent, 0.5),
    connectedP99Us: percentile(byEvent, 0.99),
    cpuUs,
    rssMb: rssMb(),
  };
}

let result: RunResult;
if (workload === "handshake") {
  if (stack === "limit") throw new Error("the limit has no handshake workload");
  result = await measureHandshakes(stack, endpoint!);
} else {
  const client = await open(stack, endpoint!);
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
}
tell({ type: "result", result });
