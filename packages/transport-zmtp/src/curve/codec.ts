// MESSAGE commands of an established CURVE connection (RFC 26 "MESSAGE", RFC 25): every frame,
// message frame or command, travels as `MESSAGE short-nonce box[flags body]`, flags 0x01 = MORE
// and 0x02 = COMMAND; short nonces strictly increase per direction (from 1 on the client's HELLO
// and the server's READY), each direction with its own nonce prefix.

import { Buffer } from "node:buffer";
import { ChunkedBody } from "../encoder.js";
import type { OutEntry, OutFrame } from "../encoder.js";
import { FLAG_COMMAND, FLAG_LONG, FLAG_MORE } from "../protocol.js";
import { BOX_OVERHEAD, MessageBox } from "./box.js";

/** MESSAGE flags: more frames follow. @internal */
export const CURVE_MORE = 0x01;
/** MESSAGE flags: the frame is a command. @internal */
export const CURVE_COMMAND = 0x02;

/** Octets a MESSAGE command adds to a frame body: name (8), short nonce (8), tag (16), flags (1). */
export const MESSAGE_OVERHEAD = 8 + 8 + BOX_OVERHEAD + 1;
const NAME = Buffer.from("\x07MESSAGE", "latin1");

/**
 * Seals outgoing and opens incoming MESSAGE commands of one connection.
 * @internal
 */
export class CurveCodec {
  readonly #send: MessageBox;
  readonly #receive: MessageBox;
  /** Our next short nonce. */
  #nonce: number;
  /** The peer's last short nonce, as two 32-bit halves. */
  #peerHigh: number;
  #peerLow: number;
  readonly #counter = new Uint8Array(8);
  /** The short nonce of the MESSAGE being opened (copied here: no view of the command per frame). */
  readonly #peerCounter = new Uint8Array(8);

  /**
   * @param key - the connection's beforenm key (short-term keys)
   * @param client - true on the CURVE client (it sends with prefix "CurveZMQMESSAGEC")
   * @param nonce - our next short nonce
   * @param peerNonce - the last short nonce the peer used in the handshake (8 octets, or a number)
   */
  constructor(key: Uint8Array, client: boolean, nonce: number, peerNonce: Uint8Array | number) {
    this.#send = new MessageBox(key, client ? "CurveZMQMESSAGEC" : "CurveZMQMESSAGES");
    this.#receive = new MessageBox(key, client ? "CurveZMQMESSAGES" : "CurveZMQMESSAGEC");
    this.#nonce = nonce;
    if (typeof peerNonce === "number") {
      this.#peerHigh = Math.floor(peerNonce / 0x1_0000_0000);
      this.#peerLow = peerNonce >>> 0;
    } else {
      const view = Buffer.from(peerNonce.buffer, peerNonce.byteOffset, 8);
      this.#peerHigh = view.readUInt32BE(0);
      this.#peerLow = view.readUInt32BE(4);
    }
  }

  /** Sets the peer's last short nonce to the 8-octet `counter` (the client, from the server's READY). */
  peerNonceFrom(counter: Uint8Array): void {
    this.#peerHigh = (((counter[0] as number) << 24) | ((counter[1] as number) << 16) | ((counter[2] as number) << 8) | (counter[3] as number)) >>> 0;
    this.#peerLow = (((counter[4] as number) << 24) | ((counter[5] as number) << 16) | ((counter[6] as number) << 8) | (counter[7] as number)) >>> 0;
  }

  /** Seals queued entries, in order, into MESSAGE commands: the buffers to write (one). */
  encodeBatch(entries: readonly OutEntry[]): Buffer[] {
    let total = 0;
    for (const entry of entries) {
      if (Buffer.isBuffer(entry)) {
        total += frameSize(entry.byteLength - ((entry[0] as number) & FLAG_LONG ? 9 : 2));
        continue;
      }
      for (const body of entry) total += frameSize(body.byteLength);
    }
    const out = Buffer.allocUnsafe(total);
    let at = 0;
    for (const entry of entries) {
      if (Buffer.isBuffer(entry)) {
        // Raw encoded bytes (a command, a subscription message): one frame, its ZMTP flags carried over.
        const zmtpFlags = entry[0] as number;
        const flags = ((zmtpFlags & FLAG_MORE) === 0 ? 0 : CURVE_MORE) | ((zmtpFlags & FLAG_COMMAND) === 0 ? 0 : CURVE_COMMAND);
        at = this.#seal(out, at, flags, entry.subarray((zmtpFlags & FLAG_LONG) === 0 ? 2 : 9));
        continue;
      }
      const last = entry.length - 1;
      for (let i = 0; i <= last; i++) at = this.#seal(out, at, i < last ? CURVE_MORE : 0, entry[i] as OutFrame);
    }
    return [out];
  }

