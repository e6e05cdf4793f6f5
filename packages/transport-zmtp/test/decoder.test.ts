import { Buffer } from "node:buffer";
import { describe, expect, it, vi } from "vitest";
import { ZmtpDecoder } from "../src/decoder.js";
import type { DecoderSink } from "../src/decoder.js";
import { parseProperties } from "../src/protocol.js";
import {
  LIMITS,
  RecordingSink,
  decodeChunks,
  frame,
  greeting,
  hexOf,
  pattern,
  prng,
  randomChunks,
  recordedConnection,
  splitAt,
} from "./codec-helpers.js";
import type { RecordedDirection, Seen } from "./codec-helpers.js";

/** What the recording's `zmtp` section says the decoder must see, in our Seen form. */
function expectedFrom(direction: RecordedDirection): Seen[] {
  const seen: Seen[] = [];
  let frames: string[] = [];
  for (const part of direction.parts) {
    if (part.part === "greeting") {
      const [major, minor] = part.version ?? [0, 0];
      seen.push({ type: "greeting", greeting: { major, minor, mechanism: part.mechanism ?? "", asServer: false } });
    } else if (part.part === "command") {
      // The recorded body is name-length, name, data.
      const body = Buffer.from(part.body_hex ?? "", "hex");
      seen.push({ type: "command", name: part.command ?? "", data: hexOf(body.subarray(1 + (body[0] ?? 0))) });
    } else {
      frames.push(part.body_hex ?? "");
      if (part.more !== true) {
        seen.push({ type: "message", frames });
        frames = [];
      }
    }
  }
  return seen;
}

describe("decoder: the recorded libzmq connection (zmtp_tcp_call_add.json)", () => {
  const recorded = recordedConnection();

  for (const name of ["client->server", "server->client"] as const) {
    const direction = recorded[name];
    const whole = Buffer.concat(direction.chunks);
    const expected = expectedFrom(direction);

    it(`${name}: the recorded chunks give the recorded greeting, READY and frames`, () => {
      expect(direction.chunks.length).toBeGreaterThan(1);
      expect(expected.map((entry) => entry.type)).toEqual(["greeting", "command", "message"]);
      expect(decodeChunks(direction.chunks)).toEqual(expected);
      expect(decodeChunks([whole])).toEqual(expected);
    });

    it(`${name}: READY carries the recorded Socket-Type and Identity properties`, () => {
      const seen = decodeChunks([whole]);
      const ready = seen.find((entry) => entry.type === "command");
      expect(ready).toMatchObject({ type: "command", name: "READY" });
      const properties = parseProperties(Buffer.from((ready as { data: string }).data, "hex"));
      if (typeof properties === "string") throw new Error(properties);
      const recordedProperties = direction.parts.find((part) => part.part === "command")?.properties ?? {};
      expect(Object.fromEntries([...properties].map(([key, value]) => [key, Buffer.from(value).toString("latin1")]))).toEqual(
        Object.fromEntries(Object.entries(recordedProperties).map(([key, value]) => [key.toLowerCase(), value])),
      );
      expect(recordedProperties["Socket-Type"]).toBe(name === "client->server" ? "DEALER" : "ROUTER");
    });

    it(`${name}: every split into two and three chunks gives the same result`, () => {
      for (let i = 0; i <= whole.length; i++) {
        expect(decodeChunks(splitAt(whole, [i]))).toEqual(expected);
        for (let j = i; j <= whole.length; j += 1) {
          const seen = decodeChunks(splitAt(whole, [i, j]));
          if (JSON.stringify(seen) !== JSON.stringify(expected)) expect({ i, j, seen }).toEqual({ i, j, seen: expected });
        }
      }
    });

    it(`${name}: 2000 random chunkings give the same result`, () => {
      const random = prng(0x5eed + name.length);
      for (let round = 0; round < 2000; round++) {
        expect(decodeChunks(randomChunks(whole, random, 1 + (round % 40)))).toEqual(expected);
      }
    });

    it(`${name}: byte by byte gives the same result`, () => {
      expect(decodeChunks(splitAt(whole, Array.from({ length: whole.length - 1 }, (_, i) => i + 1)))).toEqual(expected);
    });
  }
});

