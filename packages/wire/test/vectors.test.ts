// Golden transcripts recorded from zerorpc-python (vendored in @zrpc/test-support): every payload frame
// must decode to the recorded typed JSON and re-encode to the very same bytes, both from the
// decoded value and from a value rebuilt from the typed JSON (which proves the encoder picks the
// same msgpack formats as Python's packer).
import { afterAll, describe, expect, it } from "vitest";
import {
  decodeEvent,
  decodeValue,
  encodeEvent,
  encodeValue,
  messageIdEquals,
} from "../src/index.js";
import type { Event, WireHeader } from "../src/index.js";
import { fromHex, loadVectors, toHex } from "@zrpc/test-support";
import type { Vector, VectorFrame } from "@zrpc/test-support";
import { fromTypedJson, toTypedJson } from "./support/typed-json.js";

const vectors = loadVectors();
let framesChecked = 0;
const filesChecked = new Set<string>();

function eventFromTypedJson(decoded: unknown): Event {
  const [header, name, args] = fromTypedJson(decoded) as [WireHeader, string, unknown];
  return { header, name, args };
}

/** Everything we check on one payload, given its exact bytes and Python's typed JSON. */
function checkPayload(hex: string, decoded: unknown): Event {
  const bytes = fromHex(hex);
  const value = decodeValue(bytes);
  expect(toTypedJson(value)).toEqual(decoded);
  const event = decodeEvent(bytes);
  expect(toTypedJson([event.header, event.name, event.args])).toEqual(decoded);
  // Same ids, same bytes: byte identity holds for the whole frame.
  expect(toHex(encodeValue(value))).toBe(hex);
  expect(toHex(encodeEvent(event))).toBe(hex);
  expect(toHex(encodeEvent(eventFromTypedJson(decoded)))).toBe(hex);
  expect(toHex(encodeValue(fromTypedJson(decoded)))).toBe(hex);
  framesChecked++;
  return event;
}

/** The normalised `event` view: ids are "#n" symbols resolved through the vector's `ids` table. */
function checkEventView(vector: Vector, event: Event, view: { name: string; header: Record<string, unknown>; args: unknown }): void {
  expect(event.name).toBe(view.name);
  expect(toTypedJson(event.args)).toEqual(view.args);
  expect(Object.keys(event.header)).toEqual(Object.keys(view.header));
  for (const [key, expected] of Object.entries(view.header)) {
    const actual = toTypedJson(event.header[key]);
    if (typeof expected === "string" && expected.startsWith("#")) {
      expect(actual, `${vector.file} header ${key}`).toEqual(vector.ids[expected]!.wire);
    } else {
      expect(actual).toEqual(expected);
    }
  }
}

/** The frames of one message, as the recording socket saw them; returns the payload frame. */
function checkFrames(vector: Vector, frames: VectorFrame[]): Uint8Array {
  const raw = frames.map((frame) => fromHex(frame.hex));
  if (vector.mode === "router") {
    // DEALER <-> ROUTER wire view: ["", payload]. What a ROUTER app makes of it is checked in
    // @zrpc/channel (test/envelope.test.ts).
    expect(frames.map((frame) => frame.role)).toEqual(["empty delimiter", "payload"]);
    expect(raw[0]).toHaveLength(0);
  } else {
    // PUSH -> PULL, PUB -> SUB: [payload].
    expect(frames.map((frame) => frame.role)).toEqual(["payload"]);
  }
  return raw[raw.length - 1]!;
}

describe("golden vectors from zerorpc-python", () => {
  it("finds the vector files", () => {
    expect(vectors.length).toBeGreaterThanOrEqual(29);
  });

  for (const vector of vectors) {
    it(`${vector.file} (${vector.mode})`, () => {
      let payloads = 0;
      if (vector.mode === "tcp") {
        // Raw ZMTP: data frames parsed per direction. Each message is [""(MORE), payload].
        expect(vector.zmtp).toBeDefined();
        for (const parts of Object.values(vector.zmtp!)) {
          const frames = parts.filter((part) => part.part === "frame");
          expect(frames.length % 2).toBe(0);
          for (let i = 0; i < frames.length; i += 2) {
            const [delimiter, payload] = [frames[i]!, frames[i + 1]!];
            expect(delimiter.more).toBe(true);
            expect(delimiter.body_hex).toBe("");
            expect(payload.more).toBe(false);
            expect(payload.size).toBe(payload.body_hex!.length / 2);
            checkPayload(payload.body_hex!, payload.decoded);
            payloads++;
          }
        }
      } else {
        for (const message of vector.messages) {
          const frames = message.frames ?? [];
          const subscription = frames.find((frame) => frame.role.startsWith("subscription"));
          if (subscription !== undefined) {
            // SUB -> PUB subscribe to "" (everything): byte 01 and an empty topic. Not a payload.
            expect(vector.mode).toBe("pub");
            expect(frames).toHaveLength(1);
            expect(subscription.hex).toBe("01");
            continue;
          }
          const payloadFrame = frames.find((frame) => frame.role === "payload");
          expect(payloadFrame, `${vector.file} seq ${message.seq} has a payload frame`).toBeDefined();
          const payload = checkFrames(vector, frames);
          expect(toHex(payload)).toBe(payloadFrame!.hex);
          expect(payload.length).toBe(payloadFrame!.len);
          const event = checkPayload(payloadFrame!.hex, payloadFrame!.decoded);
          checkEventView(vector, event, message.event!);
          payloads++;
        }
      }
      expect(payloads).toBeGreaterThan(0);
      filesChecked.add(vector.file);
    });
  }

  it("links replies to requests by exact id type and bytes", () => {
    // Every response_to names a message_id seen earlier in the same transcript (or was sent
    // before the capture started, which none of these scenarios does).
    for (const vector of vectors.filter((v) => v.mode === "router")) {
      const seen: Event[] = [];
      for (const message of vector.messages) {
        const payload = message.frames?.find((frame) => frame.role === "payload");
        if (payload === undefined) continue;
        const event = decodeEvent(fromHex(payload.hex));
        const responseTo = event.header.response_to;
        if (responseTo !== undefined) {
          expect(seen.some((earlier) => messageIdEquals(earlier.header.message_id!, responseTo)), vector.file).toBe(true);
        }
        seen.push(event);
      }
    }
  });
});

afterAll(() => {
  console.log(`checked ${framesChecked} payload frames from ${filesChecked.size} transcripts`);
});
