// Issue #12: CURVE encryption and authentication (ZMTP-CURVE + a ZAP allow-list).
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { TransportError, bindRouter, connectDealer, createZeromqTransport, curveKeyPair, isCurveKey } from "../src/index.js";
import type { AuthFailure } from "../src/index.js";
import { z85Encode } from "@zrpc/channel";
import { LOOPBACK, bytes, reader, text, track } from "./helpers.js";

/** Resolves with the first failure reported, or rejects after `ms`. */
function firstFailure(failures: AuthFailure[], ms = 5_000): Promise<AuthFailure> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const check = (): void => {
      if (failures.length > 0) resolve(failures[0]!);
      else if (Date.now() - started > ms) reject(new Error("no auth failure reported"));
      else setTimeout(check, 10);
    };
    check();
  });
}

describe("CURVE", () => {
  it("curveKeyPair() makes Z85 keys; z85Encode follows RFC 32", () => {
    const pair = curveKeyPair();
    expect(isCurveKey(pair.publicKey)).toBe(true);
    expect(isCurveKey(pair.secretKey)).toBe(true);
    expect(pair.publicKey).not.toBe(pair.secretKey);
    expect(isCurveKey("x".repeat(39))).toBe(false);
    expect(isCurveKey(`${"x".repeat(39)}"`)).toBe(false);
    expect(isCurveKey(42)).toBe(false);
    // The test vector of ZeroMQ RFC 32.
    expect(z85Encode(Uint8Array.of(0x86, 0x4f, 0xd2, 0x6f, 0xb5, 0x59, 0xf7, 0x5b))).toBe("HelloWorld");
  });

  it("an allowed client talks; traffic needs the server's key", async () => {
    const server = curveKeyPair();
    const client = curveKeyPair();
    const failures: AuthFailure[] = [];
    const router = track(
      await bindRouter(LOOPBACK, {
        curve: { ...server, allowedClientKeys: [client.publicKey] },
        onAuthFailure: (failure) => failures.push(failure),
      }),
    );
    const dealer = track(await connectDealer(router.endpoints[0]!, { curve: { serverKey: server.publicKey, ...client } }));
    dealer.send(undefined, bytes("ping"));
    const request = await reader(router).next();
    expect(text(request.payload)).toBe("ping");
    router.send(request.peer, bytes("pong"));
    expect(text((await reader(dealer).next()).payload)).toBe("pong");
    expect(failures).toEqual([]);
  });

  it("a CURVE server without an allow-list accepts any client that knows its key (fresh client pair)", async () => {
    const server = curveKeyPair();
    const router = track(await bindRouter(LOOPBACK, { curve: { secretKey: server.secretKey } }));
    const dealer = track(await connectDealer(router.endpoints[0]!, { curve: { serverKey: server.publicKey } }));
    dealer.send(undefined, bytes("hi"));
    expect(text((await reader(router).next()).payload)).toBe("hi");
  });

  it("an unknown key is refused: the server reports the key, the client transport closes with a clear error", async () => {
    const server = curveKeyPair();
    const allowed = curveKeyPair();
    const stranger = curveKeyPair();
    const serverFailures: AuthFailure[] = [];
    const clientFailures: AuthFailure[] = [];
    const router = track(
      await bindRouter(LOOPBACK, {
        curve: { ...server, allowedClientKeys: (key) => key === allowed.publicKey },
        onAuthFailure: (failure) => serverFailures.push(failure),
      }),
    );
    const routerIn = reader(router);
    const dealer = track(
      await connectDealer(router.endpoints[0]!, {
        curve: { serverKey: server.publicKey, ...stranger },
        onAuthFailure: (failure) => clientFailures.push(failure),
      }),
    );
    const iterator = dealer[Symbol.asyncIterator]();
    const pending = iterator.next();
    dealer.send(undefined, bytes("let me in"));
    const error = await pending.then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(TransportError);
    expect(error).toMatchObject({ code: "connect" });
    expect((error as Error).message).toMatch(/CURVE authentication failed: the server at tcp:\/\/127\.0\.0\.1:\d+ refused this client's key/);
    expect(await dealer.closed).toBe(error);
    expect(await iterator.next()).toEqual({ done: true, value: undefined });
    expect(() => dealer.send(undefined, bytes("again"))).toThrow(TransportError);
    const refused = await firstFailure(serverFailures);
    expect(refused).toMatchObject({ kind: "auth", publicKey: stranger.publicKey, address: "127.0.0.1" });
    expect(refused.message).toContain(stranger.publicKey);
    expect(clientFailures.map((f) => f.kind)).toContain("auth");
    // The router never saw the message and still serves allowed clients.
    const good = track(await connectDealer(router.endpoints[0]!, { curve: { serverKey: server.publicKey, ...allowed } }));
    good.send(undefined, bytes("ok?"));
    expect(text((await routerIn.next()).payload)).toBe("ok?");
  });

  it("plaintext is refused by a CURVE server; a plaintext client that asks fails fast", async () => {
    const server = curveKeyPair();
    const serverFailures: AuthFailure[] = [];
    const router = track(
      await bindRouter(LOOPBACK, {
        curve: { ...server, allowedClientKeys: [] },
        onAuthFailure: (failure) => serverFailures.push(failure),
      }),
    );
    const routerIn = reader(router);
    const plain = track(await connectDealer(router.endpoints[0]!, { closeOnAuthFailure: true }));
    plain.send(undefined, bytes("hello?"));
    const error = await plain.closed;
    expect(error).toBeInstanceOf(TransportError);
    expect(error!.message).toMatch(/ERR_ZMTP_MECHANISM_MISMATCH.*another security mechanism/);
    expect((await firstFailure(serverFailures)).kind).toMatch(/protocol|other/);
    // Nothing got through.
    const raced = await Promise.race([routerIn.next().then(() => "message"), new Promise((r) => setTimeout(() => r("nothing"), 200))]);
    expect(raced).toBe("nothing");
  });

  it("a CURVE client with the wrong server key is reported (kind other) but keeps retrying", async () => {
    const server = curveKeyPair();
    const router = track(await bindRouter(LOOPBACK, { curve: { secretKey: server.secretKey } }));
    const failures: AuthFailure[] = [];
    const dealer = track(
      await connectDealer(router.endpoints[0]!, {
        curve: { serverKey: curveKeyPair().publicKey },
        onAuthFailure: (failure) => failures.push(failure),
      }),
    );
    dealer.send(undefined, bytes("x"));
    const failure = await firstFailure(failures);
    expect(failure.kind).toBe("other");
    expect(failure.message).toContain("curve.serverKey");
    let closed = false;
    void dealer.closed.then(() => (closed = true));
    await new Promise((r) => setTimeout(r, 50));
    expect(closed).toBe(false);
  });

  it("two CURVE servers with allow-lists coexist in one process (one ZAP handler per context)", async () => {
    const a = curveKeyPair();
    const b = curveKeyPair();
    const client = curveKeyPair();
    const routerA = track(await bindRouter(LOOPBACK, { curve: { ...a, allowedClientKeys: [client.publicKey] } }));
    const routerB = track(await bindRouter(LOOPBACK, { curve: { ...b, allowedClientKeys: [client.publicKey] } }));
    for (const [router, keys] of [[routerA, a], [routerB, b]] as const) {
      const dealer = track(await connectDealer(router.endpoints[0]!, { curve: { serverKey: keys.publicKey, ...client } }));
      dealer.send(undefined, bytes("both"));
      expect(text((await reader(router).next()).payload)).toBe("both");
    }
  });

  it("closed transports stop reading their monitors only when libzmq is done: other sockets keep working", async () => {
    // A closed socket lives on in libzmq (its linger period) and reports disconnects to its
    // monitor from the context's I/O thread with a blocking send: a monitor no longer read at
    // close() would block that thread, and every socket of the context with it.
    for (let i = 0; i < 20; i++) {
      const server = curveKeyPair();
      const router = await bindRouter(LOOPBACK, { curve: { secretKey: server.secretKey } });
      const dealers = await Promise.all(
        [1, 2, 3].map(() => connectDealer(router.endpoints[0]!, { curve: { serverKey: server.publicKey } })),
      );
      for (const dealer of dealers) dealer.send(undefined, bytes("hi"));
      await reader(router).take(3);
      await Promise.all([router.close(), ...dealers.map((dealer) => dealer.close())]);
    }
    const server = curveKeyPair();
    const router = track(await bindRouter(LOOPBACK, { curve: { secretKey: server.secretKey } }));
    const failures: AuthFailure[] = [];
    const wrong = track(
      await connectDealer(router.endpoints[0]!, { curve: { serverKey: curveKeyPair().publicKey }, onAuthFailure: (f) => failures.push(f) }),
    );
    wrong.send(undefined, bytes("x"));
    expect((await firstFailure(failures, 10_000)).kind).toBe("other");
    const good = track(await connectDealer(router.endpoints[0]!, { curve: { serverKey: server.publicKey } }));
    good.send(undefined, bytes("still served"));
    expect(text((await reader(router).next()).payload)).toBe("still served");
  });

  it("rejects malformed CURVE options", async () => {
    const pair = curveKeyPair();
    await expect(createZeromqTransport("router", { curve: { secretKey: "short" } })).rejects.toThrow(/40 characters of Z85/);
    await expect(createZeromqTransport("router", { curve: { ...pair, allowedClientKeys: ["nope"] } })).rejects.toThrow(/allowedClientKeys\[0\]/);
    await expect(createZeromqTransport("dealer", { curve: { serverKey: pair.publicKey, publicKey: pair.publicKey } })).rejects.toThrow(/go together/);
  });

  it("a process with CURVE transports exits by itself after closing them", async () => {
    const fixture = fileURLToPath(new URL("fixtures/curve-round-trip-then-exit.mjs", import.meta.url));
    const child = spawn(process.execPath, [fixture], { cwd: fileURLToPath(new URL("..", import.meta.url)), stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    const killer = setTimeout(() => child.kill("SIGKILL"), 15_000);
    const code = await new Promise<number | null>((resolve) => child.on("exit", (c) => resolve(c)));
    clearTimeout(killer);
    expect(stdout.trim()).toBe("pong refused");
    expect(code).toBe(0);
  });
});
