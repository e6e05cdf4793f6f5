// CURVE across processes: an allowed client calls, an unknown key and plaintext are refused.
import { describe, expect, it } from "vitest";
import { TimeoutExpired, ZrpcError, connect } from "@zrpc/client";
import { curveKeyPair, zeromq } from "@zrpc/transport-zeromq";
import { kill, report, startServer, until } from "./helpers.js";

describe("CURVE", () => {
  it("an allowed client calls; an unknown key and a plaintext client are refused, with clear errors", async () => {
    const serverKeys = curveKeyPair();
    const allowed = curveKeyPair();
    const stranger = curveKeyPair();
    const server = await startServer({ heartbeatMs: 1000, curve: { ...serverKeys, allowedClientKeys: [allowed.publicKey] } });

    const good = await connect(server.endpoint, { transport: zeromq({ curve: { serverKey: serverKeys.publicKey, ...allowed } }) });
    expect(await good.call("add", [20, 22])).toBe(42);
    let items = 0;
    for await (const item of good.stream<number>("range", [500])) items += item === items ? 1 : 0;
    expect(items).toBe(500);

    // An unknown key: the handshake fails, the client's transport closes and the call says why.
    const bad = await connect(server.endpoint, { transport: zeromq({ curve: { serverKey: serverKeys.publicKey, ...stranger } }) });
    let started = performance.now();
    const refused = await bad.call("add", [1, 2], { timeoutMs: 10_000 }).then(
      () => undefined,
      (error: unknown) => error,
    );
    const refusedMs = performance.now() - started;
    expect(refused).toBeInstanceOf(ZrpcError);
    expect(refused).toMatchObject({ code: "connect" });
    expect((refused as Error).message).toMatch(/CURVE authentication failed: the server at tcp:\/\/127\.0\.0\.1:\d+ refused this client's key/);
    await until(() => bad.isClosed, 5_000, "client closed");
    // Later calls say why the client is closed.
    await expect(bad.call("add", [1, 2])).rejects.toThrow(/the client is closed \(.*CURVE authentication failed/);
    await until(() => server.events.some((e) => e.type === "warn" && String(e.message).includes(stranger.publicKey)), 5_000, "server warning");
    await bad.close();

    // Plaintext: a default client gets nothing through and times out ...
    const plain = await connect(server.endpoint);
    const timedOut = await plain.call("add", [1, 2], { timeoutMs: 500 }).catch((error: unknown) => error);
    expect(timedOut).toBeInstanceOf(TimeoutExpired);
    await plain.close();
    // ... and one that asks for it fails at once, saying the mechanisms differ.
    const strict = await connect(server.endpoint, { transport: zeromq({ closeOnAuthFailure: true }) });
    started = performance.now();
    const mismatch = await strict.call("add", [1, 2], { timeoutMs: 10_000 }).catch((error: unknown) => error);
    const mismatchMs = performance.now() - started;
    expect(mismatch).toMatchObject({ code: "connect" });
    // Whichever side notices the mismatch first: the client's libzmq names it, or the server
    // hangs up and the client's ConnectError (after connectTimeoutMs) says what that can mean.
    expect((mismatch as Error).message).toMatch(/ERR_ZMTP_MECHANISM_MISMATCH|requires a security mechanism this client does not use, such as CURVE/);
    await strict.close();

    // The allowed client was never disturbed, and the server ran only its calls.
    expect(await good.call("add", [1, 1])).toBe(2);
    const stats = await good.call<{ runs: number }>("faultsStats");
    expect(stats.runs).toBe(3); // add, range, add (faultsStats itself is not counted)
    await good.close();
    const warnings = server.events.filter((e) => e.type === "warn").map((e) => String(e.message));
    report(
      `CURVE: allowed client served; unknown key refused in ${refusedMs.toFixed(0)} ms (client error: "${(refused as Error).message}"); ` +
        `plaintext client timed out (default) or failed in ${mismatchMs.toFixed(0)} ms with closeOnAuthFailure; ` +
        `server warnings: ${warnings.length} (${warnings.filter((w) => w.includes("refused client key")).length} naming a refused key)`,
    );
    await kill(server, "SIGTERM");
  });
});
