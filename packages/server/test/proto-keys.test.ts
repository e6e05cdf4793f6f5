// Map keys named "__proto__", "constructor", "prototype" are ordinary data for a Python client:
// the server answers such requests, hands the keys to handlers as own properties, and a
// taskContext middleware may return such a key for the reply header. No prototype changes.
import { describe, expect, it } from "vitest";
import { newMessageId } from "@zrpc/wire";
import { createRegistry } from "../src/index.js";
import type { CallContext } from "../src/index.js";
import { setup } from "./helpers.js";

function prototypeState(): string {
  const names = (target: object): string => Reflect.ownKeys(target).map(String).sort().join(",");
  return [names(Object.prototype), names(Function.prototype), names(Array.prototype)].join("|");
}

describe("prototype-named keys", () => {
  it("a request with __proto__ / constructor / prototype keys in its args is answered with them, as own data", async () => {
    const before = prototypeState();
    const seen: { proto: unknown; keys: string[] }[] = [];
    const methods = createRegistry();
    methods.register(function echo(value: object) {
      seen.push({ proto: Object.getPrototypeOf(value), keys: Object.keys(value) });
      return value;
    });
    const { client } = setup(methods);
    const payloads = [
      '{"__proto__": {"polluted": true}}',
      '{"constructor": {"prototype": {"polluted": true}}}',
      '{"a": 1, "prototype": [{"__proto__": {"isAdmin": true}}], "__proto__": null}',
    ];
    for (const json of payloads) {
      const id = newMessageId();
      client.sendRaw({ message_id: id, v: 3 }, "echo", [JSON.parse(json)]);
      const reply = await client.next(id);
      expect(reply.name).toBe("OK");
      expect(reply.args).toEqual([JSON.parse(json)]);
      expect(JSON.stringify(reply.args)).toBe(JSON.stringify([JSON.parse(json)]));
    }
    expect(seen).toEqual([
      { proto: Object.prototype, keys: ["__proto__"] },
      { proto: Object.prototype, keys: ["constructor"] },
      { proto: Object.prototype, keys: ["a", "prototype", "__proto__"] },
    ]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
    expect(prototypeState()).toBe(before);
  });

  it("a __proto__ key from a taskContext hook (e.g. copied from the request header) reaches the reply header as a key", async () => {
    const methods = createRegistry();
    methods.register(function ping() {
      return "pong";
    });
    const { client } = setup(methods, {
      middleware: [{ taskContext: (call: CallContext) => ({ ...call.header }) }],
    });
    const id = newMessageId();
    const header = JSON.parse('{"__proto__": {"polluted": true}, "trace": "t1"}') as Record<string, unknown>;
    client.sendRaw({ message_id: id, v: 3, ...header }, "ping", []);
    const reply = await client.next(id);
    expect(reply.name).toBe("OK");
    expect(Object.getPrototypeOf(reply.header)).toBe(Object.prototype);
    expect(Object.keys(reply.header)).toEqual(["message_id", "v", "__proto__", "trace", "response_to"]);
    expect(Object.getOwnPropertyDescriptor(reply.header, "__proto__")?.value).toEqual({ polluted: true });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
