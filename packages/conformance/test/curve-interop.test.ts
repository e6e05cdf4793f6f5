/**
 * zerorpc over ZMTP-CURVE across implementations: our client on @zrpc/transport-zmtp with CURVE
 * against our server on @zrpc/transport-zeromq (libzmq 4.3.5) with CURVE, and the reverse; then
 * libzmq 4.3.4 (pyzmq) as the CURVE end of a ROUTER/DEALER proxy (fixtures/pyzmq_curve_proxy.py),
 * so that our CURVE client talks CURVE to libzmq in front of a plaintext server, and our CURVE
 * server talks CURVE to libzmq behind which a plaintext client calls. Each pairing: calls, a
 * 10,000-item stream, an 8 MiB echo, a refused client key and a wrong server key.
 */
import { Buffer } from "node:buffer";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { TimeoutExpired, ZrpcError, connect, curveKeyPair } from "@zrpc/client";
import type { Client, CurveKeyPair, CurveOptions, TransportFactory } from "@zrpc/client";
import { startProcess } from "@zrpc/test-support";
import type { ChildHandle } from "@zrpc/test-support";
import { zeromq } from "@zrpc/transport-zeromq";
import { zmtp } from "@zrpc/transport-zmtp";
import type { Server } from "@zrpc/server";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { createTestService } from "../src/index.js";

const LOOPBACK = "tcp://127.0.0.1:*";
const MiB = 1024 * 1024;
const STREAM_ITEMS = 10_000;
const PROXY = fileURLToPath(new URL("fixtures/pyzmq_curve_proxy.py", import.meta.url));

/** What to close after each test: clients, servers, proxies. */
const opened: (() => Promise<unknown>)[] = [];

afterEach(async () => {
  await Promise.all(opened.splice(0).map((close) => close()));
});

/** Warnings of a server's logger; `first(test)` resolves with the first (past or future) that passes `test`. */
interface Warnings {
  readonly lines: string[];
  first(test: (line: string) => boolean): Promise<string>;
}

/** Our TestService server, its warnings collected, bound with `transport`. */
async function serve(transport: Parameters<Server["bind"]>[1]): Promise<{ server: Server; endpoint: string; warnings: Warnings }> {
  const lines: string[] = [];
  const waiting: { test: (line: string) => boolean; resolve: (line: string) => void }[] = [];
  const warn = (message: string): void => {
    lines.push(message);
    for (const entry of [...waiting]) {
      if (entry.test(message)) {
        waiting.splice(waiting.indexOf(entry), 1);
        entry.resolve(message);
      }
    }
  };
  const first = (test: (line: string) => boolean): Promise<string> => {
    const found = lines.find(test);
    return found !== undefined ? Promise.resolve(found) : new Promise((resolve) => waiting.push({ test, resolve }));
  };
  const server = createTestService({ logger: { warn } });
  opened.push(() => server.close(0));
  const [endpoint] = await server.bind(LOOPBACK, transport);
  return { server, endpoint: endpoint as string, warnings: { lines, first } };
}

/** A client of `endpoint`, closed after the test. */
async function client(endpoint: string, options: Parameters<typeof connect>[1]): Promise<Client> {
  const opening = await connect(endpoint, options);
  opened.push(() => opening.close());
  return opening;
}

/** The rejection of `call`, which must reject. */
async function rejection(call: Promise<unknown>): Promise<Error> {
  return call.then(
    (value) => {
      throw new Error(`expected a rejection, got ${JSON.stringify(value)}`);
    },
    (error: unknown) => error as Error,
  );
}

/** 0, 1, ..., n - 1. */
const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

/** Bytes 0..255 repeated: the 8 MiB payload. */
const big = (): Buffer => Buffer.from(Uint8Array.from({ length: 8 * MiB }, (_, i) => (i * 7) & 0xff));

/** Calls, a 10,000-item stream and an 8 MiB echo over `rpc`. */
async function exercise(rpc: Client): Promise<void> {
  expect(await rpc.call("add", [2, 3])).toBe(5);
  expect(await rpc.call("echo", [{ nested: ["curve", 1.5, null, true] }])).toEqual({ nested: ["curve", 1.5, null, true] });
  const results = await Promise.all(range(50).map((i) => rpc.call("add", [i, i])));
  expect(results).toEqual(range(50).map((i) => 2 * i));
  const items: unknown[] = [];
  for await (const item of rpc.stream("range", [STREAM_ITEMS])) items.push(item);
  expect(items).toEqual(range(STREAM_ITEMS));
  const payload = big();
  const echoed = await rpc.call<Uint8Array>("echo", [payload], { timeoutMs: 60_000 });
  expect(Buffer.from(echoed).equals(payload)).toBe(true);
}

/** Expects `error` to be the typed error of a CURVE handshake that failed: a `ZrpcError` of code "connect", not a timeout. */
function expectHandshakeError(error: Error, pattern: RegExp): void {
  expect(error).not.toBeInstanceOf(TimeoutExpired);
  expect(error).toBeInstanceOf(ZrpcError);
  expect((error as ZrpcError).code).toBe("connect");
  expect(error.message).toMatch(pattern);
}

