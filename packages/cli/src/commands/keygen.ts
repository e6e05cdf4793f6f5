// `zrpc keygen [NAME]`: a new CURVE key pair, printed (as libzmq's curve_keygen prints one) or
// written as the NAME.key / NAME.key_secret certificates that czmq's zcert and pyzmq's
// `zmq.auth.create_certificates` write and read.
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, writeSync } from "node:fs";
import { join } from "node:path";
import { curveKeyPair } from "@zrpc/transport-zmtp";
import { parseCommandLine } from "../argv.js";
import { PUBLIC_CERTIFICATE_SUFFIX, SECRET_CERTIFICATE_SUFFIX, certificateText } from "../curve-keys.js";
import type { CertificateKind } from "../curve-keys.js";
import { UsageError } from "../errors.js";
import { displayPath } from "../loader.js";
import { printLine } from "../output.js";

/** `zrpc keygen --help`. */
export const KEYGEN_HELP = `Usage: zrpc keygen [NAME] [options]

Make a new CURVE key pair (for zrpc run --curve-secret-key-file and the
--curve-* options of the client commands).

Without NAME, print it on stdout as libzmq's curve_keygen does:
  == CURVE PUBLIC KEY ==
  <40 characters of Z85>
  == CURVE SECRET KEY ==
  <40 characters of Z85>

With NAME, write two certificates in the format of czmq's zcert and pyzmq's
zmq.auth.create_certificates (either reads them back):
  NAME.key          the public key: give it to peers (clients need the
                    server's; a server's --curve-allow-file lists clients')
  NAME.key_secret   both keys, written with mode 0600: keep it private
and print the public key.

Options:
  -o, --out DIR        folder to write them to (created if missing; default: the
                       current directory)
  -f, --force          overwrite existing certificates of that NAME
  -h, --help           show this help

Exit status: 0 ok, 1 a certificate exists (without --force) or cannot be
written, 2 bad usage.

Examples:
  zrpc keygen
  zrpc keygen server --out keys
  zrpc keygen alice --out keys/clients`;

const KEYGEN_OPTIONS = [
  { name: "out", short: "o", takesValue: true },
  { name: "force", short: "f", takesValue: false },
  { name: "help", short: "h", takesValue: false },
] as const;

/** `zrpc keygen` could not write its certificates (exit status 1). */
export class KeygenError extends Error {
  /** @param message - which file and why */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "KeygenError";
  }
}

/** A NAME is a file name: no folders (those go to --out), no leading dot. */
function checkName(name: string): void {
  if (name === "" || /[/\\]/.test(name) || name.startsWith(".")) {
    throw new UsageError(`NAME must be a file name without folders, got ${JSON.stringify(name)} (use --out DIR for the folder)`);
  }
  if (name.endsWith(PUBLIC_CERTIFICATE_SUFFIX) || name.endsWith(SECRET_CERTIFICATE_SUFFIX)) {
    throw new UsageError(`NAME is written without its suffix: ${JSON.stringify(name.replace(/\.key(_secret)?$/, ""))} makes ${name.replace(/\.key(_secret)?$/, "")}.key and .key_secret`);
  }
}

function why(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "EACCES" || code === "EPERM") return "permission denied";
  if (code === "ENOTDIR") return "a part of the path is not a folder";
  return error instanceof Error ? error.message : String(error);
}

/** Writes `text` to `path` with `mode` (a new file; an existing one only when `force`, then given `mode`). */
function writeCertificate(path: string, text: string, mode: number, force: boolean): void {
  let fd: number;
  try {
    fd = openSync(path, force ? "w" : "wx", mode);
  } catch (error) {
    throw new KeygenError(`cannot write ${displayPath(path)}: ${why(error)}`, { cause: error });
  }
  try {
    // An overwritten file keeps its old mode: set it (before the keys go in).
    if (force) chmodSync(path, mode);
    writeSync(fd, text);
  } catch (error) {
    throw new KeygenError(`cannot write ${displayPath(path)}: ${why(error)}`, { cause: error });
  } finally {
    closeSync(fd);
  }
}

/** Runs `zrpc keygen` with `argv` (after the command name); resolves with the exit status. */
export function keygenCommand(argv: readonly string[]): Promise<number> {
  const { options, positionals } = parseCommandLine(argv, KEYGEN_OPTIONS);
  if (options.help === true) {
    printLine(KEYGEN_HELP);
    return Promise.resolve(0);
  }
  if (positionals.length > 1) throw new UsageError(`expected at most one NAME, got ${positionals.length}: ${positionals.join(" ")}`);
  const name = positionals[0];
  const out = typeof options.out === "string" ? options.out : undefined;
  const force = options.force === true;
  if (name === undefined) {
    if (out !== undefined || force) throw new UsageError(`--${out !== undefined ? "out" : "force"} needs a NAME: zrpc keygen NAME ${out !== undefined ? "--out DIR" : "--force"}`);
    const pair = curveKeyPair();
    printLine(`== CURVE PUBLIC KEY ==\n${pair.publicKey}\n== CURVE SECRET KEY ==\n${pair.secretKey}`);
    return Promise.resolve(0);
  }
  checkName(name);
  if (out === "") throw new UsageError("--out needs a folder");
  const folder = out ?? ".";
  const paths: Record<CertificateKind, string> = {
    public: join(folder, `${name}${PUBLIC_CERTIFICATE_SUFFIX}`),
    secret: join(folder, `${name}${SECRET_CERTIFICATE_SUFFIX}`),
  };
  if (!force) {
    const existing = [paths.public, paths.secret].filter((path) => existsSync(path));
    if (existing.length > 0) {
      throw new KeygenError(`${existing.map((path) => displayPath(path)).join(" and ")} already exist${existing.length === 1 ? "s" : ""}: pass --force to overwrite (the old key pair is then lost)`);
    }
  }
  try {
    mkdirSync(folder, { recursive: true });
  } catch (error) {
    throw new KeygenError(`cannot create the folder ${displayPath(folder)}: ${why(error)}`, { cause: error });
  }
  const pair = curveKeyPair();
  const created = new Date();
  // The secret one first: a failure there leaves no public certificate without its secret.
  writeCertificate(paths.secret, certificateText("secret", pair, created), 0o600, force);
  writeCertificate(paths.public, certificateText("public", pair, created), 0o644, force);
  printLine(`Wrote ${displayPath(paths.public)} (public key) and ${displayPath(paths.secret)} (secret key, mode 0600).`);
  printLine(`Public key: ${pair.publicKey}`);
  return Promise.resolve(0);
}
