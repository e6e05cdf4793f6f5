// CURVE keys on disk, for `zrpc keygen` and every `--curve-*` option. One reader serves them all:
// a key file is a ZPL certificate (the `.key` / `.key_secret` files of czmq's zcert, pyzmq's
// `zmq.auth.create_certificates` and `zrpc keygen`), a file holding one key as 40 characters of
// Z85, or a file of exactly 32 raw bytes. An allow list is a file of Z85 public keys, one a line,
// with `#` comments, or a folder of `.key` certificates. Every problem is a `KeyFileError` (exit
// status 2, like other bad arguments) naming the option, the file and what is wrong with it.
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { curveKeyBytes, z85Decode, z85Encode } from "@zrpc/channel";
import type { CurveKeyPair } from "@zrpc/channel";
import { curvePublicKey } from "@zrpc/transport-zmtp";
import { UsageError } from "./errors.js";

/** A key file or key argument that cannot be used. The command exits with status 2. */
export class KeyFileError extends UsageError {
  /** @param message - the option, the file and what is wrong */
  constructor(message: string) {
    super(message);
    this.name = "KeyFileError";
  }
}

/** What a key file holds. A certificate has what it names; a bare key is whichever the caller needs. */
export interface KeyFileContent {
  readonly format: "certificate" | "z85" | "raw";
  /** A certificate's `curve/public-key` (Z85), when it has one. */
  readonly publicKey?: string;
  /** A certificate's `curve/secret-key` (Z85), when it has one. */
  readonly secretKey?: string;
  /** The key of a `z85` or `raw` file (Z85). */
  readonly key?: string;
}

/** Suffix of the public certificate `zrpc keygen NAME` writes (the secret one adds `_secret`). */
export const PUBLIC_CERTIFICATE_SUFFIX = ".key";
/** Suffix of the secret certificate. */
export const SECRET_CERTIFICATE_SUFFIX = ".key_secret";

/**
 * Reads ZPL (ZeroMQ RFC 4, the format of czmq's zconfig): one `name` or `name = value` a line,
 * nesting by indentation of 4 spaces, `#` comment lines, values quoted with `"` or `'` or bare.
 * Resolves to values by path (`curve/public-key`); `undefined` when the text is not ZPL.
 */
export function parseZpl(text: string): Map<string, string> | undefined {
  const values = new Map<string, string>();
  const path: string[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trimEnd();
    const content = line.trimStart();
    if (content === "" || content.startsWith("#")) continue;
    const indent = line.length - content.length;
    if (/\t/.test(line.slice(0, indent))) return undefined;
    const depth = Math.floor(indent / 4);
    if (depth > path.length) return undefined;
    path.length = depth;
    const match = /^([A-Za-z0-9$\-_@.&+/]+)\s*(?:=\s*(.*))?$/.exec(content);
    if (match === null) return undefined;
    const name = match[1]!;
    const value = match[2] === undefined ? "" : zplValue(match[2]);
    if (value === undefined) return undefined;
    values.set([...path, name].join("/"), value);
    path.push(name);
  }
  return values;
}

/** A ZPL value: `"quoted"`, `'quoted'`, or bare up to a `#` comment. */
function zplValue(text: string): string | undefined {
  const quote = text[0];
  if (quote === '"' || quote === "'") {
    const end = text.indexOf(quote, 1);
    if (end < 0) return undefined;
    const rest = text.slice(end + 1).trim();
    return rest === "" || rest.startsWith("#") ? text.slice(1, end) : undefined;
  }
  const hash = text.indexOf("#");
  return (hash < 0 ? text : text.slice(0, hash)).trim();
}

/** The length of 40-character Z85 text of a key. */
const Z85_KEY_LENGTH = 40;
/** The length of a key in bytes. */
const KEY_BYTES = 32;

/** Z85 text of one key, or a `KeyFileError` saying, under `where`, why it is not one. */
function z85Key(where: string, text: string): string {
  try {
    return z85Encode(curveKeyBytes(where, text));
  } catch (error) {
    throw new KeyFileError((error as Error).message);
  }
}

const FORMATS =
  "a ZPL certificate with a curve section (a .key or .key_secret file of zrpc keygen, pyzmq or czmq), " +
  `${Z85_KEY_LENGTH} characters of Z85 or ${KEY_BYTES} raw bytes`;

/**
 * What the file `bytes` read from holds (`where` names it in errors: `--curve-server-key @keys/x`).
 * Throws a {@link KeyFileError} for anything else.
 */
