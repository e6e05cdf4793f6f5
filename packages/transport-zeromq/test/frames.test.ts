import { describe, expect, it } from "vitest";
import { joinDealerFrames, joinRouterFrames, joinSingleFrame, splitDealerFrames, splitRouterFrames } from "../src/frames.js";
import { bytes } from "./helpers.js";

const rid = bytes("rid");
const hop = bytes("hop");
const empty = new Uint8Array(0);
const payload = bytes("payload");

describe("zerorpc framing (docs/protocol §2.2)", () => {
  it("ROUTER: 3+ frames -> all but the last two are the envelope", () => {
    expect(splitRouterFrames([rid, empty, payload])).toEqual({ envelope: [rid], payload });
    expect(splitRouterFrames([rid, hop, empty, payload])).toEqual({ envelope: [rid, hop], payload });
  });

  it("ROUTER: 2 frames (no delimiter) -> the first is the envelope", () => {
    expect(splitRouterFrames([rid, payload])).toEqual({ envelope: [rid], payload });
  });

  it("ROUTER: 1 frame -> no envelope; 0 frames -> nothing", () => {
    expect(splitRouterFrames([payload])).toEqual({ envelope: [], payload });
    expect(splitRouterFrames([])).toBeUndefined();
  });

  it("ROUTER reply is envelope + empty + payload", () => {
    expect(joinRouterFrames([rid, hop], payload)).toEqual([rid, hop, empty, payload]);
  });

  it("DEALER/PULL/SUB take the last frame; DEALER sends [empty, payload]; PUSH/PUB send [payload]", () => {
    expect(splitDealerFrames([empty, payload])).toBe(payload);
    expect(splitDealerFrames([payload])).toBe(payload);
    expect(splitDealerFrames([])).toBeUndefined();
    expect(joinDealerFrames(payload)).toEqual([empty, payload]);
    expect(joinSingleFrame(payload)).toEqual([payload]);
  });
});
