// The convention switch (OTEL_SEMCONV_STABILITY_OPT_IN and the `semconv` option), endpoint
// parsing, baggage merging; the old and duplicated names through a real SDK.
import { SpanKind } from "@opentelemetry/api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRegistry } from "@zrpc/server";
import { mergeBaggage, otelClientMiddleware, otelServerMiddleware, semconvModeFromEnv } from "../src/index.js";
import { parseEndpoint } from "../src/semconv.js";
import { Observer, Resources, histogramPoints, registerSdk } from "./helpers.js";
import type { Sdk } from "./helpers.js";

describe("OTEL_SEMCONV_STABILITY_OPT_IN", () => {
  it("rpc/dup asks for both, and wins over rpc; anything else means the stable conventions", () => {
    expect(semconvModeFromEnv(undefined)).toBe("stable");
    expect(semconvModeFromEnv("")).toBe("stable");
    expect(semconvModeFromEnv("http,rpc")).toBe("stable");
    expect(semconvModeFromEnv("http, rpc/dup")).toBe("dup");
    expect(semconvModeFromEnv("rpc,rpc/dup")).toBe("dup");
    expect(semconvModeFromEnv("database/dup")).toBe("stable");
  });
});

describe("helpers", () => {
  it("parses tcp and ipc endpoints", () => {
    expect(parseEndpoint("tcp://127.0.0.1:4242")).toEqual({ address: "127.0.0.1", port: 4242, transport: "tcp" });
    expect(parseEndpoint("tcp://[::1]:5")).toEqual({ address: "::1", port: 5, transport: "tcp" });
    expect(parseEndpoint("ipc:///run/calc.sock")).toEqual({ address: "/run/calc.sock", transport: "unix" });
    expect(parseEndpoint("inproc://x")).toBeUndefined();
    expect(parseEndpoint(undefined)).toBeUndefined();
  });

  it("merges baggage lists, members already there winning", () => {
    expect(mergeBaggage("a=1,b=2", "b=3;p=x, c=4")).toBe("a=1,b=2,c=4");
    expect(mergeBaggage("", "c=4")).toBe("c=4");
  });
});

describe("old and dup conventions", () => {
  let sdk: Sdk;
  const resources = new Resources();
  const observer = new Observer();
  let methods: ReturnType<typeof createRegistry>;

  beforeAll(() => {
    sdk = registerSdk();
    methods = createRegistry();
    methods.register(function add(a: number, b: number) {
      return a + b;
    });
  });

  afterAll(async () => {
    await resources.closeAll();
    await sdk.shutdown();
  });

  it.each(["old", "dup"] as const)("%s: rpc.system, rpc.service and the millisecond histograms", async (mode) => {
    const name = `calc_${mode}`;
    const endpoint = await resources.server(methods, { name, middleware: [otelServerMiddleware({ semconv: mode }), observer] });
    const client = await resources.client(endpoint, [otelClientMiddleware({ semconv: mode, service: name })]);
    await client.call("add", [1, 1]);
    await observer.ended("add");
    const server = sdk.spans().find((s) => s.kind === SpanKind.SERVER && s.attributes["rpc.service"] === name)!;
    expect(server.name).toBe(`${name}/add`);
    expect(server.attributes).toMatchObject({ "rpc.system": "zerorpc", "rpc.service": name });
    if (mode === "old") {
      expect(server.attributes["rpc.method"]).toBe("add");
      expect(server.attributes).not.toHaveProperty("rpc.system.name");
    } else {
      expect(server.attributes).toMatchObject({ "rpc.system.name": "zerorpc", "rpc.method": `${name}/add` });
    }
    const metrics = await sdk.reader.metrics();
    for (const metricName of ["rpc.server.duration", "rpc.client.duration"]) {
      const metric = metrics.get(metricName);
      expect(metric?.descriptor.unit).toBe("ms");
      expect(histogramPoints(metric).some((p) => p.attributes["rpc.service"] === name)).toBe(true);
    }
    const stable = histogramPoints(metrics.get("rpc.server.call.duration")).some((p) => p.attributes["rpc.service"] === name);
    expect(stable).toBe(mode === "dup");
  });
});
