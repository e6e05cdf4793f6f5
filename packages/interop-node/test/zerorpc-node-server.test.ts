/**
 * zerorpc-node server <- zrpc client: our conformance checks (@zrpc/conformance's 100, plus the
 * two of src/server-checks.ts) against zerorpc-node's server running the TestService of
 * src/node-server.ts in a child process, heartbeat 1 s, on 127.0.0.1. Each outcome is judged
 * against expected-failures/zerorpc-node-server.json (STYLE.md section 5).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createChecks, runChecks } from "@zrpc/conformance";
import { judge, loadExpectedFailures, matrixLine } from "../src/expected-failures.js";
import type { Judgement } from "../src/expected-failures.js";
import { createServerChecks } from "../src/server-checks.js";
import { ScriptProcess, freePort, packageFile } from "./helpers.js";

const DIRECTION = "zerorpc-node server <- zrpc client";
const PINNED = { zerorpc: "0.9.8", msgpackLite: "0.1.27" };

let server: ScriptProcess | undefined;
const checks = [...createChecks(), ...createServerChecks({ lines: () => server?.json ?? [] })];
const names = checks.map((check) => check.name);
const expected = loadExpectedFailures(packageFile("expected-failures/zerorpc-node-server.json"));
let judgement: Judgement;
let serverExit: number | null;

beforeAll(async () => {
  const endpoint = `tcp://127.0.0.1:${await freePort()}`;
  server = new ScriptProcess("src/node-server.ts", [endpoint]);
  await server.waitForLine((line) => line.startsWith("READY "));
  const results = await runChecks(endpoint, { checks, concurrency: 4, heartbeatMs: 1000 });
  judgement = judge(
    results.map((result) => ({ check: result.name, passed: result.passed, ...(result.reason === undefined ? {} : { reason: result.reason }) })),
    expected,
    names,
  );
  serverExit = await server.stop();
  const report = [matrixLine(DIRECTION, judgement)];
  for (const verdict of judgement.verdicts) {
    if (verdict.kind !== "passed") report.push(`  ${verdict.kind}: ${verdict.check}: ${verdict.detail ?? ""}`);
  }
  for (const name of judgement.unknownEntries) report.push(`  stale: ${name}: listed, but there is no such check`);
  const events = server.json.filter((line) => line.event !== "start");
  if (events.length > 0) report.push(`  the zerorpc-node server reported: ${events.map((line) => JSON.stringify(line)).join(", ")}`);
  console.log(report.join("\n"));
}, 120_000);

afterAll(async () => {
  await server?.stop();
});

describe(DIRECTION, () => {
  it("ran the pinned zerorpc-node and msgpack-lite, which never crashed", () => {
    const start = server!.json.find((line) => line.event === "start");
    expect(start, server!.stderr).toMatchObject(PINNED);
    expect(server!.json.filter((line) => line.event === "crash"), server!.stderr).toEqual([]);
    expect(serverExit, server!.stderr).toBe(0);
  });

  it("has no stale or unknown expected-failure entries and no unexpected failures", () => {
    expect(judgement.unknownEntries).toEqual([]);
    expect(judgement.stale).toBe(0);
    expect(judgement.unexpected).toBe(0);
  });

  it.each(names)("%s", (name) => {
    const verdict = judgement.verdicts.find((item) => item.check === name);
    expect(verdict, `${name} did not run`).toBeDefined();
    expect(verdict!.ok, `${verdict!.kind}: ${verdict!.detail ?? ""}`).toBe(true);
  });
});
