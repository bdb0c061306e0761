/**
 * `dtwn run --testbed emulated`: the launcher. On this machine it builds the emulated DTWN (./network.ts: a hub
 * namespace and one namespace per BS joined by veths; ./cgroup.ts: one CPU cgroup per BS), starts the chain's node
 * and the hub's process (`dtwn testbed-hub`: the MBS, the users' devices and the run driver) inside the hub, and the
 * hub starts each BS agent inside its namespace and cgroup (./placement.ts). Whatever happens (the run ends, fails,
 * or this process gets SIGINT or SIGTERM) it kills every process of the run and removes the namespaces, veths and
 * cgroups it made; a run killed with SIGKILL leaves them to the next launcher, which sweeps what dead runs left.
 */
import { localNodeCommand } from "../chain/localNode";
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import type { Calibration } from "../bench/calibrate";
import { trainingConstantsOf } from "../twins/work";
import type { RunOptions } from "../system/options";
import { cgroupSupport, CpuCgroup, killCgroupTree, removeCgroupTree } from "./cgroup";
import { CPU_PERIOD_US, cpuQuotas } from "./emulation";
import { TESTBED_HOST_ENV } from "./hostNetwork";
import { alive, EmulatedNetwork, HUB_ADDRESS, sleepSync, sweepStaleNamespaces } from "./network";
import { testbedPrerequisites } from "./prerequisites";
import type { TestbedSpec } from "./spec";
import { buildWorld, environmentAt, type World } from "../system/world";
import { uplinkRatesBps } from "../twins/wireless";
import { FETCH_TIMEOUT_MS } from "../system/fetch";

const ROOT = path.resolve(__dirname, "..", "..");
/** The chain node's port in the hub. */
export const HUB_RPC_PORT = 8545;
/**
 * Cores left to the control plane when the BSs' training quotas are sized: the hub (MBS, chain node, driver) and
 * every agent's own process (chain, IPFS, DPoS) share them, in one cgroup. That cgroup is not capped there: it also
 * gets every core the training cgroups leave idle (while the BSs verify, transfer models and settle), but it runs
 * only after them (`TRAINING_WEIGHT` against `CONTROL_WEIGHT`), so its work never eats into a BS's training quota.
 */
export const CONTROL_RESERVED_CORES = 0.75;
/** CPU weight of the training cgroups (the maximum): under contention they run first, up to their quotas. */
export const TRAINING_WEIGHT = 10_000;
/** CPU weight of the control cgroup (the minimum): it runs on what the training cgroups leave. */
export const CONTROL_WEIGHT = 1;

export interface EmulatedRunRequest {
  o: RunOptions;
  /** Samples/s per core of this machine (`dtwn calibrate`): f^C is expressed against the testbed's core Hz. */
  calibration: Calibration;
  linkSlowdown: number;
  /** Machine cores (default: os.availableParallelism). */
  cores: number;
  log: (line: string) => void;
}

/**
 * The verification window an emulated run needs: each BS's model leaves through its shaped uplink to the M - 1
 * verifiers and the MBS, so twice that transfer at the slowest BS's even-share rate of slot 1, plus the default
 * minute for fetching, scoring and the chain's transactions.
 */
export function verificationWindowFor(world: World, linkSlowdown: number): number {
  return Math.ceil(60 + 2 * modelTransfersSeconds(world, linkSlowdown));
}

/**
 * Seconds for a BS's uploads of one round to cross the slowest shaped uplink of slot 1 (an even share of every
 * subchannel): its K twin models to each of the M − 1 verifiers and its Eq. 4 model to the MBS, for K = twice an even
 * share of the twins (the window is twice this plus a minute, so a BS with up to about four times its share is served
 * in time). The settlement does not wait for the window when every ballot is in, so a long window costs nothing.
 */
export function modelTransfersSeconds(world: World, linkSlowdown: number): number {
  const { scenario } = world;
  const m = scenario.bss.length;
  const k = Math.min(scenario.users.length, 2 * Math.ceil(scenario.users.length / m));
  const tau = scenario.bss.map(() => new Array<number>(scenario.constants.subchannels).fill(1 / m));
  const slowest = Math.min(...uplinkRatesBps(scenario, environmentAt(world, 1).channel, tau));
  return (linkSlowdown * ((m - 1) * k + 1) * scenario.constants.modelSizeBits) / slowest;
}

/**
 * How long a BS or the MBS waits for the next block of a model on the testbed before it gives up on a peer: the
 * verification window less 30 s to score and commit, and at least the default. A BS serves its model to the M − 1
 * verifiers and the MBS over one shaped uplink, one fetcher after another, so a fetcher may wait behind the others
 * for a long time: with the default 10 s, honest BSs with a small committed τ (the random and the heuristic
 * associations) were voted down because verifiers timed out waiting.
 */
