import { expect } from "chai";
import { ethers } from "hardhat";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { PARAMS, deployWithFiveBssWithTestAdmin } from "../fixtures";
import { merkleProof, merkleRoot, recordLeaf } from "../../src/chain/merkle";
import { missedSlotEvidence } from "../../src/agents/dpos";
import { ROLES } from "../../src/chain/roles";
import { BlockLedger__factory, type BlockLedger, type ProducerElection, type RecordLog } from "../../typechain-types";
import { appendRecords, deployDpos, electSelfVoters, enterSlot, leavesOf, loadPinned, recordFields, slotStart, type RecordFields } from "./dpos.helpers";

const Status = { None: 0n, Pending: 1n, Final: 2n, Rejected: 3n } as const;
/** RecordLog.RecordKind */
const Kind = { TwinModel: 0n, TwinData: 1n, TrainingModel: 2n } as const;
const SLASH_BPS = BigInt(PARAMS.blockSlashBps);

/** The Ignition deployment with 5 BSs (10 twin data records), all standing, each approving itself; epoch elected. */
async function electedFixture() {
  const p = await deployWithFiveBssWithTestAdmin();
  const { epoch, producers } = await electSelfVoters(p.election, p.five);
  const nonProducers = p.five.filter((s) => !producers.includes(s));
  return { ...p, epoch, first: epoch * BigInt(PARAMS.slotsPerEpoch), producers, nonProducers, leaves: await leavesOf(p.recordLog) };
}

/** Same, with 300 records in the log (290 appended by the operator as WRITER). */
async function manyRecordsFixture() {
  const p = await deployWithFiveBssWithTestAdmin();
  await p.recordLog.grantRole(ROLES.WRITER, p.mbs.address);
  await appendRecords(p.recordLog, p.mbs, 290);
  const { epoch, producers } = await electSelfVoters(p.election, p.five);
  return { ...p, epoch, first: epoch * BigInt(PARAMS.slotsPerEpoch), producers, leaves: await leavesOf(p.recordLog) };
}

/** Direct deployments with other parameters: N = 3 with only two candidates standing (two producers), N = 4. */
async function twoProducersFixture() {
  const d = await deployDpos({ records: 10 });
  const { epoch, producers } = await electSelfVoters(d.election, d.bss.slice(0, 2));
  return { ...d, epoch, first: epoch * 10n, producers, leaves: await leavesOf(d.recordLog) };
}
async function oneEpochJailFixture() {
  const d = await deployDpos({ jailEpochs: 1, records: 1 }); // one record waiting from before the election
  const { epoch, producers } = await electSelfVoters(d.election, d.bss);
  return { ...d, epoch, first: epoch * 10n, producers };
}
/** A direct deployment with an empty record log (the operator holds WRITER_ROLE); three of five BSs elected. */
async function noRecordsFixture() {
  const d = await deployDpos();
  const { epoch, producers } = await electSelfVoters(d.election, d.bss);
  return { ...d, epoch, first: epoch * 10n, producers, nonProducers: d.bss.filter((s) => !producers.includes(s)), leaves: [] as string[] };
}
async function fourProducersFixture() {
  const d = await deployDpos({ producersPerEpoch: 4, records: 10 });
  const { epoch, producers } = await electSelfVoters(d.election, d.bss);
  return { ...d, epoch, first: epoch * 10n, producers, leaves: await leavesOf(d.recordLog) };
}

interface Ctx {
  election: ProducerElection;
  blocks: BlockLedger;
  producers: HardhatEthersSigner[];
  leaves: string[];
}

/** The producer owning `slot` (round robin over the epoch's producers). */
function owner(f: Ctx, slot: bigint): HardhatEthersSigner {
  return f.producers[Number(slot % BigInt(f.producers.length))];
}

function rootOf(f: Ctx, from: bigint | number, to: bigint | number): string {
  return merkleRoot(f.leaves.slice(Number(from), Number(to)));
}

/** The owner of `slot` proposes [packedUpTo, to) with the correct root (the caller is already in `slot`). */
async function propose(f: Ctx, slot: bigint, to: number) {
  const from = await f.blocks.packedUpTo();
  return f.blocks.connect(owner(f, slot)).proposeBlock(slot, to, rootOf(f, from, to));
}

/**
 * Enter `slot` and propose; the other producers, in slot order, give `verdicts` (null = no verdict).
 * Returns the block id.
 */
async function blockIn(f: Ctx, slot: bigint, to: number, verdicts: (boolean | null)[] = []): Promise<bigint> {
  await enterSlot(f.election, slot);
  await propose(f, slot, to);
  const id = (await f.blocks.blockCount()) - 1n;
  const others = f.producers.filter((p) => p !== owner(f, slot));
  for (const [i, v] of verdicts.entries()) if (v !== null) await f.blocks.connect(others[i]).validateBlock(id, v);
  return id;
}

/**
 * `who` reports missed slot `slot` with the leaf fields of record `index` (read from its RecordAppended event): by
 * default record 0, the one waiting at the start of every slot before the first final block.
 */
async function report(f: { blocks: BlockLedger; recordLog: RecordLog }, who: HardhatEthersSigner, slot: bigint, index: bigint | number = 0n) {
  return reportWith(f, who, slot, await recordFields(f.recordLog, index));
}

/** `who` reports missed slot `slot` with the given leaf fields (true or forged). */
function reportWith(f: { blocks: BlockLedger }, who: HardhatEthersSigner, slot: bigint, r: RecordFields) {
  return f.blocks.connect(who).reportMissedSlot(slot, r.kind, r.payloadHash, r.appendedAt);
}

/** Nobody was reported, jailed or slashed: no SlotMissed, every producer free, bonds and supply as in `before`. */
async function expectNobodyPunished(
  f: Ctx & { stake: { bondedOf(a: string): Promise<bigint> }; coin: { totalSupply(): Promise<bigint> } },
  before: { bonds: bigint[]; supply: bigint },
) {
  expect(await f.blocks.queryFilter(f.blocks.filters.SlotMissed())).to.have.length(0);
  expect(await f.blocks.queryFilter(f.blocks.filters.ProducerSlashed())).to.have.length(0);
  for (const [i, p] of f.producers.entries()) {
    expect(await f.election.isJailed(p.address)).to.equal(false);
    expect(await f.stake.bondedOf(p.address)).to.equal(before.bonds[i]);
  }
  expect(await f.coin.totalSupply()).to.equal(before.supply);
}

async function holdings(f: Ctx & { stake: { bondedOf(a: string): Promise<bigint> }; coin: { totalSupply(): Promise<bigint> } }) {
  return { bonds: await Promise.all(f.producers.map((p) => f.stake.bondedOf(p.address))), supply: await f.coin.totalSupply() };
}

const proofsFor = (f: Ctx, from: number, to: number) =>
  Array.from({ length: to - from }, (_, i) => merkleProof(f.leaves.slice(from, to), i));

