/**
 * The system as separate OS processes against a standalone JSON-RPC node (`npx hardhat node`, or any chain with the
 * keys to match): the MBS in this process, and one `dtwn agent` process per BS, each with its own key, its own IPFS
 * node, its own training worker and the round loop of src/system/bsAgent.ts. The agents write one JSON line per round
 * to <out>/agents/bs-<i>.jsonl, which the MBS process collects into the run's metrics.
 *
 * Keys: on localhost the node's well-known development accounts (account 0 the MBS, 1..M the BSs); elsewhere
 * DTWN_DEPLOYER_KEY and DTWN_BS_KEYS (comma-separated), as for `dtwn-deploy`.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { HDNodeWallet, Mnemonic, Wallet, type Provider } from "ethers";
import { userIdOf } from "../chain/bootstrap";
import { readDeployment } from "../chain/deployment";
import { DEFAULT_PROTOCOL_PARAMS } from "../chain/protocolParams";
import { LOCAL_RPC_URL, localProvider } from "../chain/provider";
import { SerialSigner } from "../chain/serialSigner";
import { archId, createCnn, getModelWeights } from "../fl/cnn";
import { strategyByName } from "../fl/aggregation";
import { loadFashionMnist } from "../fl/datasets/fashionMnist";
import { ProcessPoolTrainer } from "../fl/trainers";
import { initBackend, threadsPerProcess, trainingProcessEnv } from "../ml/backend";
import type { HeliaWeightsStore as HeliaStore } from "../ipfs/helia";
import { AgentCrashed, BsAgent, type AgentRoundReport } from "./bsAgent";
import { DposDuty } from "./dpos";
import { Mbs } from "./mbs";
import type { RoundMetrics, RunMetrics } from "./metrics";
import { connectProtocol } from "./protocol";
import { HttpDeviceLink, runDevices, serveDevices, freshDeviceSecret } from "./devices";
import { jointActionRule } from "./policies";
import { FETCH_TIMEOUT_MS } from "./fetch";
import { agentSettings, federationStopped, loadAssociationPolicy, maliciousBss, roundMetrics, type RunHooks, type RunOptions, worldOptions } from "./run";
import { buildWorld } from "./world";
import { exportChainLog, writeChainLog } from "../audit/chainSource";
import { DEFAULT_AGGREGATION, writeAggregationSettings } from "../audit/settings";

const ROOT = path.resolve(__dirname, "..", "..");
/** The development mnemonic of `npx hardhat node` (public; only for the local node). */
const HARDHAT_MNEMONIC = "test test test test test test test test test test test junk";

/** Private key of account `i` of the local development node. */
export function devKey(i: number): string {
  return HDNodeWallet.fromMnemonic(Mnemonic.fromPhrase(HARDHAT_MNEMONIC), `m/44'/60'/0'/0/${i}`).privateKey;
}

/** The MBS's and the BSs' keys: the node's development accounts on localhost, else from the environment. */
export function runKeys(network: string, bss: number, env: NodeJS.ProcessEnv = process.env): { mbs: string; bss: string[] } {
  if (network === "localhost") return { mbs: devKey(0), bss: Array.from({ length: bss }, (_, i) => devKey(i + 1)) };
  const mbs = env.DTWN_DEPLOYER_KEY;
  const keys = (env.DTWN_BS_KEYS ?? "").split(",").filter(Boolean);
  if (!mbs || keys.length < bss) throw new Error(`--network ${network} needs DTWN_DEPLOYER_KEY and ${bss} comma-separated keys in DTWN_BS_KEYS.`);
  return { mbs, bss: keys.slice(0, bss) };
}

/** JSON-RPC URLs of the networks a run can use (localhost as in hardhat.config.ts, overridable the same way). */
export const RPC_URLS: Record<string, string> = { localhost: LOCAL_RPC_URL };

