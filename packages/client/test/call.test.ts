import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ProtocolError, ZrpcError } from "@zrpc/wire";
import {
  CanceledError,
  LostRemote,
  RemoteError,
  TimeoutExpired,
  createClient,
  isRetryable,
} from "../src/index.js";
import type { Client, ClientOptions } from "../src/index.js";
import { CLIENT_SETUPS, FakeServer, rejectionOf } from "./helpers.js";

let server: FakeServer;
let client: Client;
/** The options of the current client setup (see CLIENT_SETUPS). */
let base: Partial<ClientOptions> = {};

function setup(handler?: ConstructorParameters<typeof FakeServer>[0]): void {
  server = new FakeServer(handler);
  // No heartbeat: these tests are about replies, and the fake server does not heartbeat.
  client = server.client({ ...base, heartbeatMs: 0 });
}

afterEach(async () => {
  await client.close();
  await server.close();
});

describe.each(CLIENT_SETUPS)("unary calls ($name)", (clientSetup) => {
  beforeEach(() => {
    base = clientSetup.options;
  });

  it("resolves with args[0] of OK and sends a zerorpc request", async () => {
    setup((request, s) => s.ok(request, (request.args as number[])[0]! + (request.args as number[])[1]!));
    await expect(client.call("add", [2, 3])).resolves.toBe(5);
    const request = await server.request();
    expect(request.name).toBe("add");
    expect(request.args).toEqual([2, 3]);
    expect(request.event.header.v).toBe(3);
    const id = request.event.header.message_id;
    expect(id).toBeInstanceOf(Uint8Array);
    expect(new TextDecoder().decode(id as Uint8Array)).toMatch(/^[0-9a-f]{32}$/);
  });

  it("sends [] when no args are given", async () => {
    setup((request, s) => s.ok(request, null));
    await expect(client.call("ping")).resolves.toBeNull();
    expect((await server.request()).args).toEqual([]);
  });

  it("ignores extra elements of OK args and extra reply header keys", async () => {
    setup((request, s) => s.send(request, "OK", [1, 2, 3], { extra: { trace: "x" } }));
    await expect(client.call("f")).resolves.toBe(1);
  });

  it("rejects ERR with a RemoteError carrying name, message and traceback", async () => {
    setup((request, s) => s.err(request, "ValueError", "bad input", "Traceback (most recent call last):\n  File x"));
    const error = await rejectionOf(client.call("fail", ["bad input"]));
    expect(error).toBeInstanceOf(RemoteError);
    expect(error).toBeInstanceOf(ZrpcError);
    const remote = error as RemoteError;
    expect(remote.code).toBe("remote");
    expect(remote.name).toBe("RemoteError");
    expect(remote.remoteName).toBe("ValueError");
    expect(remote.rawMessage).toBe("bad input");
    expect(remote.message).toBe("[ValueError] bad input");
    expect(remote.remoteTraceback).toBe("Traceback (most recent call last):\n  File x");
    expect(remote.isRetryable).toBe(false);
    expect(isRetryable(remote)).toBe(false);
    // The local call site is appended to the stack.
    expect(remote.stack).toContain("for call at");
    expect(remote.stack).toContain("call.test.ts");
  });

  it("names the awaiting callers in the call site of a remote error, captured only on failure", async () => {
    setup((request, s) => s.err(request, "ValueError", "bad input", ""));
    async function loadInvoice(): Promise<unknown> {
      return await client.call("fail", ["bad input"]);
    }
    async function renderPage(): Promise<unknown> {
      return await loadInvoice();
    }
    const error = (await rejectionOf(renderPage())) as RemoteError;
    const site = error.stack!.slice(error.stack!.indexOf("for call at"));
    // (vitest's source maps drop the "async" of async frames)
    expect(site).toMatch(/at (async )?loadInvoice /);
    expect(site).toMatch(/at (async )?renderPage /);
  });

  it("accepts a nil traceback", async () => {
    setup((request, s) => s.err(request, "KeyError", "'nope'", null));
    const error = (await rejectionOf(client.call("f"))) as RemoteError;
    expect(error.remoteName).toBe("KeyError");
    expect(error.remoteTraceback).toBeUndefined();
  });

  it("decodes a v1 ERR (no v, [repr]) into a RemoteError", async () => {
    setup((request, s) => s.send(request, "ERR", ["ValueError('bad input')"], { v: null }));
    const error = (await rejectionOf(client.call("fail"))) as RemoteError;
    expect(error).toBeInstanceOf(RemoteError);
    expect(error.remoteName).toBe("ValueError");
    expect(error.rawMessage).toBe("bad input");
    expect(error.remoteTraceback).toBeUndefined();
  });

  it("keeps an unparseable v1 repr whole, named Error", async () => {
    setup((request, s) => s.send(request, "ERR", ["something odd"], { v: null }));
    const error = (await rejectionOf(client.call("fail"))) as RemoteError;
    expect(error.remoteName).toBe("Error");
    expect(error.rawMessage).toBe("something odd");
  });

  it.each([
    ["a 2-element ERR", "ERR", ["ValueError", "boom"]],
    ["an ERR with non-array args", "ERR", "boom"],
    ["an ERR with a non-str name", "ERR", [1, "boom", null]],
    ["an OK with non-array args", "OK", 5],
    ["an OK with empty args", "OK", []],
  ])("rejects %s with a ProtocolError", async (_label, name, args) => {
    setup((request, s) => s.send(request, name, args));
    const error = await rejectionOf(client.call("f"));
    expect(error).toBeInstanceOf(ProtocolError);
    expect((error as ProtocolError).code).toBe("protocol");
  });

  it("rejects an unknown first reply name: unable to find a pattern", async () => {
    setup((request, s) => s.send(request, "WHAT", [1]));
    const error = await rejectionOf(client.call("f"));
    expect(error).toBeInstanceOf(ProtocolError);
    expect((error as Error).message).toMatch(/unable to find a pattern/);
  });

  it("collects a streamed reply to a unary call into an array", async () => {
    setup((request, s) => void s.stream(request, [1, 2, 3]));
    await expect(client.call("range", [3])).resolves.toEqual([1, 2, 3]);
  });

  it("resolves [] when a unary call gets an empty stream", async () => {
    setup((request, s) => s.send(request, "STREAM_DONE", null));
    await expect(client.call("range", [0])).resolves.toEqual([]);
  });

  it("sends extra header keys, after message_id and v, and ignores reserved ones", async () => {
    setup((request, s) => s.ok(request, "ok"));
    await client.call("f", [], { header: { trace_id: "abc", message_id: "forged", v: 9, response_to: "x" } });
    const { header } = (await server.request()).event;
    expect(header.trace_id).toBe("abc");
    expect(header.v).toBe(3);
    expect(header.message_id).toBeInstanceOf(Uint8Array);
    expect(header.response_to).toBeUndefined();
    expect(Object.keys(header)).toEqual(["message_id", "v", "trace_id"]);
  });

  it("sends a \"__proto__\" header key as an own key (JSON-parsed input) and touches no prototype", async () => {
    setup((request, s) => s.ok(request, "ok"));
    const extra = JSON.parse('{"__proto__": {"polluted": true}, "tenant": "t1"}') as Record<string, unknown>;
    await client.call("f", [], { header: extra });
    const { header } = (await server.request()).event;
    expect(Object.keys(header)).toEqual(["message_id", "v", "__proto__", "tenant"]);
    expect(Object.getPrototypeOf(header)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(header, "__proto__")?.value).toEqual({ polluted: true });
    expect((header as { polluted?: unknown }).polluted).toBeUndefined();
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
  });

  it("runs 200 concurrent calls with replies out of order", async () => {
    setup();
    const calls = Array.from({ length: 200 }, (_, i) => client.call("echo", [i]));
    await server.waitFor(() => server.requests.length === 200);
    // Answer in reverse order.
    for (const request of [...server.requests].reverse()) server.ok(request, (request.args as number[])[0]);
    await expect(Promise.all(calls)).resolves.toEqual(Array.from({ length: 200 }, (_, i) => i));
  });

  it("drops a reply without response_to and still answers the call", async () => {
    const drops: string[] = [];
    server = new FakeServer((request, s) => {
      s.send(request, "OK", ["stray"], { responseTo: null });
      s.ok(request, "right");
    });
    client = server.client({ ...base, heartbeatMs: 0, onDrop: (_event, _peer, reason) => drops.push(reason) });
    await expect(client.call("f")).resolves.toBe("right");
    expect(drops).toEqual(["no-response-to"]);
  });

  it("rejects pending calls when the client closes, and later calls too", async () => {
    setup();
    const pending = client.call("never");
    await server.request();
    await client.close();
    const error = await rejectionOf(pending);
    expect(error).toBeInstanceOf(ZrpcError);
    expect((error as ZrpcError).code).toBe("closed");
    expect(client.isClosed).toBe(true);
    const later = await rejectionOf(client.call("f"));
    expect((later as ZrpcError).code).toBe("closed");
    await expect(client.closed).resolves.toBeUndefined();
  });

  it("rejects when the arguments cannot be encoded, without leaving a channel open", async () => {
    setup((request, s) => s.ok(request, 1));
    const error = await rejectionOf(client.call("f", [Symbol("x")]));
    expect(error).toBeInstanceOf(ZrpcError);
    await expect(client.call("f")).resolves.toBe(1);
    expect(server.requests).toHaveLength(1);
  });

  it("rejects a non-array args with a TypeError", async () => {
    setup();
    await expect(client.call("f", "x" as unknown as unknown[])).rejects.toBeInstanceOf(TypeError);
  });

  it("refuses a non-dealer transport", () => {
    server = new FakeServer();
    client = server.client({ ...base, heartbeatMs: 0 });
    expect(() => createClient({ transport: server.network.transport })).toThrow(/dealer transport/);
  });

  it("supports await using", async () => {
    setup((request, s) => s.ok(request, 1));
    const inner = server.client({ ...base, heartbeatMs: 0 });
    {
      await using scoped = inner;
      await expect(scoped.call("f")).resolves.toBe(1);
    }
    expect(inner.isClosed).toBe(true);
  });
});

