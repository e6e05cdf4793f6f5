// The network-fault scenarios (issue #19 item 1), defined once and run for each transport by
// net-zmtp.test.ts and net-zeromq.test.ts: a client and a server in separate processes and
// separate network namespaces joined by a veth pair, heartbeat 1 s, while nftables rules in the
// server's namespace partition the link or drop packets, and a relay process adds latency or
// blackholes idle connections.
import { afterEach, describe, expect, it } from "vitest";
import { percentile, report } from "../helpers.js";
import { createLink } from "./netns.js";
import type { NetLink } from "./netns.js";
import { now, startIn } from "./procs.js";
import type { NetEvent, NetProcess } from "./procs.js";

/** Heartbeat interval of client and server (the issue's 1 s). */
const F = 1000;
/** Slack for timers that fire late on a loaded machine (as the rest of the suite). */
const SLACK_MS = 250;
/** Idle timeout of the NAT (relay) that is shorter than the keepalive interval F. */
const NAT_IDLE_MS = 500;

type TransportName = "zmtp" | "zeromq";

interface Setup {
  readonly link: NetLink;
  readonly server: NetProcess;
  /** The server's endpoint on the link. */
  readonly endpoint: string;
}

interface Settled extends NetEvent {
  readonly outcomes: Record<string, number>;
  readonly times: number[];
  readonly streamItems: number[];
  readonly lagMs: number;
}

