import { afterEach, describe, expect, it, vi } from "vitest";
import { LostRemote } from "@zrpc/channel";
import { createRegistry, getCallContext, ShutdownError } from "../src/index.js";
import type { CallContext, CallOutcome, Logger, ServerMiddleware } from "../src/index.js";
import { deferred, flush, setup } from "./helpers.js";

function recorder(name: string, log: string[]): ServerMiddleware {
  return {
    name,
    beforeCall: (call) => void log.push(`${name}.before ${call.method}`),
    around: async (call, next) => {
      log.push(`${name}.around-in`);
      const result = await next();
      log.push(`${name}.around-out`);
      return result;
    },
    afterCall: (_call, result) => void log.push(`${name}.after ${JSON.stringify(result) ?? "undefined"}`),
    inspectError: () => void log.push(`${name}.inspectError`),
    taskContext: () => {
      log.push(`${name}.taskContext`);
      return undefined;
    },
    onEnd: (_call, outcome) => void log.push(`${name}.onEnd ${outcome.kind}`),
  };
}

function service() {
  const registry = createRegistry();
  registry.register(function add(a: number, b: number) {
    return a + b;
  });
  registry.register(function fail() {
    throw new Error("boom");
  });
  registry.register(function* items() {
    yield 1;
    yield 2;
  });
  return registry;
}

/** Collects outcomes per method, to check exactly one onEnd per call. */
function outcomes(): { middleware: ServerMiddleware; seen: Map<string, CallOutcome[]> } {
  const seen = new Map<string, CallOutcome[]>();
  return {
    seen,
    middleware: {
      onEnd: (call, outcome) => {
        const list = seen.get(call.method) ?? [];
        list.push(outcome);
        seen.set(call.method, list);
      },
    },
  };
}

describe("middleware order", () => {
  it("runs hooks in registration order, around nested first-outermost", async () => {
    const log: string[] = [];
    const { client } = setup(service(), { middleware: [recorder("A", log), recorder("B", log)] });
    await client.call("add", [1, 2]);
    await client.until(() => log.length >= 12);
    expect(log).toEqual([
      "A.before add",
      "B.before add",
      "A.around-in",
      "B.around-in",
      "B.around-out",
      "A.around-out",
      "A.after 3",
      "B.after 3",
      "A.taskContext",
      "B.taskContext",
      "A.onEnd ok",
      "B.onEnd ok",
    ]);
  });

  it("on error: inspectError then onEnd, no afterCall", async () => {
    const log: string[] = [];
    const { client } = setup(service(), { middleware: [recorder("A", log), recorder("B", log)] });
    await client.call("fail");
    await client.until(() => log.includes("B.onEnd error"));
    expect(log.filter((entry) => !entry.includes("around") && !entry.includes("taskContext"))).toEqual([
      "A.before fail",
      "B.before fail",
      "A.inspectError",
      "B.inspectError",
      "A.onEnd error",
      "B.onEnd error",
    ]);
  });

  it("for streams: around wraps the whole iteration, afterCall once with undefined", async () => {
    const log: string[] = [];
    const { client } = setup(service(), { middleware: [recorder("A", log)] });
    const events = await client.stream("items");
    await client.until(() => log.includes("A.onEnd stream-done"));
    expect(events.map((e) => e.name)).toEqual(["STREAM", "STREAM", "STREAM_DONE"]);
    expect(log).toEqual(["A.before items", "A.around-in", "A.taskContext", "A.around-out", "A.after undefined", "A.onEnd stream-done"]);
  });

  it("skips beforeCall for an unknown method (lookup first, like Python)", async () => {
    const log: string[] = [];
    const { client } = setup(service(), { middleware: [recorder("A", log)] });
    await client.call("nope");
    await client.until(() => log.includes("A.onEnd error"));
    expect(log.filter((entry) => entry !== "A.taskContext")).toEqual(["A.inspectError", "A.onEnd error"]);
  });

  it("runs middleware for introspection calls, flagged as such", async () => {
    const seen: [string, boolean][] = [];
    const { client } = setup(service(), { middleware: [{ beforeCall: (call) => void seen.push([call.method, call.introspection]) }] });
    await client.call("_zerorpc_ping");
    await client.call("add", [1, 1]);
    expect(seen).toEqual([
      ["_zerorpc_ping", true],
      ["add", false],
    ]);
  });
});

