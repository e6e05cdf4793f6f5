// The network-fault suite's own setup (test/net/netns.ts, issue #19): what a test process killed
// with SIGKILL leaves behind is removed by the next setup, the fixtures do not outlive the process
// that started them, and a machine (or a process) without the privileges fails with an error that
// names the missing one. Needs root, as the rest of the suite; it never skips.
import { execFileSync, spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { startProcess } from "@zrpc/test-support";
import { describe, expect, it } from "vitest";
import { report } from "./helpers.js";
import { createLink, sweepStaleLinks } from "./net/netns.js";
import type { NetLink } from "./net/netns.js";

const PACKAGE_DIR = fileURLToPath(new URL("..", import.meta.url));
const fixture = (name: string): string => fileURLToPath(new URL(`fixtures/${name}`, import.meta.url));
const env = { ...process.env, PATH: `${process.env.PATH ?? ""}:/usr/sbin:/sbin` };

function ip(...args: string[]): string {
  return execFileSync("ip", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], env });
}

function namespaces(): string[] {
  return ip("netns", "list")
    .split("\n")
    .map((line) => line.trim().split(/\s+/)[0] ?? "")
    .filter((name) => name !== "");
}

function pidsIn(ns: string): number[] {
  return ip("netns", "pids", ns)
    .split(/\s+/)
    .filter((text) => /^\d+$/.test(text))
    .map(Number);
}

/** Rejects with a message after `ms` unless `promise` settles first. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms);
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}

/** The first line of `stream`, parsed as JSON. */
function firstJsonLine(stream: Readable): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: stream, crlfDelay: Infinity });
    lines.once("line", (line) => {
      try {
        resolve(JSON.parse(line) as Record<string, unknown>);
      } catch (error) {
        reject(error instanceof Error ? error : new Error(String(error)));
      }
    });
    lines.once("close", () => reject(new Error("the stream ended before its first line")));
  });
}

/**
 * Resolves when every process holding the write end of `stream` has exited (or closed it): the
 * kernel closes a process's descriptors when it exits, so this is the event of its exit.
 */
function closedByAllWriters(stream: Readable): Promise<void> {
  return new Promise((resolve) => {
    stream.resume();
    stream.once("close", () => resolve());
  });
}

