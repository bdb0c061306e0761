import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { ZeroAddress, ZeroHash, concat, getBytes, hexlify, keccak256, recoverAddress, solidityPacked } from "ethers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { CONSENT_BYTES, CONSENT_TYPES, moveDigest, packConsents, signMove } from "../../src/chain/consent";
import { commitAction, consentsFor, deployWithFiveBssWithTestAdmin, device, domainOf, fakeCid, moveConsent, PARAMS, recordTwinData } from "../fixtures";
import { decodeAction, decodeRawAction, encodeAction, encodeRawAction, TAU_SCALE } from "../../src/chain/actionCodec";
import { ROLES } from "../../src/chain/roles";
import { AssociationLedger__factory, type AssociationLedger } from "../../typechain-types";

const C = PARAMS.subchannels; // 10
const B_MIN = PARAMS.minBatchSize; // 16
const B_MAX = PARAMS.maxBatchSize; // 128

/** Encoded action (hex) from [twinId, batchSize] pairs and per-subchannel fractions, via the off-chain codec. */
function action(twins: [number, number][], tau: number[]) {
  const enc = encodeAction({ twins: twins.map(([twinId, batchSize]) => ({ twinId, batchSize })), tau });
  return { twins: hexlify(enc.twins), tau: hexlify(enc.tau) };
}

/** Fractions for `c` subchannels: zero except the given ones. */
function fractions(set: Record<number, number> = {}, c = C): number[] {
  return Array.from({ length: c }, (_, i) => set[i] ?? 0);
}

/** Hand-built `twins` bytes (no checks). */
function rawTwins(entries: [number, number][]): string {
  if (entries.length === 0) return "0x";
  return solidityPacked(
    entries.flatMap(() => ["uint32", "uint16"]),
    entries.flat(),
  );
}

/** Hand-built `tau` bytes from raw uint16 shares (no checks). */
function rawTau(shares: number[]): string {
  if (shares.length === 0) return "0x";
  return solidityPacked(
    shares.map(() => "uint16"),
    shares,
  );
}

// Fixtures build on each other through nested loadFixture calls: a derived fixture restores its parent's snapshot
// and adds its own steps, so each step runs once and not once per derived fixture.
/** Five BSs (bs i hosts twins 2i+1 and 2i+2 with 100*(i+1) samples each) and FL round 1 = slot 1 open. The core
 * module (the deployer keeps its admin role to let test ledgers move twins). */
async function openSlotFixture() {
  const p = await loadFixture(deployWithFiveBssWithTestAdmin);
  const deadline = BigInt(await time.latest()) + 3600n;
  await p.rounds.openRound(fakeCid("global-0"), deadline);
  return { ...p, deadline, slot: 1n };
}

type Fx = Awaited<ReturnType<typeof openSlotFixture>>;

/** Settle and finalize the open round and open the next one; returns the new round's deadline. */
async function nextSlot(p: Fx): Promise<bigint> {
  const round = await p.rounds.currentRound();
  const r = await p.rounds.getRound(round);
  await time.increaseTo(r.revealUntil + 1n);
  await p.rounds.settleRound(round);
  await p.rounds.recordGlobalModel(round, r.globalCid, []); // nothing passed: the global model stays
  const deadline = BigInt(await time.latest()) + 3600n;
  await p.rounds.openRound(r.globalCid, deadline); // from the recorded global model
  return deadline;
}

/** A ledger with `c` subchannels (batch sizes 1..65535) on the same protocol, allowed to move twins. */
async function deployLedger(p: Fx, c: number): Promise<AssociationLedger> {
  const ledger = await new AssociationLedger__factory(p.mbs).deploy(p.registry, p.twins, p.rounds, c, 1, 0xffff);
  await p.twins.grantRole(ROLES.ASSOCIATOR, await ledger.getAddress());
  return ledger;
}

async function wideFixture() {
  const p = await loadFixture(openSlotFixture);
  return { ...p, wide: await deployLedger(p, 40) };
}

async function fullWidthFixture() {
  const p = await loadFixture(openSlotFixture);
  return { ...p, full: await deployLedger(p, 64) };
}

