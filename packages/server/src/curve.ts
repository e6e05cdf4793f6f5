// The `curve` option of `server.bind()` / `server.connect()`: checked when they are called (a bad
// key is a TypeError naming the option, not a handshake that never completes), then handed to the
// transport factory as `TransportDefaults.curve`.
import { curveKeyBytes } from "@zrpc/channel";
import type { CurveKey, CurveServerOptions } from "@zrpc/channel";

function checkObject(curve: unknown, what: string): asserts curve is object {
  if (typeof curve !== "object" || curve === null || Array.isArray(curve)) {
    throw new TypeError(`${what}: curve must be an object ({ secretKey, allowedClientKeys?, authorize? }), got ${curve === null ? "null" : typeof curve}`);
  }
}

/**
 * Checks CURVE server options (`{ secretKey, publicKey?, allowedClientKeys?, authorize? }`).
 * Returns them with a list of `allowedClientKeys` copied into an array (so that a one-shot
 * iterable, a generator say, is read once, here).
 * @internal
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
