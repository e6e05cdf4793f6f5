import { createRegistry, createServer } from "@zrpc/server";

/** A zrpc server from the workspace build, on a free loopback port, for the consumer scripts. */
export async function startCalcServer(): Promise<{ endpoint: string; close(): Promise<void> }> {
  const registry = createRegistry();
  registry.register(function add(a: number, b: number) {
    return a + b;
  });
  registry.register(function fail(message: string) {
    throw new RangeError(message);
  });
  const server = createServer(registry, { name: "Calc" });
  const [endpoint] = await server.bind("tcp://127.0.0.1:*");
  if (endpoint === undefined) throw new Error("bind returned no endpoint");
  return { endpoint, close: () => server.close() };
}
