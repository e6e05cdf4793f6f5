import { describe, expect, it } from "vitest";
import {
  EncodeError,
  EventNames,
  Ext,
  Float64,
  PROTOCOL_VERSION,
  ProtocolError,
  createEvent,
  decodeEvent,
  encodeEvent,
  encodeValue,
} from "../src/index.js";
import type { Event, ProtocolErrorReason, WireHeader } from "../src/index.js";
import { fromHex, toHex } from "@zrpc/test-support";

const ID = new TextEncoder().encode("39df24fe3d26491f862e270b1e8462df");
const ID_HEX = "c420" + toHex(ID);

function reasonOf(run: () => unknown): ProtocolErrorReason {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ProtocolError);
    return (error as ProtocolError).reason;
  }
  throw new Error("expected a ProtocolError");
}

describe("constants (pinned literals)", () => {
  it("has the protocol's names and version", () => {
    expect(PROTOCOL_VERSION).toBe(3);
    expect(EventNames).toEqual({
      heartbeat: "_zpc_hb",
      more: "_zpc_more",
      ok: "OK",
      err: "ERR",
      stream: "STREAM",
      streamDone: "STREAM_DONE",
    });
  });
});

describe("encodeEvent", () => {
  it("writes Python's bytes for the call_add request", () => {
    const event: Event = { header: { message_id: ID, v: 3 }, name: "add", args: [2, 3] };
    expect(toHex(encodeEvent(event))).toBe(
      "9382aa6d6573736167655f6964c4203339646632346665336432363439316638363265323730623165383436326466a17603a3616464920203",
    );
  });

  it("orders header keys message_id, v, extras (insertion order), response_to", () => {
    const header: WireHeader = { response_to: "r", trace_id: "t-123", v: 1, span: [1, 2], message_id: ID };
    const bytes = encodeEvent({ header, name: "OK", args: ["ctx"] });
    const expected =
      "93" +
      "85" +
      "aa6d6573736167655f6964" +
      ID_HEX +
      "a17603" +
      "a874726163655f6964a5742d313233" +
      "a47370616e920102" +
      "ab726573706f6e73655f746fa172" +
      "a24f4b" +
      "91a3637478";
    expect(toHex(bytes)).toBe(expected);
  });

  it("always writes v as the int 3", () => {
    for (const v of [undefined, 1, 2, 3, 99]) {
      const header: WireHeader = v === undefined ? { message_id: 1 } : { message_id: 1, v };
      expect(toHex(encodeEvent({ header, name: "x", args: null }))).toBe("9382aa6d6573736167655f696401a17603a178c0");
      const back = decodeEvent(encodeEvent({ header, name: "x", args: null }));
      expect(back.header.v).toBe(3);
    }
  });

  it("omits an undefined response_to and writes str, int and bigint ids as such", () => {
    expect(toHex(encodeEvent({ header: { message_id: "abc", response_to: undefined }, name: "a", args: [] }))).toBe(
      "9382aa6d6573736167655f6964a3616263a17603a16190",
    );
    expect(toHex(encodeEvent({ header: { message_id: 12345, response_to: 2n ** 63n }, name: "a", args: [] }))).toBe(
      "9383aa6d6573736167655f6964cd3039a17603ab726573706f6e73655f746fcf8000000000000000a16190",
    );
    expect(toHex(encodeEvent({ header: { message_id: -0 }, name: "a", args: [] }))).toBe(
      "9382aa6d6573736167655f696400a17603a16190",
    );
  });

  it("uses a map16 header for 16 or more keys", () => {
    const header: Record<string, unknown> = { message_id: ID };
    for (let i = 0; i < 14; i++) header[`k${i}`] = i;
    const bytes = encodeEvent({ header: header, name: "a", args: [] });
    expect(toHex(bytes.subarray(0, 4))).toBe("93de0010");
    expect(Object.keys(decodeEvent(bytes).header)).toHaveLength(16);
  });

  it("matches the generic encoder for the same [header, name, args]", () => {
    const header = { message_id: ID, v: 3, ctx: new Map([[Uint8Array.of(1), f(2)]]), response_to: ID };
    const args = [1.5, new Ext(5, Uint8Array.of(1)), { nested: [null] }];
    expect(toHex(encodeEvent({ header, name: "STREAM", args }))).toBe(toHex(encodeValue([header, "STREAM", args])));
  });

  it("throws EncodeError for a missing or invalid message_id, a bad name or header", () => {
    const bad: unknown[] = [
      { header: { v: 3 }, name: "a", args: [] },
      { header: { message_id: 1.5 }, name: "a", args: [] },
      { header: { message_id: { id: 1 } }, name: "a", args: [] },
      { header: { message_id: null }, name: "a", args: [] },
      { header: { message_id: ID, response_to: new Float64(1) }, name: "a", args: [] },
      { header: { message_id: ID }, name: 5, args: [] },
      { header: null, name: "a", args: [] },
      { header: { message_id: ID, extra: () => 1 }, name: "a", args: [] },
      { header: { message_id: ID }, name: "a", args: [new Set()] },
    ];
    for (const event of bad) {
      expect(() => encodeEvent(event as Event)).toThrow(EncodeError);
    }
    expect(() => encodeEvent({ header: { v: 3 }, name: "a", args: [] })).toThrow("event header has no message_id");
  });

  it("refuses non-str/bin map keys in args by default and allows them with mapKeys: any", () => {
    const event: Event = { header: { message_id: ID }, name: "a", args: [new Map([[1, 2]])] };
    expect(() => encodeEvent(event)).toThrow(EncodeError);
    expect(decodeEvent(encodeEvent(event, { mapKeys: "any" })).args).toEqual([new Map([[1, 2]])]);
  });
});

