// Configuration of the tickets server: `zrpc run` in this folder finds it.
import { defineConfig } from "@zrpc/cli";
import type { MiddlewareEntry } from "@zrpc/cli";
import { otelServerMiddleware } from "@zrpc/middleware-otel";
import { sentryServerMiddleware } from "@zrpc/middleware-sentry";
import { telemetryFromEnv } from "./telemetry.js";
import { createTicketsDatabase } from "./tickets/db.js";

// PGlite by default; PostgreSQL when DATABASE_URL is set.
const database = createTicketsDatabase();

const middleware: MiddlewareEntry[] = [database.middleware];

// OpenTelemetry: with OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_METRICS_EXPORTER=prometheus) set, a
// SERVER span and the RPC metrics per call. The SDK is registered in setup(), before the first
// call; `zrpc run` calls close() when it stops, which exports what is still buffered.
const telemetry = telemetryFromEnv();
if (telemetry !== undefined) {
  middleware.unshift(Object.assign(otelServerMiddleware(), { close: () => telemetry.shutdown() }));
}

// Sentry: when SENTRY_DSN is set, unexpected errors (boom()) are reported there. Outermost, so it
// sees every error and its scope and span wrap the database work. ValueError (bad input) is the
// demo's business error: expected, not reported.
if (process.env.SENTRY_DSN) {
  middleware.unshift(sentryServerMiddleware({ dsn: process.env.SENTRY_DSN, expected: ["ValueError"] }));
}

export default defineConfig({
  apps: ["./tickets"],
  server: { name: "Tickets", middleware },
  async setup() {
    await database.migrate();
    console.error(`tickets: database ready: ${database.description}`);
    if (telemetry !== undefined) {
      telemetry.start();
      console.error(`tickets: OpenTelemetry: ${telemetry.description}`);
    }
  },
});
