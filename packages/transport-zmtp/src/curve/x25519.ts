// X25519 (RFC 7748) for the CURVE mechanism. Node's built-in implementation (OpenSSL) is about
// 30x faster than the pure-TypeScript one, so it is used when the runtime has it; `@noble/curves`
// takes over on runtimes whose node:crypto lacks X25519 (checked once, at first use).

import { x25519 as nobleX25519 } from "@noble/curves/ed25519.js";
import * as nodeCrypto from "node:crypto";

/** The X25519 operations the mechanism needs, on raw 32-byte keys. */
export interface X25519 {
  /** A fresh key pair (raw bytes). */
  keyPair(): { publicKey: Uint8Array; secretKey: Uint8Array };
  /** The public key of a secret key. */
  publicKey(secretKey: Uint8Array): Uint8Array;
  /** The shared point of `secretKey` and `publicKey` (throws on a low-order public key). */
  shared(secretKey: Uint8Array, publicKey: Uint8Array): Uint8Array;
  /** Which implementation this is. */
  readonly name: "node" | "noble";
}

// Raw keys enter node:crypto as JWK: importing PKCS#8/SPKI DER goes through OpenSSL 3's decoders
// and cost about 8x as much (Node 20, same run: private 73 against 590 µs, public 14 against
// 120 µs). KeyObjects are cached per key array: secret keys of this process (long-term ones,
// imported once per socket; fresh pairs, made as KeyObjects) are never imported during a
// handshake; a peer's short-term key is imported once; a peer's long-term key (the server's key on
// a client, a client's key on a server) once per process as long as {@link longTermKey} keeps it.
const privateObjects = new WeakMap<Uint8Array, nodeCrypto.KeyObject>();
const publicObjects = new WeakMap<Uint8Array, nodeCrypto.KeyObject>();

function b64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64url");
}

function nodePrivate(secretKey: Uint8Array): nodeCrypto.KeyObject {
  let key = privateObjects.get(secretKey);
  if (key === undefined) {
    const d = b64(secretKey);
    // Node derives the public half from `d` itself; `x` is required by the JWK shape only.
    key = nodeCrypto.createPrivateKey({ key: { kty: "OKP", crv: "X25519", d, x: d }, format: "jwk" });
    privateObjects.set(secretKey, key);
  }
  return key;
}

function nodePublic(publicKey: Uint8Array): nodeCrypto.KeyObject {
  let key = publicObjects.get(publicKey);
  if (key === undefined) {
    key = nodeCrypto.createPublicKey({ key: { kty: "OKP", crv: "X25519", x: b64(publicKey) }, format: "jwk" });
    publicObjects.set(publicKey, key);
  }
  return key;
}

/** Peers' long-term public keys seen last, by content (base64url), at most {@link LONG_TERM_KEPT}. */
const longTermKeys = new Map<string, Uint8Array>();
const LONG_TERM_KEPT = 256;

/**
 * The one array this process keeps for a peer's long-term public key of these contents (a copy
 * the first time; never modify it): X25519 with it then reuses the key's imported form, as the
 * same client (or server) connects again. The last {@link LONG_TERM_KEPT} keys are kept.
 */
export function longTermKey(publicKey: Uint8Array): Uint8Array {
  const text = b64(publicKey);
  let kept = longTermKeys.get(text);
  if (kept === undefined) {
    kept = Uint8Array.from(publicKey);
    if (longTermKeys.size >= LONG_TERM_KEPT) longTermKeys.delete(longTermKeys.keys().next().value as string);
    longTermKeys.set(text, kept);
  }
  return kept;
}

function rawOf(key: nodeCrypto.KeyObject, field: "x" | "d"): Uint8Array {
  const jwk = key.export({ format: "jwk" });
  return new Uint8Array(Buffer.from(jwk[field] ?? "", "base64url"));
}

function allZero(bytes: Uint8Array): boolean {
  let acc = 0;
  for (const byte of bytes) acc |= byte;
  return acc === 0;
}

