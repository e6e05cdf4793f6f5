// Issue #20: the `curve` option of connect() and the one-way helpers, over real loopback sockets,
// against @zrpc/server's `bind(..., { curve })`. Each transport that implements CURVE runs the
// same cases: the default zmtp() (pure TypeScript) and zeromq() (libzmq).
import { afterEach, describe, expect, it } from "vitest";
import { createRegistry, createServer } from "@zrpc/server";
import type { Server } from "@zrpc/server";
import { zeromq } from "@zrpc/transport-zeromq";
import { zmtp } from "@zrpc/transport-zmtp";
import type { OpenedTransport, TransportDefaults, TransportFactory } from "@zrpc/channel";
import {
  bindPublisher,
  bindPuller,
  bindPusher,
  connect,
  connectPuller,
  connectPusher,
  connectSubscriber,
  curveKeyPair,
  z85Decode,
} from "../src/index.js";
import type { CurveKeyPair, CurveOptions } from "../src/index.js";

const LOOPBACK = "tcp://127.0.0.1:0";

const opened: { close(): unknown }[] = [];
function track<T extends { close(): unknown }>(resource: T): T {
  opened.push(resource);
  return resource;
}
afterEach(async () => {
  for (const resource of opened.splice(0).reverse()) await resource.close();
});

/** A server answering add(a, b), logging into `lines`, closed after the test. */
function newServer(lines: string[] = []): Server {
  const registry = createRegistry();
  registry.register(function add(a: number, b: number) {
    return a + b;
  });
  const server = createServer(registry, { logger: { warn: (message) => lines.push(message) }, name: "Curve" });
  track({ close: () => server.close(0) });
  return server;
}

/** A promise of the first log line matching `pattern`, and the logger to pass. */
function awaitLine(lines: string[], pattern: RegExp): Promise<string> {
  return new Promise((resolve) => {
    const push = lines.push.bind(lines);
    lines.push = (...items: string[]): number => {
      const length = push(...items);
      const match = items.find((item) => pattern.test(item));
      if (match !== undefined) resolve(match);
      return length;
    };
    const already = lines.find((line) => pattern.test(line));
    if (already !== undefined) resolve(already);
  });
}

/** A factory that records the defaults it is opened with, and opens with `inner`. */
function recording(inner: TransportFactory): { factory: TransportFactory; defaults: TransportDefaults[] } {
  const defaults: TransportDefaults[] = [];
  return {
    defaults,
    factory: {
      name: `recording ${inner.name}`,
      open(kind, how, endpoint, given): Promise<OpenedTransport> {
        defaults.push(given ?? {});
        return inner.open(kind, how, endpoint, given);
      },
    },
  };
}

