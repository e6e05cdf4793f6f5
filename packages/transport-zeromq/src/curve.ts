// CURVE security helpers: Z85 keys, key pairs, and the ZAP handler (RFC 27) that enforces a CURVE
// server's allow-list of client keys. zeromq.js v6 has no ZAP API of its own: a ZAP handler is any
// socket bound to `inproc://zeromq.zap.01` in the same ZeroMQ context as the server socket, which
// libzmq asks about every connecting client during the handshake.
import { Router, curveKeyPair as zmqCurveKeyPair } from "zeromq";
import type { Context } from "zeromq";

/** A CURVE key pair, both keys as Z85 text (40 characters each). */
export interface CurveKeyPair {
  /** Hand this to the peers. */
  readonly publicKey: string;
  /** Keep this private. */
  readonly secretKey: string;
}

/**
 * A new random CURVE key pair (Z85 text), from libzmq (`zmq_curve_keypair`). A server needs one;
 * so does each client that a server's `allowedClientKeys` should recognise.
 */
export function curveKeyPair(): CurveKeyPair {
  const { publicKey, secretKey } = zmqCurveKeyPair();
  return { publicKey, secretKey };
}

const Z85_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";
const Z85_KEY = /^[0-9a-zA-Z.\-:+=^!/*?&<>()[\]{}@%$#]{40}$/;

/** True for a CURVE key in Z85 text: 40 characters of the Z85 alphabet (32 bytes). */
export function isCurveKey(value: unknown): value is string {
  return typeof value === "string" && Z85_KEY.test(value);
}

/**
 * Z85 text of `bytes` (ZeroMQ RFC 32; the length must be a multiple of 4).
 * @internal
 */
export function z85Encode(bytes: Uint8Array): string {
  if (bytes.length % 4 !== 0) throw new RangeError("Z85 encodes multiples of 4 bytes");
  let out = "";
  for (let i = 0; i < bytes.length; i += 4) {
    let value = ((bytes[i]! << 24) >>> 0) + (bytes[i + 1]! << 16) + (bytes[i + 2]! << 8) + bytes[i + 3]!;
    let chunk = "";
    for (let j = 0; j < 5; j++) {
      chunk = Z85_ALPHABET[value % 85]! + chunk;
      value = Math.floor(value / 85);
    }
    out += chunk;
  }
  return out;
}

/** The endpoint of the ZAP handler, fixed by RFC 27. */
const ZAP_ENDPOINT = "inproc://zeromq.zap.01";

/**
 * The ZAP handler of one CURVE server socket, in that socket's private context. It answers every
 * authentication request: 200 for an allowed CURVE key, 400 for anything else.
 * @internal
 */
export class ZapHandler {
  readonly #socket: Router;
  readonly #allowed: (publicKey: string, address: string) => boolean;
  readonly #onRefused: (publicKey: string, address: string, why: string) => void;
  #loop: Promise<void> = Promise.resolve();

  constructor(
    context: Context,
    allowed: Iterable<string> | ((publicKey: string, address: string) => boolean),
    onRefused: (publicKey: string, address: string, why: string) => void,
  ) {
    this.#socket = new Router({ context, linger: 0 });
    if (typeof allowed === "function") {
      this.#allowed = allowed;
    } else {
      const set = new Set(allowed);
      this.#allowed = (key) => set.has(key);
    }
    this.#onRefused = onRefused;
  }

  /** Binds the handler; libzmq refuses CURVE clients until this resolves (ZMQ_ZAP_ENFORCE_DOMAIN). */
  async start(): Promise<void> {
    await this.#socket.bind(ZAP_ENDPOINT);
    this.#loop = this.#serve();
  }

  async #serve(): Promise<void> {
    for (;;) {
      let frames: Buffer[];
      try {
        frames = await this.#socket.receive();
      } catch {
        return; // closed
      }
      // [routing id, "", version, request id, domain, address, identity, mechanism, credentials...]
      const [routingId, delimiter, version, requestId, , address, , mechanism, credential] = frames;
      if (routingId === undefined || delimiter === undefined || requestId === undefined) continue;
      const peer = address?.toString("utf8") ?? "";
      let status = "400";
      let text = "not allowed";
      let userId = "";
      if (version?.toString("latin1") !== "1.0") {
        status = "500";
        text = "unsupported ZAP version";
      } else if (mechanism?.toString("latin1") !== "CURVE" || credential === undefined || credential.length !== 32) {
        text = "CURVE required";
        this.#onRefused("", peer, `a ${mechanism?.toString("latin1") ?? "?"} client (CURVE required)`);
      } else {
        const key = z85Encode(credential);
        let ok = false;
        let why = "not in allowedClientKeys";
        try {
          ok = this.#allowed(key, peer) === true;
        } catch (error) {
          why = `allowedClientKeys threw: ${error instanceof Error ? error.message : String(error)}`;
        }
        if (ok) {
          status = "200";
          text = "OK";
          userId = key;
        } else {
          this.#onRefused(key, peer, why);
        }
      }
      try {
        await this.#socket.send([routingId, delimiter, "1.0", requestId, status, text, userId, ""]);
      } catch {
        return; // closed
      }
    }
  }

  /** Stops answering; libzmq then refuses every CURVE client of the server socket. */
  async close(): Promise<void> {
    this.#socket.close();
    await this.#loop;
  }
}
