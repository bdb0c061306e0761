/**
 * Where a run's chain lives, behind one small interface: Hardhat's in-process network (everything in this process,
 * gone when it ends), or a standalone JSON-RPC node (`npx hardhat node`, or any EVM node with the keys to match).
 * The run driver (src/system/run.ts) deploys and bootstraps through it and takes its signers from it.
 *
 * Keys on a node: on localhost the node's well-known development accounts (account 0 the MBS, 1..M the BSs);
 * elsewhere the operator's key and each BS's own keystore or key from the environment (src/chain/keys.ts), as for
 * `dtwn-deploy`.
 */
import { detectBlockTime, type BlockTime } from "../chain/blockTime";
import { spawnSync } from "node:child_process";
import path from "node:path";
import { HDNodeWallet, Mnemonic, Wallet, type Provider, type Signer } from "ethers";
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import type { Deployment } from "../chain/deployment";
import { LOCAL_RPC_URL, localProvider } from "../chain/provider";
import { SerialSigner } from "../chain/serialSigner";
import { topUp } from "../chain/fund";
import { bsKey, operatorKey } from "../chain/keys";

const ROOT = path.resolve(__dirname, "..", "..");
/** The development mnemonic of `npx hardhat node` (public; only for the local node). */
const HARDHAT_MNEMONIC = "test test test test test test test test test test test junk";

/** What `dtwn-deploy --bootstrap` takes from a run. */
export interface DeployRequest {
  users: number;
  bss: number;
  seed: number;
  /** The run's protocol parameters (JSON). */
  paramsFile: string;
  /** Where the deployment is written. */
  deploymentFile: string;
  /** The users' device secret (held on the users' side; the bootstrap registers their twins with it). */
  deviceSecret: string;
}

export interface ChainHost {
  /** How the run report names the chain. */
  readonly description: string;
  /** The JSON-RPC URL processes outside this one connect to; undefined for an in-process chain. */
  readonly rpcUrl?: string;
  /** Deploy and bootstrap the protocol; returns the deployment's output (for deploy.log). */
  deploy(req: DeployRequest): Promise<string>;
  /** A read-only provider for the deployment. */
  provider(deployment: Deployment): Provider;
  /** The MBS's signer (it also deployed the protocol). */
  mbsSigner(deployment: Deployment): Promise<Signer>;
  /** BS i's signer (its registry seat). */
  bsSigner(deployment: Deployment, i: number): Promise<Signer>;
  /** Seconds between the chain's blocks (0: a block per transaction), which every window must leave room for. */
  blockTime(): Promise<BlockTime>;
}

/** Private key of account `i` of the local development node. */
export function devKey(i: number): string {
  return HDNodeWallet.fromMnemonic(Mnemonic.fromPhrase(HARDHAT_MNEMONIC), `m/44'/60'/0'/0/${i}`).privateKey;
}

/** The MBS's (the operator's) key: the node's development account 0 on localhost, else DTWN_DEPLOYER_KEY. */
export function mbsKeyFor(network: string, env: NodeJS.ProcessEnv = process.env): string {
  return network === "localhost" ? devKey(0) : operatorKey(env);
}

/** BS `i`'s key: the node's development account i + 1 on localhost, else its own keystore or variable. */
export function bsKeyFor(network: string, i: number, env: NodeJS.ProcessEnv = process.env): string {
  return network === "localhost" ? devKey(i + 1) : bsKey(i, env);
}

/** JSON-RPC URLs of the networks a run can use (localhost as in hardhat.config.ts, overridable the same way). */
export const RPC_URLS: Record<string, string> = { localhost: LOCAL_RPC_URL };

/** Fails with what to do when no node answers at `url`. */
export async function checkNode(provider: Provider, url: string): Promise<void> {
  try {
    await provider.getBlockNumber();
  } catch {
    throw new Error(`no JSON-RPC node answers at ${url}. Start one in another shell with \`npx hardhat node\` (or \`npm run node\`), then run this again.`);
  }
}

/** Hardhat's in-process network: deployment through the `dtwn-deploy` task in this process; signers 0 (MBS) and 1..M. */
export class InProcessChain implements ChainHost {
  readonly description = "hardhat (in-process)";
  private readonly hre: HardhatRuntimeEnvironment;

  async blockTime(): Promise<BlockTime> {
    return { seconds: 0, how: "in-process Hardhat mines a block per transaction" };
  }

  constructor() {
    const cwd = process.cwd();
    process.chdir(ROOT); // Hardhat reads hardhat.config.ts from the repo
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    this.hre = require("hardhat") as HardhatRuntimeEnvironment;
    process.chdir(cwd);
    // Blocks mined within one second keep the wall-clock timestamp (by default every block adds a second, so a burst
    // of transactions would run the chain's clock ahead of the deadlines the MBS sets from the wall clock).
    (this.hre.config.networks.hardhat as { allowBlocksWithSameTimestamp?: boolean }).allowBlocksWithSameTimestamp = true;
  }