describe("zerorpc over CURVE between our two transports", { timeout: 90_000 }, () => {
  const keys = { server: curveKeyPair(), client: curveKeyPair(), stranger: curveKeyPair() };
  const PAIRS = [
    { client: "zmtp", server: "zeromq" },
    { client: "zeromq", server: "zmtp" },
  ] as const;
  /** The factory of transport `name` with `curve`. */
  const factory = (name: "zmtp" | "zeromq", curve: CurveOptions): TransportFactory =>
    name === "zmtp" ? zmtp({ curve }) : zeromq({ curve });

  describe.each(PAIRS)("our client on $client -> our server on $server", ({ client: clientSide, server: serverSide }) => {
    const bindAllowing = (allowed: CurveKeyPair[]) =>
      serve({ transport: factory(serverSide, { ...keys.server, allowedClientKeys: allowed.map((pair) => pair.publicKey) }) });

    it(`calls, a ${STREAM_ITEMS.toLocaleString("en-US")}-item stream and an 8 MiB echo`, async () => {
      const { endpoint, warnings } = await bindAllowing([keys.client]);
      const rpc = await client(endpoint, { transport: factory(clientSide, { serverKey: keys.server.publicKey, ...keys.client }), timeoutMs: 30_000 });
      await exercise(rpc);
      expect(warnings.lines).toEqual([]);
    });

    it("a refused client key: the call fails with a typed error at once, the server reports the key", async () => {
      const { endpoint, warnings } = await bindAllowing([keys.client]);
      const refused = await client(endpoint, { transport: factory(clientSide, { serverKey: keys.server.publicKey, ...keys.stranger }), timeoutMs: 60_000 });
      expectHandshakeError(await rejection(refused.call("add", [1, 2])), /refused|auth/i);
      expect(await warnings.first((line) => line.includes(keys.stranger.publicKey))).toMatch(/refused|auth/i);
      // The server still serves an allowed client.
      const allowed = await client(endpoint, { transport: factory(clientSide, { serverKey: keys.server.publicKey, ...keys.client }), timeoutMs: 30_000 });
      expect(await allowed.call("add", [40, 2])).toBe(42);
    });

    it("a wrong server key: the call fails with a typed error, the server reports the failed handshake and keeps serving", async () => {
      const { endpoint, warnings } = await bindAllowing([keys.client]);
      const wrong = await client(endpoint, { transport: factory(clientSide, { serverKey: keys.stranger.publicKey, ...keys.client }), timeoutMs: 60_000 });
      expectHandshakeError(await rejection(wrong.call("add", [1, 2])), /serverKey|server key|key/i);
      expect(await warnings.first(() => true)).toMatch(/key|protocol|handshake/i);
      const good = await client(endpoint, { transport: factory(clientSide, { serverKey: keys.server.publicKey, ...keys.client }), timeoutMs: 30_000 });
      expect(await good.call("add", [1, 1])).toBe(2);
    });
  });
});

