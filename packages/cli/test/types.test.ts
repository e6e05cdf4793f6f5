// `zrpc types` (a child process) end to end: against the TestService on a zrpc server that was
// given type texts (createServer's `types` option), and against the conformance server (the
// `serve` command of @zrpc/conformance, no types), each on both transports; the generated modules
// are compiled with `tsc --strict` together with code that uses them through `connect<T>()`;
// `--check` passes on a fresh module and fails on a stale one.
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestService } from "@zrpc/conformance";
import { ServiceError, createRegistry, createServer } from "@zrpc/server";
import type { MethodTypesTable, Server, ServerMiddleware } from "@zrpc/server";
import { startNode } from "@zrpc/test-support";
import { zeromq } from "@zrpc/transport-zeromq";
import { zmtp } from "@zrpc/transport-zmtp";
import { FIXTURES, runCli, startServer } from "./helpers.js";

const TRANSPORTS = ["zmtp", "zeromq"] as const;
type TransportName = (typeof TRANSPORTS)[number];

/** What a TypeScript TestService would declare (docs/protocol/test-service.md). */
const TEST_SERVICE_TYPES: MethodTypesTable = {
  add: { args: ["number", "number"], result: "number" },
  big: { args: ["number"], result: "Uint8Array" },
  echo: { args: ["unknown"], result: "unknown" },
  fail: { args: ["string"], result: "never" },
  hello: { args: ["string"], result: "string" },
  range: { args: ["number"], result: "number" },
  sleep: { args: ["number"], result: "number" },
  types: { args: [], result: "Record<string, unknown>" },
};

const CONFORMANCE_CLI = fileURLToPath(new URL("../../conformance/dist/cli.js", import.meta.url));
const TSC = createRequire(import.meta.url).resolve("typescript/bin/tsc");

const TSC_FLAGS = ["--ignoreConfig", "--strict", "--noEmit", "--module", "nodenext", "--moduleResolution", "nodenext", "--target", "es2022", "--skipLibCheck", "--types", "node"];

/** Compiles `files` with `tsc --strict`: exit code and output. */
async function compile(files: readonly string[]): Promise<{ code: number; output: string }> {
  return await promisify(execFile)(process.execPath, [TSC, ...TSC_FLAGS, ...files]).then(
    () => ({ code: 0, output: "" }),
    (error: { code?: number; stdout?: string; stderr?: string }) => ({ code: error.code ?? -1, output: `${error.stdout ?? ""}${error.stderr ?? ""}` }),
  );
}

const servers: Server[] = [];
const typed: Record<TransportName, string> = { zmtp: "", zeromq: "" };
let untyped = "";
let python311 = "";
let dir = "";

/** Python >= 3.11 without a shim: `_zerorpc_inspect` fails, `_zerorpc_args` answers (with `self`, like a class). */
const inspectBroken: ServerMiddleware = {
  beforeCall(call) {
    if (call.method === "_zerorpc_inspect") throw new ServiceError("AttributeError", "module 'inspect' has no attribute 'getargspec'");
  },
  async around(call, next) {
    const result = await next();
    if (call.method !== "_zerorpc_args" || !Array.isArray(result)) return result;
    return [["self", ...(result[0] as string[])], ...(result.slice(1) as unknown[])];
  },
};

/** Python-style names that are no TypeScript identifiers. */
function pythonish(): ReturnType<typeof createRegistry> {
  const methods = createRegistry();
  methods.register((...values: unknown[]) => values, { name: "get-item", args: ["class", "default", "2nd", "...args"], doc: "Odd names.\n\nA */ in the doc." });
  methods.register((value: unknown) => value, { name: "delete", args: ["value"] });
  return methods;
}

beforeAll(async () => {
  // Under node_modules: `@zrpc/client` resolves from there for tsc, and lint and typecheck of the
  // package never see the files.
  const cache = fileURLToPath(new URL("../node_modules/.cache/", import.meta.url));
  await mkdir(cache, { recursive: true });
  dir = await mkdtemp(join(cache, "zrpc-types-test-"));
  for (const name of TRANSPORTS) {
    const server = createTestService({ types: TEST_SERVICE_TYPES });
    servers.push(server);
    [typed[name]] = (await server.bind("tcp://127.0.0.1:*", { transport: name === "zmtp" ? zmtp() : zeromq() })) as [string];
  }
  const reference = createTestService();
  servers.push(reference);
  [untyped] = (await reference.bind("tcp://127.0.0.1:*")) as [string];
  const broken = createServer(pythonish(), { name: "odd_service", middleware: [inspectBroken] });
  servers.push(broken);
  [python311] = (await broken.bind("tcp://127.0.0.1:*")) as [string];
});

