// Map keys named "__proto__", "constructor" and "prototype" are ordinary dict keys for a Python
// client. A real server (zmtp transport, loopback) must answer requests carrying them, hand them
// to the handler as ordinary data, send them back byte-exact, and never touch a prototype.
import { afterEach, describe, expect, it } from "vitest";
import { Dealer } from "zeromq";
import { connect } from "@zrpc/client";
import type { Client } from "@zrpc/client";
import { createRegistry, createServer } from "@zrpc/server";
import type { Server } from "@zrpc/server";
import { decodeEvent } from "@zrpc/wire";
import { fromHex, toHex } from "@zrpc/test-support";
import { report } from "./helpers.js";

const hexOf = (text: string): string => toHex(new TextEncoder().encode(text));
/** fixstr, as msgpack-python packs a short str. */
const str = (text: string): string => (0xa0 + new TextEncoder().encode(text).length).toString(16) + hexOf(text);

/** Snapshot of everything a prototype pollution would change. */
function prototypeState(): string {
  const names = (target: object): string => Reflect.ownKeys(target).map(String).sort().join(",");
  return [names(Object.prototype), names(Function.prototype), names(Array.prototype), String(Object.getPrototypeOf(Object.prototype))].join("|");
}

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

interface Seen {
  readonly prototypeIsObject: boolean;
  readonly ownKeys: string[];
  readonly headerKeys: string[];
}

async function startEchoServer(): Promise<{ server: Server; endpoint: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const methods = createRegistry();
  methods.register(function echo(this: { header: Record<string, unknown> }, value: unknown) {
    if (typeof value === "object" && value !== null) {
      seen.push({
        prototypeIsObject: Object.getPrototypeOf(value) === Object.prototype,
        ownKeys: Object.keys(value),
        headerKeys: Object.keys(this.header),
      });
    }
    return value;
  });
  const server = createServer(methods, {
    // Echo the request's task context (its extra header keys) on every reply.
    middleware: [{ name: "context", taskContext: (call) => ({ ...call.header }) }],
  });
  const [endpoint] = await server.bind("tcp://127.0.0.1:*");
  cleanup.push(() => server.close(0));
  return { server, endpoint: endpoint!, seen };
}

describe("prototype-named keys through a real server", () => {
  it("answers golden bytes of zerorpc-python's client.echo({'__proto__': 1}) with the exact reply bytes", async () => {
    const { endpoint, seen } = await startEchoServer();
    // What zerorpc-python's client sends for client.echo({"__proto__": 1}): [header, "echo", [arg]],
    // header {"message_id": bin 32 hex digits, "v": 3}, the dict a fixmap with a fixstr key.
    const id = "c420" + hexOf("5b1e0a7c3f9d42e8a16b0c7d9e2f4a11");
    const request = "93" + "82" + str("message_id") + id + str("v") + "03" + str("echo") + "91" + "81" + str("__proto__") + "01";
    // A libzmq DEALER, as Python's client uses: an empty delimiter frame, then the event.
    const dealer = new Dealer({ linger: 0 });
    cleanup.push(() => Promise.resolve(dealer.close()));
    dealer.connect(endpoint);
    await dealer.send(["", fromHex(request)]);
    let reply: Buffer[] | undefined;
    for await (const frames of dealer) {
      if (decodeEvent(frames[frames.length - 1]!).name !== "_zpc_hb") {
        reply = frames;
        break;
      }
    }
    expect(reply).toHaveLength(2);
    expect(reply![0]!.length).toBe(0);
    const hex = toHex(reply![1]!);
    // [{"message_id": <fresh bin 32>, "v": 3, "response_to": <the request's id>}, "OK", [{"__proto__": 1}]]
    const before = "93" + "83" + str("message_id") + "c420";
    const after = str("v") + "03" + str("response_to") + id + str("OK") + "91" + "81" + str("__proto__") + "01";
    expect(hex.slice(0, before.length)).toBe(before);
    expect(hex.slice(before.length + 64)).toBe(after);
    expect(hex.length).toBe(before.length + 64 + after.length);
    expect(seen).toEqual([{ prototypeIsObject: true, ownKeys: ["__proto__"], headerKeys: ["message_id", "v"] }]);
    report(`golden zerorpc-python echo({"__proto__": 1}): ${request.length / 2}-byte request answered with the exact ${hex.length / 2}-byte reply`);
  });

  it("a zrpc client's echo of nested prototype-named keys comes back equal and byte-exact; a __proto__ header key round-trips", async () => {
    const { endpoint, seen } = await startEchoServer();
    const before = prototypeState();
    const client: Client = await connect(endpoint);
    cleanup.push(() => client.close());
    const payloads = [
      '{"__proto__": {"polluted": true}}',
      '{"constructor": {"prototype": {"polluted": true}}}',
      '{"a": 1, "__proto__": [{"__proto__": {"constructor": {"prototype": {"polluted": true}}}}], "prototype": {"polluted": true}, "z": 2}',
    ];
    for (const json of payloads) {
      const value = JSON.parse(json) as unknown;
      const back = await client.call("echo", [value]);
      expect(back).toEqual(value);
      expect(JSON.stringify(back)).toBe(JSON.stringify(value));
      expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
    }
    expect(seen.map((s) => s.ownKeys)).toEqual([["__proto__"], ["constructor"], ["a", "__proto__", "prototype", "z"]]);
    expect(seen.every((s) => s.prototypeIsObject)).toBe(true);

    // A request header with a __proto__ key (task context): accepted, and echoed on the reply by
    // the server's taskContext middleware as an own key.
    const dealer = new Dealer({ linger: 0 });
    cleanup.push(() => Promise.resolve(dealer.close()));
    dealer.connect(endpoint);
    const id = "c420" + hexOf("00000000000000000000000000000001");
    const context = str("__proto__") + "81" + str("polluted") + "c3";
    await dealer.send(["", fromHex("93" + "83" + str("message_id") + id + str("v") + "03" + context + str("echo") + "91" + "80")]);
    let replyHex = "";
    for await (const frames of dealer) {
      const event = decodeEvent(frames[frames.length - 1]!);
      if (event.name === "_zpc_hb") continue;
      expect(event.name).toBe("OK");
      expect(Object.keys(event.header)).toEqual(["message_id", "v", "__proto__", "response_to"]);
      replyHex = toHex(frames[frames.length - 1]!);
      break;
    }
    expect(replyHex).toContain(str("v") + "03" + context + str("response_to") + id);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty("polluted");
    expect(prototypeState()).toBe(before);
  });
});
