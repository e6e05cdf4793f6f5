// CURVE security helpers: key pairs, and the ZAP handler (RFC 27) that enforces a CURVE server's
// allow-list of client keys and its authorize hook. zeromq.js v6 has no ZAP API of its own: a ZAP handler is any
// socket bound to `inproc://zeromq.zap.01` in the same ZeroMQ context as the server socket, which
// libzmq asks about every connecting client during the handshake.
import { z85Encode } from "@zrpc/channel";
import type { CurveKeyPair } from "@zrpc/channel";
import { Router, curveKeyPair as zmqCurveKeyPair } from "zeromq";
import type { Context } from "zeromq";
import type { ResolvedCurveServer } from "./options.js";

// The shared key helpers, under this package's former names.
export { isCurveKey } from "@zrpc/channel";
export type { CurveKeyPair } from "@zrpc/channel";

/**
 * A new random CURVE key pair (Z85 text), from libzmq (`zmq_curve_keypair`). A server needs one;
 * so does each client that a server's `allowedClientKeys` should recognise.
 */
export function curveKeyPair(): CurveKeyPair {
  const { publicKey, secretKey } = zmqCurveKeyPair();
  return { publicKey, secretKey };
}

/** The endpoint of the ZAP handler, fixed by RFC 27. */
const ZAP_ENDPOINT = "inproc://zeromq.zap.01";

/** Why the ZAP handler refused a client: the refused key ("" for a non-CURVE client), its address and why. */
export interface ZapRefusal {
  readonly publicKey: string;
  readonly address: string;
  readonly why: string;
}

/** A ZAP reply: status code, status text and user id. */
type ZapAnswer = readonly [status: string, text: string, userId: string];

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The ZAP handler of one CURVE server socket, in that socket's private context. It answers every
 * authentication request: 200 for a CURVE key that `allowedClientKeys` (if set) and then
 * `authorize` (if set) accept, 400 for anything else. Requests are decided concurrently (an
 * `authorize` hook may take its time) and answered in the order their decisions complete; libzmq
 * matches answers to requests by request id.
 * @internal
 */
export class ZapHandler {
  readonly #socket: Router;
  readonly #server: Pick<ResolvedCurveServer, "allowed" | "authorize">;
  readonly #onRefused: (refusal: ZapRefusal) => void;
  #loop: Promise<void> = Promise.resolve();
  /** The replies, sent one at a time (a zeromq.js socket takes one send at a time). */
  #sending: Promise<unknown> = Promise.resolve();

  constructor(context: Context, server: Pick<ResolvedCurveServer, "allowed" | "authorize">, onRefused: (refusal: ZapRefusal) => void) {
    this.#socket = new Router({ context, linger: 0 });
    this.#server = server;
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
      // Not awaited: a slow authorize hook must not hold up other clients' handshakes.
      void this.#decide(version, address?.toString("utf8") ?? "", mechanism, credential).then((answer) =>
        this.#reply([routingId, delimiter, "1.0", requestId, ...answer, ""]),
      );
    }
  }

  async #decide(version: Buffer | undefined, peer: string, mechanism: Buffer | undefined, credential: Buffer | undefined): Promise<ZapAnswer> {
    if (version?.toString("latin1") !== "1.0") return ["500", "unsupported ZAP version", ""];
    if (mechanism?.toString("latin1") !== "CURVE" || credential === undefined || credential.length !== 32) {
      this.#refuse({ publicKey: "", address: peer, why: `a ${mechanism?.toString("latin1") ?? "?"} client (CURVE required)` });
      return ["400", "CURVE required", ""];
    }
    const key = z85Encode(credential);
    const why = await this.#refusal(key, peer);
    if (why === undefined) return ["200", "OK", key];
    this.#refuse({ publicKey: key, address: peer, why });
    return ["400", "not allowed", ""];
  }

  /** Why `key` from `address` is refused, or undefined when it is accepted. */
  async #refusal(key: string, address: string): Promise<string | undefined> {
    const { allowed, authorize } = this.#server;
    if (allowed !== undefined) {
      try {
        if (allowed(key, address) !== true) return "not in allowedClientKeys";
      } catch (error) {
        return `allowedClientKeys threw: ${describe(error)}`;
      }
    }
    if (authorize !== undefined) {
      try {
        if ((await authorize({ publicKey: key, address })) !== true) return "refused by authorize";
      } catch (error) {
        return `authorize threw: ${describe(error)}`;
      }
    }
    return undefined;
  }

  #refuse(refusal: ZapRefusal): void {
    try {
      this.#onRefused(refusal);
    } catch {
      // The refusal stands whatever its listener does.
    }
  }

  #reply(frames: (Buffer | string)[]): Promise<void> {
    const sent = this.#sending.then(() => this.#socket.send(frames));
    this.#sending = sent.catch(() => undefined);
    // A closed socket: libzmq refuses the client on its own.
    return sent.then(
      () => undefined,
      () => undefined,
    );
  }

  /** Stops answering; libzmq then refuses every CURVE client of the server socket. */
  async close(): Promise<void> {
    this.#socket.close();
    // Decisions still waiting for authorize are answered into the closed socket (a no-op).
    await this.#loop;
  }
}
