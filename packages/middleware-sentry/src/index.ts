// @zrpc/middleware-sentry: report zrpc calls to Sentry and trace them across client and server.
// Imports nothing from @zrpc/server or @zrpc/client at run time: the hooks' arguments are
// described by local structural types, so each half works with only its own peer installed.

// For users.
export { sentryServerMiddleware } from "./server.js";
export type { ExpectedError, SentryServerMiddleware, SentryServerOptions } from "./server.js";
export { sentryClientMiddleware } from "./client.js";
export type { SentryClientMiddleware, SentryClientOptions } from "./client.js";
export type { SentrySetupOptions } from "./sdk.js";
export { DEFAULT_REDACT_KEYS } from "./summarize.js";
export type { ArgsSummaryOptions } from "./summarize.js";

// Symbols below are for library authors: the structural types of the hook arguments, the header
// keys used for propagation, and the argument summariser.
export type { SentryCallOutcome, SentryServerCall } from "./server.js";
export type { SentryClientRequest } from "./client.js";
export { BAGGAGE_KEY, RPC_SYSTEM, SENTRY_TRACE_KEY } from "./sdk.js";
export { describeValue, messageIdText, peerText, summarizeArgs } from "./summarize.js";
export type { ArgsSummary } from "./summarize.js";
