// Two network namespaces joined by a veth pair, for the network-fault suite: the server runs in
// one, the client in the other, and nftables rules in the server's namespace partition the link
// or drop a share of its packets. Names are unique per test process (pid-based); `remove()`
// deletes both namespaces (and with them the veth pair and the rules), and an exit hook does it
// too when a test run dies half-way.
import { execFileSync } from "node:child_process";

/** The link between a client namespace and a server namespace. */
export interface NetLink {
  /** Namespace of the client processes. */
  readonly clientNs: string;
  /** Namespace of the server processes (the nftables rules live here). */
  readonly serverNs: string;
  /** The client namespace's address on the link. */
  readonly clientIp: string;
  /** The server namespace's address on the link. */
  readonly serverIp: string;
  /** Drops every packet crossing the link, both ways, silently (no RST, no ICMP). */
  partition(): void;
  /** Drops `percent` % of the packets crossing the link, each direction, at random. */
  loss(percent: number): void;
  /** Removes the rules: every packet goes through again. */
  heal(): void;
  /** Takes the server's end of the link down (its host vanishes; nothing is sent). */
  linkDown(): void;
  /** Brings it up again. */
  linkUp(): void;
  /** Deletes both namespaces. Idempotent. */
  remove(): void;
}

const SETUP_HELP =
  "The network-fault suite creates network namespaces, a veth pair and nftables rules: it needs root " +
  "(CI runs it as root) and the `ip` (iproute2) and `nft` (nftables) commands (Debian: apt-get install -y iproute2 nftables).";

function run(command: string, args: readonly string[]): string {
  return execFileSync(command, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, PATH: `${process.env.PATH ?? ""}:/usr/sbin:/sbin` } });
}

const live = new Set<NetLink>();
let hooked = false;

function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.once("exit", () => {
    for (const link of [...live]) link.remove();
  });
}

let counter = 0;

/**
 * Creates the two namespaces and the veth pair between them (10.77.0.1 client, 10.77.0.2
 * server, inside the namespaces only). Throws an error saying what is missing when this machine
 * cannot (not root, no iproute2/nftables): the suite must fail there, not skip.
 */
export function createLink(): NetLink {
  if (typeof process.getuid === "function" && process.getuid() !== 0) {
    throw new Error(`${SETUP_HELP} This process runs as uid ${process.getuid()}.`);
  }
  counter += 1;
  const tag = `${process.pid}${counter > 1 ? `x${counter}` : ""}`;
  const clientNs = `zrpcf-${tag}-c`;
  const serverNs = `zrpcf-${tag}-s`;
  const clientDev = `zf${tag}c`.slice(0, 15);
  const serverDev = `zf${tag}s`.slice(0, 15);
  const clientIp = "10.77.0.1";
  const serverIp = "10.77.0.2";
  let removed = false;
  const link: NetLink = {
    clientNs,
    serverNs,
    clientIp,
    serverIp,
    partition() {
      rules(serverNs, serverDev, ["drop"]);
    },
    loss(percent) {
      rules(serverNs, serverDev, [`numgen random mod 100 < ${Math.round(percent)} drop`]);
    },
    heal() {
      rules(serverNs, serverDev, []);
    },
    linkDown() {
      run("ip", ["-n", serverNs, "link", "set", serverDev, "down"]);
    },
    linkUp() {
      run("ip", ["-n", serverNs, "link", "set", serverDev, "up"]);
    },
    remove() {
      if (removed) return;
      removed = true;
      live.delete(link);
      for (const ns of [clientNs, serverNs]) {
        try {
          run("ip", ["netns", "delete", ns]);
        } catch {
          // never created, or already gone
        }
      }
    },
  };
  live.add(link);
  hookExit();
  try {
    run("ip", ["netns", "add", clientNs]);
    run("ip", ["netns", "add", serverNs]);
    run("ip", ["link", "add", clientDev, "netns", clientNs, "type", "veth", "peer", "name", serverDev, "netns", serverNs]);
    run("ip", ["-n", clientNs, "addr", "add", `${clientIp}/24`, "dev", clientDev]);
    run("ip", ["-n", serverNs, "addr", "add", `${serverIp}/24`, "dev", serverDev]);
    for (const [ns, dev] of [
      [clientNs, clientDev],
      [serverNs, serverDev],
    ] as const) {
      run("ip", ["-n", ns, "link", "set", "lo", "up"]);
      run("ip", ["-n", ns, "link", "set", dev, "up"]);
    }
    rules(serverNs, serverDev, []);
  } catch (error) {
    link.remove();
    const stderr = (error as { stderr?: unknown }).stderr;
    throw new Error(`${SETUP_HELP}\nSetting up the namespaces failed: ${String(stderr ?? error).trim()}`, { cause: error });
  }
  return link;
}

/** Replaces the filter of `ns` with `statements`, applied to every packet in and out of `dev`. */
function rules(ns: string, dev: string, statements: readonly string[]): void {
  const inBody = statements.map((statement) => `    iifname "${dev}" ${statement}\n`).join("");
  const outBody = statements.map((statement) => `    oifname "${dev}" ${statement}\n`).join("");
  const script =
    "table inet zrpcfaults\ndelete table inet zrpcfaults\n" +
    "table inet zrpcfaults {\n" +
    `  chain in {\n    type filter hook input priority 0; policy accept;\n${inBody}  }\n` +
    `  chain out {\n    type filter hook output priority 0; policy accept;\n${outBody}  }\n` +
    "}\n";
  execFileSync("ip", ["netns", "exec", ns, "nft", "-f", "-"], {
    input: script,
    encoding: "utf8",
    stdio: ["pipe", "pipe", "pipe"],
    env: { ...process.env, PATH: `${process.env.PATH ?? ""}:/usr/sbin:/sbin` },
  });
}
