// Issue #18: a pool whose endpoint refuses connections gives its callers the client's
// ConnectError (not a PoolTimeoutError after acquireTimeoutMs) within about connectTimeoutMs,
// ejects the endpoint, and uses it again once a server is up there. Real sockets on loopback.
import { afterEach, describe, expect, it } from "vitest";
import { ConnectError } from "@zrpc/client";
import { freeEndpoint, timedRejection } from "@zrpc/test-support";
import { PoolTimeoutError, createPool } from "../src/index.js";
import { EventLog, closeAll, startServer, trackPool } from "./helpers.js";

afterEach(closeAll);

describe("a pool whose endpoint refuses connections", () => {
  it("fails calls with ConnectError within about connectTimeoutMs, ejects the endpoint, and uses it again once it is up", async () => {
    const endpoint = await freeEndpoint();
    const log = new EventLog();
    const pool = trackPool(createPool({ endpoints: endpoint, heartbeatMs: 1000, ejection: { baseMs: 200, maxMs: 400 }, onEvent: log.onEvent }));

    // The first call opens a connection, which finds no server within the client's 1 s.
    const first = await timedRejection(pool.call("whoami"));
    expect(first.error).toBeInstanceOf(ConnectError);
    expect((first.error as ConnectError).message).toBe(`cannot connect to ${endpoint}: connection refused (ECONNREFUSED)`);
    expect(first.ms).toBeLessThan(3000);
    const eject = await log.waitFor((event) => event.type === "eject");
    expect(eject).toMatchObject({ endpoint });
    expect((eject as { error?: unknown }).error).toBeInstanceOf(ConnectError);
    expect(log.of("evict").map((event) => event.reason)).toContain("connect");

    // With the endpoint ejected, a caller gets the ConnectError too, not a PoolTimeoutError after
    // acquireTimeoutMs (20 s by default).
    const second = await timedRejection(pool.call("whoami"));
    expect(second.error).toBeInstanceOf(ConnectError);
    expect(second.error).not.toBeInstanceOf(PoolTimeoutError);
    expect(second.ms).toBeLessThan(3000);
    expect(pool.metrics().endpoints[0]!.state).toBe("ejected");

    // A server comes up there: a probe brings the endpoint back, and calls work again.
    await log.waitFor((event) => event.type === "probe-failed");
    await startServer("late", { bind: endpoint });
    await log.waitFor((event) => event.type === "recover");
    await expect(pool.call("whoami")).resolves.toBe("late");
  }, 20_000);

  it("with a live endpoint next to it, retries move refused calls there", async () => {
    const refused = await freeEndpoint();
    const live = await startServer("live");
    const log = new EventLog();
    const pool = trackPool(createPool({ endpoints: [refused, live.endpoint], heartbeatMs: 1000, retries: 1, onEvent: log.onEvent }));
    const answers = await Promise.all(Array.from({ length: 6 }, () => pool.call<string>("whoami")));
    expect(answers).toEqual(Array.from({ length: 6 }, () => "live"));
    await log.waitFor((event) => event.type === "eject" && event.endpoint === refused);
  }, 20_000);

  it("a caller waiting while every endpoint refuses is served when one recovers within connectTimeoutMs", async () => {
    const endpoint = await freeEndpoint();
    const log = new EventLog();
    const pool = trackPool(
      createPool({ endpoints: endpoint, heartbeatMs: 1000, connectTimeoutMs: 2000, ejection: { baseMs: 100, maxMs: 200 }, onEvent: log.onEvent }),
    );
    const first = await timedRejection(pool.call("whoami"));
    expect(first.error).toBeInstanceOf(ConnectError);
    // The endpoint is ejected: the next caller waits (up to connectTimeoutMs) for it to recover,
    // which the probe after the 100 ms backoff finds once the server is up.
    const second = pool.call("whoami");
    await log.waitFor((event) => event.type === "eject");
    await startServer("late", { bind: endpoint });
    await expect(second).resolves.toBe("late");
  }, 20_000);
});
