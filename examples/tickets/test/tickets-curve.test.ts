// The tickets demo served with CURVE by the real `zrpc run` (on PGlite), called by `zrpc call`
// with the server's public key: keys from `zrpc keygen`, a wrong server key failing clearly, and
// `--curve-allow-file` refusing a client it does not list.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli, startCli } from "./helpers.js";
import type { CliProcess } from "./helpers.js";

const PGLITE = { DATABASE_URL: undefined, PGLITE_DATA_DIR: undefined, SENTRY_DSN: undefined };

const keys = mkdtempSync(join(tmpdir(), "zrpc-tickets-curve-"));
afterAll(() => rmSync(keys, { recursive: true, force: true }));

const serverSecret = join(keys, "server.key_secret");
const allowFile = join(keys, "allowed-clients.txt");

/** The public key `zrpc keygen NAME` printed. */
async function keygen(name: string): Promise<string> {
  const result = await runCli(["keygen", name, "--out", keys]);
  expect(result.code).toBe(0);
  return /^Public key: (\S{40})$/m.exec(result.stdout)![1]!;
}

let serverKey: string;

beforeAll(async () => {
  serverKey = await keygen("server");
  const alice = await keygen("alice");
  await keygen("mallory");
  writeFileSync(allowFile, `# clients allowed to call the tickets server\n${alice}  # alice\n`);
});

/** Starts the tickets server with CURVE options `curve`; resolves once it listens, with its printed key. */
async function serveTickets(curve: readonly string[]): Promise<{ server: CliProcess; endpoint: string; printedKey: string }> {
  const server = startCli(["run", "127.0.0.1:0", ...curve], PGLITE);
  const listening = await server.waitForLine(/^Listening on (\S+) /);
  const printed = await server.waitForLine(/^CURVE public key: (\S{40})$/);
  return { server, endpoint: listening[1]!, printedKey: printed[1]! };
}

/** `zrpc call` with a connect timeout for a loaded machine: a failure that is not a timeout shows well before it. */
function call(endpoint: string, ...args: string[]): ReturnType<typeof runCli> {
  return runCli(["call", "--connect-timeout", "30", endpoint, ...args]);
}

describe("tickets served with CURVE", () => {
  it("answers zrpc call given the server key; a wrong server key or no CURVE fails clearly", async () => {
    const { server, endpoint, printedKey } = await serveTickets(["--curve-secret-key-file", serverSecret]);
    expect(printedKey).toBe(serverKey);
    expect(server.stdout.find((line) => line.startsWith("Listening on "))).toContain("(heartbeat 5s, CURVE)");

    // The key as printed, and as the certificate file: a fresh client pair per run.
    const list = await call(endpoint, "ticket_list", "2", "--curve-server-key", printedKey);
    expect(list).toMatchObject({ code: 0, stderr: "" });
    expect(list.stdout.split("\n").map((line) => (JSON.parse(line) as { id: number }).id)).toEqual([1, 2]);
    const one = await call(endpoint, "get_ticket", "--curve-server-key", `@${join(keys, "server.key")}`);
    expect(one.code).toBe(0);
    expect(JSON.parse(one.stdout)).toMatchObject({ id: 1, title: "Printer on the 3rd floor is on fire" });

    const started = performance.now();
    const wrong = await call(endpoint, "get_ticket", "--curve-server-key", `@${join(keys, "mallory.key")}`);
    expect(performance.now() - started).toBeLessThan(20_000);
    expect(wrong.code).toBe(1);
    expect(wrong.stdout).toBe("");
    expect(wrong.stderr).toMatch(/^zrpc call: .*CURVE/);
    expect(wrong.stderr).not.toMatch(/timed out|timeout/i);

    // A plaintext client retries the handshake until its connect timeout, then says why.
    const plain = await runCli(["call", "--connect-timeout", "3", endpoint, "get_ticket"]);
    expect(plain.code).toBe(1);
    expect(plain.stderr).toMatch(/CURVE/);
    expect(await server.stop("SIGTERM")).toEqual({ code: 0, signal: null });
  });

  it("with --curve-allow-file, serves the listed client and refuses another (logged by zrpc run)", async () => {
    const { server, endpoint } = await serveTickets(["--curve-secret-key-file", serverSecret, "--curve-allow-file", allowFile]);
    expect(server.stdout).toContain(`CURVE clients allowed: 1 client key listed in ${allowFile}`);
    const alice = await call(endpoint, "get_ticket", "--curve-server-key", serverKey, "--curve-secret-key-file", join(keys, "alice.key_secret"));
    expect(alice.code).toBe(0);
    expect(JSON.parse(alice.stdout)).toMatchObject({ id: 1 });

    const mallorySecret = join(keys, "mallory.key_secret");
    const malloryKey = /public-key = "(\S{40})"/.exec(readFileSync(join(keys, "mallory.key"), "utf8"))![1]!;
    const refused = await call(endpoint, "get_ticket", "--curve-server-key", serverKey, "--curve-secret-key-file", mallorySecret);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe("");
    expect(refused.stderr).toMatch(/^zrpc call: .*refused/);
    const escaped = malloryKey.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    await server.waitForLine(new RegExp(`^zrpc: warning: .*refused.*${escaped}`), "stderr");
    expect(await server.stop("SIGTERM")).toEqual({ code: 0, signal: null });
  });
});
