// Checks of the `curve` option where a caller gives it (`connect()`, the one-way helpers,
// `server.bind()`/`server.connect()`, `createPool()`): a bad key is a TypeError naming the option
// when the call is made, not a handshake that never completes. The checked options then reach the
// transport factory as `TransportDefaults.curve`.
import { curveKeyBytes } from "./curve.js";
import type { CurveClientOptions, CurveKey, CurveOptions, CurveServerOptions } from "./curve.js";

function checkObject(curve: unknown, what: string): asserts curve is object {
  if (typeof curve !== "object" || curve === null || Array.isArray(curve)) {
    throw new TypeError(`${what}: curve must be an object ({ serverKey } for a CURVE client, { secretKey, allowedClientKeys?, authorize? } for a CURVE server), got ${curve === null ? "null" : typeof curve}`);
  }
}

/**
 * Checks CURVE client options (`{ serverKey, publicKey?, secretKey? }`); returns them unchanged.
 * `what` names the caller in messages (`"connect()"`).
 */
export function checkCurveClientOptions(curve: unknown, what: string): CurveClientOptions {
  checkObject(curve, what);
  const { serverKey, publicKey, secretKey } = curve as Partial<CurveClientOptions>;
  if (serverKey === undefined) {
    const hint = secretKey !== undefined && publicKey === undefined ? " ({ secretKey } alone makes a CURVE server, which a client is not)" : "";
    throw new TypeError(`${what}: curve.serverKey is required: the public key of the server to talk to${hint}`);
  }
  curveKeyBytes(`${what}: curve.serverKey`, serverKey);
  if ((publicKey === undefined) !== (secretKey === undefined)) {
    throw new TypeError(`${what}: curve.publicKey and curve.secretKey go together (or leave both out for a fresh key pair per connection)`);
  }
  if (publicKey !== undefined) curveKeyBytes(`${what}: curve.publicKey`, publicKey);
  if (secretKey !== undefined) curveKeyBytes(`${what}: curve.secretKey`, secretKey);
  return curve as CurveClientOptions;
}

/**
 * Checks CURVE server options (`{ secretKey, publicKey?, allowedClientKeys?, authorize? }`).
 * Returns them with a list of `allowedClientKeys` copied into an array (so that a one-shot
 * iterable, a generator say, is read once, here).
 */
export function checkCurveServerOptions(curve: unknown, what: string): CurveServerOptions {
  checkObject(curve, what);
  const options = curve as Partial<CurveServerOptions> & { readonly serverKey?: unknown };
  if (options.serverKey !== undefined) {
    throw new TypeError(`${what}: curve.serverKey is an option of a CURVE client; a CURVE server takes its own { secretKey }`);
  }
  if (options.secretKey === undefined) {
    throw new TypeError(`${what}: curve.secretKey is required: the secret key of this CURVE server (see curveKeyPair())`);
  }
  curveKeyBytes(`${what}: curve.secretKey`, options.secretKey);
  if (options.publicKey !== undefined) curveKeyBytes(`${what}: curve.publicKey`, options.publicKey);
  const { allowedClientKeys, authorize } = options;
  if (authorize !== undefined && typeof authorize !== "function") {
    throw new TypeError(`${what}: curve.authorize must be a function ({ publicKey, address }) => boolean | Promise<boolean>, got ${typeof authorize}`);
  }
  if (allowedClientKeys === undefined || typeof allowedClientKeys === "function") return options as CurveServerOptions;
  if (typeof allowedClientKeys !== "object" || allowedClientKeys === null || typeof (allowedClientKeys as Partial<Iterable<unknown>>)[Symbol.iterator] !== "function") {
    throw new TypeError(`${what}: curve.allowedClientKeys must be a list of CURVE public keys or a function (publicKey, address) => boolean`);
  }
  const keys = [...(allowedClientKeys as Iterable<unknown>)];
  keys.forEach((key, index) => curveKeyBytes(`${what}: curve.allowedClientKeys[${index}]`, key));
  return { ...(options as CurveServerOptions), allowedClientKeys: keys as CurveKey[] };
}

/**
 * Checks CURVE options of either role: `serverKey` makes them client options, anything else
 * server options (a one-way socket is a CURVE client or server whichever way it connects).
 */
export function checkCurveOptions(curve: unknown, what: string): CurveOptions {
  checkObject(curve, what);
  return (curve as { readonly serverKey?: unknown }).serverKey === undefined ? checkCurveServerOptions(curve, what) : checkCurveClientOptions(curve, what);
}
