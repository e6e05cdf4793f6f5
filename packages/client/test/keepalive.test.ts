// connect() asks its transport for connection keepalives at the client's heartbeat interval
// (TransportDefaults.heartbeatMs, timeout two intervals), so that a connection that died silently
// is noticed and redialled while no call is open (packages/faults, test/net-*.test.ts).
import { afterEach, describe, expect, it } from "vitest";
import { zmtp } from "@zrpc/transport-zmtp";
import type { TransportDefaults, TransportFactory } from "@zrpc/channel";
import { connect } from "../src/index.js";
import type { Client } from "../src/index.js";

const opened: Client[] = [];
afterEach(async () => {
  for (const client of opened.splice(0)) await client.close();
});

/** A zmtp() factory that records the defaults each open() got. */
function recording(): { factory: TransportFactory; seen: (TransportDefaults | undefined)[] } {
  const inner = zmtp({ linger: 0 });
  const seen: (TransportDefaults | undefined)[] = [];
  return {
    seen,
    factory: {
      name: "recording",
      open(kind, how, endpoint, defaults) {
        seen.push(defaults);
        return inner.open(kind, how, endpoint, defaults);
      },
    },
  };
}

describe("connect() keepalives", () => {
  it.each([
    { heartbeatMs: undefined, expected: { heartbeatMs: 5000, heartbeatTimeoutMs: 10_000 } },
    { heartbeatMs: 1000, expected: { heartbeatMs: 1000, heartbeatTimeoutMs: 2000 } },
    { heartbeatMs: 0, expected: {} },
    { heartbeatMs: null, expected: {} },
  ])("heartbeatMs $heartbeatMs asks the transport for $expected", async ({ heartbeatMs, expected }) => {
    const { factory, seen } = recording();
    opened.push(await connect("tcp://127.0.0.1:1", { transport: factory, ...(heartbeatMs !== undefined && { heartbeatMs }), maxMessageBytes: 4096 }));
    expect(seen).toEqual([{ ...expected, maxMessageSize: 4096 }]);
  });
});
