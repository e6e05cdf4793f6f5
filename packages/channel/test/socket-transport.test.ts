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

describe("option checks shared by the socket transports", () => {
  it("integerOption: the fallback for undefined, a RangeError naming the option below min or not an integer", async () => {
    const { integerOption } = await import("../src/index.js");
    expect(integerOption("linger", undefined, 1000, -1)).toBe(1000);
    expect(integerOption("linger", -1, 1000, -1)).toBe(-1);
    expect(() => integerOption("linger", -2, 1000, -1)).toThrow(new RangeError("linger must be an integer >= -1, got -2"));
    expect(() => integerOption("maxQueuedMessages", 1.5, 1, 1)).toThrow(RangeError);
  });

  it("endpointListOption: a string or list becomes a list; empty or non-string endpoints are a TypeError", async () => {
    const { endpointListOption } = await import("../src/index.js");
    expect(endpointListOption("bind", undefined)).toEqual([]);
    expect(endpointListOption("bind", "tcp://127.0.0.1:*")).toEqual(["tcp://127.0.0.1:*"]);
    expect(endpointListOption("connect", ["a", "b"])).toEqual(["a", "b"]);
    expect(() => endpointListOption("connect", ["a", ""])).toThrow(new TypeError("connect endpoints must be non-empty strings, got "));
  });

  it("routingIdOption: 1 to 255 bytes, not starting with a zero byte", async () => {
    const { routingIdOption } = await import("../src/index.js");
    expect([...routingIdOption("ab")]).toEqual([0x61, 0x62]);
    expect(routingIdOption(Uint8Array.of(1, 0))).toEqual(Uint8Array.of(1, 0));
    for (const bad of ["", Uint8Array.of(0, 1), "x".repeat(256)]) expect(() => routingIdOption(bad)).toThrow(RangeError);
  });
});
