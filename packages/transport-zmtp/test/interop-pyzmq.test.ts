// Interop with libzmq through pyzmq (Debian's python3-zmq): the Python scripts in fixtures/ act as
// ROUTER echo server and DEALER client. A missing python3 or pyzmq fails these tests (no skipping).
import { Buffer } from "node:buffer";
import { spawn, spawnSync } from "node:child_process";
import type { ChildProcessWithoutNullStreams } from "node:child_process";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { bindRouter, connectDealer } from "../src/index.js";
import { LOOPBACK, bytes, pattern, reader, text, track } from "./helpers.js";

/**
 * The Python that has pyzmq: $ZRPC_PYTHON, else `python3` on PATH, else Debian's system python
 * (python3-zmq installs there; a pyenv or venv python3 first on PATH may lack it).
 */
function findPython(): { python: string; versions: string } | { error: string } {
  const candidates = [process.env.ZRPC_PYTHON, "python3", "/usr/bin/python3"].filter((candidate): candidate is string => !!candidate);
  const tried: string[] = [];
  for (const candidate of candidates) {
    const probe = spawnSync(candidate, ["-c", "import zmq; print(zmq.zmq_version(), zmq.__version__)"], { encoding: "utf8" });
    if (probe.status === 0) return { python: candidate, versions: probe.stdout.trim() };
    tried.push(`${candidate}: ${probe.error?.message ?? probe.stderr.trim().split("\n").at(-1) ?? "failed"}`);
  }
  return {
    error:
      "pyzmq interop needs python3 with pyzmq (Debian: apt-get install -y python3-zmq), " +
      `or ZRPC_PYTHON pointing at a python that has it. Tried: ${tried.join("; ")}`,
  };
}

interface Child {
  readonly process: ChildProcessWithoutNullStreams;
  readonly exited: Promise<{ code: number | null; stdout: string; stderr: string }>;
  /** Resolves with the first stdout line starting with `prefix`. */
  line(prefix: string): Promise<string>;
}

/** The lines of `output` that ended with a newline. */
function completeLines(output: string): string[] {
  return output.split("\n").slice(0, -1);
}

function runPython(python: string, script: string, args: string[]): Child {
  const child = spawn(python, [fileURLToPath(new URL(`fixtures/${script}`, import.meta.url)), ...args]);
  track({ close: () => child.exitCode === null && child.kill("SIGKILL") });
  let stdout = "";
  let stderr = "";
  const waiting: { prefix: string; resolve: (line: string) => void }[] = [];
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk;
    for (const entry of [...waiting]) {
      const found = completeLines(stdout).find((line) => line.startsWith(entry.prefix));
      if (found !== undefined) {
        waiting.splice(waiting.indexOf(entry), 1);
        entry.resolve(found);
      }
    }
  });
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const exited = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on("close", (code) => resolve({ code, stdout, stderr })),
  );
  return {
    process: child,
    exited,
    line: (prefix) =>
      Promise.race([
        new Promise<string>((resolve) => {
          const found = completeLines(stdout).find((line) => line.startsWith(prefix));
          if (found !== undefined) resolve(found);
          else waiting.push({ prefix, resolve });
        }),
        exited.then(({ code, stderr: errors }) => {
          throw new Error(`${script} exited (${String(code)}) before printing ${prefix}: ${errors}`);
        }),
      ]),
  };
}

describe("interop with pyzmq (python3-zmq)", () => {
  let python = "";

  beforeAll(() => {
    const found = findPython();
    if ("error" in found) throw new Error(found.error);
    python = found.python;
  });

  it("finds python3 with pyzmq", () => {
    expect(python).not.toBe("");
  });

  for (const routingId of [undefined, "ts-dealer"]) {
    it(`our DEALER${routingId === undefined ? "" : " (with routingId)"} -> pyzmq ROUTER echo: identity, 0/1/255/256-byte and 8 MiB frames, 3,000 in order`, async () => {
      const server = runPython(python, "pyzmq_router_echo.py", [LOOPBACK]);
      const endpoint = (await server.line("READY ")).slice("READY ".length).trim();
      const dealer = track(await connectDealer(endpoint, routingId === undefined ? {} : { routingId }));
      const fromDealer = reader(dealer);
      dealer.send(undefined, bytes("WHOAMI"));
      const identity = text((await fromDealer.next()).payload);
      if (routingId === undefined) expect(identity).toMatch(/^00[0-9a-f]{8}$/);
      else expect(identity).toBe(Buffer.from(routingId).toString("hex"));
      const shapes = [Buffer.alloc(0), Buffer.from([0x7f]), pattern(255, 1), pattern(256, 2), pattern(8 * 1024 * 1024, 3)];
      for (const payload of shapes) dealer.send(undefined, payload);
      for (const payload of shapes) expect(Buffer.from((await fromDealer.next()).payload).equals(payload)).toBe(true);
      for (let i = 0; i < 3000; i++) dealer.send(undefined, bytes(`n${i}`));
      const replies = await fromDealer.take(3000);
      expect(replies.map((reply) => text(reply.payload))).toEqual(Array.from({ length: 3000 }, (_, i) => `n${i}`));
      dealer.send(undefined, bytes("STOP"));
      expect(text((await fromDealer.next()).payload)).toBe("STOP");
      expect((await server.exited).code).toBe(0);
    });
  }

  for (const identity of [undefined, "py-client"]) {
    it(`pyzmq DEALER${identity === undefined ? "" : " (with ROUTING_ID)"} -> our ROUTER echo: every check of the Python client passes`, async () => {
      const router = track(await bindRouter(LOOPBACK));
      router.onMessage((peer, payload) => {
        if (text(payload) === "WHOAMI") router.send(peer, bytes(peer.key));
        else router.send(peer, payload);
      });
      const client = runPython(python, "pyzmq_dealer_client.py", [router.endpoints[0] as string, ...(identity === undefined ? [] : [identity])]);
      const result = await client.exited;
      expect(result.stdout).not.toContain("FAIL");
      expect(result.code, result.stdout + result.stderr).toBe(0);
      const checks = result.stdout.split("\n").filter((line) => line.startsWith("OK "));
      expect(checks).toEqual([
        ...(identity === undefined ? [] : ["OK identity"]),
        "OK 0-byte",
        "OK 1-byte",
        "OK 255-byte",
        "OK 256-byte",
        "OK 8MiB",
        "OK envelope",
        "OK 3000-in-order",
      ]);
    });
  }
});
