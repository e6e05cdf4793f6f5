// guide/errors.md names every error class the published packages export, so that an error a
// user meets can be looked up there by its name.
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { docsRoot } from "./harness/paths.js";

const PUBLISHED = ["wire", "channel", "transport-zmtp", "transport-zeromq", "server", "client", "pool", "middleware-db", "middleware-sentry", "cli"];
/** What the name of an error class ends with here (`LostRemote`, `TimeoutExpired`, `CallCanceled`, ...). */
const ERROR_NAME = /(Error|Expired|Remote|Canceled|Exceeded)$/;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts"))
    .map((entry) => join(entry.parentPath, entry.name));
}

/** `export class Name extends ...` of the package's sources whose name reads as an error's. */
function exportedErrorClasses(pkg: string): string[] {
  const names = new Set<string>();
  for (const file of sources(join(docsRoot, "..", "packages", pkg, "src"))) {
    for (const match of readFileSync(file, "utf8").matchAll(/^export class (\w+) extends \w+/gm)) {
      if (ERROR_NAME.test(match[1]!)) names.add(match[1]!);
    }
  }
  return [...names].sort();
}

describe("guide/errors.md", () => {
  const page = readFileSync(join(docsRoot, "guide", "errors.md"), "utf8");

  it.each(PUBLISHED)("names every exported error class of @zrpc/%s", (pkg) => {
    const missing = exportedErrorClasses(pkg).filter((name) => !new RegExp(`\\b${name}\\b`).test(page));
    expect(missing).toEqual([]);
  });

  it("finds the classes it checks (the scan works)", () => {
    expect(exportedErrorClasses("client")).toEqual(expect.arrayContaining(["ConnectError", "RemoteError", "TimeoutExpired"]));
    expect(exportedErrorClasses("cli")).toEqual(expect.arrayContaining(["KeyFileError", "TransportUnavailableError"]));
  });
});
