/**
 * `dtwn run`, the main job: the whole system of Figs. 1-3 in one command. On the in-process Hardhat network it
 * deploys the protocol and bootstraps M BSs with N users' twins (Eq. 6 coins), starts an IPFS node per BS and one for
 * the MBS (libp2p on 127.0.0.1; peers find each other through the addresses registered on chain), loads Fashion-MNIST
 * and the association policy (a MADDPG actor per BS, or a baseline), and runs FL rounds: the MBS opens, settles and
 * aggregates; every BS agent observes, acts, syncs, trains, uploads, verifies and collects (src/system/bsAgent.ts)
 * while producing and validating DPoS blocks on a timer. Training and evaluation run in a pool of worker processes
 * (one per core). Everything measured goes into a run folder (src/system/report.ts); at the end the run exports the
 * chain's logs (chain-log.json) next to deployment.json, aggregation.json and the IPFS repositories, so that
 * `dtwn audit <run folder>` can recompute every model after the in-process chain is gone (docs/audit.md).
 */
import fs from "node:fs";
import path from "node:path";
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import { readDeployment } from "../chain/deployment";
import { DEFAULT_PROTOCOL_PARAMS } from "../chain/protocolParams";
import { DEFAULT_BOOTSTRAP, userIdOf } from "../chain/bootstrap";
import { archId, createCnn, getModelWeights } from "../fl/cnn";
import { loadFashionMnist } from "../fl/datasets/fashionMnist";
import { strategyByName } from "../fl/aggregation";
import { ProcessPoolTrainer } from "../fl/trainers";
import { initBackend } from "../ml/backend";
import type { HeliaWeightsStore as HeliaStore } from "../ipfs/helia";
import { loadPolicy } from "../agents/policyStore";
import { AgentCrashed, BsAgent, type AgentRoundReport, type AgentSettings } from "./bsAgent";
import { DposDuty } from "./dpos";
import { FederationStopped, Mbs, type MbsRoundReport } from "./mbs";
import type { RoundMetrics, RunMetrics } from "./metrics";
import { averagePolicy, jointActionRule, maddpgPolicy, randomPolicy, type AssociationPolicy } from "./policies";
import { freshDeviceSecret, runDevices } from "./devices";
import type { RunOptions, SubmissionFault } from "./options";

export { DEFAULT_RUN, resolveRunOptions, RunOptionsSchema, type RunOptions } from "./options";
import { connectProtocol, stakeOf, type Protocol } from "./protocol";
import { exportChainLog, writeChainLog } from "../audit/chainSource";
import { DEFAULT_AGGREGATION, writeAggregationSettings } from "../audit/settings";
import { FETCH_TIMEOUT_MS } from "./fetch";
import { buildWorld, type World, type WorldOptions } from "./world";

const ROOT = path.resolve(__dirname, "..", "..");

/** The malicious BSs: those of `o.maliciousBss` if given, else the last `o.malicious` ones, in index order. */
export function maliciousBss(o: Pick<RunOptions, "bss" | "malicious" | "maliciousBss">): number[] {
  if (o.maliciousBss) return [...o.maliciousBss].sort((a, b) => a - b);
  return Array.from({ length: o.malicious }, (_, k) => o.bss - o.malicious + k);
}

/** BS i's agent settings from the run options: the training and verification settings, its attack and its fault. */
export function agentSettings(o: RunOptions, i: number): AgentSettings {
  return {
    localSteps: o.localSteps,
    learningRate: o.learningRate,
    optimizer: o.optimizer,
    maxDrop: o.maxDrop,
    proposalWindowSeconds: o.proposalWindowSeconds,
    pollMs: 500,
    fetchTimeoutMs: FETCH_TIMEOUT_MS,
    globalCheck: DEFAULT_AGGREGATION, // how the MBS aggregates: each new global model is checked against Eq. 5
    ...(maliciousBss(o).includes(i) ? { attack: o.attack, ...(o.attack === "collude" ? { colluders: maliciousBss(o) } : {}) } : {}),
    ...faultOf(o, i),
  };
}

/** The injected submission fault of BS i, if any. */
export function faultOf(o: Pick<RunOptions, "faults">, i: number): { fault?: SubmissionFault } {
  const f = o.faults.find((x) => x.bs === i);
  return f ? { fault: f.kind } : {};
}

