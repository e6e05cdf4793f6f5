import { afterEach, describe, expect, it, vi } from "vitest";
import type { Clock } from "@zrpc/channel";
import { createProcessWarningLogger, createRegistry, processWarningLogger } from "../src/index.js";
import type { Logger } from "../src/index.js";
import { RateLimitedLogger } from "../src/logger.js";
import { setup } from "./helpers.js";

/** A clock whose time only moves when the test says so. */
function manualClock(): Clock & { advance(ms: number): void } {
  let now = 0;
  return {
    now: () => now,
    setTimeout: (fn, ms) => setTimeout(fn, ms),
    clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
    advance(ms) {
      now += ms;
    },
  };
}

describe("logging", () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it("logs undecodable messages from peers, at most logRateLimit per second", async () => {
    const warnings: string[] = [];
    const logger: Logger = { warn: (message) => void warnings.push(message) };
    const clock = manualClock();
    const registry = createRegistry();
    registry.register(() => "alive", { name: "ping", args: [] });
    const { client } = setup(registry, { logger, logRateLimit: 3, clock, heartbeatMs: null });
    for (let i = 0; i < 20; i++) client.transport.send(undefined, Uint8Array.of(0xc1));
    // Garbage never stops the server.
    expect((await client.call("ping")).args).toEqual(["alive"]);
    expect(warnings).toHaveLength(3);
    expect(warnings[0]).toMatch(/undecodable message from peer mem-\d+/);
    clock.advance(1_000);
    client.transport.send(undefined, Uint8Array.of(0x93, 0x01));
    await client.call("ping");
    expect(warnings).toHaveLength(5);
    expect(warnings[3]).toBe("zrpc server: 17 log message(s) suppressed by the rate limit");
    expect(warnings[4]).toMatch(/undecodable/);
  });

  it("never lets a throwing logger escape", () => {
    const clock = manualClock();
    const limited = new RateLimitedLogger(
      {
        warn: () => {
          throw new Error("logger broke");
        },
      },
      10,
      clock,
    );
    expect(() => limited.warn("x")).not.toThrow();
  });

  it("null logs nothing; the default emits a process warning", () => {
    const emit = vi.spyOn(process, "emitWarning").mockImplementation(() => undefined);
    new RateLimitedLogger(null, 10, manualClock()).warn("silent");
    expect(emit).not.toHaveBeenCalled();
    new RateLimitedLogger(undefined, 10, manualClock()).warn("loud", new Error("cause"));
    expect(emit).toHaveBeenCalledTimes(1);
    expect(emit.mock.calls[0]![0]).toBe("loud");
    expect(emit.mock.calls[0]![1]).toMatchObject({ type: "ZrpcServerWarning", detail: expect.stringContaining("cause") });
    processWarningLogger.warn("direct");
    expect(emit).toHaveBeenCalledTimes(2);
  });

  it("createProcessWarningLogger emits under its own type, with a detail for any error", () => {
    const emit = vi.spyOn(process, "emitWarning").mockImplementation(() => undefined);
    const logger = createProcessWarningLogger("ZrpcTestWarning");
    logger.warn("plain");
    logger.warn("object", { code: 7 });
    logger.warn("unprintable", { big: 1n });
    expect(emit.mock.calls).toEqual([
      ["plain", { type: "ZrpcTestWarning" }],
      ["object", { type: "ZrpcTestWarning", detail: '{"code":7}' }],
      ["unprintable", { type: "ZrpcTestWarning", detail: "<unprintable value>" }],
    ]);
  });
});
