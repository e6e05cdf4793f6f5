// Message ids the way zerorpc-python makes them (docs/protocol section 4.1): 32 ASCII lowercase hex
// bytes, an 8-hex-digit counter followed by a 24-hex-digit random base, sent as bin.

/**
 * A `message_id` / `response_to` value. zerorpc-python sends 32 ASCII hex bytes as **bin**
 * (`Uint8Array`) but serves str and int ids too, echoing the same type back. An id is matched by
 * msgpack type and value: bin `"abc"` and str `"abc"` are different ids (see `messageIdKey`).
 */
export type MessageId = Uint8Array | string | number | bigint;

/** ASCII codes of "0".."9a".."f". */
const HEX_DIGITS = Uint8Array.from("0123456789abcdef", (char) => char.charCodeAt(0));
const TWO_POW_32 = 4294967296;

function defaultRandom(bytes: Uint8Array): void {
  globalThis.crypto.getRandomValues(bytes);
}

function readUint32(bytes: Uint8Array, at: number): number {
  return ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>> 0;
}

/**
 * Creates a message id generator with its own state, like one zerorpc-python `Context`: a random
 * 24-hex-digit base and a 32-bit counter starting at a random value; every id takes the next
 * counter value (`"%08x" % counter + base`). When the counter reaches a random stop value drawn
 * in [start, 2^32), base, counter and stop are drawn again, so the counter never wraps.
 *
 * Ids are unique across processes with overwhelming probability (96 random bits of base), which
 * zerorpc-python servers need: they key channels by id alone, not by peer.
 *
 * @param random - fills its argument with random bytes; defaults to `crypto.getRandomValues`
 *   (inject one for deterministic tests)
 * @returns a function returning a fresh 32-byte `Uint8Array` per call
 */
export function createMessageIdGenerator(random: (bytes: Uint8Array) => void = defaultRandom): () => Uint8Array {
  const base = new Uint8Array(24);
  const draw = new Uint8Array(20);
  let counter = 0;
  let stop = 0;

  const reset = (): void => {
    random(draw);
    for (let i = 0; i < 12; i++) {
      base[i * 2] = HEX_DIGITS[draw[i]! >> 4]!;
      base[i * 2 + 1] = HEX_DIGITS[draw[i]! & 0x0f]!;
    }
    counter = readUint32(draw, 12);
    // Uniform enough in [counter, 2^32): the modulo bias is at most 2^-32 per value.
    stop = counter + (readUint32(draw, 16) % (TWO_POW_32 - counter));
  };
  reset();

  return (): Uint8Array => {
    if (counter >= stop) reset();
    else counter++;
    const id = new Uint8Array(32);
    let value = counter;
    for (let i = 7; i >= 0; i--) {
      id[i] = HEX_DIGITS[value & 0x0f]!;
      value >>>= 4;
    }
    id.set(base, 8);
    return id;
  };
}

/** Where the process-wide generator lives, shared by every loaded copy (ESM, CJS) of this package. */
const DEFAULT_GENERATOR_KEY = Symbol.for("zrpc.wire.messageIdGenerator");

let defaultGenerator: (() => Uint8Array) | undefined;

/** The process-wide generator: the one on `globalThis`, else a new one stored there. */
function processGenerator(): () => Uint8Array {
  const holder = globalThis as unknown as Record<symbol, unknown>;
  const existing = holder[DEFAULT_GENERATOR_KEY];
  if (typeof existing === "function") return existing as () => Uint8Array;
  const own = createMessageIdGenerator();
  // A value that is not a generator (left by something else) stays; this copy then keeps its own.
  if (existing === undefined && !Object.prototype.hasOwnProperty.call(globalThis, DEFAULT_GENERATOR_KEY)) {
    Object.defineProperty(globalThis, DEFAULT_GENERATOR_KEY, { value: own, enumerable: false, writable: false, configurable: false });
  }
  return own;
}

/**
 * A fresh zerorpc-python style message id: 32 bytes of ASCII lowercase hex (an 8-digit counter
 * then a 24-digit random base), e.g. `c090f3843ba94c8696ef0366dfcf8cd8`, to be sent as bin.
 * Uses one process-wide generator (see {@link createMessageIdGenerator}) seeded from
 * `globalThis.crypto.getRandomValues` on first use, as zerorpc-python has one per process: it is
 * kept on `globalThis` under `Symbol.for("zrpc.wire.messageIdGenerator")`, so the ESM and the CJS
 * build loaded in one process take their ids from the same counter.
 */
export function newMessageId(): Uint8Array {
  return (defaultGenerator ??= processGenerator())();
}

/** Latin-1 text of a byte array (one char per byte), in chunks to stay within argument limits. */
function latin1(bytes: Uint8Array): string {
  const length = bytes.length;
  if (length <= 4096) return String.fromCharCode.apply(null, bytes as unknown as number[]);
  let text = "";
  for (let at = 0; at < length; at += 4096) {
    text += String.fromCharCode.apply(null, bytes.subarray(at, at + 4096) as unknown as number[]);
  }
  return text;
}

/**
 * A string key for maps of channels, distinguishing the msgpack type of an id as well as its
 * bytes: `"b"` + the bytes as Latin-1 for bin, `"s"` + the text for str, `"i"` + the decimal
 * value for ints (a `number` and a `bigint` of the same value give the same key, as both are
 * msgpack ints). So bin `"abc"` and str `"abc"` get different keys, as zerorpc-python matches ids
 * by exact type and value.
 */
export function messageIdKey(id: MessageId): string {
  if (id instanceof Uint8Array) return "b" + latin1(id);
  if (typeof id === "string") return "s" + id;
  if (typeof id === "number" && !Number.isInteger(id)) return "f" + String(id);
  return "i" + String(id === 0 ? 0 : id);
}

/** True when two ids have the same msgpack type (bin, str, int) and the same bytes or value. */
export function messageIdEquals(a: MessageId, b: MessageId): boolean {
  if (a instanceof Uint8Array) {
    if (!(b instanceof Uint8Array) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }
  if (typeof a === "string") return a === b;
  if (typeof b !== "number" && typeof b !== "bigint") return false;
  if (typeof a === typeof b) return a === b;
  // One number, one bigint: equal when the number is an integer of the same value.
  const number = (typeof a === "number" ? a : b) as number;
  const big = (typeof a === "bigint" ? a : b) as bigint;
  return Number.isInteger(number) && BigInt(number) === big;
}

/**
 * A readable rendering of an id for logs: bin whose bytes are all printable ASCII as that text
 * (Python's ids read as 32 hex digits), other (or empty) bin as `0x` + hex; str as is; ints in decimal.
 */
export function messageIdToString(id: MessageId): string {
  if (id instanceof Uint8Array) {
    let printable = id.length > 0;
    for (let i = 0; i < id.length; i++) {
      const byte = id[i]!;
      if (byte < 0x20 || byte > 0x7e) {
        printable = false;
        break;
      }
    }
    if (printable) return latin1(id);
    let hex = "0x";
    for (let i = 0; i < id.length; i++) hex += id[i]!.toString(16).padStart(2, "0");
    return hex;
  }
  return String(id);
}