describe("middleware effects", () => {
  it("beforeCall throwing answers ERR, skips the handler, and onEnd sees the error", async () => {
    const handler = vi.fn(() => 1);
    const registry = createRegistry();
    registry.register(handler, { name: "guarded", args: [] });
    const { middleware, seen } = outcomes();
    const deny: ServerMiddleware = {
      beforeCall: () => {
        throw Object.assign(new Error("not allowed"), { name: "PermissionError" });
      },
    };
    const { client } = setup(registry, { middleware: [deny, middleware] });
    const reply = await client.call("guarded");
    expect((reply.args as unknown[]).slice(0, 2)).toEqual(["PermissionError", "not allowed"]);
    expect(handler).not.toHaveBeenCalled();
    await client.until(() => seen.has("guarded"));
    expect(seen.get("guarded")!.map((o) => o.kind)).toEqual(["error"]);
  });

  it("around may replace the result; afterCall throwing turns OK into ERR", async () => {
    const doubling: ServerMiddleware = { around: async (_call, next) => ((await next()) as number) * 2 };
    const { client } = setup(service(), { middleware: [doubling] });
    expect((await client.call("add", [1, 2])).args).toEqual([6]);
    const picky = setup(service(), {
      middleware: [
        {
          afterCall: (_call, result) => {
            if (result === 3) throw new Error("three is not allowed");
          },
        },
      ],
    });
    expect(((await picky.client.call("add", [1, 2])).args as unknown[]).slice(0, 2)).toEqual(["Error", "three is not allowed"]);
  });

  it("inspectError may rewrite the reply", async () => {
    const hide: ServerMiddleware = {
      inspectError: (_call, error, reply) => {
        expect((error as Error).message).toBe("boom");
        reply.name = "InternalError";
        reply.message = "hidden";
        reply.traceback = "";
      },
    };
    const { client } = setup(service(), { middleware: [hide] });
    expect((await client.call("fail")).args).toEqual(["InternalError", "hidden", ""]);
  });

  it("adds taskContext keys to every reply header, never overriding protocol keys", async () => {
    const trace: ServerMiddleware = {
      taskContext: (call) => ({ trace_id: `t-${call.method}`, v: 99, response_to: "evil" }),
    };
    const { client } = setup(service(), { middleware: [{ taskContext: () => ({ span: 1 }) }, trace] });
    const ok = await client.call("add", [1, 2]);
    expect(ok.header).toMatchObject({ trace_id: "t-add", span: 1, v: 3 });
    expect(ok.header.response_to).toBeInstanceOf(Uint8Array);
    const err = await client.call("fail");
    expect(err.header).toMatchObject({ trace_id: "t-fail", span: 1 });
    const events = await client.stream("items");
    expect(events.map((e) => [e.name, e.header.trace_id])).toEqual([
      ["STREAM", "t-items"],
      ["STREAM", "t-items"],
      ["STREAM_DONE", "t-items"],
    ]);
  });

  it("shows extra request header keys in call.header and does not echo them", async () => {
    let seen: unknown;
    const { client } = setup(service(), { middleware: [{ beforeCall: (call) => void (seen = call.header.trace_id) }] });
    const reply = await client.call("add", [1, 2], { header: { trace_id: "abc" } });
    expect(seen).toBe("abc");
    expect(reply.header.trace_id).toBeUndefined();
  });

  it("survives hooks that throw where no ERR can carry it, and logs them", async () => {
    const warnings: string[] = [];
    const logger: Logger = { warn: (message) => void warnings.push(message) };
    const broken: ServerMiddleware = {
      name: "broken",
      taskContext: () => {
        throw new Error("tc");
      },
      onEnd: () => {
        throw new Error("end");
      },
      inspectError: () => {
        throw new Error("inspect");
      },
    };
    const { client } = setup(service(), { middleware: [broken], logger });
    expect((await client.call("add", [1, 2])).args).toEqual([3]);
    expect(((await client.call("fail")).args as unknown[])[0]).toBe("Error");
    await client.until(() => warnings.length >= 5);
    expect(warnings.some((w) => w.includes("onEnd of broken"))).toBe(true);
    expect(warnings.some((w) => w.includes("taskContext of broken"))).toBe(true);
    expect(warnings.some((w) => w.includes("inspectError of broken"))).toBe(true);
    expect((await client.call("add", [2, 2])).args).toEqual([4]);
  });
});

