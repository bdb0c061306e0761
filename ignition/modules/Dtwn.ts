/**
 * Ignition module: deploys the whole on-chain protocol and wires the roles between the contracts.
 *
 *   BSRegistry (operator = MBS) ─┬─ UserRegistry (device keys) ── TwinRegistry ── AssociationLedger
 *   RecordLog (append-only) ─────┤        └──────── StakeGenesis (Eq. 6)
 *   TrainingCoin ── StakeVault ──┼─ TrainingRounds (FL rounds, training model records, verdicts)
 *   (bonded stake, unbonding)    └─ ProducerElection ── BlockLedger (DPoS)
 *
 * Parameters (all optional; defaults and units in src/chain/protocolParams.ts): `mbs` (the operator; default the
 * deployer) and every field of ProtocolParams.
 *
 * Two modules: `DtwnCore` deploys and wires; `Dtwn` (what users deploy) is the core followed by the deployer giving
 * up every power it had (`DEFAULT_ADMIN_ROLE` on the five AccessControl contracts). Afterwards no account can grant
 * the roles that mint, burn, append records, move twins or jail producers: the wiring above is final. Only unit tests
 * that need a test writer or minter deploy the core alone.
 */
import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import { DEFAULT_PROTOCOL_PARAMS as D } from "../../src/chain/protocolParams";
import { ROLES } from "../../src/chain/roles";

export const DtwnCoreModule = buildModule("DtwnCore", (m) => {
  const deployer = m.getAccount(0);
  const mbs = m.getParameter("mbs", deployer);

  const registry = m.contract("BSRegistry", [mbs]);
  const coin = m.contract("TrainingCoin", [deployer]);
  const recordLog = m.contract("RecordLog", [deployer]);
  const stake = m.contract("StakeVault", [registry, coin, deployer, m.getParameter("unbondingDelaySeconds", D.unbondingDelaySeconds)]);
  const users = m.contract("UserRegistry", [registry]);
  const twinRegistry = m.contract("TwinRegistry", [registry, users, recordLog, deployer, m.getParameter("maxTwinDataSize", D.maxTwinDataSize)]);
  const rounds = m.contract("TrainingRounds", [
    registry,
    stake,
    recordLog,
    {
      rewardPerModel: m.getParameter("rewardPerModel", D.rewardPerModel),
      slashBps: m.getParameter("roundSlashBps", D.roundSlashBps),
      verificationWindow: m.getParameter("verificationWindowSeconds", D.verificationWindowSeconds),
      revealWindow: m.getParameter("revealWindowSeconds", D.revealWindowSeconds),
      quorumBps: m.getParameter("verificationQuorumBps", D.verificationQuorumBps),
      verifierReward: m.getParameter("verifierReward", D.verifierReward),
      withheldSlashBps: m.getParameter("withheldSlashBps", D.withheldSlashBps),
    },
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
    stake,
    twinRegistry,
    m.getParameter("initialSupply", D.initialSupply),
  ]);
  const election = m.contract("ProducerElection", [
    registry,
    stake,
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
    stake,
    m.getParameter("blockSlashBps", D.blockSlashBps),
  ]);

  // Roles: who may mint/burn coins (the vault alone), credit and slash stake, append records, move twins, jail producers.
  m.call(coin, "grantRole", [ROLES.PROTOCOL, stake], { id: "grant_coin_stake" });
  m.call(stake, "grantRole", [ROLES.PROTOCOL, rounds], { id: "grant_stake_rounds" });
  m.call(stake, "grantRole", [ROLES.PROTOCOL, stakeGenesis], { id: "grant_stake_genesis" });
  m.call(stake, "grantRole", [ROLES.PROTOCOL, blockLedger], { id: "grant_stake_blocks" });
  m.call(recordLog, "grantRole", [ROLES.WRITER, twinRegistry], { id: "grant_log_twins" });
  m.call(recordLog, "grantRole", [ROLES.WRITER, rounds], { id: "grant_log_rounds" });
  m.call(twinRegistry, "grantRole", [ROLES.ASSOCIATOR, associationLedger], { id: "grant_twins_ledger" });
  m.call(election, "grantRole", [ROLES.JAILER, blockLedger], { id: "grant_election_blocks" });
  // The model records' weights come from the committed actions (the one-shot wiring of the deploying account).
  m.call(rounds, "wireActionRecords", [associationLedger], { id: "wire_rounds_actions" });

  return { registry, users, coin, stake, recordLog, twinRegistry, rounds, associationLedger, stakeGenesis, election, blockLedger };
});

/** DEFAULT_ADMIN_ROLE (bytes32 zero) of OpenZeppelin's AccessControl. */
const DEFAULT_ADMIN_ROLE = "0x" + "00".repeat(32);

const DtwnModule = buildModule("Dtwn", (m) => {
  const deployer = m.getAccount(0);
  const core = m.useModule(DtwnCoreModule);
  // Attack stopped: an admin above the protocol (a deployer that grants itself the roles that mint, burn, write
  // records and move twins after handing the operator role over). Renounced after every grant of the core.
  m.call(core.coin, "renounceRole", [DEFAULT_ADMIN_ROLE, deployer], { id: "renounce_coin_admin", after: [DtwnCoreModule] });
  m.call(core.stake, "renounceRole", [DEFAULT_ADMIN_ROLE, deployer], { id: "renounce_stake_admin", after: [DtwnCoreModule] });
  m.call(core.recordLog, "renounceRole", [DEFAULT_ADMIN_ROLE, deployer], { id: "renounce_log_admin", after: [DtwnCoreModule] });
  m.call(core.twinRegistry, "renounceRole", [DEFAULT_ADMIN_ROLE, deployer], { id: "renounce_twins_admin", after: [DtwnCoreModule] });
  m.call(core.election, "renounceRole", [DEFAULT_ADMIN_ROLE, deployer], { id: "renounce_election_admin", after: [DtwnCoreModule] });
  return core;
});

export default DtwnModule;
