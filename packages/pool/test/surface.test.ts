// Pins of the public surface: a change here is deliberate (the expected side is literal).
import { describe, expect, it } from "vitest";
import * as pool from "../src/index.js";

describe("public surface", () => {
  it("exports exactly these values", () => {
    expect(Object.keys(pool).sort()).toEqual(["PoolTimeoutError", "createPool", "poolDefaults"]);
  });

  it("keeps its defaults", () => {
    expect(pool.poolDefaults).toEqual({
      max: 10,
      min: 0,
      acquireTimeoutMs: 20_000,
      idleTimeoutMs: 60_000,
      healthCheckAfterMs: 10_000,
      healthCheckTimeoutMs: 2_000,
      balance: "least-in-flight",
      ejectionBaseMs: 1_000,
      ejectionMaxMs: 30_000,
      ejectionConsecutiveFailures: 3,
      retries: 0,
      resolveIntervalMs: 30_000,
      closeGraceMs: 10_000,
    });
  });

  it("brands PoolTimeoutError with code pool-timeout", () => {
    const error = new pool.PoolTimeoutError(5, "test");
    expect(error.code).toBe("pool-timeout");
    expect(error.name).toBe("PoolTimeoutError");
    expect((Object.getPrototypeOf(error) as Record<symbol, unknown>)[Symbol.for("zrpc.PoolTimeoutError")]).toBe(true);
    expect((Object.getPrototypeOf(error) as Record<symbol, unknown>)[Symbol.for("zrpc.error")]).toBe(true);
  });

  it("validates options", () => {
    expect(() => pool.createPool({ endpoints: [] })).toThrow(TypeError);
    expect(() => pool.createPool({ endpoints: "tcp://127.0.0.1:1", max: 0 })).toThrow(RangeError);
    expect(() => pool.createPool({ endpoints: "tcp://127.0.0.1:1", min: 3, max: 2 })).toThrow(RangeError);
    expect(() => pool.createPool({ endpoints: "tcp://127.0.0.1:1", balance: "random" as never })).toThrow(RangeError);
    expect(() => pool.createPool({ endpoints: "tcp://127.0.0.1:1", ejection: { baseMs: 10, maxMs: 5 } })).toThrow(RangeError);
    expect(() => pool.createPool({ endpoints: "tcp://127.0.0.1:1", acquireTimeoutMs: -1 })).toThrow(RangeError);
  });
});
