// The msgpack "layout" of the golden vectors (shared protocol/vectors/README.md): the msgpack
// format of every value in encoding order, e.g. "fixarray[3] fixmap{2} fixstr(10) bin8(32) ...".
// It shows the encoder's format choices (smallest int, float64 always, str vs bin), which decoded
// values alone cannot.

/** Thrown when the bytes are not one well-formed msgpack value. */
export class LayoutError extends Error {
  override name = "LayoutError";
}

interface Cursor {
  readonly bytes: Uint8Array;
  readonly view: DataView;
  pos: number;
  readonly tokens: string[];
}

function need(cursor: Cursor, count: number): void {
  if (cursor.pos + count > cursor.bytes.length) {
    throw new LayoutError(`msgpack truncated at byte ${cursor.pos} (needs ${count} more)`);
  }
}

function uint(cursor: Cursor, size: 1 | 2 | 4): number {
  need(cursor, size);
  const at = cursor.pos;
  cursor.pos += size;
  return size === 1 ? cursor.view.getUint8(at) : size === 2 ? cursor.view.getUint16(at) : cursor.view.getUint32(at);
}

function skip(cursor: Cursor, count: number): void {
  need(cursor, count);
  cursor.pos += count;
}

function container(cursor: Cursor, token: string, count: number, perItem: 1 | 2): void {
  cursor.tokens.push(token);
  for (let i = 0; i < count * perItem; i++) readOne(cursor);
}

function ext(cursor: Cursor, name: string, length: number, fixed: boolean): void {
  need(cursor, 1);
  const type = cursor.view.getInt8(cursor.pos);
  cursor.pos += 1;
  skip(cursor, length);
  cursor.tokens.push(fixed ? `${name}(type=${type})` : `${name}(type=${type},${length})`);
}

function readOne(cursor: Cursor): void {
  const byte = uint(cursor, 1);
  const tokens = cursor.tokens;
  if (byte <= 0x7f) return void tokens.push("posfixint");
  if (byte >= 0xe0) return void tokens.push("negfixint");
  if (byte >= 0x80 && byte <= 0x8f) return container(cursor, `fixmap{${byte & 0x0f}}`, byte & 0x0f, 2);
  if (byte >= 0x90 && byte <= 0x9f) return container(cursor, `fixarray[${byte & 0x0f}]`, byte & 0x0f, 1);
  if (byte >= 0xa0 && byte <= 0xbf) {
    skip(cursor, byte & 0x1f);
    return void tokens.push(`fixstr(${byte & 0x1f})`);
  }
  switch (byte) {
    case 0xc0:
      return void tokens.push("nil");
    case 0xc2:
      return void tokens.push("false");
    case 0xc3:
      return void tokens.push("true");
    case 0xc4:
    case 0xc5:
    case 0xc6: {
      const size = byte === 0xc4 ? 1 : byte === 0xc5 ? 2 : 4;
      const length = uint(cursor, size);
      skip(cursor, length);
      return void tokens.push(`bin${size * 8}(${length})`);
    }
    case 0xc7:
    case 0xc8:
    case 0xc9: {
      const size = byte === 0xc7 ? 1 : byte === 0xc8 ? 2 : 4;
      return ext(cursor, `ext${size * 8}`, uint(cursor, size), false);
    }
    case 0xca:
      skip(cursor, 4);
      return void tokens.push("float32");
    case 0xcb:
      skip(cursor, 8);
      return void tokens.push("float64");
    case 0xcc:
    case 0xcd:
    case 0xce:
    case 0xcf: {
      const size = 1 << (byte - 0xcc);
      skip(cursor, size);
      return void tokens.push(`uint${size * 8}`);
    }
    case 0xd0:
    case 0xd1:
    case 0xd2:
    case 0xd3: {
      const size = 1 << (byte - 0xd0);
      skip(cursor, size);
      return void tokens.push(`int${size * 8}`);
    }
    case 0xd4:
    case 0xd5:
    case 0xd6:
    case 0xd7:
    case 0xd8: {
      const size = 1 << (byte - 0xd4);
      return ext(cursor, `fixext${size}`, size, true);
    }
    case 0xd9:
    case 0xda:
    case 0xdb: {
      const size = byte === 0xd9 ? 1 : byte === 0xda ? 2 : 4;
      const length = uint(cursor, size);
      skip(cursor, length);
      return void tokens.push(`str${size * 8}(${length})`);
    }
    case 0xdc:
    case 0xdd: {
      const size = byte === 0xdc ? 2 : 4;
      const count = uint(cursor, size);
      return container(cursor, `array${size * 8}[${count}]`, count, 1);
    }
    case 0xde:
    case 0xdf: {
      const size = byte === 0xde ? 2 : 4;
      const count = uint(cursor, size);
      return container(cursor, `map${size * 8}{${count}}`, count, 2);
    }
    default:
      throw new LayoutError(`invalid msgpack byte 0x${byte.toString(16)} at ${cursor.pos - 1}`);
  }
}

function cursorOf(bytes: Uint8Array, pos = 0): Cursor {
  return { bytes, view: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), pos, tokens: [] };
}

/**
 * The layout of the first msgpack value in `bytes`, one token per value in encoding order, spelled
 * as in the vectors: `posfixint`, `uint64`, `float64`, `fixstr(5)`, `str8(40)`, `bin8(32)`,
 * `fixarray[3]`, `map16{30}`, `ext8(type=5,3)`, `fixext4(type=-1)`, ...
 * Throws {@link LayoutError} on malformed or truncated input.
 */
export function msgpackLayout(bytes: Uint8Array): string[] {
  const cursor = cursorOf(bytes);
  readOne(cursor);
  return cursor.tokens;
}

/**
 * The layout of the args part of an encoded zerorpc event `[header, name, args]` (the part that
 * carries no message ids). Throws {@link LayoutError} if `payload` is not a 3-element array.
 */
export function eventArgsLayout(payload: Uint8Array): string[] {
  const cursor = cursorOf(payload);
  const first = uint(cursor, 1);
  if (first !== 0x93) throw new LayoutError("event is not a fixarray[3]");
  readOne(cursor); // header
  readOne(cursor); // name
  cursor.tokens.length = 0;
  readOne(cursor);
  return cursor.tokens;
}
