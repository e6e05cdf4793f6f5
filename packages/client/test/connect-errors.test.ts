// Issue #18: a call that cannot reach its server fails with a ConnectError that says why (refused,
// not a ZeroMQ peer, ...) within about connectTimeoutMs, over real sockets on loopback, with both
// transports; the client reconnects in the background and later calls work.
import { connect as netConnect } from "node:net";
import type { Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createServer } from "@zrpc/server";
import { zeromq } from "@zrpc/transport-zeromq";
import { zmtp } from "@zrpc/transport-zmtp";
import type { TransportFactory } from "@zrpc/channel";
import { answerLikeHttp, freeEndpoint, freePort, startTcpStub, timedRejection, watchConnectionEvents } from "@zrpc/test-support";
import { ConnectError, ZrpcError, connect, createClient, isRetryable } from "../src/index.js";
import type { Client } from "../src/index.js";

const opened: { close(): Promise<unknown> }[] = [];
afterEach(async () => {
  for (const resource of opened.splice(0).reverse()) await resource.close();
});

const TRANSPORTS: { name: string; factory: () => TransportFactory }[] = [
  { name: "zmtp", factory: () => zmtp({ linger: 0 }) },
  { name: "zeromq", factory: () => zeromq({ linger: 0 }) },
];

/** A TCP listener of ours (closed after the test): `answer` runs for each connection. Its endpoint. */
async function tcpServer(answer: (socket: Socket) => void): Promise<string> {
  const stub = await startTcpStub(answer);
  opened.push(stub);
  return stub.endpoint;
}

async function zrpcServer(endpoint: string, heartbeatMs = 1000): Promise<void> {
  const server = createServer({ add: (a: number, b: number) => a + b }, { heartbeatMs, logger: null });
  opened.push({ close: () => server.close(0) });
  await server.bind(endpoint);
}

/**
 * A healthy zrpc server behind a relay that forwards everything but holds the server's answer
 * after its first `pass` octets for 1.4 s: what a busy machine can do to a healthy server's
 * greeting. The hold is the scenario, not a wait. The relay's endpoint.
 */
async function slowServer(pass: number): Promise<string> {
  const port = await freePort();
  await zrpcServer(`tcp://127.0.0.1:${port}`);
  return tcpServer((socket) => {
    const upstream = netConnect(port, "127.0.0.1");
    upstream.on("error", () => socket.destroy());
    socket.on("close", () => upstream.destroy());
    socket.pipe(upstream);
    const held: Buffer[] = [];
    let passed = 0;
    let holding = true;
    upstream.on("data", (chunk: Buffer) => {
      if (!holding) {
        socket.write(chunk);
        return;
      }
      const now = Math.min(chunk.byteLength, pass - passed);
      if (now > 0) socket.write(chunk.subarray(0, now));
      passed += now;
      if (now < chunk.byteLength) held.push(chunk.subarray(now));
    });
    const release = setTimeout(() => {
      holding = false;
      for (const chunk of held.splice(0)) socket.write(chunk);
    }, 1400);
    socket.on("close", () => clearTimeout(release));
  });
}

/** Opens a DEALER through `factory` and a client on it, with the transport's connection events. */
async function clientWithEvents(factory: TransportFactory, endpoint: string, connectTimeoutMs: number, heartbeatMs = 1000) {
  const transport = await factory.open("dealer", "connect", endpoint);
  const { events, next, unwatch } = watchConnectionEvents(transport);
  const client: Client = createClient({ transport, connectTimeoutMs, heartbeatMs });
  opened.push({ close: () => client.close() });
  opened.push({ close: () => Promise.resolve(unwatch()) });
  return { client, events, next };
}

