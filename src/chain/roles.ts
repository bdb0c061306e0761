/** Role identifiers of the protocol contracts (keccak256 of the role names, as in the Solidity constants). */
import { id } from "ethers";

export const ROLES = {
  PROTOCOL: id("PROTOCOL_ROLE"), // TrainingCoin: mint and burn (the StakeVault); StakeVault: credit and slash
  WRITER: id("WRITER_ROLE"), // RecordLog: append records
  ASSOCIATOR: id("ASSOCIATOR_ROLE"), // TwinRegistry: re-associate twins
  JAILER: id("JAILER_ROLE"), // ProducerElection: jail producers
} as const;
