/**
 * `dtwn audit`: recompute every round's BS models (Eq. 4 over the BSs' twin model records) and global models
 * (Eq. 5 over the passed BS models) from the chain and IPFS alone, and print match or mismatch per model
 * (src/audit, docs/audit.md). Either a run folder (its exported chain-log.json, deployment.json, aggregation.json and
 * IPFS repositories, read offline) or a live chain (`--network`, models from local repositories or from the BSs' IPFS
 * nodes registered on chain). Exit code 0 only when every model matches.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { InvalidArgumentError, type Command } from "commander";
import { finiteNumber, positiveInt } from "./args";
import { deploymentPath } from "../chain/deployment";
import type { AggregationSettings } from "../audit/settings";
import type { WeightsStore } from "../ipfs/store";

/* eslint-disable @typescript-eslint/no-require-imports -- Helia, libp2p and ethers load only when the command runs */
const load = () => ({
  ...(require("../audit/chainSource") as typeof import("../audit/chainSource")),
  ...(require("../audit/records") as typeof import("../audit/records")),
  ...(require("../audit/recompute") as typeof import("../audit/recompute")),
  ...(require("../audit/models") as typeof import("../audit/models")),
  ...(require("../audit/settings") as typeof import("../audit/settings")),
  ...(require("../chain/deployment") as typeof import("../chain/deployment")),
  ...(require("../chain/provider") as typeof import("../chain/provider")),
});
const helia = () => require("../ipfs/helia") as typeof import("../ipfs/helia");
/* eslint-enable @typescript-eslint/no-require-imports */

interface AuditOptions {
  network?: string;
  deployment?: string;
  rpc?: string;
  round?: number;
  ipfsRepo: string[];
  peer: string[];
  strategy?: string;
  faulty?: number;
  serverOptimizer?: string;
  serverLearningRate?: number;
  serverMomentum?: number;
  fetchTimeoutMs: number;
  json: boolean;
}

const collect = (v: string, acc: string[]) => [...acc, v];

function strategyName(v: string): string {
  if (!["fedavg", "median", "trimmed-mean", "krum"].includes(v)) throw new InvalidArgumentError(`expected fedavg, median, trimmed-mean or krum, got ${JSON.stringify(v)}`);
  return v;
}

function nonNegativeInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`expected an integer >= 0, got ${JSON.stringify(v)}`);
  return n;
}

/** The aggregation settings: the run folder's (or the defaults), with the flags on top. */
function aggregationSettings(base: AggregationSettings, o: AuditOptions): AggregationSettings {
  const s: AggregationSettings = { ...base, ...(o.strategy ? { strategy: o.strategy as AggregationSettings["strategy"] } : {}), ...(o.faulty !== undefined ? { faulty: o.faulty } : {}) };
  if (o.serverOptimizer === "none") return { ...s, server: null };
  if (o.serverOptimizer || o.serverLearningRate !== undefined || o.serverMomentum !== undefined) {
    const kind = (o.serverOptimizer ?? s.server?.kind ?? "momentum") as "momentum" | "adam";
    if (!["momentum", "adam"].includes(kind)) throw new Error(`--server-optimizer takes momentum, adam or none; got ${JSON.stringify(o.serverOptimizer)}.`);
    return { ...s, server: { ...(s.server ?? {}), kind, learningRate: o.serverLearningRate ?? s.server?.learningRate ?? 1, momentum: o.serverMomentum ?? s.server?.momentum ?? 0 } };
  }
  return s;
}

