// The probes (probes.json, vendored in @zrpc/test-support) record what real zerorpc-python peers did with hand-made (often
// invalid) messages. It holds one-line outcomes only, no request bytes, so the malformed messages
// are rebuilt here from the description of each probe (docs/protocol/), and our verdict is compared with
// Python's. Every probe is accounted for: either checked below or listed as out of scope for the
// wire layer (with the package that owns it), and both lists are checked against the file.
import { describe, expect, it } from "vitest";
import {
  Float64,
  ProtocolError,
  decodeEvent,
  decodeValue,
  encodeEvent,
  encodeValue,
  messageIdEquals,
  messageIdKey,
} from "../src/index.js";
import type { Event, MessageId, WireHeader } from "../src/index.js";
import { loadProbes, toHex } from "@zrpc/test-support";
import { fromTypedJson, toTypedJson } from "./support/typed-json.js";

const probes = loadProbes().probes;
const results = new Map(probes.map((probe) => [probe.probe, probe.result]));
const ID = new TextEncoder().encode("000000010123456789abcdef01234567");
const utf8 = new TextEncoder();

function resultOf(name: string): string {
  const result = results.get(name);
  if (result === undefined) throw new Error(`probe ${name} is not in probes.json`);
  return result;
}

/** Python dropped the message: no reply at all. */
function pythonDropped(name: string): boolean {
  return resultOf(name).startsWith("no reply");
}

function expectProtocolError(run: () => unknown, reason: ProtocolError["reason"]): void {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(ProtocolError);
  expect((caught as ProtocolError).reason).toBe(reason);
}

/** Hand-assembles msgpack for shapes our encoder refuses to produce. */
const mp = {
  array: (...items: Uint8Array[]): Uint8Array => concat(Uint8Array.of(0x90 | items.length), ...items),
  map: (...pairs: [Uint8Array, Uint8Array][]): Uint8Array => concat(Uint8Array.of(0x80 | pairs.length), ...pairs.flat()),
  str: (text: string): Uint8Array => encodeValue(text),
  bin: (bytes: Uint8Array): Uint8Array => encodeValue(bytes),
  value: (value: unknown): Uint8Array => encodeValue(value),
};

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

function request(header: Record<string, unknown>, name: unknown = "add", args: unknown = [1, 2]): Uint8Array {
  return encodeValue([header, name, args]);
}

