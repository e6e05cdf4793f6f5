import { afterEach, describe, expect, it, vi } from "vitest";
import type { Event } from "@zrpc/wire";
import { RemoteError, TimeoutExpired } from "../src/index.js";
import type { Client, ClientMiddleware, ClientOptions, ClientRequest } from "../src/index.js";
import { FakeServer, flush, rejectionOf, track } from "./helpers.js";

let server: FakeServer;
let client: Client;

function setup(handler: ConstructorParameters<typeof FakeServer>[0], options: Partial<ClientOptions>): void {
  server = new FakeServer(handler);
  client = server.client({ heartbeatMs: 0, ...options });
}

afterEach(async () => {
  vi.useRealTimers();
  await client.close();
  await server.close();
});

/** A middleware that logs every hook it sees, as `label:hook` plus a summary of the arguments. */
function recorder(label: string, log: string[]): ClientMiddleware {
  return {
    name: label,
    beforeRequest(request) {
      log.push(`${label}:before ${request.method}`);
    },
    afterReply(request, reply, ...rest) {
      const error = rest.length === 0 ? "no error" : (rest[0] as Error).name;
      log.push(`${label}:after ${request.method} ${reply?.name ?? "none"} ${error}`);
    },
    onRemoteError(request, errEvent) {
      log.push(`${label}:remote-error ${request.method} ${errEvent.name}`);
      return undefined;
    },
    async around(request, next) {
      log.push(`${label}:around-in ${request.method}`);
      try {
        return await next();
      } finally {
        log.push(`${label}:around-out ${request.method}`);
      }
    },
  };
}

