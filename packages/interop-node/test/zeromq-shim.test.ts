/**
 * The zeromq shim that lets zerorpc-node 0.9.8 run here (zeromq-v5-shim/, wired in by the pnpm
 * override `zerorpc>zeromq`): zerorpc-node resolves `zeromq` to it, a call works through it, and a
 * process that closes its zerorpc-node sockets exits by itself even with a request still queued
 * for a peer that never came (zeromq@6's default blocky context would keep it alive forever).
 */
import { sep } from "node:path";
import { describe, expect, it } from "vitest";
import { ScriptProcess, freePort } from "./helpers.js";

describe("zeromq shim for zerorpc-node", () => {
  it("serves a call and lets the process exit with a request still queued", async () => {
    const [live, dead] = [await freePort(), await freePort()];
    const started = Date.now();
    const child = new ScriptProcess("test/fixtures/shim-smoke.ts", [`tcp://127.0.0.1:${live}`, `tcp://127.0.0.1:${dead}`]);
    const timer = setTimeout(() => child.child.kill("SIGKILL"), 20_000);
    const code = await child.exited;
    clearTimeout(timer);
    expect(child.stderr).not.toContain("Waiting for queued ZeroMQ messages");
    expect(code, child.stderr).toBe(0);
    expect(Date.now() - started).toBeLessThan(15_000);
    const [line] = child.json as [{ shim: string; error: unknown; value: unknown }];
    expect(line.shim.endsWith(`${sep}zeromq-v5-shim${sep}index.cjs`)).toBe(true);
    expect(line).toMatchObject({ error: null, value: 5 });
  });
});
