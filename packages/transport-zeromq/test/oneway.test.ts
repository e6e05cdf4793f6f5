import { Pull, Subscriber } from "zeromq";
import { describe, expect, it } from "vitest";
import { createZeromqTransport } from "../src/index.js";
import type { TransportMessage } from "../src/index.js";
import { LOOPBACK, bytes, reader, text, track } from "./helpers.js";

describe("one-way kinds", () => {
  it("push -> pull delivers single-frame messages in order", async () => {
    const pull = track(await createZeromqTransport("pull", { bind: LOOPBACK }));
    const push = track(await createZeromqTransport("push", { connect: pull.endpoints[0]! }));
    const pullIn = reader(pull);
    for (let i = 0; i < 100; i++) push.send(undefined, bytes(`m${i}`));
    const received = await pullIn.take(100);
    expect(received.map((m) => text(m.payload))).toEqual(Array.from({ length: 100 }, (_, i) => `m${i}`));
    expect(received[0]!.peer).toEqual({ key: "", envelope: [] });
    expect(received[1]!.peer).toBe(received[0]!.peer);
  });

  it("push sends exactly [payload] on the wire", async () => {
    const raw = track(new Pull({ linger: 0 }));
    await raw.bind(LOOPBACK);
    const push = track(await createZeromqTransport("push", { connect: raw.lastEndpoint! }));
    push.send(undefined, bytes("one frame"));
    const frames = await raw.receive();
    expect(frames.map((frame) => frame.toString())).toEqual(["one frame"]);
  });

  it("pub -> sub delivers single-frame messages (re-sent until the subscription has arrived)", async () => {
    const pub = track(await createZeromqTransport("pub", { bind: LOOPBACK }));
    const sub = track(await createZeromqTransport("sub", { connect: pub.endpoints[0]! }));
    const raw = track(new Subscriber({ linger: 0 }));
    raw.subscribe();
    raw.connect(pub.endpoints[0]!);

    // A SUB misses whatever is published before its subscription reached the PUB, so publish
    // until both have one (bounded; each round waits for a delivery or a short tick).
    let got: TransportMessage | undefined;
    let rawFrames: Buffer[] | undefined;
    const subFirst = reader(sub)
      .next()
      .then((message) => (got = message));
    const rawFirst = raw.receive().then((frames) => (rawFrames = frames));
    for (let round = 0; round < 1000 && (got === undefined || rawFrames === undefined); round++) {
      pub.send(undefined, bytes("news"));
      await Promise.race([Promise.all([subFirst, rawFirst]), new Promise((resolve) => setTimeout(resolve, 10))]);
    }
    expect(got).toBeDefined();
    expect(text(got!.payload)).toBe("news");
    expect(got!.peer.key).toBe("");
    expect(rawFrames?.map((frame) => frame.toString())).toEqual(["news"]);
  });

  it("receive-only kinds refuse to send; send-only kinds end iteration at close", async () => {
    const pull = track(await createZeromqTransport("pull"));
    expect(() => pull.send(undefined, bytes("x"))).toThrow(TypeError);
    const push = track(await createZeromqTransport("push"));
    const pending = reader(push).done();
    await push.close();
    expect(await pending).toBe(true);
  });
});