interface Bench extends NetEvent {
  readonly calls: number;
  readonly failures: Record<string, number>;
  readonly wrong: number;
  readonly dropped: number;
  readonly perSecond: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

interface Probe extends NetEvent {
  readonly ok: boolean;
  readonly attempts: { readonly error: string; readonly t0: number; readonly t1: number }[];
  readonly t: number;
}

interface ServerStats {
  readonly echoes: number;
  readonly duplicates: number;
  readonly aborted: Record<string, number>;
}

const links: NetLink[] = [];

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Creates the namespaces and starts the server in its own (removed after the test, even a failed one). */
async function setUp(transport: TransportName, port = 0): Promise<Setup> {
  const link = createLink();
  links.push(link);
  const server = startServer(link, transport, port);
  const ready = await server.waitFor((event) => event.type === "ready", 20_000, "ready line");
  return { link, server, endpoint: ready.endpoint as string };
}

function startServer(link: NetLink, transport: TransportName, port: number): NetProcess {
  return startIn(link.serverNs, "net-server.mjs", { transport, endpoint: `tcp://${link.serverIp}:${port === 0 ? "*" : port}`, heartbeatMs: F });
}

async function startClient(link: NetLink, transport: TransportName, endpoint: string): Promise<NetProcess> {
  const client = startIn(link.clientNs, "net-client.mjs", { transport, endpoint, heartbeatMs: F });
  await client.waitFor((event) => event.type === "ready", 20_000, "ready line");
  return client;
}

let ids = 0;

/** One call through a client fixture: resolves with its result event. */
async function call(client: NetProcess, method: string, args: readonly unknown[] = [], timeoutMs = 10_000): Promise<NetEvent> {
  const id = ++ids;
  client.send({ op: "call", id, method, args, timeoutMs });
  return client.waitFor((event) => event.type === "result" && event.id === id, timeoutMs + 10_000, `result of call ${id}`);
}

async function serverStats(client: NetProcess): Promise<ServerStats> {
  const result = await call(client, "netStats");
  expect(result, "netStats").toMatchObject({ ok: true });
  return result.value as ServerStats;
}

function ms(value: number): string {
  return `${value.toFixed(0)} ms`;
}

/** The scenarios of one transport. */
export function defineNetSuite(transport: TransportName): void {
  const label = transport === "zmtp" ? "transport-zmtp" : "zeromq.js";

  afterEach(() => {
    // The processes are SIGKILLed by helpers.ts's afterEach; the namespaces go here, pass or fail.
    for (const link of links.splice(0)) link.remove();
  });

  describe(`network faults between two namespaces (${label})`, () => {
    it("a 0.5 s partition: every call in flight completes, no LostRemote", async () => {
      const { link, server, endpoint } = await setUp(transport);
      const client = await startClient(link, transport, endpoint);
      expect(await call(client, "add", [1, 2])).toMatchObject({ ok: true, value: 3 });
      // 200 calls that take 2.5 s and 10 streams of 50 items 50 ms apart.
      client.send({ op: "load", id: "short", calls: 200, method: "sleep", args: [2500], streams: 10, streamArgs: [50, 50] });
      await client.waitFor((event) => event.type === "loaded" && event.id === "short", 20_000, "calls in flight");
      link.partition();
      const cut = now();
      await sleep(500); // the scenario: a partition of 0.5 s
      const healing = now();
      link.heal();
      const healed = now();
      const settled = (await client.waitFor((event) => event.type === "settled" && event.id === "short", 30_000, "settled")) as Settled;
      const stats = await serverStats(client);
      report(
        `${label}: partition of ${ms(healing - cut)} (+ ${ms(healed - healing)} to remove the rule) with 200 calls (2.5 s each) and 10 streams in flight: ` +
          `outcomes ${JSON.stringify(settled.outcomes)}, last one settled ${ms(Math.max(...settled.times) - cut)} after the cut; ` +
          `stream items ${Math.min(...settled.streamItems)}-${Math.max(...settled.streamItems)}; server aborted ${JSON.stringify(stats.aborted)}`,
      );
      expect(settled.outcomes).toEqual({ ok: 210 });
      expect(settled.streamItems).toEqual(Array.from({ length: 10 }, () => 50));
      expect(stats.aborted).toEqual({});
      expect(server.events.filter((event) => event.type === "aborted")).toEqual([]);
    });

    it("a 10 s partition: 1,000 calls and 10 streams settle with LostRemote within 3 intervals; after the heal new calls succeed within 2 s", async () => {
      const { link, endpoint } = await setUp(transport);
      const client = await startClient(link, transport, endpoint);
      expect(await call(client, "add", [1, 2])).toMatchObject({ ok: true, value: 3 });
      client.send({ op: "load", id: "long", calls: 1000, method: "wait", streams: 10, streamArgs: [50] });
      await client.waitFor((event) => event.type === "loaded" && event.id === "long", 20_000, "calls in flight");
      await sleep(2 * F); // heartbeats going both ways on every call (the load is the scenario's)
      link.partition();
      const cut = now();
      const settled = (await client.waitFor((event) => event.type === "settled" && event.id === "long", 30_000, "settled")) as Settled;
      const times = settled.times.map((t) => t - cut);
      const max = Math.max(...times);
      await sleep(Math.max(0, cut + 10_000 - now())); // the scenario: the partition lasts 10 s
      link.heal();
      const healed = now();
      // New calls from the moment the link is back, one after the other until one succeeds.
      client.send({ op: "probe", id: "heal", timeoutMs: 2000, forMs: 10_000 });
      const probe = (await client.waitFor((event) => event.type === "probe" && event.id === "heal", 30_000, "probe result")) as Probe;
      const recoveredMs = probe.t - healed;
      const more = await Promise.all(Array.from({ length: 100 }, (_, i) => call(client, "add", [i, i])));
      const closed = client.events.find((event) => event.type === "conn" && event.state === "disconnected" && (event.t as number) > cut);
      const reopened = client.events.find((event) => event.type === "conn" && event.state === "connected" && (event.t as number) > healed);
      report(
        `${label}: partition of 10 s with 1,000 calls and 10 streams in flight (heartbeat ${F} ms): ` +
          `${JSON.stringify(settled.outcomes)}; after the cut: min ${ms(Math.min(...times))}, p50 ${ms(percentile(times, 50))}, ` +
          `p99 ${ms(percentile(times, 99))}, max ${ms(max)} (bound 3 intervals = ${3 * F} ms; client event loop up to ${ms(settled.lagMs)} late)`,
      );
      report(
        `${label}: after the heal the same client's first successful call came ${ms(recoveredMs)} after the heal (bound 2000 ms)` +
          `${probe.attempts.length === 0 ? " (the first call made)" : `, after ${probe.attempts.length} failed attempt(s): ${probe.attempts.map((a) => `${a.error} in ${ms(a.t1 - a.t0)}`).join(", ")}`}; ` +
          `then ${more.filter((r) => r.ok === true).length}/100 calls succeeded; the transport dropped the dead connection ` +
          `${closed === undefined ? "never" : `${ms((closed.t as number) - cut)} after the cut`} and connected again ` +
          `${reopened === undefined ? "never" : `${ms((reopened.t as number) - healed)} after the heal`}`,
      );
      expect(settled.outcomes).toEqual({ LostRemote: 1010 });
      expect(max).toBeLessThanOrEqual(3 * F + SLACK_MS + settled.lagMs);
      expect(probe.ok).toBe(true);
      expect(recoveredMs).toBeLessThanOrEqual(2000 + SLACK_MS);
      expect(more.every((r) => r.ok === true)).toBe(true);
    });

    it("5% packet loss for 30 s under 100 calls in flight: no call fails, none is answered twice or to the wrong caller", async () => {
      const { link, endpoint } = await setUp(transport);
      const client = await startClient(link, transport, endpoint);
      expect(await call(client, "add", [1, 2])).toMatchObject({ ok: true, value: 3 });
      const before = await serverStats(client);
      link.loss(5);
      client.send({ op: "bench", id: "loss", concurrency: 100, durationMs: 30_000 });
      const bench = (await client.waitFor((event) => event.type === "bench" && event.id === "loss", 90_000, "bench figures")) as Bench;
      link.heal();
      const after = await serverStats(client);
      const ran = after.echoes - before.echoes;
      report(
        `${label}: 5% loss each way for 30 s, 100 calls in flight: ${bench.calls} calls, ${bench.perSecond.toFixed(0)} calls/s, ` +
          `p50 ${bench.p50.toFixed(1)} ms, p99 ${bench.p99.toFixed(1)} ms, max ${bench.max.toFixed(1)} ms; failed ${JSON.stringify(bench.failures)}, ` +
          `wrong replies ${bench.wrong}, replies dropped by the client ${bench.dropped}, server ran ${ran} (${after.duplicates - before.duplicates} twice)`,
      );
      expect(bench.failures).toEqual({});
      expect(bench.wrong).toBe(0);
      expect(bench.dropped).toBe(0);
      expect(after.duplicates).toBe(0);
      expect(ran).toBe(bench.calls);
    });

    it("50 ms +/- 20 ms of latency through a relay: no call fails, none is answered twice or to the wrong caller", async () => {
      const { link, endpoint } = await setUp(transport);
      const target = endpoint.replace(/^tcp:\/\//, "");
      const relay = startIn(link.serverNs, "net-relay.mjs", { listen: `${link.serverIp}:0`, target, delayMs: 50, jitterMs: 20 });
      const { port } = await relay.waitFor((event) => event.type === "ready", 20_000, "relay ready");
      const client = await startClient(link, transport, `tcp://${link.serverIp}:${String(port)}`);
      expect(await call(client, "add", [1, 2])).toMatchObject({ ok: true, value: 3 });
      const before = await serverStats(client);
      client.send({ op: "bench", id: "latency", concurrency: 100, durationMs: 10_000 });
      const bench = (await client.waitFor((event) => event.type === "bench" && event.id === "latency", 60_000, "bench figures")) as Bench;
      const after = await serverStats(client);
      const ran = after.echoes - before.echoes;
      report(
        `${label}: 50 +/- 20 ms each way through a relay for 10 s, 100 calls in flight: ${bench.calls} calls, ${bench.perSecond.toFixed(0)} calls/s, ` +
          `p50 ${bench.p50.toFixed(1)} ms, p99 ${bench.p99.toFixed(1)} ms, max ${bench.max.toFixed(1)} ms; failed ${JSON.stringify(bench.failures)}, ` +
          `wrong replies ${bench.wrong}, replies dropped by the client ${bench.dropped}, server ran ${ran} (${after.duplicates - before.duplicates} twice)`,
      );
      expect(bench.failures).toEqual({});
      expect(bench.wrong).toBe(0);
      expect(bench.dropped).toBe(0);
      expect(after.duplicates).toBe(0);
      expect(ran).toBe(bench.calls);
      // Each call crosses the relay twice: at least 2 x 30 ms.
      expect(bench.p50).toBeGreaterThanOrEqual(60);
    });

    it("a half-open connection (the server host vanishes without FIN/RST) is detected, with and without calls in flight", async () => {
      const { link, server, endpoint } = await setUp(transport);
      const busy = await startClient(link, transport, endpoint);
      const idle = await startClient(link, transport, endpoint);
      expect(await call(busy, "add", [1, 2])).toMatchObject({ ok: true });
      expect(await call(idle, "add", [1, 2])).toMatchObject({ ok: true });
      busy.send({ op: "load", id: "half", calls: 100, method: "wait", streams: 2, streamArgs: [50] });
      await busy.waitFor((event) => event.type === "loaded" && event.id === "half", 20_000, "calls in flight");
      await sleep(2 * F); // heartbeats going both ways on every call (the load is the scenario's)
      // The host vanishes: nothing leaves or reaches it any more, and its process dies (its FIN
      // and RSTs are dropped with the rest).
      link.partition();
      const cut = now();
      await server.kill();
      const settled = (await busy.waitFor((event) => event.type === "settled" && event.id === "half", 30_000, "settled")) as Settled;
      const settleMax = Math.max(...settled.times) - cut;
      const lost = (client: NetProcess): Promise<NetEvent> =>
        client.waitFor((event) => event.type === "conn" && event.state === "disconnected" && (event.t as number) > cut, 6 * F + 10_000, "a disconnect of the dead connection");
      const [busyLost, idleLost] = await Promise.all([lost(busy), lost(idle)]);
      const idleMs = (idleLost.t as number) - cut;
      const busyMs = (busyLost.t as number) - cut;
      // The host comes back with a new server on the same endpoint: the idle client's next call
      // must not have been written into the dead connection.
      link.heal();
      const restarted = startServer(link, transport, Number(endpoint.split(":").at(-1)));
      await restarted.waitFor((event) => event.type === "ready", 20_000, "restarted server ready");
      const up = now();
      const next = await call(idle, "add", [2, 3], 10_000);
      const nextMs = (next.t1 as number) - up;
      report(
        `${label}: half-open (partition + kill -9 of the server, heartbeat ${F} ms): 102 calls+streams in flight ${JSON.stringify(settled.outcomes)} ` +
          `within ${ms(settleMax)}; the transport dropped the dead connection ${ms(busyMs)} (busy client) and ${ms(idleMs)} (idle client) after the cut ` +
          `(${idleLost.error === undefined ? "no reason given" : JSON.stringify(idleLost.error)}); the idle client's next call after a new server came up: ${next.ok === true ? "ok" : String(next.error)} in ${ms(nextMs)}`,
      );
      expect(settled.outcomes).toEqual({ LostRemote: 102 });
      expect(settleMax).toBeLessThanOrEqual(3 * F + SLACK_MS + settled.lagMs);
      // The transport's keepalive (a PING every interval, two without an answer) finds it within
      // 3 intervals at the worst timing; one more interval of headroom for a loaded machine, where
      // the PING timer itself fires late.
      expect(idleMs).toBeLessThanOrEqual(4 * F + SLACK_MS + (idleLost.lagMs as number));
      // The busy client's keepalive is the same, and its call heartbeats do not keep a dead
      // connection open: it drops the connection within the same bound.
      expect(busyMs).toBeLessThanOrEqual(4 * F + SLACK_MS + (busyLost.lagMs as number));
      expect(next).toMatchObject({ ok: true, value: 5 });
      expect(nextMs).toBeLessThanOrEqual(2000);
    });

    it("a link that drops idle connections: the client reconnects transparently", async () => {
      const { link, endpoint } = await setUp(transport);
      const target = endpoint.replace(/^tcp:\/\//, "");
      // A NAT that forgets a connection idle for 3 s: it blackholes it (forwards nothing more, closes nothing).
      const relay = startIn(link.serverNs, "net-relay.mjs", { listen: `${link.serverIp}:0`, target, idleBlackholeMs: 3000 });
      const { port } = await relay.waitFor((event) => event.type === "ready", 20_000, "relay ready");
      const client = await startClient(link, transport, `tcp://${link.serverIp}:${String(port)}`);
      expect(await call(client, "add", [1, 2])).toMatchObject({ ok: true, value: 3 });
      await sleep(8000); // the scenario: the client has nothing to say for 8 s
      const idleCall = await call(client, "add", [2, 3], 10_000);
      const idleCallMs = (idleCall.t1 as number) - (idleCall.t0 as number);
      const blackholedIdle = relay.events.filter((event) => event.type === "blackholed").length;
      // Then the NAT loses every connection at once while the client is idle.
      const dropped = now();
      relay.send("blackhole");
      const detected = await client.waitFor(
        (event) => event.type === "conn" && event.state === "disconnected" && (event.t as number) > dropped,
        6 * F + 10_000,
        "a disconnect of the blackholed connection",
      );
      const reconnected = await client.waitFor(
        (event) => event.type === "conn" && event.state === "connected" && (event.t as number) > dropped,
        6 * F + 10_000,
        "a reconnection",
      );
      const after = await call(client, "add", [3, 4], 10_000);
      const detectedMs = (detected.t as number) - dropped;
      const reconnectedMs = (reconnected.t as number) - dropped;
      report(
        `${label}: a relay that blackholes connections idle for 3 s: after 8 s idle the next call ${idleCall.ok === true ? "succeeded" : `failed (${String(idleCall.error)})`} ` +
          `in ${ms(idleCallMs)} (${blackholedIdle} connection(s) blackholed meanwhile: the keepalives kept it busy); every connection blackholed at once: ` +
          `the client dropped its connection ${ms(detectedMs)} later, was connected again at ${ms(reconnectedMs)}, and its next call ` +
          `${after.ok === true ? "succeeded" : `failed (${String(after.error)})`} in ${ms((after.t1 as number) - (after.t0 as number))}`,
      );
      expect(idleCall).toMatchObject({ ok: true, value: 5 });
      expect(idleCallMs).toBeLessThanOrEqual(2000);
      // The keepalive (a PING every second) is traffic: the NAT's 3 s idle timer never fires.
      expect(blackholedIdle).toBe(0);
      // A PING within an interval, unanswered for two: 3 intervals at the worst timing (which this
      // scenario hits), plus one of headroom for PING timers that fire late on a loaded machine.
      expect(detectedMs).toBeLessThanOrEqual(4 * F + SLACK_MS + (detected.lagMs as number));
      // Then a redial (reconnectInterval 100 ms) and a handshake through the relay.
      expect(reconnectedMs - detectedMs).toBeLessThanOrEqual(2000);
      expect(after).toMatchObject({ ok: true, value: 7 });
    });

    it("a NAT whose idle timeout is shorter than the keepalive interval drops an idle connection: a call made into it fails with LostRemote within 3 intervals; a call on the redialled connection succeeds", async () => {
      const { link, endpoint } = await setUp(transport);
      const target = endpoint.replace(/^tcp:\/\//, "");
      // What a user meets when the NAT's idle timer is shorter than the client's keepalive
      // interval: between two PINGs (1 s apart) the connection carries nothing for 500 ms, and
      // the NAT forgets it (forwards nothing more, closes nothing, answers nothing).
      const relay = startIn(link.serverNs, "net-relay.mjs", { listen: `${link.serverIp}:0`, target, idleBlackholeMs: NAT_IDLE_MS });
      const { port } = await relay.waitFor((event) => event.type === "ready", 20_000, "relay ready");
      const client = await startClient(link, transport, `tcp://${link.serverIp}:${String(port)}`);
      // No application traffic at all: the client connects and says nothing.
      const accepted = await relay.waitFor((event) => event.type === "accepted", 20_000, "the client's connection");
      const blackholed = await relay.waitFor((event) => event.type === "blackholed" && event.id === accepted.id, 6 * F + 10_000, "the NAT dropping the idle connection");
      const dropped = now();
      // A call right after the drop, while the client still believes in its connection...
      const firstId = ++ids;
      client.send({ op: "call", id: firstId, method: "add", args: [2, 3], timeoutMs: 10_000 });
      // ...and one the caller makes the moment the transport has a connection again.
      const nextId = ++ids;
      client.send({ op: "call", id: nextId, method: "add", args: [3, 4], timeoutMs: 10_000, onConnect: true });
      const first = await client.waitFor((event) => event.type === "result" && event.id === firstId, 20_000, "the first call's result");
      const detected = await client.waitFor(
        (event) => event.type === "conn" && event.state === "disconnected" && (event.t as number) > dropped,
        6 * F + 10_000,
        "a disconnect of the dropped connection",
      );
      const reconnected = await client.waitFor(
        (event) => event.type === "conn" && event.state === "connected" && (event.t as number) > (detected.t as number),
        6 * F + 10_000,
        "a reconnection",
      );
      const next = await client.waitFor((event) => event.type === "result" && event.id === nextId, 20_000, "the next call's result");
      const firstMs = (first.t1 as number) - (first.t0 as number);
      const detectedMs = (detected.t as number) - dropped;
      const redialMs = (reconnected.t as number) - (detected.t as number);
      report(
        `${label}: a NAT that drops connections idle for ${NAT_IDLE_MS} ms (keepalive every ${F} ms): it dropped the client's idle connection after ${ms(blackholed.idleMs as number)} idle; ` +
          `a call made ${ms((first.t0 as number) - dropped)} after the drop ${first.ok === true ? "succeeded" : `failed with ${String(first.error)} (retryable: ${String(first.retryable)})`} in ${ms(firstMs)}; ` +
          `the transport dropped the connection ${ms(detectedMs)} after the NAT did and was connected again ${ms(redialMs)} later; ` +
          `a call made then ${next.ok === true ? "succeeded" : `failed (${String(next.error)})`} in ${ms((next.t1 as number) - (next.t0 as number))}; ` +
          `the NAT dropped ${relay.events.filter((event) => event.type === "blackholed").length} connection(s) in all`,
      );
      // The request went into a connection nobody forwards: no reply, no error from the network.
      // The call's heartbeats find that out: LostRemote after 2-3 intervals, retryable (the
      // server never answered, so it may not even have run it).
      expect(first).toMatchObject({ ok: false, error: "LostRemote", retryable: true });
      expect(firstMs).toBeLessThanOrEqual(3 * F + SLACK_MS + (first.lagMs as number));
      // It was made before the transport noticed (else the client would have held it for the
      // redial: the other path, which this scenario does not take).
      expect(first.t0 as number, "the first call was made before the transport noticed the drop (a machine too slow to make it in 2 s would not test this)").toBeLessThan(
        detected.t as number,
      );
      // The keepalive notices the dead connection as it would a vanished host (3 intervals at
      // the worst timing, one of headroom) and redials (reconnect interval 100 ms).
      expect(detectedMs).toBeLessThanOrEqual(4 * F + SLACK_MS + (detected.lagMs as number));
      expect(redialMs).toBeLessThanOrEqual(2000);
      // A call on the new connection is answered: the client recovered without a restart.
      expect(next).toMatchObject({ ok: true, value: 7 });
      expect(next.t0 as number).toBeGreaterThanOrEqual(reconnected.t as number);
      expect((next.t1 as number) - (next.t0 as number)).toBeLessThanOrEqual(2000);
    });
  });
}