  async deploy(req: DeployRequest): Promise<string> {
    const quietConsole = console.log;
    const lines: string[] = [];
    console.log = (...args: unknown[]) => lines.push(args.join(" "));
    const previousSecret = process.env.DTWN_DEVICE_SECRET;
    process.env.DTWN_DEVICE_SECRET = req.deviceSecret;
    try {
      await this.hre.run("dtwn-deploy", { bootstrap: true, users: req.users, bss: req.bss, seed: req.seed, params: req.paramsFile, out: req.deploymentFile });
    } finally {
      console.log = quietConsole;
      if (previousSecret === undefined) delete process.env.DTWN_DEVICE_SECRET;
      else process.env.DTWN_DEVICE_SECRET = previousSecret;
    }
    return lines.join("\n") + "\n";
  }

  provider(): Provider {
    return this.hre.ethers.provider;
  }

  async mbsSigner(): Promise<Signer> {
    return (await this.hre.ethers.getSigners())[0];
  }

  async bsSigner(_deployment: Deployment, i: number): Promise<Signer> {
    return (await this.hre.ethers.getSigners())[1 + i];
  }
}

/** A standalone JSON-RPC node: deployment by `npx hardhat dtwn-deploy --network <name>`; keys from {@link mbsKeyFor} and {@link bsKeyFor}. */
export class NodeChain implements ChainHost {
  readonly description: string;
  private readonly keys: { mbs: string; bss: string[] };

  private constructor(
    readonly network: string,
    readonly rpcUrl: string,
    bss: number,
    /** Blocks deep a block must be before this run reads from it (LocalProviderOptions.confirmations). */
    readonly confirmations = 1,
  ) {
    // a provider's URL may hold its API key: only the local node's is shown
    this.description = network === "localhost" ? `${network} (${rpcUrl})` : `${network} (the node at DTWN_RPC_URL)`;
    this.keys = { mbs: mbsKeyFor(network), bss: Array.from({ length: bss }, (_, i) => bsKeyFor(network, i)) };
  }

  /** The node of `network` (its URL from {@link RPC_URLS}, else DTWN_RPC_URL), once it answers. */
  static async connect(network: string, bss: number, confirmations = 1): Promise<NodeChain> {
    const url = RPC_URLS[network] ?? process.env.DTWN_RPC_URL;
    if (!url) throw new Error(`--network ${network}: no JSON-RPC URL; set DTWN_RPC_URL.`);
    const probe = localProvider(url, undefined, { outageSeconds: 0 }); // no node: say so now, not after a restart's grace
    try {
      await checkNode(probe, url);
    } finally {
      probe.destroy();
    }
    return new NodeChain(network, url, bss, confirmations);
  }

  async deploy(req: DeployRequest): Promise<string> {
    const args = ["hardhat", "dtwn-deploy", "--network", this.network, "--bootstrap", "--users", String(req.users), "--bss", String(req.bss), "--seed", String(req.seed), "--params", req.paramsFile, "--out", req.deploymentFile];
    const r = spawnSync("npx", args, { cwd: ROOT, encoding: "utf8", env: { ...process.env, DTWN_DEVICE_SECRET: req.deviceSecret, DTWN_CONFIRMATIONS: String(this.confirmations), DTWN_DEPLOYMENT_ID: `dtwn-${this.network}-${Date.now()}` } });
    const output = `${r.stdout}\n${r.stderr}`;
    if (r.status !== 0) throw Object.assign(new Error(`deployment failed (exit ${r.status}); see deploy.log in the run folder.`), { output });
    return output;
  }

  provider(deployment: Deployment): Provider {
    return localProvider(this.rpcUrl, deployment.chainId, { confirmations: this.confirmations });
  }

  async blockTime(): Promise<BlockTime> {
    const provider = localProvider(this.rpcUrl);
    try {
      return await detectBlockTime(provider);
    } finally {
      provider.destroy();
    }
  }

  async mbsSigner(deployment: Deployment): Promise<Signer> {
    return new SerialSigner(new Wallet(this.keys.mbs, localProvider(this.rpcUrl, deployment.chainId, { confirmations: this.confirmations })));
  }

  /**
   * Top every BS's account up to `targetWei` from the operator's (before the deployment: the bootstrap's BS
   * transactions need gas). Returns what each BS was sent (0 when it already had enough).
   */
  async fundBss(targetWei: bigint, log: (line: string) => void = () => undefined): Promise<bigint[]> {
    const provider = localProvider(this.rpcUrl, undefined, { confirmations: this.confirmations });
    try {
      const operator = new Wallet(this.keys.mbs, provider);
      const addresses = this.keys.bss.map((k) => new Wallet(k).address);
      return await topUp(operator, addresses, targetWei, this.confirmations, log);
    } finally {
      provider.destroy();
    }
  }

  /** One signer per BS for the whole run: a restarted in-process agent sends through the same nonce queue. */
  private readonly bsSigners = new Map<number, Signer>();

  async bsSigner(deployment: Deployment, i: number): Promise<Signer> {
    let s = this.bsSigners.get(i);
    if (!s) {
      s = new SerialSigner(new Wallet(this.keys.bss[i], localProvider(this.rpcUrl, deployment.chainId, { confirmations: this.confirmations })));
      this.bsSigners.set(i, s);
    }
    return s;
  }
}
