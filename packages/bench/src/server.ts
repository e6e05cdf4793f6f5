// Child process: the server of one stack. Prints nothing; talks to the parent over IPC.
//   node --import tsx src/server.ts <stack>
// Replies `ready` with its endpoint; on `mark` starts counting its CPU; on `report` sends its CPU
// since the mark and its RSS; on `exit` exits.
import { createServer } from "@zrpc/server";
import { cpuMicros, isStack, report, tell } from "./common.js";
import type { Command } from "./common.js";
import { startLimitServer } from "./limit.js";
import { serverMiddlewareOf } from "./otel.js";
import { bindStackRouter } from "./stacks.js";
import { profileWindow } from "./window.js";

/** The service of the zrpc stacks: `echo(x)` and the stream `range(n)`. */
class BenchService {
  echo(value: unknown): unknown {
    return value;
  }

  *range(count: number): Generator<number> {
    for (let i = 0; i < count; i++) yield i;
  }
}

const stack = process.argv[2];
if (!isStack(stack)) throw new Error(`unknown stack ${String(stack)}`);

let endpoint: string;
if (stack === "limit") {
  endpoint = (await startLimitServer()).endpoint;
} else {
  const transport = await bindStackRouter(stack, "tcp://127.0.0.1:*");
  endpoint = transport.endpoints[0]!;
  // @zrpc/middleware-otel on the OpenTelemetry stacks, no middleware on the others.
  const middleware = serverMiddlewareOf(stack, endpoint);
  const server = createServer(new BenchService(), {
    name: "bench",
    asyncContext: process.env.BENCH_NO_ALS === undefined,
    ...(middleware.length > 0 && { middleware }),
  });
  server.serve(transport);
}

const profiler = profileWindow("server");
let mark = cpuMicros();
process.on("message", (command: Command) => {
  switch (command.cmd) {
    case "mark":
      void profiler.start().then(() => {
        mark = cpuMicros();
        tell({ type: "marked" });
      });
      return;
    case "report": {
      const done = report(mark, command.gc === true);
      void profiler.end().then(() => tell({ type: "report", report: done }));
      return;
    }
    case "exit":
      process.exit(0);
      break;
    case "go":
      return;
  }
});
process.on("disconnect", () => process.exit(0));
tell({ type: "ready", endpoint });
