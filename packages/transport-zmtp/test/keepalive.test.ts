// Keepalives a caller asks for through the factory (TransportDefaults.heartbeatMs: a client passes
// its heartbeat interval), PINGs only to ZMTP 3.1 peers, and the dial timeout (a connect attempt
// into a network that drops packets is given up and retried).
import { Buffer } from "node:buffer";
import { spawn } from "node:child_process";
import { connect as netConnect } from "node:net";
import type { Socket } from "node:net";
import { describe, expect, it } from "vitest";
import { ZmtpEndpointError, bindRouter, connectDealer, zmtp } from "../src/index.js";
import { frame, greeting, readyCommand } from "./codec-helpers.js";
import { LOOPBACK, monitor, track } from "./helpers.js";

const isPing = (event: { type: string }): boolean => event.type === "ping";

/** A raw peer of `endpoint` speaking ZMTP 3.`minor` as a DEALER; counts the PINGs it receives and answers them. */
function rawDealer(endpoint: string, minor: number): { socket: Socket; pings: () => number; waitPings: (n: number) => Promise<void> } {
  const url = new URL(endpoint.replace("tcp://", "http://"));
  const socket = netConnect({ host: url.hostname, port: Number(url.port) });
  track({ close: () => socket.destroy() });
  socket.on("error", () => undefined);
  const ping = Buffer.from("\x04PING", "latin1");
  let pings = 0;
  const waiting: { n: number; resolve: () => void }[] = [];
  socket.on("data", (chunk: Buffer) => {
    for (let at = chunk.indexOf(ping); at >= 0; at = chunk.indexOf(ping, at + 1)) {
      pings += 1;
      socket.write(frame(Buffer.from("\x04PONG", "latin1"), 0x04));
    }
    for (const entry of [...waiting]) {
      if (pings >= entry.n) {
        waiting.splice(waiting.indexOf(entry), 1);
        entry.resolve();
      }
    }
  });
  socket.write(Buffer.concat([greeting(3, minor), readyCommand({ "Socket-Type": "DEALER", Identity: "" })]));
  return {
    socket,
    pings: () => pings,
    waitPings: (n) => (pings >= n ? Promise.resolve() : new Promise((resolve) => waiting.push({ n, resolve }))),
  };
}

/**
 * A TCP port on 127.0.0.1 that takes no connection: a listener with a full accept queue that never
 * accepts (Linux then drops further SYNs, as a partitioned network does). Python, as the pyzmq
 * interop tests use: Node accepts every connection by itself.
 */
async function unansweredPort(): Promise<number> {
  const script = [
    "import socket, sys",
    "s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(0)",
    "held = []",
    "for _ in range(4):",
    "    c = socket.socket(); c.setblocking(False); c.connect_ex(s.getsockname()); held.append(c)",
    "print(s.getsockname()[1], flush=True)",
    "sys.stdin.read()",
  ].join("\n");
  const child = spawn(process.env.ZRPC_PYTHON ?? "python3", ["-c", script], { stdio: ["pipe", "pipe", "inherit"] });
  track({ close: () => child.kill("SIGKILL") });
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.stdout.setEncoding("utf8").once("data", (text: string) => resolve(Number(text.trim())));
  });
}

describe("keepalives and the dial timeout", () => {
  it("a caller's keepalive (TransportDefaults.heartbeatMs) makes the socket PING; the factory's own heartbeatMs wins", async () => {
    const events = monitor();
    const router = track(await bindRouter(LOOPBACK, { monitor: events.listener }));
    const endpoint = router.endpoints[0] as string;
    track(await zmtp().open("dealer", "connect", endpoint, { heartbeatMs: 20, heartbeatTimeoutMs: 1000 }));
    await events.waitForCount(isPing, 3);

    // The factory's 20 ms against the caller's hour: PINGs come at once.
    const ownEvents = monitor();
    const other = track(await bindRouter(LOOPBACK, { monitor: ownEvents.listener }));
    track(await zmtp({ heartbeatMs: 20 }).open("dealer", "connect", other.endpoints[0] as string, { heartbeatMs: 3_600_000 }));
    await ownEvents.waitForCount(isPing, 3);
  });

  it("PINGs ZMTP 3.1 peers only (PING is a 3.1 command)", async () => {
    const router = track(await bindRouter(LOOPBACK, { heartbeatMs: 20, heartbeatTimeoutMs: 60_000 }));
    const endpoint = router.endpoints[0] as string;
    const old = rawDealer(endpoint, 0);
    const modern = rawDealer(endpoint, 1);
    // Both connected at about the same time to the same router: by the time the 3.1 peer has 10
    // PINGs, a 3.0 peer that got PINGs would have some.
    await modern.waitPings(10);
    expect(old.pings()).toBe(0);
    expect(router.peers).toBe(2);
  });

  it("dialTimeoutMs gives up on a connect attempt that gets no answer and dials again; heartbeatMs sets its default", async () => {
    const port = await unansweredPort();
    for (const options of [{ dialTimeoutMs: 100 }, { heartbeatMs: 150 }]) {
      const errors: Error[] = [];
      let twice: () => void = () => undefined;
      const retried = new Promise<void>((resolve) => (twice = resolve));
      track(
        await connectDealer(`tcp://127.0.0.1:${port}`, {
          ...options,
          reconnectInterval: 10,
          onError: (error) => {
            errors.push(error);
            if (errors.length === 2) twice();
          },
        }),
      );
      await retried;
      const expected = "dialTimeoutMs" in options ? options.dialTimeoutMs : options.heartbeatMs;
      for (const error of errors.slice(0, 2)) {
        expect(error).toBeInstanceOf(ZmtpEndpointError);
        expect(error.message).toContain(`connect timed out after ${expected} ms`);
      }
    }
  });
});
