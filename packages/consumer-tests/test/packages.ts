import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** Every package that is published (not `"private"`), by its directory under `packages/`. */
export const PUBLISHED = [
  "wire",
  "channel",
  "transport-zmtp",
  "transport-zeromq",
  "client",
  "server",
  "pool",
  "middleware-db",
  "middleware-sentry",
  "middleware-otel",
  "cli",
] as const;

export type PublishedPackage = (typeof PUBLISHED)[number];

/** Tarball path of each published package, packed once per run by `global-setup.ts`. */
export type Tarballs = Record<PublishedPackage, string>;

declare module "vitest" {
  export interface ProvidedContext {
    tarballs: Tarballs;
  }
}

const here = dirname(fileURLToPath(import.meta.url));

/** The source directory of a workspace package. */
export function packageDir(name: PublishedPackage): string {
  return join(here, "..", "..", name);
}

/** This package's fixture projects, copied into temporary directories by the tests. */
export const FIXTURES = join(here, "..", "fixtures");
