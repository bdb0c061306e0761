/**
 * The body of `dtwn agent`: one BS agent as its own OS process against the chain's JSON-RPC node, with its own key,
 * its own IPFS node, its own training worker and the round loop of ./bsAgent.ts. Started by the run driver's
 * process host (./hosts.ts); usable by hand with the same options (each agent log starts with the command). It writes
 * one JSON line per round to <out>/agents/bs-<i>.jsonl and resumes a run from the chain, its IPFS repository and that
 * file when started again.
 */
import fs from "node:fs";
import path from "node:path";
import { Wallet } from "ethers";
import { readDeployment } from "../chain/deployment";
import { RoundStatus } from "../chain/enums";
import { localProvider } from "../chain/provider";
import { SerialSigner } from "../chain/serialSigner";
import { archId } from "../fl/cnn";
import { loadFashionMnist } from "../fl/datasets/fashionMnist";
import { ProcessPoolTrainer } from "../fl/trainers";
import { moveToCgroup, TRAIN_CGROUP_ENV } from "../testbed/cgroup";
import { initBackend, threadsPerProcess } from "../ml/backend";
import { bsKeyFor, checkNode, RPC_URLS } from "../system/chains";
import { HttpDeviceLink } from "../system/devices";
import type { RunOptions } from "../system/options";
import { connectProtocol, twinIdsOf } from "../system/protocol";
import { buildWorld } from "../system/world";
import { AgentCrashed, BsAgent, type AgentRoundReport } from "./bsAgent";
import { DposDuty } from "./dpos";
import { agentSettings, loadAssociationPolicy, worldOptions } from "./setup";

export interface AgentProcessOptions {
  deployment: string;
  bs: number;
  run: RunOptions;
  mbsPeers: string[];
  /** Where the users' devices answer (the driver's serveDevices). */
  devicesUrl: string;
}

