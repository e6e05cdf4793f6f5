// End to end over real sockets: @zrpc/client's connect() against @zrpc/server's createServer
// (a devDependency, used by tests only; the packages never import each other at run time).
import { afterEach, describe, expect, it } from "vitest";
import { createServer } from "@zrpc/server";
import { zeromq } from "@zrpc/transport-zeromq";
import { zmtp } from "@zrpc/transport-zmtp";
import { RemoteError, TimeoutExpired, connect, untyped } from "../src/index.js";

/** A part of the interop TestService (docs/protocol/test-service.md). */
class TestService {
  add(a: number, b: number): number {
    return a + b;
  }
  hello(name: string): string {
    return `Hello, ${name}`;
  }
  fail(message: string): never {
    const error = new Error(message);
    error.name = "ValueError";
    throw error;
  }
  async sleep(seconds: number): Promise<number> {
    await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
    return seconds;
  }
  *range(n: number): Generator<number> {
    for (let i = 0; i < n; i++) yield i;
  }
}

const opened: { close(): Promise<unknown> }[] = [];
afterEach(async () => {
  for (const resource of opened.splice(0).reverse()) await resource.close();
});

async function start(): Promise<string> {
  const server = createServer(new TestService(), { heartbeatMs: 1000, logger: null });
  // No grace period: calls still running (an abandoned stream, a timed-out sleep) are canceled.
  opened.push({ close: () => server.close(0) });
  const [endpoint] = await server.bind("tcp://127.0.0.1:*");
  return endpoint!;
}

describe("client against @zrpc/server over ZeroMQ", () => {
  it("calls, streams and gets errors through the typed proxy", async () => {
    const endpoint = await start();
    const client = await connect<TestService>(endpoint, { heartbeatMs: 1000 });
    opened.push(client);

    await expect(client.proxy.add(2, 3)).resolves.toBe(5);
    await expect(client.proxy.hello("zrpc")).resolves.toBe("Hello, zrpc");
    await expect(client.call("range", [5])).resolves.toEqual([0, 1, 2, 3, 4]);

    const items: number[] = [];
    for await (const item of client.proxy.range(300)) items.push(item);
    expect(items).toEqual(Array.from({ length: 300 }, (_, i) => i));

    const error = await client.proxy.fail("bad input").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RemoteError);
    expect((error as RemoteError).remoteName).toBe("ValueError");
    expect((error as RemoteError).rawMessage).toBe("bad input");

    // A name the service type does not declare: only through the untyped view.
    const unknown = await untyped(client).call("nope").catch((e: unknown) => e);
    expect((unknown as RemoteError).remoteName).toBe("NameError");
    await expect(client.call("_zerorpc_list")).resolves.toEqual(expect.arrayContaining(["add", "range"]));
  });

  it("abandons a stream early and keeps serving", async () => {
    const endpoint = await start();
    const client = await connect<TestService>(endpoint, { heartbeatMs: 1000 });
    opened.push(client);
    let seen = 0;
    for await (const item of client.stream("range", [10_000])) {
      seen = item + 1;
      if (item === 150) break;
    }
    expect(seen).toBe(151);
    await expect(client.proxy.add(1, 1)).resolves.toBe(2);
  });

  it("times out a call that outlasts a per-call timeout", async () => {
    const endpoint = await start();
    const client = await connect<TestService>(endpoint, { heartbeatMs: 1000 });
    opened.push(client);
    await expect(client.call("sleep", [0.5], { timeoutMs: 50 })).rejects.toBeInstanceOf(TimeoutExpired);
    await expect(client.call("sleep", [0.01])).resolves.toBe(0.01);
  });
});

describe("which transport connect() opens", () => {
  it("ZMTP by default (its options apply), zeromq.js on request; both talk to the same server", async () => {
    const endpoint = await start();
    const handshakes: string[] = [];
    const withOptions = await connect(endpoint, {
      transport: zmtp({ monitor: (event) => void (event.type === "handshake" && handshakes.push(event.socketType)) }),
    });
    opened.push(withOptions);
    expect(await withOptions.call("add", [1, 2])).toBe(3);
    expect(handshakes).toEqual(["ROUTER"]);
    const plain = await connect(endpoint);
    opened.push(plain);
    expect(await plain.call("hello", ["zmtp"])).toBe("Hello, zmtp");
    const onZeromq = await connect(endpoint, { transport: zeromq({ linger: 0 }) });
    opened.push(onZeromq);
    expect(await onZeromq.call("hello", ["zeromq"])).toBe("Hello, zeromq");
  });

  it("rejects a transport name, a non-factory and the former option bags with a TypeError that says what to pass", async () => {
    await expect(connect("tcp://127.0.0.1:1", { transport: "zeromq" } as never)).rejects.toThrow(
      new TypeError(
        'connect(): transport takes a factory, not the name "zeromq": pass a transport factory: transport: zmtp({ ...options }) ' +
          "from @zrpc/transport-zmtp (the default) or transport: zeromq({ ...options }) from @zrpc/transport-zeromq",
      ),
    );
    await expect(connect("tcp://127.0.0.1:1", { transport: {} } as never)).rejects.toThrow(/transport must be a transport factory/);
    await expect(connect("tcp://127.0.0.1:1", { zeromq: { linger: 0 } } as never)).rejects.toThrow(
      /^connect\(\): unknown option zeromq; socket options go to the transport factory/,
    );
  });
});
