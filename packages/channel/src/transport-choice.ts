// Which transport a helper that opens its own socket should use, from the `{ transport, zmtp,
// zeromq }` options that @zrpc/client and @zrpc/server take. Only names: this package imports no
// transport.

/** `"zmtp"` (@zrpc/transport-zmtp, the default) or `"zeromq"` (@zrpc/transport-zeromq). */
export type TransportName = "zmtp" | "zeromq";

/**
 * The transport `choice` names: `transport` when given, else `"zeromq"` when only `zeromq`
 * options are given, else `"zmtp"`. A `TypeError` for an unknown name or options that contradict
 * it.
 */
export function chooseTransport(choice: { readonly transport?: unknown; readonly zmtp?: unknown; readonly zeromq?: unknown }): TransportName {
  const { transport, zmtp, zeromq } = choice;
  if (transport !== undefined && transport !== "zmtp" && transport !== "zeromq") {
    throw new TypeError(`transport must be "zmtp" or "zeromq", got ${JSON.stringify(transport)}`);
  }
  if (transport === "zmtp" && zeromq !== undefined) throw new TypeError('zeromq options were given, but the transport is "zmtp"');
  if (transport === "zeromq" && zmtp !== undefined) throw new TypeError('zmtp options were given, but the transport is "zeromq"');
  if (transport !== undefined) return transport;
  if (zeromq !== undefined && zmtp !== undefined) {
    throw new TypeError('both zmtp and zeromq options were given: pick one with transport: "zmtp" or "zeromq"');
  }
  return zeromq !== undefined ? "zeromq" : "zmtp";
}