describe("async hooks", () => {
  it("waits for an async beforeCall before the handler and for an async afterCall before the reply", async () => {
    const log: string[] = [];
    const beforeGate = deferred<void>();
    const afterGate = deferred<void>();
    const registry = createRegistry();
    registry.register(function add(a: number, b: number) {
      log.push("handler");
      return a + b;
    });
    const gated: ServerMiddleware = {
      beforeCall: async () => {
        log.push("before");
        await beforeGate.promise;
        log.push("before-done");
      },
      afterCall: async (_call, result) => {
        log.push(`after ${String(result)}`);
        await afterGate.promise;
        log.push("after-done");
      },
    };
    const { client } = setup(registry, { middleware: [gated] });
    let answered = false;
    const reply = client.call("add", [1, 2]).then((event) => {
      answered = true;
      return event;
    });
    await client.until(() => log.includes("before"));
    await flush();
    expect(log).toEqual(["before"]);
    beforeGate.resolve();
    await client.until(() => log.includes("after 3"));
    await flush();
    expect(log).toEqual(["before", "before-done", "handler", "after 3"]);
    expect(answered).toBe(false);
    afterGate.resolve();
    expect((await reply).args).toEqual([3]);
    expect(log.at(-1)).toBe("after-done");
  });

  it("an async beforeCall that rejects answers ERR and skips the handler", async () => {
    const handler = vi.fn(() => 1);
    const registry = createRegistry();
    registry.register(handler, { name: "guarded", args: [] });
    const deny: ServerMiddleware = {
      beforeCall: () => Promise.reject(Object.assign(new Error("later, no"), { name: "PermissionError" })),
    };
    const { client } = setup(registry, { middleware: [deny] });
    const reply = await client.call("guarded");
    expect((reply.args as unknown[]).slice(0, 2)).toEqual(["PermissionError", "later, no"]);
    expect(handler).not.toHaveBeenCalled();
  });

  it("an async afterCall that rejects turns OK into ERR; a later sync hook does not run", async () => {
    const second = vi.fn();
    const { client } = setup(service(), {
      middleware: [{ afterCall: () => Promise.reject(new Error("audit failed")) }, { afterCall: second }],
    });
    const reply = await client.call("add", [1, 2]);
    expect(reply.name).toBe("ERR");
    expect((reply.args as unknown[]).slice(0, 2)).toEqual(["Error", "audit failed"]);
    expect(second).not.toHaveBeenCalled();
  });

  it("runs sync hooks and a plain handler without waiting: mixed sync and async hooks keep their order", async () => {
    const log: string[] = [];
    const registry = createRegistry();
    registry.register(function add(a: number, b: number) {
      log.push("handler");
      return a + b;
    });
    const { client } = setup(registry, {
      middleware: [
        { beforeCall: () => void log.push("b1") },
        { beforeCall: () => Promise.resolve().then(() => void log.push("b2")) },
        { beforeCall: () => void log.push("b3"), afterCall: () => Promise.resolve().then(() => void log.push("a1")) },
        { afterCall: () => void log.push("a2") },
      ],
    });
    expect((await client.call("add", [2, 2])).args).toEqual([4]);
    expect(log).toEqual(["b1", "b2", "b3", "handler", "a1", "a2"]);
  });
});