describe("client middleware", () => {
  it("runs the hooks in order on OK", async () => {
    const log: string[] = [];
    setup((r, s) => s.ok(r, 1), { middleware: [recorder("a", log), recorder("b", log)] });
    await expect(client.call("f")).resolves.toBe(1);
    expect(log).toEqual([
      "a:around-in f",
      "b:around-in f",
      "a:before f",
      "b:before f",
      "a:after f OK no error",
      "b:after f OK no error",
      "b:around-out f",
      "a:around-out f",
    ]);
  });

  it("runs onRemoteError then afterReply with the error on ERR", async () => {
    const log: string[] = [];
    setup((r, s) => s.err(r, "ValueError", "boom"), { middleware: [recorder("a", log)] });
    await expect(client.call("f")).rejects.toBeInstanceOf(RemoteError);
    expect(log).toEqual(["a:around-in f", "a:before f", "a:remote-error f ERR", "a:after f ERR RemoteError", "a:around-out f"]);
  });

  it("calls afterReply with no reply and the TimeoutExpired on timeout", async () => {
    vi.useFakeTimers();
    const seen: { reply: Event | undefined; error: unknown }[] = [];
    setup(undefined, {
      timeoutMs: 100,
      middleware: [{ afterReply: (_request, reply, error) => seen.push({ reply, error }) }],
    });
    const state = track(client.call("sleep"));
    await vi.advanceTimersByTimeAsync(100);
    expect(state.error).toBeInstanceOf(TimeoutExpired);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.reply).toBeUndefined();
    expect(seen[0]!.error).toBe(state.error);
  });

  it("calls afterReply once per stream, at STREAM_DONE, never per item", async () => {
    const log: string[] = [];
    setup((r, s) => void s.stream(r, [1, 2, 3]), { middleware: [recorder("a", log)] });
    const items: unknown[] = [];
    for await (const item of client.stream("range")) {
      items.push(item);
      log.push(`item ${String(item)}`);
    }
    expect(items).toEqual([1, 2, 3]);
    expect(log).toEqual([
      "a:around-in range",
      "a:before range",
      "item 1",
      "item 2",
      "item 3",
      "a:after range STREAM_DONE no error",
      "a:around-out range",
    ]);
  });

  it("calls afterReply once at ERR in a stream", async () => {
    const log: string[] = [];
    setup(
      async (r, s) => {
        await s.stream(r, [1], false);
        await s.sendWithCredit(r, "ERR", ["IOError", "disk", null]);
      },
      { middleware: [recorder("a", log)] },
    );
    await expect(
      (async () => {
        for await (const item of client.stream("range")) log.push(`item ${String(item)}`);
      })(),
    ).rejects.toBeInstanceOf(RemoteError);
    expect(log.filter((l) => l.includes(":after"))).toEqual(["a:after range ERR RemoteError"]);
  });

  it("does not call afterReply when a stream is abandoned", async () => {
    const log: string[] = [];
    setup((r, s) => void s.stream(r, [1, 2, 3]), { middleware: [recorder("a", log)] });
    for await (const item of client.stream("range")) if (item !== undefined) break;
    await flush();
    expect(log).toEqual(["a:around-in range", "a:before range", "a:around-out range"]);
  });

  it("throws the last non-undefined onRemoteError result instead of RemoteError", async () => {
    class QuotaExceeded extends Error {}
    const afterErrors: unknown[] = [];
    setup((r, s) => s.err(r, "QuotaError", "too many"), {
      middleware: [
        { onRemoteError: () => new Error("first") },
        { onRemoteError: (_request, event) => new QuotaExceeded((event.args as string[])[1]) },
        { onRemoteError: () => undefined },
        { afterReply: (_request, _reply, error) => afterErrors.push(error) },
      ],
    });
    const error = await rejectionOf(client.call("f"));
    expect(error).toBeInstanceOf(QuotaExceeded);
    expect((error as Error).message).toBe("too many");
    expect(afterErrors).toEqual([error]);
  });

  it("sends header keys added by beforeRequest and by around", async () => {
    setup((r, s) => s.ok(r, null), {
      middleware: [
        {
          around(request, next) {
            request.header["sentry-trace"] = "0123-4567-1";
            return next();
          },
        },
        {
          beforeRequest(request: ClientRequest) {
            request.header.baggage = `method=${request.method}`;
            request.header.message_id = "must not win";
          },
        },
      ],
    });
    await client.call("traced", [], { header: { tenant: "t1" } });
    const { header } = (await server.request()).event;
    expect(header).toMatchObject({ tenant: "t1", "sentry-trace": "0123-4567-1", baggage: "method=traced", v: 3 });
    expect(header.message_id).toBeInstanceOf(Uint8Array);
  });

  it("lets around replace the result, or answer without sending", async () => {
    setup((r, s) => s.ok(r, 20), {
      middleware: [
        {
          async around(request, next) {
            if (request.method === "cached") return "from cache";
            return ((await next()) as number) + 1;
          },
        },
      ],
    });
    await expect(client.call("f")).resolves.toBe(21);
    await expect(client.call("cached")).resolves.toBe("from cache");
    const iterated: unknown[] = [];
    for await (const item of client.stream("cached")) iterated.push(item);
    expect(iterated).toEqual(["from cache"]);
    expect(server.requests.map((r) => r.name)).toEqual(["f"]);
  });

  it("fails the call when a hook throws", async () => {
    setup((r, s) => s.ok(r, 1), {
      middleware: [
        {
          beforeRequest(request) {
            if (request.method === "bad-before") throw new Error("before failed");
          },
          afterReply(request) {
            if (request.method === "bad-after") throw new Error("after failed");
          },
        },
      ],
    });
    await expect(client.call("bad-before")).rejects.toThrow("before failed");
    await expect(client.call("bad-after")).rejects.toThrow("after failed");
    await expect(client.call("fine")).resolves.toBe(1);
    // bad-before was never sent.
    expect(server.requests.map((r) => r.name)).toEqual(["bad-after", "fine"]);
  });

  it("gives around next() the array when a streamed reply is awaited", async () => {
    const results: unknown[] = [];
    setup((r, s) => void s.stream(r, ["x", "y"]), {
      middleware: [
        {
          async around(_request, next) {
            const result = await next();
            results.push(result);
            return result;
          },
        },
      ],
    });
    await expect(client.invoke("range")).resolves.toEqual(["x", "y"]);
    const drained: unknown[] = [];
    for await (const item of client.invoke("range")) drained.push(item);
    expect(drained).toEqual(["x", "y"]);
    expect(results).toEqual([["x", "y"], undefined]);
  });

  it("passes the call options to the hooks", async () => {
    const seen: ClientRequest[] = [];
    setup((r, s) => s.ok(r, 1), { middleware: [{ beforeRequest: (request) => void seen.push(request) }] });
    await client.call("f", [1, "two"], { timeoutMs: 1234 });
    expect(seen[0]).toMatchObject({ method: "f", args: [1, "two"], options: { timeoutMs: 1234 } });
  });
});
