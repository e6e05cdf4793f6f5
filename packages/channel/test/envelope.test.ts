// The ZeroMQ envelope rules (docs/protocol/wire.md section 2.2), by case and against what
// zerorpc-python really sent and answered (the vendored golden transcripts and probes).
import { describe, expect, it } from "vitest";
import { ProtocolError } from "@zrpc/wire";
import { fromHex, loadProbes, loadVectors } from "@zrpc/test-support";
import { EMPTY_FRAME, SINGLE_PEER, envelopeKey, joinDealerFrames, joinRouterFrames, joinSingleFrame, splitDealerFrames, splitRouterFrames } from "../src/index.js";

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

describe("single-frame sockets and peer keys", () => {
  it("PUSH and PUB send the payload alone", () => {
    expect(joinSingleFrame(payload)).toEqual([payload]);
    expect(joinSingleFrame(payload)[0]).toBe(payload);
  });

  it("joins carry a transport's own payload type through", () => {
    const body = { chunks: [payload] };
    expect(joinDealerFrames(body)).toEqual([EMPTY_FRAME, body]);
    expect(joinRouterFrames([rid], body)[2]).toBe(body);
  });

  it("the single peer has an empty key and envelope and is frozen", () => {
    expect(SINGLE_PEER).toEqual({ key: "", envelope: [] });
    expect(Object.isFrozen(SINGLE_PEER)).toBe(true);
    expect(Object.isFrozen(SINGLE_PEER.envelope)).toBe(true);
  });

  it("keys an envelope by the hex of its frames, joined with dots", () => {
    expect(envelopeKey([rid])).toBe("006b8b4567");
    expect(envelopeKey([rid, frame("hop")])).toBe("006b8b4567.686f70");
    expect(envelopeKey([Uint8Array.of(0xff, 0x00, 0x0a)])).toBe("ff000a");
    expect(envelopeKey([])).toBe("");
    // Different splits of the same octets never collide.
    expect(envelopeKey([Uint8Array.of(1, 2), Uint8Array.of(3)])).not.toBe(envelopeKey([Uint8Array.of(1), Uint8Array.of(2, 3)]));
  });
});

describe("golden transcripts from zerorpc-python", () => {
  const vectors = loadVectors().filter((vector) => vector.mode === "router");

  it("has ROUTER transcripts to check", () => {
    expect(vectors.length).toBeGreaterThan(10);
  });

  it("a DEALER's ['', payload] reaches the ROUTER app as [rid] + payload and goes back byte for byte", () => {
    const routingId = Uint8Array.of(0, 0x6b, 0x8b, 0x45, 0x67);
    let messages = 0;
    for (const vector of vectors) {
      for (const message of vector.messages) {
        const frames = message.frames ?? [];
        if (!frames.some((f) => f.role === "payload")) continue;
        const raw = frames.map((f) => fromHex(f.hex));
        expect(frames.map((f) => f.role), vector.file).toEqual(["empty delimiter", "payload"]);
        const payloadFrame = raw[1]!;
        expect(splitDealerFrames(raw)).toBe(payloadFrame);
        expect(joinDealerFrames(payloadFrame)).toEqual(raw);
        const routed = splitRouterFrames([routingId, ...raw]);
        expect(routed.envelope).toEqual([routingId]);
        expect(routed.payload).toBe(payloadFrame);
        expect(joinRouterFrames(routed.envelope, payloadFrame)).toEqual([routingId, ...raw]);
        messages++;
      }
    }
    expect(messages).toBeGreaterThan(20);
  });
});

describe("probes: how zerorpc-python treated hand-made envelopes", () => {
  const { probes } = loadProbes();
  const resultOf = (name: string): string => {
    const probe = probes.find((p) => p.probe === name);
    expect(probe, name).toBeDefined();
    return probe!.result;
  };

  it("request_without_empty_delimiter: the reply still carries the delimiter (the client got 2 frames)", () => {
    expect(resultOf("request_without_empty_delimiter")).toMatch(/^frames=2 /);
    const { envelope } = splitRouterFrames([rid, payload]);
    expect(envelope).toEqual([rid]);
    expect(joinRouterFrames(envelope, payload).slice(1)).toEqual([EMPTY_FRAME, payload]);
  });

  it("request_with_extra_envelope_frame: the hop frame comes back in front of the delimiter", () => {
    expect(resultOf("request_with_extra_envelope_frame")).toMatch(/^frames=3 .*leading frames \[b'hop', b''\]$/);
    const hop = frame("hop");
    const { envelope } = splitRouterFrames([rid, hop, EMPTY_FRAME, payload]);
    expect(envelope).toEqual([rid, hop]);
    expect(joinRouterFrames(envelope, payload).slice(1)).toEqual([hop, EMPTY_FRAME, payload]);
  });

  it("reply_without_empty_delimiter: a lone payload frame is still the reply", () => {
    expect(resultOf("reply_without_empty_delimiter")).toContain("returned 5");
    expect(splitDealerFrames([payload])).toBe(payload);
  });
});