export function fetchTimeoutFor(verificationWindowSeconds: number): number {
  return Math.max(FETCH_TIMEOUT_MS, 1000 * (verificationWindowSeconds - 30));
}

/** The cgroup directory of runs under the controller: dtwn-<id>. */
export function runCgroupName(id: number): string {
  return `dtwn-${id}`;
}

/** Remove the cgroups of emulated runs whose launcher is dead; returns their directories. */
export function sweepStaleCgroups(): string[] {
  const support = cgroupSupport();
  if ("missing" in support) return [];
  const stale = fs.readdirSync(support.dir).filter((n) => /^dtwn-(\d+)$/.test(n) && !alive(Number(n.slice(5))));
  const dirs = stale.map((n) => path.join(support.dir, n));
  for (const d of dirs) {
    killCgroupTree(d);
    removeCgroupTree(d, support);
  }
  return dirs;
}

/** Wait until `file` contains `marker` (a server's start line), or `child` exits, or the timeout passes. */
async function waitForLine(file: string, marker: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const t = Date.now();
  while (Date.now() - t < timeoutMs) {
    if (fs.existsSync(file) && fs.readFileSync(file, "utf8").includes(marker)) return;
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the chain node in the hub exited (code ${child.exitCode}); see ${file}.`);
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`the chain node in the hub did not start within ${timeoutMs / 1000} s; see ${file}.`);
}

/**
 * Build the testbed, run the hub's process in it, tear everything down; resolves with the hub's exit code. Fails at
 * once, before creating anything, when the machine lacks what the testbed needs.
 */
export async function launchEmulatedRun(req: EmulatedRunRequest): Promise<number> {
  const pre = testbedPrerequisites();
  if (!pre.ready) throw new Error(`--testbed emulated cannot run here; missing: ${pre.missing.join("; ")}. \`npx dtwn doctor\` shows the same.`);
  const { o, log } = req;
  const support = cgroupSupport();
  if ("missing" in support) throw new Error(support.missing);
  for (const ns of sweepStaleNamespaces()) log(`removed namespace ${ns} left by a run that was killed`);
  for (const d of sweepStaleCgroups()) log(`removed cgroup ${d} left by a run that was killed`);

  const id = process.pid;
  const out = path.resolve(o.out);
  fs.mkdirSync(out, { recursive: true });
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { worldOptions } = require("../agents/setup") as typeof import("../agents/setup");
  const world = buildWorld(worldOptions(o), 60_000);
  const cpuHz = world.scenario.bss.map((b) => b.cpuHz);
  const verificationWindowSeconds = Math.max(o.verificationWindowSeconds, verificationWindowFor(world, req.linkSlowdown));
  if (verificationWindowSeconds > o.verificationWindowSeconds) log(`verification window ${verificationWindowSeconds} s (raised from ${o.verificationWindowSeconds} s: each BS's twin models cross its shaped uplink to every verifier)`);
  const fetchTimeoutMs = Math.max(o.fetchTimeoutMs ?? FETCH_TIMEOUT_MS, fetchTimeoutFor(verificationWindowSeconds));
  const budget = Math.max(0.5, req.cores - CONTROL_RESERVED_CORES);
  const full = cpuQuotas(cpuHz, cpuHz.map(() => 1), budget);
  const c = req.calibration;
  const training = trainingConstantsOf({ samplesPerSecond: c.samplesPerSecond, stepSeconds: c.stepSeconds, twinSeconds: c.overheadSeconds }, full.coreHz, o.localSteps, c.referenceSamples); // Eq. 12's cycles against the Hz one core stands for

  let net: EmulatedNetwork | undefined;
  const children: ChildProcess[] = [];
  let cleaned = false;
  const cleanup = () => {
    if (cleaned) return;
    cleaned = true;
    children.forEach((c) => c.exitCode === null && c.signalCode === null && c.kill("SIGKILL"));
    const parent = path.join(support.dir, runCgroupName(id));
    killCgroupTree(parent);
    net?.remove();
    for (let attempt = 0; ; attempt++) {
      try {
        removeCgroupTree(parent, support);
        break;
      } catch (e) {
        // EBUSY while the kernel is still releasing the killed tasks
        if (attempt >= 50) {
          log(`could not remove cgroup ${parent}: ${(e as Error).message}; remove it with rmdir (children first)`);
          break;
        }
        sleepSync(100);
      }
    }
  };
  const onSignal = (sig: NodeJS.Signals) => {
    log(`${sig}: stopping the emulated run and removing its namespaces and cgroups`);
    cleanup();
    process.exit(sig === "SIGINT" ? 130 : 143);
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  process.once("exit", cleanup);
  try {
    net = EmulatedNetwork.create(id, o.bss);
    // Training cgroups, one per BS, with the quotas of f_i u_i(t) / H, first in line for the CPUs; the control cgroup,
    // on the cores left and on every core training leaves idle, holds the hub and each agent's own process in cgroups
    // of their own.
    const machineQuota = Math.round(req.cores * CPU_PERIOD_US);
    CpuCgroup.create(path.join(runCgroupName(id), "train"), machineQuota, support, TRAINING_WEIGHT);
    const cgroups = full.quotaUs.map((q, i) => CpuCgroup.create(path.join(runCgroupName(id), "train", `bs-${i}`), q, support));
    CpuCgroup.create(path.join(runCgroupName(id), "control"), machineQuota, support, CONTROL_WEIGHT);
    const agentCgroups = full.quotaUs.map((_, i) => CpuCgroup.create(path.join(runCgroupName(id), "control", `bs-${i}`), machineQuota, support));
    log(`testbed: hub ${net.hub} (${HUB_ADDRESS}), ${o.bss} BS namespaces, training quotas ${full.quotaUs.map((q) => `${(q / 1000).toFixed(0)} ms`).join("/")} per 100 ms (one core = ${(full.coreHz / 1e9).toFixed(2)} GHz), control plane ${(req.cores - budget).toFixed(2)} core and the idle ones, links at 1/${req.linkSlowdown} of Eqs. 7-8`);

    const rpcUrl = `http://${HUB_ADDRESS}:${HUB_RPC_PORT}`;
    const env = { ...process.env, [TESTBED_HOST_ENV]: net.hostEnv(), DTWN_LOCAL_RPC_URL: rpcUrl };
    const nodeLog = path.join(out, "chain-node.log");
    fs.writeFileSync(nodeLog, "");
    const nodeOut = fs.openSync(nodeLog, "a");
    // The hub (chain node, MBS, devices, driver) in the control cgroup too: the BSs' training quotas are then
    // theirs, not upper bounds the control plane's work can eat into.
    const hubGroup = CpuCgroup.create(path.join(runCgroupName(id), "control", "hub"), machineQuota, support);
    const hubExec = net.exec();
    const inHub = (argv: string[]) => hubGroup.command([...hubExec, ...argv]);
    const nodeCommand = localNodeCommand({ client: "hardhat", port: HUB_RPC_PORT, host: HUB_ADDRESS }); // as `npm run node`: blocks keep the wall clock
    const chainNode = inHub([nodeCommand.command, ...nodeCommand.args]);
    const node = spawn(chainNode.file, chainNode.args, { cwd: ROOT, env: { ...env, ...nodeCommand.env }, stdio: ["ignore", nodeOut, nodeOut] });
    children.push(node);
    await waitForLine(nodeLog, "Started HTTP and WebSocket JSON-RPC server", node, 120_000);
    log(`chain node up in the hub at ${rpcUrl}`);

    const spec: TestbedSpec = { id, bss: o.bss, run: { ...o, out, ...training, ...(c.xi ? { xi: c.xi.value } : {}), verificationWindowSeconds, fetchTimeoutMs }, cgroups: cgroups.map((c) => c.dir), agentCgroups: agentCgroups.map((c) => c.dir), cgroupVersion: support.version, coreHz: full.coreHz, linkSlowdown: req.linkSlowdown, rpcUrl };
    const specFile = path.join(out, "testbed.json");
    fs.writeFileSync(specFile, JSON.stringify(spec, null, 2) + "\n");
    const hubProcess = inHub([process.execPath, path.join(ROOT, "bin", "dtwn.js"), "testbed-hub", "--spec", specFile]);
    const hub = spawn(hubProcess.file, hubProcess.args, { cwd: ROOT, env, stdio: ["ignore", "inherit", "inherit"] });
    children.push(hub);
    return await new Promise<number>((resolve) => hub.once("exit", (code, signal) => resolve(code ?? (signal ? 1 : 0))));
  } finally {
    cleanup();
    process.removeListener("SIGINT", onSignal);
    process.removeListener("SIGTERM", onSignal);
    process.removeListener("exit", cleanup);
    if (net) log(`testbed removed (namespaces ${net.present().length === 0 ? "gone" : "LEFT: " + net.present().join(", ")})`);
  }
}
