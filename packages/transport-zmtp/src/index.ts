// @zrpc/transport-zmtp: a pure-TypeScript ZMTP 3.1 implementation of the zrpc transport port.

// For users.
export { zmtp } from "./factory.js";
export type { ZmtpFactoryOptions, ZmtpTransportFactory } from "./factory.js";
export { bindRouter, connectDealer, createZmtpTransport } from "./open.js";
export type { ZmtpTransport, ZmtpTransportStats } from "./transport-api.js";
export { zmtpTransportDefaults } from "./options.js";
export type { ZmtpMonitorEvent, ZmtpTransportOptions } from "./options.js";
export { ZmtpEndpointError, ZmtpError } from "./errors.js";
export { curveKeyPair, curvePublicKey } from "./curve/keys.js";
export type { ZmtpErrorCode } from "./errors.js";

// The transport port these implement (re-exported for convenience).
export type { CurveAuthFailure, CurveKey, CurveKeyPair, CurveOptions } from "@zrpc/channel";
export type { OpenedTransport, Peer, Transport, TransportDefaults, TransportFactory, TransportKind, TransportMessage } from "@zrpc/channel";
