// Error identity across the two builds loaded in one process (the dual-package hazard): an error
// made by dist/index.cjs must satisfy `instanceof` of dist/index.js's classes and vice versa.
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import * as source from "../src/index.js";

type ClientModule = typeof source;

// Paths in variables: the builds are loaded at run time (the test task builds first), and the
// type checker must not need them.
const esmPath = "../dist/index.js";
const cjsPath = "../dist/index.cjs";

async function builds(): Promise<{ esm: ClientModule; cjs: ClientModule }> {
  const esm = (await import(/* @vite-ignore */ esmPath)) as ClientModule;
  const cjs = createRequire(import.meta.url)(cjsPath) as ClientModule;
  return { esm, cjs };
}

describe("dual ESM + CJS build", () => {
  it("loads two distinct copies", async () => {
    const { esm, cjs } = await builds();
    expect(esm.RemoteError).not.toBe(cjs.RemoteError);
    expect(esm.ZrpcError).not.toBe(cjs.ZrpcError);
  });

  it("keeps instanceof across the copies", async () => {
    const { esm, cjs } = await builds();
    const pairs = [
      [esm, cjs],
      [cjs, esm],
      [source, esm],
      [cjs, source],
    ] as const;
    for (const [maker, checker] of pairs) {
      const remote = new maker.RemoteError("ValueError", "bad");
      const timeout = new maker.TimeoutExpired("sleep", 1000);
      const canceled = new maker.CanceledError("sleep");
      const lost = new maker.LostRemote(1000);
      const protocol = new maker.ProtocolError("bad-event", "x");
      expect(remote).toBeInstanceOf(checker.RemoteError);
      expect(remote).toBeInstanceOf(checker.ZrpcError);
      expect(checker.RemoteError.isInstance(remote)).toBe(true);
      expect(timeout).toBeInstanceOf(checker.TimeoutExpired);
      expect(canceled).toBeInstanceOf(checker.CanceledError);
      expect(lost).toBeInstanceOf(checker.LostRemote);
      expect(protocol).toBeInstanceOf(checker.ProtocolError);
      for (const error of [timeout, canceled, lost, protocol]) expect(error).not.toBeInstanceOf(checker.RemoteError);
      expect(remote).not.toBeInstanceOf(checker.TimeoutExpired);
      expect(checker.isRetryable(lost)).toBe(true);
      expect(checker.isRetryable(remote)).toBe(false);
    }
  });

  it("exposes the same names from both builds (pinned)", async () => {
    const { esm, cjs } = await builds();
    // A surface pin: a change here is a change of the public API, to be made on purpose.
    expect(Object.keys(esm).sort()).toEqual([
      "CLIENT_CALL_CHANNELS",
      "CanceledError",
      "ConnectError",
      "DEFAULT_CONNECT_TIMEOUT_MS",
      "DEFAULT_TIMEOUT_MS",
      "Ext",
      "Float64",
      "LostRemote",
      "ProtocolError",
      "RemoteError",
      "TimeoutExpired",
      "ZrpcError",
      "bindPublisher",
      "bindPuller",
      "bindPusher",
      "bindSubscriber",
      "connect",
      "connectPublisher",
      "connectPuller",
      "connectPusher",
      "connectSubscriber",
      "createClient",
      "createPublisher",
      "createPuller",
      "createPusher",
      "createSubscriber",
      "curveKeyPair",
      "curvePublicKey",
      "f64",
      "isCurveKey",
      "isRetryable",
      "untyped",
      "z85Decode",
      "z85Encode",
    ]);
    expect(Object.keys(cjs).sort()).toEqual(Object.keys(esm).sort());
    expect(Object.keys(esm).sort()).toEqual(Object.keys(source).sort());
  });
});
