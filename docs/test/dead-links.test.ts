// `pnpm docs:build` (and so CI) fails on a broken internal link (issue #18), in both of its forms:
// - a link to a path of the repository that does not exist (`../../packages/nope/README.md`):
//   the repository-link rule of .vitepress/config.mts throws while the page is rendered;
// - a link to a page of the site that does not exist (`./nowhere.md`): VitePress's own dead-link
//   check, which the configuration leaves on. It runs only in a real `vitepress build`, so one
//   small site (two pages, the real configuration) is built for it under docs/.tmp.
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createMarkdownRenderer } from "vitepress";
import { afterAll, describe, expect, it } from "vitest";
import config from "../.vitepress/config.mjs";
import { resolveRepoLink } from "../.vitepress/repo-links.js";

const DOCS = fileURLToPath(new URL("../", import.meta.url));
const VITEPRESS = join(dirname(createRequire(import.meta.url).resolve("vitepress/package.json")), "bin", "vitepress.js");

const made: string[] = [];
afterAll(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Renders `markdown` as the page docs/PAGE with the site's markdown configuration. */
async function render(page: string, markdown: string): Promise<string> {
  const md = await createMarkdownRenderer(DOCS, config.markdown, "/");
  return md.render(markdown, { relativePath: page, path: join(DOCS, page), cleanUrls: true });
}

describe("links to repository paths", () => {
  it("resolveRepoLink: a missing path is `missing`, an existing one a page", () => {
    expect(resolveRepoLink("docs/guide/client.md", "../../packages/nope/README.md")).toEqual({ kind: "missing", path: "packages/nope/README.md" });
    expect(resolveRepoLink("docs/guide/client.md", "../../examples/no-such-example")).toEqual({ kind: "missing", path: "examples/no-such-example" });
    expect(resolveRepoLink("docs/guide/client.md", "../../packages/client/README.md#errors")).toMatchObject({ kind: "page", href: "/packages/client.md#errors" });
  });

  it("a page that links to a missing repository path fails to render, naming the link", async () => {
    await expect(render("guide/broken.md", "# Broken\n\nSee [the package](../../packages/nope/README.md).\n")).rejects.toThrow(
      "docs/guide/broken.md: dead link ../../packages/nope/README.md (packages/nope/README.md does not exist)",
    );
  });

  it("a page whose repository links exist renders, with site links", async () => {
    const html = await render("guide/fine.md", "# Fine\n\nSee [the client](../../packages/client/README.md).\n");
    expect(html).toContain('<a href="/packages/client">the client</a>');
  });
});

describe("links to pages", () => {
  it("the configuration leaves VitePress's dead-link check on", () => {
    expect(config.ignoreDeadLinks).toBeUndefined();
  });

  it("vitepress build, with the site's configuration, fails on a link to a missing page", async () => {
    mkdirSync(join(DOCS, ".tmp"), { recursive: true });
    const root = mkdtempSync(join(DOCS, ".tmp", "dead-links-"));
    made.push(root);
    mkdirSync(join(root, ".vitepress"));
    mkdirSync(join(root, "guide"));
    writeFileSync(join(root, ".vitepress", "config.mts"), 'export { default } from "../../../.vitepress/config.mts";\n');
    writeFileSync(join(root, "index.md"), "# Home\n\n[A page](./guide/a.md)\n");
    writeFileSync(join(root, "guide", "a.md"), "# A\n\n[Home](../index.md) and [a page that is not there](./nowhere.md)\n");
    const child = spawn(process.execPath, [VITEPRESS, "build", "."], { cwd: root, env: { ...process.env, NO_COLOR: "1" } });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    expect(code, output).not.toBe(0);
    expect(output).toContain("Found dead link ./nowhere in file guide/a.md");
    expect(output).toContain("1 dead link(s) found");
  });
});