describe("decoder: greeting", () => {
  it("waits for the whole greeting, which may arrive in pieces (10 + 1 + 53 like libzmq)", () => {
    const data = greeting(3, 1);
    const sink = new RecordingSink();
    const decoder = new ZmtpDecoder(sink, LIMITS);
    decoder.push(data.subarray(0, 10));
    decoder.push(data.subarray(10, 11));
    expect(sink.seen).toEqual([]);
    decoder.push(data.subarray(11));
    expect(sink.seen).toEqual([{ type: "greeting", greeting: { major: 3, minor: 1, mechanism: "NULL", asServer: false } }]);
  });

  it("accepts ZMTP 3.0 and later versions (a peer MUST accept higher versions)", () => {
    expect(decodeChunks([greeting(3, 0)])[0]).toMatchObject({ greeting: { major: 3, minor: 0 } });
    expect(decodeChunks([greeting(4, 2)])[0]).toMatchObject({ greeting: { major: 4, minor: 2 } });
  });

  it("rejects a stream that does not start with ff at the first octet", () => {
    expect(decodeChunks([Buffer.from("GET / HTTP/1.1\r\n")])).toEqual([
      { type: "error", code: "protocol", message: expect.stringContaining("first octet 47") as string },
    ]);
    expect(decodeChunks([Buffer.from([0x00])])).toMatchObject([{ type: "error", code: "protocol" }]);
  });

  it("rejects a signature that does not end with 7f", () => {
    const data = greeting();
    data[9] = 0x01;
    expect(decodeChunks([data.subarray(0, 10)])).toMatchObject([{ type: "error", code: "protocol" }]);
  });

  it("rejects ZMTP 1.0 / 2.0 peers (no downgrade) as soon as the major version arrives", () => {
    expect(decodeChunks([greeting(2, 0).subarray(0, 11)])).toMatchObject([
      { type: "error", code: "protocol", message: expect.stringContaining("version 2") as string },
    ]);
    expect(decodeChunks([greeting(1, 0).subarray(0, 11)])).toMatchObject([{ type: "error", code: "protocol" }]);
  });

  it("rejects other mechanisms and junk in the mechanism padding", () => {
    expect(decodeChunks([greeting(3, 1, "CURVE")])).toMatchObject([
      { type: "error", code: "protocol", message: expect.stringContaining("CURVE") as string },
    ]);
    const junk = greeting();
    junk[20] = 0x41;
    expect(decodeChunks([junk])).toMatchObject([{ type: "error", code: "protocol" }]);
  });

  it("stops for good after an error", () => {
    const bad = Buffer.concat([Buffer.from([0x01]), greeting()]);
    const sink = new RecordingSink();
    const decoder = new ZmtpDecoder(sink, LIMITS);
    decoder.push(bad);
    decoder.push(greeting());
    expect(sink.seen).toHaveLength(1);
    expect(decoder.stopped).toBe(true);
  });
});

