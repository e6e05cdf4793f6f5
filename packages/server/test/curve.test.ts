// Issue #20: the `curve` option of server.bind() / server.connect(): checked up front, handed to
// the transport factory (whose own curve wins), and refused handshakes logged, rate-limited.
import { afterEach, describe, expect, it } from "vitest";
import type { Clock, OpenedTransport, TransportAuthFailure, TransportDefaults, TransportFactory } from "@zrpc/channel";
import { connectDealer, zeromq } from "@zrpc/transport-zeromq";
import { zmtp } from "@zrpc/transport-zmtp";
import { createRegistry, createServer, curveKeyPair, curvePublicKey, isCurveKey } from "../src/index.js";
import type { Server } from "../src/index.js";
import { AUTH_FAILURE_LOG_LIMIT, AUTH_FAILURE_LOG_WINDOW_MS, AuthFailureLog, describeAuthFailure } from "../src/auth-log.js";

const LOOPBACK = "tcp://127.0.0.1:0";

const opened: { close(): unknown }[] = [];
afterEach(async () => {
  for (const resource of opened.splice(0).reverse()) await resource.close();
});
function track<T extends { close(): unknown }>(resource: T): T {
  opened.push(resource);
  return resource;
}

function newServer(lines: string[] = []): Server {
  const registry = createRegistry();
  registry.register(function add(a: number, b: number) {
    return a + b;
  });
  const server = createServer(registry, { logger: { warn: (message) => void lines.push(message) }, name: "Curve" });
  track({ close: () => server.close(0) });
  return server;
}

/** A factory that records what it is opened with and opens nothing. */
function recording(): { factory: TransportFactory; opens: { how: string; defaults: TransportDefaults }[] } {
  const opens: { how: string; defaults: TransportDefaults }[] = [];
  return {
    opens,
    factory: {
      name: "recording",
      open(_kind, how, _endpoint, defaults = {}): Promise<OpenedTransport> {
        opens.push({ how, defaults });
        return Promise.reject(new Error("recorded"));
      },
    },
  };
}

/** A clock whose time only moves when the test says so; its timers run on `advance`. */
function manualClock(): Clock & { advance(ms: number): void } {
  let now = 0;
  let timers: { at: number; fn: () => void }[] = [];
  return {
    now: () => now,
    setTimeout(fn, ms) {
      const timer = { at: now + ms, fn };
      timers.push(timer);
      return timer;
    },
    clearTimeout(handle) {
      timers = timers.filter((timer) => timer !== handle);
    },
    advance(ms) {
      now += ms;
      const due = timers.filter((timer) => timer.at <= now);
      timers = timers.filter((timer) => timer.at > now);
      for (const timer of due) timer.fn();
    },
  };
}

