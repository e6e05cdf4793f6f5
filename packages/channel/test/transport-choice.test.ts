import { describe, expect, it } from "vitest";
import { chooseTransport } from "@zrpc/channel";

describe("chooseTransport", () => {
  it("takes the named transport, infers zeromq from zeromq-only options, defaults to zmtp", () => {
    expect(chooseTransport({})).toBe("zmtp");
    expect(chooseTransport({ zmtp: {} })).toBe("zmtp");
    expect(chooseTransport({ zeromq: {} })).toBe("zeromq");
    expect(chooseTransport({ transport: "zeromq" })).toBe("zeromq");
    expect(chooseTransport({ transport: "zmtp", zmtp: {} })).toBe("zmtp");
  });

  it("refuses unknown names and contradictions with a TypeError", () => {
    expect(() => chooseTransport({ transport: "nanomsg" })).toThrow(new TypeError('transport must be "zmtp" or "zeromq", got "nanomsg"'));
    expect(() => chooseTransport({ transport: "zmtp", zeromq: {} })).toThrow(/zeromq options were given, but the transport is "zmtp"/);
    expect(() => chooseTransport({ transport: "zeromq", zmtp: {} })).toThrow(/zmtp options were given, but the transport is "zeromq"/);
    expect(() => chooseTransport({ zmtp: {}, zeromq: {} })).toThrow(/pick one/);
  });
});
