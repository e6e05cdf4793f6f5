// Which runtimes load TypeScript themselves (so `zrpc run` does not register tsx there).
import { describe, expect, it } from "vitest";
import { nativeTypeScriptRuntime } from "../src/loader.js";

describe("nativeTypeScriptRuntime", () => {
  it("is undefined on Node.js (tsx compiles TypeScript there)", () => {
    expect(nativeTypeScriptRuntime()).toBeUndefined();
    expect(nativeTypeScriptRuntime({ node: "22.12.0" }, {})).toBeUndefined();
  });

  it("names Bun from process.versions.bun", () => {
    expect(nativeTypeScriptRuntime({ node: "24.3.0", bun: "1.4.5" }, {})).toBe("bun");
  });

  it("names Deno from process.versions.deno or the Deno global", () => {
    expect(nativeTypeScriptRuntime({ node: "24.2.0", deno: "2.9.6" }, {})).toBe("deno");
    expect(nativeTypeScriptRuntime({ node: "24.2.0" }, { Deno: {} })).toBe("deno");
  });
});
