import { afterEach, describe, expect, it } from "vitest";
import { RemoteError } from "../src/index.js";
import type { Client } from "../src/index.js";
import { FakeServer, flush, rejectionOf } from "./helpers.js";

let server: FakeServer;
let client: Client;

afterEach(async () => {
  await client.close();
  await server.close();
});

function answering(): void {
  server = new FakeServer((request, s) => {
    const args = request.args as unknown[];
    switch (request.name) {
      case "hello":
        s.ok(request, `Hello, ${String(args[0])}`);
        break;
      case "range":
        void s.stream(
          request,
          Array.from({ length: Number(args[0]) }, (_, i) => i),
        );
        break;
      case "fail":
        s.err(request, "ValueError", String(args[0]));
        break;
      default:
        s.ok(request, request.name);
    }
  });
  client = server.client({ heartbeatMs: 0 });
}

describe("invoke", () => {
  it("sends at once and resolves with the value when awaited", async () => {
    answering();
    const result = client.invoke("hello", ["x"]);
    await server.request();
    await expect(result).resolves.toBe("Hello, x");
    expect(Object.prototype.toString.call(result)).toBe("[object CallResult]");
  });

  it("resolves with all items when a streamed reply is awaited", async () => {
    answering();
    await expect(client.invoke("range", [4])).resolves.toEqual([0, 1, 2, 3]);
  });

  it("yields stream items, or the unary value once, when iterated", async () => {
    answering();
    const items: unknown[] = [];
    for await (const item of client.invoke("range", [3])) items.push(item);
    expect(items).toEqual([0, 1, 2]);
    const single: unknown[] = [];
    for await (const item of client.invoke("hello", ["y"])) single.push(item);
    expect(single).toEqual(["Hello, y"]);
  });

  it("supports catch and finally", async () => {
    answering();
    let finished = false;
    const caught = await client
      .invoke("fail", ["nope"])
      .finally(() => {
        finished = true;
      })
      .catch((error: unknown) => error);
    expect(caught).toBeInstanceOf(RemoteError);
    expect(finished).toBe(true);
  });

  it("refuses to be iterated after being awaited", async () => {
    answering();
    const result = client.invoke("hello", ["z"]);
    await result;
    expect(() => result[Symbol.asyncIterator]()).toThrow(TypeError);
  });

  it("settles a unary call that nobody awaits", async () => {
    answering();
    void client.invoke("hello", ["ignored"]);
    await server.request();
    await flush();
    // The call is closed: closing the client has nothing to reject.
    await client.close();
  });
});

describe("proxy", () => {
  it("turns property calls into invoke()", async () => {
    answering();
    const proxy = client.proxy;
    await expect(proxy.hello!("world")).resolves.toBe("Hello, world");
    const request = await server.request();
    expect(request.name).toBe("hello");
    expect(request.args).toEqual(["world"]);
    const items: unknown[] = [];
    for await (const item of proxy.range!(2)) items.push(item);
    expect(items).toEqual([0, 1]);
  });

  it("is not thenable, so awaiting it is safe", async () => {
    answering();
    expect((client.proxy as Record<string, unknown>).then).toBeUndefined();
    // eslint-disable-next-line @typescript-eslint/await-thenable -- awaiting the proxy is what is tested
    const awaited = await client.proxy;
    expect(awaited).toBe(client.proxy);
    await flush();
    expect(server.requests).toHaveLength(0);
  });

  it("still calls methods whose names start with then", async () => {
    answering();
    await expect(client.proxy.thenable!()).resolves.toBe("thenable");
    await expect(client.proxy.then_what!()).resolves.toBe("then_what");
  });

  it("has no symbol-keyed members", () => {
    answering();
    const proxy = client.proxy as unknown as Record<symbol, unknown>;
    expect(proxy[Symbol.asyncIterator]).toBeUndefined();
    expect(proxy[Symbol.toPrimitive]).toBeUndefined();
  });

  it("appends the proxy call site to a remote error's stack", async () => {
    answering();
    const error = (await rejectionOf(client.proxy.fail!("bad"))) as RemoteError;
    expect(error).toBeInstanceOf(RemoteError);
    expect(error.rawMessage).toBe("bad");
    expect(error.stack).toContain("proxy.test.ts");
  });
});