export function parseKeyFile(where: string, bytes: Uint8Array): KeyFileContent {
  if (bytes.length === KEY_BYTES) return { format: "raw", key: z85Encode(bytes) };
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes).replace(/^\uFEFF/, "");
  } catch {
    throw new KeyFileError(`${where} is not a CURVE key file: it is ${bytes.length} bytes of binary data; expected ${FORMATS}`);
  }
  const trimmed = text.trim();
  if (trimmed === "") throw new KeyFileError(`${where} is empty; expected ${FORMATS}`);
  if (!/\s/.test(trimmed) && trimmed.length === Z85_KEY_LENGTH) {
    return { format: "z85", key: z85Key(`${where} (one Z85 key)`, trimmed) };
  }
  const zpl = parseZpl(text);
  const publicKey = zpl?.get("curve/public-key");
  const secretKey = zpl?.get("curve/secret-key");
  if (publicKey === undefined && secretKey === undefined) {
    const what = !/\s/.test(trimmed) ? `one word of ${trimmed.length} characters` : `${bytes.length} bytes of text without curve/public-key or curve/secret-key`;
    throw new KeyFileError(`${where} is not a CURVE key file: it holds ${what}; expected ${FORMATS}`);
  }
  return {
    format: "certificate",
    ...(publicKey !== undefined && { publicKey: z85Key(`${where}: curve/public-key`, publicKey) }),
    ...(secretKey !== undefined && { secretKey: z85Key(`${where}: curve/secret-key`, secretKey) }),
  };
}

/** The bytes of `path`, or a {@link KeyFileError} (`where` names it) saying why it cannot be read. */
function readKeyBytes(where: string, path: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === "ENOENT" ? "no such file" : code === "EISDIR" ? "it is a folder, not a file" : code === "EACCES" ? "permission denied" : (error as Error).message;
    throw new KeyFileError(`cannot read ${where}: ${why}`);
  }
}

/** Reads the key file `path` (named `where` in errors, e.g. `--curve-secret-key-file keys/x`). */
export function readKeyFile(where: string, path: string): KeyFileContent {
  return parseKeyFile(where, readKeyBytes(where, path));
}

/**
 * A key pair from `--curve-secret-key-file F` (`option`): a `.key_secret` certificate (its public
 * key must belong to its secret key), or a secret key alone (Z85 or raw; the public key is derived).
 */
export function readKeyPairFile(option: string, path: string): CurveKeyPair {
  const where = `${option} ${path}`;
  const content = readKeyFile(where, path);
  const secretKey = content.format === "certificate" ? content.secretKey : content.key;
  if (secretKey === undefined) {
    throw new KeyFileError(
      `${where} is a public certificate (it has no curve/secret-key): pass the ${SECRET_CERTIFICATE_SUFFIX} file written with it`,
    );
  }
  const derived = curvePublicKey(secretKey);
  if (content.publicKey !== undefined && content.publicKey !== derived) {
    throw new KeyFileError(`${where}: its curve/public-key does not belong to its curve/secret-key (the file was edited or mixed up)`);
  }
  return { publicKey: derived, secretKey };
}

/**
 * A public key from an option value (`--curve-server-key K`): 40 characters of Z85, or `@FILE`
 * for a key file (a certificate's public key, or the key of a Z85 or raw file). A key may start
 * with `@` (a Z85 digit): 40 characters of valid Z85 are a key unless the file they name exists.
 */
export function readPublicKeyOption(option: string, value: string): string {
  // `@` is a Z85 digit too: a valid key that starts with it is a key, unless such a file exists.
  if (value.startsWith("@") && !(isZ85Key(value) && !isFile(value.slice(1)))) {
    const path = value.slice(1);
    if (path === "") throw new KeyFileError(`${option} @FILE needs a file name after @`);
    const where = `${option} ${value}`;
    const content = readKeyFile(where, path);
    if (content.format !== "certificate") return content.key!;
    return content.publicKey ?? curvePublicKey(content.secretKey!);
  }
  if (value.length !== Z85_KEY_LENGTH) {
    const hint = isFile(value) ? ` (to read the file ${value}, write @${value})` : "";
    throw new KeyFileError(
      `${option} must be a CURVE public key: ${Z85_KEY_LENGTH} characters of Z85 or @FILE, got ${value.length} characters${hint}`,
    );
  }
  return z85Key(option, value);
}

