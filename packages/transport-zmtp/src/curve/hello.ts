// A CURVE client's HELLO command (RFC 26), made ahead of its connection: the transient key pair,
// the X25519 of c' and S and the HELLO box. Kept apart from handshake.ts so that the socket's
// options (options.ts) can hold a socket's HELLOs without importing the handshake.
import { Buffer } from "node:buffer";
import { encodeCommand } from "../protocol.js";
import { boxKey, nonce, seal } from "./box.js";
import { longTermKey, transientKeyPair } from "./x25519.js";

/** The 8-byte big-endian short nonce (counter) of a command. @internal */
export function counterBytes(value: number): Uint8Array {
  const out = Buffer.alloc(8);
  out.writeUInt32BE(Math.floor(value / 0x1_0000_0000), 0);
  out.writeUInt32BE(value >>> 0, 4);
  return out;
}

/** Concatenates octet strings. @internal */
export function concat(...parts: Uint8Array[]): Uint8Array {
  return Buffer.concat(parts);
}

/** @internal A client's HELLO with what it was made of: a fresh short-term pair and the key of c' and S. */
export interface ClientHello {
  readonly short: { publicKey: Uint8Array; secretKey: Uint8Array };
  /** The beforenm key of c' and S (HELLO and WELCOME boxes); undefined when S is not a usable key. */
  readonly helloKey: Uint8Array | undefined;
  /** The HELLO command. */
  readonly hello: Buffer | undefined;
}

function makeHello(serverKey: Uint8Array): ClientHello {
  const short = transientKeyPair();
  let helloKey: Uint8Array;
  try {
    // The server's key is long-term: its imported form is kept for the next connections.
    helloKey = boxKey(short.secretKey, longTermKey(serverKey));
  } catch {
    // A low-order curve.serverKey: reported by the handshake's start().
    return { short, helloKey: undefined, hello: undefined };
  }
  const counter = counterBytes(1);
  const box = seal(helloKey, nonce("CurveZMQHELLO---", counter), new Uint8Array(64));
  return { short, helloKey, hello: encodeCommand("HELLO", concat(Uint8Array.of(1, 0), new Uint8Array(72), short.publicKey, counter, box)) };
}

/**
 * A client socket's first HELLO, made ahead when the socket is created (in a microtask: after the
 * code that creates it, before its first connection can start): its transient pair, the X25519 of
 * c' and S and the HELLO box then cost that connection nothing. Later connections (reconnections,
 * more endpoints) make theirs when they start, with a pair made ahead. Each HELLO is taken once.
 * @internal
 */
export class ClientHellos {
  readonly #serverKey: Uint8Array;
  #next: ClientHello | undefined;
  /** The first HELLO is still to be made ahead. */
  #pending = false;

  constructor(serverKey: Uint8Array) {
    this.#serverKey = serverKey;
  }

  /** Makes the first HELLO ahead, in a microtask (once). */
  prepareFirst(): void {
    if (this.#pending || this.#next !== undefined) return;
    this.#pending = true;
    queueMicrotask(() => {
      if (!this.#pending) return;
      this.#pending = false;
      this.#next = makeHello(this.#serverKey);
    });
  }

  /** True when a HELLO is ready (tests). */
  get ready(): boolean {
    return this.#next !== undefined;
  }

  /** The HELLO made ahead, or a new one; never the same twice. */
  take(): ClientHello {
    // Taken before the microtask ran: it has nothing left to make.
    this.#pending = false;
    const hello = this.#next ?? makeHello(this.#serverKey);
    this.#next = undefined;
    return hello;
  }
}

