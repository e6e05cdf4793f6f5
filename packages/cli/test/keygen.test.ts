// `zrpc keygen` as a child process: the printed pair, the certificates it writes (read back by
// pyzmq's zmq.auth.load_certificate, and their keys checked with libzmq's zmq_curve_public), the
// certificates pyzmq writes read by zrpc, overwriting, and bad usage.
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readAllowList, readKeyPairFile, readPublicKeyOption } from "../src/curve-keys.js";
import { runCli } from "./helpers.js";

const tmp = mkdtempSync(join(tmpdir(), "zrpc-keygen-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A python3 with pyzmq (Debian's python3-zmq): $ZRPC_PYTHON, `python3` on PATH, or /usr/bin/python3. */
const PYTHON = ((): string => {
  const tried: string[] = [];
  for (const candidate of [process.env.ZRPC_PYTHON, "python3", "/usr/bin/python3"]) {
    if (candidate === undefined || candidate === "") continue;
    const probe = spawnSync(candidate, ["-c", "import zmq.auth; assert zmq.has('curve')"], { encoding: "utf8" });
    if (probe.status === 0) return candidate;
    tried.push(`${candidate}: ${probe.error?.message ?? probe.stderr.trim().split("\n").at(-1) ?? "failed"}`);
  }
  // No skipping: the format checks need pyzmq (apt-get install -y python3-zmq).
  throw new Error(`the keygen tests need python3 with pyzmq (apt-get install -y python3-zmq) or ZRPC_PYTHON; tried ${tried.join("; ")}`);
})();

/** Runs a Python snippet (with `sys.argv[1:]` = `args`) and returns its stdout lines. */
function python(script: string, ...args: string[]): string[] {
  const result = spawnSync(PYTHON, ["-c", script, ...args], { encoding: "utf8" });
  if (result.status !== 0) throw new Error(`python failed (${result.status}): ${result.stderr}`);
  return result.stdout.trim().split("\n");
}

/** pyzmq's reading of a certificate: [public, secret or "None"]. */
function loadWithPyzmq(file: string): string[] {
  return python("import sys, zmq.auth\np, s = zmq.auth.load_certificate(sys.argv[1])\nprint(p.decode())\nprint(s.decode() if s else None)", file);
}

/** libzmq's public key for a Z85 secret key (zmq_curve_public). */
function publicOf(secretKey: string): string {
  return python("import sys, zmq\nprint(zmq.curve_public(sys.argv[1].encode()).decode())", secretKey)[0]!;
}

const Z85_KEY = /^[0-9a-zA-Z.\-:+=^!/*?&<>()[\]{}@%$#]{40}$/;

describe("zrpc keygen", () => {
  it("without NAME prints a key pair as libzmq's curve_keygen does (a pair libzmq agrees with)", async () => {
    const result = await runCli(["keygen"], { cwd: tmp });
    expect(result).toMatchObject({ code: 0, stderr: "" });
    const lines = result.stdout.split("\n");
    expect(lines).toHaveLength(4);
    expect(lines[0]).toBe("== CURVE PUBLIC KEY ==");
    expect(lines[2]).toBe("== CURVE SECRET KEY ==");
    expect(lines[1]).toMatch(Z85_KEY);
    expect(lines[3]).toMatch(Z85_KEY);
    expect(publicOf(lines[3]!)).toBe(lines[1]);
    // A new pair every time.
    expect((await runCli(["keygen"], { cwd: tmp })).stdout).not.toBe(result.stdout);
  });

  it("writes NAME.key and NAME.key_secret (mode 0600) that pyzmq's load_certificate reads", async () => {
    const out = join(tmp, "written", "keys");
    const result = await runCli(["keygen", "server", "--out", out], { cwd: tmp });
    expect(result.code).toBe(0);
    expect(result.stderr).toBe("");
    const [wrote, shown] = result.stdout.split("\n");
    expect(wrote).toBe(`Wrote ${join("written", "keys", "server.key")} (public key) and ${join("written", "keys", "server.key_secret")} (secret key, mode 0600).`);
    const publicKey = /^Public key: (\S{40})$/.exec(shown!)![1]!;

    const publicFile = join(out, "server.key");
    const secretFile = join(out, "server.key_secret");
    expect(statSync(secretFile).mode & 0o777).toBe(0o600);
    const publicText = readFileSync(publicFile, "utf8");
    const secretText = readFileSync(secretFile, "utf8");
    // A comment header saying what the file is, then the ZPL sections.
    expect(publicText).toMatch(/^# {3}\*\*\*\* {2}Written by zrpc keygen on \S+ {2}\*\*\*\*\n# {3}ZeroMQ CURVE Public Certificate\n/);
    expect(secretText).toMatch(/^# {3}\*\*\*\* {2}Written by zrpc keygen on \S+ {2}\*\*\*\*\n# {3}ZeroMQ CURVE \*\*Secret\*\* Certificate\n/);
    expect(publicText).toContain(`\nmetadata\ncurve\n    public-key = "${publicKey}"\n`);
    expect(publicText).not.toContain("secret-key");

    expect(loadWithPyzmq(publicFile)).toEqual([publicKey, "None"]);
    const [pyPublic, pySecret] = loadWithPyzmq(secretFile);
    expect(pyPublic).toBe(publicKey);
    expect(pySecret).toMatch(Z85_KEY);
    expect(publicOf(pySecret!)).toBe(publicKey);
    // And zrpc's own reader agrees.
    expect(readKeyPairFile("--curve-secret-key-file", secretFile)).toEqual({ publicKey, secretKey: pySecret });
  });

  it("reads the certificates pyzmq's create_certificates writes (pair, public key, allow folder)", () => {
    const dir = join(tmp, "pyzmq");
    mkdirSync(dir);
    const [publicFile, secretFile] = python("import sys, zmq.auth\nfor f in zmq.auth.create_certificates(sys.argv[1], 'client', metadata={'name': 'alice'}): print(f)", dir);
    const [publicKey, secretKey] = loadWithPyzmq(secretFile!);
    expect(readKeyPairFile("--curve-secret-key-file", secretFile!)).toEqual({ publicKey, secretKey });
    expect(readPublicKeyOption("--curve-server-key", `@${publicFile}`)).toBe(publicKey);
    expect(readPublicKeyOption("--curve-server-key", `@${secretFile}`)).toBe(publicKey);
    python("import sys, zmq.auth\nzmq.auth.create_certificates(sys.argv[1], 'bob')", dir);
    const [bob] = loadWithPyzmq(join(dir, "bob.key"));
    // A folder of certificates, as pyzmq's configure_curve(location=...) reads it: the .key files only.
    expect(readAllowList("--curve-allow-file", dir).sort()).toEqual([publicKey, bob].sort());
  });

  it("refuses to overwrite a certificate without --force (status 1), and --force writes a new pair with mode 0600", async () => {
    const out = join(tmp, "again");
    expect((await runCli(["keygen", "node", "-o", out], { cwd: tmp })).code).toBe(0);
    const before = readFileSync(join(out, "node.key_secret"), "utf8");
    const refused = await runCli(["keygen", "node", "--out", out], { cwd: tmp });
    expect(refused).toMatchObject({ code: 1, stdout: "" });
    expect(refused.stderr).toBe(
      `zrpc: ${join("again", "node.key")} and ${join("again", "node.key_secret")} already exist: pass --force to overwrite (the old key pair is then lost)`,
    );
    expect(readFileSync(join(out, "node.key_secret"), "utf8")).toBe(before);

    // Only the secret one left: still refused.
    rmSync(join(out, "node.key"));
    expect((await runCli(["keygen", "node", "--out", out], { cwd: tmp })).stderr).toBe(
      `zrpc: ${join("again", "node.key_secret")} already exists: pass --force to overwrite (the old key pair is then lost)`,
    );

    chmodSync(join(out, "node.key_secret"), 0o644);
    const forced = await runCli(["keygen", "node", "--out", out, "-f"], { cwd: tmp });
    expect(forced.code).toBe(0);
    expect(readFileSync(join(out, "node.key_secret"), "utf8")).not.toBe(before);
    expect(statSync(join(out, "node.key_secret")).mode & 0o777).toBe(0o600);
    expect(existsSync(join(out, "node.key"))).toBe(true);
    const [publicKey] = loadWithPyzmq(join(out, "node.key"));
    expect(forced.stdout).toContain(`Public key: ${publicKey}`);
  });

  it("writes to the current directory without --out", async () => {
    const cwd = join(tmp, "here");
    mkdirSync(cwd);
    const result = await runCli(["keygen", "me"], { cwd });
    expect(result.stdout.split("\n")[0]).toBe("Wrote me.key (public key) and me.key_secret (secret key, mode 0600).");
    expect(loadWithPyzmq(join(cwd, "me.key_secret"))[1]).toMatch(Z85_KEY);
  });

  it("says what is wrong with its command line (status 2)", async () => {
    const cases: [string[], string][] = [
      [["keygen", "--out", "keys"], "zrpc keygen: --out needs a NAME: zrpc keygen NAME --out DIR"],
      [["keygen", "--force"], "zrpc keygen: --force needs a NAME: zrpc keygen NAME --force"],
      [["keygen", "keys/server"], 'zrpc keygen: NAME must be a file name without folders, got "keys/server" (use --out DIR for the folder)'],
      [["keygen", "server.key"], 'zrpc keygen: NAME is written without its suffix: "server" makes server.key and .key_secret'],
      [["keygen", "a", "b"], "zrpc keygen: expected at most one NAME, got 2: a b"],
      [["keygen", "--secret"], "zrpc keygen: unknown option --secret"],
    ];
    for (const [args, message] of cases) {
      const result = await runCli(args, { cwd: tmp });
      expect(result, args.join(" ")).toMatchObject({ code: 2, stdout: "", stderr: `${message}\nRun 'zrpc keygen --help' for usage.` });
    }
  });

  it("cannot write into a file posing as the folder (status 1, saying why)", async () => {
    writeFileSync(join(tmp, "plain"), "not a folder");
    const result = await runCli(["keygen", "x", "--out", join(tmp, "plain")], { cwd: tmp });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^zrpc: cannot create the folder plain: /);
  });
});
