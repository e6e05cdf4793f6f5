#!/usr/bin/env node
// zrpc-conformance: serve the TestService, run the checks against any TestService endpoint, or
// play either side of the one-way patterns, on either transport. Usage: see USAGE below.
import { parseArgs } from "node:util";
import { createPublisher, createPuller, createPusher, createSubscriber } from "@zrpc/client";
import type { OneWayReceiver, OneWaySender } from "@zrpc/client";
import { runChecks } from "./checks.js";
import type { CheckResult } from "./checks.js";
import { PUBLISH_INTERVAL_MS, callLine, oneWayRound } from "./one-way.js";
import { TEST_SERVICE_HEARTBEAT_MS } from "@zrpc/test-support";
import { DEFAULT_TRANSPORT, TRANSPORT_NAMES, isTransportName, openTransport, serveTestService } from "./transports.js";
import type { TransportName } from "./transports.js";

const USAGE = `usage: zrpc-conformance <command> ENDPOINT [options]

commands:
  serve ENDPOINT    serve the TestService (prints "READY <endpoint>" once bound)
  client ENDPOINT   run every check against the TestService at ENDPOINT
  push ENDPOINT     connect a PUSH socket and send the one-way round once
  pub ENDPOINT      connect a PUB socket and send the round every 0.2 s for a few seconds
  pull ENDPOINT     bind a PULL socket, print READY, then "CALL {...}" per event
  sub ENDPOINT      bind a SUB socket, print READY, then "CALL {...}" per event

options:
  --transport T     zmtp (pure-TypeScript ZMTP) or zeromq (zeromq.js, libzmq); default zmtp
  --heartbeat S     heartbeat interval in seconds (default 1)
  --only TEXT       client: run only the checks whose name contains TEXT
  --concurrency N   client: run N checks at once (default 1)
  --duration S      pub: how long to keep publishing (default 3)
  --count N         pull/sub: exit after N events (default: run until SIGINT/SIGTERM)
`;

class UsageError extends Error {
  override name = "UsageError";
}

interface Options {
  readonly transport: TransportName;
  readonly heartbeatMs: number;
  readonly only: string | undefined;
  readonly concurrency: number;
  readonly durationMs: number;
  readonly count: number | undefined;
}

function positiveNumber(text: string | undefined, option: string): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new UsageError(`--${option} needs a positive number, got ${JSON.stringify(text)}`);
  return value;
}

function parse(argv: readonly string[]): { command: string; endpoint: string; options: Options } {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      transport: { type: "string" },
      heartbeat: { type: "string" },
      only: { type: "string" },
      concurrency: { type: "string" },
      duration: { type: "string" },
      count: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help === true) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  const [command, endpoint, ...extra] = positionals;
  if (command === undefined || endpoint === undefined) throw new UsageError("a command and an ENDPOINT are required");
  if (extra.length > 0) throw new UsageError(`unexpected arguments: ${extra.join(" ")}`);
  const heartbeat = positiveNumber(values.heartbeat, "heartbeat");
  const concurrency = positiveNumber(values.concurrency, "concurrency");
  const duration = positiveNumber(values.duration, "duration");
  const count = positiveNumber(values.count, "count");
  const transport = values.transport ?? DEFAULT_TRANSPORT;
  if (!isTransportName(transport)) {
    throw new UsageError(`--transport must be ${TRANSPORT_NAMES.join(" or ")}, got ${JSON.stringify(transport)}`);
  }
  return {
    command,
    endpoint,
    options: {
      transport,
      heartbeatMs: heartbeat === undefined ? TEST_SERVICE_HEARTBEAT_MS : Math.round(heartbeat * 1000),
      only: values.only,
      concurrency: concurrency === undefined ? 1 : Math.floor(concurrency),
      durationMs: duration === undefined ? 3000 : duration * 1000,
      count: count === undefined ? undefined : Math.floor(count),
    },
  };
}

