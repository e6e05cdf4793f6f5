import { Buffer } from "node:buffer";
import { z85Decode, z85Encode } from "@zrpc/channel";
import { afterEach, describe, expect, it } from "vitest";
import { curveKeyPair, curvePublicKey } from "../src/index.js";
import { poly1305 } from "@noble/ciphers/_poly1305.js";
import { salsa20 } from "@noble/ciphers/salsa.js";
import { MessageBox, boxKey, nonce, open, seal } from "../src/curve/box.js";
import { Poly1305 } from "../src/curve/poly1305.js";
import { keyWords, salsa20Xor } from "../src/curve/salsa20.js";
import { nobleX25519Impl, nodeX25519, setX25519ForTesting, x25519 } from "../src/curve/x25519.js";

afterEach(() => setX25519ForTesting(undefined));

describe("curveKeyPair / curvePublicKey", () => {
  it("makes Z85 key pairs whose public key curvePublicKey derives", () => {
    const pair = curveKeyPair();
    expect(pair.publicKey).toHaveLength(40);
    expect(pair.secretKey).toHaveLength(40);
    expect(z85Decode(pair.publicKey)).toHaveLength(32);
    expect(curvePublicKey(pair.secretKey)).toBe(pair.publicKey);
    expect(curvePublicKey(z85Decode(pair.secretKey))).toBe(pair.publicKey);
    expect(curveKeyPair().secretKey).not.toBe(pair.secretKey);
  });

  it("matches the RFC 7748 test vector (Alice's key pair)", () => {
    const secret = Buffer.from("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a", "hex");
    const expected = Buffer.from("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a", "hex");
    expect(curvePublicKey(secret)).toBe(z85Encode(expected));
  });

  it("rejects malformed keys with a TypeError naming the problem", () => {
    expect(() => curvePublicKey("short")).toThrow(TypeError);
    expect(() => curvePublicKey(new Uint8Array(31))).toThrow(/32 bytes/);
    expect(() => curvePublicKey("~".repeat(40))).toThrow(/Z85/);
    expect(() => curvePublicKey(42 as unknown as string)).toThrow(TypeError);
  });
});

describe("X25519 implementations", () => {
  it("node:crypto and noble agree, both ways", () => {
    const a = nodeX25519.keyPair();
    const b = nobleX25519Impl.keyPair();
    expect(Buffer.from(nodeX25519.shared(a.secretKey, b.publicKey))).toEqual(Buffer.from(nobleX25519Impl.shared(b.secretKey, a.publicKey)));
    expect(Buffer.from(nobleX25519Impl.publicKey(a.secretKey))).toEqual(Buffer.from(a.publicKey));
    expect(Buffer.from(nodeX25519.publicKey(b.secretKey))).toEqual(Buffer.from(b.publicKey));
  });

  it("both refuse a low-order public key", () => {
    const a = nodeX25519.keyPair();
    expect(() => nodeX25519.shared(a.secretKey, new Uint8Array(32))).toThrow();
    expect(() => nobleX25519Impl.shared(a.secretKey, new Uint8Array(32))).toThrow();
  });

  it("prefers node:crypto, and the key utilities work on the noble fallback", () => {
    expect(x25519().name).toBe("node");
    setX25519ForTesting(nobleX25519Impl);
    const pair = curveKeyPair();
    expect(curvePublicKey(pair.secretKey)).toBe(pair.publicKey);
    setX25519ForTesting(nodeX25519);
    expect(curvePublicKey(pair.secretKey)).toBe(pair.publicKey);
  });
});

describe("boxes", () => {
  const a = nodeX25519.keyPair();
  const b = nodeX25519.keyPair();
  const key = boxKey(a.secretKey, b.publicKey);

  it("crypto_box keys agree from both sides and boxes open only with the right nonce", () => {
    expect(Buffer.from(boxKey(b.secretKey, a.publicKey))).toEqual(Buffer.from(key));
    const n = nonce("CurveZMQHELLO---", Buffer.alloc(8, 1));
    const sealed = seal(key, n, Buffer.from("secret"));
    expect(Buffer.from(open(key, n, sealed) as Uint8Array).toString()).toBe("secret");
    expect(open(key, nonce("CurveZMQHELLO---", Buffer.alloc(8, 2)), sealed)).toBeUndefined();
    expect(open(key, n, sealed.subarray(0, 10))).toBeUndefined();
  });

  it("MessageBox seals exactly as XSalsa20-Poly1305 with the full nonce, in place, any length", () => {
    const box = new MessageBox(key, "CurveZMQMESSAGEC");
    for (const length of [0, 1, 31, 32, 33, 63, 64, 65, 1000, 20_000]) {
      const plain = Buffer.alloc(length);
      for (let i = 0; i < length; i++) plain[i] = (i * 31 + 7) & 0xff;
      const counter = Buffer.from([0, 0, 0, 1, 0, 0, 0, length & 0xff]);
      const reference = seal(key, nonce("CurveZMQMESSAGEC", counter), plain);
      const buffer = new Uint8Array(5 + 32 + length);
      buffer.set(plain, 5 + 32);
      box.sealInPlace(buffer, 5, buffer.byteLength, counter);
      expect(Buffer.from(buffer.subarray(5 + 16))).toEqual(Buffer.from(reference));
      expect(Buffer.from(box.open(reference, counter) as Uint8Array)).toEqual(plain);
      if (length > 0) {
        const forged = Uint8Array.from(reference);
        forged[forged.length - 1]! ^= 1;
        expect(box.open(forged, counter)).toBeUndefined();
      }
      expect(box.open(reference, Buffer.alloc(8))).toBeUndefined();
    }
  });
});

describe("Poly1305 and Salsa20 of the MESSAGE path", () => {
  it("Poly1305 gives the RFC 8439 2.5.2 tag and agrees with @noble/ciphers on edge cases", () => {
    const poly = new Poly1305();
    const key = Buffer.from("85d6be7857556d337f4452fe42d506a80103808afb0db2fd4abff6af4149f51b", "hex");
    const message = Buffer.from("Cryptographic Forum Research Group");
    const out = new Uint8Array(16);
    poly.tag(key, 0, { bytes: message, at: 0, end: message.length }, { bytes: out, at: 0 });
    expect(Buffer.from(out).toString("hex")).toBe("a8061dc1305136c6c22b8baf0c0127a9");
    let seed = 7;
    const next = (): number => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24;
    for (let round = 0; round < 400; round++) {
      const length = round % 90 + (round % 4 === 0 ? 1500 : 0);
      const oneTime = Buffer.alloc(32);
      const data = Buffer.alloc(length);
      for (let i = 0; i < 32; i++) oneTime[i] = round % 5 === 0 ? 0xff : next();
      for (let i = 0; i < length; i++) data[i] = round % 3 === 0 ? 0xff : next();
      poly.tag(oneTime, 0, { bytes: data, at: 0, end: length }, { bytes: out, at: 0 });
      expect(Buffer.from(out)).toEqual(Buffer.from(poly1305(data, oneTime)));
    }
  });

  it("Salsa20 matches @noble/ciphers over several blocks", () => {
    const key = Buffer.alloc(32, 3);
    const counter = Buffer.from("0102030405060708", "hex");
    const data = new Uint8Array(200);
    salsa20Xor(keyWords(key), counter, data, { at: 0, end: 200 });
    expect(Buffer.from(data)).toEqual(Buffer.from(salsa20(key, counter, new Uint8Array(200))));
  });
});
