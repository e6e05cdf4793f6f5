// The key file reader behind every --curve-* option: the three formats (certificate, Z85 text,
// raw bytes), allow lists (a file of keys, a certificate, a folder), and the errors, each naming
// the option, the file and what is wrong.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { z85Decode } from "@zrpc/channel";
import { curveKeyPair } from "@zrpc/transport-zmtp";
import {
  KeyFileError,
  certificateText,
  parseKeyFile,
  parseZpl,
  readAllowList,
  readKeyPairFile,
  readPublicKeyOption,
} from "../src/curve-keys.js";
import { UsageError } from "../src/errors.js";

const tmp = mkdtempSync(join(tmpdir(), "zrpc-curve-keys-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let counter = 0;
/** Writes `content` to a new file of the temp folder and returns its path. */
function file(content: string | Uint8Array, name = `f${++counter}`): string {
  const path = join(tmp, name);
  writeFileSync(path, content);
  return path;
}

const pair = curveKeyPair();
const other = curveKeyPair();
const when = new Date("2026-12-07T12:00:00Z");

/** The message of the KeyFileError `run` throws. */
function failure(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(KeyFileError);
    // Bad key files are bad arguments: the command exits 2 for them.
    expect(error).toBeInstanceOf(UsageError);
    return (error as Error).message;
  }
  throw new Error("expected a KeyFileError");
}

describe("parseZpl", () => {
  it("reads sections, quoted and bare values, and comments", () => {
    const zpl = parseZpl('# c\nmetadata\n    name = alice   # who\n    quoted = "a # b"\ncurve\n    public-key = \'xyz\'\n');
    expect(Object.fromEntries(zpl!)).toEqual({ metadata: "", "metadata/name": "alice", "metadata/quoted": "a # b", curve: "", "curve/public-key": "xyz" });
  });

  it("is undefined for text that is not ZPL", () => {
    expect(parseZpl("curve\n        too-deep = 1\n")).toBeUndefined();
    expect(parseZpl('curve\n    public-key = "unterminated\n')).toBeUndefined();
    expect(parseZpl("a sentence with spaces\n")).toBeUndefined();
  });
});

describe("key files", () => {
  it("reads a certificate, one Z85 key (with or without a newline) and 32 raw bytes", () => {
    expect(parseKeyFile("f", new TextEncoder().encode(certificateText("secret", pair, when)))).toEqual({ format: "certificate", ...pair });
    expect(parseKeyFile("f", new TextEncoder().encode(certificateText("public", pair, when)))).toEqual({ format: "certificate", publicKey: pair.publicKey });
    expect(parseKeyFile("f", new TextEncoder().encode(`${pair.secretKey}\n`))).toEqual({ format: "z85", key: pair.secretKey });
    expect(parseKeyFile("f", new TextEncoder().encode(pair.secretKey))).toEqual({ format: "z85", key: pair.secretKey });
    expect(parseKeyFile("f", z85Decode(pair.secretKey))).toEqual({ format: "raw", key: pair.secretKey });
  });

  it("derives the public key from a secret key alone", () => {
    expect(readKeyPairFile("--curve-secret-key-file", file(`${pair.secretKey}\r\n`))).toEqual(pair);
    expect(readKeyPairFile("--curve-secret-key-file", file(z85Decode(pair.secretKey)))).toEqual(pair);
    expect(readKeyPairFile("--curve-secret-key-file", file(certificateText("secret", pair, when)))).toEqual(pair);
  });

  it("says which file is wrong and how", () => {
    const option = "--curve-secret-key-file";
    expect(failure(() => readKeyPairFile(option, join(tmp, "missing")))).toBe(`cannot read ${option} ${join(tmp, "missing")}: no such file`);
    expect(failure(() => readKeyPairFile(option, tmp))).toBe(`cannot read ${option} ${tmp}: it is a folder, not a file`);
    const empty = file("");
    expect(failure(() => readKeyPairFile(option, empty))).toMatch(new RegExp(`^${option} ${empty} is empty; expected a ZPL certificate with a curve section`));
    const short = file("abc\n");
    expect(failure(() => readKeyPairFile(option, short))).toBe(
      `${option} ${short} is not a CURVE key file: it holds one word of 3 characters; expected a ZPL certificate with a curve section ` +
        "(a .key or .key_secret file of zrpc keygen, pyzmq or czmq), 40 characters of Z85 or 32 raw bytes",
    );
    const badZ85 = file(`${"~".repeat(40)}\n`);
    expect(failure(() => readKeyPairFile(option, badZ85))).toBe(`${option} ${badZ85} (one Z85 key) is not valid Z85: not a Z85 character at 0: "~"`);
    const binary = file(new Uint8Array([0xff, 0xfe, 0, 1, 2]));
    expect(failure(() => readKeyPairFile(option, binary))).toMatch(new RegExp(`^${option} ${binary} is not a CURVE key file: it is 5 bytes of binary data; expected `));
    const prose = file("hello there\nthis is no key\n");
    expect(failure(() => readKeyPairFile(option, prose))).toMatch(/is not a CURVE key file: it holds 27 bytes of text without curve\/public-key or curve\/secret-key; expected /);
    const publicOnly = file(certificateText("public", pair, when), "server.key");
    expect(failure(() => readKeyPairFile(option, publicOnly))).toBe(
      `${option} ${publicOnly} is a public certificate (it has no curve/secret-key): pass the .key_secret file written with it`,
    );
    const mixed = file(certificateText("secret", pair, when).replace(pair.publicKey, other.publicKey));
    expect(failure(() => readKeyPairFile(option, mixed))).toBe(
      `${option} ${mixed}: its curve/public-key does not belong to its curve/secret-key (the file was edited or mixed up)`,
    );
    const truncated = file(certificateText("secret", pair, when).replace(pair.secretKey, pair.secretKey.slice(0, 30)));
    expect(failure(() => readKeyPairFile(option, truncated))).toBe(
      `${option} ${truncated}: curve/secret-key must be a CURVE key: 40 characters of Z85 or 32 bytes, got 30 characters`,
    );
  });
});

describe("--curve-server-key", () => {
  const option = "--curve-server-key";

  it("is Z85 text, or @FILE: a certificate's public key, or the key a file holds", () => {
    expect(readPublicKeyOption(option, pair.publicKey)).toBe(pair.publicKey);
    expect(readPublicKeyOption(option, `@${file(certificateText("public", pair, when))}`)).toBe(pair.publicKey);
    expect(readPublicKeyOption(option, `@${file(certificateText("secret", pair, when))}`)).toBe(pair.publicKey);
    expect(readPublicKeyOption(option, `@${file(`${pair.publicKey}\n`)}`)).toBe(pair.publicKey);
    expect(readPublicKeyOption(option, `@${file(z85Decode(pair.publicKey))}`)).toBe(pair.publicKey);
  });

  it("takes a key that starts with @ (a Z85 digit) as a key, not a file name", () => {
    const key = `@${"0".repeat(39)}`;
    expect(z85Decode(key)).toHaveLength(32);
    expect(readPublicKeyOption(option, key)).toBe(key);
  });

  it("says what is wrong with a bad one", () => {
    expect(failure(() => readPublicKeyOption(option, "abc"))).toBe(`${option} must be a CURVE public key: 40 characters of Z85 or @FILE, got 3 characters`);
    expect(failure(() => readPublicKeyOption(option, `${"~".repeat(40)}`))).toBe(`${option} is not valid Z85: not a Z85 character at 0: "~"`);
    expect(failure(() => readPublicKeyOption(option, "@"))).toBe(`${option} @FILE needs a file name after @`);
    expect(failure(() => readPublicKeyOption(option, `@${join(tmp, "nope.key")}`))).toBe(`cannot read ${option} @${join(tmp, "nope.key")}: no such file`);
    // A file name without @: the message says how to read it.
    const path = file(certificateText("public", pair, when));
    expect(failure(() => readPublicKeyOption(option, path))).toBe(
      `${option} must be a CURVE public key: 40 characters of Z85 or @FILE, got ${path.length} characters (to read the file ${path}, write @${path})`,
    );
  });
});

describe("--curve-allow-file", () => {
  const option = "--curve-allow-file";

  it("reads one key a line with comments, a single certificate, or a folder of .key certificates", () => {
    // (No key starts with "#": a first Z85 digit of 84 makes a group over 32 bits.)
    const list = file(`# clients of the ticket server\n\n${pair.publicKey}   # alice\n  ${other.publicKey}\n#${pair.publicKey.slice(1)}\n${pair.publicKey}\n`);
    expect(readAllowList(option, list)).toEqual([pair.publicKey, other.publicKey]);
    expect(readAllowList(option, file(certificateText("public", other, when)))).toEqual([other.publicKey]);
    const folder = join(tmp, "clients");
    mkdirSync(folder);
    writeFileSync(join(folder, "alice.key"), certificateText("public", pair, when));
    writeFileSync(join(folder, "alice.key_secret"), certificateText("secret", pair, when));
    writeFileSync(join(folder, "bob.key"), certificateText("public", other, when));
    writeFileSync(join(folder, "README"), "not read");
    expect(readAllowList(option, folder)).toEqual([pair.publicKey, other.publicKey]);
  });

  it("says what is wrong: the line, an empty list, a missing file, a bad certificate in the folder", () => {
    const bad = file(`${pair.publicKey}\nalice ${other.publicKey}\n`);
    expect(failure(() => readAllowList(option, bad))).toBe(
      `${option} ${bad}: line 2 is not a CURVE public key (40 characters of Z85, optionally followed by a # comment): ${JSON.stringify(`alice ${other.publicKey}`)}`,
    );
    const trailing = file(`${pair.publicKey} alice\n`);
    expect(failure(() => readAllowList(option, trailing))).toMatch(/: line 1 is not a CURVE public key /);
    const onlyComments = file("# nobody yet\n");
    expect(failure(() => readAllowList(option, onlyComments))).toBe(`${option} ${onlyComments} lists no keys: no client could connect`);
    expect(failure(() => readAllowList(option, join(tmp, "absent")))).toBe(`cannot read ${option} ${join(tmp, "absent")}: no such file or folder`);
    const emptyFolder = join(tmp, "none");
    mkdirSync(emptyFolder);
    expect(failure(() => readAllowList(option, emptyFolder))).toBe(`${option} ${emptyFolder} has no .key certificates: no client could connect`);
    const broken = join(tmp, "broken");
    mkdirSync(broken);
    writeFileSync(join(broken, "eve.key"), "curve\n    public-key = \"short\"\n");
    expect(failure(() => readAllowList(option, broken))).toBe(
      `${option} ${broken}: eve.key: curve/public-key must be a CURVE key: 40 characters of Z85 or 32 bytes, got 5 characters`,
    );
  });
});
