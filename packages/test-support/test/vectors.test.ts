import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DATA_DIR, VECTORS_DIR, fromHex, listVectors, loadProbes, loadVector, loadVectors, payloadFrame, toHex } from "../src/index.js";

describe("vendored data", () => {
  it("lives inside this package", () => {
    expect(existsSync(join(DATA_DIR, "probes.json"))).toBe(true);
    expect(existsSync(join(VECTORS_DIR, "README.md"))).toBe(true);
    expect(existsSync(join(DATA_DIR, "PROVENANCE.md"))).toBe(true);
  });

  it("lists all 29 golden transcripts", () => {
    const names = listVectors();
    expect(names).toHaveLength(29);
    expect(names).toContain("call_add");
    expect(names).toContain("zmtp_tcp_call_add");
    expect([...names].sort()).toEqual(names);
  });

  it("loads each one with its name, scenario and messages", () => {
    for (const vector of loadVectors()) {
      expect(vector.scenario).toBe(vector.name);
      expect(["router", "push", "pub", "tcp"]).toContain(vector.mode);
      expect(vector.messages.length).toBeGreaterThan(0);
      expect(vector.versions.zerorpc_python_commit).toMatch(/^668af5b/);
    }
  });

  it("keeps the exact recorded bytes (call_add's request payload)", () => {
    const vector = loadVector("call_add");
    const request = vector.messages.find((message) => message.direction === "client->server")!;
    const payload = payloadFrame(request)!;
    expect(fromHex(payload.hex)).toHaveLength(payload.len);
    expect(request.event?.name).toBe("add");
    expect(request.event?.args).toEqual([2, 3]);
  });

  it("has the raw ZMTP connection of the tcp vector", () => {
    const vector = loadVector("zmtp_tcp_call_add");
    expect(vector.mode).toBe("tcp");
    // The client's greeting starts with the ZMTP signature ff ... 7f.
    const first = vector.messages.find((message) => message.direction === "client->server")!;
    expect(first.chunk_hex?.slice(0, 2)).toBe("ff");
    expect(vector.zmtp?.["client->server"]?.[0]?.part).toBe("greeting");
  });

  it("names the known vectors when asked for one that does not exist", () => {
    expect(() => loadVector("no_such_vector")).toThrow(/known: .*call_add/);
    expect(() => loadVector("../probes")).toThrow(/not a vector name/);
  });

  it("loads the probes", () => {
    const probes = loadProbes();
    expect(probes.versions.python).toBe("3.11.2");
    expect(probes.probes.length).toBeGreaterThan(10);
    expect(probes.probes.every((probe) => probe.probe.length > 0 && probe.result.length > 0)).toBe(true);
  });
});

describe("hex", () => {
  it("round-trips, reading views in place", () => {
    const bytes = Uint8Array.of(0, 1, 0xfe, 0xff, 0x10);
    expect(toHex(bytes)).toBe("0001feff10");
    expect(toHex(bytes.subarray(2, 4))).toBe("feff");
    expect(fromHex("00 01 FE ff")).toEqual(Uint8Array.of(0, 1, 0xfe, 0xff));
  });

  it("rejects what is not hex", () => {
    expect(() => fromHex("abc")).toThrow(/not a hex string/);
    expect(() => fromHex("zz")).toThrow(/not a hex string/);
  });
});
