// Which transport the command's sockets run on: `zmtp` (@zrpc/transport-zmtp: ZMTP 3.1 in
// TypeScript on node:net, no native code; the default, a dependency of the CLI) or `zeromq`
// (@zrpc/transport-zeromq: zeromq.js and its native libzmq addon, an optional peer the user
// installs). Both speak ZMTP on the wire, so either end may use either. The command maps the name
// to a transport factory here; the zeromq package is loaded only when asked for, and typed through
// the small interface below, so the CLI's own types never name it.
import type { TransportFactory } from "@zrpc/client";
import { zmtp } from "@zrpc/transport-zmtp";
import { UsageError } from "./errors.js";

/** The transports, as `--transport` and `server.transport` spell them. */
export const TRANSPORT_NAMES = ["zmtp", "zeromq"] as const;

/** `"zeromq"` (@zrpc/transport-zeromq) or `"zmtp"` (@zrpc/transport-zmtp). */
export type TransportName = (typeof TRANSPORT_NAMES)[number];

/** The transport used when neither the command line nor the configuration chooses one. */
export const DEFAULT_TRANSPORT: TransportName = "zmtp";

/** True for a {@link TransportName}. */
export function isTransportName(value: unknown): value is TransportName {
  return typeof value === "string" && (TRANSPORT_NAMES as readonly string[]).includes(value);
}

/**
 * Reads `--transport`: `undefined` when absent, a {@link TransportName}, or a {@link UsageError}
 * naming what was given.
 */
export function transportOption(value: string | true | undefined): TransportName | undefined {
  if (value === undefined) return undefined;
  if (isTransportName(value)) return value;
  throw new UsageError(`--transport must be ${TRANSPORT_NAMES.join(" or ")}, got ${JSON.stringify(value)}`);
}

/** The part of @zrpc/transport-zeromq the command uses. */
export interface ZeromqPackage {
  zeromq(options?: { readonly linger?: number }): TransportFactory;
}

/** Loads @zrpc/transport-zeromq (injectable, for tests). */
export type ZeromqLoader = () => Promise<ZeromqPackage>;

const ZEROMQ_PACKAGE = "@zrpc/transport-zeromq";

/** The default {@link ZeromqLoader}: a dynamic import, resolved from the CLI's own location. */
export const loadZeromqPackage: ZeromqLoader = () => import("@zrpc/transport-zeromq");

/**
 * `--transport zeromq` was asked for, and @zrpc/transport-zeromq is not installed (or does not
 * load). The message says what to install; the command exits with status 1.
 */
export class TransportUnavailableError extends Error {
  /** @param message - what is missing and how to install it */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "TransportUnavailableError";
  }
}

function isMissingPackage(error: unknown): boolean {
  if (typeof error !== "object" || error === null) return false;
  const { code, message } = error as { code?: unknown; message?: unknown };
  return (code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND") && typeof message === "string" && message.includes(ZEROMQ_PACKAGE);
}

/** Settings of the sockets the command opens. */
export interface TransportSettings {
  /** ZMQ_LINGER-like wait at close, in ms (the transport's default when absent). */
  readonly linger?: number;
  /** Loads @zrpc/transport-zeromq; default {@link loadZeromqPackage}. */
  readonly loadZeromq?: ZeromqLoader;
}

/**
 * The transport factory `name` stands for: `zmtp(...)`, or `zeromq(...)` from
 * @zrpc/transport-zeromq, loaded now. Rejects with a {@link TransportUnavailableError} saying
 * `npm install @zrpc/transport-zeromq` when that package is not installed.
 */
export async function transportFactory(name: TransportName, settings: TransportSettings = {}): Promise<TransportFactory> {
  const options = settings.linger === undefined ? {} : { linger: settings.linger };
  if (name === "zmtp") return zmtp(options);
  let zeromqPackage: ZeromqPackage;
  try {
    zeromqPackage = await (settings.loadZeromq ?? loadZeromqPackage)();
  } catch (error) {
    const why = isMissingPackage(error)
      ? "which is not installed"
      : `which failed to load (${error instanceof Error ? error.message : String(error)})`;
    throw new TransportUnavailableError(
      `--transport zeromq needs the package ${ZEROMQ_PACKAGE} (zeromq.js, a native addon), ${why}: ` +
        `npm install ${ZEROMQ_PACKAGE}, or use --transport zmtp (the default, no native addon)`,
      { cause: error },
    );
  }
  return zeromqPackage.zeromq(options);
}
