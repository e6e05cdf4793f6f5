import { describe, expect, it } from "vitest";
import { checkCurveClientOptions, checkCurveOptions, checkCurveServerOptions, curveKeyBytes, curveKeyText, isCurveClientOptions, isCurveKey, z85Decode, z85Encode } from "../src/index.js";

// The test vector of ZeroMQ RFC 32 (Z85): these 8 bytes are "HelloWorld".
const HELLO_WORLD = Uint8Array.from([0x86, 0x4f, 0xd2, 0x6f, 0xb5, 0x59, 0xf7, 0x5b]);
// A key pair from libzmq's documentation of zmq_curve (the "Ironhouse" example keys).
const SERVER_PUBLIC = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7";

describe("Z85", () => {
  it("encodes and decodes the RFC 32 vector", () => {
    expect(z85Encode(HELLO_WORLD)).toBe("HelloWorld");
    expect(z85Decode("HelloWorld")).toEqual(HELLO_WORLD);
  });

  it("round-trips every byte value, including the 0xffffffff group", () => {
    const bytes = Uint8Array.from({ length: 256 }, (_, i) => i);
    expect(z85Decode(z85Encode(bytes))).toEqual(bytes);
    expect(z85Encode(new Uint8Array([255, 255, 255, 255]))).toBe("%nSc0");
    expect(z85Decode("%nSc0")).toEqual(new Uint8Array([255, 255, 255, 255]));
  });

  it("refuses lengths that are not multiples, characters outside the alphabet and groups above 32 bits", () => {
    expect(() => z85Encode(new Uint8Array(3))).toThrow(RangeError);
    expect(() => z85Decode("abcd")).toThrow(/multiple of 5/);
    expect(() => z85Decode("abc\"d")).toThrow(/not a Z85 character at 3/);
    expect(() => z85Decode("é0000")).toThrow(RangeError);
    expect(() => z85Decode("%nSc1")).toThrow(/exceeds 32 bits/);
  });
});

describe("CURVE keys", () => {
  it("accepts 32 bytes or 40 characters of Z85, the same key either way", () => {
    const bytes = z85Decode(SERVER_PUBLIC);
    expect(bytes).toHaveLength(32);
    expect(isCurveKey(SERVER_PUBLIC)).toBe(true);
    expect(isCurveKey(bytes)).toBe(true);
    expect(curveKeyBytes("k", SERVER_PUBLIC)).toEqual(bytes);
    expect(curveKeyText("k", bytes)).toBe(SERVER_PUBLIC);
    // A copy: changing the caller's array later does not change the key.
    const copy = curveKeyBytes("k", bytes);
    bytes[0] = bytes[0]! ^ 1;
    expect(copy).not.toEqual(bytes);
  });

  it("names the option and what was wrong", () => {
    expect(isCurveKey("short")).toBe(false);
    expect(isCurveKey(new Uint8Array(31))).toBe(false);
    expect(isCurveKey(`${SERVER_PUBLIC.slice(0, 39)}"`)).toBe(false);
    expect(() => curveKeyBytes("curve.serverKey", "short")).toThrow("curve.serverKey must be a CURVE key: 40 characters of Z85 or 32 bytes, got 5 characters");
    expect(() => curveKeyBytes("curve.secretKey", new Uint8Array(16))).toThrow("got 16 bytes");
    expect(() => curveKeyBytes("curve.secretKey", 42)).toThrow("got number");
    expect(() => curveKeyBytes("curve.secretKey", `${SERVER_PUBLIC.slice(0, 39)}"`)).toThrow(/curve.secretKey is not valid Z85/);
  });

  it("tells client options from server options", () => {
    expect(isCurveClientOptions({ serverKey: SERVER_PUBLIC })).toBe(true);
    expect(isCurveClientOptions({ secretKey: SERVER_PUBLIC })).toBe(false);
  });
});

describe("checks of the curve option", () => {
  const pair = { publicKey: SERVER_PUBLIC, secretKey: z85Encode(new Uint8Array(32).fill(7)) };

  it("takes client options with a server key, and a key pair only whole", () => {
    expect(checkCurveClientOptions({ serverKey: SERVER_PUBLIC }, "connect()")).toEqual({ serverKey: SERVER_PUBLIC });
    expect(() => checkCurveClientOptions({ secretKey: pair.secretKey }, "connect()")).toThrow(
      "connect(): curve.serverKey is required: the public key of the server to talk to ({ secretKey } alone makes a CURVE server, which a client is not)",
    );
    expect(() => checkCurveClientOptions({ serverKey: SERVER_PUBLIC, secretKey: pair.secretKey }, "createPool()")).toThrow(
      "createPool(): curve.publicKey and curve.secretKey go together",
    );
    expect(() => checkCurveClientOptions("key", "connect()")).toThrow("connect(): curve must be an object");
  });

  it("takes server options, reading a one-shot list of allowed keys once", () => {
    function* allowed(): Generator<string> {
      yield SERVER_PUBLIC;
    }
    const checked = checkCurveServerOptions({ secretKey: pair.secretKey, allowedClientKeys: allowed() }, "server.bind()");
    expect(checked.allowedClientKeys).toEqual([SERVER_PUBLIC]);
    expect(() => checkCurveServerOptions({ serverKey: SERVER_PUBLIC }, "server.bind()")).toThrow(/curve.serverKey is an option of a CURVE client/);
    expect(() => checkCurveServerOptions({ secretKey: pair.secretKey, allowedClientKeys: ["short"] }, "server.bind()")).toThrow(
      "server.bind(): curve.allowedClientKeys[0] must be a CURVE key",
    );
    expect(() => checkCurveServerOptions({ secretKey: pair.secretKey, authorize: true }, "server.bind()")).toThrow(/curve.authorize must be a function/);
  });

  it("picks the role of a one-way socket by its serverKey", () => {
    expect(checkCurveOptions({ serverKey: SERVER_PUBLIC }, "connectPusher()")).toEqual({ serverKey: SERVER_PUBLIC });
    expect(checkCurveOptions({ secretKey: pair.secretKey }, "bindPuller()")).toEqual({ secretKey: pair.secretKey });
  });
});
