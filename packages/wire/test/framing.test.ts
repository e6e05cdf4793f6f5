import { describe, expect, it } from "vitest";
import {
  EMPTY_FRAME,
  ProtocolError,
  joinDealerFrames,
  joinRouterFrames,
  splitDealerFrames,
  splitRouterFrames,
} from "../src/index.js";

const frame = (text: string): Uint8Array => new TextEncoder().encode(text);
const rid = Uint8Array.of(0, 0x6b, 0x8b, 0x45, 0x67);
const payload = frame("payload");

function badFrames(run: () => unknown): void {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ProtocolError);
    expect((error as ProtocolError).reason).toBe("bad-frames");
    return;
  }
  throw new Error("expected a ProtocolError");
}

describe("splitRouterFrames", () => {
  it("[rid, '', payload] -> envelope [rid]", () => {
    const split = splitRouterFrames([rid, EMPTY_FRAME, payload]);
    expect(split.envelope).toEqual([rid]);
    expect(split.payload).toBe(payload);
  });

  it("[rid, payload] (client omitted the delimiter) -> envelope [rid]", () => {
    const split = splitRouterFrames([rid, payload]);
    expect(split.envelope).toEqual([rid]);
    expect(split.envelope[0]).toBe(rid);
    expect(split.payload).toBe(payload);
  });

  it("[rid, hop, '', payload] -> envelope [rid, hop]", () => {
    const hop = frame("hop");
    const split = splitRouterFrames([rid, hop, EMPTY_FRAME, payload]);
    expect(split.envelope).toEqual([rid, hop]);
    expect(split.payload).toBe(payload);
  });

  it("never checks the second-to-last frame (like Python)", () => {
    const split = splitRouterFrames([rid, frame("not empty"), payload]);
    expect(split.envelope).toEqual([rid]);
    expect(split.payload).toBe(payload);
  });

  it("a lone frame has an empty envelope; no frames is bad-frames", () => {
    expect(splitRouterFrames([payload])).toEqual({ envelope: [], payload });
    badFrames(() => splitRouterFrames([]));
  });

  it("returns a new envelope array (the input is not aliased)", () => {
    const frames = [rid, frame("hop"), EMPTY_FRAME, payload];
    const split = splitRouterFrames(frames);
    split.envelope.push(frame("x"));
    expect(frames).toHaveLength(4);
  });
});

describe("joinRouterFrames", () => {
  it("appends the delimiter and payload to the envelope", () => {
    const hop = frame("hop");
    expect(joinRouterFrames([rid, hop], payload)).toEqual([rid, hop, EMPTY_FRAME, payload]);
    expect(joinRouterFrames([], payload)).toEqual([EMPTY_FRAME, payload]);
  });

  it("echoes back what splitRouterFrames took off", () => {
    for (const frames of [[rid, EMPTY_FRAME, payload], [rid, frame("hop"), EMPTY_FRAME, payload]]) {
      const { envelope } = splitRouterFrames(frames);
      expect(joinRouterFrames(envelope, payload)).toEqual(frames);
    }
    // Without delimiter on the way in, the reply still carries one.
    const { envelope } = splitRouterFrames([rid, payload]);
    expect(joinRouterFrames(envelope, payload)).toEqual([rid, EMPTY_FRAME, payload]);
  });

  it("does not modify the envelope passed in", () => {
    const envelope = [rid];
    joinRouterFrames(envelope, payload);
    expect(envelope).toEqual([rid]);
  });
});

describe("dealer framing", () => {
  it("takes the last frame, whatever precedes it", () => {
    expect(splitDealerFrames([EMPTY_FRAME, payload])).toBe(payload);
    expect(splitDealerFrames([payload])).toBe(payload);
    expect(splitDealerFrames([frame("hop"), EMPTY_FRAME, payload])).toBe(payload);
    badFrames(() => splitDealerFrames([]));
  });

  it("sends ['', payload]", () => {
    expect(joinDealerFrames(payload)).toEqual([EMPTY_FRAME, payload]);
    expect(joinDealerFrames(payload)[1]).toBe(payload);
    expect(EMPTY_FRAME.length).toBe(0);
  });
});