/** Probes whose message we rebuild and decide on here. */
const checked: Record<string, () => void> = {
  request_message_id_as_str: () => {
    // Python served it and echoed the str id back as response_to.
    expect(resultOf("request_message_id_as_str")).toContain('"response_to": "abc-str-id"');
    const event = decodeEvent(request({ message_id: "abc-str-id", v: 3 }));
    expect(event.header.message_id).toBe("abc-str-id");
  },
  request_message_id_as_int: () => {
    expect(resultOf("request_message_id_as_int")).toContain('"response_to": 12345');
    const event = decodeEvent(request({ message_id: 12345, v: 3 }));
    expect(event.header.message_id).toBe(12345);
  },
  request_without_v_error_format: () => {
    // Accepted at the wire layer with no `v` (the server then answers the v1 ERR shape).
    expect(resultOf("request_without_v_error_format")).toContain('"ERR", ["ValueError(\'x\')"]');
    expect(decodeEvent(request({ message_id: ID })).header.v).toBeUndefined();
  },
  request_v2_error_format: () => {
    expect(decodeEvent(request({ message_id: ID, v: 2 })).header.v).toBe(2);
  },
  request_v_as_str: () => {
    // Python's task crashed (no reply); we reject the event outright.
    expect(pythonDropped("request_v_as_str")).toBe(true);
    expectProtocolError(() => decodeEvent(request({ message_id: ID, v: "3" })), "bad-header");
    // A float v is not an int either.
    expectProtocolError(() => decodeEvent(request({ message_id: ID, v: new Float64(3) })), "bad-header");
  },
  request_without_message_id: () => {
    // Difference by design: Python's server crashed (KeyError, no reply). decodeEvent accepts a
    // header without message_id (Python clients accept such replies), so the server layer must
    // drop such a request; here we check the absence is visible.
    expect(pythonDropped("request_without_message_id")).toBe(true);
    const event = decodeEvent(request({ v: 3 }));
    expect(event.header.message_id).toBeUndefined();
  },
  request_header_keys_as_bin: () => {
    expect(pythonDropped("request_header_keys_as_bin")).toBe(true);
    const payload = mp.array(
      mp.map([mp.bin(utf8.encode("message_id")), mp.bin(ID)], [mp.bin(utf8.encode("v")), mp.value(3)]),
      mp.str("add"),
      mp.value([1, 2]),
    );
    // The header decodes to a Map (bin keys) and the event is refused.
    expect(decodeValue(payload)).toEqual([expect.any(Map), "add", [1, 2]]);
    expectProtocolError(() => decodeEvent(payload), "bad-header");
  },
  request_name_as_bin: () => {
    // Difference: Python looked the bytes up as a method name and answered ERR NameError "b'add'";
    // we refuse the event ("bad-name"), so a zrpc server drops it without a reply.
    expect(resultOf("request_name_as_bin")).toContain('"ERR", ["NameError", "b\'add\'"');
    expectProtocolError(() => decodeEvent(request({ message_id: ID, v: 3 }, utf8.encode("add"))), "bad-name");
  },
  request_args_as_map: () => {
    // Args may be anything at this layer (Python passed the map's keys as arguments).
    expect(decodeEvent(request({ message_id: ID, v: 3 }, "echo", { k: 1 })).args).toEqual({ k: 1 });
  },
  request_args_nil: () => {
    expect(decodeEvent(request({ message_id: ID, v: 3 }, "echo", null)).args).toBeNull();
  },
  request_args_scalar: () => {
    expect(decodeEvent(request({ message_id: ID, v: 3 }, "echo", 5)).args).toBe(5);
  },
  request_event_with_4_elements: () => {
    expect(pythonDropped("request_event_with_4_elements")).toBe(true);
    expectProtocolError(() => decodeEvent(encodeValue([{ message_id: ID, v: 3 }, "add", [1, 2], "extra"])), "bad-event");
  },
  request_invalid_utf8_in_str: () => {
    expect(pythonDropped("request_invalid_utf8_in_str")).toBe(true);
    expect(resultOf("request_invalid_utf8_in_str")).toContain("can't decode byte 0xc3 in position 0");
    // The name "\xc3(" : 0xc3 followed by a non-continuation byte, like Python's log says.
    const payload = mp.array(mp.value({ message_id: ID, v: 3 }), Uint8Array.of(0xa2, 0xc3, 0x28), mp.value([]));
    expectProtocolError(() => decodeEvent(payload), "invalid-utf8");
  },
  request_map_with_int_key: () => {
    // Difference: msgpack-python >= 1.0 (strict_map_key) drops the whole message; we decode the
    // map as a Map (non-str keys are legal msgpack). Our encoder refuses to send such keys by
    // default (mapKeys: "python"), which is what matters for interop.
    expect(pythonDropped("request_map_with_int_key")).toBe(true);
    const payload = mp.array(mp.value({ message_id: ID, v: 3 }), mp.str("echo"), mp.array(mp.map([mp.value(1), mp.str("x")])));
    const event = decodeEvent(payload);
    expect(event.args).toEqual([new Map([[1, "x"]])]);
    expect(() => encodeEvent(event)).toThrow(/not str or bin/);
  },
  request_trailing_bytes_after_event: () => {
    // Python served it: bytes after the first object are ignored. So do we.
    expect(resultOf("request_trailing_bytes_after_event")).toContain('"OK", [3]');
    const payload = concat(request({ message_id: ID, v: 3 }), Uint8Array.of(0xc1, 0xff, 0x00));
    expect(decodeEvent(payload).name).toBe("add");
  },
  request_without_empty_delimiter: () => {
    // The ROUTER saw [routing-id, payload]; the reply still went out with its delimiter and
    // Python's client (DEALER) received 2 frames. The envelope side is checked against this
    // probe in @zrpc/channel (test/envelope.test.ts); here: the payload alone is a request.
    expect(resultOf("request_without_empty_delimiter")).toMatch(/^frames=2 /);
    expect(decodeEvent(request({ message_id: ID, v: 3 })).name).toBe("add");
  },
  request_with_extra_envelope_frame: () => {
    // Client sent ["hop", "", payload]; it got back ["hop", "", payload] (3 frames). Envelope
    // side: @zrpc/channel test/envelope.test.ts.
    expect(resultOf("request_with_extra_envelope_frame")).toMatch(/^frames=3 .*leading frames \[b'hop', b''\]$/);
    expect(decodeEvent(request({ message_id: ID, v: 3 })).name).toBe("add");
  },
  request_extra_header_keys: () => {
    const event = decodeEvent(request({ message_id: ID, v: 3, trace: "t-1", deep: { a: [1] } }));
    expect(event.header).toMatchObject({ trace: "t-1", deep: { a: [1] } });
  },
  reply_response_to_as_str: () => {
    // Python's client dropped a reply whose response_to was the str spelling of its bin id.
    expect(resultOf("reply_response_to_as_str")).toContain("TimeoutExpired");
    const textId = new TextDecoder().decode(ID);
    const reply = decodeEvent(encodeValue([{ message_id: ID, v: 3, response_to: textId }, "OK", [3]]));
    expect(messageIdEquals(reply.header.response_to!, ID)).toBe(false);
    expect(messageIdKey(reply.header.response_to!)).not.toBe(messageIdKey(ID));
  },
  reply_OK_without_v: () => {
    expect(resultOf("reply_OK_without_v")).toContain("returned 5");
    expect(decodeEvent(encodeValue([{ message_id: ID, response_to: ID }, "OK", [5]])).args).toEqual([5]);
  },
  reply_OK_extra_items_and_header_keys: () => {
    expect(resultOf("reply_OK_extra_items_and_header_keys")).toContain("returned 5");
    const event = decodeEvent(encodeValue([{ message_id: ID, v: 3, response_to: ID, x: 1 }, "OK", [5, 6]]));
    expect(event.args).toEqual([5, 6]);
  },
  reply_without_empty_delimiter: () => {
    expect(resultOf("reply_without_empty_delimiter")).toContain("returned 5");
    // A lone payload frame is a whole reply (the envelope side: @zrpc/channel test/envelope.test.ts).
    const payload = encodeValue([{ message_id: ID, v: 3, response_to: ID }, "OK", [5]]);
    expect(decodeEvent(payload).args).toEqual([5]);
  },
  reply_without_message_id: () => {
    expect(resultOf("reply_without_message_id")).toContain("returned 5");
    const event = decodeEvent(encodeValue([{ v: 3, response_to: ID }, "OK", [5]]));
    expect(event.header.message_id).toBeUndefined();
  },
  reply_without_response_to: () => {
    // Accepted by decodeEvent; unroutable for a client (the channel layer drops it, as Python).
    expect(resultOf("reply_without_response_to")).toContain("TimeoutExpired");
    expect(decodeEvent(encodeValue([{ message_id: ID, v: 3 }, "OK", [5]])).header.response_to).toBeUndefined();
  },
};

