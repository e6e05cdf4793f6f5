// "pool-timeout" is declared by this package (a module augmentation of @zrpc/wire), not by the
// wire: code that loads the pool still sees it in `ZrpcErrorCode` and can switch on it.
import { describe, expect, it } from "vitest";
import { ZrpcError } from "@zrpc/wire";
import type { ZrpcErrorCode } from "@zrpc/client";
import { PoolTimeoutError } from "../src/index.js";

function describeCode(error: unknown): string {
  if (!(error instanceof ZrpcError)) return "other";
  const code: ZrpcErrorCode = error.code;
  return code === "pool-timeout" ? "no pooled connection" : code;
}

describe("error codes", () => {
  it("PoolTimeoutError's code is part of ZrpcErrorCode", () => {
    const error = new PoolTimeoutError(50, "all 1 connections are in use");
    const code: ZrpcErrorCode = error.code;
    expect(code).toBe("pool-timeout");
    expect(describeCode(error)).toBe("no pooled connection");
    expect(describeCode(new ZrpcError("timeout", "late"))).toBe("timeout");
  });
});
