// Issue #20: this transport on the shared CURVE contract of @zrpc/channel: keys as bytes, the
// async authorize hook in the ZAP handler, and the caller's `curve` (TransportDefaults.curve)
// reaching the factory, whose own `curve` wins.
import { z85Decode } from "@zrpc/channel";
import type { CurveClientIdentity, Transport, TransportAuthFailure, TransportMessage } from "@zrpc/channel";
import { reader as readIterable } from "@zrpc/test-support";
import { describe, expect, it } from "vitest";
import { TransportError, bindRouter, connectDealer, curveKeyPair, isCurveKey, zeromq } from "../src/index.js";
import type { CurveServerOptions } from "../src/index.js";
import { LOOPBACK, bytes, text, track } from "./helpers.js";

/** The (only) iterator of a transport, wrapped. */
const reader = (transport: Transport): ReturnType<typeof readIterable<TransportMessage>> => readIterable<TransportMessage>(transport);

/** Collects failures; `next()` resolves with the first one reported after it was called. */
function failureLog(): { readonly failures: TransportAuthFailure[]; readonly onAuthFailure: (failure: TransportAuthFailure) => void; next(): Promise<TransportAuthFailure> } {
  const failures: TransportAuthFailure[] = [];
  const waiting: ((failure: TransportAuthFailure) => void)[] = [];
  return {
    failures,
    onAuthFailure(failure) {
      failures.push(failure);
      for (const resolve of waiting.splice(0)) resolve(failure);
    },
    next: () => new Promise((resolve) => waiting.push(resolve)),
  };
}

/** Sends `message` from `dealer` and expects the router to receive it. */
async function roundTrip(router: Transport, dealer: Transport, message: string): Promise<void> {
  dealer.send(undefined, bytes(message));
  expect(text((await reader(router).next()).payload)).toBe(message);
}