/** True for an existing file (not a folder). */
function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** True for 40 characters of valid Z85. */
function isZ85Key(text: string): boolean {
  if (text.length !== Z85_KEY_LENGTH) return false;
  try {
    z85Decode(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * The key on a line of an allow list: its first word, when that is 40 characters of valid Z85.
 * (Z85 has `#` as a digit, but no key starts with it: a first digit of 84 overflows 32 bits.)
 */
function keyOfLine(line: string): string | undefined {
  const word = line.trim().split(/\s+/, 1)[0] ?? "";
  return isZ85Key(word) ? word : undefined;
}

/**
 * The public keys a server accepts, from `--curve-allow-file F` (`option`): a text file with one
 * Z85 key a line (blank lines and `#` comment lines are skipped; a key may be followed by a `#`
 * comment), a single public certificate, or a folder whose `*.key` files are public certificates
 * (as pyzmq's `configure_curve(location=...)` reads them). An allow list without keys is an error.
 */
export function readAllowList(option: string, path: string): string[] {
  const where = `${option} ${path}`;
  let isFolder: boolean;
  try {
    isFolder = statSync(path).isDirectory();
  } catch {
    throw new KeyFileError(`cannot read ${where}: no such file or folder`);
  }
  const keys = isFolder ? allowFolder(where, path) : allowFile(where, path);
  if (keys.length === 0) {
    throw new KeyFileError(
      isFolder
        ? `${where} has no ${PUBLIC_CERTIFICATE_SUFFIX} certificates: no client could connect`
        : `${where} lists no keys: no client could connect`,
    );
  }
  return [...new Set(keys)];
}

function allowFolder(where: string, path: string): string[] {
  const names = readdirSync(path)
    .filter((name) => name.endsWith(PUBLIC_CERTIFICATE_SUFFIX))
    .sort();
  return names.map((name) => {
    const content = readKeyFile(`${where}: ${name}`, join(path, name));
    if (content.format !== "certificate" || content.publicKey === undefined) {
      throw new KeyFileError(`${where}: ${name} is not a public certificate (no curve/public-key)`);
    }
    return content.publicKey;
  });
}

function allowFile(where: string, path: string): string[] {
  const bytes = readKeyBytes(where, path);
  const text = new TextDecoder().decode(bytes);
  // A single certificate is a list of one key.
  if (/^\s*curve\s*$/m.test(text)) {
    const content = parseKeyFile(where, bytes);
    if (content.publicKey !== undefined) return [content.publicKey];
  }
  const keys: string[] = [];
  text.split(/\r?\n/).forEach((line, index) => {
    const trimmed = line.trim();
    if (trimmed === "") return;
    const key = keyOfLine(trimmed);
    if (key !== undefined) {
      const rest = trimmed.slice(key.length).trim();
      if (rest === "" || rest.startsWith("#")) {
        keys.push(key);
        return;
      }
    } else if (trimmed.startsWith("#")) {
      return;
    }
    const shown = trimmed.length > 60 ? `${trimmed.slice(0, 57)}...` : trimmed;
    throw new KeyFileError(
      `${where}: line ${index + 1} is not a CURVE public key (${Z85_KEY_LENGTH} characters of Z85, optionally followed by a # comment): ${JSON.stringify(shown)}`,
    );
  });
  return keys;
}

/** Which certificate of a pair: the public one (`NAME.key`) or the secret one (`NAME.key_secret`). */
export type CertificateKind = "public" | "secret";

/**
 * The text of a ZPL certificate holding `pair` (the public one only its public key), as czmq's
 * zcert and pyzmq read and write them: a comment header, an empty `metadata` section and a
 * `curve` section. `created` is shown in the header.
 */
export function certificateText(kind: CertificateKind, pair: CurveKeyPair, created: Date): string {
  const header =
    kind === "public"
      ? [
          "ZeroMQ CURVE Public Certificate",
          "The public half of a CURVE key pair. Give it to the peers that must know this",
          "key: clients need their server's public key, a server's allow list holds the",
          "public keys of its clients. Check it arrived unchanged before trusting it.",
        ]
      : [
          "ZeroMQ CURVE **Secret** Certificate",
          "Both halves of a CURVE key pair. Keep this file private (mode 0600) and never",
          "send it anywhere: whoever has it can pose as this key's owner. Share the .key",
          "file written with it instead.",
        ];
  const lines = [
    `#   ****  Written by zrpc keygen on ${created.toISOString()}  ****`,
    ...header.map((line) => `#   ${line}`),
    "",
    "metadata",
    "curve",
    `    public-key = "${pair.publicKey}"`,
    ...(kind === "secret" ? [`    secret-key = "${pair.secretKey}"`] : []),
  ];
  return `${lines.join("\n")}\n`;
}
