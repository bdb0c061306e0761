/**
 * The emulated testbed's network: one namespace for the hub (the MBS, the chain node, the users' devices) and one per
 * BS, each BS joined to the hub's bridge by a veth pair. `tc` shapes each BS's uplink (egress of its end of the
 * veth, R^U_i of Eq. 7) and downlink (egress of the hub's end, R^D_i of Eq. 8). Every address lives in 10.77.0.0/24
 * inside these namespaces, so nothing in the testbed can reach any other network (the rule of src/ipfs/helia.ts and
 * src/testbed/hostNetwork.ts). Names carry the run's id (the launcher's pid), so a second run, or the sweep of what a
 * killed run left, never touches another run's namespaces.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import { hostNetworkEnv } from "./hostNetwork";
import { tcRate } from "./emulation";

/** The testbed's subnet (inside its namespaces only). */
export const TESTBED_SUBNET = "10.77.0.0/24";
/** The hub's address: the MBS, the chain's JSON-RPC node and the devices listen here. */
export const HUB_ADDRESS = "10.77.0.1";
/** Names of every namespace a run creates start with this. */
export const NAMESPACE_PREFIX = "dtwn-";
const NETNS_DIR = "/run/netns";

/** BS i's address. */
export function bsAddress(i: number): string {
  return `10.77.0.${10 + i}`;
}

/** Run a command; throws with its output when it fails. */
export function run(cmd: string, args: readonly string[]): string {
  const r = spawnSync(cmd, args, { encoding: "utf8" });
  if (r.error) throw new Error(`${cmd} ${args.join(" ")}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (exit ${r.status}): ${(r.stderr || r.stdout).trim()}`);
  return r.stdout;
}

/** Namespaces on this machine (names). */
export function namespaces(): string[] {
  return fs.existsSync(NETNS_DIR) ? fs.readdirSync(NETNS_DIR) : [];
}

/** Whether process `pid` is alive (a zombie, dead but not yet reaped by its parent, is not). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false; // gone between the two looks
  }
}

/** Block the thread for `ms` (cleanup in signal and exit handlers cannot await). */
export function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Wait (up to `timeoutMs`) until none of `pids` is alive; returns those still alive. */
export function awaitExit(pids: readonly number[], timeoutMs = 10_000): number[] {
  const t = Date.now();
  let left = pids.filter(alive);
  while (left.length > 0 && Date.now() - t < timeoutMs) {
    sleepSync(50);
    left = left.filter(alive);
  }
  return left;
}

/** Kill every process inside namespace `ns`, then delete it (its veth ends go with it). */
function deleteNamespace(ns: string): void {
  const pids = spawnSync("ip", ["netns", "pids", ns], { encoding: "utf8" }).stdout?.split("\n").filter(Boolean).map(Number) ?? [];
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // gone already
    }
  }
  awaitExit(pids);
  spawnSync("ip", ["netns", "del", ns], { encoding: "utf8" });
}

/** Namespaces of emulated runs whose launcher is no longer alive (what a SIGKILLed run left behind). */
export function staleNamespaces(): string[] {
  return namespaces().filter((n) => {
    const m = new RegExp(`^${NAMESPACE_PREFIX}(\\d+)-`).exec(n);
    return m !== null && !alive(Number(m[1]));
  });
}

/** Remove the namespaces of emulated runs that died without cleaning up; returns their names. */
export function sweepStaleNamespaces(): string[] {
  const stale = staleNamespaces();
  stale.forEach(deleteNamespace);
  return stale;
}

/** The rate of one link in each direction, bit/s (after the testbed's rescaling). */
export interface LinkRates {
  uplinkBps: number;
  downlinkBps: number;
}

export class EmulatedNetwork {
  private removed = false;
  readonly hub: string;
  readonly bsNamespaces: string[];

  private constructor(
    readonly id: number,
    readonly bss: number,
  ) {
    this.hub = `${NAMESPACE_PREFIX}${id}-hub`;
    this.bsNamespaces = Array.from({ length: bss }, (_, i) => `${NAMESPACE_PREFIX}${id}-bs${i}`);
  }

  /** The network of run `id` created by its launcher (for the hub's process, which shapes the links every slot). */
  static attach(id: number, bss: number): EmulatedNetwork {
    return new EmulatedNetwork(id, bss);
  }

