/**
 * `dtwn run`, the main job: the whole system of Figs. 1-3 in one command, and the one driver every way of running it
 * goes through. It deploys the protocol and bootstraps M BSs with N users' twins (Eq. 6 coins) on a chain host
 * (./chains.ts: Hardhat in-process, or a JSON-RPC node), starts the users' devices (their consents), an IPFS node for
 * the MBS (libp2p on 127.0.0.1; peers find each other through the addresses registered on chain), and the BS agents
 * on an agent host (src/agents/hosts.ts: in this process, or one OS process per BS), loads Fashion-MNIST and the
 * association policy (a MADDPG actor per BS, or a baseline), and runs FL rounds: the MBS opens, settles and
 * aggregates; every BS agent observes, acts, syncs, trains, uploads, verifies, collects and attests
 * (src/agents/bsAgent.ts) while producing and validating DPoS blocks on a timer. Everything measured goes into a run
 * folder (./report.ts); at the end the run exports the chain's logs (chain-log.json) next to deployment.json,
 * aggregation.json and the IPFS repositories, so that `dtwn audit <run folder>` can recompute every model after the
 * chain is gone (docs/audit.md).
 */
import { parseEther } from "ethers";
import { checkWindowsFitBlockTime } from "../chain/blockTime";
import fs from "node:fs";
import path from "node:path";
import { readDeployment } from "../chain/deployment";
import { DEFAULT_PROTOCOL_PARAMS } from "../chain/protocolParams";
import { archId, createCnn, getModelWeights } from "../fl/cnn";
import { loadFashionMnist } from "../fl/datasets/fashionMnist";
import { strategyByName } from "../fl/aggregation";
import type { TwinTrainer } from "../fl/trainers";
import { initBackend } from "../ml/backend";
import type { HeliaWeightsStore as HeliaStore } from "../ipfs/helia";
import type { AgentRoundReport } from "../agents/bsAgent";
import { InProcessAgents, ProcessAgents, type AgentHost } from "../agents/hosts";
import { jointActionRule } from "../agents/policies";
import { loadAssociationPolicy, maliciousBss, worldOptions } from "../agents/setup";
import { InProcessChain, NodeChain, type ChainHost } from "./chains";
import { EmulatedPlacement, type SlotLine } from "../testbed/placement";
import { encodeWeights } from "../fl/weightsFormat";
import type { TestbedSpec } from "../testbed/spec";
import { FederationStopped, Mbs, type MbsRoundReport } from "./mbs";
import type { RoundMetrics, RunMetrics } from "./metrics";
import { freshDeviceSecret, runDevices } from "./devices";
import type { AgentHostName, RunOptions } from "./options";
import { connectProtocol, stakeOf, twinIdsOf, type Protocol } from "./protocol";
import { exportChainLog, writeChainLog } from "../audit/chainSource";
import { DEFAULT_AGGREGATION, writeAggregationSettings } from "../audit/settings";
import { FETCH_TIMEOUT_MS } from "./fetch";
import { buildWorld, type World } from "./world";
import { JointActionReader } from "../agents/jointAction";
import type { AssociationPolicy } from "../agents/policies";
import { DEADLINE_SLACK, submissionWindow } from "../testbed/deadlines";
import { timeCost } from "../twins/timeCost";

export { DEFAULT_RUN, resolveRunOptions, RunOptionsSchema, type RunOptions } from "./options";
export { agentSettings, faultOf, loadAssociationPolicy, maliciousBss, shippedPolicyDir, worldOptions } from "../agents/setup";


export interface RunHooks {
  /** A line of progress. */
  log?: (line: string) => void;
  /** Called when a round is done. */
  onRound?: (r: RoundMetrics) => void;
}

/** Where a run's chain and agents live. */
export interface RunPlacement {
  /** hardhat: the in-process chain; any other name: that JSON-RPC node (localhost: `npx hardhat node`). */
  network?: string;
  /** Default: in-process on the in-process chain, processes on a node. */
  agents?: AgentHostName;
  /** Inside an emulated testbed (the hub's process of `dtwn run --testbed emulated`): agent processes in its namespaces and cgroups. */
  testbed?: TestbedSpec;
}