/** X25519 through node:crypto (OpenSSL). */
export const nodeX25519: X25519 = {
  name: "node",
  keyPair() {
    const { publicKey, privateKey } = nodeCrypto.generateKeyPairSync("x25519");
    const secretKey = rawOf(privateKey, "d");
    privateObjects.set(secretKey, privateKey);
    return { publicKey: rawOf(publicKey, "x"), secretKey };
  },
  publicKey(secretKey) {
    return rawOf(nodePrivate(secretKey), "x");
  },
  shared(secretKey, publicKey) {
    const out = nodeCrypto.diffieHellman({ privateKey: nodePrivate(secretKey), publicKey: nodePublic(publicKey) });
    const shared = new Uint8Array(out.buffer, out.byteOffset, out.length);
    if (allZero(shared)) throw new RangeError("X25519: low-order public key");
    return shared;
  },
};

/** X25519 in pure TypeScript (`@noble/curves`). */
export const nobleX25519Impl: X25519 = {
  name: "noble",
  keyPair() {
    const secretKey = nobleX25519.utils.randomSecretKey();
    return { publicKey: nobleX25519.getPublicKey(secretKey), secretKey };
  },
  publicKey(secretKey) {
    return nobleX25519.getPublicKey(secretKey);
  },
  shared(secretKey, publicKey) {
    // noble throws on an all-zero result (a low-order point) itself.
    return nobleX25519.getSharedSecret(secretKey, publicKey);
  },
};

function probeNode(): boolean {
  try {
    const a = nodeX25519.keyPair();
    const b = nodeX25519.keyPair();
    const ab = nodeX25519.shared(a.secretKey, b.publicKey);
    const ba = nobleX25519.getSharedSecret(b.secretKey, a.publicKey);
    return ab.length === 32 && Buffer.from(ab).equals(Buffer.from(ba));
  } catch {
    return false;
  }
}

let selected: X25519 | undefined;

/** The X25519 implementation in use: node:crypto when it works on this runtime, else noble. */
export function x25519(): X25519 {
  selected ??= probeNode() ? nodeX25519 : nobleX25519Impl;
  return selected;
}

/** Forces an implementation (tests; `undefined` probes again). Drops the pairs made ahead. */
export function setX25519ForTesting(impl: X25519 | undefined): void {
  selected = impl;
  spares.length = 0;
}

// Transient (short-term) key pairs, C' and S' of RFC 26, are made ahead of use: one handshake
// takes a pair made earlier, when the event loop had nothing else to do, and a new one is made
// after it, so that no handshake waits for key generation (about 65 µs with node:crypto, more on
// a loaded machine). Each pair is handed out once and then forgotten here: a connection's
// transient keys are never another's.
const spares: { publicKey: Uint8Array; secretKey: Uint8Array }[] = [];
/** How many pairs are kept ready (one for each side of a connection within the process, say). */
export const TRANSIENT_SPARES = 2;
let refilling = false;

function refill(): void {
  refilling = false;
  if (spares.length >= TRANSIENT_SPARES) return;
  spares.push(x25519().keyPair());
  scheduleRefill();
}

function scheduleRefill(): void {
  if (refilling || spares.length >= TRANSIENT_SPARES) return;
  refilling = true;
  // One pair per turn of the event loop, after its I/O; unref'd: it never keeps a process alive.
  setImmediate(refill).unref();
}

/** A fresh transient key pair, made ahead when possible; never handed out twice. */
export function transientKeyPair(): { publicKey: Uint8Array; secretKey: Uint8Array } {
  const pair = spares.shift() ?? x25519().keyPair();
  scheduleRefill();
  return pair;
}

/** Makes the transient pairs ahead, soon (a socket with the `curve` option was created). */
export function prepareTransientKeys(): void {
  scheduleRefill();
}

/** How many transient pairs are ready (tests). */
export function transientKeysReady(): number {
  return spares.length;
}
