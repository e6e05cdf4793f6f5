// ZMTP-CURVE interop with libzmq through pyzmq (Debian's python3-zmq), both directions: our CURVE
// client against a libzmq CURVE server (fixtures/pyzmq_curve_server.py, with pyzmq's ZAP
// ThreadAuthenticator as allow-list) and libzmq CURVE clients (fixtures/pyzmq_curve_client.py)
// against our CURVE server. The fixtures print libzmq's socket monitor events, so refusals are
// checked from libzmq's side too. A missing python3 or pyzmq fails these tests (no skipping).
import { Buffer } from "node:buffer";
import { z85Decode } from "@zrpc/channel";
import { beforeAll, describe, expect, it } from "vitest";
import { bindRouter, connectDealer, createZmtpTransport, curveKeyPair } from "../src/index.js";
import type { CurveKeyPair } from "../src/index.js";
import { LOOPBACK, authFailures, bytes, pattern, reader, text, track } from "./helpers.js";
import { findCurvePython, messageDigest, runPython } from "./python-fixture.js";
import type { PythonChild } from "./python-fixture.js";

const MiB = 1024 * 1024;
const BURST = 10_000;

/** The payloads both sides exchange, as the Python client builds them (its 8 MiB is 0..255 repeated). */
const SHAPES: { name: string; payload: Buffer }[] = [
  { name: "0-byte", payload: Buffer.alloc(0) },
  { name: "1-byte", payload: Buffer.from([0x7f]) },
  { name: "255-byte", payload: pattern(255, 1) },
  { name: "256-byte", payload: pattern(256, 2) },
  { name: "8 MiB", payload: Buffer.from(Array.from({ length: 8 * MiB }, (_, i) => i & 0xff)) },
];

/** What the Python DEALER client prints when every check passed. */
const CLIENT_CHECKS = ["OK 0-byte", "OK 1-byte", "OK 255-byte", "OK 256-byte", "OK 8MiB", "OK multi-frame", "OK burst-in-order", "DONE"];

