// Loopback ports for tests that need a fixed endpoint before anything listens on it.
import { createServer } from "node:net";

/**
 * A TCP port on 127.0.0.1 that was free a moment ago: the system picks it (port 0), we close the
 * listener and hand the number on. Prefer binding to port 0 yourself when the code under test
 * can report the port it got; this is for the cases that need the number first.
 */
export function freePort(host = "127.0.0.1"): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen(0, host, () => {
      const address = server.address();
      if (address === null || typeof address === "string") {
        server.close(() => reject(new Error("the listener has no TCP port")));
        return;
      }
      server.close(() => resolve(address.port));
    });
  });
}

/** `tcp://127.0.0.1:PORT` for a port that was free a moment ago (nobody listens there). */
export async function freeEndpoint(host = "127.0.0.1"): Promise<string> {
  return `tcp://${host}:${await freePort(host)}`;
}
