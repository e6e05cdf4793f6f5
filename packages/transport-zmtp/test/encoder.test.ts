import { Buffer } from "node:buffer";
import { describe, expect, it } from "vitest";
import { COPY_LIMIT, encodeBatch } from "../src/encoder.js";
import { encodeCommand, encodeGreeting, encodePing, encodePong, encodeReady, parseProperties } from "../src/protocol.js";
import { decodeChunks, hexOf, recordedConnection } from "./codec-helpers.js";

describe("encoder", () => {
  it("writes the greeting and READY like libzmq (recorded connection), with an all-zero padding", () => {
    const recorded = Buffer.concat(recordedConnection()["client->server"].chunks);
    const ours = Buffer.concat([encodeGreeting(), encodeReady("DEALER", undefined)]);
    expect(hexOf(ours.subarray(0, 10))).toBe("ff00000000000000007f");
    // libzmq puts 01 in the last padding octet (its ZMTP 1.0 pseudo-size); the padding is not
    // significant (37/ZMTP), everything else matches byte for byte.
    const theirs = Buffer.from(recorded.subarray(0, ours.length));
    theirs[8] = 0;
    expect(hexOf(ours)).toBe(hexOf(theirs));
  });

  it("encodes a batch of messages into one buffer that decodes back, short and long frames", () => {
    const messages = [
      [Buffer.alloc(0), Buffer.from("payload")],
      [Buffer.alloc(255, 1)],
      [Buffer.alloc(256, 2), Buffer.alloc(0), Buffer.from("x")],
    ];
    const parts = encodeBatch([...messages, encodePing(0, Buffer.from("ctx"))]);
    expect(parts).toHaveLength(1);
    const seen = decodeChunks([encodeGreeting(), ...parts]);
    expect(seen.slice(1)).toEqual([
      ...messages.map((frames) => ({ type: "message", frames: frames.map(hexOf) })),
      { type: "command", name: "PING", data: "0000" + Buffer.from("ctx").toString("hex") },
    ]);
  });

  it("passes bodies of COPY_LIMIT octets and more by reference, between pieces of the batch", () => {
    const big = Buffer.alloc(COPY_LIMIT, 7);
    const parts = encodeBatch([[Buffer.from("a")], [Buffer.alloc(0), big], [Buffer.from("b")]]);
    expect(parts).toHaveLength(3);
    expect(parts[1]).toBe(big);
    const seen = decodeChunks([encodeGreeting(), ...parts]);
    expect(seen.slice(1).map((entry) => (entry.type === "message" ? entry.frames.map((frame) => frame.length / 2) : entry))).toEqual([
      [1],
      [0, COPY_LIMIT],
      [1],
    ]);
  });

  it("encodes commands with long sizes and PONG contexts capped at 16 octets", () => {
    const long = encodeCommand("SUBSCRIBE", Buffer.alloc(300, 0x41));
    expect(long[0]).toBe(0x06);
    expect(decodeChunks([encodeGreeting(), long])[1]).toMatchObject({ type: "command", name: "SUBSCRIBE" });
    const pong = encodePong(Buffer.alloc(40, 1));
    expect(decodeChunks([encodeGreeting(), pong])[1]).toEqual({ type: "command", name: "PONG", data: "01".repeat(16) });
  });

  it("READY of a ROUTER or DEALER carries Identity; other kinds only Socket-Type", () => {
    const ready = (type: Parameters<typeof encodeReady>[0], identity?: Uint8Array): Record<string, string> => {
      const seen = decodeChunks([encodeGreeting(), encodeReady(type, identity)]);
      const command = seen[1] as { data: string };
      const properties = parseProperties(Buffer.from(command.data, "hex"));
      if (typeof properties === "string") throw new Error(properties);
      return Object.fromEntries([...properties].map(([key, value]) => [key, Buffer.from(value).toString()]));
    };
    expect(ready("DEALER", Buffer.from("me"))).toEqual({ "socket-type": "DEALER", identity: "me" });
    expect(ready("ROUTER")).toEqual({ "socket-type": "ROUTER", identity: "" });
    expect(ready("PUB")).toEqual({ "socket-type": "PUB" });
  });

  it("rejects malformed metadata", () => {
    expect(parseProperties(Buffer.from([0]))).toMatch(/empty name/);
    expect(parseProperties(Buffer.from([3, 0x41, 0x42]))).toMatch(/truncated/);
    expect(parseProperties(Buffer.from([1, 0x41, 0, 0, 0, 9, 1]))).toMatch(/truncated value/);
    expect(parseProperties(Buffer.from([1, 0x20, 0, 0, 0, 0]))).toMatch(/invalid character/);
  });
});
