// Fuzzing the connection parser: random and mutated byte streams, in random chunkings, go through
// a ZmtpConnection (decoder, greeting, READY, commands) on a fake socket. Seeded, deterministic.
import { Buffer } from "node:buffer";
import type { Socket } from "node:net";
import { describe, expect, it } from "vitest";
import { ZmtpConnection } from "../src/connection.js";
import type { ConnectionOwner } from "../src/connection.js";
import { ZmtpError } from "../src/errors.js";
import { resolveOptions } from "../src/options.js";
import type { ResolvedOptions } from "../src/options.js";
import { FakeSocket, frame, greeting, prng, randomChunks, readyCommand, recordedConnection } from "./codec-helpers.js";

const STREAMS = 100_000;
const MAX_MESSAGE = 2000;
const MAX_FRAMES = 8;
const MAX_COMMAND = 600;

interface Outcome {
  messages: number;
  commands: number;
  errors: Error[];
  closed: boolean;
}

function makeOwner(outcome: Outcome): ConnectionOwner {
  return {
    onHandshake: () => undefined,
    onFrames: (_connection, frames) => {
      outcome.messages += 1;
      if (frames.length > MAX_FRAMES) throw new Error(`message with ${frames.length} frames delivered`);
      const total = frames.reduce((sum, bytes) => sum + bytes.byteLength, 0);
      if (total > MAX_MESSAGE) throw new Error(`message of ${total} octets delivered`);
    },
    onSubscription: () => {
      outcome.commands += 1;
    },
    onHeartbeat: () => undefined,
    onWritable: () => undefined,
    onClose: (_connection, error) => {
      outcome.closed = true;
      if (error !== undefined) outcome.errors.push(error);
    },
    scheduleFlush: (connection) => connection.scheduledFlush(),
  };
}

/** Valid traffic: greeting, READY, then messages and commands. */
function validStream(random: () => number, minor: number): Buffer {
  const parts: Buffer[] = [greeting(3, minor), readyCommand({ "Socket-Type": "DEALER", Identity: random() < 0.5 ? "" : "peer-1" })];
  const count = Math.floor(random() * 6);
  for (let m = 0; m < count; m++) {
    const kind = random();
    if (kind < 0.15) {
      parts.push(frame(Buffer.concat([Buffer.from([4]), Buffer.from("PING"), Buffer.from([0, Math.floor(random() * 3)]), Buffer.alloc(Math.floor(random() * 20))]), 0x04));
    } else if (kind < 0.25) {
      parts.push(frame(Buffer.concat([Buffer.from([9]), Buffer.from("SUBSCRIBE"), Buffer.alloc(Math.floor(random() * 40), 0x41)]), 0x04));
    } else {
      const frames = 1 + Math.floor(random() * 4);
      for (let f = 0; f < frames; f++) {
        const size = random() < 0.2 ? 250 + Math.floor(random() * 20) : Math.floor(random() * 60);
        parts.push(frame(Buffer.alloc(size, f), f < frames - 1 ? 1 : 0, random() < 0.05));
      }
    }
  }
  return Buffer.concat(parts);
}

function mutate(data: Buffer, random: () => number): Buffer {
  const pick = (n: number): number => Math.floor(random() * n);
  let out = Buffer.from(data);
  const rounds = 1 + pick(4);
  for (let r = 0; r < rounds && out.length > 0; r++) {
    const at = pick(out.length);
    switch (pick(7)) {
      case 0: // flip bits
        out[at] = (out[at] as number) ^ (1 << pick(8));
        break;
      case 1: // random byte
        out[at] = pick(256);
        break;
      case 2: // insert random bytes
        out = Buffer.concat([out.subarray(0, at), Buffer.from(Array.from({ length: 1 + pick(8) }, () => pick(256))), out.subarray(at)]);
        break;
      case 3: // delete a range
        out = Buffer.concat([out.subarray(0, at), out.subarray(at + 1 + pick(16))]);
        break;
      case 4: // duplicate a range
        out = Buffer.concat([out.subarray(0, at), out.subarray(at, at + 1 + pick(32)), out.subarray(at)]);
        break;
      case 5: {
        // a LONG header with a huge or limit-straddling size
        const header = Buffer.alloc(9);
        header[0] = [0x02, 0x03, 0x06, 0x07, 0x0a][pick(5)] as number;
        const size = [MAX_MESSAGE, MAX_MESSAGE + 1, MAX_COMMAND + 1, 2 ** 40, pick(2 ** 31)][pick(5)] as number;
        header.writeBigUInt64BE(BigInt(size), 1);
        out = Buffer.concat([out.subarray(0, at), header, out.subarray(at)]);
        break;
      }
      default: // truncate
        out = out.subarray(0, at);
        break;
    }
  }
  return out;
}