/** The shipped policy for a scenario of `bss` BSs and `users` users (seed `seed`), if there is one. */
export function shippedPolicyDir(bss: number, users: number, seed: number): string {
  return path.join(ROOT, "policies", `system-${bss}bs-${users}users-seed${seed}`, "policy");
}

export interface RunHooks {
  /** A line of progress. */
  log?: (line: string) => void;
  /** Called when a round is done. */
  onRound?: (r: RoundMetrics) => void;
}

/** Run the system in this process on the in-process Hardhat network; returns the metrics (the caller writes the report). */
export async function runSystem(o: RunOptions, hooks: RunHooks = {}): Promise<RunMetrics> {
  const log = hooks.log ?? (() => undefined);
  const t0 = Date.now();
  const out = path.resolve(o.out);
  fs.mkdirSync(out, { recursive: true });
  const world = buildWorld(worldOptions(o), 60_000);

  // The policy first: a missing one should fail before anything starts.
  const backend = await initBackend("auto", log);
  const { policy, dispose: disposePolicy } = await loadAssociationPolicy(o, world);

  // The chain: deploy and bootstrap on the in-process Hardhat network (Hardhat reads hardhat.config.ts from the repo).
  log("deploying the protocol on the in-process Hardhat network ...");
  const cwd = process.cwd();
  process.chdir(ROOT);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const hre = require("hardhat") as HardhatRuntimeEnvironment;
  process.chdir(cwd);
  // Blocks mined within one second keep the wall-clock timestamp (by default every block adds a second, so a burst
  // of transactions would run the chain's clock ahead of the deadlines the MBS sets from the wall clock).
  (hre.config.networks.hardhat as { allowBlocksWithSameTimestamp?: boolean }).allowBlocksWithSameTimestamp = true;
  const paramsFile = path.join(out, "protocol-params.json");
  fs.writeFileSync(paramsFile, JSON.stringify({ slotDurationSeconds: o.slotSeconds, verificationWindowSeconds: o.verificationWindowSeconds, unbondingDelaySeconds: Math.max(DEFAULT_PROTOCOL_PARAMS.unbondingDelaySeconds, 2 * o.slotSeconds * DEFAULT_PROTOCOL_PARAMS.slotsPerEpoch) }, null, 2) + "\n");
  const deploymentFile = path.join(out, "deployment.json");
  const quietConsole = console.log;
  const deployLines: string[] = [];
  console.log = (...args: unknown[]) => deployLines.push(args.join(" "));
  // The users' device keys: a fresh secret held here, on the users' side (the bootstrap registers their twins with it).
  const deviceSecret = freshDeviceSecret();
  const previousSecret = process.env.DTWN_DEVICE_SECRET;
  process.env.DTWN_DEVICE_SECRET = deviceSecret;
  try {
    await hre.run("dtwn-deploy", { bootstrap: true, users: o.users, bss: o.bss, seed: o.seed, params: paramsFile, out: deploymentFile });
  } finally {
    console.log = quietConsole;
    if (previousSecret === undefined) delete process.env.DTWN_DEVICE_SECRET;
    else process.env.DTWN_DEVICE_SECRET = previousSecret;
  }
  fs.writeFileSync(path.join(out, "deploy.log"), deployLines.join("\n") + "\n");
  const deployment = readDeployment(deploymentFile);
  writeAggregationSettings(out, DEFAULT_AGGREGATION); // how the MBS aggregates (the chain does not record it)
  const signers = await hre.ethers.getSigners();
  const mbsSigner = signers[0];
  const bsSigners = signers.slice(1, 1 + o.bss);
  const reader = connectProtocol(deployment, hre.ethers.provider);
  const bsAddresses = await reader.registry.members();
  const twinIds: number[] = [];
  for (let u = 0; u < o.users; u++) twinIds.push(Number(await reader.twins.twinOfUser(userIdOf(u))));
  log(`deployed; ${o.bss} BSs and ${o.users} twins registered, Eq. 6 coins allocated`);
  const devices = runDevices(deviceSecret, deployment, world, reader, bsAddresses, twinIds, jointActionRule(o.policy, world.scenario, o.seed), o.proposalWindowSeconds);

  // IPFS: one embedded node per BS and one for the MBS, on 127.0.0.1, each with its own repo in the run folder.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { HeliaWeightsStore } = require("../ipfs/helia") as typeof import("../ipfs/helia");
  const stores: HeliaStore[] = [];
  const trainer = new ProcessPoolTrainer({ kind: "fashion-mnist" }, o.workers);
  const duties: DposDuty[] = [];
  try {
    const openStore = async (name: string) => {
      const s = await HeliaWeightsStore.open({ repo: path.join(out, "ipfs", name), network: true });
      stores.push(s);
      return s;
    };
    const mbsStore = await openStore("mbs");
    const mbsPeers = mbsStore.multiaddrs();
    const dataset = loadFashionMnist();
    const arch = archId({ height: dataset.train.height, width: dataset.train.width, channels: dataset.train.channels });
    const malicious = maliciousBss(o);
    const agents: BsAgent[] = [];
    const agentStores: HeliaStore[] = [];
    /** Start BS i's agent: its IPFS node (on its repo in the run folder), its peer address on chain, its DPoS duty. */
    const startAgent = async (i: number, crash?: AgentSettings["crash"]) => {
      const store = await openStore(`bs-${i}`);
      const protocol = connectProtocol(deployment, bsSigners[i]);
      const agent = new BsAgent({
        index: i,
        signer: bsSigners[i],
        address: bsAddresses[i],
        protocol,
        world,
        bsAddresses,
        twinIds,
        store,
        trainer,
        arch,
        policy,
        devices,
        settings: { ...agentSettings(o, i), ...(crash ? { crash } : {}) },
        mbsPeers,
        log,
      });
      await agent.announcePeer(store.multiaddrs()[0]);
      agents[i] = agent;
      agentStores[i] = store;
      duties[i]?.stop();
      const duty = new DposDuty(protocol, bsAddresses[i], (line) => (o.quiet ? undefined : log(`  [dpos BS ${i}] ${line}`)));
      duty.start(1000);
      duties[i] = duty;
    };
    for (let i = 0; i < o.bss; i++) await startAgent(i, o.crash?.bs === i ? { round: o.crash.round, after: o.crash.after } : undefined);
    const restarts: RunMetrics["restarts"] = [];
    /** Round r of BS i; an agent that dies is restarted from its key, its IPFS repo and the chain, and resumes the round. */
    const agentRound = async (i: number, r: number): Promise<AgentRoundReport> => {
      try {
        return await agents[i].runRound(r);
      } catch (e) {
        if (!(e instanceof AgentCrashed)) throw e;
        log(`${e.message}; restarting it`);
        duties[i].stop();
        await agentStores[i].close();
        stores.splice(stores.indexOf(agentStores[i]), 1);
        const t = Date.now();
        await startAgent(i);
        restarts.push({ bs: i, round: r, after: e.after, restartSeconds: (Date.now() - t) / 1000 });
        return agents[i].runRound(r);
      }
    };
    log(`IPFS nodes up (MBS ${mbsPeers[0]}); ${o.bss} BS agents${malicious.length ? `, malicious: BS ${malicious.join(", ")} (${o.attack})` : ""}`);

    const initModel = createCnn({ height: dataset.train.height, width: dataset.train.width, channels: dataset.train.channels }, o.seed);
    const initial = getModelWeights(initModel);
    initModel.dispose();
    const mbs = new Mbs(
      connectProtocol(deployment, mbsSigner),
      mbsStore,
      trainer,
      arch,
      initial,
      strategyByName(DEFAULT_AGGREGATION.strategy, DEFAULT_AGGREGATION.faulty),
      { firstRoundSeconds: o.firstRoundSeconds, minRoundSeconds: 20, maxRoundSeconds: 600, pollMs: 500, fetchTimeoutMs: FETCH_TIMEOUT_MS, testIndices: Array.from({ length: o.testImages }, (_, k) => k), ...(o.mbsAttack ? { attack: o.mbsAttack } : {}) },
      log,
    );

    const rounds: RoundMetrics[] = [];
    let stopped: string | undefined;
    for (let r = 1; r <= o.rounds; r++) {
      stopped = await federationStopped(mbs, r);
      if (stopped) {
        log(`round ${r} not opened: ${stopped}`);
        break;
      }
      const tr = Date.now();
      const [mbsReport, ...agentReports] = await Promise.all([mbs.runRound((phase) => log(`round ${r}: ${phase}`)), ...agents.map((_, i) => agentRound(i, r))]);
      const metrics = await roundMetrics(reader, bsAddresses, mbsReport, agentReports, (Date.now() - tr) / 1000);
      rounds.push(metrics);
      hooks.onRound?.(metrics);
    }
    return {
      options: { ...o },
      backend,
      network: "hardhat (in-process)",
      policy: o.policy,
      startedAt: new Date(t0).toISOString(),
      seconds: (Date.now() - t0) / 1000,
      bsAddresses,
      malicious,
      rounds,
      dpos: duties.map((d) => d.stats),
      restarts,
      ...(stopped ? { stopped } : {}),
    };
  } finally {
    duties.forEach((d) => d.stop());
    // The in-process chain ends with this process: keep its logs for `dtwn audit` (also of a run that failed).
    await exportChainLog(hre.ethers.provider, deployment)
      .then((l) => writeChainLog(path.join(out, "chain-log.json"), l))
      .catch((e: Error) => log(`could not export the chain's logs: ${e.message}`));
    await Promise.all(stores.map((s) => s.close().catch(() => undefined)));
    await trainer.close();
    disposePolicy();
  }
}