async function checkNode(provider: Provider, url: string): Promise<void> {
  try {
    await provider.getBlockNumber();
  } catch {
    throw new Error(`no JSON-RPC node answers at ${url}. Start one in another shell with \`npx hardhat node\` (or \`npm run node\`), then run this again.`);
  }
}

export interface AgentProcessOptions {
  deployment: string;
  bs: number;
  run: RunOptions;
  mbsPeers: string[];
  /** Where the users' devices answer (the driver's {@link serveDevices}). */
  devicesUrl: string;
}

/** The body of `dtwn agent`: one BS agent in this process, rounds 1..R, one JSON line per round. */
export async function runAgentProcess(a: AgentProcessOptions, log: (line: string) => void): Promise<void> {
  const o = a.run;
  const deployment = readDeployment(a.deployment);
  const url = deployment.rpcUrl ?? RPC_URLS[deployment.network];
  if (!url) throw new Error(`the deployment ${a.deployment} has no rpcUrl; redeploy through a node with a URL.`);
  const provider = localProvider(url, deployment.chainId);
  await checkNode(provider, url);
  await initBackend("auto", () => undefined);
  const world = buildWorld(worldOptions(o), 60_000);
  const { policy, dispose } = await loadAssociationPolicy(o, world, o.policy === "maddpg" ? [a.bs] : undefined);
  const signer = new SerialSigner(new Wallet(runKeys(deployment.network, o.bss).bss[a.bs], provider));
  const address = await signer.getAddress();
  const protocol = connectProtocol(deployment, signer);
  const bsAddresses = await protocol.registry.members();
  if (bsAddresses[a.bs]?.toLowerCase() !== address.toLowerCase()) throw new Error(`BS ${a.bs}'s key (${address}) is not member ${a.bs} of the registry (${bsAddresses[a.bs] ?? "none"}).`);
  const twinIds: number[] = [];
  for (let u = 0; u < o.users; u++) twinIds.push(Number(await protocol.twins.twinOfUser(userIdOf(u))));
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { HeliaWeightsStore } = require("../ipfs/helia") as typeof import("../ipfs/helia");
  const store = await HeliaWeightsStore.open({ repo: path.join(path.resolve(o.out), "ipfs", `bs-${a.bs}`), network: true });
  const trainer = new ProcessPoolTrainer({ kind: "fashion-mnist" }, 1, threadsPerProcess(o.bss + 1)); // training off the event loop: DPoS keeps ticking; every BS and the MBS train at once
  const duty = new DposDuty(protocol, address, (line) => log(`[dpos] ${line}`));
  const dataset = loadFashionMnist();
  // --kill bs:round:phase: this process SIGKILLs itself right after that phase (no cleanup: as abrupt as `kill -9`).
  const kill = o.kill?.bs === a.bs && o.kill.after ? { round: o.kill.round, after: o.kill.after } : undefined;
  const settings = { ...agentSettings(o, a.bs), ...(kill ? { crash: kill } : {}) };
  const file = path.join(path.resolve(o.out), "agents", `bs-${a.bs}.jsonl`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  try {
    const agent = new BsAgent({ index: a.bs, signer, address, protocol, world, bsAddresses, twinIds, store, trainer, arch: archId({ height: dataset.train.height, width: dataset.train.width, channels: dataset.train.channels }), policy, devices: new HttpDeviceLink(a.devicesUrl), settings, mbsPeers: a.mbsPeers, log });
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
    while (Number((await protocol.rounds.getRound(o.rounds)).status) !== 3 && Date.now() - t < 600_000) await new Promise((r) => setTimeout(r, 1000));
  } finally {
    duty.stop();
    await store.close();
    await trainer.close();
    dispose();
  }
}

/** Run the system with the MBS here and one `dtwn agent` process per BS, against the node of `o.network`. */
export async function runSystemOnNode(o: RunOptions & { network: string }, hooks: RunHooks = {}): Promise<RunMetrics> {
  const log = hooks.log ?? (() => undefined);
  const t0 = Date.now();
  const out = path.resolve(o.out);
  fs.mkdirSync(out, { recursive: true });
  fs.rmSync(path.join(out, "agents"), { recursive: true, force: true });
  const url = RPC_URLS[o.network] ?? process.env.DTWN_RPC_URL;
  if (!url) throw new Error(`--network ${o.network}: no JSON-RPC URL; set DTWN_RPC_URL.`);
  const provider = localProvider(url);
  await checkNode(provider, url);
  const keys = runKeys(o.network, o.bss);
  const backend = await initBackend("auto", log);

  log(`deploying the protocol to ${o.network} (${url}) ...`);
  const paramsFile = path.join(out, "protocol-params.json");
  fs.writeFileSync(paramsFile, JSON.stringify({ slotDurationSeconds: o.slotSeconds, verificationWindowSeconds: o.verificationWindowSeconds, unbondingDelaySeconds: Math.max(DEFAULT_PROTOCOL_PARAMS.unbondingDelaySeconds, 2 * o.slotSeconds * DEFAULT_PROTOCOL_PARAMS.slotsPerEpoch) }, null, 2) + "\n");
  const deploymentFile = path.join(out, "deployment.json");
  // The users' device keys: a fresh secret held by this process (the users' side), passed to the bootstrap only.
  const deviceSecret = freshDeviceSecret();
  const deploy = spawnSync("npx", ["hardhat", "dtwn-deploy", "--network", o.network, "--bootstrap", "--users", String(o.users), "--bss", String(o.bss), "--seed", String(o.seed), "--params", paramsFile, "--out", deploymentFile], { cwd: ROOT, encoding: "utf8", env: { ...process.env, DTWN_DEVICE_SECRET: deviceSecret } });
  fs.writeFileSync(path.join(out, "deploy.log"), `${deploy.stdout}\n${deploy.stderr}`);
  if (deploy.status !== 0) throw new Error(`deployment failed (exit ${deploy.status}); see ${path.join(out, "deploy.log")}.`);
  const deployment = readDeployment(deploymentFile);
  writeAggregationSettings(out, DEFAULT_AGGREGATION); // how the MBS aggregates (the chain does not record it)
  const mbsSigner = new SerialSigner(new Wallet(keys.mbs, localProvider(url, deployment.chainId)));
  const mbsProtocol = connectProtocol(deployment, mbsSigner);
  const bsAddresses = await mbsProtocol.registry.members();
  const world = buildWorld(worldOptions(o), 60_000);
  const twinIds: number[] = [];
  for (let u = 0; u < o.users; u++) twinIds.push(Number(await mbsProtocol.twins.twinOfUser(userIdOf(u))));
  const devices = await serveDevices(runDevices(deviceSecret, deployment, world, connectProtocol(deployment, localProvider(url, deployment.chainId)), bsAddresses, twinIds, jointActionRule(o.policy, world.scenario, o.seed), o.proposalWindowSeconds));

  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { HeliaWeightsStore } = require("../ipfs/helia") as typeof import("../ipfs/helia");
  const store: HeliaStore = await HeliaWeightsStore.open({ repo: path.join(out, "ipfs", "mbs"), network: true });
  const trainer = new ProcessPoolTrainer({ kind: "fashion-mnist" }, 1, threadsPerProcess(o.bss + 1));
  const children: ChildProcess[] = [];
  /** When each agent process last died (exit by a signal or a non-zero code). */
  const died: (number | undefined)[] = [];
  try {
    const { network: _network, ...runOptions } = o;
    const { kill: _kill, ...withoutKill } = runOptions;
    /**
     * Start BS i's agent process; again after it died (killed): it resumes from the chain, its IPFS repo and its
     * report file, and is not killed a second time.
     */
    const startAgentProcess = (i: number, again = false) => {
      const runJson = JSON.stringify({ ...(again ? withoutKill : runOptions), out });
      const argv = [path.join(ROOT, "bin", "dtwn.js"), "agent", "--deployment", deploymentFile, "--bs", String(i), "--run", runJson, "--mbs-peer", store.multiaddrs()[0], "--devices", devices.url];
      const { DTWN_DEVICE_SECRET: _secret, ...agentEnv } = process.env; // no agent holds the users' device keys
      const child = spawn(process.execPath, argv, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"], env: trainingProcessEnv(threadsPerProcess(o.bss + 1), agentEnv) });
      const prefix = `[BS ${i} pid ${child.pid}] `;
      const logFile = fs.createWriteStream(path.join(out, `agent-${i}.log`), { flags: "a" });
      // How to start this agent again by hand (after killing it): it resumes from the chain, its IPFS repo and its report file.
      logFile.write(`# restart: cd ${ROOT} && ${[process.execPath, ...argv].map((a) => (/^[\w/.:=-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`)).join(" ")}\n`);
      child.stdout?.pipe(logFile);
      child.stderr?.on("data", (d: Buffer) => {
        logFile.write(d);
        if (!o.quiet) for (const line of d.toString().split("\n").filter(Boolean)) log(prefix + line);
      });
      child.once("exit", (code, signal) => {
        if (code === 0 && !signal) return;
        died[i] = Date.now();
        log(`${prefix}exited (code ${code}, signal ${signal})`);
      });
      children[i] = child;
    };
    for (let i = 0; i < o.bss; i++) startAgentProcess(i);
    log(`${o.bss} BS agent processes started (pids ${children.map((c) => c.pid).join(", ")})`);
    const dataset = loadFashionMnist();
    const arch = archId({ height: dataset.train.height, width: dataset.train.width, channels: dataset.train.channels });
    const initModel = createCnn({ height: dataset.train.height, width: dataset.train.width, channels: dataset.train.channels }, o.seed);
    const initial = getModelWeights(initModel);
    initModel.dispose();
    // Let the agents announce their IPFS addresses before round 1 opens (an agent that dies on start fails the run).
    const t = Date.now();
    while (Date.now() - t < 120_000) {
      const dead = children.findIndex(exited);
      if (dead >= 0) throw new Error(`BS ${dead}'s agent process exited (code ${children[dead].exitCode}, signal ${children[dead].signalCode}) on start; see ${path.join(out, `agent-${dead}.log`)}.`);
      const metas = await Promise.all(bsAddresses.map((a) => mbsProtocol.registry.metadataOf(a)));
      if (metas.every((m) => m.ipfsPeerAddress.includes("/p2p/"))) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    const mbs = new Mbs(mbsProtocol, store, trainer, arch, initial, strategyByName(DEFAULT_AGGREGATION.strategy, DEFAULT_AGGREGATION.faulty), { firstRoundSeconds: o.firstRoundSeconds, minRoundSeconds: 20, maxRoundSeconds: 600, pollMs: 500, fetchTimeoutMs: FETCH_TIMEOUT_MS, testIndices: Array.from({ length: o.testImages }, (_, k) => k), ...(o.mbsAttack ? { attack: o.mbsAttack } : {}) }, log);
    const rounds: RoundMetrics[] = [];
    const restarts: RunMetrics["restarts"] = [];
    const reader = connectProtocol(deployment, localProvider(url, deployment.chainId));
    let stopped: string | undefined;
    for (let r = 1; r <= o.rounds; r++) {
      stopped = await federationStopped(mbs, r);
      if (stopped) {
        log(`round ${r} not opened: ${stopped}`);
        children.forEach((c) => !exited(c) && c.kill()); // they would wait for a round that never opens
        break;
      }
      const tr = Date.now();
      // Fault injection: SIGKILL an agent process some seconds into the round (--kill bs:round:seconds); with
      // --kill bs:round:phase the agent kills itself after that phase.
      const kill = o.kill?.round === r ? o.kill : undefined;
      const timer = kill?.afterSeconds !== undefined ? setTimeout(() => {
        log(`killing BS ${kill.bs}'s agent process (pid ${children[kill.bs].pid}) ${kill.afterSeconds} s into round ${r}`);
        children[kill.bs].kill("SIGKILL");
      }, kill.afterSeconds * 1000) : undefined;
      const mbsReport = await mbs.runRound((phase) => log(`round ${r}: ${phase}`));
      if (timer) clearTimeout(timer);
      // The round closed without the agents that died in it; start them again now: each resumes the round from the chain.
      for (let i = 0; i < o.bss; i++) {
        const diedAt = died[i];
        if (!exited(children[i]) || diedAt === undefined) continue;
        startAgentProcess(i, true);
        log(`restarted BS ${i}'s agent process (pid ${children[i].pid})`);
        const how = kill?.bs === i ? (kill.after ? `SIGKILL after ${kill.after}` : `SIGKILL ${kill.afterSeconds} s into the round`) : "died (not planned)";
        restarts.push({ bs: i, round: r, after: how, restartSeconds: (Date.now() - diedAt) / 1000 });
        died[i] = undefined;
      }
      const agents = await collectAgentReports(out, o.bss, r, 120_000);
      const metrics = await roundMetrics(reader, bsAddresses, mbsReport, agents, (Date.now() - tr) / 1000);
      rounds.push(metrics);
      hooks.onRound?.(metrics);
    }
    await Promise.all(children.map((c) => new Promise<void>((resolve) => (exited(c) ? resolve() : c.once("exit", () => resolve())))));
    const last = (i: number) => {
      const lines = readAgentLines(out, i);
      return (lines[lines.length - 1] as (AgentRoundReport & { dpos?: RunMetrics["dpos"][number] }) | undefined)?.dpos ?? { elections: 0, proposed: 0, validated: 0, rejected: 0, errors: [] };
    };
    return {
      options: { ...o },
      backend,
      network: `${o.network} (${url}), ${o.bss} BS agent processes`,
      policy: o.policy,
      startedAt: new Date(t0).toISOString(),
      seconds: (Date.now() - t0) / 1000,
      bsAddresses,
      malicious: maliciousBss(o),
      rounds,
      dpos: bsAddresses.map((_, i) => last(i)),
      restarts,
      ...(stopped ? { stopped } : {}),
    };
  } finally {
    children.forEach((c) => !exited(c) && c.kill());
    // The chain's logs next to the IPFS repositories: `dtwn audit <run folder>` works after the node is stopped.
    await exportChainLog(provider, deployment)
      .then((l) => writeChainLog(path.join(out, "chain-log.json"), l))
      .catch((e: Error) => log(`could not export the chain's logs: ${e.message}`));
    await store.close();
    await trainer.close();
    await devices.close();
  }
}

/** Whether a child process has ended (by its own exit or by a signal). */
function exited(c: ChildProcess): boolean {
  return c.exitCode !== null || c.signalCode !== null;
}

function readAgentLines(out: string, bs: number): AgentRoundReport[] {
  const file = path.join(out, "agents", `bs-${bs}.jsonl`);
  if (!fs.existsSync(file)) return [];
  return fs.readFileSync(file, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l) as AgentRoundReport);
}

/** Every agent's report of round `round` (an agent that is down by the timeout has none). */
async function collectAgentReports(out: string, bss: number, round: number, timeoutMs: number): Promise<AgentRoundReport[]> {
  const t0 = Date.now();
  for (;;) {
    const found = Array.from({ length: bss }, (_, i) => readAgentLines(out, i).find((r) => r.round === round));
    if (found.every(Boolean) || Date.now() - t0 > timeoutMs) return found.filter((r): r is AgentRoundReport => r !== undefined);
    await new Promise((r) => setTimeout(r, 500));
  }
}
