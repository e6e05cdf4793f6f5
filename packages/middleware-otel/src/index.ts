// @zrpc/middleware-otel: OpenTelemetry spans and metrics for zrpc servers and clients, following
// the RPC semantic conventions, with W3C trace context in extra zerorpc header keys. Depends on
// `@opentelemetry/api` only; imports nothing from @zrpc/server or @zrpc/client at run time.

// For users.
export { otelServerMiddleware } from "./server.js";
export type { OtelServerMiddleware, OtelServerOptions } from "./server.js";
export { otelClientMiddleware } from "./client.js";
export type { OtelClientMiddleware, OtelClientOptions } from "./client.js";
export type { OtelOptions } from "./telemetry.js";
export type { SemconvMode } from "./semconv.js";

// For library authors and dashboards: the structural hook argument types, the names emitted.
export type { OtelCallOutcome, OtelServerCall } from "./server.js";
export type { OtelClientRequest, OtelReplyEvent } from "./client.js";
export { ATTR, DURATION_BUCKETS_SECONDS, METRIC, OTHER_METHOD, RPC_SYSTEM_NAME, semconvModeFromEnv } from "./semconv.js";
export { INSTRUMENTATION_NAME, INSTRUMENTATION_VERSION, mergeBaggage } from "./telemetry.js";
