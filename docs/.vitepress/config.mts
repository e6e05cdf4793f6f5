import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { type MarkdownRenderer, defineConfig } from "vitepress";
import { resolveRepoLink, sourceOf } from "./repo-links.js";

const docs = fileURLToPath(new URL("../", import.meta.url));

// The published packages, in layer order, then the private ones (tests, tooling).
const published = ["wire", "channel", "transport-zmtp", "transport-zeromq", "server", "client", "pool", "middleware-db", "middleware-sentry", "middleware-otel", "cli"];
const internal = ["test-support", "conformance", "interop-node", "faults", "consumer-tests", "bench"];

type Env = { relativePath: string; frontmatter?: Record<string, unknown> };
type Token = { type: string; content: string; children: Token[] | null; attrGet(name: string): string | null; attrSet(name: string, value: string): void };

// Repository-relative links (valid when browsing the repository) become site links; a link to a
// path that does not exist fails the build, as VitePress's dead-link check does for pages.
function repoLinks(md: MarkdownRenderer): void {
  md.core.ruler.push("zrpc-repo-links", (state) => {
    const env = state.env as Env;
    const from = sourceOf(env.relativePath, env.frontmatter);
    const generated = !from.startsWith("docs/");
    for (const block of state.tokens as unknown as Token[]) {
      // A repository file shown as a page was written for Git browsers, where "<Z85>" in prose is
      // text: show it as text (VitePress would compile it as a Vue element).
      // HTML comments stay (they render as nothing).
      const isComment = (t: Token) => /^\s*<!--[\s\S]*-->\s*$/.test(t.content);
      if (generated && block.type === "html_block" && !isComment(block)) block.type = "text_block";
      for (const token of block.children ?? []) if (generated && token.type === "html_inline" && !isComment(token)) token.type = "text";
      for (const token of block.children ?? []) {
        if (token.type !== "link_open") continue;
        const href = token.attrGet("href") ?? "";
        if (href.startsWith("/api/")) {
          // The typedoc output is plain HTML in public/: load it as a document, not a route.
          if (!existsSync(`${docs}public${href.replace(/[?#].*$/, "")}`)) throw new Error(`${from}: dead API reference link ${href}`);
          token.attrSet("target", "_self");
          continue;
        }
        const target = resolveRepoLink(from, href);
        if (target.kind === "missing") throw new Error(`${from}: dead link ${href} (${target.path} does not exist)`);
        if (target.kind === "page" || target.kind === "asset") token.attrSet("href", target.href);
        if (target.kind === "asset") token.attrSet("target", "_self");
      }
    }
  });
}

export default defineConfig({
  title: "zrpc",
  description: "zerorpc for TypeScript: msgpack events over ZeroMQ, byte-compatible with zerorpc-python",
  srcExclude: ["test/**", ".tmp/**"],
  cleanUrls: true,
  lastUpdated: false,
  markdown: {
    config(md) {
      repoLinks(md);
      md.renderer.rules["text_block"] = (tokens, idx) => `<p>${md.utils.escapeHtml(tokens[idx]!.content)}</p>`;
    },
  },
  themeConfig: {
    nav: [
      { text: "Guide", link: "/guide/get-started" },
      { text: "Protocol", link: "/protocol/README" },
      { text: "API", link: "/api-reference" },
    ],
    outline: [2, 3],
    search: { provider: "local" },
    sidebar: [
      {
        text: "Guide",
        items: [
          { text: "Get started", link: "/guide/get-started" },
          { text: "Client", link: "/guide/client" },
          { text: "Typed clients", link: "/guide/typed-clients" },
          { text: "Server", link: "/guide/server" },
          { text: "Streams and flow control", link: "/guide/streams" },
          { text: "Errors and timeouts", link: "/guide/errors" },
          { text: "CLI", link: "/guide/cli" },
          { text: "Pool and many servers", link: "/guide/pool" },
          { text: "Middleware", link: "/guide/middleware" },
          { text: "Observability", link: "/guide/observability" },
          { text: "Deployment", link: "/guide/deployment" },
          { text: "Security", link: "/guide/security" },
          { text: "Migrating from zerorpc-python", link: "/guide/migrate-from-python" },
          { text: "Migrating from zerorpc-node", link: "/guide/migrate-from-node" },
          { text: "Protocol and zrpc extensions", link: "/guide/protocol" },
        ],
      },
      {
        text: "Protocol reference",
        collapsed: true,
        items: [
          { text: "Overview", link: "/protocol/README" },
          { text: "Frames, msgpack and events", link: "/protocol/wire" },
          { text: "ZMTP 3.1", link: "/protocol/zmtp" },
          { text: "Channels, heartbeat and credit", link: "/protocol/channels" },
          { text: "Patterns and introspection", link: "/protocol/patterns" },
          { text: "What compatible means", link: "/protocol/checklist" },
          { text: "The TestService", link: "/protocol/test-service" },
        ],
      },
      {
        text: "Packages",
        collapsed: true,
        items: [
          { text: "Layering", link: "/packages" },
          ...published.map((name) => ({ text: `@zrpc/${name}`, link: `/packages/${name}` })),
          { text: "Internal", collapsed: true, items: internal.map((name) => ({ text: `@zrpc/${name}`, link: `/packages/${name}` })) },
        ],
      },
      { text: "API reference", link: "/api-reference" },
      { text: "Versioning", link: "/VERSIONING" },
    ],
  },
});