/** The chain and agent hosts of a placement; refuses combinations that cannot work, with what to use instead. */
export async function hostsFor(o: RunOptions, p: RunPlacement = {}): Promise<{ chain: ChainHost; agents: AgentHost }> {
  const network = p.network ?? "hardhat";
  const agents = p.agents ?? (network === "hardhat" ? "in-process" : "processes");
  if (network === "hardhat" && agents === "processes") throw new Error("BS agent processes need a chain they can reach: use --network localhost (start a node with `npx hardhat node`).");
  if (agents === "in-process" && o.kill) throw new Error("--kill stops an agent process: use it with agent processes (--network localhost); in-process agents take --crash bs:round:phase.");
  if (agents === "processes" && o.crash) throw new Error("--crash injects a fault into in-process agents; with agent processes use --kill bs:round:phase (the agent process is SIGKILLed after that phase and started again after the round).");
  if (network === "hardhat" && o.fundBsEther !== undefined) throw new Error("--fund-bs-ether needs a chain node (--network localhost or testnet); the in-process chain funds its accounts itself.");
  if (p.testbed && agents !== "processes") throw new Error("an emulated testbed runs every BS agent as its own process (--agents processes).");
  const chain = network === "hardhat" ? new InProcessChain() : await NodeChain.connect(network, o.bss, o.confirmations);
  return { chain, agents: agents === "in-process" ? new InProcessAgents() : new ProcessAgents(o.bss, p.testbed ? new EmulatedPlacement(p.testbed) : undefined) };
}

