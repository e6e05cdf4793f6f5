// Error identity across two loaded copies of the package: the built CJS (require) and ESM
// (import) files, plus the source the other tests use. Needs `pnpm --filter @zrpc/wire build`
// first (turbo's test task depends on build).
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import * as source from "../src/index.js";

type Wire = typeof source;
const distCjs = fileURLToPath(new URL("../dist/index.cjs", import.meta.url));
const distEsm = fileURLToPath(new URL("../dist/index.js", import.meta.url));
let cjs: Wire;
let esm: Wire;

beforeAll(async () => {
  if (!existsSync(distCjs) || !existsSync(distEsm)) {
    throw new Error("dist/ is missing: run `pnpm --filter @zrpc/wire build` before these tests");
  }
  cjs = createRequire(import.meta.url)(distCjs) as Wire;
  esm = (await import(pathToFileURL(distEsm).href)) as Wire;
});

describe("error identity across copies", () => {
  it("really has distinct copies of the classes", () => {
    expect(cjs.ProtocolError).not.toBe(esm.ProtocolError);
    expect(esm.ProtocolError).not.toBe(source.ProtocolError);
    expect(Object.getPrototypeOf(new cjs.ProtocolError("truncated", "x"))).not.toBe(esm.ProtocolError.prototype);
  });

  it("instanceof and isInstance work across every pair of copies", () => {
    const copies = [cjs, esm, source];
    for (const from of copies) {
      const protocol = new from.ProtocolError("truncated", "cut");
      const encode = new from.EncodeError("nope");
      const base = new from.ZrpcError("timeout", "late");
      for (const to of copies) {
        expect(protocol instanceof to.ProtocolError).toBe(true);
        expect(protocol instanceof to.ZrpcError).toBe(true);
        expect(protocol instanceof to.EncodeError).toBe(false);
        expect(to.ProtocolError.isInstance(protocol)).toBe(true);
        expect(to.EncodeError.isInstance(protocol)).toBe(false);
        expect(encode instanceof to.EncodeError).toBe(true);
        expect(encode instanceof to.ZrpcError).toBe(true);
        expect(to.EncodeError.isInstance(encode)).toBe(true);
        expect(base instanceof to.ZrpcError).toBe(true);
        expect(base instanceof to.ProtocolError).toBe(false);
        expect(protocol instanceof Error).toBe(true);
      }
    }
  });

  it("recognises errors thrown by the other copy's codec", () => {
    let thrown: unknown;
    try {
      cjs.decodeValue(Uint8Array.of(0xc1));
    } catch (error) {
      thrown = error;
    }
    expect(thrown instanceof esm.ProtocolError).toBe(true);
    expect(thrown instanceof source.ProtocolError).toBe(true);
    expect(esm.ZrpcError.from(thrown)).toBe(thrown);
  });

  it("lets other packages brand their subclasses with defineErrorBrand (same brand, any copy)", () => {
    const make = (wire: Wire) => {
      class LostRemote extends wire.ZrpcError {
        constructor() {
          super("lost-remote", "Lost remote after 10s heartbeat");
        }
        static isInstance(value: unknown): value is LostRemote {
          return isLostRemote(value);
        }
      }
      const isLostRemote = wire.defineErrorBrand(LostRemote, "zrpc.test.LostRemote");
      return LostRemote;
    };
    const A = make(cjs);
    const B = make(esm);
    const a = new A();
    expect(a instanceof B).toBe(true);
    expect(B.isInstance(a)).toBe(true);
    expect(a instanceof esm.ZrpcError).toBe(true);
    expect(a instanceof esm.ProtocolError).toBe(false);
    expect(new esm.ProtocolError("truncated", "x") instanceof A).toBe(false);
    expect(a.name).toBe("LostRemote");
    expect(a.code).toBe("lost-remote");
  });

  it("falls back to the prototype chain for a subclass without its own brand", () => {
    class Plain extends source.ZrpcError {}
    expect(new Plain("closed", "x") instanceof Plain).toBe(true);
    expect(new source.ZrpcError("closed", "x") instanceof Plain).toBe(false);
    expect(new Plain("closed", "x") instanceof source.ZrpcError).toBe(true);
  });

  it("encodes a Float64 / Ext made by another copy", () => {
    expect([...esm.encodeValue([cjs.f64(2), new cjs.Ext(5, Uint8Array.of(1))])]).toEqual([
      0x92, 0xcb, 0x40, 0, 0, 0, 0, 0, 0, 0, 0xd4, 5, 1,
    ]);
  });
});

