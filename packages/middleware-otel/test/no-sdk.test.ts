// Only @opentelemetry/api, no SDK registered: the middlewares cost little and change nothing.
import { describe, expect, it } from "vitest";
import { createRegistry, raise } from "@zrpc/server";
import { RemoteError } from "@zrpc/client";
import { otelClientMiddleware, otelServerMiddleware } from "../src/index.js";
import { Observer, Resources } from "./helpers.js";

describe("without an SDK", () => {
  it("serves and calls as without the middleware, sending no trace header keys", async () => {
    const resources = new Resources();
    try {
      const observer = new Observer();
      const methods = createRegistry();
      methods.register(function add(a: number, b: number) {
        return a + b;
      });
      methods.register(function* count(n: number) {
        for (let i = 0; i < n; i++) yield i;
      });
      methods.register(function fail() {
        raise("ValueError", "no");
      });
      const endpoint = await resources.server(methods, { name: "calc", middleware: [otelServerMiddleware({ endpoint: "tcp://127.0.0.1:1" }), observer] });
      const client = await resources.client(endpoint, [otelClientMiddleware({ endpoint, service: "calc" })]);
      await expect(client.call("add", [1, 2])).resolves.toBe(3);
      await expect(client.call("count", [3])).resolves.toEqual([0, 1, 2]);
      const items: unknown[] = [];
      for await (const item of client.stream("count", [2])) items.push(item);
      expect(items).toEqual([0, 1]);
      await expect(client.call("fail")).rejects.toBeInstanceOf(RemoteError);
      await expect(client.call("nope")).rejects.toBeInstanceOf(RemoteError);
      await observer.ended("nope");
      // (an unknown method skips beforeCall: four headers for five calls)
      expect(observer.headers).toHaveLength(4);
      for (const header of observer.headers) expect(Object.keys(header).sort()).toEqual(["message_id", "v"]);
    } finally {
      await resources.closeAll();
    }
  });
});
