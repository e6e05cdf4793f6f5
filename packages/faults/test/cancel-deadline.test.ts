// Cancellation and deadlines across processes: with zrpc's extensions a client's abort or timeout
// stops the server's handler at once; without them (what a zerorpc-python server gets) the
// server notices the missing heartbeats 2-3 intervals later.
import { describe, expect, it } from "vitest";
import { CanceledError, TimeoutExpired, connect } from "@zrpc/client";
import { kill, report, startServer } from "./helpers.js";

const F = 300;

describe("cancellation and deadlines", () => {
  it("abort and timeout reach the handler at once with the extensions, after 2-3 intervals without", async () => {
    const server = await startServer({ heartbeatMs: F });
    const aborted = (n: number) => server.waitFor((e) => e.type === "aborted" && server.events.filter((x) => x.type === "aborted").indexOf(e) === n, 10_000);

    // With the extensions: the first call teaches the client that the server can cancel.
    const modern = await connect(server.endpoint, { heartbeatMs: F, extensions: true });
    expect(await modern.call("add", [1, 1])).toBe(2);
    const controller = new AbortController();
    const cancelled = modern.call("wait", [], { signal: controller.signal }).catch((error: unknown) => error);
    await new Promise((resolve) => setTimeout(resolve, 100));
    controller.abort();
    expect(await cancelled).toBeInstanceOf(CanceledError);
    const onCancel = await aborted(0);
    const timedOut = await modern.call("wait", [], { timeoutMs: 200 }).catch((error: unknown) => error);
    expect(timedOut).toBeInstanceOf(TimeoutExpired);
    const onDeadline = await aborted(1);
    await modern.close();

    // Without them: the client only stops heartbeating the call.
    const legacy = await connect(server.endpoint, { heartbeatMs: F });
    const legacyController = new AbortController();
    const legacyCall = legacy.call("wait", [], { signal: legacyController.signal }).catch((error: unknown) => error);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const abortAt = Date.now();
    legacyController.abort();
    expect(await legacyCall).toBeInstanceOf(CanceledError);
    const onLoss = await aborted(2);
    const lossMs = Date.now() - abortAt;
    await legacy.close();
    await kill(server, "SIGTERM");

    report(
      `cancel (heartbeat ${F} ms): with extensions the handler saw ${String(onCancel.reason)} ${String(onCancel.ms)} ms into the call ` +
        `(aborted at ~100 ms) and ${String(onDeadline.reason)} at ${String(onDeadline.ms)} ms (timeout 200 ms); without them ` +
        `${String(onLoss.reason)} ${lossMs} ms after the abort (2-3 intervals = ${2 * F}-${3 * F} ms)`,
    );
    expect(onCancel.reason).toBe("CallCanceled");
    expect(onCancel.ms as number).toBeLessThan(100 + F);
    expect(onDeadline.reason).toBe("DeadlineExceeded");
    expect(onDeadline.ms as number).toBeLessThan(200 + F);
    expect(onLoss.reason).toBe("LostRemote");
    // The server declares the client lost 2-3 intervals after its last heartbeat, which went out
    // at most one interval before the abort.
    expect(lossMs).toBeGreaterThanOrEqual(F / 2);
    expect(lossMs).toBeLessThanOrEqual(3 * F + 250);
  });
});
