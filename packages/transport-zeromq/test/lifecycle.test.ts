import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { TransportError, bindRouter, connectDealer, createZeromqTransport, zeromqVersion } from "../src/index.js";
import { LOOPBACK, bytes, reader, text, track } from "./helpers.js";

const packageDir = fileURLToPath(new URL("..", import.meta.url));

interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs a fixture with node and waits for the process to end on its own (killed after `limitMs`). */
function runFixture(name: string, args: string[], limitMs: number): Promise<ChildResult> {
  const started = Date.now();
  const child = spawn(process.execPath, [fileURLToPath(new URL(`fixtures/${name}`, import.meta.url)), ...args], {
    cwd: packageDir,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const killer = setTimeout(() => child.kill("SIGKILL"), limitMs);
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      clearTimeout(killer);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - started });
    });
  });
}

describe("lifecycle", () => {
  it("exposes the libzmq version", () => {
    expect(zeromqVersion).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it("close() is idempotent, ends iteration, and resolves closed with no error", async () => {
    const router = await bindRouter(LOOPBACK);
    const iterator = router[Symbol.asyncIterator]();
    const pending = iterator.next();
    const first = router.close();
    const second = router.close();
    expect(second).toBe(first);
    await first;
    expect(await pending).toEqual({ done: true, value: undefined });
    expect(await iterator.next()).toEqual({ done: true, value: undefined });
    expect(await router.closed).toBeUndefined();
    await router.close();
  });

  it("send, bind and connect after close fail with code closed", async () => {
    const dealer = await connectDealer("tcp://127.0.0.1:1");
    await dealer.close();
    let error: unknown;
    try {
      dealer.send(undefined, bytes("late"));
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(TransportError);
    expect(error).toMatchObject({ code: "closed" });
    await expect(dealer.bind(LOOPBACK)).rejects.toMatchObject({ code: "closed" });
    expect(() => dealer.connect("tcp://127.0.0.1:2")).toThrow(TransportError);
  });

  it("allows only one consumer", async () => {
    const router = track(await bindRouter(LOOPBACK));
    router[Symbol.asyncIterator]();
    expect(() => router[Symbol.asyncIterator]()).toThrow(/only one consumer/);
  });

  it("breaking out of for-await ends that iteration but leaves the transport open", async () => {
    const router = track(await bindRouter(LOOPBACK));
    const dealer = track(await connectDealer(router.endpoints[0]!));
    dealer.send(undefined, bytes("one"));
    for await (const message of router) {
      expect(text(message.payload)).toBe("one");
      router.send(message.peer, bytes("still open"));
      break;
    }
    expect(text((await reader(dealer).next()).payload)).toBe("still open");
  });

  it("close() with undeliverable messages returns within linger", async () => {
    // Not connected anywhere: the send waits in zeromq forever, close() gives up after linger.
    const dealer = await createZeromqTransport("dealer", { linger: 50 });
    dealer.send(undefined, bytes("nowhere"));
    const started = Date.now();
    await dealer.close();
    expect(Date.now() - started).toBeLessThan(2000);
    expect(await dealer.closed).toBeUndefined();
  });

  it("binding an address in use rejects with an error naming the endpoint", async () => {
    const first = track(await bindRouter(LOOPBACK));
    const endpoint = first.endpoints[0]!;
    const attempt = createZeromqTransport("router", { bind: endpoint });
    await expect(attempt).rejects.toBeInstanceOf(TransportError);
    await expect(attempt).rejects.toMatchObject({ code: "bind" });
    await expect(attempt).rejects.toThrow(endpoint);
    await expect(attempt).rejects.toThrow(/in use|EADDRINUSE/);
  });

  it("serialises concurrent binds (zeromq.js alone would throw EBUSY)", async () => {
    const router = track(await createZeromqTransport("router"));
    const endpoints = await Promise.all([router.bind(LOOPBACK), router.bind(LOOPBACK), router.bind(LOOPBACK)]);
    expect(new Set(endpoints).size).toBe(3);
    expect(router.endpoints).toEqual(endpoints);
  });

  it("connect() during a running bind throws; close() during a bind rejects the bind", async () => {
    const router = await createZeromqTransport("router");
    const binding = router.bind(LOOPBACK);
    expect(() => router.connect("tcp://127.0.0.1:1")).toThrow(/bind or unbind is in progress/);
    const closing = router.close();
    await expect(binding).rejects.toMatchObject({ code: "closed" });
    await closing;
    expect(await router.closed).toBeUndefined();
  });

  it("an invalid connect endpoint rejects with code connect", async () => {
    await expect(connectDealer("nonsense://x")).rejects.toMatchObject({ code: "connect" });
  });

  describe("process exit (child processes running the built package)", () => {
    const dist = fileURLToPath(new URL("../dist/index.js", import.meta.url));
    const needBuild = (): void => {
      if (!existsSync(dist)) throw new Error("dist/index.js is missing: build the package (tsup) before these tests");
    };

    it("exits by itself after a round trip and close()", async () => {
      needBuild();
      const result = await runFixture("round-trip-then-exit.mjs", [], 10_000);
      expect(result.stderr).toBe("");
      expect(result).toMatchObject({ code: 0, signal: null, stdout: "pong\n" });
      expect(result.ms).toBeLessThan(5000);
    });

    it("exits by itself when queued messages cannot be delivered (libzmq's linger -1 would hang)", async () => {
      needBuild();
      // Port 1 on loopback: nobody listens, libzmq keeps retrying the connection.
      const result = await runFixture("undeliverable-then-exit.mjs", ["tcp://127.0.0.1:1"], 10_000);
      expect(result).toMatchObject({ code: 0, signal: null, stdout: "closed\n" });
      expect(result.ms).toBeLessThan(5000);
    });
  });
});