describe("server curve option", () => {
  const pair = curveKeyPair();

  it("re-exports the key helpers", () => {
    expect(isCurveKey(pair.publicKey)).toBe(true);
    expect(curvePublicKey(pair.secretKey)).toBe(pair.publicKey);
  });

  it("is checked before the socket is opened, naming the option", async () => {
    const server = newServer();
    const { factory, opens } = recording();
    await expect(server.bind(LOOPBACK, { transport: factory, curve: { secretKey: "short" } })).rejects.toThrow(
      new TypeError("server.bind(): curve.secretKey must be a CURVE key: 40 characters of Z85 or 32 bytes, got 5 characters"),
    );
    await expect(server.bind(LOOPBACK, { transport: factory, curve: { serverKey: pair.publicKey } as never })).rejects.toThrow(
      /server\.bind\(\): curve\.serverKey is an option of a CURVE client; a CURVE server takes its own \{ secretKey \}/,
    );
    await expect(server.connect("tcp://127.0.0.1:1", { transport: factory, curve: {} as never })).rejects.toThrow(
      /server\.connect\(\): curve\.secretKey is required/,
    );
    await expect(
      server.bind(LOOPBACK, { transport: factory, curve: { secretKey: pair.secretKey, allowedClientKeys: [pair.publicKey, new Uint8Array(3)] } }),
    ).rejects.toThrow(/curve\.allowedClientKeys\[1\] must be a CURVE key: 32 bytes or 40 characters of Z85, got 3 bytes/);
    await expect(server.bind(LOOPBACK, { transport: factory, curve: { secretKey: pair.secretKey, allowedClientKeys: 42 as never } })).rejects.toThrow(
      /curve\.allowedClientKeys must be a list of CURVE public keys or a function/,
    );
    await expect(server.bind(LOOPBACK, { transport: factory, curve: { secretKey: pair.secretKey, authorize: "yes" as never } })).rejects.toThrow(
      /curve\.authorize must be a function/,
    );
    expect(opens).toEqual([]);
  });

  it("reaches the factory as TransportDefaults.curve with the server's onAuthFailure; an allow-list is read once", async () => {
    const server = newServer();
    const { factory, opens } = recording();
    const client = curveKeyPair();
    function* keys(): Generator<string> {
      yield client.publicKey;
    }
    const authorize = (): boolean => true;
    await expect(server.bind(LOOPBACK, { transport: factory, curve: { secretKey: pair.secretKey, allowedClientKeys: keys(), authorize } })).rejects.toThrow(
      "recorded",
    );
    await expect(server.connect("tcp://127.0.0.1:1", { transport: factory, curve: { secretKey: pair.secretKey } })).rejects.toThrow("recorded");
    expect(opens.map((open) => open.how)).toEqual(["bind", "connect"]);
    expect(opens[0]!.defaults.curve).toEqual({ secretKey: pair.secretKey, allowedClientKeys: [client.publicKey], authorize });
    expect(opens[1]!.defaults.curve).toEqual({ secretKey: pair.secretKey });
    expect(typeof opens[0]!.defaults.onAuthFailure).toBe("function");
  });

  it.each([
    ["zmtp", () => zmtp()],
    ["zeromq", () => zeromq()],
  ] as const)("logs a refused client key with its kind, address and key (%s)", async (_name, transport) => {
    const lines: string[] = [];
    let logged!: (line: string) => void;
    const line = new Promise<string>((resolve) => (logged = resolve));
    const server = createServer(
      { add: (a: number, b: number) => a + b },
      {
        logger: {
          warn: (message) => {
            lines.push(message);
            logged(message);
          },
        },
      },
    );
    track({ close: () => server.close(0) });
    const allowed = curveKeyPair();
    const stranger = curveKeyPair();
    const [endpoint] = await server.bind(LOOPBACK, { transport: transport(), curve: { ...pair, allowedClientKeys: [allowed.publicKey] } });
    const dealer = track(await connectDealer(endpoint!, { curve: { serverKey: pair.publicKey, ...stranger } }));
    dealer.send(undefined, new Uint8Array([1]));
    const first = await line;
    expect(first).toMatch(/^zrpc server: security handshake refused: /);
    expect(first).toContain(stranger.publicKey);
    expect(first).toMatch(/127\.0\.0\.1/);
  });

  it("the factory's own onAuthFailure wins over the server's log", async () => {
    const lines: string[] = [];
    const server = newServer(lines);
    let reported!: (failure: TransportAuthFailure) => void;
    const failure = new Promise<TransportAuthFailure>((resolve) => (reported = resolve));
    const [endpoint] = await server.bind(LOOPBACK, { transport: zeromq({ onAuthFailure: (f) => reported(f) }), curve: { ...pair, allowedClientKeys: [] } });
    const dealer = track(await connectDealer(endpoint!, { curve: { serverKey: pair.publicKey } }));
    dealer.send(undefined, new Uint8Array([1]));
    expect(await failure).toMatchObject({ kind: "auth" });
    expect(lines).toEqual([]);
  });
});