function f(value: number): Float64 {
  return new Float64(value);
}

describe("decodeEvent", () => {
  const header = "82aa6d6573736167655f6964" + ID_HEX + "a17603";

  it("decodes a request", () => {
    const event = decodeEvent(fromHex("93" + header + "a3616464920203"));
    expect(event).toEqual({ header: { message_id: ID, v: 3 }, name: "add", args: [2, 3] });
  });

  it("accepts array16/array32 event arrays (non-canonical but valid msgpack)", () => {
    expect(decodeEvent(fromHex("dc0003" + header + "a3616464c0")).name).toBe("add");
    expect(decodeEvent(fromHex("dd00000003" + header + "a3616464c0")).name).toBe("add");
  });

  it("requires an array of exactly 3", () => {
    expect(reasonOf(() => decodeEvent(fromHex("92" + header + "a3616464")))).toBe("bad-event");
    expect(reasonOf(() => decodeEvent(fromHex("94" + header + "a3616464c0c0")))).toBe("bad-event");
    expect(reasonOf(() => decodeEvent(fromHex(header)))).toBe("bad-event");
    expect(reasonOf(() => decodeEvent(fromHex("c0")))).toBe("bad-event");
  });

  it("requires a header map with str keys", () => {
    expect(reasonOf(() => decodeEvent(fromHex("93" + "90" + "a161c0")))).toBe("bad-header");
    expect(reasonOf(() => decodeEvent(fromHex("93" + "c0" + "a161c0")))).toBe("bad-header");
    expect(reasonOf(() => decodeEvent(fromHex("93" + "8101a17a" + "a161c0")))).toBe("bad-header");
    // bin key, as in Python's request_header_keys_as_bin probe
    expect(reasonOf(() => decodeEvent(fromHex("93" + "81c4017603" + "a161c0")))).toBe("bad-header");
    expect(reasonOf(() => decodeEvent(fromHex("93" + "c40100" + "a161c0")))).toBe("bad-header");
  });

  it("requires v, if present, to be an int", () => {
    expect(reasonOf(() => decodeEvent(encodeValue([{ message_id: ID, v: "3" }, "a", []])))).toBe("bad-header");
    expect(reasonOf(() => decodeEvent(encodeValue([{ message_id: ID, v: 1.5 }, "a", []])))).toBe("bad-header");
    expect(reasonOf(() => decodeEvent(encodeValue([{ message_id: ID, v: f(3) }, "a", []])))).toBe("bad-header");
    expect(reasonOf(() => decodeEvent(encodeValue([{ message_id: ID, v: null }, "a", []])))).toBe("bad-header");
    // Python would compare a huge v fine; we refuse it so that header.v is always a number.
    expect(reasonOf(() => decodeEvent(encodeValue([{ message_id: ID, v: 2n ** 63n }, "a", []])))).toBe("bad-header");
    expect(decodeEvent(encodeValue([{ message_id: ID, v: -1 }, "a", []])).header.v).toBe(-1);
    expect(decodeEvent(encodeValue([{ message_id: ID }, "a", []])).header.v).toBeUndefined();
  });

  it("requires a str name", () => {
    expect(reasonOf(() => decodeEvent(encodeValue([{ message_id: ID }, Uint8Array.of(0x61), []])))).toBe("bad-name");
    expect(reasonOf(() => decodeEvent(encodeValue([{ message_id: ID }, 1, []])))).toBe("bad-name");
  });

  it("requires message_id / response_to, if present, to be bin, str or int", () => {
    for (const id of [1.5, f(1), null, [ID], { a: 1 }, true]) {
      expect(reasonOf(() => decodeEvent(encodeValue([{ message_id: id }, "a", []])))).toBe("bad-message-id");
      expect(reasonOf(() => decodeEvent(encodeValue([{ message_id: ID, response_to: id }, "a", []])))).toBe(
        "bad-message-id",
      );
    }
    for (const id of [ID, "abc", 12345, -1, 2n ** 64n - 1n]) {
      expect(decodeEvent(encodeValue([{ message_id: id, response_to: id }, "a", []])).header.response_to).toEqual(id);
    }
  });

  it("accepts a missing message_id (Python clients accept such replies)", () => {
    expect(decodeEvent(encodeValue([{ response_to: ID }, "OK", [5]])).header.message_id).toBeUndefined();
  });

  it("passes extra header keys through as decoded wire values", () => {
    const event = decodeEvent(encodeValue([{ message_id: ID, v: 3, trace_id: "t", span: [1, f(2)] }, "a", null]));
    expect(event.header).toEqual({ message_id: ID, v: 3, trace_id: "t", span: [1, f(2)] });
    expect(event.args).toBeNull();
  });

  it("keeps a __proto__ header key as an own property (Python keeps it too) and ignores trailing bytes", () => {
    const payload = fromHex("93" + "81a95f5f70726f746f5f5f01" + "a161c0");
    const event = decodeEvent(payload);
    expect(Object.getPrototypeOf(event.header)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(event.header, "__proto__")?.value).toBe(1);
    expect(decodeEvent(fromHex("93" + header + "a161c0" + "c1c1")).name).toBe("a");
  });

  it("passes decode options through", () => {
    const payload = encodeValue([{ message_id: ID }, "a", ["x".repeat(10)]]);
    expect(reasonOf(() => decodeEvent(payload, { maxStrLength: 5 }))).toBe("limit");
    expect(reasonOf(() => decodeEvent(payload, { maxMessageBytes: 10 }))).toBe("too-large");
    const floats = encodeValue([{ message_id: ID }, "a", [f(2)]]);
    expect(decodeEvent(floats, { integralFloats: "number" }).args).toEqual([2]);
  });
});

