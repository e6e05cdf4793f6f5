// @zrpc/transport-zeromq: the ZeroMQ (zeromq.js v6) implementation of the zrpc transport port.

// For users.
export { zeromq } from "./factory.js";
export type { ZeromqFactoryOptions, ZeromqTransportFactory } from "./factory.js";
export { bindRouter, connectDealer, createZeromqTransport, zeromqVersion } from "./transport.js";
export type { ZeromqTransport } from "./transport.js";
export { zeromqTransportDefaults } from "./options.js";
export type {
  AuthFailure,
  CurveClientOptions,
  CurveOptions,
  CurveServerOptions,
  ZeromqTransportOptions,
} from "./options.js";
export { curveKeyPair, isCurveKey } from "./curve.js";
export type { CurveKeyPair } from "./curve.js";
export { TransportError } from "./errors.js";
export type { TransportErrorCode } from "./errors.js";

// The transport port these implement (re-exported for convenience).
export type { OpenedTransport, Peer, Transport, TransportDefaults, TransportFactory, TransportKind, TransportMessage } from "@zrpc/channel";
