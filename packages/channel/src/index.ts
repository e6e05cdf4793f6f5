export { Channel } from "./channel.js";
export type { ChannelEnd, ChannelRole, ChannelSettings, TakeReceiver } from "./channel.js";
export {
  Multiplexer,
  createMultiplexer,
  DEFAULT_HEARTBEAT_MS,
  DEFAULT_MAX_CHANNELS_PER_PEER,
  DEFAULT_RECEIVE_BUFFER,
} from "./multiplexer.js";
export type { DropReason, MultiplexerOptions, OpenChannelOptions } from "./multiplexer.js";
export { LostRemote, ChannelClosedError } from "./errors.js";
export type { LostRemoteDetails } from "./errors.js";
export type {
  ConnectionEvent,
  OpenedTransport,
  Peer,
  Transport,
  TransportAuthFailure,
  TransportDefaults,
  TransportFactory,
  TransportKind,
  TransportMessage,
} from "./transport.js";
export { curveKeyBytes, curveKeyText, isCurveClientOptions, isCurveKey, z85Decode, z85Encode } from "./curve.js";
export type { CurveAuthFailure, CurveClientIdentity, CurveClientOptions, CurveKey, CurveKeyPair, CurveOptions, CurveServerOptions } from "./curve.js";
export { systemClock } from "./clock.js";
export { ZrpcExtensions, readCaps, readCancelReason, readDeadline } from "./extensions.js";
export type { CancelReason } from "./extensions.js";
export type { Clock } from "./clock.js";

// Symbols below are for other zrpc packages and transport authors.
export { TransportInbox } from "./transport-inbox.js";
export type { MessageListener, ReaderKind, TransportInboxOptions } from "./transport-inbox.js";
export { Fifo } from "./fifo.js";
export { ConnectionWatchers } from "./connection-watchers.js";
export { EMPTY_FRAME, SINGLE_PEER, envelopeKey, joinDealerFrames, joinRouterFrames, joinSingleFrame, splitDealerFrames, splitRouterFrames } from "./envelope.js";
export type { RoutedPayload } from "./envelope.js";
export { transportFactoryOption } from "./transport-option.js";
export { checkCurveClientOptions, checkCurveOptions, checkCurveServerOptions } from "./curve-check.js";
export { defineTransportFactory } from "./define-factory.js";
export { endpointListOption, integerOption, openSocketTransport, routingIdOption, socketShorthands } from "./socket-transport.js";
export type { OpeningTransport, ResolvedSocketOptions, SocketShorthands, SocketTransportOptions } from "./socket-transport.js";
export type { DefinedTransportFactory, FactorySocketOptions, TransportOpenRequest } from "./define-factory.js";
