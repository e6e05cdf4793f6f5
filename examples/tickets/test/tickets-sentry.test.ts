// The tickets demo with SENTRY_DSN set: a failing call (boom) is reported to that DSN. The DSN
// points at a loopback HTTP receiver that parses the real SDK's envelopes.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { gunzipSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { connect, RemoteError } from "@zrpc/client";
import type { tickets } from "../tickets/rpcs.js";
import { startTickets } from "./helpers.js";

interface ReceivedEvent {
  exception?: { values?: { type?: string; value?: string }[] };
  tags?: Record<string, string>;
}

const events: ReceivedEvent[] = [];
let onEvent: (() => void) | undefined;
const receiver = createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on("data", (chunk: Buffer) => chunks.push(chunk));
  request.on("end", () => {
    let body = Buffer.concat(chunks);
    if (request.headers["content-encoding"] === "gzip") body = gunzipSync(body);
    const lines = body.toString("utf8").split("\n");
    // envelope: header line, then (item header, item payload) pairs
    for (let i = 1; i + 1 < lines.length; i += 2) {
      const header = JSON.parse(lines[i]!) as { type?: string };
      if (header.type === "event") {
        events.push(JSON.parse(lines[i + 1]!) as ReceivedEvent);
        onEvent?.();
      }
    }
    response.writeHead(200, { "content-type": "application/json" }).end("{}");
  });
});
afterAll(() => new Promise<void>((resolve) => receiver.close(() => resolve())));

function nextEvent(): Promise<void> {
  return new Promise((resolve) => {
    onEvent = resolve;
  });
}

describe("tickets with SENTRY_DSN", () => {
  it("reports boom() to the DSN with the rpc tags, and keeps serving", async () => {
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    const port = (receiver.address() as AddressInfo).port;
    const dsn = `http://publickey@127.0.0.1:${port}/42`;
    const { server, endpoint } = await startTickets({ DATABASE_URL: undefined, PGLITE_DATA_DIR: undefined, SENTRY_DSN: dsn });
    const client = await connect<typeof tickets>(endpoint, { heartbeatMs: 5_000, timeoutMs: 30_000 });
    try {
      // an expected business error first: it must not be reported
      const invalid = await client.call("ticket_list", [-1]).catch((error: unknown) => error);
      expect((invalid as RemoteError).remoteName).toBe("ValueError");
      const arrived = nextEvent();
      const failure = await client.call("boom").catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(RemoteError);
      await arrived;
      const event = events.find((e) => e.exception?.values?.some((v) => /boom/.test(v.value ?? "")));
      expect(event).toBeDefined();
      expect(events.some((e) => e.exception?.values?.some((v) => v.type === "ValueError"))).toBe(false);
      expect(event!.tags).toMatchObject({ "rpc.system": "zerorpc", "rpc.method": "boom", "rpc.service": "Tickets" });
      // the server is still healthy after reporting
      await expect(client.call("get_ticket")).resolves.toMatchObject({ id: 1 });
    } finally {
      await client.close();
    }
    expect(await server.stop("SIGTERM")).toEqual({ code: 0, signal: null });
  }, 180_000);
});
