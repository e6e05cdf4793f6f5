// The tickets demo, run by scripts/demo: start the tickets server with `zrpc run` (a child
// process, any free port on loopback), call it with `zrpc call`, print what came back, stop the
// server with SIGTERM and check that it exits 0. Only the command line is used, as a person would.
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const cliManifest = require.resolve("@zrpc/cli/package.json");
const zrpc = join(dirname(cliManifest), require(cliManifest).bin.zrpc);

const indent = (prefix, text) => text.split("\n").filter((line) => line !== "").map((line) => `${prefix}${line}`).join("\n");

/** Runs `zrpc ...args` to completion; resolves with its status and output. */
function run(args) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [zrpc, ...args], { cwd: here, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

async function call(endpoint, ...args) {
  console.log(`\n$ zrpc call ${endpoint} ${args.join(" ")}`);
  const result = await run(["call", endpoint, ...args]);
  if (result.stdout !== "") console.log(indent("  ", result.stdout));
  if (result.stderr !== "") console.log(indent("  stderr: ", result.stderr));
  console.log(`  (exit status ${result.code})`);
  return result;
}

console.log("demo: starting the tickets server: zrpc run 127.0.0.1:0 (in examples/tickets)");
const server = spawn(process.execPath, [zrpc, "run", "127.0.0.1:0"], { cwd: here, stdio: ["ignore", "pipe", "pipe"] });
const exited = new Promise((resolve) => server.on("close", (code, signal) => resolve({ code, signal })));
createInterface({ input: server.stderr }).on("line", (line) => console.log(`  server! ${line}`));

// Wait for the ready line, which carries the port ZeroMQ picked.
const endpoint = await new Promise((resolve, reject) => {
  createInterface({ input: server.stdout }).on("line", (line) => {
    console.log(`  server| ${line}`);
    const match = /^Listening on (\S+) /.exec(line);
    if (match !== null) resolve(match[1]);
  });
  void exited.then(({ code, signal }) => reject(new Error(`the server exited (${code ?? signal}) before listening`)));
});

let failed = false;
try {
  const checks = [
    [await call(endpoint, "get_ticket"), 0],
    [await call(endpoint, "ticket_list", "3"), 0],
    [await call(endpoint, "boom"), 1],
  ];
  for (const [result, expected] of checks) if (result.code !== expected) failed = true;
  const inspect = await run(["inspect", endpoint]);
  console.log(`\n$ zrpc inspect ${endpoint}\n${indent("  ", inspect.stdout)}`);
} finally {
  console.log("\ndemo: stopping the server (SIGTERM)");
  server.kill("SIGTERM");
}
const { code, signal } = await exited;
console.log(`demo: server exited with status ${code ?? signal}`);
if (code !== 0 || failed) {
  console.error("demo: FAILED");
  process.exit(1);
}
console.log("demo: done");