describe.each(TRANSPORTS)("ConnectError ($name)", ({ name, factory }) => {
  it("a call to a closed port fails with ConnectError naming ECONNREFUSED within 3 s", async () => {
    const endpoint = await freeEndpoint();
    const client = await connect(endpoint, { transport: factory() });
    opened.push(client);
    const { error, ms } = await timedRejection(client.call("add", [1, 2]));
    expect(error).toBeInstanceOf(ConnectError);
    expect(ConnectError.isInstance(error)).toBe(true);
    expect(error).toBeInstanceOf(ZrpcError);
    const connectError = error as ConnectError;
    expect(connectError.code).toBe("connect");
    expect(connectError.name).toBe("ConnectError");
    expect(connectError.endpoint).toBe(endpoint);
    expect(connectError.message).toContain(`cannot connect to ${endpoint}: `);
    expect(connectError.message).toContain("ECONNREFUSED");
    expect((connectError.cause as { code?: string }).code).toBe("ECONNREFUSED");
    if (name === "zmtp") expect(connectError.message).toBe(`cannot connect to ${endpoint}: connection refused (ECONNREFUSED)`);
    expect(isRetryable(connectError)).toBe(true);
    // The default connectTimeoutMs is 1 s.
    expect(ms).toBeGreaterThanOrEqual(900);
    expect(ms).toBeLessThan(3000);
  });

  it("a call to a host name that does not resolve fails with ConnectError naming ENOTFOUND within 3 s", async () => {
    // The .invalid TLD never resolves (RFC 6761); a resolver that cannot answer at all says EAI_AGAIN.
    const endpoint = "tcp://zrpc-no-such-host.invalid:4242";
    const client = await connect(endpoint, { transport: factory() });
    opened.push(client);
    const { error, ms } = await timedRejection(client.call("add", [1, 2]));
    expect(error).toBeInstanceOf(ConnectError);
    const connectError = error as ConnectError;
    expect(connectError.code).toBe("connect");
    expect(connectError.endpoint).toBe(endpoint);
    expect(connectError.message).toMatch(new RegExp(`^cannot connect to ${endpoint.replaceAll(".", "\\.")}: .*\\((ENOTFOUND|EAI_AGAIN)`));
    expect(["ENOTFOUND", "EAI_AGAIN"]).toContain((connectError.cause as { code?: string }).code);
    if (name === "zmtp") expect(connectError.message).toMatch(/: (host not found \(ENOTFOUND\)|host name lookup failed \(EAI_AGAIN\))$/);
    expect(isRetryable(connectError)).toBe(true);
    expect(ms).toBeLessThan(3000);
  });

  it("a call to an HTTP server fails with ConnectError saying it is not a ZeroMQ peer within 3 s", async () => {
    const endpoint = await tcpServer(answerLikeHttp);
    const client = await connect(endpoint, { transport: factory() });
    opened.push(client);
    const { error, ms } = await timedRejection(client.call("add", [1, 2]));
    expect(error).toBeInstanceOf(ConnectError);
    const message = (error as ConnectError).message;
    expect(message).toContain(`cannot connect to ${endpoint}: not a ZeroMQ peer`);
    expect(((error as ConnectError).cause as Error).message).toMatch(/^not a ZeroMQ peer/);
    // zmtp reads what the peer answered.
    if (name === "zmtp") expect(message).toContain('it sent "HTTP/1.1 400 Bad Request');
    expect(ms).toBeLessThan(3000);
  });

  it("a call to a TCP server that sends nothing fails with ConnectError saying it is not a ZeroMQ peer within 3 s", async () => {
    const endpoint = await tcpServer(() => undefined);
    const client = await connect(endpoint, { transport: factory() });
    opened.push(client);
    const { error, ms } = await timedRejection(client.call("add", [1, 2]));
    expect(error).toBeInstanceOf(ConnectError);
    const host = endpoint.replaceAll(".", "\\.");
    if (name === "zmtp") {
      // The transport reports that the peer sent not one octet: no handshake grace, the call
      // fails at connectTimeoutMs (1 s by default).
      expect((error as ConnectError).message).toMatch(
        new RegExp(`^cannot connect to ${host}: not a ZeroMQ peer\\? it accepted the connection but sent nothing in [\\d.]+ s$`),
      );
      expect(ms).toBeGreaterThanOrEqual(900);
    } else {
      // libzmq does not say whether the peer sent anything: the handshake gets its grace (2 s in all).
      expect((error as ConnectError).message).toMatch(
        new RegExp(`^cannot connect to ${host}: not a ZeroMQ peer\\? it accepted the connection [\\d.]+ s ago but completed no ZeroMQ handshake$`),
      );
    }
    expect(ms).toBeLessThan(3000);
  });

  it("a slow handshake (the server's greeting under way, the rest held 1.4 s, no failure) does not fail a call under the 1 s default", async () => {
    // The first 10 octets (the ZMTP signature) pass at once: the handshake is under way.
    const endpoint = await slowServer(10);
    const client = await connect(endpoint, { transport: factory() });
    opened.push(client);
    await expect(client.call("add", [2, 3])).resolves.toBe(5);
  });

  it("a server silent for 1.4 s (its whole greeting held): zmtp names it under the 1 s default, connectTimeoutMs: 3000 waits for it", async () => {
    const endpoint = await slowServer(0);
    const client = await connect(endpoint, { transport: factory() });
    opened.push(client);
    if (name === "zmtp") {
      // The peer sent nothing within connectTimeoutMs: it is named, not given the handshake grace.
      const { error } = await timedRejection(client.call("add", [2, 3]));
      expect((error as ConnectError).message).toContain("not a ZeroMQ peer? it accepted the connection but sent nothing in");
    } else {
      // libzmq cannot tell a silent peer from a slow handshake: the grace lets the call through.
      await expect(client.call("add", [2, 3])).resolves.toBe(5);
    }
    const patient = await connect(await slowServer(0), { transport: factory(), connectTimeoutMs: 3000 });
    opened.push(patient);
    await expect(patient.call("add", [2, 3])).resolves.toBe(5);
  });

  it("a call waiting for a server that starts more than 2 s later gets its reply (connectTimeoutMs: 5000)", async () => {
    const endpoint = await freeEndpoint();
    // Heartbeat 0.5 s: without a connection the call is not declared lost (it would be after 1.5 s).
    const { client, next } = await clientWithEvents(factory(), endpoint, 5000, 500);
    const started = performance.now();
    const call = client.call("add", [2, 3]);
    // The server comes up on the first refused attempt reported 2 s or more after the call: past the 1 s default.
    await next((event) => event.state === "failed" && performance.now() - started >= 2000);
    await zrpcServer(endpoint, 500);
    await expect(call).resolves.toBe(5);
  });

  it("reconnects in the background: after a ConnectError, a later call succeeds once the server is up", async () => {
    const endpoint = await freeEndpoint();
    const { client, next } = await clientWithEvents(factory(), endpoint, 1000);
    const { error } = await timedRejection(client.call("add", [1, 1]));
    expect(error).toBeInstanceOf(ConnectError);
    expect(client.isClosed).toBe(false);
    const connected = next((event) => event.state === "connected");
    await zrpcServer(endpoint);
    await connected;
    await expect(client.call("add", [20, 22])).resolves.toBe(42);
  });

  it("with several endpoints, names each with its last reason", async () => {
    const refused = await freeEndpoint();
    const http = await tcpServer(answerLikeHttp);
    const client = await connect([refused, http], { transport: factory() });
    opened.push(client);
    const { error } = await timedRejection(client.call("add", [1, 2]));
    expect(error).toBeInstanceOf(ConnectError);
    const connectError = error as ConnectError;
    expect(connectError.endpoint.split(", ").sort()).toEqual([refused, http].sort());
    expect(connectError.failures.map((entry) => entry.endpoint).sort()).toEqual([refused, http].sort());
    expect(connectError.message).toMatch(/^cannot connect to any of /);
    expect(connectError.message).toContain(`${refused} (`);
    expect(connectError.message).toContain("ECONNREFUSED");
    expect(connectError.message).toContain(`${http} (not a ZeroMQ peer`);
  });

  it("connectTimeoutMs: Infinity keeps the old behaviour (the call waits; heartbeats end it)", async () => {
    const endpoint = await freeEndpoint();
    const client = await connect(endpoint, { transport: factory(), connectTimeoutMs: Infinity, heartbeatMs: 300 });
    opened.push(client);
    const { error, ms } = await timedRejection(client.call("add", [1, 2]));
    expect((error as Error).name).toBe("LostRemote");
    // 3 intervals after the call (timers may fire late on a busy machine).
    expect((error as Error).message).toMatch(new RegExp(`^Lost remote: no heartbeat from ${endpoint.replaceAll(".", "\\.")} for [\\d.]+ s \\(heartbeat 0\\.3 s\\)$`));
    expect(ms).toBeGreaterThanOrEqual(850);
  });
});