async function audit(runFolder: string | undefined, o: AuditOptions): Promise<number> {
  const m = load();
  if (!runFolder && !o.network) throw new Error("give a run folder (`dtwn audit runs/latest`) or a live chain (`dtwn audit --network localhost`).");
  const folder = runFolder ? path.resolve(runFolder) : undefined;
  if (folder && !fs.existsSync(folder)) throw new Error(`no run folder at ${folder}.`);
  const deploymentFile = o.deployment ?? (folder && fs.existsSync(path.join(folder, "deployment.json")) ? path.join(folder, "deployment.json") : deploymentPath(o.network ?? "localhost"));
  const deployment = m.readDeployment(deploymentFile);

  // The chain: the run folder's exported log, or a live node.
  let chain: import("../audit/chainSource").ChainSource;
  let provider: import("ethers").Provider | undefined;
  if (o.network) {
    const url = o.rpc ?? deployment.rpcUrl ?? (o.network === "localhost" ? m.LOCAL_RPC_URL : process.env.DTWN_RPC_URL);
    if (!url) throw new Error(`--network ${o.network}: no JSON-RPC URL; give --rpc or set DTWN_RPC_URL.`);
    provider = m.localProvider(url, deployment.chainId);
    try {
      await provider.getBlockNumber();
    } catch {
      throw new Error(`no JSON-RPC node answers at ${url}; is the chain of ${deploymentFile} still running?`);
    }
    chain = new m.LiveChainSource(provider, `${o.network} (${url})`);
  } else {
    const file = path.join(folder as string, "chain-log.json");
    const log = m.readChainLog(file);
    if (log.contracts.TrainingRounds?.toLowerCase() !== deployment.contracts.TrainingRounds.address.toLowerCase()) throw new Error(`${file} is the log of another deployment than ${deploymentFile}.`);
    chain = new m.ExportedChainSource(log, `${file} (${log.logs.length} logs up to block ${log.latestBlock})`);
  }
  const records = new m.ChainRecords(chain, deployment);

  const base = folder ? m.readAggregationSettings(folder) : { settings: m.DEFAULT_AGGREGATION, from: "the defaults of `dtwn run` (the chain does not record them)" };
  const settings = aggregationSettings(base.settings, o);
  const settingsFrom = JSON.stringify(settings) === JSON.stringify(base.settings) ? base.from : `${base.from}, changed by the command's flags`;

  // IPFS: local repositories offline, and (with peers to dial) one store with networking on 127.0.0.1.
  const repos = o.ipfsRepo.length > 0 ? o.ipfsRepo.map((r) => path.resolve(r)) : folder ? m.runFolderRepos(folder) : [];
  const stores: WeightsStore[] = [];
  let tempRepo: string | undefined;
  try {
    for (const repo of repos) stores.push(await helia().HeliaWeightsStore.open({ repo, network: false }));
    const peers = [...o.peer];
    if (o.network && repos.length === 0 && provider) {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { BSRegistry__factory } = require("../../typechain-types") as typeof import("../../typechain-types");
      const registry = BSRegistry__factory.connect(deployment.contracts.BSRegistry.address, provider);
      for (const bs of await registry.members()) {
        const addr = (await registry.metadataOf(bs)).ipfsPeerAddress;
        if (addr.includes("/p2p/")) peers.push(addr);
      }
    }
    if (peers.length > 0) {
      tempRepo = fs.mkdtempSync(path.join(os.tmpdir(), "dtwn-audit-ipfs-"));
      const net = await helia().HeliaWeightsStore.open({ repo: tempRepo, network: true });
      stores.push(net);
      for (const p of peers) await net.dial(p).catch((e: Error) => console.error(`audit: ${e.message.split("\n")[0]}`));
    }
    if (stores.length === 0) throw new Error("no IPFS store to read models from: give --ipfs-repo DIR or --peer MULTIADDR.");
    const models = new m.StoresModelSource(stores, o.fetchTimeoutMs);

    if (!o.json) {
      console.log(`audit of ${chain.label}`);
      console.log(`models from ${repos.length} IPFS repositor${repos.length === 1 ? "y" : "ies"}${peers.length ? ` and ${peers.length} peer(s)` : ""}; Eq. 5 with ${m.describeAggregation(settings)} (${settingsFrom})`);
    }
    const result = await m.auditChain(records, models, settings, { round: o.round, onCheck: o.json ? undefined : (c) => console.log(m.formatCheck(c)) });
    if (o.json) console.log(JSON.stringify({ chain: chain.label, deployment: deploymentFile, aggregation: settings, aggregationFrom: settingsFrom, ...result }, null, 2));
    else console.log(m.formatSummary(result));
    return result.ok ? 0 : 1;
  } finally {
    await Promise.all(stores.map((s) => s.close().catch(() => undefined)));
    if (tempRepo) fs.rmSync(tempRepo, { recursive: true, force: true });
  }
}

export function registerAuditCommand(program: Command): void {
  program
    .command("audit [runFolder]")
    .description("recompute every round's BS models (Eq. 4 over their twin model records) and global models (Eq. 5) from the chain and IPFS alone; prints match or mismatch per model, exit code 0 only if all match")
    .option("-n, --network <name>", "audit a live chain (localhost, or any node with --rpc) instead of the run folder's exported chain-log.json")
    .option("-d, --deployment <file>", "deployment file (default: <runFolder>/deployment.json, else deployments/<network>.json)")
    .option("--rpc <url>", "JSON-RPC URL of --network (default: the deployment's)")
    .option("-r, --round <r>", "only round r (a server optimizer is still replayed from round 1)", positiveInt)
    .option("--ipfs-repo <dir>", "IPFS repository to read models from, offline (repeatable; default: the run folder's ipfs/*)", collect, [] as string[])
    .option("--peer <multiaddr>", "IPFS node on 127.0.0.1 to fetch missing models from (repeatable); with --network and no repository the BSs' nodes registered on chain are dialled", collect, [] as string[])
    .option("--strategy <name>", "Eq. 5's strategy: fedavg | median | trimmed-mean | krum (default: the run folder's aggregation.json, else fedavg)", strategyName)
    .option("--faulty <n>", "models a robust strategy tolerates (default: aggregation.json, else 1)", nonNegativeInt)
    .option("--server-optimizer <kind>", "the MBS's server optimizer after Eq. 5: momentum | adam | none (default: aggregation.json, else none)")
    .option("--server-learning-rate <x>", "its learning rate eta", finiteNumber)
    .option("--server-momentum <x>", "its momentum beta", finiteNumber)
    .option("--fetch-timeout-ms <ms>", "give up on a model when no data arrived for this long", positiveInt, 10_000)
    .option("--json", "print the result as JSON", false)
    .action(async (runFolder: string | undefined, opts: AuditOptions) => {
      process.exitCode = await audit(runFolder, opts);
    });
}
