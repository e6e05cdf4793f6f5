// Two network namespaces joined by a veth pair, for the network-fault suite: the server runs in
// one, the client in the other, and nftables rules in the server's namespace partition the link
// or drop a share of its packets. Names are unique per test process (pid-based); `remove()`
// deletes both namespaces (and with them the veth pair and the rules), and an exit hook does it
// too when a test run dies half-way. A test process killed with SIGKILL runs no hook: the next
// `createLink()` sweeps what it left (namespaces named for a pid that no longer runs, and the
// processes still inside them).
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

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
  "The network-fault suite creates network namespaces, a veth pair and nftables rules: it needs root with the " +
  "CAP_SYS_ADMIN and CAP_NET_ADMIN capabilities (CI runs it as root; a container needs them granted, e.g. " +
  "--cap-add SYS_ADMIN --cap-add NET_ADMIN) and the `ip` (iproute2) and `nft` (nftables) commands " +
  "(Debian: apt-get install -y iproute2 nftables).";

/** The capabilities the setup needs, by bit number (linux/capability.h). */
const NEEDED_CAPABILITIES: readonly (readonly [name: string, bit: number])[] = [
  ["CAP_SYS_ADMIN", 21], // unshare(CLONE_NEWNET) and the bind mounts of `ip netns add`
  ["CAP_NET_ADMIN", 12], // the veth pair, addresses, links, nftables
];

/**
 * The needed capabilities this process lacks (its effective set in /proc/self/status), or
 * undefined when that cannot be read.
 */
export function missingCapabilities(): string[] | undefined {
  let status: string;
  try {
    status = readFileSync("/proc/self/status", "utf8");
  } catch {
    return undefined;
  }
  const hex = /^CapEff:\s*([0-9a-f]+)$/m.exec(status)?.[1];
  if (hex === undefined) return undefined;
  const effective = BigInt(`0x${hex}`);
  return NEEDED_CAPABILITIES.filter(([, bit]) => (effective & (1n << BigInt(bit))) === 0n).map(([name]) => name);
}

/** What this process lacks, as a sentence for an error message ("" when nothing is known to be missing). */
function privilegeDiagnosis(): string {
  const uid = typeof process.getuid === "function" ? process.getuid() : undefined;
  const missing = missingCapabilities();
  const parts: string[] = [];
  if (uid !== undefined && uid !== 0) parts.push(`This process runs as uid ${uid}, not root`);
  if (missing !== undefined && missing.length > 0) {
    parts.push(`${parts.length === 0 ? "This process" : "it"} lacks ${missing.join(" and ")} (missing ${missing.length === 1 ? "privilege" : "privileges"})`);
  }
  return parts.length === 0 ? "" : ` ${parts.join(", and ")}.`;
}

/** The suite's namespace names: `zrpcf-<pid of the test process>[x<n>]-<c|s>`. */
const OWN_NAMESPACE = /^zrpcf-(\d+)(?:x\d+)?-[cs]$/;

/** A namespace {@link sweepStaleLinks} removed. */
export interface SweptNamespace {
  readonly name: string;
  /** The test process that created it (no longer running). */
  readonly ownerPid: number;
  /** The processes still inside it, killed with SIGKILL before it was deleted. */
  readonly killed: readonly number[];
}

/** Whether `pid` is a running process (a zombie, which has exited and awaits its parent, is not). */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
  try {
    // "pid (comm) S ...": the state follows the last ")".
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return true; // cannot tell: keep its namespaces
  }
}

/**
 * Removes what test processes that were killed outright (SIGKILL: an OOM kill, a CI job
 * cancelled) left behind: every namespace named like this suite's (`zrpcf-<pid>-c`/`-s`) whose
 * owner pid no longer runs, after killing the processes still inside it (`ip netns pids`);
 * the veth pair and the nftables rules live in those namespaces and go with them. Namespaces of
 * running test processes and names of any other shape are never touched. Returns what it removed.
 */
export function sweepStaleLinks(): SweptNamespace[] {
  let listing: string;
  try {
    listing = run("ip", ["netns", "list"]);
  } catch {
    return [];
  }
  const swept: SweptNamespace[] = [];
  for (const line of listing.split("\n")) {
    const name = line.trim().split(/\s+/)[0] ?? "";
    const match = OWN_NAMESPACE.exec(name);
    if (match === null) continue;
    const ownerPid = Number(match[1]);
    if (ownerPid === process.pid || isRunning(ownerPid)) continue;
    const killed: number[] = [];
    let inside: number[] = [];
    try {
      inside = run("ip", ["netns", "pids", name])
        .split(/\s+/)
        .filter((text) => /^\d+$/.test(text))
        .map(Number);
    } catch {
      // gone meanwhile
    }
    for (const pid of inside) {
      try {
        process.kill(pid, "SIGKILL");
        killed.push(pid);
      } catch {
        // exited meanwhile
      }
    }
    try {
      run("ip", ["netns", "delete", name]);
      swept.push({ name, ownerPid, killed });
    } catch {
      // removed by another run meanwhile, or this process may not (left for one that can)
    }
  }
  return swept;
}

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
 * cannot (not root, CAP_SYS_ADMIN or CAP_NET_ADMIN missing, no iproute2/nftables): the suite must
 * fail there, not skip. Sweeps stale namespaces first ({@link sweepStaleLinks}).
 */
export function createLink(): NetLink {
  if (typeof process.getuid === "function" && process.getuid() !== 0) {
    throw new Error(`${SETUP_HELP}${privilegeDiagnosis()}`);
  }
  const swept = sweepStaleLinks();
  if (swept.length > 0) {
    process.stderr.write(
      `network-fault suite: removed ${swept.length} namespace(s) left by killed test processes: ` +
        `${swept.map((ns) => `${ns.name} (pid ${ns.ownerPid}; killed ${ns.killed.length === 0 ? "no process" : ns.killed.join(", ")})`).join(", ")}\n`,
    );
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
    throw new Error(`${SETUP_HELP}${privilegeDiagnosis()}\nSetting up the namespaces failed: ${String(stderr ?? error).trim()}`, { cause: error });
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
