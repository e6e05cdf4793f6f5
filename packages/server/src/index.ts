// Public entry of @zrpc/server. Symbols for applications first, then those for library authors.

export { createServer, DEFAULT_CLOSE_GRACE_MS, DEFAULT_LOG_RATE_LIMIT } from "./server.js";
export type { Server, ServerExtension, ServerOptions, ServerTransportOptions } from "./server.js";
export type { TransportFactory } from "@zrpc/channel";
// CURVE (the `curve` option of bind() and connect()): keys, their Z85 text, refused handshakes.
export { curveKeyPair, curvePublicKey } from "@zrpc/transport-zmtp";
export { isCurveKey, z85Decode, z85Encode } from "@zrpc/channel";
export type { CurveClientIdentity, CurveKey, CurveKeyPair, CurveServerOptions, TransportAuthFailure } from "@zrpc/channel";
export { createRegistry, registry, register, isRegistry } from "./registry.js";
export type { Handler, MethodSpec, RegisterOptions, Registry } from "./registry.js";
export type { Service, ServiceMethodsOptions } from "./service.js";
export { defineRpcs } from "./define-rpcs.js";
export type { DefineRpcsOptions, RemoteMethod, Rpcs, RpcsService, ServiceOf, StreamableName } from "./define-rpcs.js";
export type { StreamHandler, StreamItemOf } from "./stream-types.js";
export { getCallContext } from "./call-context.js";
export type { CallContext } from "./call-context.js";
export { ServiceError, raise, RegistrationError, ShutdownError, CallCanceled, CallCancelled, DeadlineExceeded } from "./errors.js";
export type { RegistrationErrorReason } from "./errors.js";
export type { CallOutcome, ErrorReply, ServerMiddleware } from "./middleware.js";
export { processWarningLogger, createProcessWarningLogger } from "./logger.js";
export type { Logger } from "./logger.js";
// node:diagnostics_channel events of every call (for APMs; see the README, "Diagnostics channels").
export { SERVER_CALL_CHANNELS } from "./diagnostics.js";
export type { ServerCallMessage } from "./diagnostics.js";

// Symbols below are for library authors (middleware, tooling): argument introspection helpers.

export { parseArgs } from "./signature.js";
export type { ArgsInput, ArgsSpec, ParamSpec } from "./signature.js";
export { cleandoc } from "./python.js";
export { INTROSPECTION_METHODS, isIntrospectionName } from "./introspection.js";
export type { InspectMethodTypes } from "./introspection.js";
export type { MethodTypes, MethodTypesTable } from "./method-types.js";
