/**
 * The deployed protocol as typed contracts (typechain bindings) for one account: the MBS's or a BS agent's view of
 * the chain. Built from a deployment file, so the same code runs on the in-process Hardhat network, `npx hardhat
 * node` and a testnet.
 */
import type { ContractRunner, Interface } from "ethers";
import type { ContractName, Deployment } from "../chain/deployment";
import type { NamedContract } from "../chain/gasByCall";
import { ChainClock } from "../chain/clock";
import { userIdOf } from "../chain/bootstrap";
import {
  AssociationLedger__factory,
  BlockLedger__factory,
  BSRegistry__factory,
  ProducerElection__factory,
  RecordLog__factory,
  StakeVault__factory,
  TrainingCoin__factory,
  TrainingRounds__factory,
  TwinRegistry__factory,
  UserRegistry__factory,
} from "../../typechain-types";

export function connectProtocol(deployment: Deployment, runner: ContractRunner) {
  const at = (name: keyof Deployment["contracts"]) => deployment.contracts[name].address;
  return {
    registry: BSRegistry__factory.connect(at("BSRegistry"), runner),
    users: UserRegistry__factory.connect(at("UserRegistry"), runner),
    coin: TrainingCoin__factory.connect(at("TrainingCoin"), runner),
    stake: StakeVault__factory.connect(at("StakeVault"), runner),
    recordLog: RecordLog__factory.connect(at("RecordLog"), runner),
    twins: TwinRegistry__factory.connect(at("TwinRegistry"), runner),
    rounds: TrainingRounds__factory.connect(at("TrainingRounds"), runner),
    ledger: AssociationLedger__factory.connect(at("AssociationLedger"), runner),
    election: ProducerElection__factory.connect(at("ProducerElection"), runner),
    blocks: BlockLedger__factory.connect(at("BlockLedger"), runner),
    /** The chain's clock: every deadline and window is read from it, never from this process's clock. */
    clock: clockOf(runner),
  };
}

export type Protocol = ReturnType<typeof connectProtocol>;

/** The contract name of each contract of a {@link Protocol}. */
const CONTRACT_OF: Record<Exclude<keyof Protocol, "clock">, ContractName> = {
  registry: "BSRegistry",
  users: "UserRegistry",
  coin: "TrainingCoin",
  stake: "StakeVault",
  recordLog: "RecordLog",
  twins: "TwinRegistry",
  rounds: "TrainingRounds",
  ledger: "AssociationLedger",
  election: "ProducerElection",
  blocks: "BlockLedger",
};

/** The protocol's contracts by contract name, to label transactions by call (src/chain/gasByCall.ts). */
export function protocolContracts(p: Protocol): NamedContract[] {
  return (Object.keys(CONTRACT_OF) as (keyof typeof CONTRACT_OF)[]).map((k) => ({ name: CONTRACT_OF[k], address: p[k].target as string, iface: p[k].interface as unknown as Interface }));
}

function clockOf(runner: ContractRunner): ChainClock {
  const provider = runner.provider;
  if (!provider) throw new Error("the protocol's signer has no provider: connect it to a node first");
  return new ChainClock(provider);
}

/** A BS's training coins at stake: bonded plus unbonding (what votes, verdicts and slashes act on), base units. */
export async function stakeOf(p: Pick<Protocol, "stake">, bs: string): Promise<bigint> {
  const [bonded, unbonding] = await p.stake.stakeOf(bs);
  return bonded + unbonding;
}

/**
 * The message of a failed call or transaction, with the protocol's custom error decoded by name: a JSON-RPC node
 * (unlike the in-process network) returns only the revert data, which ethers reports as "unknown custom error" when
 * the gas estimate fails outside the contract object (e.g. in SerialSigner).
 */
/** The on-chain twin id of each of the first `users` users (user n -> its twin), as the bootstrap registered them. */
export async function twinIdsOf(p: Pick<Protocol, "twins">, users: number): Promise<number[]> {
  const ids: number[] = [];
  for (let u = 0; u < users; u++) ids.push(Number(await p.twins.twinOfUser(userIdOf(u))));
  return ids;
}

export function describeRevert(p: Protocol, e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  const data = (e as { data?: unknown }).data;
  const revert = typeof data === "string" && data.length >= 10 ? data : /data="(0x[0-9a-fA-F]{8,})"/.exec(message)?.[1];
  if (revert) {
    for (const contract of Object.values(p)) {
      if (!("interface" in contract)) continue; // the clock
      try {
        const parsed = contract.interface.parseError(revert);
        if (parsed) return `${parsed.name}(${parsed.args.map(String).join(", ")})`;
      } catch {
        // not this contract's error
      }
    }
  }
  return message.split("\n")[0];
}
