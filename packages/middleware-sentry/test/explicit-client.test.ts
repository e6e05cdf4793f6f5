// Without a global SDK: the middlewares stay out of the way, and `client` sends through a Sentry
// client the application built itself (not registered globally).
import * as Sentry from "@sentry/node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RemoteError } from "@zrpc/client";
import { createRegistry } from "@zrpc/server";
import { sentryClientMiddleware, sentryServerMiddleware } from "../src/index.js";
import { Observer, Resources } from "./helpers.js";
import { SentryReceiver } from "./sentry-receiver.js";

let receiver: SentryReceiver;
const resources = new Resources();
const methods = createRegistry();
methods.register(function add(a: number, b: number) {
  return a + b;
});
methods.register(function explode(label: string) {
  throw new Error(`exploded: ${label}`);
});

beforeAll(async () => {
  receiver = await SentryReceiver.start();
});

afterAll(async () => {
  await resources.closeAll();
  await receiver.close();
  expect(receiver.failures).toEqual([]);
});

describe("without Sentry.init", () => {
  it("serves and calls normally, sends nothing and propagates nothing", async () => {
    expect(Sentry.getClient()).toBeUndefined();
    const observer = new Observer();
    const endpoint = await resources.server(methods, { name: "plain", middleware: [sentryServerMiddleware(), observer] });
    const client = await resources.client(endpoint, [sentryClientMiddleware()]);
    await expect(client.call("add", [1, 2])).resolves.toBe(3);
    await expect(client.call("explode", ["no sdk"])).rejects.toBeInstanceOf(RemoteError);
    expect(observer.headers.every((header) => !("sentry-trace" in header))).toBe(true);
    expect(receiver.envelopes).toEqual([]);
  });

  it("reports through an explicit client", async () => {
    const sentryClient = new Sentry.NodeClient({
      dsn: receiver.dsn,
      transport: Sentry.makeNodeTransport,
      stackParser: Sentry.defaultStackParser,
      integrations: [],
    });
    sentryClient.init();
    const endpoint = await resources.server(methods, {
      name: "explicit",
      middleware: [sentryServerMiddleware({ client: sentryClient, tracing: false })],
    });
    const client = await resources.client(endpoint);
    await expect(client.call("explode", ["explicit client"])).rejects.toBeInstanceOf(RemoteError);
    const event = await receiver.waitForEvent(
      "the explicit client's event",
      (e) => e.exception?.values?.[0]?.value === "exploded: explicit client",
      (timeoutMs) => sentryClient.flush(timeoutMs),
    );
    expect(event.tags).toMatchObject({ "rpc.system": "zerorpc", "rpc.method": "explode", "rpc.service": "explicit" });
    expect(event.contexts.zerorpc.args).toEqual(["explicit client"]);
    // The global SDK was never initialised.
    expect(Sentry.getClient()).toBeUndefined();
    await sentryClient.close(2000);
  });

  // Last in this file: it initialises the global SDK.
  it("initialises with tracesSampleRate 1 from a DSN with tracing: true", () => {
    sentryClientMiddleware({ dsn: receiver.dsn, tracing: true });
    expect(Sentry.getClient()?.getOptions().tracesSampleRate).toBe(1);
  });
});

afterAll(async () => {
  await Sentry.close(2000);
});