/** Run the system (the chain and agents where `placement` says); returns the metrics (the caller writes the report). */
export async function runSystem(o: RunOptions, hooks: RunHooks = {}, placement: RunPlacement = {}): Promise<RunMetrics> {
  const log = hooks.log ?? (() => undefined);
  const t0 = Date.now();
  const { chain, agents: host } = await hostsFor(o, placement); // a placement that cannot work fails before anything is written
  // Windows shorter than the chain's blocks allow fail here, before anything is deployed.
  const blockTime = await chain.blockTime();
  checkWindowsFitBlockTime({ slotSeconds: o.slotSeconds, verificationWindowSeconds: o.verificationWindowSeconds, revealWindowSeconds: o.revealWindowSeconds, firstRoundSeconds: o.firstRoundSeconds, minRoundSeconds: o.minRoundSeconds, proposalWindowSeconds: o.proposalWindowSeconds }, blockTime, undefined, o.confirmations);
  if (blockTime.seconds > 0) log(`the chain mines a block every ${blockTime.seconds} s (${blockTime.how})`);
  if (o.confirmations > 1 && !(blockTime.seconds > 0)) {
    throw new Error(`--confirmations ${o.confirmations} needs a chain that mines blocks on its own: ${chain.description} mines a block per transaction, so the confirmations of the last transactions never come. Start the node with a block time (\`npm run node -- --client anvil --block-time 2\`) or leave out --confirmations.`);
  }
  if (o.confirmations > 1) log(`the MBS and the agents act on blocks ${o.confirmations - 1} deep (--confirmations ${o.confirmations})`);
  const out = path.resolve(o.out);
  fs.mkdirSync(out, { recursive: true });
  const world = buildWorld(worldOptions(o), 60_000);

  // The policy first: a missing one should fail before anything starts.
  const backend = await initBackend("auto", log);
  const { policy, dispose: disposePolicy } = await loadAssociationPolicy(o, world);

  // The chain: fund the BSs (a testnet's accounts start empty), deploy and bootstrap.
  if (o.fundBsEther !== undefined) {
    await (chain as NodeChain).fundBss(parseEther(String(o.fundBsEther)), log);
  }
  log(`deploying the protocol to ${chain.description} ...`);
  const paramsFile = path.join(out, "protocol-params.json");
  fs.writeFileSync(paramsFile, JSON.stringify({ slotDurationSeconds: o.slotSeconds, verificationWindowSeconds: o.verificationWindowSeconds, revealWindowSeconds: o.revealWindowSeconds, unbondingDelaySeconds: Math.max(DEFAULT_PROTOCOL_PARAMS.unbondingDelaySeconds, 2 * o.slotSeconds * DEFAULT_PROTOCOL_PARAMS.slotsPerEpoch) }, null, 2) + "\n");
  const deploymentFile = path.join(out, "deployment.json");
  // The users' device keys: a fresh secret held here, on the users' side (the bootstrap registers their twins with it).
  const deviceSecret = freshDeviceSecret();
  try {
    fs.writeFileSync(path.join(out, "deploy.log"), await chain.deploy({ users: o.users, bss: o.bss, seed: o.seed, paramsFile, deploymentFile, deviceSecret }));
  } catch (e) {
    const output = (e as { output?: string }).output;
    if (output !== undefined) fs.writeFileSync(path.join(out, "deploy.log"), output);
    disposePolicy();
    throw e;
  }
  const deployment = readDeployment(deploymentFile);
  writeAggregationSettings(out, DEFAULT_AGGREGATION); // how the MBS aggregates (the chain does not record it)
  const reader = connectProtocol(deployment, chain.provider(deployment));
  const bsAddresses = await reader.registry.members();
  const twinIds = await twinIdsOf(reader, o.users);
  log(`deployed; ${o.bss} BSs and ${o.users} twins registered, Eq. 6 coins allocated`);
  const devices = runDevices(deviceSecret, deployment, world, reader, bsAddresses, twinIds, jointActionRule(o.policy, world.scenario, o.seed), o.proposalWindowSeconds);

  // IPFS: one embedded node for the MBS and one per BS, on 127.0.0.1, each with its own repo in the run folder.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { HeliaWeightsStore } = require("../ipfs/helia") as typeof import("../ipfs/helia");
  const stores: HeliaStore[] = [];
  const openStore = async (name: string) => {
    const s = await HeliaWeightsStore.open({ repo: path.join(out, "ipfs", name), network: true });
    stores.push(s);
    return s;
  };
  let trainer: TwinTrainer | undefined;
  try {
    const mbsStore = await openStore("mbs");
    const mbsPeers = mbsStore.multiaddrs();
    const dataset = loadFashionMnist();
    const shape = { height: dataset.train.height, width: dataset.train.width, channels: dataset.train.channels };
    const arch = archId(shape);
    const malicious = maliciousBss(o);
    const closeStore = async (st: HeliaStore) => {
      stores.splice(stores.indexOf(st), 1);
      await st.close();
    };
    trainer = await host.start({ o, out, chain, deployment, deploymentFile, world, bsAddresses, twinIds, devices, mbsPeers, policy, arch, openStore, closeStore, log });
    log(`IPFS nodes up (MBS ${mbsPeers[0]}); ${o.bss} BS agents${malicious.length ? `, malicious: BS ${malicious.join(", ")} (${o.attack})` : ""}`);

    const initModel = createCnn(shape, o.seed);
    const initial = getModelWeights(initModel);
    initModel.dispose();
    const mbs = new Mbs(
      connectProtocol(deployment, await chain.mbsSigner(deployment)),
      mbsStore,
      trainer,
      arch,
      initial,
      strategyByName(DEFAULT_AGGREGATION.strategy, DEFAULT_AGGREGATION.faulty),
      { ...(placement.testbed ? { window: modelWindow(world, reader, bsAddresses, twinIds, policy, o.proposalWindowSeconds, placement.testbed.linkSlowdown) } : {}), firstRoundSeconds: o.firstRoundSeconds, minRoundSeconds: o.minRoundSeconds, maxRoundSeconds: 600, pollMs: 500, fetchTimeoutMs: o.fetchTimeoutMs ?? FETCH_TIMEOUT_MS, testIndices: Array.from({ length: o.testImages }, (_, k) => k), ...(o.mbsAttack ? { attack: o.mbsAttack } : {}) },
      log,
    );

    const rounds: RoundMetrics[] = [];
    let stopped: string | undefined;
    for (let r = 1; r <= o.rounds; r++) {
      stopped = await federationStopped(mbs, r);
      if (stopped) {
        log(`round ${r} not opened: ${stopped}`);
        host.halt();
        break;
      }
      const tr = Date.now();
      const { mbs: mbsReport, agents: agentReports } = await host.runRound(r, () => mbs.runRound((phase) => log(`round ${r}: ${phase}`)));
      const metrics = await roundMetrics(reader, bsAddresses, mbsReport, agentReports, (Date.now() - tr) / 1000);
      rounds.push(metrics);
      hooks.onRound?.(metrics);
    }
    await host.finish();
    return {
      ...(placement.testbed ? { testbed: { coreHz: placement.testbed.coreHz, linkSlowdown: placement.testbed.linkSlowdown, modelBytes: encodeWeights(arch, initial).length, traffic: testbedTraffic(out) } } : {}),
      options: { ...o },
      backend,
      network: [chain.description, host.description].filter(Boolean).join(", "),
      policy: o.policy,
      startedAt: new Date(t0).toISOString(),
      seconds: (Date.now() - t0) / 1000,
      bsAddresses,
      malicious,
      rounds,
      dpos: host.dposStats(),
      restarts: host.restarts,
      ...(stopped ? { stopped } : {}),
    };
  } finally {
    await host.close();
    // The chain's logs next to the IPFS repositories: `dtwn audit <run folder>` works after the chain is gone.
    await exportChainLog(chain.provider(deployment), deployment)
      .then((l) => writeChainLog(path.join(out, "chain-log.json"), l))
      .catch((e: Error) => log(`could not export the chain's logs: ${e.message}`));
    await Promise.all(stores.map((s) => s.close().catch(() => undefined)));
    disposePolicy();
  }
}

