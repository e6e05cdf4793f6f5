// Configuration of the tickets server: `zrpc run` in this folder finds it.
import { defineConfig } from "@zrpc/cli";
import type { MiddlewareEntry } from "@zrpc/cli";
import { sentryServerMiddleware } from "@zrpc/middleware-sentry";
import { createTicketsDatabase } from "./tickets/db.js";

// PGlite by default; PostgreSQL when DATABASE_URL is set.
const database = createTicketsDatabase();

const middleware: MiddlewareEntry[] = [database.middleware];

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
  },
});
