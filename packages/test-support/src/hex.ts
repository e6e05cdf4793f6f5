// Hex <-> bytes, the encoding every recorded frame uses.
import { Buffer } from "node:buffer";

/** Lowercase hex of `bytes` (a view is read in place, not copied). */
export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");
}

/** Bytes of a hex string (whitespace ignored); throws on an odd length or a non-hex digit. */
export function fromHex(hex: string): Uint8Array {
  const clean = hex.replace(/\s+/g, "");
  if (clean.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(clean)) throw new Error(`not a hex string: ${JSON.stringify(hex.slice(0, 40))}`);
  return Uint8Array.from(Buffer.from(clean, "hex"));
}

/** A Buffer of a hex string (for byte-level tests that concatenate or slice). */
export function bufferFromHex(hex: string): Buffer {
  return Buffer.from(fromHex(hex));
}
