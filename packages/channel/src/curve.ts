// CURVE security options shared by every transport (ZMTP-CURVE, ZeroMQ RFC 26), and the key text
// format (Z85, ZeroMQ RFC 32). The transports implement the mechanism; this module only says what
// a caller may pass and checks it, so that `connect(..., { curve })`, `server.bind(..., { curve })`
// and the pool take the same shape whichever transport runs underneath.

/** A CURVE key: 32 bytes, or the same 32 bytes as 40 characters of Z85 text (as libzmq prints them). */
export type CurveKey = string | Uint8Array;

/** A CURVE key pair, both keys as Z85 text (40 characters each). */
export interface CurveKeyPair {
  /** Hand this to the peers. */
  readonly publicKey: string;
  /** Keep this private. */
  readonly secretKey: string;
}

/** What a server's {@link CurveServerOptions.authorize} hook is asked about, once per connection. */
export interface CurveClientIdentity {
  /** The client's long-term public key (Z85), proven by its INITIATE vouch. */
  readonly publicKey: string;
  /** The client's address (`ip:port` for TCP, the endpoint otherwise). */
  readonly address: string;
}

/**
 * This socket is a CURVE **server**: every connection is encrypted, and clients must know this key
 * pair's public key. Whether the socket binds or connects does not matter.
 */
export interface CurveServerOptions {
  /** This socket's public key. Optional: it is derived from `secretKey` when left out. */
  readonly publicKey?: CurveKey;
  /** This socket's secret key. Keep it private. */
  readonly secretKey: CurveKey;
  /**
   * Which clients may connect, by long-term public key: a list, or a function deciding per key (and
   * the client's address). Every other key is refused during the handshake (an ERROR command; the
   * failure is reported through `onAuthFailure`). Without it (and without `authorize`) any client
   * that knows the server's public key is accepted: the traffic is encrypted but clients are not
   * authenticated.
   */
  readonly allowedClientKeys?: Iterable<CurveKey> | ((publicKey: string, address: string) => boolean);
  /**
   * Decides per connection, after `allowedClientKeys` (if any) accepted the key: return (or resolve
   * to) `true` to accept the client. A throw or rejection refuses it. The handshake waits for the
   * answer (within the transport's handshake timeout).
   */
  readonly authorize?: (client: CurveClientIdentity) => boolean | Promise<boolean>;
}

/**
 * This socket is a CURVE **client**: it encrypts its connections and authenticates the server by
 * its public key.
 */
export interface CurveClientOptions {
  /** The server's public key: a server with another key fails the handshake. */
  readonly serverKey: CurveKey;
  /** This client's public key; with `secretKey`, or both left out to use a fresh pair per socket. */
  readonly publicKey?: CurveKey;
  /** This client's secret key. */
  readonly secretKey?: CurveKey;
}

/** CURVE security of a socket: {@link CurveServerOptions} or {@link CurveClientOptions}. */
export type CurveOptions = CurveServerOptions | CurveClientOptions;

/** A peer failed the security handshake with a transport (the full shape; see `TransportAuthFailure`). */
export interface CurveAuthFailure {
  /**
   * `"auth"`: a CURVE key was refused (by this server's `allowedClientKeys`/`authorize`, or by the
   * server this client talks to); `"protocol"`: the peers could not agree (a plaintext peer meeting
   * a CURVE one, a wrong server key, a malformed or out-of-order command, a bad box or nonce);
   * `"other"`: the handshake broke off without detail (a timeout, or the other side hung up).
   */
  readonly kind: "auth" | "protocol" | "other";
  /** The endpoint of the connection, or the client's address. */
  readonly address: string;
  /** The client key (Z85), on the server side of an `"auth"` failure. */
  readonly publicKey?: string;
  /** One line saying what happened, naming the key or endpoint. */
  readonly message: string;
  /** The underlying error, when there is one. */
  readonly error?: Error;
}

