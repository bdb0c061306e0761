/**
 * Helpers shared by the DPoS tests (ProducerElection, BlockLedger, Merkle proofs on chain): time travel to slots and
 * epochs, reading the record log's leaves, bulk record appends, and a directly deployed DPoS stack whose parameters
 * (producers per epoch, slot length, slash rate, ...) differ from the Ignition defaults.
 */
import { ethers, network } from "hardhat";
import { loadFixture, mine, time } from "@nomicfoundation/hardhat-network-helpers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { ROLES } from "../../src/chain/roles";
import { recordLeaf } from "../../src/chain/merkle";
import { PARAMS, COIN } from "../fixtures";
import {
  BlockLedger__factory,
  BSRegistry__factory,
  ProducerElection__factory,
  RecordLog__factory,
  StakeVault__factory,
  TrainingCoin__factory,
  type ProducerElection,
  type RecordLog,
} from "../../typechain-types";

/**
 * `loadFixture`, then pin the clock to the snapshot: Hardhat keeps the wall clock running across snapshot reverts,
 * so without this the first block after a revert would be stamped later by however long the earlier tests took.
 */
export async function loadPinned<T>(fixture: () => Promise<T>): Promise<T> {
  const data = await loadFixture(fixture);
  await time.setNextBlockTimestamp((await time.latest()) + 1);
  return data;
}

/** Start timestamp of `slot`. */
export async function slotStart(election: ProducerElection, slot: bigint): Promise<bigint> {
  return (await election.genesisTime()) + slot * (await election.slotDuration());
}

/**
 * Mine a block at `offset` seconds into `slot`. Always sets the time explicitly (never relies on the wall clock,
 * which keeps running across fixture reverts), so it throws if that instant is already in the past.
 */
export async function enterSlot(election: ProducerElection, slot: bigint, offset = 0n): Promise<bigint> {
  const at = (await slotStart(election, slot)) + offset;
  const latest = BigInt(await time.latest());
  if (at <= latest) throw new Error(`enterSlot(${slot}): ${at} is not after the latest block ${latest}`);
  await time.increaseTo(at);
  return at;
}

/** Mine a block at the start of `epoch` (see {enterSlot}). */
export async function enterEpoch(election: ProducerElection, epoch: bigint): Promise<bigint> {
  return enterSlot(election, epoch * (await election.slotsPerEpoch()));
}

/**
 * Every leaf of the record log, in log order, rebuilt from its events' fields (index, kind, payloadHash, appendedAt);
 * throws if a rebuilt leaf is not the event's own leaf.
 */
export async function leavesOf(recordLog: RecordLog): Promise<string[]> {
  const events = await recordLog.queryFilter(recordLog.filters.RecordAppended());
  const leaves: string[] = [];
  for (const e of events) {
    const leaf = recordLeaf(e.args.index, e.args.kind, e.args.payloadHash, e.args.appendedAt);
    if (leaf !== e.args.leaf) throw new Error(`record ${e.args.index}: the event's fields do not rebuild its leaf`);
    leaves[Number(e.args.index)] = leaf;
  }
  expectDense(leaves, Number(await recordLog.length()));
  return leaves;
}

/** The leaf fields of a record, as `BlockLedger.reportMissedSlot` takes them after the slot. */
export interface RecordFields {
  kind: bigint;
  payloadHash: string;
  appendedAt: bigint;
}

/** The leaf fields of record `index`, read from its RecordAppended event (and checked against the stored leaf). */
export async function recordFields(recordLog: RecordLog, index: bigint | number): Promise<RecordFields> {
  const [e] = await recordLog.queryFilter(recordLog.filters.RecordAppended(index));
  if (!e) throw new Error(`record ${index} has no RecordAppended event`);
  const f = { kind: e.args.kind, payloadHash: e.args.payloadHash, appendedAt: e.args.appendedAt };
  if (recordLeaf(index, f.kind, f.payloadHash, f.appendedAt) !== (await recordLog.leafAt(index))) throw new Error(`record ${index}: the event's fields are not the stored leaf's`);
  return f;
}

function expectDense(leaves: string[], length: number) {
  if (leaves.length !== length || leaves.some((l) => l === undefined)) throw new Error("record log events are not dense");
}