describe("decoder: frames", () => {
  const start = greeting();

  it("handles the short/long boundary: 255 octets short, 256 long, and long-encoded small frames", () => {
    const b255 = Buffer.alloc(255, 1);
    const b256 = Buffer.alloc(256, 2);
    const f255 = frame(b255);
    const f256 = frame(b256);
    expect(f255.subarray(0, 2)).toEqual(Buffer.from([0x00, 0xff]));
    expect(f256.subarray(0, 9)).toEqual(Buffer.from([0x02, 0, 0, 0, 0, 0, 0, 1, 0]));
    const small = frame(Buffer.from("abc"), 0, true);
    const seen = decodeChunks([start, f255, f256, small]);
    expect(seen.slice(1)).toEqual([
      { type: "message", frames: [b255.toString("hex")] },
      { type: "message", frames: [b256.toString("hex")] },
      { type: "message", frames: [Buffer.from("abc").toString("hex")] },
    ]);
  });

  it("groups MORE frames into one message, including 0-octet frames", () => {
    const seen = decodeChunks([start, frame(Buffer.alloc(0), 1), frame(Buffer.from("x"), 1), frame(Buffer.alloc(0))]);
    expect(seen[1]).toEqual({ type: "message", frames: ["", "78", ""] });
  });

  it("decodes commands: name and data, short and long", () => {
    const ping = frame(Buffer.concat([Buffer.from([4]), Buffer.from("PING"), Buffer.from([0, 10, 0xaa])]), 0x04);
    const bigData = Buffer.alloc(300, 7);
    const sub = frame(Buffer.concat([Buffer.from([9]), Buffer.from("SUBSCRIBE"), bigData]), 0x04);
    expect(decodeChunks([start, ping, sub]).slice(1)).toEqual([
      { type: "command", name: "PING", data: "000aaa" },
      { type: "command", name: "SUBSCRIBE", data: bigData.toString("hex") },
    ]);
  });

  it.each([
    ["reserved flag bits", Buffer.from([0x08, 0x00])],
    ["a command with MORE", frame(Buffer.from("\x04PING\x00\x00", "latin1"), 0x05)],
    ["an empty command", Buffer.from([0x04, 0x00])],
    ["a command name of length 0", frame(Buffer.from([0, 1, 2]), 0x04)],
    ["a command name longer than the body", frame(Buffer.from([9, 0x41]), 0x04)],
    ["a command name that is not ALPHA", frame(Buffer.from("\x04PI G", "latin1"), 0x04)],
    ["a command inside a multipart message", Buffer.concat([frame(Buffer.from("a"), 1), frame(Buffer.from("\x04PING\x00\x00", "latin1"), 0x04)])],
  ])("rejects %s as a protocol error", (_, bytes) => {
    const seen = decodeChunks([start, bytes]);
    expect(seen.at(-1)).toMatchObject({ type: "error", code: "protocol" });
  });

  it("hands out frames inside one chunk as zero-copy views, and assembles a split body once at its final size", () => {
    const frames: Uint8Array[] = [];
    const allocate = vi.fn((size: number) => Buffer.alloc(size));
    const sink: DecoderSink = {
      onGreeting: () => undefined,
      onCommand: () => undefined,
      onMessage: (message) => frames.push(...message),
      onError: (error) => {
        throw error;
      },
    };
    const decoder = new ZmtpDecoder(sink, { ...LIMITS, allocate });
    const body = Buffer.alloc(1000, 3);
    const chunk = Buffer.concat([start, frame(Buffer.from("view"))]);
    decoder.push(chunk);
    expect(frames[0]?.buffer).toBe(chunk.buffer);
    expect(allocate).not.toHaveBeenCalled();
    const split = frame(body);
    decoder.push(split.subarray(0, 5)); // header split too
    decoder.push(split.subarray(5, 400));
    decoder.push(split.subarray(400, 700));
    decoder.push(split.subarray(700));
    expect(allocate).toHaveBeenCalledTimes(1);
    expect(allocate).toHaveBeenCalledWith(1000);
    expect(Buffer.from(frames[1] as Uint8Array).equals(body)).toBe(true);
  });
});

describe("decoder: reading the rest of a body directly (directBody / pushDirect)", () => {
  const start = greeting();

  function setUp(): { decoder: ZmtpDecoder; frames: Uint8Array[][] } {
    const frames: Uint8Array[][] = [];
    const sink: DecoderSink = {
      onGreeting: () => undefined,
      onCommand: () => undefined,
      onMessage: (message) => frames.push(message),
      onError: (error) => {
        throw error;
      },
    };
    const decoder = new ZmtpDecoder(sink, { ...LIMITS, allocate: (size) => Buffer.alloc(size) });
    decoder.push(start);
    return { decoder, frames };
  }

  it("offers the missing part of a body, and completes the frame once it is filled", () => {
    const { decoder, frames } = setUp();
    const body = pattern(100_000, 7);
    const bytes = Buffer.concat([frame(Buffer.from("a"), 1), frame(body)]);
    expect(decoder.directBody(1)).toBeUndefined(); // between frames: nothing to offer
    decoder.push(bytes.subarray(0, 3 + 9 + 1000));
    const room = decoder.directBody(16);
    expect(room?.byteLength).toBe(99_000);
    expect(decoder.directBody(99_001)).toBeUndefined();
    // Two reads into the offered room (a read may fill only part of it).
    room!.set(body.subarray(1000, 51_000));
    decoder.pushDirect(50_000);
    const rest = decoder.directBody(16);
    expect(rest?.byteLength).toBe(49_000);
    expect(frames).toHaveLength(0);
    rest!.set(body.subarray(51_000));
    decoder.pushDirect(49_000);
    expect(frames).toHaveLength(1);
    expect(Buffer.from(frames[0]![1]!).equals(body)).toBe(true);
    expect(decoder.directBody(1)).toBeUndefined();
    // The next frame parses normally.
    decoder.push(frame(Buffer.from("next")));
    expect(Buffer.from(frames[1]![0]!).toString()).toBe("next");
  });

  it("offers nothing while paused or holding data back", () => {
    const { decoder } = setUp();
    const bytes = frame(pattern(50_000, 3));
    decoder.push(bytes.subarray(0, 100));
    expect(decoder.directBody(16)).toBeDefined();
    decoder.pause();
    expect(decoder.directBody(16)).toBeUndefined();
    decoder.push(bytes.subarray(100, 200)); // held
    decoder.resume();
    expect(decoder.directBody(16)?.byteLength).toBe(bytes.length - 200);
    decoder.stop();
    expect(decoder.directBody(16)).toBeUndefined();
    decoder.pushDirect(10); // ignored once stopped
  });
});