const Z85_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";
const Z85_VALUES: Int8Array = (() => {
  const table = new Int8Array(128).fill(-1);
  for (let i = 0; i < Z85_ALPHABET.length; i++) table[Z85_ALPHABET.charCodeAt(i)] = i;
  return table;
})();

/** Z85 text of `bytes` (ZeroMQ RFC 32; the length must be a multiple of 4). */
export function z85Encode(bytes: Uint8Array): string {
  if (bytes.length % 4 !== 0) throw new RangeError(`Z85 encodes a multiple of 4 bytes, got ${bytes.length}`);
  let out = "";
  for (let i = 0; i < bytes.length; i += 4) {
    let value = bytes[i]! * 0x1000000 + ((bytes[i + 1]! << 16) | (bytes[i + 2]! << 8) | bytes[i + 3]!);
    let chunk = "";
    for (let j = 0; j < 5; j++) {
      chunk = Z85_ALPHABET[value % 85]! + chunk;
      value = Math.floor(value / 85);
    }
    out += chunk;
  }
  return out;
}

/** The bytes of Z85 text (ZeroMQ RFC 32; the length must be a multiple of 5). Throws a `RangeError` on bad text. */
export function z85Decode(text: string): Uint8Array {
  if (text.length % 5 !== 0) throw new RangeError(`Z85 text is a multiple of 5 characters long, got ${text.length}`);
  const out = new Uint8Array((text.length / 5) * 4);
  for (let i = 0, o = 0; i < text.length; i += 5, o += 4) {
    let value = 0;
    for (let j = 0; j < 5; j++) {
      const code = text.charCodeAt(i + j);
      const digit = code < 128 ? Z85_VALUES[code]! : -1;
      if (digit < 0) throw new RangeError(`not a Z85 character at ${i + j}: ${JSON.stringify(text[i + j])}`);
      value = value * 85 + digit;
    }
    if (value > 0xffffffff) throw new RangeError(`Z85 group at ${i} exceeds 32 bits`);
    out[o] = value >>> 24;
    out[o + 1] = (value >>> 16) & 0xff;
    out[o + 2] = (value >>> 8) & 0xff;
    out[o + 3] = value & 0xff;
  }
  return out;
}

/** True for a CURVE key: 32 bytes, or 40 characters of valid Z85 text. */
export function isCurveKey(value: unknown): value is CurveKey {
  if (value instanceof Uint8Array) return value.length === 32;
  if (typeof value !== "string" || value.length !== 40) return false;
  try {
    z85Decode(value);
    return true;
  } catch {
    return false;
  }
}

/**
 * The 32 bytes of a CURVE key given as bytes or Z85 text; a `TypeError` naming `name` (an option
 * path such as `"curve.serverKey"`) when it is neither.
 */
export function curveKeyBytes(name: string, value: unknown): Uint8Array {
  if (value instanceof Uint8Array) {
    if (value.length === 32) return Uint8Array.from(value);
    throw new TypeError(`${name} must be a CURVE key: 32 bytes or 40 characters of Z85, got ${value.length} bytes`);
  }
  if (typeof value === "string") {
    if (value.length === 40) {
      try {
        return z85Decode(value);
      } catch (error) {
        throw new TypeError(`${name} is not valid Z85: ${(error as Error).message}`, { cause: error });
      }
    }
    throw new TypeError(`${name} must be a CURVE key: 40 characters of Z85 or 32 bytes, got ${value.length} characters`);
  }
  throw new TypeError(`${name} must be a CURVE key: 40 characters of Z85 or 32 bytes, got ${value === null ? "null" : typeof value}`);
}

/** The Z85 text of a CURVE key given as bytes or Z85 text (checked as {@link curveKeyBytes} does). */
export function curveKeyText(name: string, value: unknown): string {
  return z85Encode(curveKeyBytes(name, value));
}

/** True when `curve` is client options (it names a `serverKey`). */
export function isCurveClientOptions(curve: CurveOptions): curve is CurveClientOptions {
  return "serverKey" in curve && curve.serverKey !== undefined;
}