/**
 * Append `n` training-model records from `writer` (which needs WRITER_ROLE), packing them into as few blocks as
 * possible so the chain time barely moves.
 */
export async function appendRecords(recordLog: RecordLog, writer: HardhatEthersSigner, n: number, label = "record") {
  const perBlock = 250;
  await network.provider.send("evm_setAutomine", [false]);
  try {
    let nonce = await writer.getNonce("pending");
    for (let start = 0; start < n; start += perBlock) {
      for (let i = start; i < Math.min(n, start + perBlock); i++) {
        await recordLog.connect(writer).append(2, ethers.id(`${label}-${i}`), { nonce: nonce++, gasLimit: 100_000 });
      }
      await mine();
    }
  } finally {
    await network.provider.send("evm_setAutomine", [true]);
  }
}

export interface DposOptions {
  slotDuration?: number;
  slotsPerEpoch?: number;
  producersPerEpoch?: number;
  jailEpochs?: number;
  slashBps?: number;
  /** Member BSs (signers 1..members); member i gets (i + 1) * 100 bonded coins. */
  members?: number;
  /** Records appended to the log before the election. */
  records?: number;
}

/**
 * A DPoS stack deployed directly with the typechain factories (signer 0 = operator and admin, holding WRITER_ROLE
 * and the vault's PROTOCOL_ROLE so tests can append records and credit bonded coins), with `members` BSs admitted and
 * funded (bonded).
 */
export async function deployDpos(o: DposOptions = {}) {
  const [mbs, ...rest] = await ethers.getSigners();
  const members = o.members ?? 5;
  const registry = await new BSRegistry__factory(mbs).deploy(mbs.address);
  const coin = await new TrainingCoin__factory(mbs).deploy(mbs.address);
  const stake = await new StakeVault__factory(mbs).deploy(registry, coin, mbs.address, PARAMS.unbondingDelaySeconds);
  const recordLog = await new RecordLog__factory(mbs).deploy(mbs.address);
  const election = await new ProducerElection__factory(mbs).deploy(
    registry,
    stake,
    0,
    o.slotDuration ?? PARAMS.slotDurationSeconds,
    o.slotsPerEpoch ?? PARAMS.slotsPerEpoch,
    o.producersPerEpoch ?? PARAMS.producersPerEpoch,
    o.jailEpochs ?? PARAMS.jailEpochs,
    mbs.address,
  );
  const blocks = await new BlockLedger__factory(mbs).deploy(registry, election, recordLog, stake, o.slashBps ?? PARAMS.blockSlashBps);
  await coin.grantRole(ROLES.PROTOCOL, await stake.getAddress());
  await stake.grantRole(ROLES.PROTOCOL, mbs.address);
  await stake.grantRole(ROLES.PROTOCOL, await blocks.getAddress());
  await recordLog.grantRole(ROLES.WRITER, mbs.address);
  await election.grantRole(ROLES.JAILER, await blocks.getAddress());
  const bss = rest.slice(0, members);
  for (const [i, bs] of bss.entries()) {
    await registry.admit(bs.address);
    await stake.credit(bs.address, BigInt(i + 1) * 100n * COIN);
  }
  if (o.records) await appendRecords(recordLog, mbs, o.records);
  return { mbs, bss, outsider: rest[15], registry, coin, stake, recordLog, election, blocks };
}

export type Dpos = Awaited<ReturnType<typeof deployDpos>>;

/**
 * Every BS of `bss` stands and approves itself; then the producers of the next epoch are elected at its start.
 * @returns the elected epoch and its producers as signers, in slot order.
 */
export async function electSelfVoters(election: ProducerElection, bss: HardhatEthersSigner[]) {
  for (const bs of bss) await election.connect(bs).registerCandidate();
  for (const bs of bss) await election.connect(bs).vote([bs.address]);
  const epoch = (await election.currentEpoch()) + 1n;
  await enterEpoch(election, epoch);
  await election.connect(bss[0]).elect();
  const producers = (await election.producersOf(epoch)).map((a) => signerOf(bss, a));
  return { epoch, producers };
}

/** The signer of `address` among `signers`. */
export function signerOf(signers: HardhatEthersSigner[], address: string): HardhatEthersSigner {
  const s = signers.find((x) => x.address === address);
  if (!s) throw new Error(`no signer for ${address}`);
  return s;
}