describe("several endpoints (zmtp)", () => {
  it("any connected endpoint is enough", async () => {
    const refused = await freeEndpoint();
    const [good] = await (async () => {
      const server = createServer({ add: (a: number, b: number) => a + b }, { heartbeatMs: 1000, logger: null });
      opened.push({ close: () => server.close(0) });
      return server.bind("tcp://127.0.0.1:*");
    })();
    const transport = await zmtp({ linger: 0 }).open("dealer", "connect", [refused, good!]);
    const connected = new Promise<void>((resolve) => {
      transport.watchConnections!((event) => {
        if (event.state === "connected") resolve();
      });
    });
    const client = createClient({ transport, heartbeatMs: 1000 });
    opened.push(client);
    await connected;
    // The ZMTP DEALER round-robins over connected peers only: every call goes to the good one.
    // (libzmq queues for a peer it is still connecting to too, ZMQ_IMMEDIATE off, so zeromq.js is not tested here.)
    for (let i = 0; i < 3; i++) await expect(client.call("add", [i, 1])).resolves.toBe(i + 1);
  });

});

describe("connectTimeoutMs option", () => {
  it("rejects NaN", async () => {
    await expect(connect("tcp://127.0.0.1:1", { connectTimeoutMs: Number.NaN })).rejects.toThrow(RangeError);
  });
});
