/**
 * zrpc server <- zerorpc-node client: zerorpc-node's client (a child process running
 * src/node-client.ts) runs the checks of src/node-checks.ts against our TestService, served here
 * with heartbeat 1 s on 127.0.0.1. Each check's outcome is judged against
 * expected-failures/zerorpc-node-client.json (STYLE.md section 5): an unlisted failure or a listed
 * check that passes fails its test. Then a 10,000-item stream to a zerorpc-node client, while our
 * own client keeps calling the same server.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect } from "@zrpc/client";
import { createTestService } from "@zrpc/conformance";
import type { Server } from "@zrpc/server";
import { judge, loadExpectedFailures, matrixLine } from "../src/expected-failures.js";
import type { CheckOutcome, Judgement } from "../src/expected-failures.js";
import { createNodeChecks } from "../src/node-checks.js";
import { ScriptProcess, packageFile } from "./helpers.js";

const DIRECTION = "zrpc server <- zerorpc-node client";
const PINNED = { zerorpc: "0.9.8", msgpackLite: "0.1.27" };
const STREAM_CHECK = "stream of 10,000 items: range(10000)";

const names = createNodeChecks().map((check) => check.name);
const expected = loadExpectedFailures(packageFile("expected-failures/zerorpc-node-client.json"));
const warnings: string[] = [];
let server: Server;
let endpoint: string;
let child: ScriptProcess;
let exitCode: number | null;
let judgement: Judgement;
let outcomes: CheckOutcome[] = [];

function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

beforeAll(async () => {
  server = createTestService({
    logger: {
      warn: (message, error) => warnings.push(error === undefined ? message : `${message}: ${describeError(error)}`),
    },
  });
  [endpoint] = (await server.bind("tcp://127.0.0.1:*")) as [string];
  child = new ScriptProcess("src/node-client.ts", [endpoint, "--concurrency", "4"]);
  exitCode = await child.exited;
  outcomes = child.json
    .filter((line) => line.type === "result")
    .map((line) => ({ check: String(line.check), passed: line.passed === true, reason: line.reason as string | undefined }));
  judgement = judge(outcomes, expected, names);
  const report = [matrixLine(DIRECTION, judgement)];
  for (const verdict of judgement.verdicts) {
    if (verdict.kind !== "passed") report.push(`  ${verdict.kind}: ${verdict.check}: ${verdict.detail ?? ""}`);
  }
  for (const name of judgement.unknownEntries) report.push(`  stale: ${name}: listed, but there is no such check`);
  console.log(report.join("\n"));
}, 120_000);

afterAll(async () => {
  await child?.stop();
  await server?.close();
});

describe(DIRECTION, () => {
  it("ran the pinned zerorpc-node and msgpack-lite, every check, without crashing", () => {
    const start = child.json.find((line) => line.type === "start");
    expect(start, child.stderr).toMatchObject(PINNED);
    expect(child.json.filter((line) => line.type === "crash"), child.stderr).toEqual([]);
    expect(exitCode, child.stderr).toBe(0);
    expect(outcomes.map((outcome) => outcome.check).sort()).toEqual([...names].sort());
  });

  it("has no stale or unknown expected-failure entries and no unexpected failures", () => {
    expect(judgement.unknownEntries).toEqual([]);
    expect(judgement.stale).toBe(0);
    expect(judgement.unexpected).toBe(0);
  });

  it("our server logged no warning", () => {
    expect(warnings).toEqual([]);
  });

  it.each(names)("%s", (name) => {
    const verdict = judgement.verdicts.find((item) => item.check === name);
    expect(verdict, `${name} did not run`).toBeDefined();
    expect(verdict!.ok, `${verdict!.kind}: ${verdict!.detail ?? ""}`).toBe(true);
  });
});

describe("a 10,000-item stream to a zerorpc-node client", () => {
  it("completes, and our server answers another client's calls throughout", async () => {
    const probe = await connect(endpoint, { heartbeatMs: 1000 });
    const streamer = new ScriptProcess("src/node-client.ts", [endpoint, "--only", STREAM_CHECK]);
    try {
      // Start calling once the first item has arrived at the zerorpc-node client.
      await streamer.waitForLine((line) => line.includes('"type":"progress"'));
      const latencies: number[] = [];
      const itemsAtCall: number[] = [];
      let finished = false;
      const ended = streamer.waitForLine((line) => line.includes('"type":"result"'));
      void ended.then(
        () => (finished = true),
        () => (finished = true),
      );
      while (!finished) {
        const progress = streamer.json.filter((line) => line.type === "progress").at(-1);
        itemsAtCall.push(Number(progress?.items ?? 0));
        const started = Date.now();
        expect(await probe.call("echo", [`probe ${latencies.length}`])).toBe(`probe ${latencies.length}`);
        latencies.push(Date.now() - started);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(await streamer.exited, streamer.stderr).toBe(0);
      const result = streamer.json.find((line) => line.type === "result")!;
      const sorted = [...latencies].sort((a, b) => a - b);
      const median = sorted[Math.floor(sorted.length / 2)]!;
      const max = sorted.at(-1)!;
      const outcome = result.passed === true ? `completed in ${String(result.ms)} ms` : `FAILED after ${String(result.ms)} ms: ${String(result.reason)}`;
      console.log(
        `${STREAM_CHECK} to a zerorpc-node client: ${outcome}; meanwhile our client made ${latencies.length} echo calls ` +
          `(the first with ${itemsAtCall[0]} items received, the last with ${itemsAtCall.at(-1)}), all answered: median ${median} ms, max ${max} ms`,
      );
      expect(result.check).toBe(STREAM_CHECK);
      expect(result.passed, String(result.reason)).toBe(true);
      expect(latencies.length).toBeGreaterThanOrEqual(5);
      expect(max).toBeLessThan(2000);
    } finally {
      await probe.close();
      await streamer.stop();
    }
  });
});
