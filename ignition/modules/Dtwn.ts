/**
 * Ignition module: deploys the whole on-chain protocol and wires the roles between the contracts.
 *
 *   BSRegistry (operator = MBS) ─┬─ TwinRegistry ── AssociationLedger
 *   RecordLog (append-only) ─────┤        └──────── StakeGenesis (Eq. 6)
 *   TrainingCoin (ERC20Votes) ───┼─ TrainingRounds (FL rounds, training model records)
 *                                └─ ProducerElection ── BlockLedger (DPoS)
 *
 * Parameters (all optional; defaults and units in src/chain/protocolParams.ts): `mbs` (the operator; default the
 * deployer) and every field of ProtocolParams.
 */
import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import { DEFAULT_PROTOCOL_PARAMS as D } from "../../src/chain/protocolParams";
import { ROLES } from "../../src/chain/roles";

const DtwnModule = buildModule("Dtwn", (m) => {
  const deployer = m.getAccount(0);
  const mbs = m.getParameter("mbs", deployer);

  const registry = m.contract("BSRegistry", [mbs]);
  const coin = m.contract("TrainingCoin", [deployer]);
  const recordLog = m.contract("RecordLog", [deployer]);
  const twinRegistry = m.contract("TwinRegistry", [registry, recordLog, deployer]);
  const rounds = m.contract("TrainingRounds", [
    registry,
    coin,
    recordLog,
    m.getParameter("rewardPerModel", D.rewardPerModel),
    m.getParameter("roundSlashBps", D.roundSlashBps),
    m.getParameter("verificationWindowSeconds", D.verificationWindowSeconds),
  ]);
  const associationLedger = m.contract("AssociationLedger", [
    registry,
    twinRegistry,
    rounds,
    m.getParameter("subchannels", D.subchannels),
    m.getParameter("minBatchSize", D.minBatchSize),
    m.getParameter("maxBatchSize", D.maxBatchSize),
  ]);
  const stakeGenesis = m.contract("StakeGenesis", [
    registry,
    coin,
    twinRegistry,
    m.getParameter("initialSupply", D.initialSupply),
  ]);
  const election = m.contract("ProducerElection", [
    registry,
    coin,
    m.getParameter("genesisTime", D.genesisTime),
    m.getParameter("slotDurationSeconds", D.slotDurationSeconds),
    m.getParameter("slotsPerEpoch", D.slotsPerEpoch),
    m.getParameter("producersPerEpoch", D.producersPerEpoch),
    m.getParameter("jailEpochs", D.jailEpochs),
    deployer,
  ]);
  const blockLedger = m.contract("BlockLedger", [
    registry,
    election,
    recordLog,
    coin,
    m.getParameter("blockSlashBps", D.blockSlashBps),
  ]);

  // Roles: who may mint/burn coins, append records, move twins, jail producers.
  m.call(coin, "grantRole", [ROLES.PROTOCOL, rounds], { id: "grant_coin_rounds" });
  m.call(coin, "grantRole", [ROLES.PROTOCOL, stakeGenesis], { id: "grant_coin_genesis" });
  m.call(coin, "grantRole", [ROLES.PROTOCOL, blockLedger], { id: "grant_coin_blocks" });
  m.call(recordLog, "grantRole", [ROLES.WRITER, twinRegistry], { id: "grant_log_twins" });
  m.call(recordLog, "grantRole", [ROLES.WRITER, rounds], { id: "grant_log_rounds" });
  m.call(twinRegistry, "grantRole", [ROLES.ASSOCIATOR, associationLedger], { id: "grant_twins_ledger" });
  m.call(election, "grantRole", [ROLES.JAILER, blockLedger], { id: "grant_election_blocks" });

  return { registry, coin, recordLog, twinRegistry, rounds, associationLedger, stakeGenesis, election, blockLedger };
});

export default DtwnModule;