/** One BS agent in this process, rounds 1..R, one JSON line per round. */
export async function runAgentProcess(a: AgentProcessOptions, log: (line: string) => void): Promise<void> {
  const o = a.run;
  const deployment = readDeployment(a.deployment);
  // a testnet's URL is not written into the deployment (it may hold an API key): it comes from DTWN_RPC_URL
  const url = deployment.rpcUrl ?? RPC_URLS[deployment.network] ?? process.env.DTWN_RPC_URL;
  if (!url) throw new Error(`the deployment ${a.deployment} (network ${deployment.network}) has no rpcUrl: set DTWN_RPC_URL to its node's JSON-RPC URL.`);
  const onOutage = (event: "down" | "up", seconds: number) => log(event === "down" ? `BS ${a.bs}: the chain node refuses connections; waiting for it` : `BS ${a.bs}: the chain node answers again (down ${seconds.toFixed(0)} s)`);
  const onResend = (hash: string, error?: string) => log(error === undefined ? `BS ${a.bs}: sent transaction ${hash} again (the node had dropped it: a reorg or a restart)` : `BS ${a.bs}: the node refused transaction ${hash} sent again (${error}); asking again at the next block`);
  const provider = localProvider(url, deployment.chainId, { confirmations: o.confirmations, onOutage, onResend });
  await checkNode(provider, url);
  await initBackend("auto", () => undefined);
  const world = buildWorld(worldOptions(o), 60_000);
  const { policy, dispose } = await loadAssociationPolicy(o, world, o.policy === "maddpg" ? [a.bs] : undefined);
  const signer = new SerialSigner(new Wallet(bsKeyFor(deployment.network, a.bs), provider));
  const address = await signer.getAddress();
  const protocol = connectProtocol(deployment, signer);
  const bsAddresses = await protocol.registry.members();
  if (bsAddresses[a.bs]?.toLowerCase() !== address.toLowerCase()) throw new Error(`BS ${a.bs}'s key (${address}) is not member ${a.bs} of the registry (${bsAddresses[a.bs] ?? "none"}).`);
  const twinIds = await twinIdsOf(protocol, o.users);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { HeliaWeightsStore } = require("../ipfs/helia") as typeof import("../ipfs/helia");
  const store = await HeliaWeightsStore.open({ repo: path.join(path.resolve(o.out), "ipfs", `bs-${a.bs}`), network: true });
  // Training off the event loop: DPoS keeps ticking; every BS and the MBS train at once. On the emulated testbed the
  // training process goes into the BS's training cgroup (its quota is f_i u_i(t) / H); this process, its chain, IPFS
  // and DPoS work, stays in the control cgroup it was started in.
  const trainCgroup = process.env[TRAIN_CGROUP_ENV];
  // There it also trains a few mini-batches before round 1, so that round 1's training is not a fresh worker's.
  const { minBatchSize, maxBatchSize } = world.scenario.constants;
  const warmUp = trainCgroup ? { batchSizes: [...new Set([minBatchSize, Math.round(Math.sqrt(minBatchSize * maxBatchSize)), maxBatchSize])], optimizer: o.optimizer } : undefined;
  const trainer = new ProcessPoolTrainer({ kind: "fashion-mnist" }, 1, threadsPerProcess(o.bss + 1), trainCgroup ? (pid) => {
    moveToCgroup(trainCgroup, pid);
    log(`training process ${pid} in cgroup ${trainCgroup}`);
  } : undefined, warmUp);
  const duty = new DposDuty(protocol, address, (line) => log(`[dpos] ${line}`));
  const dataset = loadFashionMnist();
  // --kill bs:round:phase: this process SIGKILLs itself right after that phase (no cleanup: as abrupt as `kill -9`).
  const kill = o.kill?.bs === a.bs && o.kill.after ? { round: o.kill.round, after: o.kill.after } : undefined;
  const settings = { ...agentSettings(o, a.bs), ...(kill ? { crash: kill } : {}) };
  const file = path.join(path.resolve(o.out), "agents", `bs-${a.bs}.jsonl`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  try {
    const agent = new BsAgent({ index: a.bs, signer, address, protocol, world, bsAddresses, twinIds, store, trainer, arch: archId({ height: dataset.train.height, width: dataset.train.width, channels: dataset.train.channels }), policy, devices: new HttpDeviceLink(a.devicesUrl), settings, mbsPeers: a.mbsPeers, log });
    await trainer.whenReady(); // started (and warmed up) before the MBS can see this BS up
    await agent.announcePeer(store.multiaddrs()[0]);
    duty.start(1000);
    log(`BS ${a.bs} (${address}) up; IPFS ${store.multiaddrs()[0]}`);
    // Rounds already finished on chain (a restarted agent) are skipped; the open one is resumed.
    const done = new Set(fs.existsSync(file) ? fs.readFileSync(file, "utf8").split("\n").filter(Boolean).map((l) => (JSON.parse(l) as AgentRoundReport).round) : []);
    for (let r = 1; r <= o.rounds; r++) {
      if (done.has(r)) continue;
      let report: AgentRoundReport;
      try {
        report = await agent.runRound(r);
      } catch (e) {
        if (!(e instanceof AgentCrashed)) throw e;
        log(`${e.message}: SIGKILL to this process (pid ${process.pid})`);
        process.kill(process.pid, "SIGKILL");
        await new Promise(() => undefined); // the signal ends the process before any cleanup
        throw e;
      }
      fs.appendFileSync(file, JSON.stringify({ ...report, dpos: duty.stats }) + "\n");
      log(`round ${r}: ${report.submitted ? `submitted ${report.cid}` : `nothing submitted (${report.skipped})`}, outcome ${report.outcome}`);
    }
    // Keep serving its weights until the MBS has fetched them and recorded the last global model.
    const t = Date.now();
    while (Number((await protocol.rounds.getRound(o.rounds)).status) !== RoundStatus.Finalized && Date.now() - t < 600_000) await new Promise((r) => setTimeout(r, 1000));
  } finally {
    duty.stop();
    await store.close();
    await trainer.close();
    dispose();
  }
}
