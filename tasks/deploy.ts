/**
 * Hardhat tasks:
 *   npx hardhat dtwn-deploy --network <net> [--params FILE] [--bootstrap] [--users N] [--bss M]
 * deploys the protocol with the Ignition module, writes deployments/<network>.json (addresses + ABIs), and with
 * --bootstrap admits M BSs (the node's accounts 1..M) with N users' twins and the Eq. 6 coins.
 * Works the same against `npx hardhat node` (--network localhost) and a testnet (--network testnet, configured
 * only through DTWN_RPC_URL and DTWN_DEPLOYER_KEY; bootstrap there takes each BS's key from its keystore or variable, src/chain/keys.ts).
 * The bootstrap's users sign their consents with device keys derived from DTWN_DEVICE_SECRET (required off the
 * local networks; on hardhat and localhost a public development secret, like the development accounts).
 */
import fs from "node:fs";
import { task, types } from "hardhat/config";
import { HardhatPluginError } from "hardhat/plugins";
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import { resolveProtocolParams } from "../src/chain/protocolParams";
import { CONTRACT_NAMES, deploymentPath, writeDeployment } from "../src/chain/deployment";
import { bootstrapDeployment, DEFAULT_BOOTSTRAP, deviceSecretFor } from "../src/chain/bootstrap";
import { formatChainStatus, readChainStatus } from "../src/chain/status";
import { bsKey } from "../src/chain/keys";
import DtwnModule from "../ignition/modules/Dtwn";

interface DeployArgs {
  params?: string;
  bootstrap: boolean;
  users: number;
  bss: number;
  seed: number;
  out?: string;
}

task("dtwn-deploy", "Deploy the dtwn protocol with Ignition and export deployments/<network>.json")
  .addOptionalParam("params", "JSON file of protocol parameters (see src/chain/protocolParams.ts)")
  .addFlag("bootstrap", "Admit BSs, register users' twins and allocate the Eq. 6 coins")
  .addOptionalParam("users", "Number of end users N for --bootstrap", 100, types.int)
  .addOptionalParam("bss", "Number of BSs M for --bootstrap", 5, types.int)
  .addOptionalParam("seed", "Seed of the bootstrap topology", 1, types.int)
  .addOptionalParam("out", "Output file (default deployments/<network>.json)")
  .setAction(async (args: DeployArgs, hre: HardhatRuntimeEnvironment) => {
    try {
      return await deploy(args, hre);
    } catch (e) {
      // A clear one-line message for the user's mistakes (bad parameters, missing keys), not a stack trace.
      throw new HardhatPluginError("dtwn", (e as Error).message, e as Error);
    }
  });