describe("refused handshakes in the log", () => {
  const failure: TransportAuthFailure = { kind: "auth", address: "10.0.0.7:51234", publicKey: "k".repeat(40), message: "CURVE key refused" };

  it("one line says what kind, from where, which key and what happened", () => {
    expect(describeAuthFailure(failure)).toBe(`zrpc server: security handshake refused: CURVE key refused (from 10.0.0.7:51234, client key ${"k".repeat(40)})`);
    expect(describeAuthFailure({ kind: "protocol", address: "10.0.0.7:1", message: "a plaintext client" })).toBe(
      "zrpc server: security handshake failed (protocol): a plaintext client (from 10.0.0.7:1)",
    );
    // What the message names already is not repeated.
    expect(describeAuthFailure({ ...failure, message: `refused client key ${"k".repeat(40)} from 10.0.0.7:51234` })).toBe(
      `zrpc server: security handshake refused: refused client key ${"k".repeat(40)} from 10.0.0.7:51234`,
    );
    expect(describeAuthFailure({ message: "broke off" })).toBe("zrpc server: security handshake failed: broke off");
  });

  it(`logs at most ${AUTH_FAILURE_LOG_LIMIT} per window, then counts the rest at the window's end`, () => {
    const lines: string[] = [];
    const clock = manualClock();
    const log = new AuthFailureLog((line) => lines.push(line), clock);
    for (let i = 0; i < AUTH_FAILURE_LOG_LIMIT + 3; i++) log.report(failure);
    expect(lines).toHaveLength(AUTH_FAILURE_LOG_LIMIT);
    clock.advance(AUTH_FAILURE_LOG_WINDOW_MS - 1);
    expect(lines).toHaveLength(AUTH_FAILURE_LOG_LIMIT);
    clock.advance(1);
    expect(lines.at(-1)).toBe("zrpc server: 3 more failed security handshakes not logged (at most 5 lines per 10 s)");
    // A new window logs again.
    log.report(failure);
    expect(lines).toHaveLength(AUTH_FAILURE_LOG_LIMIT + 2);
    expect(lines.at(-1)).toBe(describeAuthFailure(failure));
  });

  it("reports the count at close() instead of waiting for the window", () => {
    const lines: string[] = [];
    const log = new AuthFailureLog((line) => lines.push(line), manualClock());
    for (let i = 0; i < AUTH_FAILURE_LOG_LIMIT + 1; i++) log.report(failure);
    log.close();
    expect(lines.at(-1)).toBe("zrpc server: 1 more failed security handshake not logged (at most 5 lines per 10 s)");
    log.close();
    expect(lines).toHaveLength(AUTH_FAILURE_LOG_LIMIT + 1);
  });

  it("a server's log of a flood of refused clients stays within the budget", async () => {
    const pair = curveKeyPair();
    const lines: string[] = [];
    const server = newServer(lines);
    const [endpoint] = await server.bind(LOOPBACK, { transport: zeromq(), curve: { ...pair, allowedClientKeys: [] } });
    let seen = 0;
    let enough!: () => void;
    const allRefused = new Promise<void>((resolve) => (enough = resolve));
    const strangers = AUTH_FAILURE_LOG_LIMIT + 3;
    for (let i = 0; i < strangers; i++) {
      const dealer = track(
        await connectDealer(endpoint!, {
          curve: { serverKey: pair.publicKey },
          onAuthFailure: () => {
            if (++seen === strangers) enough();
          },
        }),
      );
      dealer.send(undefined, new Uint8Array([i]));
    }
    await allRefused;
    await server.close(0);
    const refusals = lines.filter((line) => line.startsWith("zrpc server: security handshake refused"));
    expect(refusals.length).toBeLessThanOrEqual(AUTH_FAILURE_LOG_LIMIT);
    expect(lines.some((line) => /more failed security handshakes? not logged/.test(line))).toBe(refusals.length === AUTH_FAILURE_LOG_LIMIT);
  });
});
