// Checks added to @zrpc/conformance's 100 when our client runs against zerorpc-node's server:
// things docs/protocol/test-service.md asks of every server that the 100 checks cannot see from the client side
// alone. They use the conformance Check shape, so runChecks runs them with the others.
import { TimeoutExpired } from "@zrpc/client";
import { CheckFailure } from "@zrpc/conformance";
import type { Check } from "@zrpc/conformance";

/** What the test knows about the zerorpc-node server process: its JSON output lines so far. */
export interface ServerObserver {
  /** Every JSON line the server printed so far (parsed). */
  lines(): readonly Record<string, unknown>[];
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The extra checks, reading the server's output through `observer`. */
export function createServerChecks(observer: ServerObserver): Check[] {
  return [
    {
      name: "zerorpc-node server: replying after the client is gone does not throw",
      timeoutMs: 15_000,
      async run(ctx) {
        // sleep(5) with a 0.5 s timeout: our client gives up (and stops heartbeating), the server
        // drops the channel 2-3 heartbeat intervals later, then the method replies.
        const seconds = 5;
        const client = await ctx.client();
        try {
          await client.call("sleep", [seconds], { timeoutMs: 500 });
          throw new CheckFailure(`sleep(${seconds}) with a 0.5 s timeout returned instead of timing out`);
        } catch (error) {
          if (!TimeoutExpired.isInstance(error)) throw error;
        }
        await delay(seconds * 1000 + 500);
        const threw = observer
          .lines()
          .filter((line) => line.event === "reply-threw" && line.method === "sleep" && JSON.stringify(line.args) === JSON.stringify([seconds]));
        if (threw.length > 0) {
          throw new CheckFailure(
            `zerorpc-node's reply callback threw ${JSON.stringify(threw[0]!.error)} for sleep(${seconds}) after the client had gone; ` +
              "a method that does not catch it crashes the server process",
          );
        }
      },
    },
    {
      name: "heartbeat: the server heartbeats during a slowly consumed stream (range(250), 20 ms per item)",
      timeoutMs: 20_000,
      async run(ctx) {
        const client = await ctx.client();
        let count = 0;
        try {
          for await (const item of client.stream("range", [250], { receiveBuffer: 10 })) {
            if (item !== count) throw new CheckFailure(`item #${count} is ${String(item)}`);
            count += 1;
            await delay(20);
          }
        } catch (error) {
          if (error instanceof CheckFailure) throw error;
          throw new CheckFailure(`the stream failed after ${count} of 250 items (~${count * 20} ms): ${String(error)}`);
        }
        if (count !== 250) throw new CheckFailure(`the stream ended after ${count} of 250 items`);
      },
    },
  ];
}
