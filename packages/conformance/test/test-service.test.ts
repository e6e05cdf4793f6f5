/** The TestService's own behaviour: Python-like `add`, and `sleep` stopping with its call. */
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { Dealer } from "zeromq";
import { Float64, encodeEvent, newMessageId } from "@zrpc/wire";
import { createTestRegistry, createTestService, pythonAdd, toTypedJson } from "../src/index.js";

describe("pythonAdd", () => {
  it("adds ints exactly, as numbers while safe and as bigints beyond", () => {
    expect(pythonAdd(2, 3)).toBe(5);
    expect(pythonAdd(2n ** 53n, 1)).toBe(2n ** 53n + 1n);
    expect(pythonAdd(Number.MAX_SAFE_INTEGER, 1)).toBe(2n ** 53n);
    expect(pythonAdd(2n ** 62n, 2n ** 62n)).toBe(2n ** 63n);
    expect(pythonAdd(2n ** 60n, -(2n ** 60n))).toBe(0);
    expect(pythonAdd(-5, 3n)).toBe(-2);
  });

  it("gives a float64 as soon as one operand is a float", () => {
    expect(toTypedJson(pythonAdd(1.5, 1.5))).toEqual({ $f64: 3 });
    expect(toTypedJson(pythonAdd(new Float64(2), 1))).toEqual({ $f64: 3 });
    expect(toTypedJson(pythonAdd(1, 0.5))).toEqual({ $f64: 1.5 });
    expect(toTypedJson(pythonAdd(-0, 0))).toEqual({ $f64: 0 });
  });

  it("concatenates str, bytes and lists; refuses mixed types like Python", () => {
    expect(pythonAdd("ab", "cd")).toBe("abcd");
    expect(pythonAdd(Uint8Array.of(1), Uint8Array.of(2))).toEqual(Uint8Array.of(1, 2));
    expect(pythonAdd([1], [2])).toEqual([1, 2]);
    expect(() => pythonAdd(1, "a")).toThrow("unsupported operand type(s) for +: 'int' and 'str'");
  });
});

describe("sleep", () => {
  it("returns its argument unchanged and stops as soon as the call's signal aborts", async () => {
    const sleep = createTestRegistry().get("sleep")!.fn;
    const seconds = new Float64(0);
    expect(await sleep.call({ signal: new AbortController().signal }, seconds)).toBe(seconds);
    const controller = new AbortController();
    const pending = sleep.call({ signal: controller.signal }, 30) as Promise<unknown>;
    const reason = new Error("lost");
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
  });

  describe("over ZeroMQ", () => {
    let server: ReturnType<typeof createTestService>;
    let endpoint: string;
    beforeAll(async () => {
      server = createTestService();
      [endpoint] = (await server.bind("tcp://127.0.0.1:*")) as [string];
    });
    afterAll(async () => {
      await server.close();
    });

    it("a client that goes silent during sleep(30) ends the call within a few heartbeats", async () => {
      const dealer = new Dealer({ linger: 0 });
      dealer.connect(endpoint);
      const request = encodeEvent({ header: { message_id: newMessageId(), v: 3 }, name: "sleep", args: [30] });
      await dealer.send([new Uint8Array(0), request]);
      await vi.waitFor(() => expect(server.inFlight).toBe(1), { timeout: 2000, interval: 20 });
      // No heartbeat from us: the server (1 s heartbeat) declares us lost after 2-3 s.
      await vi.waitFor(() => expect(server.inFlight).toBe(0), { timeout: 6000, interval: 50 });
      dealer.close();
    }, 10_000);
  });
});
