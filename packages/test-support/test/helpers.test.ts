import { createServer } from "node:net";
import type { Server } from "node:net";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import {
  Resources,
  TEST_METHOD_NAMES,
  deferred,
  expectedTypesJson,
  freeEndpoint,
  freePort,
  loadVector,
  patternBytes,
  pseudoRandomBytes,
  reader,
  seededRandom,
  startNode,
  startProcess,
  stopAllProcesses,
  stopProcess,
  utf8,
  utf8Text,
} from "../src/index.js";

const CHILD = fileURLToPath(new URL("./fixtures/child.mjs", import.meta.url));

afterEach(() => stopAllProcesses());

function listen(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve(server));
  });
}

describe("freePort", () => {
  it("gives ports that can be bound, and different ones while they are held", async () => {
    const first = await freePort();
    const held = await listen(first);
    const second = await freePort();
    expect(second).not.toBe(first);
    const other = await listen(second);
    await Promise.all([held, other].map((server) => new Promise((resolve) => server.close(resolve))));
  });

  it("spells an endpoint", async () => {
    expect(await freeEndpoint()).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
  });
});

describe("deferred", () => {
  it("resolves and rejects from outside, and tells whether it settled", async () => {
    const ok = deferred<number>();
    expect(ok.settled).toBe(false);
    ok.resolve(3);
    expect(ok.settled).toBe(true);
    await expect(ok.promise).resolves.toBe(3);
    const failed = deferred();
    failed.reject(new Error("no"));
    await expect(failed.promise).rejects.toThrow("no");
  });
});

describe("child processes", () => {
  it("waits for a ready line, reads both streams, and stops the child with SIGTERM", async () => {
    const child = startNode(CHILD, [], { stdin: "pipe" });
    const ready = await child.waitForLine(/^ready (\d+)$/);
    expect(Number(ready[1])).toBe(child.pid);
    await child.waitForLine((line) => line === "to stderr", "stderr");
    child.child.stdin!.write("hi\n");
    await expect(child.waitForLine((line) => line.startsWith("echo "))).resolves.toBe("echo hi");
    const exit = await child.stop();
    expect(exit).toEqual({ code: 0, signal: null });
    expect(child.stdout).toContain("got SIGTERM");
  });

  it("escalates to SIGKILL when the child ignores SIGTERM past the grace", async () => {
    const child = startNode(CHILD, ["--ignore-term"]);
    await child.waitForLine(/^ready/);
    const exit = await child.stop({ graceMs: 200 });
    expect(exit.signal).toBe("SIGKILL");
    expect(child.stdout).toContain("ignoring SIGTERM");
  });

  it("rejects a wait when the child exits first, with what it printed", async () => {
    const child = startProcess(process.execPath, ["-e", "console.log('only line')"], { label: "short" });
    await expect(child.waitForLine(/never/)).rejects.toThrow(/short exited \(0\) before printing \/never\/ on stdout\nstdout:\nonly line/);
  });

  it("stops a process known only by its PID", async () => {
    const child = startNode(CHILD, ["--ignore-term"]);
    const ready = await child.waitForLine(/^ready (\d+)$/);
    const gone = stopProcess(Number(ready[1]), { graceMs: 200 });
    // The test process is the parent: its handle reaps the child, so the PID disappears.
    expect((await child.exited).signal).toBe("SIGKILL");
    await expect(gone).resolves.toBe(true);
  });

  it("stopAllProcesses ends every child still running", async () => {
    const children = [startNode(CHILD), startNode(CHILD)];
    await Promise.all(children.map((child) => child.waitForLine(/^ready/)));
    await stopAllProcesses();
    for (const child of children) expect(child.exit?.signal).toBe("SIGKILL");
  });
});

describe("bytes", () => {
  it("patternBytes is byte i = i % 256", () => {
    const bytes = patternBytes(300);
    expect(bytes[0]).toBe(0);
    expect(bytes[255]).toBe(255);
    expect(bytes[256]).toBe(0);
  });

  it("seeded data repeats for a seed and differs across seeds", () => {
    expect(pseudoRandomBytes(64, 7)).toEqual(pseudoRandomBytes(64, 7));
    expect(pseudoRandomBytes(64, 7)).not.toEqual(pseudoRandomBytes(64, 8));
    const a = seededRandom(1);
    const b = seededRandom(1);
    const values = Array.from({ length: 5 }, () => a());
    expect(values).toEqual(Array.from({ length: 5 }, () => b()));
    expect(values.every((value) => value >= 0 && value < 1)).toBe(true);
  });
});

describe("TestService table", () => {
  it("lists the eight methods alphabetically", () => {
    expect(TEST_METHOD_NAMES).toEqual(["add", "big", "echo", "fail", "hello", "range", "sleep", "types"]);
  });

  it("expects exactly what zerorpc-python answered to types() (vector call_no_args)", () => {
    const reply = loadVector("call_no_args").messages.find((message) => message.event?.name === "OK")!;
    expect(reply.event!.args).toEqual([expectedTypesJson()]);
  });
});

describe("Resources", () => {
  it("closes newest first by default, and forgets what it closed", async () => {
    const order: string[] = [];
    const resources = new Resources();
    resources.add({ close: () => order.push("server") });
    resources.defer(async () => {
      await Promise.resolve();
      order.push("client");
    });
    expect(resources.size).toBe(2);
    await resources.closeAll();
    expect(order).toEqual(["client", "server"]);
    expect(resources.size).toBe(0);
  });

  it("runs every close even when one fails, then throws the first failure", async () => {
    const closed: number[] = [];
    const resources = new Resources();
    resources.defer(() => closed.push(1));
    resources.defer(() => {
      throw new Error("close failed");
    });
    await expect(resources.closeAll("parallel")).rejects.toThrow("close failed");
    expect(closed).toEqual([1]);
  });
});

describe("reader", () => {
  it("takes items one at a time and tells when the iteration ends", async () => {
    async function* three(): AsyncGenerator<number> {
      for (const item of [1, 2, 3]) yield await Promise.resolve(item);
    }
    const read = reader(three());
    expect(await read.next()).toBe(1);
    expect(await read.take(2)).toEqual([2, 3]);
    expect(await read.done()).toBe(true);
    await expect(read.next()).rejects.toThrow("iteration ended");
    expect(utf8Text(utf8("h\u00e9"))).toBe("h\u00e9");
  });
});
