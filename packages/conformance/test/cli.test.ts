/**
 * The CLI end to end, as separate processes talking over real sockets on loopback: `serve` +
 * `client` (every check), `pull` + `push`, `sub` + `pub`, on zeromq.js (the default) and with
 * `--transport zmtp` on one side or both.
 */
import { afterEach, describe, expect, it } from "vitest";
import { createChecks, expectedCallLines } from "../src/index.js";
import { CliProcess, freePort } from "./helpers.js";

const running: CliProcess[] = [];

function start(args: readonly string[]): CliProcess {
  const child = new CliProcess(args);
  running.push(child);
  return child;
}

afterEach(async () => {
  await Promise.all(running.splice(0).map((child) => child.stop()));
});

const isReady = (line: string): boolean => line.startsWith("READY");
const isCall = (line: string): boolean => line.startsWith("CALL ");

/** `serve` (with `serverArgs`) + `client` (with `clientArgs`): every check must pass. */
async function serveAndCheck(serverArgs: readonly string[], clientArgs: readonly string[]): Promise<void> {
  const port = await freePort();
  const endpoint = `tcp://127.0.0.1:${port}`;
  const server = start(["serve", endpoint, ...serverArgs]);
  expect(await server.waitForLine(isReady)).toBe(`READY ${endpoint}`);

  const client = start(["client", endpoint, "--concurrency", "12", ...clientArgs]);
  const code = await client.exited;
  const failures = client.lines.filter((line) => line.startsWith("FAIL"));
  expect(failures, client.stderr).toEqual([]);
  expect(code).toBe(0);
  const passed = client.lines.filter((line) => line.startsWith("PASS ")).length;
  expect(passed).toBe(createChecks().length);
  expect(client.lines[client.lines.length - 1]).toBe(`${passed} passed, 0 failed`);

  // SIGTERM closes the server cleanly.
  expect(await server.stop()).toBe(0);
}

describe("zrpc-conformance CLI", () => {
  it("serve + client: every check passes", async () => {
    await serveAndCheck([], []);
  }, 90_000);

  it("serve --transport zmtp + client --transport zeromq: every check passes", async () => {
    await serveAndCheck(["--transport", "zmtp"], ["--transport", "zeromq"]);
  }, 90_000);

  it("refuses an unknown --transport with status 2", async () => {
    const client = start(["client", "tcp://127.0.0.1:1", "--transport", "nanomsg"]);
    expect(await client.exited).toBe(2);
    expect(client.stderr).toContain('--transport must be zmtp or zeromq, got "nanomsg"');
  });

  it("client --only runs a subset, and fails (exit 1) against a dead endpoint", async () => {
    const port = await freePort();
    const client = start(["client", `tcp://127.0.0.1:${port}`, "--only", "_zerorpc_name"]);
    // Nothing listens there: our client's heartbeat declares the server lost after ~3 s.
    const code = await client.exited;
    expect(code).toBe(1);
    expect(client.lines[client.lines.length - 1]).toBe("0 passed, 1 failed");
  }, 60_000);

  it("push -> pull: the receiver prints READY, then the three CALL lines in typed JSON", async () => {
    const port = await freePort();
    const endpoint = `tcp://127.0.0.1:${port}`;
    const puller = start(["pull", endpoint, "--count", "3"]);
    await puller.waitForLine(isReady);
    const pusher = start(["push", endpoint]);
    expect(await pusher.exited).toBe(0);
    expect(await puller.exited).toBe(0);
    expect(puller.lines.filter(isCall)).toEqual(expectedCallLines());
    expect(expectedCallLines()).toEqual([
      'CALL {"name": "echo", "args": ["pushed"]}',
      'CALL {"name": "add", "args": [1, 2]}',
      'CALL {"name": "echo", "args": [{"k": [null, true, {"$f64": 1.5}, {"$bin": "00ff"}, "\\u2603"]}]}',
    ]);
  }, 30_000);

  it("push -> pull over --transport zmtp on both ends", async () => {
    const port = await freePort();
    const endpoint = `tcp://127.0.0.1:${port}`;
    const puller = start(["pull", endpoint, "--count", "3", "--transport", "zmtp"]);
    expect(await puller.waitForLine(isReady)).toBe(`READY ${endpoint}`);
    const pusher = start(["push", endpoint, "--transport", "zmtp"]);
    expect(await pusher.exited).toBe(0);
    expect(await puller.exited).toBe(0);
    expect(puller.lines.filter(isCall)).toEqual(expectedCallLines());
  }, 30_000);

  it("push --transport zmtp -> pull on zeromq.js", async () => {
    const port = await freePort();
    const endpoint = `tcp://127.0.0.1:${port}`;
    const puller = start(["pull", endpoint, "--count", "3"]);
    await puller.waitForLine(isReady);
    const pusher = start(["push", endpoint, "--transport", "zmtp"]);
    expect(await pusher.exited).toBe(0);
    expect(await puller.exited).toBe(0);
    expect(puller.lines.filter(isCall)).toEqual(expectedCallLines());
  }, 30_000);

  it("pub -> sub: the subscriber prints READY, then the three CALL lines (repeated)", async () => {
    const port = await freePort();
    const endpoint = `tcp://127.0.0.1:${port}`;
    const subscriber = start(["sub", endpoint]);
    await subscriber.waitForLine(isReady);
    const publisher = start(["pub", endpoint, "--duration", "2"]);
    const expected = expectedCallLines();
    // The subscriber may miss the first round(s); every line of a later round must arrive.
    await Promise.all(expected.map((line) => subscriber.waitForLine((seen) => seen === line)));
    expect(await publisher.exited).toBe(0);
    const calls = subscriber.lines.filter(isCall);
    expect(calls.every((line) => expected.includes(line)), calls.join("\n")).toBe(true);
  }, 30_000);

  it("pub --transport zmtp -> sub on zeromq.js: every line of a later round arrives", async () => {
    const port = await freePort();
    const endpoint = `tcp://127.0.0.1:${port}`;
    const subscriber = start(["sub", endpoint]);
    await subscriber.waitForLine(isReady);
    const publisher = start(["pub", endpoint, "--duration", "2", "--transport", "zmtp"]);
    const expected = expectedCallLines();
    await Promise.all(expected.map((line) => subscriber.waitForLine((seen) => seen === line)));
    expect(await publisher.exited).toBe(0);
    const calls = subscriber.lines.filter(isCall);
    expect(calls.every((line) => expected.includes(line)), calls.join("\n")).toBe(true);
  }, 30_000);
});