/** Resolves on the first SIGINT or SIGTERM. */
function terminationSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      resolve(signal);
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
  });
}

async function serve(endpoint: string, options: Options): Promise<number> {
  const stopping = terminationSignal();
  const { server, endpoints } = await serveTestService(options.transport, endpoint, { heartbeatMs: options.heartbeatMs });
  console.log(`READY ${endpoints.join(" ")}`);
  await stopping;
  await server.close(1000);
  return 0;
}

async function client(endpoint: string, options: Options): Promise<number> {
  const print = (result: CheckResult): void => {
    console.log(result.passed ? `PASS ${result.name}` : `FAIL ${result.name}: ${result.reason ?? "failed"}`);
  };
  const results = await runChecks(endpoint, {
    transport: options.transport,
    heartbeatMs: options.heartbeatMs,
    concurrency: options.concurrency,
    onResult: print,
    ...(options.only === undefined ? {} : { only: options.only }),
  });
  const failed = results.filter((result) => !result.passed).length;
  console.log(`${results.length - failed} passed, ${failed} failed`);
  return failed === 0 && results.length > 0 ? 0 : 1;
}

function sendRound(sender: OneWaySender): void {
  for (const call of oneWayRound()) sender.send(call.name, call.args);
}

async function push(endpoint: string, options: Options): Promise<number> {
  const pusher = createPusher({ transport: await openTransport(options.transport, "push", { connect: endpoint }) });
  sendRound(pusher);
  // close() flushes what is queued for up to the socket's linger time (1 s).
  await pusher.close();
  return 0;
}

async function pub(endpoint: string, options: Options): Promise<number> {
  const publisher = createPublisher({ transport: await openTransport(options.transport, "pub", { connect: endpoint }) });
  const stopping = terminationSignal();
  const deadline = Date.now() + options.durationMs;
  let stopped = false;
  void stopping.then(() => {
    stopped = true;
  });
  // A subscriber misses what was published before its subscription arrived: repeat the round.
  while (!stopped && Date.now() < deadline) {
    sendRound(publisher);
    await new Promise((resolve) => setTimeout(resolve, PUBLISH_INTERVAL_MS));
  }
  await publisher.close();
  return 0;
}

async function receive(kind: "pull" | "sub", endpoint: string, options: Options): Promise<number> {
  let received = 0;
  let done: () => void = () => undefined;
  const enough = new Promise<void>((resolve) => {
    done = resolve;
  });
  const onEvent = (event: { name: string; args: unknown }): void => {
    console.log(callLine(event));
    received++;
    if (options.count !== undefined && received >= options.count) done();
  };
  const onError = (error: unknown): void => {
    console.error(`receive error: ${error instanceof Error ? error.message : String(error)}`);
  };
  const stopping = terminationSignal();
  const transport = await openTransport(options.transport, kind, { bind: endpoint });
  const receiver: OneWayReceiver =
    kind === "pull" ? createPuller(onEvent, { transport, onError }) : createSubscriber(onEvent, { transport, onError });
  console.log(`READY ${receiver.endpoints.join(" ")}`);
  await Promise.race([stopping, enough]);
  await receiver.close();
  return 0;
}

async function main(argv: readonly string[]): Promise<number> {
  const { command, endpoint, options } = parse(argv);
  switch (command) {
    case "serve":
      return serve(endpoint, options);
    case "client":
      return client(endpoint, options);
    case "push":
      return push(endpoint, options);
    case "pub":
      return pub(endpoint, options);
    case "pull":
    case "sub":
      return receive(command, endpoint, options);
    default:
      throw new UsageError(`unknown command ${JSON.stringify(command)}`);
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof UsageError || (error instanceof TypeError && (error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS") === true)) {
      process.stderr.write(`${error.message}\n\n${USAGE}`);
      process.exit(2);
    }
    console.error(error);
    process.exit(1);
  },
);