  /** Writes one MESSAGE command at `at`; returns where it ends. */
  #seal(out: Buffer, at: number, flags: number, body: OutFrame): number {
    const size = body.byteLength;
    const commandSize = MESSAGE_OVERHEAD + size;
    const header = commandSize > 255 ? 9 : 2;
    const plain = at + header + 32;
    out[plain] = flags;
    if (body instanceof ChunkedBody) {
      let offset = plain + 1;
      for (const chunk of body.chunks) {
        out.set(chunk, offset);
        offset += chunk.byteLength;
      }
    } else if (size > 0) {
      out.set(body, plain + 1);
    }
    const counter = this.#nextCounter();
    this.#send.sealInPlace(out, plain - 32, plain + 1 + size, counter);
    // As libzmq writes it: a data frame (no COMMAND flag) starting with the command name.
    if (header === 2) {
      out[at] = 0;
      out[at + 1] = commandSize;
    } else {
      out[at] = FLAG_LONG;
      out.writeUInt32BE(Math.floor(commandSize / 0x1_0000_0000), at + 1);
      out.writeUInt32BE(commandSize >>> 0, at + 5);
    }
    out.set(NAME, at + header);
    out.set(counter, at + header + 8);
    return plain + 1 + size;
  }

  #nextCounter(): Uint8Array {
    const nonce = this.#nonce;
    this.#nonce = nonce + 1;
    const counter = this.#counter;
    const high = Math.floor(nonce / 0x1_0000_0000);
    const low = nonce >>> 0;
    counter[0] = high >>> 24;
    counter[1] = (high >>> 16) & 0xff;
    counter[2] = (high >>> 8) & 0xff;
    counter[3] = high & 0xff;
    counter[4] = low >>> 24;
    counter[5] = (low >>> 16) & 0xff;
    counter[6] = (low >>> 8) & 0xff;
    counter[7] = low & 0xff;
    return counter;
  }

  /**
   * Opens the data of a MESSAGE command (after its name), starting at `at` of `data`: the
   * plaintext, flags octet first, or a reason when the command is malformed, its nonce does not
   * increase, or its box does not open.
   */
  open(data: Uint8Array, at = 0): Uint8Array | string {
    const size = data.byteLength - at;
    if (size < 8 + BOX_OVERHEAD + 1) return `MESSAGE command of ${size} octets is too short`;
    const high = (((data[at] as number) << 24) | ((data[at + 1] as number) << 16) | ((data[at + 2] as number) << 8) | (data[at + 3] as number)) >>> 0;
    const low = (((data[at + 4] as number) << 24) | ((data[at + 5] as number) << 16) | ((data[at + 6] as number) << 8) | (data[at + 7] as number)) >>> 0;
    if (high < this.#peerHigh || (high === this.#peerHigh && low <= this.#peerLow)) {
      return "MESSAGE short nonce did not increase (replayed or reordered command)";
    }
    const counter = this.#peerCounter;
    for (let i = 0; i < 8; i++) counter[i] = data[at + i] as number;
    // One view of the box (tag and ciphertext); the plaintext is the one buffer allocated per frame.
    const plain = this.#receive.open(new Uint8Array(data.buffer, data.byteOffset + at + 8, size - 8), counter);
    if (plain === undefined) return "MESSAGE box did not authenticate (corrupted or forged)";
    this.#peerHigh = high;
    this.#peerLow = low;
    return plain;
  }
}

function frameSize(bodySize: number): number {
  const commandSize = MESSAGE_OVERHEAD + bodySize;
  return (commandSize > 255 ? 9 : 2) + commandSize;
}
