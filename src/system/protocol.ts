/**
 * The deployed protocol as typed contracts (typechain bindings) for one account: the MBS's or a BS agent's view of
 * the chain. Built from a deployment file, so the same code runs on the in-process Hardhat network, `npx hardhat
 * node` and a testnet.
 */
import type { ContractRunner } from "ethers";
import type { Deployment } from "../chain/deployment";
import {
  AssociationLedger__factory,
  BlockLedger__factory,
  BSRegistry__factory,
  ProducerElection__factory,
  RecordLog__factory,
  TrainingCoin__factory,
  TrainingRounds__factory,
  TwinRegistry__factory,
} from "../../typechain-types";

export function connectProtocol(deployment: Deployment, runner: ContractRunner) {
  const at = (name: keyof Deployment["contracts"]) => deployment.contracts[name].address;
  return {
    registry: BSRegistry__factory.connect(at("BSRegistry"), runner),
    coin: TrainingCoin__factory.connect(at("TrainingCoin"), runner),
    recordLog: RecordLog__factory.connect(at("RecordLog"), runner),
    twins: TwinRegistry__factory.connect(at("TwinRegistry"), runner),
    rounds: TrainingRounds__factory.connect(at("TrainingRounds"), runner),
    ledger: AssociationLedger__factory.connect(at("AssociationLedger"), runner),
    election: ProducerElection__factory.connect(at("ProducerElection"), runner),
    blocks: BlockLedger__factory.connect(at("BlockLedger"), runner),
  };
}

export type Protocol = ReturnType<typeof connectProtocol>;