/** The traffic lines of an emulated run's testbed-slots.jsonl, each with the model's uplink rate of its slot. */
function testbedTraffic(out: string): NonNullable<RunMetrics["testbed"]>["traffic"] {
  const file = path.join(out, "testbed-slots.jsonl");
  if (!fs.existsSync(file)) return [];
  const lines = fs.readFileSync(file, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l) as SlotLine);
  return lines
    .filter((l) => l.what === "traffic")
    .map((t) => {
      const up = lines.filter((l) => l.what === "uplink" && l.round === t.round && l.bs === t.bs);
      const rate = (up.find((l) => l.committed) ?? up[up.length - 1])?.model ?? 0;
      return { round: t.round, bs: t.bs, uplinkBytes: t.uplinkBytes ?? 0, downlinkBytes: t.downlinkBytes ?? 0, uplinkModelBps: rate };
    });
}

/**
 * Submission windows from the model (on the emulated testbed, src/testbed/deadlines.ts): s(t) read from the chain
 * as the BSs will read it when round t opens, the allocation the public policy gives for it, priced by Eqs. 7-16.
 */
export function modelWindow(world: World, reader: Protocol, bsAddresses: readonly string[], twinIds: readonly number[], policy: AssociationPolicy, proposalWindowSeconds: number, linkSlowdown: number): (round: number) => Promise<{ seconds: number; note: string }> {
  const joint = new JointActionReader({ protocol: reader, world, bsAddresses, twinIds, rule: policy, proposalWindowSeconds, pollMs: 500 });
  return async (round) => {
    const state = await joint.observe(round);
    const allocation = policy.decide(state, policy.proposes ? bsAddresses.map((_, i) => policy.propose(state, i)) : []);
    const w = submissionWindow(timeCost(world.scenario, state, allocation), { proposalSeconds: policy.proposes ? proposalWindowSeconds : 0, linkSlowdown, modelBits: world.scenario.constants.modelSizeBits });
    return { seconds: w.seconds, note: `the model predicts BS ${w.slowestBs} ready to submit after ${w.predictedSeconds.toFixed(1)} s; window = ${policy.proposes ? `${proposalWindowSeconds} s of proposals + ` : ""}${DEADLINE_SLACK.factor} x that + ${DEADLINE_SLACK.seconds} s` };
  };
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