function exitOf(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

describe("network-fault suite setup", () => {
  it("a test process killed with SIGKILL: its fixtures exit by themselves, and the next setup removes its namespaces and kills what is still inside", async () => {
    // A running process that owns a namespace of the suite's shape: the sweep must leave it alone.
    const owner = startProcess(process.execPath, ["-e", "setInterval(() => {}, 60_000)"], { label: "a live owner" });
    const orphan = spawn(process.execPath, ["--import", "tsx", fixture("net-orphan.ts")], {
      cwd: PACKAGE_DIR,
      env,
      stdio: ["ignore", "pipe", "inherit", "pipe", "pipe"],
    });
    const [serverOut, strayOut] = [orphan.stdio[3] as Readable, orphan.stdio[4] as Readable];
    const decoys = [`zrpcf-${owner.pid}-c`];
    let link: NetLink | undefined;
    try {
      const ready = await within(firstJsonLine(orphan.stdout as Readable), 30_000, "ready line from the test process");
      const serverReady = await within(firstJsonLine(serverOut), 30_000, "ready line from its server fixture");
      const serverGone = closedByAllWriters(serverOut);
      const strayGone = closedByAllWriters(strayOut);
      const { clientNs, serverNs, serverPid, strayPid } = ready as { clientNs: string; serverNs: string; serverPid: number; strayPid: number };
      expect(serverReady).toMatchObject({ type: "ready", pid: serverPid });
      expect(clientNs).toBe(`zrpcf-${String(orphan.pid)}-c`);
      expect(namespaces()).toEqual(expect.arrayContaining([clientNs, serverNs]));
      expect(pidsIn(serverNs)).toContain(serverPid);
      expect(pidsIn(clientNs)).toContain(strayPid);
      // Another name with the dead process's pid, not of the suite's shape: never touched.
      decoys.push(`zrpcfx-${String(orphan.pid)}-c`);
      for (const name of decoys) ip("netns", "add", name);

      const killed = performance.now();
      orphan.kill("SIGKILL");
      await exitOf(orphan);
      // Its server fixture saw its stdin end and exited by itself...
      await within(serverGone, 10_000, "exit of the server fixture after its parent was killed");
      const serverExitMs = performance.now() - killed;
      expect(pidsIn(serverNs)).toEqual([]);
      // ...but the namespaces stay (no exit hook runs on SIGKILL), and so does a process that
      // does not watch its parent.
      expect(namespaces()).toEqual(expect.arrayContaining([clientNs, serverNs]));
      expect(pidsIn(clientNs)).toEqual([strayPid]);

      // The next setup sweeps them.
      const sweeping = performance.now();
      link = createLink();
      const sweepMs = performance.now() - sweeping;
      await within(strayGone, 10_000, "exit of the process left in the client namespace");
      const after = namespaces();
      expect(after).not.toContain(clientNs);
      expect(after).not.toContain(serverNs);
      expect(after).toEqual(expect.arrayContaining([...decoys, link.clientNs, link.serverNs]));
      report(
        `net setup: after a SIGKILL of the test process its server fixture exited by itself ${serverExitMs.toFixed(0)} ms later (stdin ended); ` +
          `the next createLink() removed ${clientNs} and ${serverNs} and killed pid ${strayPid} inside (${sweepMs.toFixed(0)} ms including its own setup); ` +
          `${decoys.join(" and ")} (live owner, other name) were left alone`,
      );
    } finally {
      link?.remove();
      if (orphan.exitCode === null && orphan.signalCode === null) {
        orphan.kill("SIGKILL");
        await exitOf(orphan);
      }
      sweepStaleLinks(); // the orphan's namespaces, had the test failed before its setup
      for (const name of decoys) {
        try {
          ip("netns", "delete", name);
        } catch {
          // never created
        }
      }
      serverOut.destroy();
      strayOut.destroy();
    }
  });

  const cases = [
    {
      who: "root without CAP_SYS_ADMIN",
      setpriv: ["--bounding-set", "-sys_admin", "--inh-caps", "-sys_admin"],
      names: [/lacks CAP_SYS_ADMIN \(missing privilege\)/, /Setting up the namespaces failed: .*Operation not permitted/s],
    },
    {
      who: "root without CAP_NET_ADMIN",
      setpriv: ["--bounding-set", "-net_admin", "--inh-caps", "-net_admin"],
      names: [/lacks CAP_NET_ADMIN \(missing privilege\)/, /Setting up the namespaces failed: .*Operation not permitted/s],
    },
    {
      who: "the nobody user",
      // With CAP_DAC_READ_SEARCH only, so that it can read the repository wherever CI cloned it
      // (a root-only home, say): no other privilege, none of the two the setup needs.
      setpriv: ["--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all,+dac_read_search", "--ambient-caps=+dac_read_search"],
      names: [/runs as uid 65534, not root/, /lacks CAP_SYS_ADMIN and CAP_NET_ADMIN \(missing privileges\)/],
    },
  ];
  for (const { who, setpriv, names } of cases) {
    it(`as ${who}: the setup fails with an error that names the missing privilege, and leaves nothing behind`, async () => {
      // setpriv (util-linux) starts node with fewer privileges; it execs, so node keeps its pid.
      const child = startProcess("setpriv", [...setpriv, process.execPath, "--import", "tsx", fixture("net-setup.ts")], {
        cwd: PACKAGE_DIR,
        env: { PATH: env.PATH },
        label: `net-setup.ts as ${who}`,
      });
      const exit = await within(child.exited, 30_000, `exit of net-setup.ts as ${who}`);
      const line = child.stdout.find((text) => text.startsWith("{"));
      expect(line, `net-setup.ts printed no JSON line; stdout:\n${child.stdout.join("\n")}\nstderr:\n${child.stderr.join("\n")}`).toBeDefined();
      const result = JSON.parse(line ?? "{}") as { type: string; message?: string };
      expect(result.type, `as ${who} the setup must fail`).toBe("failed");
      expect(exit.code).toBe(1);
      const message = result.message ?? "";
      expect(message).toMatch(/needs root with the CAP_SYS_ADMIN and CAP_NET_ADMIN capabilities/);
      for (const pattern of names) expect(message).toMatch(pattern);
      // A setup that failed half-way (the namespaces made, the veth refused) removed what it made.
      expect(namespaces().filter((name) => name.startsWith(`zrpcf-${child.pid}-`) || name.startsWith(`zrpcf-${child.pid}x`))).toEqual([]);
      const failed = /Setting up the namespaces failed: .*/.exec(message)?.[0];
      report(`net setup as ${who}: failed as it must: "${/This process[^.]*\./.exec(message)?.[0] ?? ""}"${failed === undefined ? " (before trying)" : ` (${failed})`}`);
    });
  }
});