describe("fuzz: the connection parser", () => {
  it(`survives ${STREAMS.toLocaleString("en")} random and mutated streams in random chunkings`, () => {
    const random = prng(20240601);
    const recorded = Buffer.concat(recordedConnection()["client->server"].chunks);
    let largestAllocation = 0;
    const base = resolveOptions("router", { maxMessageSize: MAX_MESSAGE, maxFramesPerMessage: MAX_FRAMES, handshakeTimeout: 0 });
    const options = {
      ...base,
      maxCommandSize: MAX_COMMAND,
      allocate: (size: number): Uint8Array => {
        largestAllocation = Math.max(largestAllocation, size);
        if (size > MAX_MESSAGE) throw new Error(`allocation of ${size} octets`);
        return Buffer.allocUnsafe(size);
      },
    } as ResolvedOptions;
    const totals = { messages: 0, errors: 0, clean: 0, codes: new Map<string, number>() };
    const cpuStart = process.cpuUsage();
    for (let i = 0; i < STREAMS; i++) {
      let stream: Buffer;
      const kind = random();
      if (kind < 0.05) {
        stream = Buffer.from(Array.from({ length: Math.floor(random() * 200) }, () => Math.floor(random() * 256)));
      } else if (kind < 0.1) {
        stream = Buffer.concat([greeting(3, 1), Buffer.from(Array.from({ length: Math.floor(random() * 200) }, () => Math.floor(random() * 256)))]);
      } else if (kind < 0.2) {
        stream = mutate(recorded, random);
      } else if (kind < 0.3) {
        stream = validStream(random, random() < 0.5 ? 0 : 1);
      } else {
        stream = mutate(validStream(random, random() < 0.5 ? 0 : 1), random);
      }
      const socket = new FakeSocket();
      const outcome: Outcome = { messages: 0, commands: 0, errors: [], closed: false };
      const connection = new ZmtpConnection({ socket: socket as unknown as Socket, endpoint: "tcp://fuzz:1", owner: makeOwner(outcome), options, socketType: "ROUTER" });
      connection.start();
      for (const chunk of randomChunks(stream, random, 1 + Math.floor(random() * 64))) {
        socket.emit("data", chunk);
        if (socket.destroyed || socket.ended) break;
      }
      if (socket.destroyed || socket.ended) socket.emit("close");
      totals.messages += outcome.messages;
      for (const error of outcome.errors) {
        // Plain checks in the loop: expect() per error would dominate the run time.
        if (!(error instanceof ZmtpError)) expect.fail(`not a ZmtpError: ${String(error)}`);
        const code = error.code;
        if (code !== "protocol" && code !== "limit") expect.fail(`unexpected error code ${code}: ${error.message}`);
        totals.codes.set(code, (totals.codes.get(code) ?? 0) + 1);
      }
      if (outcome.errors.length > 0) totals.errors += 1;
      else totals.clean += 1;
      connection.destroy();
    }
    // CPU time, not wall time: a loaded CI machine stretches the latter, the budget is about cost.
    const cpu = process.cpuUsage(cpuStart);
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    expect(largestAllocation).toBeLessThanOrEqual(MAX_MESSAGE);
    // The corpus must exercise both outcomes and both error kinds.
    expect(totals.errors).toBeGreaterThan(STREAMS / 10);
    expect(totals.clean).toBeGreaterThan(STREAMS / 10);
    expect(totals.messages).toBeGreaterThan(STREAMS / 10);
    expect(totals.codes.get("protocol")).toBeGreaterThan(1000);
    expect(totals.codes.get("limit")).toBeGreaterThan(1000);
    expect(cpuSeconds).toBeLessThan(30);
    // The wall-clock cap is wider than the CPU budget: other jobs may share the CI machine.
  }, 120_000);
});