describe("BlockLedger", () => {
  describe("fixture assumptions", () => {
    it("elects the three richest BSs in tally order, with 10 records in the log", async () => {
      const f = await loadPinned(electedFixture);
      expect(f.epoch).to.equal(1n);
      expect(f.producers).to.deep.equal([f.five[4], f.five[3], f.five[2]]);
      expect(await f.recordLog.length()).to.equal(10n);
      expect(f.leaves).to.have.length(10);
    });
  });

  describe("constructor", () => {
    async function parts() {
      const p = await loadPinned(deployWithFiveBssWithTestAdmin);
      return {
        p,
        f: new BlockLedger__factory(p.mbs),
        registry: await p.registry.getAddress(),
        election: await p.election.getAddress(),
        log: await p.recordLog.getAddress(),
        coin: await p.stake.getAddress(),
      };
    }

    it("sets the immutables and constants", async () => {
      const { f, registry, election, log, coin } = await parts();
      const b = await f.deploy(registry, election, log, coin, 10_000);
      expect(await b.registry()).to.equal(registry);
      expect(await b.election()).to.equal(election);
      expect(await b.recordLog()).to.equal(log);
      expect(await b.stake()).to.equal(coin);
      expect(await b.slashBps()).to.equal(10_000n);
      expect(await b.MAX_RECORDS_PER_BLOCK()).to.equal(256n);
      expect(await b.BPS()).to.equal(10_000n);
      expect(await b.blockCount()).to.equal(0n);
      expect(await b.finalBlockCount()).to.equal(0n);
      expect(await b.packedUpTo()).to.equal(0n);
    });

    it("reverts ZeroAddress for a zero registry, election, record log or stake vault", async () => {
      const { f, registry, election, log, coin } = await parts();
      const z = ethers.ZeroAddress;
      await expect(f.deploy(z, election, log, coin, 1)).to.be.revertedWithCustomError(f, "ZeroAddress");
      await expect(f.deploy(registry, z, log, coin, 1)).to.be.revertedWithCustomError(f, "ZeroAddress");
      await expect(f.deploy(registry, election, z, coin, 1)).to.be.revertedWithCustomError(f, "ZeroAddress");
      await expect(f.deploy(registry, election, log, z, 1)).to.be.revertedWithCustomError(f, "ZeroAddress");
    });

    it("reverts InvalidParameter for slashBps above 10000", async () => {
      const { f, registry, election, log, coin } = await parts();
      await expect(f.deploy(registry, election, log, coin, 10_001)).to.be.revertedWithCustomError(f, "InvalidParameter");
    });
  });

  describe("proposeBlock", () => {
    it("proposes the next interval as a pending block carrying the proposer's approval", async () => {
      const f = await loadPinned(electedFixture);
      const s = f.first + 1n;
      await enterSlot(f.election, s);
      const p = owner(f, s);
      const root = rootOf(f, 0, 10);
      expect(await f.blocks.connect(p).proposeBlock.staticCall(s, 10, root)).to.equal(0n);
      await expect(f.blocks.connect(p).proposeBlock(s, 10, root))
        .to.emit(f.blocks, "BlockProposed")
        .withArgs(0n, s, p.address, 0n, 10n, root)
        .and.not.to.emit(f.blocks, "BlockFinalized");
      const b = await f.blocks.getBlock(0n);
      expect(b.status).to.equal(Status.Pending);
      expect(b.producer).to.equal(p.address);
      expect(b.slot).to.equal(s);
      expect(b.epoch).to.equal(f.epoch);
      expect(b.fromRecord).to.equal(0n);
      expect(b.toRecord).to.equal(10n);
      expect(b.producerCount).to.equal(3n);
      expect(b.approvals).to.equal(1n);
      expect(b.rejections).to.equal(0n);
      expect(b.root).to.equal(root);
      expect(await f.blocks.blockCount()).to.equal(1n);
      expect(await f.blocks.finalBlockCount()).to.equal(0n);
      expect(await f.blocks.packedUpTo()).to.equal(0n);
      expect(await f.blocks.blockOfSlot(s)).to.deep.equal([true, 0n]);
      expect(await f.blocks.blockOfSlot(s + 1n)).to.deep.equal([false, 0n]);
      expect(await f.blocks.isExpired(0n)).to.be.false;
    });

    it("numbers blocks consecutively and starts each at packedUpTo", async () => {
      const f = await loadPinned(electedFixture);
      await blockIn(f, f.first + 1n, 4, [true]);
      const s = f.first + 2n;
      await enterSlot(f.election, s);
      await expect(propose(f, s, 10))
        .to.emit(f.blocks, "BlockProposed")
        .withArgs(1n, s, owner(f, s).address, 4n, 10n, rootOf(f, 4, 10));
      expect(await f.blocks.blockOfSlot(s)).to.deep.equal([true, 1n]);
      expect(await f.blocks.blockOfSlot(f.first + 1n)).to.deep.equal([true, 0n]);
    });

    it("reverts WrongSlot for a past or future slot", async () => {
      const f = await loadPinned(electedFixture);
      const s = f.first + 2n;
      await enterSlot(f.election, s);
      for (const wrong of [s - 1n, s + 1n]) {
        await expect(f.blocks.connect(owner(f, wrong)).proposeBlock(wrong, 10, rootOf(f, 0, 10)))
          .to.be.revertedWithCustomError(f.blocks, "WrongSlot")
          .withArgs(wrong, s);
      }
    });

    it("reverts NotSlotProducer for another producer and for a member that is not a producer", async () => {
      const f = await loadPinned(electedFixture);
      const s = f.first + 1n;
      await enterSlot(f.election, s);
      const p = owner(f, s);
      for (const who of [owner(f, s + 1n), f.nonProducers[0]]) {
        await expect(f.blocks.connect(who).proposeBlock(s, 10, rootOf(f, 0, 10)))
          .to.be.revertedWithCustomError(f.blocks, "NotSlotProducer")
          .withArgs(s, who.address, p.address);
      }
    });

    it("reverts NotMember for an outsider and for the operator", async () => {
      const f = await loadPinned(electedFixture);
      const s = f.first + 1n;
      await enterSlot(f.election, s);
      for (const who of [f.outsider, f.mbs]) {
        await expect(f.blocks.connect(who).proposeBlock(s, 10, rootOf(f, 0, 10)))
          .to.be.revertedWithCustomError(f.blocks, "NotMember")
          .withArgs(who.address);
      }
    });

    it("reverts the election's NoProducers in an epoch without an election", async () => {
      const f = await loadPinned(electedFixture);
      const s = f.first + 10n; // first slot of the next epoch
      await enterSlot(f.election, s);
      await expect(f.blocks.connect(f.producers[0]).proposeBlock(s, 10, rootOf(f, 0, 10)))
        .to.be.revertedWithCustomError(f.election, "NoProducers")
        .withArgs(f.epoch + 1n);
    });

    it("reverts ProducerIsJailed when the slot's producer was jailed earlier in the epoch", async () => {
      const f = await loadPinned(electedFixture);
      const missed = f.first + 1n;
      const p = owner(f, missed);
      await enterSlot(f.election, missed + 1n);
      await report(f, f.nonProducers[0], missed);
      const again = missed + 3n; // p's next slot
      expect(owner(f, again)).to.equal(p);
      await enterSlot(f.election, again);
      await expect(f.blocks.connect(p).proposeBlock(again, 10, rootOf(f, 0, 10)))
        .to.be.revertedWithCustomError(f.blocks, "ProducerIsJailed")
        .withArgs(p.address);
    });

    it("reverts SlotAlreadyUsed for a second block in the same slot", async () => {
      const f = await loadPinned(electedFixture);
      const s = f.first + 1n;
      await enterSlot(f.election, s);
      await propose(f, s, 5);
      await expect(propose(f, s, 10)).to.be.revertedWithCustomError(f.blocks, "SlotAlreadyUsed").withArgs(s);
    });

    it("reverts InvalidInterval past the end of the log and before packedUpTo; accepts an empty interval", async () => {
      const f = await loadPinned(electedFixture);
      let s = f.first + 1n;
      await enterSlot(f.election, s);
      await expect(f.blocks.connect(owner(f, s)).proposeBlock(s, 11, ethers.ZeroHash))
        .to.be.revertedWithCustomError(f.blocks, "InvalidInterval")
        .withArgs(0n, 11n, 10n);
      await propose(f, s, 5);
      await f.blocks.connect(owner(f, s + 1n)).validateBlock(0n, true);
      expect(await f.blocks.packedUpTo()).to.equal(5n);

      s += 1n;
      await enterSlot(f.election, s);
      await expect(f.blocks.connect(owner(f, s)).proposeBlock(s, 4, ethers.ZeroHash))
        .to.be.revertedWithCustomError(f.blocks, "InvalidInterval")
        .withArgs(5n, 4n, 10n);
      await expect(f.blocks.connect(owner(f, s)).proposeBlock(s, 5, ethers.ZeroHash))
        .to.emit(f.blocks, "BlockProposed")
        .withArgs(1n, s, owner(f, s).address, 5n, 5n, ethers.ZeroHash);
    });

    it("reverts InvalidInterval above 256 records and accepts exactly 256", async () => {
      const f = await loadPinned(manyRecordsFixture);
      expect(await f.recordLog.length()).to.equal(300n);
      let s = f.first + 1n;
      await enterSlot(f.election, s);
      await expect(f.blocks.connect(owner(f, s)).proposeBlock(s, 257, rootOf(f, 0, 257)))
        .to.be.revertedWithCustomError(f.blocks, "InvalidInterval")
        .withArgs(0n, 257n, 300n);
      await propose(f, s, 256);
      await f.blocks.connect(owner(f, s + 1n)).validateBlock(0n, true);
      expect(await f.blocks.packedUpTo()).to.equal(256n);
      s += 1n;
      await enterSlot(f.election, s);
      await expect(propose(f, s, 300))
        .to.emit(f.blocks, "BlockProposed")
        .withArgs(1n, s, owner(f, s).address, 256n, 300n, rootOf(f, 256, 300));
      // A record of the full block verifies against its root.
      expect(await f.blocks.isRecordInBlock(0n, 200n, merkleProof(f.leaves.slice(0, 256), 200))).to.be.true;
    });

    it("reverts TooFewProducers when the epoch elected fewer than 3 producers (a lone producer finalising alone)", async () => {
      // Attack class 6: with one producer its block was final on proposal; with two, one rejection decided.
      const f = await loadPinned(twoProducersFixture);
      expect(f.producers).to.have.length(2);
      const s = f.first + 1n;
      await enterSlot(f.election, s);
      await expect(f.blocks.connect(owner(f, s)).proposeBlock(s, 7, rootOf(f, 0, 7)))
        .to.be.revertedWithCustomError(f.blocks, "TooFewProducers")
        .withArgs(f.epoch, 2n);
      // nobody could propose, so nobody is punished for the empty slot
      await enterSlot(f.election, s + 1n);
      await expect(report(f, f.mbs, s)).to.be.revertedWithCustomError(f.blocks, "TooFewProducers").withArgs(f.epoch, 2n);
      expect(await f.election.MIN_PRODUCERS()).to.equal(3n);
    });

    it("reverts RootMismatch for a root that is not the records' Merkle root (colluding producers finalising a bogus root)", async () => {
      // Attack class 6: 2 of 3 producers used to finalise a root of records that are not on chain.
      const f = await loadPinned(electedFixture);
      const s = f.first + 1n;
      await enterSlot(f.election, s);
      const bogus = ethers.id("records of my choosing");
      await expect(f.blocks.connect(owner(f, s)).proposeBlock(s, 10, bogus))
        .to.be.revertedWithCustomError(f.blocks, "RootMismatch")
        .withArgs(rootOf(f, 0, 10), bogus);
      // the root of another interval is refused too
      await expect(f.blocks.connect(owner(f, s)).proposeBlock(s, 9, rootOf(f, 0, 10)))
        .to.be.revertedWithCustomError(f.blocks, "RootMismatch")
        .withArgs(rootOf(f, 0, 9), rootOf(f, 0, 10));
      expect(await f.blocks.blockCount()).to.equal(0n);
      expect(await f.recordLog.rootOf(0, 10)).to.equal(rootOf(f, 0, 10));
    });
  });

  describe("validateBlock", () => {
    it("with 3 producers, the proposer and one approval (2/3) make the block final", async () => {
      const f = await loadPinned(electedFixture);
      const s = f.first + 1n;
      await enterSlot(f.election, s);
      await propose(f, s, 10);
      const v = owner(f, s + 1n);
      await expect(f.blocks.connect(v).validateBlock(0n, true))
        .to.emit(f.blocks, "BlockValidated")
        .withArgs(0n, v.address, true)
        .and.to.emit(f.blocks, "BlockFinalized")
        .withArgs(0n, 10n);
      const b = await f.blocks.getBlock(0n);
      expect(b.status).to.equal(Status.Final);
      expect(b.approvals).to.equal(2n);
      expect(await f.blocks.packedUpTo()).to.equal(10n);
      expect(await f.blocks.finalBlockCount()).to.equal(1n);
    });

    it("with 3 producers, one rejection is not enough; a second rejection rejects, but neither jails nor slashes (the root was checked)", async () => {
      const f = await loadPinned(electedFixture);
      const s = f.first + 1n;
      await enterSlot(f.election, s);
      await propose(f, s, 10);
      const p = owner(f, s);
      const [v1, v2] = f.producers.filter((x) => x !== p);
      await expect(f.blocks.connect(v1).validateBlock(0n, false))
        .to.emit(f.blocks, "BlockValidated")
        .withArgs(0n, v1.address, false)
        .and.not.to.emit(f.blocks, "BlockRejected");
      expect((await f.blocks.getBlock(0n)).rejections).to.equal(1n);
      expect((await f.blocks.getBlock(0n)).status).to.equal(Status.Pending);

      const balance = await f.stake.bondedOf(p.address);
      const supply = await f.coin.totalSupply();
      await expect(f.blocks.connect(v2).validateBlock(0n, false))
        .to.emit(f.blocks, "BlockValidated")
        .withArgs(0n, v2.address, false)
        .and.to.emit(f.blocks, "BlockRejected")
        .withArgs(0n)
        .and.not.to.emit(f.blocks, "ProducerSlashed");
      // Colluders rejecting a correct block delay its records; they cannot punish its proposer.
      expect(await f.stake.bondedOf(p.address)).to.equal(balance);
      expect(await f.coin.totalSupply()).to.equal(supply);
      const b = await f.blocks.getBlock(0n);
      expect(b.status).to.equal(Status.Rejected);
      expect(b.rejections).to.equal(2n);
      expect(await f.election.isJailed(p.address)).to.be.false;
      expect(await f.blocks.packedUpTo()).to.equal(0n);
      expect(await f.blocks.finalBlockCount()).to.equal(0n);
    });

    it("one rejection and one approval make the block final", async () => {
      const f = await loadPinned(electedFixture);
      const s = f.first + 1n;
      await enterSlot(f.election, s);
      await propose(f, s, 10);
      const [v1, v2] = f.producers.filter((x) => x !== owner(f, s));
      await f.blocks.connect(v1).validateBlock(0n, false);
      await expect(f.blocks.connect(v2).validateBlock(0n, true)).to.emit(f.blocks, "BlockFinalized").withArgs(0n, 10n);
      const b = await f.blocks.getBlock(0n);
      expect([b.status, b.approvals, b.rejections]).to.deep.equal([Status.Final, 2n, 1n]);
    });

    it("with 4 producers, finality needs 3 approvals and rejection 2 rejections", async () => {
      const f = await loadPinned(fourProducersFixture);
      expect(f.producers).to.have.length(4);
      let s = f.first + 1n;
      await enterSlot(f.election, s);
      await propose(f, s, 5);
      let others = f.producers.filter((x) => x !== owner(f, s));
      await expect(f.blocks.connect(others[0]).validateBlock(0n, true)).not.to.emit(f.blocks, "BlockFinalized");
      await expect(f.blocks.connect(others[1]).validateBlock(0n, true)).to.emit(f.blocks, "BlockFinalized").withArgs(0n, 5n);

      s += 1n;
      await enterSlot(f.election, s);
      await propose(f, s, 10);
      const p = owner(f, s);
      others = f.producers.filter((x) => x !== p);
      await expect(f.blocks.connect(others[0]).validateBlock(1n, false)).not.to.emit(f.blocks, "BlockRejected");
      await expect(f.blocks.connect(others[1]).validateBlock(1n, false))
        .to.emit(f.blocks, "BlockRejected")
        .withArgs(1n)
        .and.not.to.emit(f.blocks, "ProducerSlashed");
    });

    it("accepts verdicts until the last second of the slot and reverts ValidationClosed from its end", async () => {
      const f = await loadPinned(electedFixture);
      let s = f.first + 1n;
      await enterSlot(f.election, s);
      await propose(f, s, 4);
      const end = await f.election.slotEnd(s);
      await time.setNextBlockTimestamp(end - 1n);
      await expect(f.blocks.connect(owner(f, s + 1n)).validateBlock(0n, true)).to.emit(f.blocks, "BlockFinalized");

      s += 1n;
      await enterSlot(f.election, s);
      await propose(f, s, 10);
      await time.setNextBlockTimestamp(await f.election.slotEnd(s));
      await expect(f.blocks.connect(owner(f, s + 1n)).validateBlock(1n, true))
        .to.be.revertedWithCustomError(f.blocks, "ValidationClosed")
        .withArgs(1n);
    });

    it("reverts NotEpochProducer for a member that is not a producer of the block's epoch", async () => {
      const f = await loadPinned(electedFixture);
      const s = f.first + 1n;
      await enterSlot(f.election, s);
      await propose(f, s, 10);
      for (const who of f.nonProducers) {
        await expect(f.blocks.connect(who).validateBlock(0n, true))
          .to.be.revertedWithCustomError(f.blocks, "NotEpochProducer")
          .withArgs(f.epoch, who.address);
      }
    });

    it("reverts ProducerIsJailed for the verdict of a producer jailed earlier in the epoch", async () => {
      const f = await loadPinned(electedFixture);
      const s = f.first + 1n;
      const missed = owner(f, s);
      await enterSlot(f.election, s + 1n);
      await report(f, f.mbs, s);
      expect(await f.election.isJailed(missed.address)).to.be.true;
      await propose(f, s + 1n, 10);
      expect(owner(f, s + 1n)).to.not.equal(missed);
      await expect(f.blocks.connect(missed).validateBlock(0n, true))
        .to.be.revertedWithCustomError(f.blocks, "ProducerIsJailed")
        .withArgs(missed.address);
    });

    it("reverts AlreadyValidated for the proposer and for a second verdict", async () => {
      const f = await loadPinned(electedFixture);
      const s = f.first + 1n;
      await enterSlot(f.election, s);
      await propose(f, s, 10);
      const p = owner(f, s);
      await expect(f.blocks.connect(p).validateBlock(0n, true))
        .to.be.revertedWithCustomError(f.blocks, "AlreadyValidated")
        .withArgs(0n, p.address);
      const v = owner(f, s + 1n);
      await f.blocks.connect(v).validateBlock(0n, false);
      for (const verdict of [false, true]) {
        await expect(f.blocks.connect(v).validateBlock(0n, verdict))
          .to.be.revertedWithCustomError(f.blocks, "AlreadyValidated")
          .withArgs(0n, v.address);
      }
    });

    it("reverts BlockNotPending on a final and on a rejected block", async () => {
      const f = await loadPinned(electedFixture);
      const s = f.first + 1n;
      await blockIn(f, s, 4, [true]);
      const third = f.producers.filter((x) => x !== owner(f, s))[1];
      await expect(f.blocks.connect(third).validateBlock(0n, false))
        .to.be.revertedWithCustomError(f.blocks, "BlockNotPending")
        .withArgs(0n, Status.Final);
      await blockIn(f, s + 1n, 10, [false, false]);
      await expect(f.blocks.connect(f.nonProducers[0]).validateBlock(1n, true))
        .to.be.revertedWithCustomError(f.blocks, "BlockNotPending")
        .withArgs(1n, Status.Rejected);
    });

    it("reverts UnknownBlock for a block that does not exist and NotMember for an outsider", async () => {
      const f = await loadPinned(electedFixture);
      await expect(f.blocks.connect(f.producers[0]).validateBlock(0n, true))
        .to.be.revertedWithCustomError(f.blocks, "UnknownBlock")
        .withArgs(0n);
      await blockIn(f, f.first + 1n, 10);
      await expect(f.blocks.connect(f.producers[0]).validateBlock(1n, true))
        .to.be.revertedWithCustomError(f.blocks, "UnknownBlock")
        .withArgs(1n);
      await expect(f.blocks.connect(f.outsider).validateBlock(0n, true))
        .to.be.revertedWithCustomError(f.blocks, "NotMember")
        .withArgs(f.outsider.address);
    });
  });

  describe("finality, packing and expiry", () => {
    it("a final block never changes", async () => {
      const f = await loadPinned(electedFixture);
      const s = f.first + 1n;
      await blockIn(f, s, 6, [true]);
      const before = [...(await f.blocks.getBlock(0n))];
      expect(before[0]).to.equal(Status.Final);

      // Further activity: late verdicts, a report of its slot, a rejected and a final block, a new epoch.
      const third = f.producers.filter((x) => x !== owner(f, s))[1];
      await expect(f.blocks.connect(third).validateBlock(0n, false)).to.be.revertedWithCustomError(f.blocks, "BlockNotPending");
      await blockIn(f, s + 1n, 8, [false, false]);
      await expect(report(f, f.nonProducers[0], s))
        .to.be.revertedWithCustomError(f.blocks, "SlotNotMissed")
        .withArgs(s);
      await blockIn(f, s + 2n, 10, [null, true]); // the proposer of s + 1 is jailed: leave it out
      await enterSlot(f.election, f.first + 25n);
      await expect(f.blocks.connect(third).validateBlock(0n, true)).to.be.revertedWithCustomError(f.blocks, "BlockNotPending");

      expect([...(await f.blocks.getBlock(0n))]).to.deep.equal(before);
      expect(await f.blocks.isExpired(0n)).to.be.false;
      expect(await f.blocks.isRecordInBlock(0n, 5n, merkleProof(f.leaves.slice(0, 6), 5))).to.be.true;
      expect(await f.blocks.finalBlockCount()).to.equal(2n);
    });

    it("packedUpTo advances only when a block becomes final", async () => {
      const f = await loadPinned(electedFixture);
      const s = f.first + 1n;
      await blockIn(f, s, 3); // pending, then expired
      expect(await f.blocks.packedUpTo()).to.equal(0n);
      await blockIn(f, s + 1n, 3, [true]); // final
      expect(await f.blocks.packedUpTo()).to.equal(3n);
      await blockIn(f, s + 2n, 9, [false]); // pending with one rejection, then expired
      expect(await f.blocks.packedUpTo()).to.equal(3n);
      await blockIn(f, s + 3n, 9, [false, false]); // rejected
      expect(await f.blocks.packedUpTo()).to.equal(3n);
      await blockIn(f, s + 4n, 9, [true]); // final
      expect(await f.blocks.packedUpTo()).to.equal(9n);
      expect(await f.blocks.blockCount()).to.equal(5n);
      expect(await f.blocks.finalBlockCount()).to.equal(2n);
    });

    it("a block whose slot ends without finality expires and the next producer packs its records again", async () => {
      const f = await loadPinned(electedFixture);
      const s = f.first + 1n;
      await blockIn(f, s, 10);
      expect(await f.blocks.isExpired(0n)).to.be.false;
      await enterSlot(f.election, s + 1n);
      expect(await f.blocks.isExpired(0n)).to.be.true;
      expect((await f.blocks.getBlock(0n)).status).to.equal(Status.Pending);
      await expect(f.blocks.connect(owner(f, s + 1n)).validateBlock(0n, true))
        .to.be.revertedWithCustomError(f.blocks, "ValidationClosed")
        .withArgs(0n);
      // The slot had a block, so its producer cannot be reported for it.
      await expect(report(f, f.nonProducers[0], s))
        .to.be.revertedWithCustomError(f.blocks, "SlotNotMissed")
        .withArgs(s);

      const root = rootOf(f, 0, 10);
      const next = owner(f, s + 1n);
      await expect(f.blocks.connect(next).proposeBlock(s + 1n, 10, root))
        .to.emit(f.blocks, "BlockProposed")
        .withArgs(1n, s + 1n, next.address, 0n, 10n, root);
      await expect(f.blocks.connect(owner(f, s + 2n)).validateBlock(1n, true)).to.emit(f.blocks, "BlockFinalized").withArgs(1n, 10n);
      expect(await f.blocks.isExpired(1n)).to.be.false;
      expect(await f.blocks.isExpired(0n)).to.be.true;
      const proof = merkleProof(f.leaves.slice(0, 10), 3);
      expect(await f.blocks.isRecordInBlock(0n, 3n, proof)).to.be.false;
      expect(await f.blocks.isRecordInBlock(1n, 3n, proof)).to.be.true;
    });

    it("isExpired is false for rejected blocks and reverts UnknownBlock for unknown ids", async () => {
      const f = await loadPinned(electedFixture);
      const s = f.first + 1n;
      await blockIn(f, s, 10, [false, false]);
      await enterSlot(f.election, s + 2n);
      expect(await f.blocks.isExpired(0n)).to.be.false;
      await expect(f.blocks.isExpired(1n)).to.be.revertedWithCustomError(f.blocks, "UnknownBlock").withArgs(1n);
    });
  });

  describe("reportMissedSlot", () => {
    it("jails and slashes the producer of a missed slot while a record was waiting (reported by a member or the operator, with the record's fields)", async () => {
      const f = await loadPinned(electedFixture);
      const s = f.first + 1n;
      const p = owner(f, s);
      await enterSlot(f.election, s + 1n);
      // The ten twin data records of the fixture were appended before the election: record 0 was waiting.
      expect(await f.blocks.packedAtSlotStart(s)).to.equal(0n);
      expect((await recordFields(f.recordLog, 0n)).appendedAt).to.be.below(await slotStart(f.election, s));
      const balance = await f.stake.bondedOf(p.address);
      const amount = (balance * SLASH_BPS) / 10_000n;
      const reporter = f.nonProducers[0];
      await expect(report(f, reporter, s))
        .to.emit(f.blocks, "SlotMissed")
        .withArgs(s, p.address, reporter.address)
        .and.to.emit(f.blocks, "ProducerSlashed")
        .withArgs(p.address, amount)
        .and.to.emit(f.election, "ProducerJailed")
        .withArgs(p.address, f.epoch + BigInt(PARAMS.jailEpochs));
      expect(await f.stake.bondedOf(p.address)).to.equal(balance - amount);
      expect(await f.election.isJailed(p.address)).to.be.true;

      const s2 = s + 1n;
      const p2 = owner(f, s2);
      await enterSlot(f.election, s2 + 1n);
      const amount2 = ((await f.stake.bondedOf(p2.address)) * SLASH_BPS) / 10_000n;
      await expect(report(f, f.mbs, s2))
        .to.emit(f.blocks, "SlotMissed")
        .withArgs(s2, p2.address, f.mbs.address)
        .and.to.emit(f.blocks, "ProducerSlashed")
        .withArgs(p2.address, amount2);
    });

    it("(attack) cannot jail and slash the producer of a slot with nothing to pack, all records being in final blocks: NothingWaiting, for the MBS and every BS", async () => {
      // The attack: the MBS, or a coalition of BSs, reports an idle slot to jail and slash its producer.
      const f = await loadPinned(electedFixture);
      await blockIn(f, f.first + 1n, 10, [true]); // every record in a final block
      const s = f.first + 2n;
      await enterSlot(f.election, s + 1n);
      const start = await slotStart(f.election, s);
      expect(await f.blocks.packedAtSlotStart(s)).to.equal(10n);
      expect(await f.recordLog.length()).to.equal(10n);
      expect(await missedSlotEvidence(f, s)).to.equal(undefined);
      const before = await holdings(f);
      const last = await recordFields(f.recordLog, 9n); // a real record's true fields, but an already packed one
      const forged: RecordFields = { kind: Kind.TrainingModel, payloadHash: ethers.id("a record that is not on chain"), appendedAt: start - 1n };
      for (const who of [f.mbs, ...f.five]) {
        for (const fields of [last, forged]) {
          await expect(reportWith(f, who, s, fields)).to.be.revertedWithCustomError(f.blocks, "NothingWaiting").withArgs(s, 10n, start);
        }
      }
      // A record appended after the slot (now) does not make it reportable: it was not waiting when the slot began.
      await f.recordLog.grantRole(ROLES.WRITER, f.mbs.address);
      await f.recordLog.append(Number(Kind.TrainingModel), ethers.id("late record"));
      const late = await recordFields(f.recordLog, 10n);
      expect(late.appendedAt).to.be.above(start);
      await expect(reportWith(f, f.mbs, s, late)).to.be.revertedWithCustomError(f.blocks, "NothingWaiting").withArgs(s, 10n, start);
      // ... nor a backdated claim of it (which is not its leaf).
      await expect(reportWith(f, f.mbs, s, { ...late, appendedAt: start - 1n }))
        .to.be.revertedWithCustomError(f.blocks, "RecordProofMismatch")
        .withArgs(10n);
      expect(await missedSlotEvidence(f, s)).to.equal(undefined);
      await expectNobodyPunished(f, before);
    });

    it("(attack) cannot jail and slash the producer of a slot when the log is empty: NothingWaiting for forged fields", async () => {
      const f = await loadPinned(noRecordsFixture);
      const s = f.first + 1n;
      await enterSlot(f.election, s + 1n);
      const start = await slotStart(f.election, s);
      expect(await f.recordLog.length()).to.equal(0n);
      expect(await f.blocks.packedAtSlotStart(s)).to.equal(0n);
      expect(await missedSlotEvidence(f, s)).to.equal(undefined);
      const before = await holdings(f);
      for (const who of [f.mbs, ...f.bss]) {
        for (const kind of [Kind.TwinModel, Kind.TwinData, Kind.TrainingModel]) {
          await expect(reportWith(f, who, s, { kind, payloadHash: ethers.id("fabricated"), appendedAt: start - 1n }))
            .to.be.revertedWithCustomError(f.blocks, "NothingWaiting")
            .withArgs(s, 0n, start);
        }
      }
      await expectNobodyPunished(f, before);
    });

    it("(attack) a record appended during the slot, not before: NothingWaiting (even at the slot's first second, or backdated: RecordProofMismatch); the next producer that sits it out is punished", async () => {
      const f = await loadPinned(noRecordsFixture);
      const s = f.first + 1n;
      const start = await slotStart(f.election, s);
      await enterSlot(f.election, s - 1n, 5n);
      await time.setNextBlockTimestamp(start); // appended in the first block of slot s
      await f.recordLog.append(Number(Kind.TwinData), ethers.id("record 0"));
      await enterSlot(f.election, s, 6n);
      await f.recordLog.append(Number(Kind.TrainingModel), ethers.id("record 1")); // mid-slot
      const r0 = await recordFields(f.recordLog, 0n);
      const r1 = await recordFields(f.recordLog, 1n);
      expect(r0.appendedAt).to.equal(start);
      expect(r1.appendedAt).to.be.above(start);
      expect(r1.appendedAt).to.be.below(await f.election.slotEnd(s));
      await enterSlot(f.election, s + 2n);
      expect(await f.blocks.packedAtSlotStart(s)).to.equal(0n);
      expect(await missedSlotEvidence(f, s)).to.equal(undefined);
      const before = await holdings(f);
      await expect(reportWith(f, f.mbs, s, r0)).to.be.revertedWithCustomError(f.blocks, "NothingWaiting").withArgs(s, 0n, start);
      await expect(reportWith(f, f.bss[0], s, r1))
        .to.be.revertedWithCustomError(f.blocks, "NothingWaiting")
        .withArgs(s, 0n, start);
      // A reporter claiming the record was appended a second before the slot: not the record's leaf.
      await expect(reportWith(f, f.mbs, s, { ...r0, appendedAt: start - 1n }))
        .to.be.revertedWithCustomError(f.blocks, "RecordProofMismatch")
        .withArgs(0n);
      await expectNobodyPunished(f, before);

      // Slot s + 1 began with record 0 waiting: its producer, which proposed nothing (censoring it), is punished.
      const next = s + 1n;
      const p = owner(f, next);
      expect(await f.blocks.packedAtSlotStart(next)).to.equal(0n);
      expect(await missedSlotEvidence(f, next)).to.deep.equal(r0);
      const amount = ((await f.stake.bondedOf(p.address)) * SLASH_BPS) / 10_000n;
      await expect(reportWith(f, f.bss[0], next, r0))
        .to.emit(f.blocks, "SlotMissed")
        .withArgs(next, p.address, f.bss[0].address)
        .and.to.emit(f.blocks, "ProducerSlashed")
        .withArgs(p.address, amount)
        .and.to.emit(f.election, "ProducerJailed");
      expect(await f.election.isJailed(p.address)).to.equal(true);
    });

    it("a record appended in the last second before the slot began was waiting: the report succeeds", async () => {
      const f = await loadPinned(noRecordsFixture);
      const s = f.first + 1n;
      const start = await slotStart(f.election, s);
      await enterSlot(f.election, s - 1n, 5n);
      await time.setNextBlockTimestamp(start - 1n);
      await f.recordLog.append(Number(Kind.TwinModel), ethers.id("just in time"));
      await enterSlot(f.election, s + 1n);
      const r0 = await recordFields(f.recordLog, 0n);
      expect(r0.appendedAt).to.equal(start - 1n);
      expect(await missedSlotEvidence(f, s)).to.deep.equal(r0);
      await expect(reportWith(f, f.mbs, s, r0)).to.emit(f.blocks, "SlotMissed").withArgs(s, owner(f, s).address, f.mbs.address);
    });

    it("(attack) fields that are not the waiting record's leaf: RecordProofMismatch (payload, appendedAt, kind, another record's); a claimed appendedAt from the slot's start: NothingWaiting", async () => {
      const f = await loadPinned(electedFixture);
      const s = f.first + 1n;
      await enterSlot(f.election, s + 1n);
      const start = await slotStart(f.election, s);
      const r0 = await recordFields(f.recordLog, 0n);
      expect(r0.kind).to.equal(Kind.TwinData);
      const before = await holdings(f);
      const wrong: RecordFields[] = [
        { ...r0, payloadHash: ethers.id("another payload") },
        { ...r0, payloadHash: ethers.ZeroHash },
        { ...r0, appendedAt: r0.appendedAt - 1n },
        { ...r0, appendedAt: r0.appendedAt + 1n },
        { ...r0, appendedAt: 0n },
        { ...r0, kind: Kind.TwinModel },
        { ...r0, kind: Kind.TrainingModel },
        await recordFields(f.recordLog, 1n), // a real record, but not the waiting one
      ];
      for (const fields of wrong) {
        expect(fields.appendedAt).to.be.below(start);
        await expect(reportWith(f, f.mbs, s, fields)).to.be.revertedWithCustomError(f.blocks, "RecordProofMismatch").withArgs(0n);
      }
      for (const appendedAt of [start, start + 1n, 2n ** 64n - 1n]) {
        await expect(reportWith(f, f.mbs, s, { ...r0, appendedAt }))
          .to.be.revertedWithCustomError(f.blocks, "NothingWaiting")
          .withArgs(s, 0n, start);
      }
      // A kind outside the enum does not even decode.
      await expect(f.blocks.connect(f.mbs).reportMissedSlot(s, 3, r0.payloadHash, r0.appendedAt)).to.be.revertedWithoutReason();
      await expectNobodyPunished(f, before);
      // The true fields succeed.
      await expect(reportWith(f, f.mbs, s, r0)).to.emit(f.blocks, "SlotMissed").withArgs(s, owner(f, s).address, f.mbs.address);
    });

    it("the last earlier block was rejected: its records were still waiting, reported with its fromRecord's fields", async () => {
      const f = await loadPinned(electedFixture);
      await blockIn(f, f.first + 1n, 4, [true]); // final: records 0..3
      await blockIn(f, f.first + 2n, 10, [false, false]); // rejected: records 4..9 waiting again
      const s = f.first + 3n;
      await enterSlot(f.election, s + 1n);
      expect(await f.blocks.packedUpTo()).to.equal(4n);
      expect(await f.blocks.packedAtSlotStart(s)).to.equal(4n);
      const r4 = await recordFields(f.recordLog, 4n);
      expect(await missedSlotEvidence(f, s)).to.deep.equal(r4);
      for (const other of [0n, 3n, 5n]) {
        await expect(report(f, f.mbs, s, other)).to.be.revertedWithCustomError(f.blocks, "RecordProofMismatch").withArgs(4n);
      }
      const p = owner(f, s);
      const amount = ((await f.stake.bondedOf(p.address)) * SLASH_BPS) / 10_000n;
      await expect(reportWith(f, f.nonProducers[0], s, r4))
        .to.emit(f.blocks, "SlotMissed")
        .withArgs(s, p.address, f.nonProducers[0].address)
        .and.to.emit(f.blocks, "ProducerSlashed")
        .withArgs(p.address, amount);
      expect(await f.election.isJailed(p.address)).to.equal(true);
    });

    it("the last earlier block expired: its records were still waiting, reported with its fromRecord's fields", async () => {
      const f = await loadPinned(electedFixture);
      await blockIn(f, f.first + 1n, 4, [true]); // final: records 0..3
      await blockIn(f, f.first + 2n, 10); // pending, expires at the end of its slot
      const s = f.first + 3n;
      await enterSlot(f.election, s + 1n);
      expect(await f.blocks.isExpired(1n)).to.equal(true);
      expect(await f.blocks.packedAtSlotStart(s)).to.equal(4n);
      await expect(report(f, f.mbs, f.first + 2n, 4n)).to.be.revertedWithCustomError(f.blocks, "SlotNotMissed").withArgs(f.first + 2n);
      await expect(report(f, f.mbs, s, 0n)).to.be.revertedWithCustomError(f.blocks, "RecordProofMismatch").withArgs(4n);
      expect(await missedSlotEvidence(f, s)).to.deep.equal(await recordFields(f.recordLog, 4n));
      await expect(report(f, f.mbs, s, 4n)).to.emit(f.blocks, "SlotMissed").withArgs(s, owner(f, s).address, f.mbs.address);
    });

    it("packedAtSlotStart: 0 before any block; the last earlier block's toRecord if final, its fromRecord if rejected or expired; blocks of the slot itself or later do not count", async () => {
      const f = await loadPinned(electedFixture);
      const s = f.first + 1n;
      const at = async (slots: bigint[]) => Promise.all(slots.map((x) => f.blocks.packedAtSlotStart(x)));
      expect(await at([0n, s, s + 5n, s + 1000n])).to.deep.equal([0n, 0n, 0n, 0n]);
      await blockIn(f, s, 4, [true]); // block 0: final [0, 4)
      expect(await at([s - 1n, s, s + 1n, s + 1000n])).to.deep.equal([0n, 0n, 4n, 4n]);
      await blockIn(f, s + 1n, 10, [false, false]); // block 1: rejected [4, 10)
      expect(await at([s, s + 1n, s + 2n])).to.deep.equal([0n, 4n, 4n]);
      await blockIn(f, s + 2n, 7); // block 2: pending [4, 7), expires
      await enterSlot(f.election, s + 3n);
      expect(await at([s + 2n, s + 3n])).to.deep.equal([4n, 4n]);
      await propose(f, s + 3n, 7); // block 3: final [4, 7)
      await f.blocks.connect(f.producers.filter((x) => x !== owner(f, s + 3n))[0]).validateBlock(3n, true);
      // Slots skipped between blocks take the last block before them.
      await blockIn(f, s + 6n, 7, [true]); // block 4: final, empty [7, 7)
      expect(await at([0n, s, s + 1n, s + 2n, s + 3n, s + 4n, s + 5n, s + 6n, s + 7n])).to.deep.equal([0n, 0n, 4n, 4n, 4n, 7n, 7n, 7n, 7n]);
      expect(await f.blocks.packedUpTo()).to.equal(7n);
      // The views agree with the events: the record at packedAtSlotStart rebuilds its stored leaf from its fields.
      const r = await recordFields(f.recordLog, await f.blocks.packedAtSlotStart(s + 7n));
      expect(recordLeaf(7n, r.kind, r.payloadHash, r.appendedAt)).to.equal(await f.recordLog.leafAt(7n));
    });

    it("missedSlotEvidence (src/agents/dpos.ts): the waiting record's fields from its RecordAppended event, or undefined when nothing was waiting", async () => {
      const f = await loadPinned(electedFixture);
      await f.recordLog.grantRole(ROLES.WRITER, f.mbs.address);
      const s = f.first + 1n;
      await enterSlot(f.election, s + 1n);
      // Nothing proposed yet: record 0 was waiting.
      const ev = await missedSlotEvidence(f, s);
      expect(ev).to.deep.equal(await recordFields(f.recordLog, 0n));
      expect(ev!.kind).to.equal(Kind.TwinData);
      expect(recordLeaf(0n, ev!.kind, ev!.payloadHash, ev!.appendedAt)).to.equal(f.leaves[0]);
      await expect(reportWith(f, f.mbs, s, ev!)).to.emit(f.blocks, "SlotMissed");
      // Every record final: nothing waits for the next slots.
      await propose(f, s + 1n, 10);
      await f.blocks.connect(f.producers.filter((x) => x !== owner(f, s + 1n) && x !== owner(f, s))[0]).validateBlock(0n, true);
      await enterSlot(f.election, s + 3n);
      expect(await missedSlotEvidence(f, s + 2n)).to.equal(undefined);
      // A record appended during slot s + 3 was not waiting at its start, but was at the start of s + 4.
      await f.recordLog.append(Number(Kind.TwinModel), ethers.id("new record"));
      await enterSlot(f.election, s + 5n);
      expect(await missedSlotEvidence(f, s + 3n)).to.equal(undefined);
      const r10 = await recordFields(f.recordLog, 10n);
      expect(r10).to.deep.equal({ kind: Kind.TwinModel, payloadHash: ethers.id("new record"), appendedAt: r10.appendedAt });
      expect(r10.appendedAt).to.be.at.least(await slotStart(f.election, s + 3n));
      expect(await missedSlotEvidence(f, s + 4n)).to.deep.equal(r10);
      // Its evidence is what the chain takes (s + 4 is owned by a producer not jailed: the one of s + 1).
      const p = owner(f, s + 4n);
      expect(p).to.equal(owner(f, s + 1n));
      await expect(reportWith(f, f.mbs, s + 4n, (await missedSlotEvidence(f, s + 4n))!))
        .to.emit(f.blocks, "SlotMissed")
        .withArgs(s + 4n, p.address, f.mbs.address);
    });

    it("reverts ProducerNotMember when the slot's producer was removed (it could not propose)", async () => {
      const f = await loadPinned(electedFixture);
      const s = f.first + 1n;
      const p = owner(f, s);
      await f.registry.connect(f.mbs).remove(p.address);
      await enterSlot(f.election, s + 1n);
      const balance = await f.stake.bondedOf(p.address);
      await expect(report(f, f.mbs, s))
        .to.be.revertedWithCustomError(f.blocks, "ProducerNotMember")
        .withArgs(p.address);
      expect(await f.stake.bondedOf(p.address)).to.equal(balance);
      expect(await f.election.isJailed(p.address)).to.be.false;
    });

    it("reverts SlotNotOver for the current and future slots", async () => {
      const f = await loadPinned(electedFixture);
      const s = f.first + 2n;
      await enterSlot(f.election, s);
      for (const slot of [s, s + 1n]) {
        await expect(report(f, f.mbs, slot))
          .to.be.revertedWithCustomError(f.blocks, "SlotNotOver")
          .withArgs(slot);
      }
    });

    it("reverts SlotNotMissed for slots with a final, rejected or pending block", async () => {
      const f = await loadPinned(electedFixture);
      const s = f.first + 1n;
      await blockIn(f, s, 2, [true]);
      await blockIn(f, s + 1n, 4, [false, false]);
      await blockIn(f, s + 2n, 4);
      await enterSlot(f.election, s + 3n);
      for (const slot of [s, s + 1n, s + 2n]) {
        await expect(report(f, f.mbs, slot))
          .to.be.revertedWithCustomError(f.blocks, "SlotNotMissed")
          .withArgs(slot);
      }
    });

    it("reverts AlreadyReported for a second report of the same slot", async () => {
      const f = await loadPinned(electedFixture);
      const s = f.first + 1n;
      await enterSlot(f.election, s + 1n);
      await report(f, f.mbs, s);
      await expect(report(f, f.five[0], s))
        .to.be.revertedWithCustomError(f.blocks, "AlreadyReported")
        .withArgs(s);
    });

    it("reverts ProducerIsJailed when the producer is already jailed (by an earlier report)", async () => {
      const f = await loadPinned(electedFixture);
      const s = f.first + 1n;
      const p = owner(f, s); // jailed for a missed slot
      const q = owner(f, s + 1n); // jailed for a missed slot
      await enterSlot(f.election, s + 2n);
      await report(f, f.mbs, s);
      await report(f, f.mbs, s + 1n);
      // Neither can propose in its next slot (jailed), and those absences are not punished again.
      await enterSlot(f.election, s + 5n);
      expect(owner(f, s + 3n)).to.equal(p);
      expect(owner(f, s + 4n)).to.equal(q);
      await expect(report(f, f.mbs, s + 3n))
        .to.be.revertedWithCustomError(f.blocks, "ProducerIsJailed")
        .withArgs(p.address);
      await expect(report(f, f.mbs, s + 4n))
        .to.be.revertedWithCustomError(f.blocks, "ProducerIsJailed")
        .withArgs(q.address);
    });

    it("slashes a producer that unbonded everything before the report, from its unbonding queue (attack: slashing that misses)", async () => {
      const f = await loadPinned(electedFixture);
      const s = f.first + 1n;
      const p = owner(f, s);
      await enterSlot(f.election, s);
      const bond = await f.stake.bondedOf(p.address);
      await f.stake.connect(p).unbond(bond);
      expect(await f.stake.bondedOf(p.address)).to.equal(0n);
      await enterSlot(f.election, s + 1n);
      const supply = await f.coin.totalSupply();
      const amount = (bond * SLASH_BPS) / 10_000n;
      await expect(report(f, f.mbs, s))
        .to.emit(f.blocks, "ProducerSlashed")
        .withArgs(p.address, amount)
        .and.to.emit(f.election, "ProducerJailed");
      expect(await f.stake.unbondingOf(p.address)).to.equal(bond - amount);
      expect(await f.coin.totalSupply()).to.equal(supply - amount);
      expect(await f.election.isJailed(p.address)).to.be.true;
    });

    it("slashes nothing (but still jails) a producer without stake", async () => {
      const f = await loadPinned(electedFixture);
      const s = f.first + 1n;
      const p = owner(f, s);
      await enterSlot(f.election, s);
      await f.stake.grantRole(ROLES.PROTOCOL, f.mbs.address); // the test admin (the core module's deployer)
      await f.stake.slash(p.address, 10_000);
      await enterSlot(f.election, s + 1n);
      const supply = await f.coin.totalSupply();
      await expect(report(f, f.mbs, s))
        .to.emit(f.blocks, "ProducerSlashed")
        .withArgs(p.address, 0n)
        .and.to.emit(f.election, "ProducerJailed");
      expect(await f.coin.totalSupply()).to.equal(supply);
      expect(await f.election.isJailed(p.address)).to.be.true;
    });

    it("reverts the election's NoProducers for a slot of an epoch without an election", async () => {
      const f = await loadPinned(electedFixture);
      await expect(report(f, f.mbs, f.first - 1n))
        .to.be.revertedWithCustomError(f.election, "NoProducers")
        .withArgs(f.epoch - 1n);
    });

    it("does not punish producers for slots that passed before a late election", async () => {
      const p = await loadPinned(deployWithFiveBssWithTestAdmin);
      for (const bs of p.five) await p.election.connect(bs).registerCandidate();
      for (const bs of p.five) await p.election.connect(bs).vote([bs.address]);
      const epoch = (await p.election.currentEpoch()) + 1n;
      const first = epoch * 10n;
      await enterSlot(p.election, first + 4n, 2n);
      await p.election.elect();
      await enterSlot(p.election, first + 5n);
      for (let s = first; s < first + 4n; s++) {
        await expect(report(p, p.mbs, s))
          .to.be.revertedWithCustomError(p.election, "NoProducers")
          .withArgs(epoch);
      }
      // The slot in which the election happened is the producers' first.
      const producer = await p.election.producerOfSlot(first + 4n);
      await expect(report(p, p.mbs, first + 4n))
        .to.emit(p.blocks, "SlotMissed")
        .withArgs(first + 4n, producer, p.mbs.address);
    });

    it("with jailEpochs = 1: not punished twice within the jail epoch, punishable again once re-elected", async () => {
      const d = await loadPinned(oneEpochJailFixture);
      const reportAt = (slot: bigint) => report(d, d.mbs, slot); // record 0, appended before the election, is waiting
      const s = d.first + 1n;
      const p = await d.election.producerOfSlot(s);
      await enterSlot(d.election, s + 1n);
      await expect(reportAt(s)).to.emit(d.election, "ProducerJailed").withArgs(p, d.epoch + 1n);
      await enterSlot(d.election, s + 4n);
      expect(await d.election.producerOfSlot(s + 3n)).to.equal(p);
      await expect(reportAt(s + 3n)).to.be.revertedWithCustomError(d.blocks, "ProducerIsJailed").withArgs(p);

      // Free again in the next epoch (jailedUntil = that epoch): re-elected, and a new absence is punished.
      const next = d.epoch + 1n;
      await enterSlot(d.election, next * 10n);
      await d.election.elect();
      expect(await d.election.jailedUntil(p)).to.equal(next);
      expect(await d.election.producerPosition(next, p)).to.not.equal(0n);
      let missed = next * 10n;
      while ((await d.election.producerOfSlot(missed)) !== p) missed++;
      await enterSlot(d.election, missed + 1n);
      await expect(reportAt(missed))
        .to.emit(d.blocks, "SlotMissed")
        .withArgs(missed, p, d.mbs.address)
        .and.to.emit(d.election, "ProducerJailed")
        .withArgs(p, next + 1n);
    });

    it("reverts NotMember for a caller that is neither a member nor the operator", async () => {
      const f = await loadPinned(electedFixture);
      await enterSlot(f.election, f.first + 2n);
      await expect(report(f, f.outsider, f.first + 1n))
        .to.be.revertedWithCustomError(f.blocks, "NotMember")
        .withArgs(f.outsider.address);
    });
  });

  describe("isRecordInBlock", () => {
    it("proves every record of final blocks with proofs from src/chain/merkle.ts", async () => {
      const f = await loadPinned(electedFixture);
      const s = f.first + 1n;
      await blockIn(f, s, 4, [true]);
      await blockIn(f, s + 1n, 10, [true]);
      for (const [id, from, to] of [
        [0n, 0, 4],
        [1n, 4, 10],
      ] as const) {
        const b = await f.blocks.getBlock(id);
        expect(b.root).to.equal(rootOf(f, from, to));
        for (const [i, proof] of proofsFor(f, from, to).entries()) {
          expect(await f.blocks.isRecordInBlock(id, BigInt(from + i), proof)).to.be.true;
        }
      }
    });

    it("is false outside the block's interval, for a wrong proof and for a wrong record", async () => {
      const f = await loadPinned(electedFixture);
      const s = f.first + 1n;
      await blockIn(f, s, 4, [true]);
      await blockIn(f, s + 1n, 10, [true]);
      const p0 = proofsFor(f, 0, 4);
      const p1 = proofsFor(f, 4, 10);
      expect(await f.blocks.isRecordInBlock(1n, 3n, p0[3])).to.be.false; // below fromRecord
      expect(await f.blocks.isRecordInBlock(0n, 4n, p1[0])).to.be.false; // at toRecord
      expect(await f.blocks.isRecordInBlock(1n, 100n, p1[0])).to.be.false; // past the log
      expect(await f.blocks.isRecordInBlock(1n, 5n, p1[0])).to.be.false; // proof of another record
      expect(await f.blocks.isRecordInBlock(1n, 5n, [])).to.be.false;
      const tampered = [...p1[1]];
      tampered[0] = ethers.id("tampered");
      expect(await f.blocks.isRecordInBlock(1n, 5n, tampered)).to.be.false;
      expect(await f.blocks.isRecordInBlock(1n, 5n, p1[1])).to.be.true;
    });

    it("checks the interval: a record outside the block's interval is not in it", async () => {
      const f = await loadPinned(electedFixture);
      const s = f.first + 1n;
      await blockIn(f, s, 4, [true]);
      await blockIn(f, s + 1n, 10, [true]);
      const proofIn = (from: number, to: number, i: number) => merkleProof(f.leaves.slice(from, to), i - from);
      expect(await f.blocks.isRecordInBlock(0n, 3n, proofIn(0, 4, 3))).to.be.true;
      expect(await f.blocks.isRecordInBlock(0n, 4n, proofIn(4, 10, 4))).to.be.false; // at toRecord
      expect(await f.blocks.isRecordInBlock(1n, 3n, proofIn(0, 4, 3))).to.be.false; // below fromRecord
      expect(await f.blocks.isRecordInBlock(1n, 4n, proofIn(4, 10, 4))).to.be.true;
    });

    it("is false for pending and rejected blocks even with a valid proof", async () => {
      const f = await loadPinned(electedFixture);
      const s = f.first + 1n;
      await blockIn(f, s, 10, [false, false]);
      const proofs = proofsFor(f, 0, 10);
      expect(await f.blocks.isRecordInBlock(0n, 2n, proofs[2])).to.be.false;
      await blockIn(f, s + 1n, 10);
      expect(await f.blocks.isRecordInBlock(1n, 2n, proofs[2])).to.be.false;
      await f.blocks.connect(f.producers.filter((x) => x !== owner(f, s + 1n))[0]).validateBlock(1n, true);
      expect(await f.blocks.isRecordInBlock(1n, 2n, proofs[2])).to.be.true;
    });

    it("reverts UnknownBlock for an unknown block", async () => {
      const f = await loadPinned(electedFixture);
      await expect(f.blocks.isRecordInBlock(0n, 0n, [])).to.be.revertedWithCustomError(f.blocks, "UnknownBlock").withArgs(0n);
    });
  });

  describe("views", () => {
    it("getBlock reverts UnknownBlock past the last block; counts follow proposals and finality", async () => {
      const f = await loadPinned(electedFixture);
      await expect(f.blocks.getBlock(0n)).to.be.revertedWithCustomError(f.blocks, "UnknownBlock").withArgs(0n);
      const s = f.first + 1n;
      await blockIn(f, s, 3, [true]);
      await blockIn(f, s + 1n, 5);
      expect(await f.blocks.blockCount()).to.equal(2n);
      expect(await f.blocks.finalBlockCount()).to.equal(1n);
      expect((await f.blocks.getBlock(1n)).fromRecord).to.equal(3n);
      await expect(f.blocks.getBlock(2n)).to.be.revertedWithCustomError(f.blocks, "UnknownBlock").withArgs(2n);
      expect(await f.blocks.blockOfSlot(s)).to.deep.equal([true, 0n]);
      expect(await f.blocks.blockOfSlot(s + 1n)).to.deep.equal([true, 1n]);
      expect(await f.blocks.blockOfSlot(s + 2n)).to.deep.equal([false, 0n]);
    });
  });
});
