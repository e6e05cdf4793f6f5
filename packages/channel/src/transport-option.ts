// The `transport` option of the helpers that open their own socket (@zrpc/client's `connect` and
// one-way helpers, @zrpc/server's `bind`/`connect`, @zrpc/pool): checked here, once for all.
import type { TransportFactory } from "./transport.js";

const HOW_TO =
  "pass a transport factory: transport: zmtp({ ...options }) from @zrpc/transport-zmtp (the default) " +
  "or transport: zeromq({ ...options }) from @zrpc/transport-zeromq";

/**
 * Reads the `transport` option of `options`: the {@link TransportFactory} given, or `undefined`
 * when there is none (the caller then uses its default). A `TypeError` that says what to pass
 * instead for a transport name (`"zmtp"`), for anything else that is not a factory, and for the
 * keys `zmtp` and `zeromq` (socket options now go to the factory). With `allowed`, any key
 * outside it is refused the same way.
 * @param what names the function in the messages, e.g. `"server.bind()"`.
 */
export function transportFactoryOption(
  options: object,
  what: string,
  allowed?: ReadonlySet<string>,
): TransportFactory | undefined {
  if (typeof options !== "object" || options === null) throw new TypeError(`${what} options must be an object`);
  const stray = Object.keys(options).filter((key) => (allowed === undefined ? key === "zmtp" || key === "zeromq" : !allowed.has(key)));
  if (stray.length > 0) {
    throw new TypeError(
      `${what}: unknown option${stray.length === 1 ? "" : "s"} ${stray.join(", ")}; socket options go to the transport factory: ${HOW_TO}`,
    );
  }
  const transport = (options as { readonly transport?: unknown }).transport;
  if (transport === undefined) return undefined;
  if (typeof transport === "string") {
    throw new TypeError(`${what}: transport takes a factory, not the name ${JSON.stringify(transport)}: ${HOW_TO}`);
  }
  if (typeof transport !== "object" || transport === null || typeof (transport as { open?: unknown }).open !== "function") {
    throw new TypeError(`${what}: transport must be a transport factory (an object with an open() method): ${HOW_TO}`);
  }
  return transport as TransportFactory;
}
