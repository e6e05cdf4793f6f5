// Which transport a `connect()` / one-way helper opens its socket with: the pure-TypeScript ZMTP
// transport by default (no native addon), or zeromq.js when asked for (CURVE, libzmq's socket
// options). @zrpc/transport-zeromq is an optional peer dependency, loaded only when chosen.
import { chooseTransport } from "@zrpc/channel";
import type { Transport, TransportKind, TransportName } from "@zrpc/channel";
import { createZmtpTransport } from "@zrpc/transport-zmtp";
import type { ZmtpTransportOptions } from "@zrpc/transport-zmtp";
import type { ZeromqTransportOptions } from "@zrpc/transport-zeromq";
import type * as ZeromqTransportModule from "@zrpc/transport-zeromq";
import { ZrpcError } from "@zrpc/wire";

/**
 * `"zmtp"`: `@zrpc/transport-zmtp`, ZMTP 3.1 in TypeScript on `node:net` (the default: no native
 * addon, and the fastest). `"zeromq"`: `@zrpc/transport-zeromq`, zeromq.js and libzmq (for CURVE
 * and libzmq's socket options); install it next to this package.
 */
export type { TransportName };

/** How a helper that opens its own socket picks and configures the transport. */
export interface TransportChoice {
  /**
   * Which transport opens the socket. Default: `"zeromq"` when only `zeromq` options are given,
   * else `"zmtp"`.
   */
  readonly transport?: TransportName;
  /** Options of the ZMTP transport (high-water marks, reconnect, timeouts, ...). */
  readonly zmtp?: Omit<ZmtpTransportOptions, "bind" | "connect">;
  /** Options of the zeromq.js transport (CURVE, high-water marks, linger, ...). */
  readonly zeromq?: Omit<ZeromqTransportOptions, "bind" | "connect">;
}

type ZeromqModule = typeof ZeromqTransportModule;

/** Loads @zrpc/transport-zeromq, or explains how to get it. */
async function loadZeromq(how: "bind" | "connect"): Promise<ZeromqModule> {
  try {
    return await import("@zrpc/transport-zeromq");
  } catch (error) {
    throw new ZrpcError(
      how,
      'transport "zeromq" needs the package @zrpc/transport-zeromq (zeromq.js, a native addon), which is not installed: ' +
        'npm install @zrpc/transport-zeromq, or use the default transport "zmtp"',
      { cause: error },
    );
  }
}

/**
 * Opens a `kind` socket bound or connected to `endpoint` on the chosen transport.
 * `maxMessageBytes` becomes the transport's `maxMessageSize` unless that is set.
 * @internal
 */
export async function openTransport(
  kind: TransportKind,
  how: "bind" | "connect",
  endpoint: string | readonly string[],
  choice: TransportChoice,
  maxMessageBytes?: number,
): Promise<Transport> {
  if (chooseTransport(choice) === "zmtp") {
    const options = choice.zmtp ?? {};
    return createZmtpTransport(kind, {
      ...options,
      ...(maxMessageBytes !== undefined && options.maxMessageSize === undefined && { maxMessageSize: maxMessageBytes }),
      [how]: endpoint,
    });
  }
  const zeromq = await loadZeromq(how);
  const options = choice.zeromq ?? {};
  return zeromq.createZeromqTransport(kind, {
    ...options,
    ...(maxMessageBytes !== undefined && options.maxMessageSize === undefined && { maxMessageSize: maxMessageBytes }),
    [how]: endpoint,
  });
}