describe("decoder: limits are checked before allocating", () => {
  const start = greeting();

  function limited(maxMessageSize: number, maxFramesPerMessage = 64) {
    const sink = new RecordingSink();
    const allocate = vi.fn((size: number) => Buffer.alloc(size));
    const decoder = new ZmtpDecoder(sink, { maxMessageSize, maxFramesPerMessage, maxCommandSize: 512, allocate });
    decoder.push(start);
    return { sink, allocate, decoder };
  }

  it("rejects an oversized frame from its header alone: the error comes before the body, nothing is allocated", () => {
    const { sink, allocate, decoder } = limited(1000);
    const header = frame(Buffer.alloc(1001)).subarray(0, 9);
    decoder.push(header);
    expect(sink.seen.at(-1)).toMatchObject({ type: "error", code: "limit", message: expect.stringContaining("maxMessageSize") as string });
    expect(allocate).not.toHaveBeenCalled();
  });

  it("rejects an absurd declared size (2^63) without allocating", () => {
    const { sink, allocate, decoder } = limited(1000);
    decoder.push(Buffer.from([0x02, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]));
    expect(sink.seen.at(-1)).toMatchObject({ type: "error", code: "limit" });
    expect(allocate).not.toHaveBeenCalled();
  });

  it("counts every frame of a message against maxMessageSize", () => {
    const { sink, allocate, decoder } = limited(1000);
    decoder.push(frame(Buffer.alloc(600), 1));
    decoder.push(frame(Buffer.alloc(600)).subarray(0, 9));
    expect(sink.seen.at(-1)).toMatchObject({ type: "error", code: "limit" });
    expect(allocate).not.toHaveBeenCalled();
  });

  it("accepts a frame of exactly maxMessageSize", () => {
    const { sink } = limited(1000);
    const decoder = new ZmtpDecoder(sink, { maxMessageSize: 1000, maxFramesPerMessage: 4, maxCommandSize: 512 });
    decoder.push(Buffer.concat([start, frame(Buffer.alloc(1000))]));
    expect(sink.seen.at(-1)).toMatchObject({ type: "message" });
  });

  it("rejects too many frames in one message at the first frame too many", () => {
    const { sink, decoder } = limited(1000, 4);
    for (let i = 0; i < 4; i++) decoder.push(frame(Buffer.from("a"), 1));
    expect(sink.seen.filter((entry) => entry.type === "error")).toEqual([]);
    decoder.push(Buffer.from([0x01, 0x01])); // the header of a fifth frame
    expect(sink.seen.at(-1)).toMatchObject({ type: "error", code: "limit", message: expect.stringContaining("maxFramesPerMessage") as string });
  });

  it("rejects an oversized command", () => {
    const { sink, allocate, decoder } = limited(1 << 20);
    decoder.push(Buffer.from([0x06, 0, 0, 0, 0, 0, 0, 2, 1]));
    expect(sink.seen.at(-1)).toMatchObject({ type: "error", code: "limit" });
    expect(allocate).not.toHaveBeenCalled();
  });
});

describe("decoder: pause and resume", () => {
  it("holds the rest of a chunk while paused and continues on resume", () => {
    const messages: string[] = [];
    const holder: { decoder?: ZmtpDecoder } = {};
    const sink: DecoderSink = {
      onGreeting: () => undefined,
      onCommand: () => undefined,
      onMessage: (frames) => {
        messages.push(Buffer.from(frames[0] as Uint8Array).toString());
        holder.decoder?.pause();
      },
      onError: (error) => {
        throw error;
      },
    };
    const decoder = new ZmtpDecoder(sink, LIMITS);
    holder.decoder = decoder;
    decoder.push(Buffer.concat([greeting(), frame(Buffer.from("a")), frame(Buffer.from("b")), frame(Buffer.from("c")).subarray(0, 2)]));
    expect(messages).toEqual(["a"]);
    decoder.push(Buffer.from("c"));
    expect(messages).toEqual(["a"]);
    decoder.resume();
    expect(messages).toEqual(["a", "b"]);
    decoder.resume();
    expect(messages).toEqual(["a", "b", "c"]);
  });
});