async function deploy(args: DeployArgs, hre: HardhatRuntimeEnvironment) {
  let overrides: Record<string, unknown> = {};
  if (args.params) {
    if (!fs.existsSync(args.params)) throw new Error(`Parameter file ${args.params} does not exist.`);
    try {
      overrides = JSON.parse(fs.readFileSync(args.params, "utf8"));
    } catch (e) {
      throw new Error(`Parameter file ${args.params} is not valid JSON: ${(e as Error).message}`);
    }
  }
  const params = resolveProtocolParams(overrides);
  const signers = await hre.ethers.getSigners();
  if (signers.length === 0) {
    throw new Error(`Network ${hre.network.name} has no deployer account. For a testnet set DTWN_DEPLOYER_KEY.`);
  }
  const deployer = signers[0];
  const chainId = Number((await hre.ethers.provider.getNetwork()).chainId);
  const ephemeral = hre.network.name === "hardhat" || hre.network.name === "localhost";
  // DTWN_DEPLOYMENT_ID (set by `dtwn run`, which deploys a fresh protocol every run): Ignition's journal of this
  // deployment; without it a testnet deployment resumes the chain's previous one.
  const deploymentId = process.env.DTWN_DEPLOYMENT_ID ?? (ephemeral ? `dtwn-${hre.network.name}-${Date.now()}` : `dtwn-${hre.network.name}-${chainId}`);

  console.log(`Deploying dtwn to ${hre.network.name} (chain ${chainId}) from ${deployer.address} ...`);
  const deployed = await hre.ignition.deploy(DtwnModule, {
    parameters: { DtwnCore: { ...params, mbs: deployer.address } as never },
    deploymentId,
    displayUi: false,
    // Blocks each step waits under (DTWN_CONFIRMATIONS, set by `dtwn run --confirmations`). Passed here: the ethers
    // helper does not read hardhat.config's `ignition` section, and Ignition's own default on a chain that does not
    // automine is 5 (a minute per step at 12 s blocks, and it refuses to start while the operator's last transactions,
    // the BSs' funding, are fewer than 5 blocks deep).
    config: { requiredConfirmations: Number(process.env.DTWN_CONFIRMATIONS ?? 1) },
  });
  const byName: Record<(typeof CONTRACT_NAMES)[number], { getAddress(): Promise<string> }> = {
    BSRegistry: deployed.registry,
    UserRegistry: deployed.users,
    TrainingCoin: deployed.coin,
    StakeVault: deployed.stake,
    RecordLog: deployed.recordLog,
    TwinRegistry: deployed.twinRegistry,
    TrainingRounds: deployed.rounds,
    AssociationLedger: deployed.associationLedger,
    StakeGenesis: deployed.stakeGenesis,
    ProducerElection: deployed.election,
    BlockLedger: deployed.blockLedger,
  };
  const contracts = {} as Record<(typeof CONTRACT_NAMES)[number], { address: string; abi: unknown[] }>;
  for (const name of CONTRACT_NAMES) {
    const artifact = await hre.artifacts.readArtifact(name);
    contracts[name] = { address: await byName[name].getAddress(), abi: artifact.abi as unknown[] };
  }
  const url = (hre.network.config as { url?: string }).url;
  const deployment = {
    network: hre.network.name,
    chainId,
    ...(ephemeral && url ? { rpcUrl: url } : {}),
    deployedAt: new Date().toISOString(),
    deployer: deployer.address,
    operator: deployer.address,
    ignitionDeploymentId: deploymentId,
    params: Object.fromEntries(Object.entries(params).map(([k, v]) => [k, typeof v === "bigint" ? v.toString() : v])),
    contracts,
  };
  const out = args.out ?? deploymentPath(hre.network.name);
  writeDeployment(out, deployment);
  console.log(`Wrote ${out}`);
  for (const name of CONTRACT_NAMES) console.log(`  ${name.padEnd(18)} ${contracts[name].address}`);

  if (args.bootstrap) {
    let bsSigners = signers.slice(1, 1 + args.bss);
    if (!ephemeral) {
      // each BS's own key, from its keystore or variable (src/chain/keys.ts)
      bsSigners = Array.from({ length: args.bss }, (_, i) => new hre.ethers.Wallet(bsKey(i), hre.ethers.provider)) as never;
    }
    if (bsSigners.length < args.bss && ephemeral) {
      throw new Error(`--bss ${args.bss} needs ${args.bss + 1} accounts; network ${hre.network.name} has ${signers.length}.`);
    }
    console.log(`Bootstrapping ${bsSigners.length} BSs and ${args.users} users ...`);
    const result = await bootstrapDeployment(deployment, deployer, bsSigners, {
      ...DEFAULT_BOOTSTRAP,
      deviceSecret: deviceSecretFor(hre.network.name),
      users: args.users,
      seed: args.seed,
      log: (line) => console.log(`  ${line}`),
      confirmations: Number(process.env.DTWN_CONFIRMATIONS ?? 1),
    });
    console.log(`Bootstrapped ${result.bss.length} BSs and ${result.twins} twins.`);
  }
  console.log("");
  console.log(formatChainStatus(await readChainStatus(deployment, hre.ethers.provider)));
  return deployment;
}
