// Runs before `vitepress build`/`dev` (docs/package.json): generates what the site shows but the
// repository does not hold as docs pages. All of it is ignored by Git (see the root .gitignore).
//   public/api/     the API reference, HTML by typedoc from the published packages' entry points
//   packages/*.md   every package's README as a page (links resolved by repo-links.ts)
//   repo/**         pages for other repository markdown files and folders the docs link to
//   public/repo/**  copies of the other repository files the docs link to (recordings, sources)
// Fails when a link points to a repository path that does not exist.
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, posix, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { generatedPageFor, repoRoot, resolveRepoLink } from "./repo-links.js";

const docs = fileURLToPath(new URL("../", import.meta.url));
const generated = ["packages", "repo", "public/repo", "public/api"];
for (const dir of generated) rmSync(join(docs, dir), { recursive: true, force: true });

if (!process.argv.includes("--no-api")) {
  const started = Date.now();
  const typedoc = spawnSync(join(docs, "node_modules/.bin/typedoc"), ["--options", "typedoc.json"], { cwd: docs, stdio: ["ignore", "pipe", "inherit"], encoding: "utf8" });
  if (typedoc.status !== 0) throw new Error(`typedoc failed (exit ${typedoc.status ?? typedoc.signal})\n${typedoc.stdout}`);
  console.log(`prepare: API reference in public/api (${((Date.now() - started) / 1000).toFixed(1)} s)`);
}

const linkRE = /\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)|^\s*\[[^\]]+\]:\s*(\S+)/gm;
function linksOf(markdown: string): string[] {
  const withoutCode = markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, "").replace(/`[^`\n]*`/g, "");
  return [...withoutCode.matchAll(linkRE)].map((m) => (m[1] ?? m[2])!);
}

function writePage(page: string, source: string, body: string): void {
  const file = join(docs, page);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `---\nsource: ${source}\n---\n\n${body}`);
}

// The pages to scan: every docs page, then every generated page as it is made.
const queue: { page: string; source: string; markdown: string }[] = [];
const skip = new Set(["node_modules", "test", ".tmp", "public", ".vitepress", ...generated]);
(function walk(dir: string) {
  for (const name of readdirSync(join(docs, dir))) {
    const path = posix.join(dir, name);
    if (skip.has(path) || skip.has(name)) continue;
    if (statSync(join(docs, path)).isDirectory()) walk(path);
    else if (name.endsWith(".md")) queue.push({ page: path, source: `docs/${path}`, markdown: readFileSync(join(docs, path), "utf8") });
  }
})(".");

const made = new Set<string>();
function generate(from: string, page: string, listing: boolean): void {
  if (made.has(page)) return;
  made.add(page);
  let markdown: string;
  if (listing) {
    const entries = readdirSync(join(repoRoot, from)).filter((name) => !name.startsWith(".") && name !== "node_modules").sort();
    markdown = `# ${from}/\n\nThe files of \`${from}/\` in the repository.\n\n${entries
      .map((name) => `- [${name}](./${statSync(join(repoRoot, from, name)).isDirectory() ? `${name}/` : name})`)
      .join("\n")}\n`;
    writePage(page, `${from}/index.md`, markdown);
    queue.push({ page, source: `${from}/index.md`, markdown });
  } else {
    markdown = readFileSync(join(repoRoot, from), "utf8");
    writePage(page, from, markdown);
    queue.push({ page, source: from, markdown });
  }
}

for (const dir of readdirSync(join(repoRoot, "packages")).sort()) {
  const readme = `packages/${dir}/README.md`;
  if (existsSync(join(repoRoot, readme))) generate(readme, generatedPageFor(readme), false);
}

const missing: string[] = [];
let assets = 0;
for (let item = queue.shift(); item; item = queue.shift()) {
  for (const href of linksOf(item.markdown)) {
    const target = resolveRepoLink(item.source, href);
    if (target.kind === "missing") missing.push(`${item.source}: ${href} (${target.path} does not exist)`);
    else if (target.kind === "page" && target.generate) generate(target.generate.from, target.generate.page, target.generate.listing);
    else if (target.kind === "asset") {
      const copy = join(docs, "public/repo", target.from);
      if (!existsSync(copy)) {
        mkdirSync(dirname(copy), { recursive: true });
        cpSync(join(repoRoot, target.from), copy);
        assets += 1;
      }
    }
  }
}
if (missing.length > 0) {
  console.error(`prepare: links to repository paths that do not exist:\n  ${missing.join("\n  ")}`);
  process.exit(1);
}
console.log(`prepare: ${made.size} generated pages, ${assets} repository files copied (${relative(repoRoot, docs)})`);