describe("ZMTP-CURVE interop with pyzmq (python3-zmq)", { timeout: 60_000 }, () => {
  let python = "";
  let server: CurveKeyPair;
  let client: CurveKeyPair;
  let stranger: CurveKeyPair;

  beforeAll(() => {
    const found = findCurvePython();
    if ("error" in found) throw new Error(found.error);
    python = found.python;
    server = curveKeyPair();
    client = curveKeyPair();
    stranger = curveKeyPair();
  });

  /** A pyzmq CURVE server of `kind` with our server key pair, optionally with a ZAP allow-list. */
  async function pyServer(kind: "router" | "pull", allowed?: string[], secretKey = server.secretKey): Promise<{ child: PythonChild; endpoint: string }> {
    const child = runPython(python, "pyzmq_curve_server.py", [kind, LOOPBACK, secretKey, ...(allowed === undefined ? [] : [allowed.join(",")])]);
    const endpoint = (await child.line("READY ")).slice("READY ".length).trim();
    return { child, endpoint };
  }

  describe("our CURVE client -> libzmq CURVE server", () => {
    it(`DEALER -> ROUTER behind a ZAP allow-list: 0/1/255/256-byte and 8 MiB payloads, a 4-frame reply, ${BURST} in order`, async () => {
      const py = await pyServer("router", [client.publicKey]);
      const dealer = track(await connectDealer(py.endpoint, { curve: { serverKey: server.publicKey, ...client } }));
      const fromDealer = reader(dealer);
      for (const shape of SHAPES) dealer.send(undefined, shape.payload);
      for (const shape of SHAPES) expect(Buffer.from((await fromDealer.next()).payload).equals(shape.payload), shape.name).toBe(true);
      // [x, y, "", multi-reply] from libzmq: the MORE flags live inside the encrypted MESSAGE boxes.
      dealer.send(undefined, bytes("MULTI"));
      expect(text((await fromDealer.next()).payload)).toBe("multi-reply");
      for (let i = 0; i < BURST; i++) dealer.send(undefined, bytes(`n${i}`));
      const replies = await fromDealer.take(BURST);
      expect(replies.map((reply) => text(reply.payload))).toEqual(Array.from({ length: BURST }, (_, i) => `n${i}`));
      dealer.send(undefined, bytes("STOP"));
      expect(text((await fromDealer.next()).payload)).toBe("STOP");
      const exit = await py.child.exited;
      expect(exit.code, exit.stderr).toBe(0);
      expect(exit.stdout.split("\n").filter((line) => line.startsWith("EVENT HANDSHAKE"))).toEqual(["EVENT HANDSHAKE_SUCCEEDED 0"]);
    });

    it("a client with a fresh key pair (no publicKey/secretKey) talks to a server without allow-list", async () => {
      const py = await pyServer("router");
      const dealer = track(await connectDealer(py.endpoint, { curve: { serverKey: server.publicKey } }));
      dealer.send(undefined, bytes("fresh"));
      expect(text((await reader(dealer).next()).payload)).toBe("fresh");
      await py.child.line("EVENT HANDSHAKE_SUCCEEDED");
    });

    it(`PUSH -> PULL: every payload and ${BURST} messages arrive intact and in order (digest checked by libzmq's side)`, async () => {
      const py = await pyServer("pull", [client.publicKey]);
      const push = track(await createZmtpTransport("push", { connect: py.endpoint, curve: { serverKey: server.publicKey, ...client } }));
      const sent: Uint8Array[][] = [];
      for (const shape of SHAPES) sent.push([shape.payload]);
      for (let i = 0; i < BURST; i++) sent.push([bytes(`n${i}`)]);
      for (const [payload] of sent) push.send(undefined, payload as Uint8Array);
      push.send(undefined, bytes("SUMMARY"));
      expect(await py.child.line("SUMMARY ")).toBe(`SUMMARY ${sent.length} ${messageDigest(sent)}`);
    });

    it("a key outside libzmq's ZAP allow-list is refused: we report kind auth and close; libzmq reports HANDSHAKE_FAILED_AUTH 400", async () => {
      const py = await pyServer("router", [client.publicKey]);
      const seen = authFailures();
      const refused = track(
        await connectDealer(py.endpoint, {
          curve: { serverKey: server.publicKey, ...stranger },
          onAuthFailure: seen.push,
          closeOnAuthFailure: true,
        }),
      );
      refused.send(undefined, bytes("let me in"));
      expect(await py.child.line("EVENT HANDSHAKE_FAILED_AUTH")).toBe("EVENT HANDSHAKE_FAILED_AUTH 400");
      const failure = await seen.first();
      expect(failure.kind).toBe("auth");
      expect(failure.address).toContain("127.0.0.1");
      expect(failure.message.length).toBeGreaterThan(0);
      const closedWith = await refused.closed;
      expect(closedWith).toBeInstanceOf(Error);
      expect(() => refused.send(undefined, bytes("again"))).toThrow();
      // The server got nothing from the refused client and still serves the allowed one.
      const allowed = track(await connectDealer(py.endpoint, { curve: { serverKey: server.publicKey, ...client } }));
      const fromAllowed = reader(allowed);
      allowed.send(undefined, bytes("me?"));
      expect(text((await fromAllowed.next()).payload)).toBe("me?");
      allowed.send(undefined, bytes("STOP"));
      expect(text((await fromAllowed.next()).payload)).toBe("STOP");
      expect((await py.child.exited).code).toBe(0);
    });

    it("a wrong server key: libzmq cannot open our HELLO, our transport reports the failure, delivers nothing and closes cleanly", async () => {
      const py = await pyServer("router", undefined, stranger.secretKey);
      const seen = authFailures();
      const dealer = await connectDealer(py.endpoint, { curve: { serverKey: server.publicKey, ...client }, onAuthFailure: seen.push });
      track(dealer);
      dealer.send(undefined, bytes("for the real server only"));
      await py.child.line("EVENT HANDSHAKE_FAILED_PROTOCOL");
      const failure = await seen.first();
      expect(["other", "protocol"]).toContain(failure.kind);
      expect(failure.message.length).toBeGreaterThan(0);
      await dealer.close();
      expect(py.child.lines().filter((line) => line.startsWith("EVENT HANDSHAKE_SUCCEEDED"))).toEqual([]);
      const exit = await py.child.stop();
      expect(exit.code).toBe(0);
    });
  });

  describe("libzmq CURVE client -> our CURVE server", () => {
    it(`DEALER -> our ROUTER (allowedClientKeys): every check of the Python client passes (8 MiB, 4 frames, ${BURST} in order)`, async () => {
      const seen = authFailures();
      const router = track(await bindRouter(LOOPBACK, { curve: { ...server, allowedClientKeys: [client.publicKey] }, onAuthFailure: seen.push }));
      router.onMessage((peer, payload) => router.send(peer, payload));
      const py = runPython(python, "pyzmq_curve_client.py", ["dealer", router.endpoints[0] as string, server.publicKey, client.publicKey, client.secretKey]);
      const exit = await py.exited;
      expect(exit.stdout).not.toContain("FAIL");
      expect(exit.code, exit.stdout + exit.stderr).toBe(0);
      expect(exit.stdout.split("\n").filter((line) => line.startsWith("OK ") || line === "DONE")).toEqual(CLIENT_CHECKS);
      expect(exit.stdout).toContain("EVENT HANDSHAKE_SUCCEEDED 0");
      expect(seen.list).toEqual([]);
    });

    it("secret key given as 32 bytes, any client accepted: a libzmq client with a fresh key pair passes the checks", async () => {
      const router = track(await bindRouter(LOOPBACK, { curve: { secretKey: Buffer.from(z85Decode(server.secretKey)) } }));
      router.onMessage((peer, payload) => router.send(peer, payload));
      const py = runPython(python, "pyzmq_curve_client.py", ["dealer", router.endpoints[0] as string, server.publicKey]);
      const exit = await py.exited;
      expect(exit.code, exit.stdout + exit.stderr).toBe(0);
      expect(exit.stdout.split("\n").filter((line) => line.startsWith("OK ") || line === "DONE")).toEqual(CLIENT_CHECKS);
    });

    it(`PUSH -> our PULL: every payload, then ${BURST} messages in order`, async () => {
      const pull = track(await createZmtpTransport("pull", { bind: LOOPBACK, curve: { ...server, allowedClientKeys: [client.publicKey] } }));
      const fromPull = reader(pull);
      const py = runPython(python, "pyzmq_curve_client.py", ["push", pull.endpoints[0] as string, server.publicKey, client.publicKey, client.secretKey]);
      for (const shape of SHAPES) expect(Buffer.from((await fromPull.next()).payload).equals(shape.payload), shape.name).toBe(true);
      const burst = await fromPull.take(BURST);
      expect(burst.map((message) => text(message.payload))).toEqual(Array.from({ length: BURST }, (_, i) => `n${i}`));
      const exit = await py.exited;
      expect(exit.code, exit.stderr).toBe(0);
      expect(exit.stdout).toContain("DONE");
    });

    it("a key outside allowedClientKeys: libzmq reports HANDSHAKE_FAILED_AUTH 400, we report the key; the server keeps serving", async () => {
      const seen = authFailures();
      const router = track(await bindRouter(LOOPBACK, { curve: { ...server, allowedClientKeys: [client.publicKey] }, onAuthFailure: seen.push }));
      const fromRouter = reader(router);
      const endpoint = router.endpoints[0] as string;
      const refused = runPython(python, "pyzmq_curve_client.py", ["watch", endpoint, server.publicKey, stranger.publicKey, stranger.secretKey]);
      expect(await refused.line("EVENT HANDSHAKE_FAILED_AUTH")).toBe("EVENT HANDSHAKE_FAILED_AUTH 400");
      const failure = await seen.first();
      expect(failure).toMatchObject({ kind: "auth", publicKey: stranger.publicKey });
      expect(failure.message).toContain(stranger.publicKey);
      expect((await refused.stop()).stdout).not.toContain("HANDSHAKE_SUCCEEDED");
      // The refused client's queued message never arrived; an allowed client's does.
      const allowed = runPython(python, "pyzmq_curve_client.py", ["watch", endpoint, server.publicKey, client.publicKey, client.secretKey]);
      await allowed.line("EVENT HANDSHAKE_SUCCEEDED");
      expect(text((await fromRouter.next()).payload)).toBe("let me in");
      expect(seen.list.every((each) => each.publicKey === stranger.publicKey)).toBe(true);
      await allowed.stop();
    });

    it("an async authorize hook refusing a key: libzmq sees HANDSHAKE_FAILED_AUTH; accepting one: the client gets through", async () => {
      const asked: string[] = [];
      const router = track(
        await bindRouter(LOOPBACK, {
          curve: {
            ...server,
            authorize: async ({ publicKey }) => {
              asked.push(publicKey);
              await Promise.resolve();
              return publicKey === client.publicKey;
            },
          },
        }),
      );
      const endpoint = router.endpoints[0] as string;
      const refused = runPython(python, "pyzmq_curve_client.py", ["watch", endpoint, server.publicKey, stranger.publicKey, stranger.secretKey]);
      expect(await refused.line("EVENT HANDSHAKE_FAILED_AUTH")).toBe("EVENT HANDSHAKE_FAILED_AUTH 400");
      await refused.stop();
      const allowed = runPython(python, "pyzmq_curve_client.py", ["watch", endpoint, server.publicKey, client.publicKey, client.secretKey]);
      await allowed.line("EVENT HANDSHAKE_SUCCEEDED");
      expect(text((await reader(router).next()).payload)).toBe("let me in");
      expect(asked).toContain(stranger.publicKey);
      expect(asked).toContain(client.publicKey);
      await allowed.stop();
    });

    it("a libzmq client with a wrong server key fails its handshake; our server reports it and keeps serving a good client", async () => {
      const seen = authFailures();
      const router = track(await bindRouter(LOOPBACK, { curve: { ...server, allowedClientKeys: [client.publicKey] }, onAuthFailure: seen.push }));
      router.onMessage((peer, payload) => router.send(peer, payload));
      const endpoint = router.endpoints[0] as string;
      const wrong = runPython(python, "pyzmq_curve_client.py", ["watch", endpoint, stranger.publicKey, client.publicKey, client.secretKey]);
      // libzmq's own server hangs up on a HELLO it cannot open: its client reports
      // HANDSHAKE_FAILED_NO_DETAIL and retries. (An ERROR command whose reason is not a ZAP status
      // would leave libzmq with a bare disconnect, no handshake event, and no more retries.)
      await wrong.line("EVENT HANDSHAKE_FAILED_");
      expect(["other", "protocol"]).toContain((await seen.first()).kind);
      expect((await wrong.stop()).stdout).not.toContain("HANDSHAKE_SUCCEEDED");
      expect(router.peers).toBe(0);
      const good = runPython(python, "pyzmq_curve_client.py", ["dealer", endpoint, server.publicKey, client.publicKey, client.secretKey]);
      const exit = await good.exited;
      expect(exit.code, exit.stdout + exit.stderr).toBe(0);
      expect(exit.stdout.split("\n").filter((line) => line.startsWith("OK ") || line === "DONE")).toEqual(CLIENT_CHECKS);
    });
  });
});