describe("error identity and retry hints", () => {
  it("brands every client error", () => {
    const errors = [new RemoteError("E", "m"), new TimeoutExpired("m", 1000), new CanceledError("m")];
    for (const error of errors) {
      expect(error).toBeInstanceOf(ZrpcError);
      expect(error).toBeInstanceOf(Error);
      expect(isRetryable(error)).toBe(false);
    }
    expect(RemoteError.isInstance(errors[0])).toBe(true);
    expect(RemoteError.isInstance(errors[1])).toBe(false);
    expect(errors[1]).not.toBeInstanceOf(RemoteError);
    expect(TimeoutExpired.isInstance(errors[1])).toBe(true);
    expect(CanceledError.isInstance(errors[2])).toBe(true);
    expect(errors.map((e) => e.code)).toEqual(["remote", "timeout", "canceled"]);
    expect(errors.map((e) => e.name)).toEqual(["RemoteError", "TimeoutExpired", "CanceledError"]);
  });

  it("formats TimeoutExpired like Python", () => {
    expect(new TimeoutExpired("sleep", 30_000).message).toBe("timeout after 30s, when calling remote method sleep");
    expect(new TimeoutExpired("sleep", 500).message).toBe("timeout after 0.5s, when calling remote method sleep");
  });

  it("treats a bare lost-remote as retryable and other errors not", () => {
    expect(isRetryable(new LostRemote(5000))).toBe(true);
    expect(isRetryable(new ZrpcError("closed", "x"))).toBe(false);
    expect(isRetryable(new Error("x"))).toBe(false);
    expect(isRetryable("x")).toBe(false);
  });
});