describe("CURVE on the shared contract", () => {
  it("takes keys as 32 bytes as well as Z85 text", async () => {
    const server = curveKeyPair();
    const client = curveKeyPair();
    expect(isCurveKey(z85Decode(server.publicKey))).toBe(true);
    const router = track(
      await bindRouter(LOOPBACK, {
        curve: { secretKey: z85Decode(server.secretKey), allowedClientKeys: [z85Decode(client.publicKey)] },
      }),
    );
    const dealer = track(
      await connectDealer(router.endpoints[0]!, {
        curve: { serverKey: z85Decode(server.publicKey), publicKey: z85Decode(client.publicKey), secretKey: client.secretKey },
      }),
    );
    await roundTrip(router, dealer, "bytes");
  });

  it("asks an async authorize hook after allowedClientKeys, with the client's key and address", async () => {
    const server = curveKeyPair();
    const friend = curveKeyPair();
    const listedButRefused = curveKeyPair();
    const unlisted = curveKeyPair();
    const asked: CurveClientIdentity[] = [];
    const log = failureLog();
    const router = track(
      await bindRouter(LOOPBACK, {
        curve: {
          ...server,
          allowedClientKeys: [friend.publicKey, listedButRefused.publicKey],
          authorize: async (client) => {
            asked.push(client);
            await Promise.resolve();
            return client.publicKey === friend.publicKey;
          },
        },
        onAuthFailure: log.onAuthFailure,
      }),
    );
    const endpoint = router.endpoints[0]!;
    await roundTrip(router, track(await connectDealer(endpoint, { curve: { serverKey: server.publicKey, ...friend } })), "friend");
    expect(asked).toEqual([{ publicKey: friend.publicKey, address: "127.0.0.1" }]);

    const refusedByHook = log.next();
    const refused = track(await connectDealer(endpoint, { curve: { serverKey: server.publicKey, ...listedButRefused } }));
    refused.send(undefined, bytes("let me in"));
    expect(await refusedByHook).toMatchObject({ kind: "auth", publicKey: listedButRefused.publicKey, address: "127.0.0.1" });
    expect(log.failures[0]!.message).toContain("refused by authorize");
    const closedWith = await refused.closed;
    expect(closedWith).toBeInstanceOf(TransportError);
    expect(closedWith!.message).toMatch(/refused this client's key/);

    const refusedByList = log.next();
    const stranger = track(await connectDealer(endpoint, { curve: { serverKey: server.publicKey, ...unlisted } }));
    stranger.send(undefined, bytes("me too"));
    expect((await refusedByList).message).toContain("not in allowedClientKeys");
    // The hook was not asked about a key the list refused.
    expect(asked.map((client) => client.publicKey)).not.toContain(unlisted.publicKey);
  });

  it("refuses a client whose authorize hook throws or rejects, and says so", async () => {
    const server = curveKeyPair();
    const log = failureLog();
    const router = track(
      await bindRouter(LOOPBACK, {
        curve: {
          secretKey: server.secretKey,
          authorize: () => Promise.reject(new Error("directory unavailable")),
        },
        onAuthFailure: log.onAuthFailure,
      }),
    );
    const first = log.next();
    const dealer = track(await connectDealer(router.endpoints[0]!, { curve: { serverKey: server.publicKey } }));
    dealer.send(undefined, bytes("x"));
    expect((await first).message).toContain("authorize threw: directory unavailable");
    expect(await dealer.closed).toBeInstanceOf(TransportError);
  });

  it("a slow authorize decision does not hold up other clients' handshakes", async () => {
    const server = curveKeyPair();
    const slow = curveKeyPair();
    const fast = curveKeyPair();
    let release!: (ok: boolean) => void;
    const decision = new Promise<boolean>((resolve) => (release = resolve));
    let slowAsked!: () => void;
    const slowWaiting = new Promise<void>((resolve) => (slowAsked = resolve));
    const router = track(
      await bindRouter(LOOPBACK, {
        curve: {
          ...server,
          authorize: ({ publicKey }) => {
            if (publicKey !== slow.publicKey) return true;
            slowAsked();
            return decision;
          },
        },
      }),
    );
    const routerIn = reader(router);
    const slowDealer = track(await connectDealer(router.endpoints[0]!, { curve: { serverKey: server.publicKey, ...slow } }));
    slowDealer.send(undefined, bytes("slow"));
    await slowWaiting;
    const fastDealer = track(await connectDealer(router.endpoints[0]!, { curve: { serverKey: server.publicKey, ...fast } }));
    fastDealer.send(undefined, bytes("fast"));
    expect(text((await routerIn.next()).payload)).toBe("fast");
    release(true);
    expect(text((await routerIn.next()).payload)).toBe("slow");
  });

  it("the factory opens sockets with the caller's curve (TransportDefaults.curve)", async () => {
    const server = curveKeyPair();
    const client = curveKeyPair();
    const log = failureLog();
    const factory = zeromq();
    const serverCurve: CurveServerOptions = { secretKey: server.secretKey, allowedClientKeys: [client.publicKey] };
    const router = track(await factory.open("router", "bind", LOOPBACK, { curve: serverCurve, onAuthFailure: log.onAuthFailure }));
    const dealer = track(await factory.open("dealer", "connect", router.endpoints[0]!, { curve: { serverKey: server.publicKey, ...client } }));
    dealer.send(undefined, bytes("via defaults"));
    expect(text((await reader(router).next()).payload)).toBe("via defaults");
    // The server really is a CURVE server with that allow-list: a stranger is refused and the
    // caller's onAuthFailure hears of it.
    const refused = log.next();
    const stranger = track(await factory.open("dealer", "connect", router.endpoints[0]!, { curve: { serverKey: server.publicKey } }));
    stranger.send(undefined, bytes("x"));
    expect(await refused).toMatchObject({ kind: "auth" });
  });

  it("the factory's own curve wins over the caller's", async () => {
    const own = curveKeyPair();
    const callers = curveKeyPair();
    const router = track(await zeromq({ curve: { secretKey: own.secretKey } }).open("router", "bind", LOOPBACK, { curve: { secretKey: callers.secretKey } }));
    // A client of the caller's key fails its handshake; the factory's key works.
    const log = failureLog();
    const wrongKey = log.next();
    const wrong = track(
      await zeromq({ onAuthFailure: log.onAuthFailure }).open("dealer", "connect", router.endpoints[0]!, { curve: { serverKey: callers.publicKey } }),
    );
    wrong.send(undefined, bytes("x"));
    expect((await wrongKey).message).toContain("curve.serverKey");
    const dealer = track(
      await zeromq({ curve: { serverKey: own.publicKey } }).open("dealer", "connect", router.endpoints[0]!, { curve: { serverKey: callers.publicKey } }),
    );
    await roundTrip(router, dealer, "own key");
  });

  it("rejects a malformed key of the caller's curve when opening", async () => {
    await expect(zeromq().open("router", "bind", LOOPBACK, { curve: { secretKey: new Uint8Array(31) } })).rejects.toThrow(
      /curve\.secretKey must be a CURVE key: 32 bytes or 40 characters of Z85, got 31 bytes/,
    );
    await expect(
      zeromq().open("router", "bind", LOOPBACK, { curve: { secretKey: curveKeyPair().secretKey, authorize: "yes" as never } }),
    ).rejects.toThrow(/curve\.authorize must be a function/);
  });
});