describe("zerorpc over CURVE with libzmq (pyzmq) as the CURVE end of a proxy", { timeout: 90_000 }, () => {
  let python = "";
  const keys = { server: curveKeyPair(), client: curveKeyPair(), stranger: curveKeyPair() };

  beforeAll(() => {
    for (const candidate of [process.env.ZRPC_PYTHON, "python3", "/usr/bin/python3"]) {
      if (candidate === undefined || candidate === "") continue;
      const probe = spawnSync(candidate, ["-c", "import zmq; assert zmq.has('curve')"], { encoding: "utf8" });
      if (probe.status === 0) {
        python = candidate;
        return;
      }
    }
    throw new Error("needs python3 with pyzmq built with CURVE (Debian: apt-get install -y python3-zmq), or ZRPC_PYTHON pointing at one");
  });

  /** Starts the proxy fixture; resolves with it and its front endpoint once it printed READY. */
  async function proxy(args: readonly string[]): Promise<{ child: ChildHandle; endpoint: string }> {
    const child = startProcess(python, [PROXY, ...args], { stdin: "pipe", label: "pyzmq_curve_proxy.py" });
    opened.push(() => child.stop({ signal: "SIGTERM", graceMs: 5000 }));
    const ready = await child.waitForLine(/^READY (\S+)$/);
    return { child, endpoint: ready[1] as string };
  }

  /** The first line of the proxy's output starting with `prefix` (past or future). */
  const line = (child: ChildHandle, prefix: string): Promise<string> => child.waitForLine((text) => text.startsWith(prefix));

  describe("our CURVE client -> libzmq CURVE ROUTER -> plain DEALER -> our plaintext server", () => {
    it(`calls, a ${STREAM_ITEMS.toLocaleString("en-US")}-item stream and an 8 MiB echo (with libzmq's ZAP allow-list)`, async () => {
      const { endpoint: backend } = await serve({ transport: zmtp() });
      const { child, endpoint } = await proxy(["front", LOOPBACK, backend, keys.server.secretKey, keys.client.publicKey]);
      const rpc = await client(endpoint, { transport: zmtp({ curve: { serverKey: keys.server.publicKey, ...keys.client } }), timeoutMs: 30_000 });
      await exercise(rpc);
      expect(child.stdout.filter((text) => text.startsWith("EVENT HANDSHAKE"))).toEqual(["EVENT HANDSHAKE_SUCCEEDED 0"]);
    });

    it("a key outside libzmq's allow-list: libzmq reports HANDSHAKE_FAILED_AUTH 400, our call fails with a typed error", async () => {
      const { endpoint: backend } = await serve({ transport: zmtp() });
      const { child, endpoint } = await proxy(["front", LOOPBACK, backend, keys.server.secretKey, keys.client.publicKey]);
      const refused = await client(endpoint, { transport: zmtp({ curve: { serverKey: keys.server.publicKey, ...keys.stranger } }), timeoutMs: 60_000 });
      expectHandshakeError(await rejection(refused.call("add", [1, 2])), /refused|auth/i);
      expect(await line(child, "EVENT HANDSHAKE_FAILED_AUTH")).toBe("EVENT HANDSHAKE_FAILED_AUTH 400");
      const allowed = await client(endpoint, { transport: zmtp({ curve: { serverKey: keys.server.publicKey, ...keys.client } }), timeoutMs: 30_000 });
      expect(await allowed.call("add", [40, 2])).toBe(42);
    });

    it("a wrong server key: libzmq cannot open our HELLO, our call fails with a typed error", async () => {
      const { endpoint: backend } = await serve({ transport: zmtp() });
      const { child, endpoint } = await proxy(["front", LOOPBACK, backend, keys.stranger.secretKey]);
      const wrong = await client(endpoint, { transport: zmtp({ curve: { serverKey: keys.server.publicKey, ...keys.client } }), timeoutMs: 60_000 });
      expectHandshakeError(await rejection(wrong.call("add", [1, 2])), /serverKey|server key|key/i);
      await line(child, "EVENT HANDSHAKE_FAILED_PROTOCOL");
      expect(child.stdout.filter((text) => text.startsWith("EVENT HANDSHAKE_SUCCEEDED"))).toEqual([]);
    });
  });

  describe("our plaintext client -> plain ROUTER -> libzmq CURVE DEALER -> our CURVE server", () => {
    const curveServer = (allowed: CurveKeyPair[]) =>
      serve({ transport: zmtp({ curve: { ...keys.server, allowedClientKeys: allowed.map((pair) => pair.publicKey) } }) });

    it(`calls, a ${STREAM_ITEMS.toLocaleString("en-US")}-item stream and an 8 MiB echo`, async () => {
      const { endpoint: backend, warnings } = await curveServer([keys.client]);
      const { child, endpoint } = await proxy(["back", LOOPBACK, backend, keys.server.publicKey, keys.client.publicKey, keys.client.secretKey]);
      const rpc = await client(endpoint, { transport: zmtp(), timeoutMs: 30_000 });
      await exercise(rpc);
      expect(child.stdout.filter((text) => text.startsWith("EVENT HANDSHAKE"))).toEqual(["EVENT HANDSHAKE_SUCCEEDED 0"]);
      expect(warnings.lines).toEqual([]);
    });

    it("libzmq's key outside allowedClientKeys: libzmq reports HANDSHAKE_FAILED_AUTH 400, our server reports the key, no call gets through", async () => {
      const { endpoint: backend, warnings } = await curveServer([keys.client]);
      const { child, endpoint } = await proxy(["back", LOOPBACK, backend, keys.server.publicKey, keys.stranger.publicKey, keys.stranger.secretKey]);
      const rpc = await client(endpoint, { transport: zmtp(), timeoutMs: 1500 });
      const call = rejection(rpc.call("add", [1, 2]));
      expect(await line(child, "EVENT HANDSHAKE_FAILED_AUTH")).toBe("EVENT HANDSHAKE_FAILED_AUTH 400");
      expect(await warnings.first((text) => text.includes(keys.stranger.publicKey))).toMatch(/refused|auth/i);
      // The plaintext client cannot see the refusal behind the proxy: its call times out.
      expect(await call).toBeInstanceOf(TimeoutExpired);
    });

    it("libzmq with a wrong server key fails its handshake; our server reports it and keeps serving a good client", async () => {
      const { endpoint: backend, warnings } = await curveServer([keys.client]);
      const { child } = await proxy(["back", LOOPBACK, backend, keys.stranger.publicKey, keys.client.publicKey, keys.client.secretKey]);
      await line(child, "EVENT HANDSHAKE_FAILED_");
      expect(await warnings.first(() => true)).toMatch(/key|protocol|handshake/i);
      expect(child.stdout.filter((text) => text.startsWith("EVENT HANDSHAKE_SUCCEEDED"))).toEqual([]);
      const good = await client(backend, { transport: zmtp({ curve: { serverKey: keys.server.publicKey, ...keys.client } }), timeoutMs: 30_000 });
      expect(await good.call("add", [20, 22])).toBe(42);
    });
  });
});
