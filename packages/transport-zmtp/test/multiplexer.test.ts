// @zrpc/channel's Multiplexer over this transport: request/reply and a credit-controlled stream.
import { describe, expect, it } from "vitest";
import { createMultiplexer } from "@zrpc/channel";
import type { Channel } from "@zrpc/channel";
import { bindRouter, connectDealer } from "../src/index.js";
import { LOOPBACK } from "./helpers.js";

async function streamItems(channel: Channel, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    await channel.whenWritable();
    channel.send("STREAM", i);
  }
  await channel.whenWritable();
  channel.send("STREAM_DONE", null);
  channel.close();
}

async function pair() {
  const router = await bindRouter(LOOPBACK);
  const dealer = await connectDealer(router.endpoints[0] as string);
  const server = createMultiplexer(router, {
    role: "server",
    onRequest: (channel, request) => {
      if (request.name === "add") {
        const [a, b] = request.args as [number, number];
        channel.send("OK", [a + b]);
        channel.close();
      } else if (request.name === "range") {
        void streamItems(channel, (request.args as [number])[0]).catch(() => undefined);
      }
    },
  });
  const client = createMultiplexer(dealer, { role: "client" });
  return {
    server,
    client,
    close: async () => {
      await client.close();
      await server.close();
    },
  };
}

describe("Multiplexer over ZMTP", () => {
  it("request/reply: add(2, 3) -> OK [5]", async () => {
    const { client, close } = await pair();
    try {
      const channel = client.open("add", [2, 3]);
      const reply = await channel.take();
      channel.close();
      expect(reply.name).toBe("OK");
      expect(reply.args).toEqual([5]);
    } finally {
      await close();
    }
  });

  it("a 10,000-item stream arrives complete and in order under _zpc_more credit", async () => {
    const { client, server, close } = await pair();
    try {
      const channel = client.open("range", [10_000]);
      const items: unknown[] = [];
      for (;;) {
        const event = await channel.take();
        if (event.name === "STREAM_DONE") break;
        expect(event.name).toBe("STREAM");
        items.push(event.args);
      }
      channel.close();
      expect(items).toHaveLength(10_000);
      expect(items.every((item, i) => item === i)).toBe(true);
      expect(server.size).toBe(0);
    } finally {
      await close();
    }
  });

  it("100 concurrent calls on one connection", async () => {
    const { client, close } = await pair();
    try {
      const replies = await Promise.all(
        Array.from({ length: 100 }, async (_, i) => {
          const channel = client.open("add", [i, 1]);
          const reply = await channel.take();
          channel.close();
          return reply.args;
        }),
      );
      expect(replies).toEqual(Array.from({ length: 100 }, (_, i) => [i + 1]));
    } finally {
      await close();
    }
  });
});