/**
 * Before round `r` > 1: wait for the BSs' attestations of round r-1's global model; the reason the federation stops
 * when they disputed it (the chain opens no round from it), else undefined.
 */
export async function federationStopped(mbs: Mbs, r: number): Promise<string | undefined> {
  if (r < 2) return undefined;
  try {
    await mbs.awaitAttestation(r - 1);
    return undefined;
  } catch (e) {
    if (e instanceof FederationStopped) return e.message;
    throw e;
  }
}

/** A finished round's metrics: the MBS's and the agents' reports, and the chain's producers, coins, blocks and records. */
export async function roundMetrics(reader: Protocol, bsAddresses: readonly string[], mbs: MbsRoundReport, agents: AgentRoundReport[], seconds: number): Promise<RoundMetrics> {
  const epoch = await reader.election.currentEpoch();
  const coin = 10n ** 18n;
  return {
    round: mbs.round,
    mbs,
    agents,
    producers: [...(await reader.election.producersOf(epoch))],
    coins: await Promise.all(bsAddresses.map(async (a) => Number(((await stakeOf(reader, a)) * 100n) / coin) / 100)),
    blocks: { total: Number(await reader.blocks.blockCount()), final: Number(await reader.blocks.finalBlockCount()) },
    records: Number(await reader.recordLog.length()),
    seconds,
  };
}

