import { describe, expect, it } from "vitest";
import { openSocketTransport, socketShorthands } from "../src/index.js";
import type { SocketTransportOptions, TransportKind } from "../src/index.js";

/** Records what the open sequence does with it. */
class Recorder {
  readonly steps: string[] = [];
  constructor(private readonly failOn?: string) {}
  bind(endpoint: string): Promise<void> {
    this.steps.push(`bind ${endpoint}`);
    return endpoint === this.failOn ? Promise.reject(new Error(`cannot bind ${endpoint}`)) : Promise.resolve();
  }
  connect(endpoint: string): void {
    this.steps.push(`connect ${endpoint}`);
    if (endpoint === this.failOn) throw new Error(`cannot connect ${endpoint}`);
  }
  close(): Promise<void> {
    this.steps.push("close");
    return Promise.resolve();
  }
}

describe("openSocketTransport", () => {
  it("starts, binds in order, then connects, and returns the transport", async () => {
    const transport = new Recorder();
    const opened = await openSocketTransport(transport, { bind: ["a", "b"], connect: ["c"] }, () => {
      transport.steps.push("start");
      return Promise.resolve();
    });
    expect(opened).toBe(transport);
    expect(transport.steps).toEqual(["start", "bind a", "bind b", "connect c"]);
  });

  it("closes the transport and rethrows when a bind fails; later endpoints are not touched", async () => {
    const transport = new Recorder("b");
    await expect(openSocketTransport(transport, { bind: ["a", "b", "c"], connect: ["d"] })).rejects.toThrow("cannot bind b");
    expect(transport.steps).toEqual(["bind a", "bind b", "close"]);
  });

  it("closes the transport when start or a connect fails", async () => {
    const failing = new Recorder("x");
    await expect(openSocketTransport(failing, { bind: [], connect: ["x"] })).rejects.toThrow("cannot connect x");
    expect(failing.steps).toEqual(["connect x", "close"]);
    const notStarted = new Recorder();
    await expect(openSocketTransport(notStarted, { bind: ["a"], connect: [] }, () => Promise.reject(new Error("no start")))).rejects.toThrow("no start");
    expect(notStarted.steps).toEqual(["close"]);
  });
});

describe("socketShorthands", () => {
  it("bindRouter and connectDealer call the create function with the kind and the endpoint added", async () => {
    const calls: [TransportKind, SocketTransportOptions][] = [];
    const { bindRouter, connectDealer } = socketShorthands((kind: TransportKind, options: SocketTransportOptions & { linger?: number }) => {
      calls.push([kind, options]);
      return Promise.resolve(calls.length);
    });
    expect(await bindRouter("tcp://127.0.0.1:*", { linger: 0 })).toBe(1);
    expect(await connectDealer(["tcp://a:1", "tcp://b:2"])).toBe(2);
    expect(calls).toEqual([
      ["router", { linger: 0, bind: "tcp://127.0.0.1:*" }],
      ["dealer", { connect: ["tcp://a:1", "tcp://b:2"] }],
    ]);
  });
});
