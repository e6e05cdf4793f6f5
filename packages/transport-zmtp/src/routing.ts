// Octet helpers of the socket kinds: routing ids as map keys, topic prefixes. (Envelope rules and
// peer keys are in @zrpc/channel.)
import { Buffer } from "node:buffer";

/** Map key of a routing id (latin1 maps octets to code units one to one). @internal */
export function routingKey(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1");
}

/** True when `data` begins with `prefix` (a topic match). @internal */
export function startsWith(data: Uint8Array, prefix: Uint8Array): boolean {
  if (prefix.byteLength > data.byteLength) return false;
  for (let i = 0; i < prefix.byteLength; i++) if (data[i] !== prefix[i]) return false;
  return true;
}

/** True for equal octets. @internal */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && startsWith(a, b);
}

/** A topic as octets (a string as UTF-8), copied. @internal */
export function toBytes(topic: string | Uint8Array): Uint8Array {
  return typeof topic === "string" ? Buffer.from(topic, "utf8") : Buffer.from(topic);
}
