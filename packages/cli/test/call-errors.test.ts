// `zrpc call` errors that say what happened: arguments that look like JSON but are not, --raw,
// --debug's event trace, and connection failures (a closed port, a peer that is not ZeroMQ).
import { createServer as createTcpServer } from "node:net";
import type { Server as TcpServer, Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRegistry, createServer } from "@zrpc/server";
import type { Server } from "@zrpc/server";
import { freePort } from "@zrpc/test-support";
import { runCli, startCli } from "./helpers.js";

let server: Server;
let endpoint: string;

beforeAll(async () => {
  const methods = createRegistry();
  methods.register(function echo(...values: unknown[]) {
    return values;
  });
  methods.register(function* count(n: number) {
    for (let i = 1; i <= n; i++) yield i;
  });
  server = createServer(methods, { name: "ErrorsTest" });
  [endpoint] = (await server.bind("tcp://127.0.0.1:*")) as [string];
});

afterAll(async () => {
  await server.close(0);
});

describe("zrpc call arguments", () => {
  it("refuses an argument that starts like JSON but does not parse (status 2, saying where)", async () => {
    const result = await runCli(["call", endpoint, "echo", "{bad"]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain('zrpc call: argument 1 "{bad" starts like JSON but is not valid JSON: ');
    expect(result.stderr).toMatch(/at position \d+/);
    expect(result.stderr).toContain("(use --raw to send every argument as a string)");
    for (const bad of ["[1, 2", '"open', " {x}"]) {
      expect(await runCli(["call", endpoint, "echo", "1", bad])).toMatchObject({ code: 2, stderr: expect.stringContaining(`argument 2 ${JSON.stringify(bad)} starts like JSON`) });
    }
  });

  it("with --raw, sends every argument as the string typed", async () => {
    const result = await runCli(["call", "--raw", endpoint, "echo", "{bad", "42", '"q"']);
    expect(result).toMatchObject({ code: 0, stdout: '["{bad","42","\\"q\\""]', stderr: "" });
  });

  it("refuses --raw with --json (status 2)", async () => {
    expect(await runCli(["call", "--raw", "--json", endpoint, "echo", "1"])).toMatchObject({
      code: 2,
      stderr: expect.stringContaining("zrpc call: --json and --raw exclude each other"),
    });
  });
});

describe("zrpc call --debug", () => {
  it("prints every event sent and received on stderr, with ids, and the result on stdout", async () => {
    const result = await runCli(["call", endpoint, "echo", "1", '"two"', "--debug"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('[1,"two"]');
    const lines = result.stderr.split("\n");
    const sent = lines.find((line) => line.startsWith("debug: --> echo "));
    expect(sent).toMatch(/^debug: --> echo id=\S+ args=\[1,"two"\]$/);
    const id = /id=(\S+)/.exec(sent!)![1]!;
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^debug: <-- OK id=\\S+ response_to=${id.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} args=\\[\\[1,"two"\\]\\]$`)));
  });

  it("shows a stream's items and its end, and -d is --debug", async () => {
    const result = await runCli(["call", endpoint, "count", "2", "-d"]);
    expect(result.stdout).toBe("1\n2");
    const received = result.stderr.split("\n").filter((line) => line.startsWith("debug: <-- ")).map((line) => line.split(" ")[2]);
    expect(received.filter((name) => name === "STREAM")).toHaveLength(2);
    expect(received).toContain("STREAM_DONE");
  });
});

/** A TCP listener on loopback whose connections `answer` handles; `close` also ends them. */
async function tcpListener(answer: (socket: Socket) => void): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const listener: TcpServer = createTcpServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    answer(socket);
  });
  await new Promise<void>((resolve) => listener.listen(0, "127.0.0.1", resolve));
  const { port } = listener.address() as { port: number };
  return {
    port,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => listener.close(resolve));
    },
  };
}

describe("zrpc call connection failures", () => {
  it("a closed port fails within 3 s, naming ECONNREFUSED (status 1)", async () => {
    const port = await freePort();
    const started = performance.now();
    const result = await runCli(["call", String(port), "echo"], { defaultConnectTimeout: true });
    expect(performance.now() - started).toBeLessThan(3000);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain("ECONNREFUSED");
    expect(result.stderr).toContain(`tcp://127.0.0.1:${port}`);
  });

  it("a peer that is not ZeroMQ (an HTTP server) fails within 3 s, saying so (status 1)", async () => {
    const sockets = new Set<Socket>();
    const http: TcpServer = createTcpServer((socket) => {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
      socket.on("error", () => undefined);
      socket.end("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    });
    await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = http.address() as { port: number };
      const started = performance.now();
      const result = await runCli(["call", String(port), "echo"], { defaultConnectTimeout: true });
      expect(performance.now() - started).toBeLessThan(3000);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain("not a ZeroMQ peer");
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => http.close(resolve));
    }
  });

  it("a plain TCP server that accepts and sends nothing fails within 3 s of accepting, saying so (status 1)", async () => {
    let acceptedAt: number | undefined;
    const { port, close } = await tcpListener((socket) => {
      acceptedAt ??= performance.now();
      socket.on("error", () => undefined);
    });
    try {
      const child = startCli(["call", String(port), "echo"], { defaultConnectTimeout: true });
      const exit = await child.exited;
      const exitedAt = performance.now();
      expect(exit.code).toBe(1);
      const stderr = child.stderr.join("\n");
      expect(stderr).toMatch(new RegExp(`cannot connect to tcp://127\\.0\\.0\\.1:${port}: not a ZeroMQ peer\\? it accepted the connection but sent nothing in [\\d.]+ s`));
      // A ZMTP peer greets as soon as it accepts: a silent one is named at the connect timeout
      // (1 s), not after a longer handshake grace. Measured from the accept: node's start-up is not the CLI's doing.
      expect(acceptedAt).toBeDefined();
      expect(exitedAt - acceptedAt!).toBeLessThan(3000);
    } finally {
      await close();
    }
  });

  it("--connect-timeout 6: a call made before the server exists gets its reply once the server is up (status 0)", async () => {
    // A listener of ours takes the port first and hangs up on each connection, so the test sees
    // the child's attempts; the server replaces it once the child has tried for 2 s or more.
    const attempts: number[] = [];
    let onAttempt: () => void = () => undefined;
    const { port, close } = await tcpListener((socket) => {
      attempts.push(performance.now());
      socket.on("error", () => undefined);
      socket.destroy();
      onAttempt();
    });
    let stubOpen = true;
    try {
      const child = startCli(["call", "--connect-timeout", "6", String(port), "echo", "42", "-d"]);
      // The request is written to the socket's queue at once, while nothing can answer it.
      await child.waitForLine(/^debug: --> echo /, "stderr");
      const sentAt = performance.now();
      await new Promise<void>((resolve) => {
        onAttempt = () => {
          if (attempts.at(-1)! - sentAt >= 2000) resolve();
        };
        onAttempt();
      });
      await close();
      stubOpen = false;
      const late = createServer({ echo: (...values: unknown[]) => values }, { logger: null });
      try {
        await late.bind(`tcp://127.0.0.1:${port}`);
        const exit = await child.exited;
        expect(child.stderr.filter((line) => !line.startsWith("debug: ")).join("\n")).toBe("");
        expect(exit.code).toBe(0);
        expect(child.stdout.join("\n")).toBe("[42]");
        expect(attempts.length).toBeGreaterThan(1);
      } finally {
        await late.close(0);
      }
    } finally {
      if (stubOpen) await close();
    }
  });

  it("--verbose adds the cause chain", async () => {
    const port = await freePort();
    const result = await runCli(["call", String(port), "echo", "--verbose"], { defaultConnectTimeout: true });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/\n {2}caused by .*ECONNREFUSED/);
  });

  it("refuses a bad --connect-timeout (status 2)", async () => {
    expect(await runCli(["call", endpoint, "echo", "--connect-timeout", "soon"])).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('zrpc call: --connect-timeout must be a number of seconds >= 0, got "soon"'),
    });
    expect(await runCli(["call", endpoint, "echo", "--connect-timeout", "-1"])).toMatchObject({ code: 2 });
  });
});