describe("exactly one onEnd per call", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("for ok, error, stream-done, NameError and beforeCall failures", async () => {
    const { middleware, seen } = outcomes();
    const failFirst: ServerMiddleware = {
      beforeCall: (call) => {
        if (call.args[0] === "deny") throw new Error("denied");
      },
    };
    const registry = service();
    registry.register(function echo(x: unknown) {
      return x;
    });
    const { client } = setup(registry, { middleware: [failFirst, middleware] });
    await client.call("add", [1, 2]);
    await client.call("fail");
    await client.stream("items");
    await client.call("nope");
    await client.call("echo", ["deny"]);
    await client.until(() => seen.size === 5);
    expect(Object.fromEntries([...seen].map(([method, list]) => [method, list]))).toEqual({
      add: [{ kind: "ok", result: 3 }],
      fail: [{ kind: "error", error: expect.any(Error) }],
      items: [{ kind: "stream-done", items: 2 }],
      nope: [{ kind: "error", error: expect.objectContaining({ name: "NameError" }) }],
      echo: [{ kind: "error", error: expect.objectContaining({ message: "denied" }) }],
    });
  });

  it("for a lost client: signal aborts with LostRemote, around's next() rejects, a late result is dropped", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] });
    const gate = deferred<number>();
    let signal: AbortSignal | undefined;
    let aroundError: unknown;
    const registry = createRegistry();
    registry.register(function (this: CallContext) {
      signal = this.signal;
      return gate.promise;
    }, { name: "hang", args: [] });
    const { middleware, seen } = outcomes();
    const around: ServerMiddleware = {
      around: async (_call, next) => {
        try {
          return await next();
        } catch (error) {
          aroundError = error;
          throw error;
        }
      },
    };
    const { client, server } = setup(registry, { heartbeatMs: 1000, middleware: [around, middleware] });
    const id = client.request("hang");
    await vi.advanceTimersByTimeAsync(2_500);
    expect(signal?.aborted).toBe(false);
    expect(server.inFlight).toBe(1);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(signal?.aborted).toBe(true);
    expect(signal?.reason).toBeInstanceOf(LostRemote);
    expect(aroundError).toBeInstanceOf(LostRemote);
    expect(server.inFlight).toBe(0);
    expect(seen.get("hang")!.map((o) => o.kind)).toEqual(["lost-remote"]);
    // The handler finishes after the client vanished: nothing is sent, no second onEnd.
    gate.resolve(5);
    await vi.advanceTimersByTimeAsync(10);
    expect(client.replies(id)).toHaveLength(0);
    expect(seen.get("hang")).toHaveLength(1);
  });

  it("for shutdown: close() cancels after the grace period", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] });
    let signal: AbortSignal | undefined;
    const registry = createRegistry();
    registry.register(function (this: CallContext) {
      signal = this.signal;
      return new Promise(() => undefined);
    }, { name: "never", args: [] });
    const { middleware, seen } = outcomes();
    const { client, server } = setup(registry, { heartbeatMs: null, middleware: [middleware] });
    const id = client.request("never");
    await vi.advanceTimersByTimeAsync(1);
    expect(server.inFlight).toBe(1);
    const closing = server.close(5_000);
    await vi.advanceTimersByTimeAsync(4_900);
    expect(signal?.aborted).toBe(false);
    expect(seen.size).toBe(0);
    await vi.advanceTimersByTimeAsync(200);
    await closing;
    expect(signal?.reason).toBeInstanceOf(ShutdownError);
    expect(seen.get("never")).toEqual([{ kind: "shutdown" }]);
    expect(client.replies(id)).toHaveLength(0);
  });
});

describe("getCallContext", () => {
  it("finds the call from nested async code and middleware", async () => {
    async function deep(): Promise<string | undefined> {
      await new Promise((resolve) => setTimeout(resolve, 1));
      return getCallContext()?.method;
    }
    class Svc {
      async where(): Promise<unknown> {
        const method = await deep();
        return [method, getCallContext()?.args];
      }
    }
    let inHook: CallContext | undefined;
    const { client } = setup(new Svc(), { middleware: [{ afterCall: () => void (inHook = getCallContext()) }] });
    expect((await client.call("where")).args).toEqual([["where", []]]);
    expect(inHook?.method).toBe("where");
    expect(getCallContext()).toBeUndefined();
  });

  it("is undefined with asyncContext: false", async () => {
    class Svc {
      where(): unknown {
        return getCallContext()?.method ?? null;
      }
    }
    const { client } = setup(new Svc(), { asyncContext: false });
    expect((await client.call("where")).args).toEqual([null]);
  });

  it("gives each concurrent call its own context and locals", async () => {
    const registry = createRegistry();
    const stamp: ServerMiddleware = { beforeCall: (call) => void call.locals.set("n", call.args[0]) };
    registry.register(async function which(_n: number) {
      await new Promise((resolve) => setTimeout(resolve, 5 - (_n % 5)));
      return getCallContext()?.locals.get("n");
    });
    const { client } = setup(registry, { middleware: [stamp] });
    const ids = Array.from({ length: 10 }, (_, n) => client.request("which", [n]));
    const replies = await Promise.all(ids.map((id) => client.next(id)));
    expect(replies.map((r) => r.args)).toEqual(Array.from({ length: 10 }, (_, n) => [n]));
  });
});
