/**
 * Read the registered BSs, their metadata and their training coins from a deployment, with nothing but ethers v6.
 */
import { Contract, formatUnits, type Provider } from "ethers";
import { readDeployment, type Deployment } from "./deployment";
import { localProvider } from "./provider";

export interface BsStatus {
  address: string;
  seat: number;
  cpuFrequencyHz: bigint;
  position: { xMetres: number; yMetres: number };
  ipfsPeerAddress: string;
  twins: bigint;
  dataSamples: bigint;
  /** Liquid, bonded and unbonding coins together (base units). */
  coins: bigint;
  /** Bonded coins: the weight of its votes and verdicts (base units). */
  bonded: bigint;
}

export interface ChainStatus {
  network: string;
  chainId: number;
  blockNumber: number;
  operator: string;
  coinSymbol: string;
  totalSupply: bigint;
  currentRound: bigint;
  currentEpoch: bigint;
  currentSlot: bigint;
  producers: string[];
  finalBlocks: bigint;
  records: bigint;
  bss: BsStatus[];
}

export async function readChainStatus(deployment: Deployment, provider: Provider): Promise<ChainStatus> {
  const c = (name: keyof Deployment["contracts"]) =>
    new Contract(deployment.contracts[name].address, deployment.contracts[name].abi as never, provider);
  const network = await provider.getNetwork();
  if (Number(network.chainId) !== deployment.chainId) {
    throw new Error(
      `The node's chain id is ${network.chainId} but the deployment was made on chain ${deployment.chainId}. ` +
        "Point --rpc at the right node, or redeploy if the node was restarted.",
    );
  }
  const registry = c("BSRegistry");
  const coin = c("TrainingCoin");
  const stake = c("StakeVault");
  const twins = c("TwinRegistry");
  const election = c("ProducerElection");
  const code = await provider.getCode(deployment.contracts.BSRegistry.address);
  if (code === "0x") {
    throw new Error(
      `No contract at ${deployment.contracts.BSRegistry.address} on this node: it was restarted since the deployment. ` +
        "Redeploy (`npm run deploy:localhost`).",
    );
  }
  const members: string[] = await registry.members();
  const bss: BsStatus[] = [];
  for (const address of members) {
    const meta = await registry.metadataOf(address);
    bss.push({
      address,
      seat: Number(await registry.seatOf(address)),
      cpuFrequencyHz: meta.cpuFrequencyHz,
      position: { xMetres: Number(meta.xMetres), yMetres: Number(meta.yMetres) },
      ipfsPeerAddress: meta.ipfsPeerAddress,
      twins: await twins.twinsOn(address),
      dataSamples: await twins.dataOn(address),
      ...(await (async () => {
        const [bonded, unbonding] = await stake.stakeOf(address);
        return { coins: (await coin.balanceOf(address)) + bonded + unbonding, bonded };
      })()),
    });
  }
  const currentEpoch: bigint = await election.currentEpoch();
  return {
    network: deployment.network,
    chainId: deployment.chainId,
    blockNumber: await provider.getBlockNumber(),
    operator: await registry.operator(),
    coinSymbol: await coin.symbol(),
    totalSupply: await coin.totalSupply(),
    currentRound: await c("TrainingRounds").currentRound(),
    currentEpoch,
    currentSlot: await election.currentSlot(),
    producers: await election.producersOf(currentEpoch),
    finalBlocks: await c("BlockLedger").finalBlockCount(),
    records: await c("RecordLog").length(),
    bss,
  };
}

/** Human-readable table of a status. */
export function formatChainStatus(s: ChainStatus): string {
  const coins = (v: bigint) => Number(formatUnits(v, 18)).toFixed(2);
  const lines = [
    `network ${s.network} (chain ${s.chainId}), block ${s.blockNumber}, operator (MBS) ${s.operator}`,
    `round ${s.currentRound}, DPoS epoch ${s.currentEpoch} slot ${s.currentSlot}, producers [${s.producers.join(", ")}]`,
    `records ${s.records}, final blocks ${s.finalBlocks}, ${s.coinSymbol} supply ${coins(s.totalSupply)}`,
    "",
    `${"BS".padEnd(44)}${"seat".padStart(5)}${"CPU GHz".padStart(9)}${"twins".padStart(7)}${"samples".padStart(9)}${("coins " + s.coinSymbol).padStart(12)}  IPFS peer`,
  ];
  for (const b of s.bss) {
    lines.push(
      `${b.address.padEnd(44)}${String(b.seat).padStart(5)}${(Number(b.cpuFrequencyHz) / 1e9).toFixed(2).padStart(9)}` +
        `${String(b.twins).padStart(7)}${String(b.dataSamples).padStart(9)}${coins(b.coins).padStart(12)}  ${b.ipfsPeerAddress || "-"}`,
    );
  }
  if (s.bss.length === 0) lines.push("(no BS admitted yet)");
  return lines.join("\n");
}

/**
 * Read a deployment file and the chain behind it, and render the status as a table or JSON. The RPC URL is
 * `rpcOverride`, else the file's, else DTWN_RPC_URL.
 */
export async function renderStatusFromFile(file: string, rpcOverride: string | undefined, json: boolean): Promise<string> {
  const deployment = readDeployment(file);
  const rpc = rpcOverride ?? deployment.rpcUrl ?? process.env.DTWN_RPC_URL;
  if (!rpc) throw new Error(`No RPC URL: pass --rpc URL (the deployment file ${file} names none).`);
  const provider = localProvider(rpc, deployment.chainId);
  try {
    const status = await readChainStatus(deployment, provider);
    return json ? JSON.stringify(status, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v), 2) : formatChainStatus(status);
  } finally {
    provider.destroy();
  }
}