describe("names, codes and fields", () => {
  it("sets name and code", () => {
    const protocol = new source.ProtocolError("bad-event", "not 3", { offset: 4, cause: "x" });
    expect(protocol.name).toBe("ProtocolError");
    expect(protocol.code).toBe("protocol");
    expect(protocol.reason).toBe("bad-event");
    expect(protocol.offset).toBe(4);
    expect(protocol.cause).toBe("x");
    expect(protocol.message).toBe("not 3");
    expect(String(protocol)).toBe("ProtocolError: not 3");
    expect(protocol.stack).toContain("ProtocolError");

    const encode = new source.EncodeError("Integer value out of range", "OverflowError");
    expect(encode.name).toBe("EncodeError");
    expect(encode.code).toBe("encode");
    expect(encode.pythonName).toBe("OverflowError");
    expect(new source.EncodeError("x").pythonName).toBe("TypeError");

    const base = new source.ZrpcError("limit", "too many");
    expect(base.name).toBe("ZrpcError");
    expect(base.code).toBe("limit");
    expect(new source.ProtocolError("truncated", "x").offset).toBeUndefined();
  });

  it("lets a subclass constructor assign its own name", () => {
    class Custom extends source.ZrpcError {
      constructor() {
        super("closed", "bye");
        this.name = "Custom";
      }
    }
    expect(new Custom().name).toBe("Custom");
  });
});

describe("ZrpcError.from", () => {
  it("returns ZrpcErrors unchanged", () => {
    const error = new source.ProtocolError("truncated", "x");
    expect(source.ZrpcError.from(error)).toBe(error);
  });

  it("maps abort and timeout reasons", () => {
    const aborted = source.ZrpcError.from(new DOMException("stop", "AbortError"));
    expect(aborted.code).toBe("canceled");
    expect(aborted.message).toBe("stop");
    const timedOut = source.ZrpcError.from(AbortSignal.timeout(0).reason ?? new DOMException("t", "TimeoutError"));
    expect(["timeout", "protocol"]).toContain(timedOut.code);
    expect(source.ZrpcError.from(new DOMException("late", "TimeoutError")).code).toBe("timeout");
  });

  it("wraps other errors and values with a cause and a default or given code", () => {
    const cause = new TypeError("boom");
    const wrapped = source.ZrpcError.from(cause);
    expect(wrapped).toBeInstanceOf(source.ZrpcError);
    expect(wrapped.code).toBe("protocol");
    expect(wrapped.message).toBe("boom");
    expect(wrapped.cause).toBe(cause);
    expect(source.ZrpcError.from(cause, "closed").code).toBe("closed");
    const fromString = source.ZrpcError.from("plain text");
    expect(fromString.message).toBe("plain text");
    expect(fromString.cause).toBe("plain text");
    expect(source.ZrpcError.from(undefined).message).toBe("undefined");
    expect(source.ZrpcError.from({ message: "like an error" }).message).toBe("like an error");
  });
});

describe("process-wide message ids across copies", () => {
  it("takes the ids of the ESM and the CJS build from one generator (one base, one counter)", () => {
    const decoder = new TextDecoder();
    const ids = [esm.newMessageId(), cjs.newMessageId(), source.newMessageId(), esm.newMessageId()].map((id) => decoder.decode(id));
    const bases = new Set(ids.map((id) => id.slice(8)));
    const counters = ids.map((id) => Number.parseInt(id.slice(0, 8), 16));
    // A reset (new base) may fall between two of them, once in about 2^31 ids; then the counters restart.
    if (bases.size === 1) expect(counters.slice(1).map((value, i) => value - counters[i]!)).toEqual([1, 1, 1]);
    else expect(bases.size).toBe(2);
    expect(new Set(ids).size).toBe(4);
  });
});