describe("AssociationLedger", () => {
  describe("constructor and constants", () => {
    it("stores its parameters", async () => {
      const { ledger, registry, twins, rounds } = await loadFixture(openSlotFixture);
      expect(await ledger.registry()).to.equal(await registry.getAddress());
      expect(await ledger.twinRegistry()).to.equal(await twins.getAddress());
      expect(await ledger.rounds()).to.equal(await rounds.getAddress());
      expect(await ledger.subchannels()).to.equal(BigInt(C));
      expect(await ledger.minBatchSize()).to.equal(BigInt(B_MIN));
      expect(await ledger.maxBatchSize()).to.equal(BigInt(B_MAX));
      expect(await ledger.TAU_SCALE()).to.equal(BigInt(TAU_SCALE));
      expect(await ledger.MAX_TWINS_PER_ACTION()).to.equal(256n);
      expect(await ledger.MAX_SUBCHANNELS()).to.equal(64n);
      expect(await ledger.TWIN_ENTRY_BYTES()).to.equal(6n);
      expect(await ledger.CONSENT_BYTES()).to.equal(65n);
      expect(CONSENT_BYTES).to.equal(65);
    });

    it("reverts with ZeroAddress for a zero registry, twin registry or rounds", async () => {
      const { registry, twins, rounds, mbs } = await loadFixture(openSlotFixture);
      const f = new AssociationLedger__factory(mbs);
      await expect(f.deploy(ZeroAddress, twins, rounds, 10, 1, 2)).to.be.revertedWithCustomError(f, "ZeroAddress");
      await expect(f.deploy(registry, ZeroAddress, rounds, 10, 1, 2)).to.be.revertedWithCustomError(f, "ZeroAddress");
      await expect(f.deploy(registry, twins, ZeroAddress, 10, 1, 2)).to.be.revertedWithCustomError(f, "ZeroAddress");
    });

    it("reverts with InvalidParameter for C = 0, C > 64, b_min = 0 and b_max < b_min", async () => {
      const { registry, twins, rounds, mbs } = await loadFixture(openSlotFixture);
      const f = new AssociationLedger__factory(mbs);
      await expect(f.deploy(registry, twins, rounds, 0, 1, 2)).to.be.revertedWithCustomError(f, "InvalidParameter");
      await expect(f.deploy(registry, twins, rounds, 65, 1, 2)).to.be.revertedWithCustomError(f, "InvalidParameter");
      await expect(f.deploy(registry, twins, rounds, 10, 0, 2)).to.be.revertedWithCustomError(f, "InvalidParameter");
      await expect(f.deploy(registry, twins, rounds, 10, 5, 4)).to.be.revertedWithCustomError(f, "InvalidParameter");
    });

    it("accepts the boundaries C = 1, C = 64 and b_min = b_max", async () => {
      const { registry, twins, rounds, mbs } = await loadFixture(openSlotFixture);
      const f = new AssociationLedger__factory(mbs);
      const one = await f.deploy(registry, twins, rounds, 1, 7, 7);
      expect(await one.subchannels()).to.equal(1n);
      expect(await one.minBatchSize()).to.equal(7n);
      expect(await one.maxBatchSize()).to.equal(7n);
      const max = await f.deploy(registry, twins, rounds, 64, 1, 0xffff);
      expect(await max.subchannels()).to.equal(64n);
    });
  });

  describe("proposeAction", () => {
    it("records the raw action once per BS and slot: ActionProposed with the bytes, hasProposed", async () => {
      const { ledger, bss, slot } = await loadFixture(openSlotFixture);
      const raw = hexlify(encodeRawAction([0.25, 0.5, 1]));
      expect(await ledger.hasProposed(slot, bss[0].address)).to.equal(false);
      await expect(ledger.connect(bss[0]).proposeAction(slot, raw)).to.emit(ledger, "ActionProposed").withArgs(slot, bss[0].address, raw);
      expect(await ledger.hasProposed(slot, bss[0].address)).to.equal(true);
      expect(await ledger.hasProposed(slot, bss[1].address)).to.equal(false);
      await expect(ledger.connect(bss[0]).proposeAction(slot, raw))
        .to.be.revertedWithCustomError(ledger, "ActionAlreadyProposed")
        .withArgs(slot, bss[0].address);
      expect(await ledger.RAW_ACTION_ENTRIES()).to.equal(3n);
    });

    it("reverts with MalformedRawAction for a wrong length or an entry above 10000", async () => {
      const { ledger, bss, slot } = await loadFixture(openSlotFixture);
      await expect(ledger.connect(bss[0]).proposeAction(slot, "0x0001")).to.be.revertedWithCustomError(ledger, "MalformedRawAction").withArgs(2);
      await expect(ledger.connect(bss[0]).proposeAction(slot, "0x000000000000" + "00")).to.be.revertedWithCustomError(ledger, "MalformedRawAction").withArgs(7);
      await expect(ledger.connect(bss[0]).proposeAction(slot, "0x00002711" + "0000")).to.be.revertedWithCustomError(ledger, "MalformedRawAction").withArgs(6);
      await expect(ledger.connect(bss[0]).proposeAction(slot, "0x27102710" + "2710")).to.emit(ledger, "ActionProposed");
    });

    it("reverts with SlotNotOpen for another slot or after the deadline, and NotMember for outsiders", async () => {
      const { ledger, bss, slot, deadline, outsider, mbs } = await loadFixture(openSlotFixture);
      const raw = hexlify(encodeRawAction([0.5, 0.5, 0.5]));
      await expect(ledger.connect(bss[0]).proposeAction(slot + 1n, raw)).to.be.revertedWithCustomError(ledger, "SlotNotOpen").withArgs(slot + 1n);
      await expect(ledger.connect(outsider).proposeAction(slot, raw)).to.be.revertedWithCustomError(ledger, "NotMember");
      await expect(ledger.connect(mbs).proposeAction(slot, raw)).to.be.revertedWithCustomError(ledger, "NotMember");
      await time.increaseTo(deadline + 1n);
      await expect(ledger.connect(bss[0]).proposeAction(slot, raw)).to.be.revertedWithCustomError(ledger, "SlotNotOpen").withArgs(slot);
    });

    it("peers decode every BS's raw action from the events of the slot", async () => {
      const { ledger, bss, slot } = await loadFixture(openSlotFixture);
      const raws = [[0.1, 0.2, 0.3], [1, 0, 0.5], [0.33, 0.66, 0.99]];
      for (const [i, r] of raws.entries()) await ledger.connect(bss[i]).proposeAction(slot, encodeRawAction(r));
      const events = await ledger.queryFilter(ledger.filters.ActionProposed(slot));
      expect(events.map((e) => e.args.bs)).to.deep.equal(bss.slice(0, 3).map((b) => b.address));
      expect(events.map((e) => decodeRawAction(getBytes(e.args.raw)))).to.deep.equal(raws);
    });
  });

  describe("commitAction", () => {
    it("commits an action: ActionCommitted with the raw bytes, action hash and tau totals", async () => {
      const { ledger, twins, five, slot } = await loadFixture(openSlotFixture);
      const bs = five[0];
      const a = action(
        [
          [1, 32],
          [2, 64],
        ],
        fractions({ 0: 0.25, 3: 1, 9: 0.5 }),
      );
      await expect(ledger.connect(bs).commitAction(slot, a.twins, a.tau, "0x"))
        .to.emit(ledger, "ActionCommitted")
        .withArgs(slot, bs.address, a.twins, a.tau)
        .and.not.to.emit(twins, "TwinAssociated"); // its own twins: no move
      expect(await ledger.actionHash(slot, bs.address)).to.equal(keccak256(concat([a.twins, a.tau])));
      expect(await ledger.actionHash(slot, five[1].address)).to.equal(ZeroHash);
      expect(await ledger.actionHash(slot + 1n, bs.address)).to.equal(ZeroHash);
      const used = await Promise.all(Array.from({ length: C }, (_, c) => ledger.tauUsed(slot, c)));
      expect(used).to.deep.equal([2500n, 0n, 0n, 10000n, 0n, 0n, 0n, 0n, 0n, 5000n]);
      expect(await twins.hostOf(1)).to.equal(bs.address);
      expect(await twins.twinsOn(bs.address)).to.equal(2n);
    });

    it("records K_i and the listed twins' data sizes at commitment (ActionWeighed, committedAction)", async () => {
      const p = await loadFixture(openSlotFixture);
      const { ledger, five, slot } = p;
      // bs1 lists its own twin 3 (200 samples) and bs0's twin 1 (100 samples): a move brings the twin's recorded data
      const a = action([[1, 32], [3, 64]], fractions());
      expect(await ledger.committedAction(slot, five[1].address)).to.deep.equal([0n, 0n]);
      await expect(commitAction(p, five[1], slot, a.twins, a.tau))
        .to.emit(ledger, "ActionWeighed")
        .withArgs(slot, five[1].address, 2n, 300n);
      expect(await ledger.committedAction(slot, five[1].address)).to.deep.equal([2n, 300n]);
      expect(await ledger.committedAction(slot + 1n, five[1].address)).to.deep.equal([0n, 0n]);
      // later data records of the same twins do not change the committed weight
      await expect(recordTwinData(p, five[1], 1, 5000, ZeroHash, ZeroHash)).to.emit(p.twins, "TwinDataRecorded");
      expect(await ledger.committedAction(slot, five[1].address)).to.deep.equal([2n, 300n]);
    });

    it("peers rebuild the action from the event (decodeAction round trip)", async () => {
      const { ledger, five, slot } = await loadFixture(openSlotFixture);
      const original = {
        twins: [
          { twinId: 3, batchSize: B_MIN },
          { twinId: 4, batchSize: B_MAX },
        ],
        tau: fractions({ 1: 0.3333, 2: 0.0001 }),
      };
      const enc = encodeAction(original);
      const receipt = await (await ledger.connect(five[1]).commitAction(slot, enc.twins, enc.tau, "0x")).wait();
      const logs = receipt!.logs
        .map((l) => ledger.interface.parseLog(l))
        .filter((l) => l?.name === "ActionCommitted");
      expect(logs).to.have.length(1);
      const decoded = decodeAction(getBytes(logs[0]!.args.twins), getBytes(logs[0]!.args.tau));
      expect(decoded).to.deep.equal(original);
    });

    it("re-association (Definition 1) moves listed twins from their BSs to the caller, with their users' consents", async () => {
      const p = await loadFixture(openSlotFixture);
      const { twins, five, slot } = p;
      const [bs0, bs1, bs2] = five;
      const a = action(
        [
          [1, 16], // from bs0
          [4, 16], // its own
          [5, 16], // from bs2
        ],
        fractions({ 0: 0.5 }),
      );
      await expect(commitAction(p, bs1, slot, a.twins, a.tau))
        .to.emit(twins, "TwinAssociated")
        .withArgs(1n, bs0.address, bs1.address, 100n)
        .and.to.emit(twins, "TwinAssociated")
        .withArgs(5n, bs2.address, bs1.address, 300n);
      expect(await twins.hostOf(1)).to.equal(bs1.address);
      expect(await twins.hostOf(4)).to.equal(bs1.address);
      expect(await twins.hostOf(5)).to.equal(bs1.address);
      expect(await twins.twinsOn(bs0.address)).to.equal(1n);
      expect(await twins.twinsOn(bs1.address)).to.equal(4n);
      expect(await twins.twinsOn(bs2.address)).to.equal(1n);
      expect(await twins.dataOn(bs0.address)).to.equal(100n);
      expect(await twins.dataOn(bs1.address)).to.equal(2n * 200n + 100n + 300n);
      expect(await twins.dataOn(bs2.address)).to.equal(300n);
    });

    it("a twin listed by one BS's action cannot be listed by another in the same slot: TwinAlreadyClaimed", async () => {
      const p = await loadFixture(openSlotFixture);
      const { ledger, twins, five, slot } = p;
      const [bs0, bs1, bs2] = five;
      const a = action([[1, 16]], fractions());
      expect(await ledger.isClaimed(slot, 1)).to.equal(false);
      await expect(commitAction(p, bs1, slot, a.twins, a.tau))
        .to.emit(twins, "TwinAssociated")
        .withArgs(1n, bs0.address, bs1.address, 100n);
      expect(await ledger.isClaimed(slot, 1)).to.equal(true);
      expect(await ledger.isClaimed(slot, 2)).to.equal(false);
      const b = action([[1, 16], [2, 16]], fractions());
      // with its users' consents to both moves: the claim is checked, and fails, before the consent
      await expect(commitAction(p, bs2, slot, b.twins, b.tau))
        .to.be.revertedWithCustomError(ledger, "TwinAlreadyClaimed")
        .withArgs(1n, slot);
      expect(await twins.hostOf(1)).to.equal(bs1.address);
      expect(await ledger.actionHash(slot, bs2.address)).to.equal(ethers.ZeroHash);
    });

    it("enforces (18c) sum_i tau_{i,c} <= 1 across BSs: SubchannelOverallocated with the total", async () => {
      const { ledger, five, slot } = await loadFixture(openSlotFixture);
      const a0 = action([[1, 16]], fractions({ 0: 0.6, 9: 0.9999 }));
      await ledger.connect(five[0]).commitAction(slot, a0.twins, a0.tau, "0x");
      const a1 = action([[3, 16]], fractions({ 0: 0.4, 5: 1 }));
      await ledger.connect(five[1]).commitAction(slot, a1.twins, a1.tau, "0x");
      expect(await ledger.tauUsed(slot, 0)).to.equal(10000n);
      expect(await ledger.tauUsed(slot, 5)).to.equal(10000n);
      expect(await ledger.tauUsed(slot, 9)).to.equal(9999n);

      const over0 = action([[5, 16]], fractions({ 0: 0.0001 }));
      await expect(ledger.connect(five[2]).commitAction(slot, over0.twins, over0.tau, "0x"))
        .to.be.revertedWithCustomError(ledger, "SubchannelOverallocated")
        .withArgs(0n, 10001n);
      const over9 = action([[5, 16]], fractions({ 9: 0.5 }));
      await expect(ledger.connect(five[2]).commitAction(slot, over9.twins, over9.tau, "0x"))
        .to.be.revertedWithCustomError(ledger, "SubchannelOverallocated")
        .withArgs(9n, 14999n);
      // exactly filling subchannel 9 is fine
      const fill9 = action([[5, 16]], fractions({ 9: 0.0001 }));
      await expect(ledger.connect(five[2]).commitAction(slot, fill9.twins, fill9.tau, "0x")).to.emit(ledger, "ActionCommitted");
      expect(await ledger.tauUsed(slot, 9)).to.equal(10000n);
    });

    it("a reverted action leaves no trace (tau, hash, claims and twins unchanged)", async () => {
      const p = await loadFixture(openSlotFixture);
      const { ledger, twins, five, slot } = p;
      const bad = action(
        [
          [1, 16],
          [99, 16],
        ],
        fractions({ 2: 0.7 }),
      );
      // twin 1's user consents to its move, which is undone with the rest when twin 99 turns out unknown
      await expect(commitAction(p, five[3], slot, bad.twins, bad.tau))
        .to.be.revertedWithCustomError(twins, "UnknownTwin")
        .withArgs(99n);
      expect(await ledger.tauUsed(slot, 2)).to.equal(0n);
      expect(await ledger.actionHash(slot, five[3].address)).to.equal(ZeroHash);
      expect(await ledger.isClaimed(slot, 1)).to.equal(false);
      expect(await twins.hostOf(1)).to.equal(five[0].address);
    });

    it("tau totals are per slot", async () => {
      const p = await loadFixture(openSlotFixture);
      const { ledger, five } = p;
      const full = action([[1, 16]], fractions({ 0: 1 }));
      await ledger.connect(five[0]).commitAction(1n, full.twins, full.tau, "0x");
      expect(await ledger.tauUsed(1n, 0)).to.equal(10000n);
      await nextSlot(p);
      expect(await ledger.tauUsed(2n, 0)).to.equal(0n);
      await expect(commitAction(p, five[1], 2n, full.twins, full.tau))
        .to.emit(ledger, "ActionCommitted")
        .withArgs(2n, five[1].address, full.twins, full.tau);
      expect(await ledger.tauUsed(1n, 0)).to.equal(10000n);
      expect(await ledger.tauUsed(2n, 0)).to.equal(10000n);
      // a BS commits once per slot, and again in the next slot (twin 1 is taken in slot 2, twin 2 is free)
      await expect(ledger.connect(five[0]).commitAction(2n, rawTwins([[2, 16]]), rawTau(new Array<number>(C).fill(0)), "0x"))
        .to.emit(ledger, "ActionCommitted");
      // the twin claims are per slot too: twin 1, listed by five[0] in slot 1, was free for five[1] in slot 2
      expect(await ledger.isClaimed(1n, 1)).to.equal(true);
      expect(await ledger.isClaimed(2n, 1)).to.equal(true);
      expect(await ledger.isClaimed(1n, 2)).to.equal(false);
      expect(await ledger.isClaimed(2n, 2)).to.equal(true);
    });

    it("reverts with FractionOutOfRange when a share exceeds 10000", async () => {
      const { ledger, five, slot } = await loadFixture(openSlotFixture);
      const t = rawTwins([[1, 16]]);
      const shares = fractions().map(() => 0);
      shares[3] = 10001;
      await expect(ledger.connect(five[0]).commitAction(slot, t, rawTau(shares), "0x"))
        .to.be.revertedWithCustomError(ledger, "FractionOutOfRange")
        .withArgs(3n, 10001n);
      shares[3] = 0;
      shares[9] = 0xffff;
      await expect(ledger.connect(five[0]).commitAction(slot, t, rawTau(shares), "0x"))
        .to.be.revertedWithCustomError(ledger, "FractionOutOfRange")
        .withArgs(9n, 65535n);
      shares[9] = 10000;
      await expect(ledger.connect(five[0]).commitAction(slot, t, rawTau(shares), "0x")).to.emit(ledger, "ActionCommitted");
    });

    it("reverts with MalformedTwins for a length not a multiple of 6, no twins, or more than 256 twins", async () => {
      const { ledger, five, slot } = await loadFixture(openSlotFixture);
      const tau = action([[1, 16]], fractions()).tau;
      const one = rawTwins([[1, 16]]);
      for (const bytes of ["0x", "0x01", ethers.dataSlice(one, 0, 5), concat([one, "0x00"]), concat([one, one, "0x0000"])]) {
        await expect(ledger.connect(five[0]).commitAction(slot, bytes, tau, "0x"))
          .to.be.revertedWithCustomError(ledger, "MalformedTwins")
          .withArgs(BigInt(getBytes(bytes).length));
      }
      const many = rawTwins(Array.from({ length: 257 }, (_, i): [number, number] => [i + 1, 16]));
      await expect(ledger.connect(five[0]).commitAction(slot, many, tau, "0x"))
        .to.be.revertedWithCustomError(ledger, "MalformedTwins")
        .withArgs(257n * 6n);
    });

    it("accepts exactly 256 twin entries as well-formed (fails later only on the first unknown twin)", async () => {
      const p = await loadFixture(openSlotFixture);
      const { twins, five, slot } = p;
      const tau = action([[1, 16]], fractions()).tau;
      const max = rawTwins(Array.from({ length: 256 }, (_, i): [number, number] => [i + 1, 16]));
      // with the consents of twins 3..10 to move: 256 x 65 bytes of consents are well-formed too
      await expect(commitAction(p, five[0], slot, max, tau))
        .to.be.revertedWithCustomError(twins, "UnknownTwin")
        .withArgs(11n);
    });

    it("reverts with MalformedTau unless tau has exactly 2 bytes per subchannel", async () => {
      const { ledger, five, slot } = await loadFixture(openSlotFixture);
      const t = rawTwins([[1, 16]]);
      for (const len of [0, 1, 18, 19, 21, 22, 128]) {
        await expect(ledger.connect(five[0]).commitAction(slot, t, new Uint8Array(len), "0x"))
          .to.be.revertedWithCustomError(ledger, "MalformedTau")
          .withArgs(BigInt(len), BigInt(2 * C));
      }
    });

    it("reverts with TwinsNotSorted for duplicates, decreasing ids and twin id 0", async () => {
      const p = await loadFixture(openSlotFixture);
      const { ledger, five, slot } = p;
      const tau = rawTau(fractions());
      const cases: [[number, number][], number][] = [
        [
          [
            [1, 16],
            [1, 16],
          ],
          1,
        ],
        [
          [
            [2, 16],
            [1, 16],
          ],
          1,
        ],
        [
          [
            [1, 16],
            [3, 16],
            [2, 16],
          ],
          2,
        ],
        [[[0, 16]], 0],
      ];
      for (const [entries, bad] of cases) {
        // with the consent of twin 3 (bs1's) to move: the order is checked on the entry after it
        await expect(commitAction(p, five[0], slot, rawTwins(entries), tau))
          .to.be.revertedWithCustomError(ledger, "TwinsNotSorted")
          .withArgs(BigInt(bad));
      }
    });

    it("reverts with BatchSizeOutOfRange below b_min and above b_max (18d); the bounds are accepted", async () => {
      const { ledger, five, slot } = await loadFixture(openSlotFixture);
      const tau = rawTau(fractions());
      await expect(ledger.connect(five[0]).commitAction(slot, rawTwins([[1, B_MIN - 1]]), tau, "0x"))
        .to.be.revertedWithCustomError(ledger, "BatchSizeOutOfRange")
        .withArgs(1n, BigInt(B_MIN - 1));
      await expect(
        ledger.connect(five[0]).commitAction(
          slot,
          rawTwins([
            [1, B_MIN],
            [2, B_MAX + 1],
          ]),
          tau,
          "0x",
        ),
      )
        .to.be.revertedWithCustomError(ledger, "BatchSizeOutOfRange")
        .withArgs(2n, BigInt(B_MAX + 1));
      await expect(ledger.connect(five[0]).commitAction(slot, rawTwins([[1, 0]]), tau, "0x"))
        .to.be.revertedWithCustomError(ledger, "BatchSizeOutOfRange")
        .withArgs(1n, 0n);
      await expect(ledger.connect(five[0]).commitAction(slot, rawTwins([[1, 0xffff]]), tau, "0x"))
        .to.be.revertedWithCustomError(ledger, "BatchSizeOutOfRange")
        .withArgs(1n, 65535n);
      const ok = rawTwins([
        [1, B_MIN],
        [2, B_MAX],
      ]);
      await expect(ledger.connect(five[0]).commitAction(slot, ok, tau, "0x")).to.emit(ledger, "ActionCommitted").withArgs(slot, five[0].address, ok, tau);
    });

    it("reverts with SlotNotOpen before any round is opened", async () => {
      const { ledger, five } = await loadFixture(deployWithFiveBssWithTestAdmin);
      const a = action([[1, 16]], fractions());
      for (const s of [0n, 1n]) {
        await expect(ledger.connect(five[0]).commitAction(s, a.twins, a.tau, "0x"))
          .to.be.revertedWithCustomError(ledger, "SlotNotOpen")
          .withArgs(s);
      }
    });

    it("reverts with SlotNotOpen for a slot other than the open round", async () => {
      const { ledger, five, slot } = await loadFixture(openSlotFixture);
      const a = action([[1, 16]], fractions());
      for (const s of [0n, slot + 1n, 2n ** 256n - 1n]) {
        await expect(ledger.connect(five[0]).commitAction(s, a.twins, a.tau, "0x"))
          .to.be.revertedWithCustomError(ledger, "SlotNotOpen")
          .withArgs(s);
      }
    });

    it("accepts actions up to the round's deadline and reverts with SlotNotOpen after it", async () => {
      const { ledger, five, slot, deadline } = await loadFixture(openSlotFixture);
      const a = action([[1, 16]], fractions());
      await time.setNextBlockTimestamp(deadline);
      await expect(ledger.connect(five[0]).commitAction(slot, a.twins, a.tau, "0x")).to.emit(ledger, "ActionCommitted");
      const b = action([[3, 16]], fractions());
      await time.setNextBlockTimestamp(deadline + 1n);
      await expect(ledger.connect(five[1]).commitAction(slot, b.twins, b.tau, "0x"))
        .to.be.revertedWithCustomError(ledger, "SlotNotOpen")
        .withArgs(slot);
    });

    it("reverts with SlotNotOpen once the round is settled, and for an old slot after the next round opens", async () => {
      const p = await loadFixture(openSlotFixture);
      const { ledger, rounds, five, slot } = p;
      const a = action([[1, 16]], fractions());
      const r = await rounds.getRound(slot);
      await time.increaseTo(r.revealUntil + 1n);
      await rounds.settleRound(slot);
      await expect(ledger.connect(five[0]).commitAction(slot, a.twins, a.tau, "0x"))
        .to.be.revertedWithCustomError(ledger, "SlotNotOpen")
        .withArgs(slot);
      await rounds.recordGlobalModel(slot, fakeCid("global-0"), []);
      await rounds.openRound(fakeCid("global-0"), BigInt(await time.latest()) + 100n);
      await expect(ledger.connect(five[0]).commitAction(slot, a.twins, a.tau, "0x"))
        .to.be.revertedWithCustomError(ledger, "SlotNotOpen")
        .withArgs(slot);
      await expect(ledger.connect(five[0]).commitAction(slot + 1n, a.twins, a.tau, "0x")).to.emit(ledger, "ActionCommitted");
    });

    it("reverts with ActionAlreadyCommitted for a second action in the same slot", async () => {
      const { ledger, five, slot } = await loadFixture(openSlotFixture);
      const a = action([[1, 16]], fractions({ 0: 0.1 }));
      await ledger.connect(five[0]).commitAction(slot, a.twins, a.tau, "0x");
      const b = action([[2, 16]], fractions({ 1: 0.1 }));
      await expect(ledger.connect(five[0]).commitAction(slot, b.twins, b.tau, "0x"))
        .to.be.revertedWithCustomError(ledger, "ActionAlreadyCommitted")
        .withArgs(slot, five[0].address);
      expect(await ledger.tauUsed(slot, 1)).to.equal(0n);
    });

    it("reverts with NotMember for outsiders, the operator and removed BSs", async () => {
      const { ledger, registry, five, mbs, outsider, slot } = await loadFixture(openSlotFixture);
      const a = action([[1, 16]], fractions());
      for (const who of [outsider, mbs] as HardhatEthersSigner[]) {
        await expect(ledger.connect(who).commitAction(slot, a.twins, a.tau, "0x"))
          .to.be.revertedWithCustomError(ledger, "NotMember")
          .withArgs(who.address);
      }
      await registry.remove(five[4].address);
      await expect(ledger.connect(five[4]).commitAction(slot, a.twins, a.tau, "0x"))
        .to.be.revertedWithCustomError(ledger, "NotMember")
        .withArgs(five[4].address);
    });

    it("fails when the ledger lacks ASSOCIATOR_ROLE on the twin registry", async () => {
      const p = await loadFixture(openSlotFixture);
      const ledger = await new AssociationLedger__factory(p.mbs).deploy(p.registry, p.twins, p.rounds, C, 1, 100);
      const a = action([[1, 16]], fractions());
      await expect(ledger.connect(p.five[0]).commitAction(p.slot, a.twins, a.tau, "0x"))
        .to.be.revertedWithCustomError(p.twins, "AccessControlUnauthorizedAccount")
        .withArgs(await ledger.getAddress(), ROLES.ASSOCIATOR);
    });
  });

  describe("users' consents to moves", () => {
    /** `bs` signs a move consent with its own key, in place of the twin's device. */
    async function forgedMove(p: Fx, bs: HardhatEthersSigner, twinId: number, to: string, slot: bigint) {
      return bs.signTypedData(await domainOf(p), { MoveTwin: CONSENT_TYPES.MoveTwin.map((f) => ({ ...f })) }, { twinId, to, slot });
    }

    /** The address the twin registry recovers from `sig` for the move of `twinId` to `to` in `slot`. */
    async function recovered(p: Fx, sig: string, twinId: number, to: string, slot: bigint) {
      return recoverAddress(moveDigest(await domainOf(p), { twinId, to, slot }), sig);
    }

    it("reverts with MalformedConsents unless consents are empty or 65 bytes per twin entry, before any twin is claimed", async () => {
      const p = await loadFixture(openSlotFixture);
      const { ledger, twins, five, slot } = p;
      const [bs0, bs1] = five;
      const one = action([[1, 16]], fractions({ 0: 0.5 }));
      const two = action([[1, 16], [3, 16]], fractions({ 0: 0.5 }));
      const good = await moveConsent(p, 1, bs1.address, slot);
      const cases: [string, string, number][] = [
        [one.twins, "0x00", 65],
        [one.twins, ethers.dataSlice(good, 0, 64), 65],
        [one.twins, concat([good, "0x00"]), 65],
        [one.twins, concat([good, good]), 65],
        [two.twins, good, 130],
        [two.twins, concat([good, new Uint8Array(CONSENT_BYTES), "0x00"]), 130],
      ];
      for (const [t, consents, expected] of cases) {
        await expect(ledger.connect(bs1).commitAction(slot, t, one.tau, consents))
          .to.be.revertedWithCustomError(ledger, "MalformedConsents")
          .withArgs(BigInt(getBytes(consents).length), BigInt(expected));
      }
      expect(await ledger.isClaimed(slot, 1)).to.equal(false);
      expect(await ledger.isClaimed(slot, 3)).to.equal(false);
      expect(await ledger.tauUsed(slot, 0)).to.equal(0n);
      expect(await ledger.actionHash(slot, bs1.address)).to.equal(ZeroHash);
      expect(await twins.hostOf(1)).to.equal(bs0.address);
      // checked right after the tau length: a malformed tau is reported first
      await expect(ledger.connect(bs1).commitAction(slot, one.twins, "0x0000", "0x00"))
        .to.be.revertedWithCustomError(ledger, "MalformedTau")
        .withArgs(2n, BigInt(2 * C));
      // the same consent, aligned, moves the twin
      await expect(ledger.connect(bs1).commitAction(slot, one.twins, one.tau, good))
        .to.emit(twins, "TwinAssociated")
        .withArgs(1n, bs0.address, bs1.address, 100n);
    });

    it("attack: the first BS to commit claims every twin; it now fails with InvalidConsent and the others commit their own", async () => {
      // The attack: on the old contracts the BS committing first (a) could list every twin, its own and the
      // others', which moved them all to a and claimed them for the slot; every other BS's commit of its own twins
      // then reverted with TwinAlreadyClaimed. Now each move needs the consent of the twin's user, which a lacks.
      const p = await loadFixture(openSlotFixture);
      const { ledger, twins, five, slot } = p;
      const [a, b] = five;
      const all = action(
        Array.from({ length: 10 }, (_, i): [number, number] => [i + 1, 16]),
        fractions(),
      );
      // no consents: the first twin that moves (twin 3, b's, user 2) stops it
      await expect(ledger.connect(a).commitAction(slot, all.twins, all.tau, "0x"))
        .to.be.revertedWithCustomError(twins, "InvalidConsent")
        .withArgs(3n, ZeroAddress, device(2).address);
      // "consents" a signs itself, in place of the users' devices
      const forged = packConsents(
        await Promise.all(Array.from({ length: 10 }, (_, i) => (i < 2 ? undefined : forgedMove(p, a, i + 1, a.address, slot)))),
      );
      await expect(ledger.connect(a).commitAction(slot, all.twins, all.tau, forged))
        .to.be.revertedWithCustomError(twins, "InvalidConsent")
        .withArgs(3n, a.address, device(2).address);
      for (let id = 1; id <= 10; id++) expect(await ledger.isClaimed(slot, id)).to.equal(false);
      expect(await twins.twinsOn(a.address)).to.equal(2n);
      // b commits its own twins, and a (and everyone else) theirs
      const own = action([[3, 16], [4, 16]], fractions());
      await expect(ledger.connect(b).commitAction(slot, own.twins, own.tau, "0x"))
        .to.emit(ledger, "ActionWeighed")
        .withArgs(slot, b.address, 2n, 400n);
      for (const [i, bs] of five.entries()) {
        if (bs === b) continue;
        const mine = action([[2 * i + 1, 16], [2 * i + 2, 16]], fractions());
        await expect(ledger.connect(bs).commitAction(slot, mine.twins, mine.tau, "0x"))
          .to.emit(ledger, "ActionWeighed")
          .withArgs(slot, bs.address, 2n, BigInt(2 * 100 * (i + 1)));
      }
      for (const [i, bs] of five.entries()) expect(await twins.twinsOn(bs.address)).to.equal(2n, `bs ${i}`);
    });

    it("a consent for another slot, BS, twin or chain, by another user's device, zeros or none: InvalidConsent", async () => {
      const p = await loadFixture(openSlotFixture);
      const { ledger, twins, five, slot } = p;
      const [bs0, bs1, bs2] = five;
      const a = action([[1, 16]], fractions());
      const domain = await domainOf(p);
      const dev = device(0).address; // twin 1's device
      const wrong = [
        await signMove(device(0), domain, { twinId: 1, to: bs1.address, slot: slot + 1n }), // another slot
        await signMove(device(0), domain, { twinId: 1, to: bs2.address, slot }), // another destination BS
        await signMove(device(0), domain, { twinId: 2, to: bs1.address, slot }), // another twin
        await signMove(device(0), { ...domain, chainId: 1n }, { twinId: 1, to: bs1.address, slot }), // another chain
      ];
      for (const sig of wrong) {
        const signer = await recovered(p, sig, 1, bs1.address, slot);
        expect(signer).to.not.equal(dev);
        await expect(ledger.connect(bs1).commitAction(slot, a.twins, a.tau, sig))
          .to.be.revertedWithCustomError(twins, "InvalidConsent")
          .withArgs(1n, signer, dev);
      }
      // the right message signed by another user's device (user 1, whose twin 2 is on bs0 too)
      const other = await signMove(device(1), domain, { twinId: 1, to: bs1.address, slot });
      await expect(ledger.connect(bs1).commitAction(slot, a.twins, a.tau, other))
        .to.be.revertedWithCustomError(twins, "InvalidConsent")
        .withArgs(1n, device(1).address, dev);
      // zeros, and no consents at all: nothing is recovered
      for (const none of [hexlify(new Uint8Array(CONSENT_BYTES)), "0x"]) {
        await expect(ledger.connect(bs1).commitAction(slot, a.twins, a.tau, none))
          .to.be.revertedWithCustomError(twins, "InvalidConsent")
          .withArgs(1n, ZeroAddress, dev);
      }
      expect(await twins.hostOf(1)).to.equal(bs0.address);
      expect(await ledger.isClaimed(slot, 1)).to.equal(false);
      await expect(ledger.connect(bs1).commitAction(slot, a.twins, a.tau, await moveConsent(p, 1, bs1.address, slot)))
        .to.emit(twins, "TwinAssociated")
        .withArgs(1n, bs0.address, bs1.address, 100n);
    });

    it("only moving twins carry signatures: the consents of staying twins (zeros or any bytes) are not read", async () => {
      const p = await loadFixture(openSlotFixture);
      const { ledger, twins, five, slot } = p;
      const [bs0, bs1, bs2] = five;
      // bs1 takes twin 1 (bs0's, 100 samples) and twin 5 (bs2's, 300), keeps its twins 3 and 4 (200 each)
      const a = action([[1, 16], [3, 32], [4, 64], [5, 128]], fractions({ 0: 0.5 }));
      const [c1, c5] = [await moveConsent(p, 1, bs1.address, slot), await moveConsent(p, 5, bs1.address, slot)];
      const zeros = new Uint8Array(CONSENT_BYTES);
      // what an honest BS sends (consentsFor): zeros for the twins that stay; here one of them carries junk instead
      expect(await consentsFor(p, a.twins, bs1.address, slot)).to.equal(concat([c1, zeros, zeros, c5]));
      const consents = concat([c1, zeros, new Uint8Array(CONSENT_BYTES).fill(0xab), c5]);
      await expect(ledger.connect(bs1).commitAction(slot, a.twins, a.tau, consents))
        .to.emit(twins, "TwinAssociated")
        .withArgs(1n, bs0.address, bs1.address, 100n)
        .and.to.emit(twins, "TwinAssociated")
        .withArgs(5n, bs2.address, bs1.address, 300n)
        .and.to.emit(ledger, "ActionWeighed")
        .withArgs(slot, bs1.address, 4n, 800n);
      expect(await ledger.committedAction(slot, bs1.address)).to.deep.equal([4n, 800n]);
      expect(await twins.twinsOn(bs1.address)).to.equal(4n);
      expect(await twins.dataOn(bs1.address)).to.equal(800n);
      // a BS whose twins all stay may send zeros for each of them
      const stay = action([[6, 16]], fractions());
      await expect(ledger.connect(bs2).commitAction(slot, stay.twins, stay.tau, new Uint8Array(CONSENT_BYTES)))
        .to.emit(ledger, "ActionWeighed")
        .withArgs(slot, bs2.address, 1n, 300n)
        .and.not.to.emit(twins, "TwinAssociated");
      expect(await twins.hostOf(6)).to.equal(bs2.address);
    });

    it("attack: another BS copies the consent a pending commit carries; it names `to`, so it fails with InvalidConsent", async () => {
      // The attack: bs1's commit, with twin 1's user's consent to move to bs1, is public while pending (and on chain
      // after); bs2 copies the signature into its own commit listing twin 1 to take the twin (and its data) first.
      const p = await loadFixture(openSlotFixture);
      const { ledger, twins, five, slot } = p;
      const [bs0, bs1, bs2] = five;
      const a = action([[1, 16]], fractions());
      const consent = await moveConsent(p, 1, bs1.address, slot);
      await expect(ledger.connect(bs2).commitAction(slot, a.twins, a.tau, consent))
        .to.be.revertedWithCustomError(twins, "InvalidConsent")
        .withArgs(1n, await recovered(p, consent, 1, bs2.address, slot), device(0).address);
      expect(await ledger.isClaimed(slot, 1)).to.equal(false);
      await expect(ledger.connect(bs1).commitAction(slot, a.twins, a.tau, consent))
        .to.emit(twins, "TwinAssociated")
        .withArgs(1n, bs0.address, bs1.address, 100n);
      // next slot: the consent, now on chain, still does not move the twin to bs2
      await nextSlot(p);
      await expect(ledger.connect(bs2).commitAction(slot + 1n, a.twins, a.tau, consent))
        .to.be.revertedWithCustomError(twins, "InvalidConsent")
        .withArgs(1n, await recovered(p, consent, 1, bs2.address, slot + 1n), device(0).address);
      expect(await twins.hostOf(1)).to.equal(bs1.address);
    });

    it("attack: replaying a consent of slot t in a later slot; it names the slot, so it fails with InvalidConsent", async () => {
      // The attack: a BS keeps a user's consent to a move in slot t and uses it again later, to take the twin back
      // after it left, or to move it in a slot the user did not agree to.
      const p = await loadFixture(openSlotFixture);
      const { ledger, twins, five } = p;
      const [bs0, bs1] = five;
      const first = action([[1, 16]], fractions());
      const second = action([[2, 16]], fractions());
      const c1 = await moveConsent(p, 1, bs1.address, 1n); // used in slot 1
      const c2 = await moveConsent(p, 2, bs1.address, 1n); // given for slot 1, not used there
      await expect(ledger.connect(bs1).commitAction(1n, first.twins, first.tau, c1))
        .to.emit(twins, "TwinAssociated")
        .withArgs(1n, bs0.address, bs1.address, 100n);

      await nextSlot(p); // slot 2
      await expect(ledger.connect(bs1).commitAction(2n, second.twins, second.tau, c2))
        .to.be.revertedWithCustomError(twins, "InvalidConsent")
        .withArgs(2n, await recovered(p, c2, 2, bs1.address, 2n), device(1).address);
      expect(await twins.hostOf(2)).to.equal(bs0.address);
      // bs0 takes twin 1 back with its user's consent for slot 2
      await expect(commitAction(p, bs0, 2n, first.twins, first.tau))
        .to.emit(twins, "TwinAssociated")
        .withArgs(1n, bs1.address, bs0.address, 100n);

      await nextSlot(p); // slot 3: bs1 replays the consent it used in slot 1
      await expect(ledger.connect(bs1).commitAction(3n, first.twins, first.tau, c1))
        .to.be.revertedWithCustomError(twins, "InvalidConsent")
        .withArgs(1n, await recovered(p, c1, 1, bs1.address, 3n), device(0).address);
      expect(await twins.hostOf(1)).to.equal(bs0.address);
      // a consent for slot 3 moves it
      await expect(ledger.connect(bs1).commitAction(3n, first.twins, first.tau, await moveConsent(p, 1, bs1.address, 3n)))
        .to.emit(twins, "TwinAssociated")
        .withArgs(1n, bs0.address, bs1.address, 100n);
    });
  });

  describe("views", () => {
    it("tauUsed reverts with InvalidParameter for subchannel >= C and is 0 for unused slots", async () => {
      const { ledger } = await loadFixture(openSlotFixture);
      expect(await ledger.tauUsed(0, 0)).to.equal(0n);
      expect(await ledger.tauUsed(12345, C - 1)).to.equal(0n);
      await expect(ledger.tauUsed(1, C)).to.be.revertedWithCustomError(ledger, "InvalidParameter");
      await expect(ledger.tauUsed(1, 2n ** 256n - 1n)).to.be.revertedWithCustomError(ledger, "InvalidParameter");
    });

    it("actionHash is keccak256(twins ‖ tau) per BS and slot", async () => {
      const { ledger, five, slot } = await loadFixture(openSlotFixture);
      const a = action([[1, 16]], fractions({ 4: 0.5 }));
      const b = action(
        [
          [3, 20],
          [4, 30],
        ],
        fractions({ 4: 0.5 }),
      );
      await ledger.connect(five[0]).commitAction(slot, a.twins, a.tau, "0x");
      await ledger.connect(five[1]).commitAction(slot, b.twins, b.tau, "0x");
      expect(await ledger.actionHash(slot, five[0].address)).to.equal(keccak256(concat([a.twins, a.tau])));
      expect(await ledger.actionHash(slot, five[1].address)).to.equal(keccak256(concat([b.twins, b.tau])));
      expect(await ledger.actionHash(slot, five[2].address)).to.equal(ZeroHash);
      expect(await ledger.tauUsed(slot, 4)).to.equal(10000n);
    });
  });

  describe("more than 16 subchannels (packed words)", () => {
    it("C = 40: shares land in the right 16-bit lanes across words 0, 1 and 2", async () => {
      const { wide, five, slot } = await loadFixture(wideFixture);
      expect(await wide.subchannels()).to.equal(40n);
      const shares = Array.from({ length: 40 }, (_, c) => 100 * c + 7); // all distinct, <= 3907
      const t = rawTwins([[1, 1]]);
      await expect(wide.connect(five[0]).commitAction(slot, t, rawTau(shares), "0x"))
        .to.emit(wide, "ActionCommitted")
        .withArgs(slot, five[0].address, t, rawTau(shares));
      const used = await Promise.all(shares.map((_, c) => wide.tauUsed(slot, c)));
      expect(used).to.deep.equal(shares.map(BigInt));
      await expect(wide.tauUsed(slot, 40)).to.be.revertedWithCustomError(wide, "InvalidParameter");

      // a second BS adds on top in every lane
      const more = Array.from({ length: 40 }, (_, c) => 40 - c);
      await wide.connect(five[1]).commitAction(slot, rawTwins([[3, 1]]), rawTau(more), "0x");
      const used2 = await Promise.all(shares.map((_, c) => wide.tauUsed(slot, c)));
      expect(used2).to.deep.equal(shares.map((s, c) => BigInt(s + more[c])));
    });

    it("C = 40: full lanes next to word boundaries do not bleed into neighbours", async () => {
      const { wide, five, slot } = await loadFixture(wideFixture);
      const shares = new Array<number>(40).fill(0);
      for (const c of [15, 16, 31, 32, 39]) shares[c] = 10000;
      await wide.connect(five[0]).commitAction(slot, rawTwins([[1, 1]]), rawTau(shares), "0x");
      for (const c of [14, 17, 30, 33, 38]) expect(await wide.tauUsed(slot, c)).to.equal(0n);
      for (const c of [15, 16, 31, 32, 39]) expect(await wide.tauUsed(slot, c)).to.equal(10000n);

      // lanes next to the full ones can still be filled completely
      const neighbours = new Array<number>(40).fill(0);
      for (const c of [0, 14, 17, 30, 33, 38]) neighbours[c] = 10000;
      await expect(wide.connect(five[1]).commitAction(slot, rawTwins([[3, 1]]), rawTau(neighbours), "0x")).to.emit(wide, "ActionCommitted");
      for (const c of [0, 14, 17, 30, 33, 38]) expect(await wide.tauUsed(slot, c)).to.equal(10000n);
      for (const c of [15, 16, 31, 32, 39]) expect(await wide.tauUsed(slot, c)).to.equal(10000n);
      expect(await wide.tauUsed(slot, 1)).to.equal(0n);
    });

    it("C = 40: SubchannelOverallocated and FractionOutOfRange report subchannels in later words", async () => {
      const { wide, five, slot } = await loadFixture(wideFixture);
      const first = new Array<number>(40).fill(0);
      first[16] = 6000;
      first[39] = 9000;
      await wide.connect(five[0]).commitAction(slot, rawTwins([[1, 1]]), rawTau(first), "0x");

      const second = new Array<number>(40).fill(0);
      second[16] = 4000;
      second[39] = 1001;
      await expect(wide.connect(five[1]).commitAction(slot, rawTwins([[3, 1]]), rawTau(second), "0x"))
        .to.be.revertedWithCustomError(wide, "SubchannelOverallocated")
        .withArgs(39n, 10001n);
      second[39] = 0;
      second[16] = 4001;
      await expect(wide.connect(five[1]).commitAction(slot, rawTwins([[3, 1]]), rawTau(second), "0x"))
        .to.be.revertedWithCustomError(wide, "SubchannelOverallocated")
        .withArgs(16n, 10001n);
      second[16] = 0;
      second[33] = 10001;
      await expect(wide.connect(five[1]).commitAction(slot, rawTwins([[3, 1]]), rawTau(second), "0x"))
        .to.be.revertedWithCustomError(wide, "FractionOutOfRange")
        .withArgs(33n, 10001n);
      await expect(wide.connect(five[1]).commitAction(slot, rawTwins([[3, 1]]), rawTau(new Array<number>(10).fill(0)), "0x"))
        .to.be.revertedWithCustomError(wide, "MalformedTau")
        .withArgs(20n, 80n);
      expect(await wide.tauUsed(slot, 16)).to.equal(6000n);
      expect(await wide.tauUsed(slot, 39)).to.equal(9000n);
    });

    it("C = 64: four full words, last lane included", async () => {
      const { full, five, slot } = await loadFixture(fullWidthFixture);
      const shares = Array.from({ length: 64 }, (_, c) => (c % 2 === 0 ? 10000 : c));
      await full.connect(five[0]).commitAction(slot, rawTwins([[1, 1]]), rawTau(shares), "0x");
      const used = await Promise.all(shares.map((_, c) => full.tauUsed(slot, c)));
      expect(used).to.deep.equal(shares.map(BigInt));
      const over = new Array<number>(64).fill(0);
      over[63] = 10000 - 63 + 1;
      await expect(full.connect(five[1]).commitAction(slot, rawTwins([[3, 1]]), rawTau(over), "0x"))
        .to.be.revertedWithCustomError(full, "SubchannelOverallocated")
        .withArgs(63n, 10001n);
      await expect(full.tauUsed(slot, 64)).to.be.revertedWithCustomError(full, "InvalidParameter");
    });
  });
});
