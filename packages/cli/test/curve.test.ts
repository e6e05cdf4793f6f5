// CURVE from the command line, with real processes and sockets: `zrpc run --curve-secret-key-file`
// (and `--curve-allow-file`) serving, `zrpc call` / `zrpc inspect` with `--curve-server-key`
// reaching it, and what a wrong server key, a refused client key, a plaintext client and bad
// options say.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { curveKeyPair } from "@zrpc/transport-zmtp";
import { certificateText, readKeyPairFile } from "../src/curve-keys.js";
import { FIXTURES, runCli, startCli, startServer } from "./helpers.js";
import type { CliProcess } from "./helpers.js";

// An ES module configuration (no TypeScript to compile: fast to start); it serves hello(name).
const CONFIG = join(FIXTURES, "mjs-config", "zrpc.config.mjs");

const tmp = mkdtempSync(join(tmpdir(), "zrpc-cli-curve-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const keys = join(tmp, "keys");
const serverSecret = join(keys, "server.key_secret");
const serverPublic = join(keys, "server.key");
const aliceSecret = join(keys, "alice.key_secret");
const bobSecret = join(keys, "bob.key_secret");
const allowFile = join(tmp, "allowed.txt");
let serverKey: string;

beforeAll(async () => {
  // The server's pair the way a user makes it; the clients' written directly (faster).
  expect((await runCli(["keygen", "server", "--out", keys])).code).toBe(0);
  serverKey = readKeyPairFile("test", serverSecret).publicKey;
  const created = new Date();
  const alice = curveKeyPair();
  writeFileSync(aliceSecret, certificateText("secret", alice, created), { mode: 0o600 });
  writeFileSync(bobSecret, certificateText("secret", curveKeyPair(), created), { mode: 0o600 });
  writeFileSync(allowFile, `# who may call\n${alice.publicKey}  # alice\n`);
});

/** Starts `zrpc run 127.0.0.1:0` with CURVE options `extra`. */
function serve(extra: readonly string[]): Promise<{ server: CliProcess; endpoint: string }> {
  return startServer(["127.0.0.1:0", "--config", CONFIG, ...extra]);
}

/** How long a failing client may take, on a loaded machine: far below the 30 s connect timeout the tests use. */
const QUICK_MS = 15_000;

// helpers.ts stops every child after each test: each test starts its own server.
describe("zrpc run with --curve-secret-key-file", () => {
  it("prints its public key and answers zrpc call given that key as text or @FILE, with a fresh client pair or a key file", async () => {
    const { server, endpoint } = await serve(["--curve-secret-key-file", serverSecret]);
    expect(server.stdout).toContain(`CURVE public key: ${serverKey}`);
    expect(server.stdout).toContain("CURVE clients allowed: any client that has this public key (no --curve-allow-file)");
    expect(server.stdout.find((line) => line.startsWith("Listening on "))).toMatch(/ \(heartbeat 5s, CURVE\)\. Quit with CONTROL-C\.$/);
    for (const args of [
      ["--curve-server-key", serverKey],
      ["--curve-server-key", `@${serverPublic}`],
      [`--curve-server-key=@${serverSecret}`, "--curve-secret-key-file", aliceSecret],
    ]) {
      const result = await runCli(["call", endpoint, "hello", "curve", ...args]);
      expect(result, args.join(" ")).toMatchObject({ code: 0, stdout: '"Hello, curve!"', stderr: "" });
    }
    const inspect = await runCli(["inspect", endpoint, "--curve-server-key", serverKey]);
    expect(inspect.code).toBe(0);
    expect(inspect.stdout).toContain('hello(name="world")');
    expect(await server.stop("SIGTERM")).toEqual({ code: 0, signal: null });
  });

  it("a wrong server key fails quickly with a clear message, a plaintext client says CURVE (status 1)", async () => {
    const { server, endpoint } = await serve(["--curve-secret-key-file", serverSecret, "--quiet"]);
    const started = performance.now();
    const result = await runCli(["call", endpoint, "hello", "--curve-server-key", curveKeyPair().publicKey]);
    expect(performance.now() - started).toBeLessThan(QUICK_MS);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(/^zrpc call: .*CURVE/);
    expect(result.stderr).toMatch(/serverKey|server key/i);
    expect(result.stderr).not.toMatch(/timed out|timeout/i);
    // The server says so too.
    await server.waitForLine(/^zrpc: warning: .*HELLO/, "stderr");

    // A plaintext client retries the handshake until its connect timeout, then says why.
    const plain = await runCli(["call", endpoint, "hello", "--connect-timeout", "2"]);
    expect(plain.code).toBe(1);
    expect(plain.stderr).toMatch(/^zrpc call: .*CURVE/);
    expect(await server.stop("SIGTERM")).toEqual({ code: 0, signal: null });
  });
});

describe("zrpc run with --curve-allow-file", () => {
  it("serves the listed client, refuses another quickly (status 1) and logs the refusal", async () => {
    const { server, endpoint } = await serve(["--curve-secret-key-file", serverSecret, "--curve-allow-file", allowFile]);
    expect(server.stdout).toContain(`CURVE clients allowed: 1 client key listed in ${allowFile}`);
    const alice = await runCli(["call", endpoint, "hello", "alice", "--curve-server-key", serverKey, "--curve-secret-key-file", aliceSecret]);
    expect(alice).toMatchObject({ code: 0, stdout: '"Hello, alice!"' });

    const bobKey = readKeyPairFile("test", bobSecret).publicKey;
    const started = performance.now();
    const bob = await runCli(["call", endpoint, "hello", "bob", "--curve-server-key", serverKey, "--curve-secret-key-file", bobSecret]);
    expect(performance.now() - started).toBeLessThan(QUICK_MS);
    expect(bob.code).toBe(1);
    expect(bob.stdout).toBe("");
    expect(bob.stderr).toMatch(/^zrpc call: .*refused/);
    // A fresh client pair is not listed either.
    expect((await runCli(["call", endpoint, "hello", "--curve-server-key", serverKey])).code).toBe(1);

    const logged = await server.waitForLine(new RegExp(`refused.*${bobKey.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`), "stderr");
    expect(logged.input).toMatch(/^zrpc: warning: /);
    expect(await server.stop("SIGTERM")).toEqual({ code: 0, signal: null });
  });

  it("reads a folder of .key certificates, and reports its key in the JSON log", async () => {
    const folder = join(tmp, "clients");
    mkdirSync(folder, { recursive: true });
    expect((await runCli(["keygen", "carol", "--out", folder])).code).toBe(0);
    const server = startCli(["run", "127.0.0.1:0", "--config", CONFIG, "--log-format", "json", "--curve-secret-key-file", serverSecret, "--curve-allow-file", folder]);
    const line = await server.waitForLine(/"event":"listening"/);
    const record = JSON.parse(line.input!) as { endpoints: string[]; curve: unknown };
    expect(record.curve).toEqual({ public_key: serverKey, allowed_clients: 1 });
    const carol = await runCli(["call", record.endpoints[0]!, "hello", "carol", "--curve-server-key", serverKey, "--curve-secret-key-file", join(folder, "carol.key_secret")]);
    expect(carol).toMatchObject({ code: 0, stdout: '"Hello, carol!"' });
    expect(await server.stop("SIGTERM")).toEqual({ code: 0, signal: null });
  });
});

describe("CURVE across transports", () => {
  it("zrpc run --transport zeromq serves CURVE clients on either transport and refuses an unlisted one", async () => {
    const { server, endpoint } = await serve(["--transport", "zeromq", "--curve-secret-key-file", serverSecret, "--curve-allow-file", allowFile]);
    expect(server.stdout.find((line) => line.startsWith("Listening on "))).toContain("(heartbeat 5s, transport zeromq, CURVE)");
    for (const transport of ["zmtp", "zeromq"]) {
      const alice = await runCli(["call", endpoint, "hello", transport, "--transport", transport, "--curve-server-key", `@${serverPublic}`, "--curve-secret-key-file", aliceSecret]);
      expect(alice, transport).toMatchObject({ code: 0, stdout: `"Hello, ${transport}!"` });
      const bob = await runCli(["call", endpoint, "hello", "--transport", transport, "--curve-server-key", `@${serverPublic}`, "--curve-secret-key-file", bobSecret]);
      expect(bob.code, transport).toBe(1);
      expect(bob.stderr, transport).toMatch(/^zrpc call: .*refused this client's key/);
    }
    await server.waitForLine(/^zrpc: warning: .*refused client key/, "stderr");
    expect(await server.stop("SIGTERM")).toEqual({ code: 0, signal: null });
  });
});

describe("bad --curve-* options", () => {
  it("zrpc run: exits 2 naming the option and the file", async () => {
    const missing = join(tmp, "missing.key_secret");
    const cases: [string[], string][] = [
      [["--curve-secret-key-file", missing], `zrpc run: cannot read --curve-secret-key-file ${missing}: no such file`],
      [["--curve-secret-key-file", serverPublic], `zrpc run: --curve-secret-key-file ${serverPublic} is a public certificate (it has no curve/secret-key): pass the .key_secret file written with it`],
      [["--curve-allow-file", allowFile], "zrpc run: --curve-allow-file needs --curve-secret-key-file F (the server's key pair)"],
      [["--curve-secret-key-file", serverSecret, "--curve-allow-file", join(tmp, "nobody")], `zrpc run: cannot read --curve-allow-file ${join(tmp, "nobody")}: no such file or folder`],
    ];
    for (const [args, message] of cases) {
      const result = await runCli(["run", "127.0.0.1:0", "--config", CONFIG, ...args]);
      expect(result, args.join(" ")).toMatchObject({ code: 2, stdout: "", stderr: `${message}\nRun 'zrpc run --help' for usage.` });
    }
  });

  it("zrpc call, inspect and types: exit 2 naming the option", async () => {
    const cases: [string[], string][] = [
      [["call", "4242", "hello", "--curve-server-key", "short"], "zrpc call: --curve-server-key must be a CURVE public key: 40 characters of Z85 or @FILE, got 5 characters"],
      [["call", "4242", "hello", "--curve-server-key", serverPublic], `zrpc call: --curve-server-key must be a CURVE public key: 40 characters of Z85 or @FILE, got ${serverPublic.length} characters (to read the file ${serverPublic}, write @${serverPublic})`],
      [["inspect", "4242", "--curve-server-key", `@${join(tmp, "none.key")}`], `zrpc inspect: cannot read --curve-server-key @${join(tmp, "none.key")}: no such file`],
      [["types", "4242", "--curve-secret-key-file", aliceSecret], "zrpc types: --curve-secret-key-file needs --curve-server-key K (the server's public key)"],
      [["call", "4242", "hello", "--curve-server-key", serverKey, "--curve-secret-key-file", allowFile], `zrpc call: --curve-secret-key-file ${allowFile} is not a CURVE key file: it holds 65 bytes of text without curve/public-key or curve/secret-key; expected a ZPL certificate with a curve section (a .key or .key_secret file of zrpc keygen, pyzmq or czmq), 40 characters of Z85 or 32 raw bytes`],
    ];
    for (const [args, message] of cases) {
      const result = await runCli(args);
      const command = args[0]!;
      expect(result, args.join(" ")).toMatchObject({ code: 2, stdout: "", stderr: `${message}\nRun 'zrpc ${command} --help' for usage.` });
    }
  });
});