describe("curve option: checked before any socket is opened", () => {
  const pair = curveKeyPair();
  const never: TransportFactory = {
    name: "never",
    open: () => Promise.reject(new Error("must not be opened")),
  };

  it("connect() names the bad key", async () => {
    await expect(connect("tcp://127.0.0.1:1", { transport: never, curve: { serverKey: "short" } })).rejects.toThrow(
      new TypeError("connect(): curve.serverKey must be a CURVE key: 40 characters of Z85 or 32 bytes, got 5 characters"),
    );
    await expect(connect("tcp://127.0.0.1:1", { transport: never, curve: { serverKey: new Uint8Array(16) } })).rejects.toThrow(
      /curve\.serverKey must be a CURVE key: 32 bytes or 40 characters of Z85, got 16 bytes/,
    );
    await expect(
      connect("tcp://127.0.0.1:1", { transport: never, curve: { serverKey: pair.publicKey, publicKey: pair.publicKey } }),
    ).rejects.toThrow(/curve\.publicKey and curve\.secretKey go together/);
  });

  it("connect() says that server options are not client options", async () => {
    await expect(connect("tcp://127.0.0.1:1", { transport: never, curve: { secretKey: pair.secretKey } as never })).rejects.toThrow(
      /connect\(\): curve\.serverKey is required: the public key of the server to talk to \(\{ secretKey \} alone makes a CURVE server/,
    );
    await expect(connect("tcp://127.0.0.1:1", { transport: never, curve: "key" as never })).rejects.toThrow(/curve must be an object/);
  });

  it("the one-way helpers take either role and name the bad key", async () => {
    await expect(bindPuller(LOOPBACK, () => undefined, { transport: never, curve: { secretKey: "#".repeat(40) } })).rejects.toThrow(
      /bindPuller\(\): curve\.secretKey is not valid Z85/,
    );
    await expect(connectPusher(LOOPBACK, { transport: never, curve: { serverKey: pair.secretKey.slice(1) } })).rejects.toThrow(
      /connectPusher\(\): curve\.serverKey must be a CURVE key/,
    );
    await expect(
      bindPublisher(LOOPBACK, { transport: never, curve: { secretKey: pair.secretKey, allowedClientKeys: [pair.publicKey, "nope"] } }),
    ).rejects.toThrow(/bindPublisher\(\): curve\.allowedClientKeys\[1\] must be a CURVE key/);
    await expect(
      connectSubscriber(LOOPBACK, () => undefined, { transport: never, curve: { secretKey: pair.secretKey, authorize: true as never } }),
    ).rejects.toThrow(/connectSubscriber\(\): curve\.authorize must be a function/);
  });

  it("reaches the factory as TransportDefaults.curve, next to the keepalive", async () => {
    const server = newServer();
    const [endpoint] = await server.bind(LOOPBACK, { curve: { secretKey: pair.secretKey } });
    const { factory, defaults } = recording(zmtp());
    const curve = { serverKey: pair.publicKey };
    const client = track(await connect(endpoint!, { transport: factory, curve }));
    expect(defaults).toEqual([{ heartbeatMs: 5000, heartbeatTimeoutMs: 10_000, curve }]);
    await client.close();
    const pusher = track(await connectPusher("tcp://127.0.0.1:1", { transport: factory, curve }));
    expect(defaults[1]).toEqual({ curve });
    await pusher.close();
  });
});

/** The transports under test: the default (no `transport` option) and zeromq(). */
const TRANSPORTS: readonly (readonly [string, () => TransportFactory | undefined])[] = [
  ["zmtp (default)", () => undefined],
  ["zeromq", () => zeromq()],
];

describe.each(TRANSPORTS)("curve over %s", (_name, transport) => {
  function withTransport<T extends object>(options: T): T & { transport?: TransportFactory } {
    const factory = transport();
    return factory === undefined ? options : { ...options, transport: factory };
  }

  const keys: { readonly server: CurveKeyPair; readonly client: CurveKeyPair } = { server: curveKeyPair(), client: curveKeyPair() };

  it("a client with the server's key calls a server with an allow-list and an authorize hook", async () => {
    const asked: string[] = [];
    const server = newServer();
    const [endpoint] = await server.bind(
      LOOPBACK,
      withTransport({
        curve: {
          ...keys.server,
          allowedClientKeys: [keys.client.publicKey],
          authorize: ({ publicKey }: { publicKey: string }) => {
            asked.push(publicKey);
            return Promise.resolve(true);
          },
        },
      }),
    );
    const client = track(await connect(endpoint!, withTransport({ curve: { serverKey: keys.server.publicKey, ...keys.client } })));
    await expect(client.call("add", [2, 3])).resolves.toBe(5);
    expect(asked).toEqual([keys.client.publicKey]);
  });

  it("keys as 32 bytes work like Z85 text", async () => {
    const server = newServer();
    const [endpoint] = await server.bind(LOOPBACK, withTransport({ curve: { secretKey: z85Decode(keys.server.secretKey) } }));
    const client = track(await connect(endpoint!, withTransport({ curve: { serverKey: z85Decode(keys.server.publicKey) } })));
    await expect(client.call("add", [1, 1])).resolves.toBe(2);
  });

  it("a refused key: a ConnectError that says so on the client, a log line on the server", async () => {
    const lines: string[] = [];
    const logged = awaitLine(lines, /security handshake refused/);
    const server = newServer(lines);
    const [endpoint] = await server.bind(LOOPBACK, withTransport({ curve: { ...keys.server, allowedClientKeys: [keys.client.publicKey] } }));
    const stranger = curveKeyPair();
    const client = track(
      await connect(endpoint!, withTransport({ curve: { serverKey: keys.server.publicKey, ...stranger }, connectTimeoutMs: 3000 })),
    );
    const error = await client.call("add", [1, 2]).catch((caught: unknown) => caught);
    // A ConnectError, or the transport's own error of code "connect" when it gives up at once.
    expect(error).toMatchObject({ code: "connect" });
    expect((error as Error).message).toMatch(/refused this client's key/);
    expect(await logged).toContain(stranger.publicKey);
  });

  it("a plaintext client cannot call a CURVE server", async () => {
    const lines: string[] = [];
    const logged = awaitLine(lines, /security handshake/);
    const server = newServer(lines);
    const [endpoint] = await server.bind(LOOPBACK, withTransport({ curve: { secretKey: keys.server.secretKey } }));
    const client = track(await connect(endpoint!, withTransport({ connectTimeoutMs: 3000 })));
    const error = await client.call("add", [1, 2]).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: "connect" });
    await logged;
  });

  it("one-way helpers: a bound CURVE puller and subscriber, connected CURVE pushers", async () => {
    let got!: (value: unknown[]) => void;
    const received = new Promise<unknown[]>((resolve) => (got = resolve));
    const puller = track(
      await bindPuller(LOOPBACK, { ping: (...args: unknown[]) => got(args) }, withTransport({ curve: { ...keys.server, allowedClientKeys: [keys.client.publicKey] } })),
    );
    const pusher = track(await connectPusher(puller.endpoints[0]!, withTransport({ curve: { serverKey: keys.server.publicKey, ...keys.client } })));
    pusher.send("ping", [1, "two"]);
    expect(await received).toEqual([1, "two"]);
  });

  it("one-way helpers: the bound side may be the CURVE client", async () => {
    let got!: (value: unknown[]) => void;
    const received = new Promise<unknown[]>((resolve) => (got = resolve));
    const pusher = track(await bindPusher(LOOPBACK, withTransport({ curve: { serverKey: keys.server.publicKey } })));
    const puller = track(await connectPuller(pusher.endpoints[0]!, { ping: (...args: unknown[]) => got(args) }, withTransport({ curve: { secretKey: keys.server.secretKey } })));
    pusher.send("ping", ["reversed"]);
    expect(await received).toEqual(["reversed"]);
    expect(puller.endpoints).toEqual([]);
  });
});

describe("the factory's own curve wins", () => {
  it.each([
    ["zmtp", (curve: CurveOptions) => zmtp({ curve })],
    ["zeromq", (curve: CurveOptions) => zeromq({ curve })],
  ] as const)("over the caller's, for %s", async (_name, make) => {
    const own = curveKeyPair();
    const callers = curveKeyPair();
    const server = newServer();
    const [endpoint] = await server.bind(LOOPBACK, { transport: make({ secretKey: own.secretKey }), curve: { secretKey: callers.secretKey } });
    const client = track(
      await connect(endpoint!, { transport: make({ serverKey: own.publicKey }), curve: { serverKey: callers.publicKey } }),
    );
    await expect(client.call("add", [20, 22])).resolves.toBe(42);
  });
});
