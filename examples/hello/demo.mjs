// A zrpc server and client in one process, over real ZeroMQ sockets on loopback.
import { connect } from "@zrpc/client";
import { createRegistry, createServer } from "@zrpc/server";

const registry = createRegistry();
registry.register(function hello(name) {
  return `Hello, ${name}!`;
}, { doc: "Return a greeting." });
registry.register(function add(a, b) {
  return a + b;
}, { doc: "Return a + b." });
registry.register(async function* countdown(n) {
  for (let i = n; i > 0; i--) yield i;
}, { stream: true, doc: "Stream n, n-1, ..., 1." });

const server = createServer(registry, { name: "HelloService" });
const [endpoint] = await server.bind("tcp://127.0.0.1:*");
console.log(`server: listening on ${endpoint}, methods ${registry.names().join(", ")}`);

const client = await connect(endpoint);
try {
  console.log(`client: hello("zrpc")  -> ${JSON.stringify(await client.call("hello", ["zrpc"]))}`);
  console.log(`client: add(2, 3)      -> ${JSON.stringify(await client.call("add", [2, 3]))}`);
  const items = [];
  for await (const item of client.stream("countdown", [3])) items.push(item);
  console.log(`client: countdown(3)   -> ${JSON.stringify(items)} (streamed)`);
  console.log(`client: _zerorpc_ping -> ${JSON.stringify(await client.call("_zerorpc_ping"))}`);
  try {
    await client.call("nope");
  } catch (error) {
    console.log(`client: nope()         -> ${error.name}: ${error.message}`);
  }
} finally {
  await client.close();
  await server.close();
}
console.log("demo: done");
