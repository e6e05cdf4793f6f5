import { describe, expect, it } from "vitest";
import { ProtocolError, ZrpcError, f64 } from "@zrpc/wire";
import type { Event } from "@zrpc/wire";
import { createPublisher, createPuller, createPusher, createSubscriber } from "../src/index.js";
import { oneWayPair } from "./helpers.js";

/** Resolves once `predicate` holds, polling on microtasks only (the in-memory pair is microtask-driven). */
async function until(predicate: () => boolean): Promise<void> {
  for (let i = 0; i < 10_000 && !predicate(); i++) await new Promise<void>((resolve) => setImmediate(resolve));
  expect(predicate()).toBe(true);
}

describe("one-way patterns (in memory)", () => {
  it("pushes events that the puller dispatches to handlers, in order", async () => {
    const { sender, receiver } = oneWayPair("push");
    const calls: unknown[][] = [];
    const puller = createPuller(
      {
        echo(x: unknown) {
          calls.push(["echo", x]);
        },
        async add(a: number, b: number) {
          await Promise.resolve();
          calls.push(["add", a + b]);
        },
      },
      { transport: receiver },
    );
    const pusher = createPusher({ transport: sender });
    pusher.send("echo", ["pushed"]);
    pusher.send("add", [1, 2]);
    pusher.send("echo", [{ k: [null, true, f64(1.5), new Uint8Array([0, 255]), "\u2603"] }]);
    await until(() => calls.length === 3);
    expect(calls[0]).toEqual(["echo", "pushed"]);
    expect(calls[1]).toEqual(["add", 3]);
    expect(calls[2]![1]).toEqual({ k: [null, true, 1.5, new Uint8Array([0, 255]), "\u2603"] });
    await pusher.close();
    await puller.close();
  });

  it("sends single events with message_id, v, task context and extra header keys; no channel", async () => {
    const { sender, receiver } = oneWayPair("pub");
    const events: Event[] = [];
    const subscriber = createSubscriber((event) => void events.push(event), { transport: receiver });
    const publisher = createPublisher({
      transport: sender,
      middleware: [{ beforeRequest: (request) => void (request.header.trace = `t-${request.method}`) }],
    });
    publisher.send("tick", [1], { tenant: "a", response_to: "ignored" });
    publisher.send("tock");
    await until(() => events.length === 2);
    expect(events[0]!.name).toBe("tick");
    expect(events[0]!.args).toEqual([1]);
    expect(Object.keys(events[0]!.header)).toEqual(["message_id", "v", "tenant", "trace"]);
    expect(events[0]!.header).toMatchObject({ v: 3, tenant: "a", trace: "t-tick" });
    expect(events[0]!.header.message_id).toBeInstanceOf(Uint8Array);
    expect(events[1]!.args).toEqual([]);
    await publisher.close();
    await subscriber.close();
  });

  it("reports unknown names, bad args, failing handlers and undecodable messages to onError", async () => {
    const { sender, receiver } = oneWayPair("push");
    const errors: { error: unknown; name: string | undefined }[] = [];
    const ok: unknown[] = [];
    const puller = createPuller(
      {
        boom() {
          throw new Error("handler failed");
        },
        async reject() {
          await Promise.resolve();
          throw new Error("handler rejected");
        },
        ok(x: unknown) {
          ok.push(x);
        },
      },
      { transport: receiver, onError: (error, event) => errors.push({ error, name: event?.name }) },
    );
    const pusher = createPusher({ transport: sender });
    pusher.send("nope");
    pusher.send("toString");
    pusher.send("boom");
    pusher.send("reject");
    sender.send(undefined, new Uint8Array([0xc1]));
    // A hand-made event whose args are not an array.
    sender.send(undefined, new Uint8Array([0x93, 0x80, 0xa2, 0x6f, 0x6b, 0x05]));
    pusher.send("ok", [1]);
    await until(() => ok.length === 1);
    expect(errors.map((e) => e.name)).toEqual(["nope", "toString", "boom", "reject", undefined, "ok"]);
    expect(errors[0]!.error).toBeInstanceOf(ZrpcError);
    expect((errors[0]!.error as Error).message).toMatch(/no handler/);
    expect((errors[2]!.error as Error).message).toBe("handler failed");
    expect((errors[3]!.error as Error).message).toBe("handler rejected");
    expect(errors[4]!.error).toBeInstanceOf(ProtocolError);
    expect(errors[5]!.error).toBeInstanceOf(ProtocolError);
    await pusher.close();
    await puller.close();
  });

  it("calls prototype methods of a class instance but nothing of Object.prototype or _-names", async () => {
    const { sender, receiver } = oneWayPair("push");
    const seen: string[] = [];
    class Handlers {
      prefix = ">";
      greet(name: string): void {
        seen.push(`${this.prefix}${name}`);
      }
      _private(): void {
        seen.push("private");
      }
    }
    const errors: unknown[] = [];
    const puller = createPuller(new Handlers(), { transport: receiver, onError: (e) => errors.push(e) });
    const pusher = createPusher({ transport: sender });
    pusher.send("_private");
    pusher.send("hasOwnProperty", ["x"]);
    pusher.send("greet", ["ann"]);
    await until(() => seen.length === 1);
    expect(seen).toEqual([">ann"]);
    expect(errors).toHaveLength(2);
    await pusher.close();
    await puller.close();
  });

  it("checks transport kinds and throws on bad sends", async () => {
    const push = oneWayPair("push");
    const pub = oneWayPair("pub");
    expect(() => createPusher({ transport: pub.sender })).toThrow(/push transport/);
    expect(() => createPublisher({ transport: push.sender })).toThrow(/pub transport/);
    expect(() => createPuller({}, { transport: pub.receiver })).toThrow(/pull transport/);
    expect(() => createSubscriber({}, { transport: push.receiver })).toThrow(/sub transport/);
    const pusher = createPusher({ transport: push.sender });
    expect(() => pusher.send("x", [Symbol("no")])).toThrow(ZrpcError);
    await pusher.close();
    expect(() => pusher.send("x")).toThrow();
    await expect(pusher.closed).resolves.toBeUndefined();
    await pub.sender.close();
  });
});
