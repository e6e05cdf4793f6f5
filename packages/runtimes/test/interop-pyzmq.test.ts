// @zrpc/transport-zmtp on Bun and on Deno against libzmq through pyzmq (Debian's python3-zmq),
// with the Python peers of @zrpc/transport-zmtp's own interop tests: our DEALER (on the runtime)
// against pyzmq's ROUTER echo, and pyzmq's DEALER client against our ROUTER echo (on the runtime).
// A missing python3 or pyzmq fails these tests (no skipping).
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { startProcess } from "@zrpc/test-support";
import { beforeAll, describe, expect, it } from "vitest";
import { FIXTURES, REPO_DIR, RUNTIMES, startOn } from "./runtimes.js";

const PY_FIXTURES = join(REPO_DIR, "packages", "transport-zmtp", "test", "fixtures");

/** The Python that has pyzmq: $ZRPC_PYTHON, else `python3` on PATH, else Debian's system python. */
function findPython(): string {
  const candidates = [process.env.ZRPC_PYTHON, "python3", "/usr/bin/python3"].filter((candidate): candidate is string => !!candidate);
  for (const candidate of candidates) {
    if (spawnSync(candidate, ["-c", "import zmq"], { encoding: "utf8" }).status === 0) return candidate;
  }
  throw new Error(`pyzmq interop needs python3 with pyzmq (Debian: apt-get install -y python3-zmq) or ZRPC_PYTHON; tried ${candidates.join(", ")}`);
}

let python = "";
beforeAll(() => {
  python = findPython();
});

for (const runtime of RUNTIMES) {
  describe(`@zrpc/transport-zmtp on ${runtime} with pyzmq (libzmq)`, () => {
    it(`our DEALER on ${runtime} -> pyzmq ROUTER echo: routing id, 0/1/255/256-byte and 8 MiB frames, 3,000 in order`, async () => {
      const server = startProcess(python, [join(PY_FIXTURES, "pyzmq_router_echo.py"), "tcp://127.0.0.1:*"], { label: "pyzmq_router_echo.py" });
      const endpoint = (await server.waitForLine(/^READY (\S+)$/))[1]!;
      const dealer = startOn(runtime, join(FIXTURES, "zmtp-dealer.mjs"), [endpoint]);
      const exit = await dealer.exited;
      expect(dealer.stdout.filter((line) => !line.startsWith("OK ")), dealer.stderr.join("\n")).toEqual([]);
      expect(dealer.stdout).toEqual(["OK identity", "OK 0-byte", "OK 1-byte", "OK 255-byte", "OK 256-byte", "OK 8MiB", "OK 3000-in-order", "OK stop"]);
      expect(exit).toEqual({ code: 0, signal: null });
      expect((await server.exited).code).toBe(0);
    });

    it(`pyzmq DEALER (with ROUTING_ID) -> our ROUTER echo on ${runtime}: every check of the Python client passes`, async () => {
      const router = startOn(runtime, join(FIXTURES, "zmtp-router-echo.mjs"), ["tcp://127.0.0.1:*"]);
      const endpoint = (await router.waitForLine(/^READY (\S+)$/))[1]!;
      const client = startProcess(python, [join(PY_FIXTURES, "pyzmq_dealer_client.py"), endpoint, "py-client"], { label: "pyzmq_dealer_client.py" });
      const exit = await client.exited;
      expect(client.stdout.filter((line) => !line.startsWith("OK ")), client.stderr.join("\n")).toEqual([]);
      expect(client.stdout).toEqual(["OK identity", "OK 0-byte", "OK 1-byte", "OK 255-byte", "OK 256-byte", "OK 8MiB", "OK envelope", "OK 3000-in-order"]);
      expect(exit.code).toBe(0);
      expect(await router.stop({ signal: "SIGTERM", graceMs: 20_000 })).toEqual({ code: 0, signal: null });
    });
  });
}