  /** Create the hub, `bss` BS namespaces and their veths (no shaping yet); on a failure removes what it made. */
  static create(id: number, bss: number): EmulatedNetwork {
    const net = new EmulatedNetwork(id, bss);
    try {
      const ipn = (ns: string, ...args: string[]) => run("ip", ["-n", ns, ...args]);
      run("ip", ["netns", "add", net.hub]);
      ipn(net.hub, "link", "set", "lo", "up");
      ipn(net.hub, "link", "add", "hub", "type", "bridge");
      ipn(net.hub, "addr", "add", `${HUB_ADDRESS}/24`, "dev", "hub");
      ipn(net.hub, "link", "set", "hub", "up");
      net.bsNamespaces.forEach((ns, i) => {
        run("ip", ["netns", "add", ns]);
        ipn(ns, "link", "set", "lo", "up");
        // BS i's veth: "bs<i>" in the hub (a bridge port), "eth0" in the BS's namespace
        run("ip", ["link", "add", `bs${i}`, "netns", net.hub, "type", "veth", "peer", "name", "eth0", "netns", ns]);
        ipn(net.hub, "link", "set", `bs${i}`, "master", "hub");
        ipn(net.hub, "link", "set", `bs${i}`, "up");
        ipn(ns, "addr", "add", `${bsAddress(i)}/24`, "dev", "eth0");
        ipn(ns, "link", "set", "eth0", "up");
      });
    } catch (e) {
      net.remove();
      throw e;
    }
    return net;
  }

  /** Shape BS i's link: its uplink at `r.uplinkBps`, its downlink at `r.downlinkBps` (token bucket filters). */
  shape(i: number, r: LinkRates): void {
    run("tc", ["-n", this.bsNamespaces[i], "qdisc", "replace", "dev", "eth0", "root", ...tbf(r.uplinkBps)]);
    run("tc", ["-n", this.hub, "qdisc", "replace", "dev", `bs${i}`, "root", ...tbf(r.downlinkBps)]);
  }

  /** Bytes BS i's link has carried so far: its uplink (sent from its namespace) and its downlink (sent to it by the hub). */
  bytes(i: number): { uplinkBytes: number; downlinkBytes: number } {
    const tx = (ns: string, dev: string) => (JSON.parse(run("ip", ["-n", ns, "-s", "-j", "link", "show", dev])) as { stats64: { tx: { bytes: number } } }[])[0].stats64.tx.bytes;
    return { uplinkBytes: tx(this.bsNamespaces[i], "eth0"), downlinkBytes: tx(this.hub, `bs${i}`) };
  }

  /** The argv prefix that runs a command in the hub's (i undefined) or BS i's namespace, sharing everything else. */
  exec(i?: number): string[] {
    return ["nsenter", `--net=${NETNS_DIR}/${i === undefined ? this.hub : this.bsNamespaces[i]}`, "--"];
  }

  /** The host-network environment value of the hub's or BS i's processes (src/testbed/hostNetwork.ts). */
  hostEnv(i?: number): string {
    return hostNetworkEnv(i === undefined ? HUB_ADDRESS : bsAddress(i), TESTBED_SUBNET);
  }

  /** Names of this run's namespaces still on the machine. */
  present(): string[] {
    const mine = new Set([this.hub, ...this.bsNamespaces]);
    return namespaces().filter((n) => mine.has(n));
  }

  /** Kill what runs in the namespaces and delete them (idempotent). */
  remove(): void {
    if (this.removed) return;
    this.removed = true;
    [...this.bsNamespaces, this.hub].forEach((ns) => namespaces().includes(ns) && deleteNamespace(ns));
  }
}

/**
 * tbf arguments for `rateBps`: a bucket of 20 ms of traffic but at least 128 KiB (a veth hands over segments of up
 * to 64 KiB at once; a smaller bucket would stall them), and a queue of 500 ms, so TCP is shaped rather than dropped.
 */
export function tbf(rateBps: number): string[] {
  const burstBytes = Math.max(128 * 1024, Math.round((rateBps / 8) * 0.02));
  return ["tbf", "rate", tcRate(rateBps, 1), "burst", String(burstBytes), "latency", "500ms"];
}
