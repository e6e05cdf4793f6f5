/**
 * What the consumer tests do to a temporary project: copy a fixture, npm-install packed tarballs
 * into it, type-check it with the workspace's TypeScript and run its scripts with node.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { cpSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { FIXTURES } from "./packages.js";

export interface Output {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A fresh directory holding a copy of `fixtures/<name>`; `remove()` deletes it. */
export interface Project {
  dir: string;
  remove(): void;
}

export function createProject(fixture: string): Project {
  const root = mkdtempSync(join(tmpdir(), `zrpc-consumer-${fixture}-`));
  const dir = join(root, fixture);
  cpSync(join(FIXTURES, fixture), dir, { recursive: true });
  return { dir, remove: () => rmSync(root, { recursive: true, force: true }) };
}

/** Runs a command to its end; never rejects (the caller asserts on `code` and the output). */
export function run(command: string, args: readonly string[], cwd: string): Promise<Output> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : null;
      resolve({ code, stdout, stderr: error !== null && code === null ? `${stderr}\n${error.message}` : stderr });
    });
  });
}

/**
 * `npm install` of tarballs and registry packages into `dir`, as a user would: no workspace, no
 * links. Third-party dependencies come from the registry (npm's cache first).
 */
export async function npmInstall(dir: string, specs: readonly string[], extra: readonly string[] = []): Promise<void> {
  const result = await run("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error", ...extra, ...specs], dir);
  if (result.code !== 0) throw new Error(`npm install failed in ${dir} (exit ${result.code}):\n${result.stderr}${result.stdout}`);
}

// The workspace's TypeScript (the root's devDependency), not one installed per project.
const tscBin = join(dirname(createRequire(import.meta.url).resolve("typescript/package.json")), "bin", "tsc");

/** `tsc -p <project>`; its diagnostics are in `stdout`. */
export function tsc(project: string): Promise<Output> {
  return run(process.execPath, [tscBin, "-p", project, "--pretty", "false"], dirname(project));
}

/** `node <args...>` in `cwd`. */
export function node(cwd: string, args: readonly string[]): Promise<Output> {
  return run(process.execPath, args, cwd);
}

/** Every path under `dir`, relative to it, files and directories. */
export function listTree(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true }).map((entry) => relative(dir, join(entry.parentPath, entry.name)));
}

const running = new Set<ChildProcess>();

/** Kills what `startUntil` started and has not stopped yet (for `afterAll`, after a failure). */
export async function killStarted(): Promise<void> {
  await Promise.all(
    [...running].map(async (child) => {
      const exited = once(child, "exit");
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      else return;
      await exited;
    }),
  );
}

/**
 * Starts a long-running command and resolves with the first match of `ready` in its stdout;
 * rejects (with what it printed) if it exits first.
 */
export async function startUntil(
  command: string,
  args: readonly string[],
  cwd: string,
  ready: RegExp,
): Promise<{ match: RegExpMatchArray; stop(): Promise<Output> }> {
  const child = spawn(command, args, { cwd, stdio: ["ignore", "pipe", "pipe"] });
  running.add(child);
  child.on("exit", () => running.delete(child));
  let stdout = "";
  let stderr = "";
  const exited = once(child, "exit") as Promise<[number | null, NodeJS.Signals | null]>;
  const match = await new Promise<RegExpMatchArray>((resolve, reject) => {
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
      const found = stdout.match(ready);
      if (found !== null) resolve(found);
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.on("error", reject);
    void exited.then(([code, signal]) =>
      reject(new Error(`${command} ${args.join(" ")} exited (${code ?? signal}) before it was ready:\n${stdout}${stderr}`)),
    );
  });
  return {
    match,
    async stop(): Promise<Output> {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      const [code] = await exited;
      return { code, stdout, stderr };
    },
  };
}