describe("createEvent", () => {
  it("makes a fresh id, v: 3, extras, then response_to", () => {
    const event = createEvent("OK", ["x"], ID, { trace_id: "t", message_id: "ignored", v: 9, response_to: "ignored" });
    expect(Object.keys(event.header)).toEqual(["message_id", "v", "trace_id", "response_to"]);
    expect(event.header.message_id).toBeInstanceOf(Uint8Array);
    expect(new TextDecoder().decode(event.header.message_id as Uint8Array)).toMatch(/^[0-9a-f]{32}$/);
    expect(event.header.v).toBe(3);
    expect(event.header.response_to).toBe(ID);
    expect(event.name).toBe("OK");
    expect(event.args).toEqual(["x"]);
    const again = createEvent("OK", []);
    expect(again.header.message_id).not.toEqual(event.header.message_id);
    expect(Object.keys(again.header)).toEqual(["message_id", "v"]);
  });

  it("round-trips through encodeEvent / decodeEvent", () => {
    const event = createEvent("add", [2, 3], undefined, { ctx: { a: 1 } });
    expect(decodeEvent(encodeEvent(event))).toEqual(event);
  });

  it("copies a __proto__ key of the extra header as an own property, in its place", () => {
    const extra = JSON.parse('{"a": 1, "__proto__": {"x": 1}, "b": 2}') as Record<string, unknown>;
    const event = createEvent("a", [], undefined, extra);
    expect(Object.getPrototypeOf(event.header)).toBe(Object.prototype);
    expect(Object.keys(event.header)).toEqual(["message_id", "v", "a", "__proto__", "b"]);
    expect(Object.getOwnPropertyDescriptor(event.header, "__proto__")?.value).toEqual({ x: 1 });
    expect(({} as Record<string, unknown>).x).toBeUndefined();
    expect(decodeEvent(encodeEvent(event))).toEqual(event);
  });
});
