// Runs a docs page's code blocks as vitest tests: each program or shell block is one test, in
// document order, against real sockets on loopback. See docs/_meta/CONVENTIONS.md.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createConnection, createServer } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Command, type Expectation, type Unit, missingLine, parsePage, portsIn, withPorts } from "./blocks.js";

import { docsRoot } from "./paths.js";
const tsxLoader = import.meta.resolve("tsx");
const zrpcBin = fileURLToPath(import.meta.resolve("@zrpc/cli/package.json")).replace(/package\.json$/, "bin/zrpc.js");
const demoServer = fileURLToPath(new URL("../fixtures/demo-server.ts", import.meta.url));

const FOREGROUND_MS = 30_000;
const READY_MS = 20_000;

/** Free loopback ports for the placeholders 4242..4249 of one page. */
async function pagePorts(): Promise<Map<number, number>> {
  const servers = await Promise.all(
    Array.from({ length: 8 }, () => new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
      const s = createServer();
      s.once("error", reject);
      s.listen(0, "127.0.0.1", () => resolve(s));
    })),
  );
  const ports = new Map(servers.map((s, i) => [4242 + i, (s.address() as { port: number }).port]));
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

class Proc {
  output = "";
  exited: Promise<number | null>;
  private listeners = new Set<() => void>();
  constructor(readonly child: ChildProcess, readonly label: string) {
    const onData = (chunk: Buffer) => {
      this.output += chunk.toString("utf8");
      for (const l of this.listeners) l();
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    this.exited = new Promise((resolve) => child.once("close", (code, signal) => {
      for (const l of this.listeners) l();
      resolve(code ?? (signal ? 128 : null));
    }));
  }
  /** Resolves once `check` holds (re-checked on every output and at exit), rejects after `ms`. */
  until(check: () => boolean, ms: number, what: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.listeners.delete(listener);
        reject(new Error(`${this.label}: ${what} not seen within ${ms / 1000} s; output:\n${this.output}`));
      }, ms);
      const listener = () => {
        if (check()) {
          clearTimeout(timer);
          this.listeners.delete(listener);
          resolve();
        }
      };
      this.listeners.add(listener);
      listener();
    });
  }
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: "127.0.0.1" });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** Waits until every port accepts TCP connections, while `proc` runs. */
async function listening(proc: Proc, ports: number[]): Promise<void> {
  const deadline = Date.now() + READY_MS;
  let exitCode: number | null | undefined;
  void proc.exited.then((code) => (exitCode = code ?? -1));
  for (const port of ports) {
    // A retry loop on a condition (the port accepts), not a sleep standing in for an event:
    // nothing in the block tells when it listens except the socket itself.
    while (!(await portOpen(port))) {
      if (exitCode !== undefined) throw new Error(`${proc.label}: exited (${exitCode}) before listening on ${port}; output:\n${proc.output}`);
      if (Date.now() > deadline) throw new Error(`${proc.label}: not listening on ${port} after ${READY_MS / 1000} s; output:\n${proc.output}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

function checkOutput(proc: Proc, expect_: Expectation | undefined, page: string): void {
  if (!expect_) return;
  const missing = missingLine(expect_.lines, proc.output);
  if (missing !== undefined) {
    throw new Error(`${page}:${expect_.line}: expected output line not printed: ${JSON.stringify(missing)}\noutput was:\n${proc.output}`);
  }
}

async function waitExit(proc: Proc, ms: number): Promise<number | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), ms)));
  const code = await Promise.race([proc.exited, timeout]);
  clearTimeout(timer);
  if (code === "timeout") {
    proc.child.kill("SIGKILL");
    throw new Error(`${proc.label}: still running after ${ms / 1000} s (close what the block opens); output:\n${proc.output}`);
  }
  return code;
}

/** Registers the tests of one page (a path relative to docs/, e.g. "guide/client.md"). */
export function describePage(page: string): void {
  const markdown = readFileSync(join(docsRoot, page), "utf8");
  const { units, serve } = parsePage(markdown, page);
  const runnable = units.filter((u) => u.kind !== "file");

  describe(page, () => {
    let dir = "";
    let ports = new Map<number, number>();
    const background: Proc[] = [];
    const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0" };
    delete env["NODE_OPTIONS"];
    delete env["VITEST"];
    delete env["VITEST_WORKER_ID"];
    delete env["VITEST_POOL_ID"];

    const start = (argv: string[], label: string) =>
      new Proc(spawn(process.execPath, argv, { cwd: dir, env, stdio: ["ignore", "pipe", "pipe"] }), label);

    beforeAll(async () => {
      // Inside docs/, so that `@zrpc/*` and the other dependencies of docs/package.json resolve.
      mkdirSync(join(docsRoot, ".tmp"), { recursive: true });
      dir = mkdtempSync(join(docsRoot, ".tmp", `${page.replace(/\W+/g, "-")}-`));
      ports = await pagePorts();
      for (const unit of units) {
        if (unit.kind !== "file") continue;
        const target = join(dir, unit.path);
        mkdirSync(dirname(target), { recursive: true });
        writeFileSync(target, withPorts(unit.code, ports));
      }
      if (serve) {
        const proc = start(["--import", tsxLoader, demoServer, String(ports.get(4242))], `${page}: <!-- serve: ${serve} -->`);
        background.push(proc);
        await listening(proc, [ports.get(4242)!]);
      }
    });

    afterAll(async () => {
      for (const proc of background) proc.child.kill("SIGTERM");
      await Promise.all(background.map(async (proc) => {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([proc.exited, new Promise((resolve) => (timer = setTimeout(resolve, 10_000)))]);
        clearTimeout(timer);
        if (proc.child.exitCode === null && proc.child.signalCode === null) proc.child.kill("SIGKILL");
      }));
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    if (runnable.length === 0) {
      it("has no runnable block", () => {
        expect(units.filter((u) => u.kind === "file")).toEqual([]);
      });
    }

    runnable.forEach((unit, index) => {
      it(`block ${index + 1} (line ${unit.line}${unit.kind === "program" && unit.background ? ", background" : ""})`, async () => {
        if (unit.kind === "program") await runProgram(unit, index);
        else if (unit.kind === "shell") for (const command of unit.commands) await runCommand(command, unit.line);
      }, 90_000);
    });

    async function runProgram(unit: Extract<Unit, { kind: "program" }>, index: number): Promise<void> {
      const file = join(dir, `block-${index + 1}-line-${unit.line}.ts`);
      writeFileSync(file, `${withPorts(unit.code, ports)}\nexport {};\n`);
      const label = `${page}:${unit.line}`;
      const proc = start(["--import", tsxLoader, file], label);
      const expectation = unit.expect && { ...unit.expect, lines: unit.expect.lines.map((l) => withPorts(l, ports)) };
      if (unit.background) {
        background.push(proc);
        if (portsIn(unit.code).length === 0 && !expectation) {
          throw new Error(`${label}: a background block must mention the port it listens on (4242..4249) or have an <!-- output --> block to wait for`);
        }
        await listening(proc, portsIn(unit.code).map((p) => ports.get(p)!));
        if (expectation) await proc.until(() => missingLine(expectation.lines, proc.output) === undefined, READY_MS, "the <!-- output --> lines");
        checkOutput(proc, expectation, page);
        return;
      }
      const code = await waitExit(proc, FOREGROUND_MS);
      if (code !== 0) throw new Error(`${label}: exited with ${code}; output:\n${proc.output}`);
      checkOutput(proc, expectation, page);
    }

    async function runCommand(command: Command, line: number): Promise<void> {
      const argv = command.argv.map((a) => withPorts(a, ports));
      const label = `${page}:${line}: ${command.tool} ${argv.join(" ")}`;
      const proc = start(command.tool === "zrpc" ? [zrpcBin, ...argv] : ["--import", tsxLoader, ...argv], label);
      const expectation = command.expect && { ...command.expect, lines: command.expect.lines.map((l) => withPorts(l, ports)) };
      if (command.background) {
        background.push(proc);
        await listening(proc, portsIn(command.text).map((p) => ports.get(p)!));
        if (expectation) await proc.until(() => missingLine(expectation.lines, proc.output) === undefined, READY_MS, "the expected lines");
        return;
      }
      const code = await waitExit(proc, FOREGROUND_MS);
      if (code !== command.exit) throw new Error(`${label}: exited with ${code}, expected ${command.exit}; output:\n${proc.output}`);
      checkOutput(proc, expectation, page);
    }
  });
}
