import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { ZmtpError, bindRouter, connectDealer, createZmtpTransport, zmtpTransportDefaults } from "../src/index.js";
import { LOOPBACK, bytes, isHandshake, monitor, reader, text, track } from "./helpers.js";

const packageDir = fileURLToPath(new URL("..", import.meta.url));

/** Runs a fixture with node and waits for the process to end on its own (killed after `limitMs`). */
function runFixture(name: string, limitMs: number): Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [fileURLToPath(new URL(`fixtures/${name}`, import.meta.url))], {
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
      resolve({ code, signal, stdout, stderr });
    });
  });
}

describe("lifecycle", () => {
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
    expect(router.endpoints).toEqual([]);
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
    expect(error).toBeInstanceOf(ZmtpError);
    expect(error).toMatchObject({ code: "closed" });
    await expect(dealer.bind(LOOPBACK)).rejects.toMatchObject({ code: "closed" });
    expect(() => dealer.connect("tcp://127.0.0.1:2")).toThrow(ZmtpError);
  });

  it("the process exits by itself after close (heartbeats, reconnect timers, ipc listener)", async () => {
    const result = await runFixture("round-trip-then-exit.mjs", 15_000);
    expect(result.stderr).toBe("");
    expect(result.signal).toBeNull();
    expect(result.code).toBe(0);
    expect(result.stdout).toBe("pong\n");
  });

  it("close() flushes queued messages (linger)", async () => {
    const router = track(await bindRouter(LOOPBACK));
    const events = monitor();
    const dealer = await connectDealer(router.endpoints[0] as string, { monitor: events.listener });
    await events.waitFor(isHandshake);
    for (let i = 0; i < 2000; i++) dealer.send(undefined, bytes(`last words ${i}`));
    await dealer.close();
    const messages = await reader(router).take(2000);
    expect(text((messages.at(-1) as { payload: Uint8Array }).payload)).toBe("last words 1999");
  });

  it("close() of a DEALER with messages but no peer returns after linger", async () => {
    const dealer = await connectDealer("tcp://127.0.0.1:1", { linger: 100 });
    dealer.send(undefined, bytes("nowhere"));
    const started = Date.now();
    await dealer.close();
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(90);
    expect(elapsed).toBeLessThan(2000);
  });

  it("close() with linger 0 drops queued messages at once", async () => {
    const dealer = await connectDealer("tcp://127.0.0.1:1", { linger: 0 });
    dealer.send(undefined, bytes("dropped"));
    const started = Date.now();
    await dealer.close();
    // With any linger this close would wait all of it for the peer that never comes (the
    // default, 1 s, when 0 were ignored); without one it waits for no timer at all.
    expect(Date.now() - started).toBeLessThan(zmtpTransportDefaults.linger);
  });

  it("breaking out of for-await ends that iteration but leaves the transport open", async () => {
    const router = track(await bindRouter(LOOPBACK));
    const dealer = track(await connectDealer(router.endpoints[0] as string));
    dealer.send(undefined, bytes("one"));
    for await (const message of router) {
      expect(text(message.payload)).toBe("one");
      break;
    }
    expect(() => router.send({ key: "", envelope: [new Uint8Array([0, 1, 2, 3, 4])] }, bytes("x"))).not.toThrow();
    expect(() => router[Symbol.asyncIterator]()).toThrow(/only one consumer/);
  });

  it("a dealer's pending messages survive its peer's restart", async () => {
    const first = await bindRouter(LOOPBACK);
    const endpoint = first.endpoints[0] as string;
    const events = monitor();
    const dealer = track(await connectDealer(endpoint, { reconnectInterval: 10, monitor: events.listener }));
    await events.waitFor(isHandshake);
    await first.close();
    await events.waitFor((event) => event.type === "disconnect");
    for (let i = 0; i < 10; i++) dealer.send(undefined, bytes(`queued ${i}`));
    const second = track(await bindRouter(endpoint));
    const messages = await reader(second).take(10);
    expect(messages.map((message) => text(message.payload))).toEqual(Array.from({ length: 10 }, (_, i) => `queued ${i}`));
  });

  it("validates options", async () => {
    await expect(createZmtpTransport("router", { routingId: "x" })).rejects.toThrow(TypeError);
    await expect(createZmtpTransport("dealer", { routingId: new Uint8Array([0, 1]) })).rejects.toThrow(RangeError);
    await expect(createZmtpTransport("dealer", { sendHighWaterMark: -1 })).rejects.toThrow(RangeError);
    await expect(createZmtpTransport("pub", { subscribe: ["a"] })).rejects.toThrow(TypeError);
    await expect(createZmtpTransport("dealer", { heartbeatMs: 10, heartbeatIvl: 10 })).rejects.toThrow(TypeError);
    await expect(createZmtpTransport("dealer", { heartbeatTimeoutMs: 10, heartbeatTimeout: 10 })).rejects.toThrow(TypeError);
    await expect(createZmtpTransport("dealer", { heartbeatIvl: -1 })).rejects.toThrow(/heartbeatIvl/);
    expect(zmtpTransportDefaults).toMatchObject({ sendHighWaterMark: 1000, maxMessageSize: 104_858_624, maxFramesPerMessage: 64, linger: 1000 });
  });
});
