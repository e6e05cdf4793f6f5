// The command's own surface: help, version, unknown commands.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { runCli } from "./helpers.js";

const manifest = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string };

describe("zrpc", () => {
  it("prints help for itself and each command with status 0", async () => {
    const help = await runCli(["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: zrpc COMMAND/);
    for (const command of ["run", "call", "inspect", "types", "keygen"]) {
      const viaFlag = await runCli([command, "--help"]);
      expect(viaFlag.code).toBe(0);
      expect(viaFlag.stdout).toMatch(new RegExp(`^Usage: zrpc ${command} `));
      expect((await runCli(["help", command])).stdout).toBe(viaFlag.stdout);
    }
  });

  it("prints its version", async () => {
    expect(await runCli(["--version"])).toMatchObject({ code: 0, stdout: manifest.version });
  });

  it("exits 2 for no command or an unknown one", async () => {
    const none = await runCli([]);
    expect(none.code).toBe(2);
    expect(none.stdout).toMatch(/^Usage: zrpc COMMAND/);
    const unknown = await runCli(["serve"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toBe('zrpc: unknown command "serve" (expected run, call, inspect, types, keygen)\nRun \'zrpc --help\' for usage.');
  });
});
