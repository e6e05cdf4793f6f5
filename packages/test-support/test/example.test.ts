// The example of README.md, verbatim: keep the two in step.
import { fileURLToPath } from "node:url";
import { afterEach, expect, it } from "vitest";
import { freePort, fromHex, loadVector, payloadFrame, startNode, stopAllProcesses } from "@zrpc/test-support";

afterEach(() => stopAllProcesses());

it("reads a golden transcript and runs a child until its ready line", async () => {
  const request = loadVector("call_add").messages[0]!;
  expect(request.event).toMatchObject({ name: "add", args: [2, 3] });
  expect(fromHex(payloadFrame(request)!.hex)[0]).toBe(0x93); // fixarray of 3: [header, name, args]

  const port = await freePort();
  const script = fileURLToPath(new URL("./fixtures/child.mjs", import.meta.url));
  const child = startNode(script, [String(port)]);
  await child.waitForLine(/^ready \d+$/);
  expect(await child.stop({ graceMs: 2000 })).toEqual({ code: 0, signal: null });
});
