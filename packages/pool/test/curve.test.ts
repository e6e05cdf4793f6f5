// Issue #20: `createPool({ curve })` gives every connection to every endpoint the same CURVE
// client keys, over real loopback sockets, on both transports.
import { afterEach, describe, expect, it } from "vitest";
import { connect, curveKeyPair } from "@zrpc/client";
import type { CurveKeyPair, TransportFactory } from "@zrpc/client";
import { createRegistry, createServer } from "@zrpc/server";
import type { Server } from "@zrpc/server";
import { zeromq } from "@zrpc/transport-zeromq";
import { zmtp } from "@zrpc/transport-zmtp";
import { createPool } from "../src/index.js";

const LOOPBACK = "tcp://127.0.0.1:0";

const opened: { close(): unknown }[] = [];
function track<T extends { close(): unknown }>(resource: T): T {
  opened.push(resource);
  return resource;
}
afterEach(async () => {
  for (const resource of opened.splice(0).reverse()) await resource.close();
});

/** A server named `name` answering whoami() and add(a, b), on a CURVE socket that admits `client`. */
async function curveServer(name: string, keys: { server: CurveKeyPair; client: CurveKeyPair }, transport: TransportFactory | undefined): Promise<string> {
  const registry = createRegistry();
  registry.register(() => name, { name: "whoami" });
  registry.register((a: number, b: number) => a + b, { name: "add", args: ["a", "b"] });
  const server: Server = createServer(registry, { heartbeatMs: null, logger: null });
  track({ close: () => server.close(0) });
  const [endpoint] = await server.bind(LOOPBACK, {
    curve: { ...keys.server, allowedClientKeys: [keys.client.publicKey] },
    ...(transport === undefined ? {} : { transport }),
  });
  return endpoint!;
}

describe("createPool({ curve })", () => {
  it("checks the keys when the pool is created", () => {
    const pair = curveKeyPair();
    expect(() => createPool({ endpoints: "tcp://127.0.0.1:1", curve: { serverKey: "nope" } })).toThrow(
      new TypeError("createPool(): curve.serverKey must be a CURVE key: 40 characters of Z85 or 32 bytes, got 4 characters"),
    );
    expect(() => createPool({ endpoints: "tcp://127.0.0.1:1", curve: { secretKey: pair.secretKey } as never })).toThrow(
      /createPool\(\): curve\.serverKey is required/,
    );
    expect(() => createPool({ endpoints: "tcp://127.0.0.1:1", curve: { serverKey: pair.publicKey, secretKey: pair.secretKey } })).toThrow(
      /curve\.publicKey and curve\.secretKey go together/,
    );
  });

  it.each([
    ["zmtp (default)", (): TransportFactory | undefined => undefined],
    ["zeromq", (): TransportFactory | undefined => zeromq({ linger: 0 })],
  ] as const)("connects to every endpoint with the client keys (%s)", async (_name, make) => {
    const keys = { server: curveKeyPair(), client: curveKeyPair() };
    const endpoints = [await curveServer("a", keys, make()), await curveServer("b", keys, make())];
    const transport = make();
    const pool = track(
      createPool({
        endpoints,
        min: 2,
        balance: "round-robin",
        curve: { serverKey: keys.server.publicKey, ...keys.client },
        ...(transport === undefined ? {} : { transport }),
      }),
    );
    const names = new Set<unknown>();
    for (let i = 0; i < 4; i++) names.add(await pool.call("whoami"));
    expect([...names].sort()).toEqual(["a", "b"]);
    await expect(pool.call("add", [40, 2])).resolves.toBe(42);
    // The servers really speak CURVE: a plaintext client gets nowhere.
    const plain = track(await connect(endpoints[0]!, transport === undefined ? {} : { transport: make() }));
    await expect(plain.call("whoami")).rejects.toMatchObject({ code: "connect" });
  });

  it("a refused client key fails the call with a connect error that says so", async () => {
    const keys = { server: curveKeyPair(), client: curveKeyPair() };
    const endpoint = await curveServer("strict", keys, undefined);
    const events: string[] = [];
    const pool = track(
      createPool({
        endpoints: endpoint,
        retries: 0,
        curve: { serverKey: keys.server.publicKey, ...curveKeyPair() },
        onEvent: (event) => events.push(event.type === "evict" ? `evict ${event.reason}` : event.type),
      }),
    );
    const error = await pool.call("whoami").catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: "connect" });
    expect((error as Error).message).toMatch(/refused this client's key/);
    expect(events).toContain("evict connect");
  });

  it("the transport factory's own curve wins over the pool's", async () => {
    const keys = { server: curveKeyPair(), client: curveKeyPair() };
    const endpoint = await curveServer("own", keys, undefined);
    const other = curveKeyPair();
    const own: TransportFactory = zmtp({ linger: 0, curve: { serverKey: keys.server.publicKey, ...keys.client } });
    const pool = track(createPool({ endpoints: endpoint, transport: own, curve: { serverKey: other.publicKey } }));
    await expect(pool.call("whoami")).resolves.toBe("own");
  });
});