afterAll(async () => {
  await Promise.all(servers.map((server) => server.close(0)));
  await rm(dir, { recursive: true, force: true });
});

describe("zrpc types", () => {
  it("writes real types for a zrpc server given types, on both transports", async () => {
    for (const name of TRANSPORTS) {
      const result = await runCli(["types", typed[name], "--transport", name]);
      expect(result.stderr).toBe("");
      expect(result.code).toBe(0);
      const lines = result.stdout.split("\n");
      expect(lines[0]).toBe(`// Generated by \`zrpc types\` from ${typed[name]}`);
      expect(lines).toContain("export interface TestService {");
      expect(lines).toContain("  add(a: number, b: number): Promise<number>;");
      expect(lines).toContain("  range(n: number): AsyncIterable<number>;");
      expect(lines).toContain("  types(): Promise<Record<string, unknown>>;");
      expect(lines).toContain("  fail(msg: string): Promise<never>;");
      expect(result.stdout).toContain(['  /**', '   * Return a greeting.', '   *', '   * The reply is "Hello, " followed by name.', '   */', "  hello(name: string): Promise<string>;"].join("\n"));
      await writeFile(join(dir, `typed-${name}.ts`), `${result.stdout}\n`);
    }
  }, 120_000);

  it("writes unknown types for the conformance server, on both transports, with -o", async () => {
    for (const name of TRANSPORTS) {
      // The `serve` command of @zrpc/conformance (helpers.ts stops it after the test).
      const child = startNode(CONFORMANCE_CLI, ["serve", "tcp://127.0.0.1:*", "--transport", name], { label: `conformance serve ${name}` });
      const endpoint = (await child.waitForLine(/^READY (\S+)/))[1]!;
      const file = join(dir, `plain-${name}.ts`);
      const result = await runCli(["types", endpoint, "--transport", name, "-o", file, "--interface", "Reference"]);
      expect(result.stderr).toBe("");
      expect(result.stdout).toBe("");
      expect(result.code).toBe(0);
      const lines = (await readFile(file, "utf8")).split("\n");
      expect(lines).toContain("export interface Reference {");
      expect(lines).toContain("  add(a: unknown, b: unknown): Promise<unknown>;");
      expect(lines).toContain("  range(n: unknown): AsyncIterable<unknown>;");
      expect(lines).toContain("  /** Return one map holding a value of every msgpack type. */");
      await child.stop({ signal: "SIGTERM", graceMs: 30_000 });
    }
  }, 120_000);

  it("falls back to _zerorpc_list/_args/_help and makes Python names usable", async () => {
    const result = await runCli(["types", python311, "-o", join(dir, "odd.ts"), "-v"]);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/_zerorpc_inspect failed \(AttributeError/);
    const text = await readFile(join(dir, "odd.ts"), "utf8");
    expect(text.split("\n").slice(4)).toEqual([
      '/** The methods of the zerorpc service "odd_service". */',
      "export interface OddService {",
      "  delete(value: unknown): Promise<unknown>;",
      "",
      "  /**",
      "   * Odd names.",
      "   *",
      "   * A *\\/ in the doc.",
      "   */",
      '  "get-item"(class_: unknown, default_: unknown, _2nd: unknown, ...args: unknown[]): Promise<unknown>;',
      "}",
      "",
    ]);
  });

  it("output compiles with tsc --strict and types connect<T>()", async () => {
    const use = `import { connect } from "@zrpc/client";
import type { TestService } from "./typed-zmtp.js";
import type { TestService as TestServiceZeromq } from "./typed-zeromq.js";
import type { Reference } from "./plain-zmtp.js";
import type { OddService } from "./odd.js";

export async function typedUse(endpoint: string): Promise<number> {
  const client = await connect<TestService>(endpoint);
  const sum: number = await client.proxy.add(1, 2);
  const greeting: string = await client.proxy.hello("you");
  const bytes: Uint8Array = await client.proxy.big(3);
  let total = sum + greeting.length + bytes.length;
  for await (const item of client.proxy.range(3)) total += item;
  // @ts-expect-error add takes numbers
  await client.proxy.add("1", 2);
  await client.close();
  return total;
}

export const same: TestServiceZeromq | undefined = undefined as TestService | undefined;

export async function plainUse(endpoint: string): Promise<unknown[]> {
  const client = await connect<Reference>(endpoint);
  const items: unknown[] = [await client.proxy.echo({ any: "thing" })];
  for await (const item of client.proxy.range(2)) items.push(item);
  const odd = await connect<OddService>(endpoint);
  items.push(await odd.proxy["get-item"](1, 2, 3, 4, 5), await odd.proxy.delete(1));
  await Promise.all([client.close(), odd.close()]);
  return items;
}
`;
    await writeFile(join(dir, "use.ts"), use);
    const files = ["use.ts", "typed-zmtp.ts", "typed-zeromq.ts", "plain-zmtp.ts", "plain-zeromq.ts", "odd.ts"].map((file) => join(dir, file));
    const outcome = await compile(files);
    expect(outcome.output).toBe("");
    expect(outcome.code).toBe(0);
  }, 120_000);

  it("--check: exit 0 for a current module (whatever endpoint its header names), 1 with the differences for a stale one", async () => {
    // Written from the zmtp server, checked against the zeromq one: only the header line differs.
    const fresh = join(dir, "typed-zmtp.ts");
    await writeFile(fresh, (await readFile(fresh, "utf8")).replace(/\n+$/, "\n"));
    const current = await runCli(["types", typed.zeromq, "--transport", "zeromq", "--check", fresh]);
    expect(current.stderr).toBe("");
    expect(current.code).toBe(0);

    const stale = join(dir, "stale.ts");
    const text = await readFile(fresh, "utf8");
    await writeFile(stale, text.replace("add(a: number, b: number): Promise<number>;", "add(a: number, b: number): Promise<string>;"));
    const result = await runCli(["types", typed.zmtp, "--check", stale]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    const lines = result.stderr.split("\n");
    expect(lines[0]).toBe(`zrpc types: ${stale} is stale: it differs from what ${typed.zmtp} reports (- ${stale}, + server):`);
    expect(lines.slice(1, 3)).toEqual(["- line 8:   add(a: number, b: number): Promise<string>;", "+ line 8:   add(a: number, b: number): Promise<number>;"]);

    // The same TestService without types: the typed module is stale against it.
    const against = await runCli(["types", untyped, "--check", fresh]);
    expect(against.code).toBe(1);
    const missing = await runCli(["types", untyped, "--check", join(dir, "nope.ts")]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^zrpc types: cannot read .*nope\.ts: ENOENT/);
  }, 120_000);

  it("zrpc run --types reads the types from the TypeScript rpcs modules; the output compiles", async () => {
    const { server, endpoint } = await startServer(["127.0.0.1:0", "--types"], { cwd: join(FIXTURES, "basic") });
    const result = await runCli(["types", endpoint, "-o", join(dir, "basic.ts")]);
    await server.stop();
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const lines = (await readFile(join(dir, "basic.ts"), "utf8")).split("\n");
    expect(lines).toEqual(
      expect.arrayContaining([
        "export interface BasicService {",
        "  add(a: number, b: number): Promise<number>;",
        "  countdown(n: number): AsyncIterable<number>;",
        "  echo(...values: unknown[]): Promise<unknown[]>;",
        "  fail(message: string): Promise<never>;",
        "  slow(ms: number): Promise<string>;",
        // beta's rpcs module is JavaScript: no types, but the argument names and the default.
        "  hello(name?: unknown): Promise<unknown>;",
      ]),
    );
    const outcome = await compile([join(dir, "basic.ts")]);
    expect(outcome.output).toBe("");
    expect(outcome.code).toBe(0);
  }, 120_000);

  it("zrpc run --types reads defineRpcs() maps too; registration types win; stream lists stream items; the output compiles", async () => {
    const { server, endpoint } = await startServer(["127.0.0.1:0", "--types"], { cwd: join(FIXTURES, "typed") });
    const result = await runCli(["types", endpoint]);
    await server.stop();
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    await writeFile(join(dir, "typed-rpcs.ts"), result.stdout);
    const outcome = await compile([join(dir, "typed-rpcs.ts")]);
    expect(outcome.output).toBe("");
    expect(outcome.code).toBe(0);
    expect(result.stdout.split("\n").slice(4)).toEqual([
      '/** The methods of the zerorpc service "tickets". */',
      "export interface TicketsService {",
      '  "close-all"(): Promise<void>;',
      "",
      "  count(): Promise<0 | 1 | 2>;",
      "",
      "  /** Find a ticket by id. */",
      "  find(id: number, exact?: boolean): Promise<{ id: number; title: string; exact: boolean; } | null>;",
      "",
      "  ids(n: number): AsyncIterable<number>;",
      "",
      "  titles(prefix: string): AsyncIterable<string>;",
      "}",
    ]);
  }, 120_000);

  it("zrpc run --types writes named types out (interfaces, aliases, enums, generics, tuples, recursion); the output compiles and types a client", async () => {
    const { server, endpoint } = await startServer(["127.0.0.1:0", "--types"], { cwd: join(FIXTURES, "named") });
    const result = await runCli(["types", endpoint, "-o", join(dir, "shapes.ts")]);
    await server.stop();
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const text = await readFile(join(dir, "shapes.ts"), "utf8");
    // No name of the app's modules is left: everything is written out.
    expect(text).not.toMatch(/\b(Ticket|Author|Status|Priority|Tree|Page|Attachment|Buffer|Date)\b(?! is recursive| travels)/);
    const ticket = "{ readonly id: number; title: string; status: 'open' | 'closed'; priority: 1 | 2; tags: string[]; author: { readonly name: string; email?: string; } | null; }";
    expect(text.split("\n").slice(5)).toEqual([
      "export interface ShapesService {",
      "  attach(attachment: { name: string; data: Uint8Array; created: unknown /* a Date travels as a msgpack timestamp and arrives as an Ext */; meta: Record<string, number>; }): Promise<{ size: number; bytes: Uint8Array; }>;",
      "",
      `  get_ticket(id: number): Promise<${ticket} | null>;`,
      "",
      `  page(cursor: number, status: 'open' | 'closed'): Promise<{ items: ${ticket}[]; next: number | null; }>;`,
      "",
      `  pair(): Promise<[${ticket}, 'open' | 'closed']>;`,
      "",
      `  tickets(n: number): AsyncIterable<${ticket}>;`,
      "",
      "  tree(depth: number): Promise<{ label: string; children: (unknown /* Tree is recursive */)[]; }>;",
      "}",
      "",
    ]);
    const use = `import { connect } from "@zrpc/client";
import type { ShapesService } from "./shapes.js";

export async function use(endpoint: string): Promise<string[]> {
  const client = await connect<ShapesService>(endpoint);
  const ticket = await client.proxy.get_ticket(1);
  const names: string[] = [ticket?.title ?? "", ticket?.author?.email ?? ""];
  for await (const item of client.proxy.tickets(2)) names.push(item.status);
  const tree = await client.proxy.tree(2);
  names.push(tree.label, String(tree.children.length));
  const [first, status] = await client.proxy.pair();
  names.push(first.title, status);
  // @ts-expect-error the id is read-only
  if (ticket !== null) ticket.id = 2;
  // @ts-expect-error a status is 'open' or 'closed'
  await client.proxy.page(1, "pending");
  // @ts-expect-error a recursive part is unknown
  names.push(tree.children[0]!.label);
  await client.close();
  return names;
}
`;
    await writeFile(join(dir, "use-shapes.ts"), use);
    const outcome = await compile([join(dir, "use-shapes.ts"), join(dir, "shapes.ts")]);
    expect(outcome.output).toBe("");
    expect(outcome.code).toBe(0);
  }, 120_000);

  it("usage errors exit 2", async () => {
    const both = await runCli(["types", typed.zmtp, "-o", "a.ts", "--check", "b.ts"]);
    expect(both.code).toBe(2);
    expect(both.stderr.split("\n")[0]).toBe("zrpc types: give --output or --check, not both");
    const badName = await runCli(["types", typed.zmtp, "--interface", "not-a-name"]);
    expect(badName.code).toBe(2);
    const missing = await runCli(["types"]);
    expect(missing.code).toBe(2);
  });
});
