// ZMTP keepalives (ZMQ_HEARTBEAT_IVL / ZMQ_HEARTBEAT_TIMEOUT) through heartbeatMs /
// heartbeatTimeoutMs, and a caller's keepalive through the factory (TransportDefaults.heartbeatMs,
// which a client sets to its heartbeat interval). A raw ZMTP 3.1 ROUTER on node:net counts the
// PINGs libzmq sends.
import { Buffer } from "node:buffer";
import { createServer } from "node:net";
import type { Socket } from "node:net";
import { describe, expect, it } from "vitest";
import { createZeromqTransport, zeromq } from "../src/index.js";
import { track } from "./helpers.js";

/** The 64-octet ZMTP 3.1 greeting, NULL mechanism. */
function greeting(asServer: boolean): Buffer {
  const bytes = Buffer.alloc(64);
  bytes[0] = 0xff;
  bytes[9] = 0x7f;
  bytes[10] = 3;
  bytes[11] = 1;
  bytes.write("NULL", 12, "latin1");
  bytes[32] = asServer ? 1 : 0;
  return bytes;
}

/** A READY command announcing a ROUTER. */
function ready(): Buffer {
  const name = Buffer.from("Socket-Type", "latin1");
  const value = Buffer.from("ROUTER", "latin1");
  const length = Buffer.alloc(4);
  length.writeUInt32BE(value.length);
  const body = Buffer.concat([Buffer.from("\x05READY", "latin1"), Buffer.from([name.length]), name, length, value]);
  return Buffer.concat([Buffer.from([0x04, body.length]), body]);
}

/** A raw ROUTER on 127.0.0.1: handshakes, answers nothing, counts the PINGs its peers send. */
async function pingCounter(): Promise<{ endpoint: string; waitPings: (n: number) => Promise<void> }> {
  const sockets = new Set<Socket>();
  let pings = 0;
  const waiting: { n: number; resolve: () => void }[] = [];
  const ping = Buffer.from("\x04PING", "latin1");
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => undefined);
    socket.write(Buffer.concat([greeting(true), ready()]));
    socket.on("data", (chunk: Buffer) => {
      for (let at = chunk.indexOf(ping); at >= 0; at = chunk.indexOf(ping, at + 1)) pings += 1;
      for (const entry of [...waiting]) {
        if (pings >= entry.n) {
          waiting.splice(waiting.indexOf(entry), 1);
          entry.resolve();
        }
      }
    });
  });
  track({
    close: () => {
      for (const socket of sockets) socket.destroy();
      server.close();
    },
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    endpoint: `tcp://127.0.0.1:${(server.address() as { port: number }).port}`,
    waitPings: (n) => (pings >= n ? Promise.resolve() : new Promise((resolve) => waiting.push({ n, resolve }))),
  };
}

describe("keepalives", () => {
  it("heartbeatMs makes libzmq send ZMTP PINGs", async () => {
    const peer = await pingCounter();
    track(await createZeromqTransport("dealer", { connect: peer.endpoint, heartbeatMs: 20, heartbeatTimeoutMs: 60_000 }));
    await peer.waitPings(3);
  });

  it("a caller's keepalive (TransportDefaults.heartbeatMs) applies; the factory's own heartbeatMs wins", async () => {
    const first = await pingCounter();
    track(await zeromq().open("dealer", "connect", first.endpoint, { heartbeatMs: 20, heartbeatTimeoutMs: 60_000 }));
    await first.waitPings(3);
    // The factory's 20 ms against the caller's hour: PINGs come at once.
    const second = await pingCounter();
    track(await zeromq({ heartbeatMs: 20, heartbeatTimeoutMs: 60_000 }).open("dealer", "connect", second.endpoint, { heartbeatMs: 3_600_000 }));
    await second.waitPings(3);
  });

  it("rejects invalid values", async () => {
    await expect(createZeromqTransport("dealer", { heartbeatMs: -1 })).rejects.toThrow(RangeError);
    await expect(createZeromqTransport("dealer", { heartbeatMs: 10, heartbeatTimeoutMs: 1.5 })).rejects.toThrow(RangeError);
    await expect(createZeromqTransport("dealer", { dialTimeoutMs: -5 })).rejects.toThrow(RangeError);
  });
});
