// The `curve` option of a ZMTP transport, checked and resolved to raw keys once per socket.

import { randomBytes } from "node:crypto";
import { type CurveClientIdentity, type CurveOptions, curveKeyBytes, isCurveClientOptions, z85Encode } from "@zrpc/channel";
import { ClientHellos } from "./hello.js";
import { prepareTransientKeys, x25519 } from "./x25519.js";

/** How long a cookie key is used for new WELCOMEs; INITIATEs are accepted with it for as long again. */
const COOKIE_KEY_LIFETIME_MS = 60_000;

/**
 * The server's cookie keys (RFC 26: the cookie carries the server's short-term secret, sealed with
 * a key only the server knows, so it keeps no per-client state between WELCOME and INITIATE). The
 * key is replaced every minute; the previous one still opens INITIATEs of that minute.
 * @internal
 */
export class CookieKeys {
  #current = randomBytes(32);
  #previous: Uint8Array | undefined;
  #since = Date.now();

  /** The key to seal a new cookie with. */
  current(): Uint8Array {
    const now = Date.now();
    if (now - this.#since >= COOKIE_KEY_LIFETIME_MS) {
      this.#previous = now - this.#since >= 2 * COOKIE_KEY_LIFETIME_MS ? undefined : this.#current;
      this.#current = randomBytes(32);
      this.#since = now;
    }
    return this.#current;
  }

  /** The keys a cookie may have been sealed with, newest first. */
  candidates(): Uint8Array[] {
    this.current();
    return this.#previous === undefined ? [this.#current] : [this.#current, this.#previous];
  }
}

/** A CURVE server socket's keys and authentication. @internal */
export interface CurveServerConfig {
  readonly role: "server";
  readonly publicKey: Uint8Array;
  readonly secretKey: Uint8Array;
  /** The client key check, if any (Z85 key, address). */
  readonly allowed: ((publicKey: string, address: string) => boolean) | undefined;
  readonly authorize: ((client: CurveClientIdentity) => boolean | Promise<boolean>) | undefined;
  readonly cookies: CookieKeys;
}

/** A CURVE client socket's keys. @internal */
export interface CurveClientConfig {
  readonly role: "client";
  readonly serverKey: Uint8Array;
  readonly publicKey: Uint8Array;
  readonly secretKey: Uint8Array;
  /** Its HELLOs (transient pairs), made ahead. */
  readonly hellos: ClientHellos;
}

/** @internal */
export type CurveConfig = CurveServerConfig | CurveClientConfig;

function allowedOption(value: unknown): CurveServerConfig["allowed"] {
  if (value === undefined) return undefined;
  if (typeof value === "function") return value as (publicKey: string, address: string) => boolean;
  if (value === null || typeof value !== "object" || !(Symbol.iterator in value) || typeof value === "string") {
    throw new TypeError("curve.allowedClientKeys must be a list of CURVE keys or a function");
  }
  const keys = new Set<string>();
  let index = 0;
  for (const key of value as Iterable<unknown>) {
    keys.add(z85Encode(curveKeyBytes(`curve.allowedClientKeys[${index}]`, key)));
    index += 1;
  }
  return (publicKey) => keys.has(publicKey);
}

function clientConfig(serverKey: Uint8Array, publicKey: Uint8Array, secretKey: Uint8Array): CurveClientConfig {
  const hellos = new ClientHellos(serverKey);
  // The first connection's HELLO is made ahead, once the code creating the socket has run.
  hellos.prepareFirst();
  return { role: "client", serverKey, publicKey, secretKey, hellos };
}

/**
 * Checks `curve` and resolves it to raw keys: a client without keys gets a fresh pair (per
 * socket); a server's public key is derived from its secret key, or checked against it.
 * @internal
 */
export function resolveCurve(curve: CurveOptions | undefined): CurveConfig | undefined {
  if (curve === undefined) return undefined;
  if (typeof curve !== "object" || curve === null) throw new TypeError("curve must be an object: { serverKey } or { secretKey }");
  const impl = x25519();
  if (isCurveClientOptions(curve)) {
    const serverKey = curveKeyBytes("curve.serverKey", curve.serverKey);
    if ((curve.publicKey === undefined) !== (curve.secretKey === undefined)) {
      throw new TypeError("curve.publicKey and curve.secretKey go together (or leave both out for a fresh pair)");
    }
    if (curve.secretKey === undefined) {
      const pair = impl.keyPair();
      return clientConfig(serverKey, pair.publicKey, pair.secretKey);
    }
    const secretKey = curveKeyBytes("curve.secretKey", curve.secretKey);
    const publicKey = curveKeyBytes("curve.publicKey", curve.publicKey);
    if (!Buffer.from(impl.publicKey(secretKey)).equals(publicKey)) {
      throw new TypeError("curve.publicKey is not the public key of curve.secretKey");
    }
    return clientConfig(serverKey, publicKey, secretKey);
  }
  const server = curve as { secretKey?: unknown; publicKey?: unknown; allowedClientKeys?: unknown; authorize?: unknown };
  if (server.secretKey === undefined) throw new TypeError("curve needs serverKey (a CURVE client) or secretKey (a CURVE server)");
  const secretKey = curveKeyBytes("curve.secretKey", server.secretKey);
  const publicKey = impl.publicKey(secretKey);
  if (server.publicKey !== undefined && !Buffer.from(publicKey).equals(curveKeyBytes("curve.publicKey", server.publicKey))) {
    throw new TypeError("curve.publicKey is not the public key of curve.secretKey");
  }
  if (server.authorize !== undefined && typeof server.authorize !== "function") throw new TypeError("curve.authorize must be a function");
  // The first connection's transient key pair is made ahead, in the event loop's next idle turn.
  prepareTransientKeys();
  return {
    role: "server",
    publicKey,
    secretKey,
    allowed: allowedOption(server.allowedClientKeys),
    authorize: server.authorize as CurveServerConfig["authorize"],
    cookies: new CookieKeys(),
  };
}