/**
 * The association policy of every agent: the MADDPG actors of a trained policy for this scenario (o.policyDir, else
 * the shipped one), or a baseline. A missing policy fails with the commands that make one.
 * @param bss the BSs whose actors to load (default all)
 */
export async function loadAssociationPolicy(o: Pick<RunOptions, "policy" | "policyDir" | "bss" | "users" | "seed">, world: World, bss?: number[]): Promise<{ policy: AssociationPolicy; dispose: () => void }> {
  if (o.policy !== "maddpg") return { policy: o.policy === "average" ? averagePolicy(world.scenario) : randomPolicy(world.scenario, o.seed), dispose: () => undefined };
  const dir = o.policyDir ?? shippedPolicyDir(o.bss, o.users, o.seed);
  if (!fs.existsSync(path.join(dir, "policy.json"))) {
    throw new Error(
      `no MADDPG policy for ${o.bss} BSs and ${o.users} users (seed ${o.seed}) at ${dir}. Train one: ` +
        `\`npx dtwn scenario --system --bss ${o.bss} --users ${o.users} --seed ${o.seed} > scenario.json && npx dtwn train-policy --scenario scenario.json --out ${path.dirname(dir)}\`, ` +
        "or run a baseline with --policy average|random.",
    );
  }
  const actors = await loadPolicy(dir, world.scenario, bss);
  return { policy: maddpgPolicy(world.scenario, actors), dispose: () => actors.dispose() };
}

export function worldOptions(o: Pick<RunOptions, "users" | "bss" | "seed" | "heldOutPerBs">): WorldOptions {
  return { users: o.users, bss: o.bss, seed: o.seed, samplesPerUser: DEFAULT_BOOTSTRAP.samplesPerUser, heldOutPerBs: o.heldOutPerBs };
}
