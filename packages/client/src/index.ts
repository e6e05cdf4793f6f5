// @zrpc/client: the calling side of zerorpc. Calls, streams, typed proxies, timeouts,
// middleware and the one-way patterns (push/pull, pub/sub).

// For users.
export { connect } from "./connect.js";
export type { ConnectOptions } from "./connect.js";
export { createClient, untyped } from "./client.js";
export type { Client } from "./client.js";
export type { CallResult } from "./call.js";
export { DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_TIMEOUT_MS } from "./options.js";
export type { CallOptions, ClientExtension, ClientOptions } from "./options.js";
export { CanceledError, ConnectError, RemoteError, TimeoutExpired, isRetryable } from "./errors.js";
export type { ConnectFailure } from "./errors.js";
export { LostRemote } from "@zrpc/channel";
export type { TransportOption } from "./transports.js";
// CURVE (the `curve` option of connect() and the one-way helpers): keys and their Z85 text.
export { curveKeyPair, curvePublicKey } from "@zrpc/transport-zmtp";
export { isCurveKey, z85Decode, z85Encode } from "@zrpc/channel";
export type { CurveClientIdentity, CurveClientOptions, CurveKey, CurveKeyPair, CurveOptions, CurveServerOptions } from "@zrpc/channel";
export { ProtocolError, ZrpcError } from "@zrpc/wire";
export type { ZrpcErrorCode } from "@zrpc/wire";
// Values plain JS cannot carry faithfully (float64 2.0, ext types), so that one package is enough.
export { Ext, Float64, f64 } from "@zrpc/wire";
export type { ClientProxy, ProxyMethod, ServiceType, StreamItem, UntypedProxy } from "./typed.js";
export {
  bindPublisher,
  bindPuller,
  bindPusher,
  bindSubscriber,
  connectPublisher,
  connectPuller,
  connectPusher,
  connectSubscriber,
  createPublisher,
  createPuller,
  createPusher,
  createSubscriber,
} from "./one-way.js";
export type {
  OneWayEndpointOptions,
  OneWayHandlers,
  OneWayListener,
  OneWayReceiver,
  OneWayReceiverEndpointOptions,
  OneWayReceiverOptions,
  OneWaySender,
  OneWaySenderEndpointOptions,
  OneWaySenderOptions,
  Publisher,
  Puller,
  Pusher,
  Subscriber,
} from "./one-way.js";

// Symbols below are for middleware, pool and transport authors, and for typing helpers.
// node:diagnostics_channel events of every call (for APMs; see the README, "Diagnostics channels").
export { CLIENT_CALL_CHANNELS } from "./diagnostics.js";
export type { ClientCallMessage, ClientCallOutcome } from "./diagnostics.js";
export type { ClientMiddleware, ClientRequest } from "./middleware.js";
export type { Event } from "@zrpc/wire";
export type { Clock, ConnectionEvent, OpenedTransport, Transport, TransportDefaults, TransportFactory } from "@zrpc/channel";
export type { CallValue, IntrospectionName, MethodArgs, MethodName, StreamValue, TypedCallRest, UnknownMethodName } from "./typed.js";
