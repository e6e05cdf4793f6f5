// Bound endpoints of a ZMTP transport: listening on TCP and IPC (with stale socket files removed).
import { lstat, unlink } from "node:fs/promises";
import { connect as netConnect, createServer } from "node:net";
import type { Server, Socket } from "node:net";
import type { ZmtpConnection } from "./connection.js";
import { formatTcp, parseEndpoint, resolveHost } from "./endpoint.js";
import type { Endpoint } from "./endpoint.js";
import { ZmtpEndpointError, describeError, toError } from "./errors.js";

/**
 * One bound endpoint and the connections accepted through it.
 * @internal
 */
export interface Listener {
  /** The endpoint as passed to `bind`. */
  readonly requested: string;
  /** The endpoint with wildcards resolved. */
  readonly resolved: string;
  readonly server: Server;
  readonly connections: Set<ZmtpConnection>;
}

/**
 * Parses `endpoint` and starts listening on it: resolves with the listening server and the
 * endpoint as resolved (`tcp://127.0.0.1:*` with the port picked). Rejects with a
 * {@link ZmtpEndpointError} of code `"bind"` naming the endpoint, having closed the server.
 * Accepted sockets are the caller's (`connection` events of the server).
 * @internal
 */
export async function listenOn(kind: string, endpoint: string): Promise<{ server: Server; resolved: string }> {
  let target: Endpoint;
  try {
    target = parseEndpoint(endpoint, "bind");
  } catch (error) {
    throw new ZmtpEndpointError("bind", endpoint, `cannot bind ${kind} transport to ${endpoint}: ${toError(error).message}`, {
      cause: error,
    });
  }
  const server = createServer({ noDelay: true });
  try {
    if (target.transport === "tcp") {
      const address = await resolveHost(target.host);
      await listen(server, { host: address, port: target.port, exclusive: true });
      const bound = server.address();
      const port = typeof bound === "object" && bound !== null ? bound.port : target.port;
      return { server, resolved: formatTcp(address, port) };
    }
    await listenIpc(server, target.path);
    return { server, resolved: `ipc://${target.path}` };
  } catch (error) {
    server.close();
    throw new ZmtpEndpointError("bind", endpoint, `cannot bind ${kind} transport to ${endpoint}: ${describeError(error)}`, {
      cause: error,
    });
  }
}

/** Stops listening; resolves once the server is closed (at once if it was not listening). @internal */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) {
      resolve();
      return;
    }
    server.close(() => resolve());
  });
}

function listen(server: Server, options: { host?: string; port?: number; path?: string; exclusive?: boolean }): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => reject(error);
    server.once("error", onError);
    server.listen(options, () => {
      server.off("error", onError);
      resolve();
    });
  });
}

/** Listens on a Unix socket path, removing a stale socket file (nobody accepting on it) first. */
async function listenIpc(server: Server, path: string): Promise<void> {
  try {
    await listen(server, { path });
    return;
  } catch (error) {
    if ((error as { code?: unknown }).code !== "EADDRINUSE") throw error;
  }
  const stats = await lstat(path);
  if (!stats.isSocket()) throw Object.assign(new Error(`${path} exists and is not a socket`), { code: "EADDRINUSE" });
  if (await socketAccepts(path)) throw Object.assign(new Error(`${path} is in use`), { code: "EADDRINUSE" });
  await unlink(path);
  await listen(server, { path });
}

function socketAccepts(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe: Socket = netConnect({ path });
    probe.once("connect", () => {
      probe.destroy();
      resolve(true);
    });
    probe.once("error", () => resolve(false));
  });
}