describe("decoder: memory follows the octets received, not the size declared", () => {
  const MiB = 1024 * 1024;
  const limits = { maxMessageSize: 200 * MiB, maxFramesPerMessage: 64, maxCommandSize: 512 };

  function setUp() {
    const frames: Uint8Array[][] = [];
    const errors: string[] = [];
    const allocate = vi.fn((size: number) => Buffer.alloc(size));
    const sink: DecoderSink = {
      onGreeting: () => undefined,
      onCommand: () => undefined,
      onMessage: (message) => frames.push(message),
      onError: (error) => errors.push(`${error.code}: ${error.message}`),
    };
    const decoder = new ZmtpDecoder(sink, { ...limits, allocate });
    decoder.push(greeting());
    return { decoder, frames, errors, allocate };
  }

  /** The header of a long frame declaring `size` octets. */
  function longHeader(size: number): Buffer {
    const header = Buffer.alloc(9);
    header[0] = 0x02;
    header.writeBigUInt64BE(BigInt(size), 1);
    return header;
  }

  it("a declared 100 MiB frame with 1 KiB received allocates 1 MiB, then grows fourfold as octets arrive", () => {
    const { decoder, frames, errors, allocate } = setUp();
    const size = 100 * MiB;
    decoder.push(Buffer.concat([longHeader(size), Buffer.alloc(1024, 1)]));
    expect(allocate.mock.calls.map(([n]) => n)).toEqual([MiB]);
    // Feed the rest in 64 KiB chunks (as 'data' events deliver it) with a recognisable pattern.
    const body = pattern(size, 5);
    body.fill(1, 0, 1024);
    for (let at = 1024; at < size; at += 64 * 1024) decoder.push(body.subarray(at, Math.min(size, at + 64 * 1024)));
    expect(errors).toEqual([]);
    expect(allocate.mock.calls.map(([n]) => n)).toEqual([1, 4, 16, 64, 100].map((m) => m * MiB));
    expect(frames).toHaveLength(1);
    expect(frames[0]![0]!.byteLength).toBe(size);
    expect(Buffer.from(frames[0]![0]!).equals(body)).toBe(true);
  });

  it("direct reads grow the buffer too, and the frame completes at its declared size", () => {
    const { decoder, frames, allocate } = setUp();
    const size = 5 * MiB + 5;
    const body = pattern(size, 9);
    decoder.push(Buffer.concat([longHeader(size), body.subarray(0, 100)]));
    let at = 100;
    while (at < size) {
      const room = decoder.directBody(16 * 1024);
      if (room === undefined) {
        // Less than 16 KiB missing: the socket reads into a slab, fed through push().
        decoder.push(body.subarray(at));
        break;
      }
      const count = Math.min(room.byteLength, 300 * 1024, size - at);
      room.set(body.subarray(at, at + count));
      decoder.pushDirect(count);
      at += count;
    }
    expect(allocate.mock.calls.map(([n]) => n)).toEqual([MiB, 4 * MiB, size]);
    expect(frames).toHaveLength(1);
    expect(Buffer.from(frames[0]![0]!).equals(body)).toBe(true);
  });

  it("a failed allocation is a limit error of the connection, not an exception out of push()", () => {
    const frames: Uint8Array[][] = [];
    const errors: string[] = [];
    const sink: DecoderSink = {
      onGreeting: () => undefined,
      onCommand: () => undefined,
      onMessage: (message) => frames.push(message),
      onError: (error) => errors.push(error.code),
    };
    const allocate = (size: number): Uint8Array => {
      if (size > MiB) throw new RangeError("Array buffer allocation failed");
      return Buffer.alloc(size);
    };
    const decoder = new ZmtpDecoder(sink, { ...limits, allocate });
    decoder.push(greeting());
    expect(() => decoder.push(Buffer.concat([longHeader(10 * MiB), Buffer.alloc(MiB + 10)]))).not.toThrow();
    expect(errors).toEqual(["limit"]);
    expect(decoder.stopped).toBe(true);
    expect(frames).toEqual([]);
  });
});