/** Probes about behaviour above the wire layer (the package that owns each is named). */
const outOfScope: Record<string, string> = {
  stream_client_never_sends_zpc_more: "channel: flow control",
  stream_credit_sent_before_first_reply: "channel: flow control",
  server_heartbeat_v1_vs_v3: "channel: heartbeat",
  two_clients_same_message_id: "server: channel table",
  heartbeat_mismatch_server1_client5: "channel: heartbeat",
  reply_ERR_without_v: "client: ERR args by v",
  reply_ERR_with_2_elements: "client: ERR args",
  reply_ERR_traceback_nil: "client: ERR args",
  reply_OK_with_empty_args: "client: OK args",
  reply_OK_args_not_array: "client: OK args",
  introspection_unknown_method: "server: introspection",
  reply_unknown_event_name: "client: event names",
  reply_STREAM_items_are_bare_args: "client: streams",
  reply_STREAM_DONE_with_args_array: "client: streams",
  reply_ERR_in_middle_of_stream: "client: streams",
  reply_stream_ignoring_credit_250_items: "channel: flow control",
  server_that_never_heartbeats_reply_after_5s: "channel: heartbeat",
  server_heartbeats_but_ignores_client_hb: "channel: heartbeat",
  server_heartbeat_with_nil_args: "channel: heartbeat",
};

describe("probes.json (hand-made messages sent to zerorpc-python)", () => {
  it("accounts for every probe, and every listed probe exists", () => {
    const listed = [...Object.keys(checked), ...Object.keys(outOfScope)];
    expect(new Set(listed).size).toBe(listed.length);
    expect([...listed].sort()).toEqual(probes.map((probe) => probe.probe).sort());
  });

  for (const [name, check] of Object.entries(checked)) {
    it(name, check);
  }

  it("round-trips every reply Python sent back (typed JSON -> encodeEvent -> decodeEvent)", () => {
    let replies = 0;
    for (const { probe, result } of probes) {
      const match = /^frames=\d+ (\[.*?\]\])(?: \| .*)?$/.exec(result);
      if (match === null) continue;
      for (const decoded of JSON.parse(match[1]!) as unknown[]) {
        const [header, name, args] = fromTypedJson(decoded) as [WireHeader, string, unknown];
        const event: Event = { header, name, args };
        const bytes = encodeEvent(event);
        // Python's key order (message_id, v, response_to): the fast path matches the generic walk.
        expect(toHex(bytes), probe).toBe(toHex(encodeValue(fromTypedJson(decoded))));
        const back = decodeEvent(bytes);
        expect(toTypedJson([back.header, back.name, back.args])).toEqual(decoded);
        const id: MessageId | undefined = back.header.response_to;
        expect(id).toBeDefined();
        replies++;
      }
    }
    expect(replies).toBe(probes.filter((p) => p.result.startsWith("frames=")).length);
    expect(replies).toBeGreaterThanOrEqual(13);
  });
});
