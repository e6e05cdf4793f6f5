// Links from the docs to files of the repository outside docs/ (package READMEs, the vendored
// protocol recordings, examples), made to work on the site as they do when browsing the repository.
// Authors write repository-relative links (`../../packages/client/README.md#errors`), valid in
// any Git browser; on the site they become:
//   packages/NAME/README.md          -> the generated page /packages/NAME (see prepare.ts)
//   docs/...                         -> that page of the site
//   README.md (root), other *.md     -> a generated page under /repo/ (the file, with its links resolved the same way)
//   a folder                         -> its README.md, or a generated listing page under /repo/
//   any other file                   -> the file itself, copied under /repo/ (served raw)
// Nothing is left dangling: prepare.ts fails on a link to a path that does not exist, and
// VitePress's own dead-link check covers the pages.
import { existsSync, statSync } from "node:fs";
import { posix } from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = fileURLToPath(new URL("../../", import.meta.url));

export type RepoTarget =
  | { kind: "unchanged" }
  | { kind: "page"; href: string; generate?: { from: string; page: string; listing: boolean } }
  | { kind: "asset"; href: string; from: string }
  | { kind: "missing"; path: string };

/** Where a generated page for a repository file lives, relative to docs/. */
export function generatedPageFor(repoPath: string): string {
  const pkg = /^packages\/([^/]+)\/README\.md$/.exec(repoPath);
  if (pkg) return `packages/${pkg[1]}.md`;
  return `repo/${repoPath}`;
}

const isExternal = (href: string) => /^[a-z][a-z0-9+.-]*:/i.test(href) || href.startsWith("//");

/**
 * Resolves `href`, written in the repository file `from` (a path relative to the repository
 * root, e.g. "docs/guide/client.md" or "packages/server/README.md"), to a site link.
 */
export function resolveRepoLink(from: string, href: string): RepoTarget {
  if (href === "" || href.startsWith("#") || isExternal(href) || href.startsWith("/")) return { kind: "unchanged" };
  const hashAt = href.search(/[?#]/);
  const pathPart = decodeURIComponent(hashAt < 0 ? href : href.slice(0, hashAt));
  const hash = hashAt < 0 ? "" : href.slice(hashAt);
  const target = posix.normalize(posix.join(posix.dirname(from), pathPart)).replace(/\/$/, "");
  if (target.startsWith("..")) return { kind: "missing", path: target };
  if (target.startsWith("docs/") || target === "docs") {
    if (from.startsWith("docs/")) return { kind: "unchanged" };
    const inDocs = target === "docs" ? "index.md" : target.slice("docs/".length);
    const absolute = `/${inDocs}`;
    return { kind: "page", href: absolute + hash };
  }
  const onDisk = posix.join(repoRoot.replaceAll("\\", "/"), target);
  if (!existsSync(onDisk)) return { kind: "missing", path: target };
  if (statSync(onDisk).isDirectory()) {
    if (existsSync(posix.join(onDisk, "README.md"))) return resolveRepoLink(from, posix.join(posix.relative(posix.dirname(from), target), "README.md") + hash);
    const page = `repo/${target}/index.md`;
    return { kind: "page", href: `/${page}${hash}`, generate: { from: target, page, listing: true } };
  }
  if (target.endsWith(".md")) {
    const page = generatedPageFor(target);
    return { kind: "page", href: `/${page}${hash}`, generate: { from: target, page, listing: false } };
  }
  return { kind: "asset", href: `/repo/${target}${hash}`, from: target };
}

/** The repository path a page of the site shows: its `source` front matter, else docs/PAGE. */
export function sourceOf(relativePath: string, frontmatter: Record<string, unknown> | undefined): string {
  const source = frontmatter?.["source"];
  return typeof source === "string" ? source : `docs/${relativePath}`;
}
