// CURVE key utilities for users: fresh key pairs and the public key of a secret key, as Z85 text.

import { type CurveKey, type CurveKeyPair, curveKeyBytes, z85Encode } from "@zrpc/channel";
import { x25519 } from "./x25519.js";

/** A fresh CURVE key pair (Curve25519), both keys as 40 characters of Z85 text. */
export function curveKeyPair(): CurveKeyPair {
  const pair = x25519().keyPair();
  return { publicKey: z85Encode(pair.publicKey), secretKey: z85Encode(pair.secretKey) };
}

/** The public key (Z85) of a CURVE secret key (32 bytes or Z85); a `TypeError` on a malformed key. */
export function curvePublicKey(secretKey: CurveKey): string {
  return z85Encode(x25519().publicKey(curveKeyBytes("secretKey", secretKey)));
}
