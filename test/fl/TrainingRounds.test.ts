import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, setBalance, time } from "@nomicfoundation/hardhat-network-helpers";
import { AbiCoder, ZeroAddress, keccak256 } from "ethers";
import { deployProtocol, deployWithFiveBss, fakeCid, PARAMS, userId, type Protocol } from "../fixtures";
import { encodeAction } from "../../src/chain/actionCodec";
import { TrainingRounds__factory } from "../../typechain-types";

const abi = AbiCoder.defaultAbiCoder();
const WINDOW = BigInt(PARAMS.verificationWindowSeconds); // 60 s
const REWARD = PARAMS.rewardPerModel; // 10 coins
const SLASH_BPS = BigInt(PARAMS.roundSlashBps); // 1000 = 10 %

const Status = { None: 0, Open: 1, Settled: 2, Finalized: 3 } as const;
const Outcome = { Pending: 0, Passed: 1, Failed: 2, Unverified: 3 } as const;
const TRAINING_MODEL = 2; // RecordLog.RecordKind.TrainingModel

function trainingPayload(round: bigint, bs: string, cid: string, dataSize: bigint, numTwins: bigint): string {
  return keccak256(abi.encode(["uint256", "address", "bytes", "uint64", "uint32"], [round, bs, cid, dataSize, numTwins]));
}

function leafOf(index: bigint, kind: number, payloadHash: string): string {
  return keccak256(abi.encode(["uint256", "uint8", "bytes32"], [index, kind, payloadHash]));
}

const sortAddresses = (xs: string[]) => [...xs].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));

/** BS i of the five (fixtures) hosts twins 2i+1 and 2i+2 with 100*(i+1) samples each. */
const twinsOfBs = (i: number) => [2 * i + 1, 2 * i + 2];

/** `bs` commits an action listing `twinIds` in slot `slot` (batch 32, no subchannel time): the chain records K_i and the data. */
async function commit(p: Pick<Protocol, "ledger">, bs: { address: string }, slot: bigint | number, twinIds: number[]) {
  const enc = encodeAction({ twins: twinIds.map((twinId) => ({ twinId, batchSize: 32 })), tau: Array(PARAMS.subchannels).fill(0) });
  await p.ledger.connect(bs as never).commitAction(slot, enc.twins, enc.tau);
}

// Fixtures build on each other through nested loadFixture calls: a derived fixture restores its parent's snapshot
// and adds its own steps, so each step runs once and not once per derived fixture.
/** Five BSs with Eq. 6 coins; round 1 open with a deadline 1000 s ahead. */
async function roundFixture() {
  const p = await loadFixture(deployWithFiveBss);
  const deadline = BigInt(await time.latest()) + 1000n;
  const globalCid = fakeCid("global-0");
  await p.rounds.openRound(globalCid, deadline);
  for (const [i, bs] of p.five.entries()) await commit(p, bs, 1, twinsOfBs(i));
  return { ...p, round: 1n, deadline, verifyUntil: deadline + WINDOW, globalCid };
}

/** roundFixture + bs0..bs3 submitted models (bs i: 100*(i+1)*2 samples, 2 twins, from its action); bs4 did not. */
async function submittedFixture() {
  const p = await loadFixture(roundFixture);
  for (let i = 0; i < 4; i++) {
    await p.rounds.connect(p.five[i]).submitModel(1, fakeCid(`model-${i}`));
  }
  return p;
}

/**
 * submittedFixture + verdicts:
 *   bs0: pass (bs1), pass (bs2), fail (bs3) -> Passed
 *   bs1: pass (bs0), fail (bs2)             -> Unverified (a tie is neither a pass nor a fail)
 *   bs2: fail (bs0), fail (bs4)             -> Failed
 *   bs3: fail (bs4)                         -> Unverified (1 of 4 verdicts: below the 50 % quorum)
 */
async function verdictsFixture() {
  const p = await loadFixture(submittedFixture);
  const [b0, b1, b2, b3, b4] = p.five;
  const v = (verifier: typeof b0, bs: typeof b0, pass: boolean) => p.rounds.connect(verifier).verifyModel(1, bs.address, pass, pass ? 9000 : 1000);
  await v(b1, b0, true);
  await v(b2, b0, true);
  await v(b3, b0, false);
  await v(b0, b1, true);
  await v(b2, b1, false);
  await v(b0, b2, false);
  await v(b4, b2, false);
  await v(b4, b3, false);
  return p;
}

/** verdictsFixture, settled by the operator after the verification window. */
async function settledFixture() {
  const p = await loadFixture(verdictsFixture);
  await time.increaseTo(p.verifyUntil + 1n);
  await p.rounds.settleRound(1);
  return p;
}

/**
 * 32 member BSs (deterministic wallets funded with hardhat_setBalance) each submitted a model to round 1, and a
 * 33rd wallet, not yet admitted. No coins allocated.
 */
async function crowdedRoundFixture() {
  const p = await loadFixture(deployProtocol);
  const wallets = Array.from({ length: 33 }, (_, i) => new ethers.Wallet(ethers.id(`crowd-bs-${i}`), ethers.provider));
  for (const w of wallets) await setBalance(w.address, 10n ** 20n);
  for (const w of wallets.slice(0, 32)) await p.registry.admit(w.address);
  const twinOf: number[] = [];
  for (const [i, w] of wallets.slice(0, 32).entries()) twinOf.push(await hostTwin(p, w, i));
  const deadline = BigInt(await time.latest()) + 3600n;
  await p.rounds.openRound(fakeCid("global-0"), deadline);
  for (const [i, w] of wallets.slice(0, 32).entries()) {
    await commit(p, w, 1, [twinOf[i]]);
    await p.rounds.connect(w).submitModel(1, fakeCid(`crowd-model-${i}`));
  }
  return { ...p, wallets, deadline };
}

/** `bs` registers the twin of user `crowd-user-<n>` and records 100 samples for it; returns the twin id. */
async function hostTwin(p: Pick<Protocol, "twins">, bs: { address: string }, n: number): Promise<number> {
  const user = ethers.id(`crowd-user-${n}`);
  await p.twins.connect(bs as never).registerTwin(user);
  const twinId = await p.twins.twinOfUser(user);
  await p.twins.connect(bs as never).recordTwinData(twinId, 100, ethers.id(`d-${n}`), ethers.id(`s-${n}`));
  return Number(twinId);
}

describe("TrainingRounds", () => {
  describe("constructor", () => {
    it("stores its parameters", async () => {
      const { rounds, registry, coin, recordLog } = await loadFixture(deployWithFiveBss);
      expect(await rounds.registry()).to.equal(await registry.getAddress());
      expect(await rounds.coin()).to.equal(await coin.getAddress());
      expect(await rounds.recordLog()).to.equal(await recordLog.getAddress());
      expect(await rounds.rewardPerModel()).to.equal(REWARD);
      expect(await rounds.slashBps()).to.equal(SLASH_BPS);
      expect(await rounds.verificationWindow()).to.equal(WINDOW);
      expect(await rounds.MAX_SUBMISSIONS()).to.equal(32n);
      expect(await rounds.MAX_SCORE()).to.equal(10000n);
      expect(await rounds.BPS()).to.equal(10000n);
      expect(await rounds.currentRound()).to.equal(0n);
    });

    it("reverts with ZeroAddress for a zero registry, coin or record log", async () => {
      const { registry, coin, recordLog, mbs } = await loadFixture(deployWithFiveBss);
      const f = new TrainingRounds__factory(mbs);
      await expect(f.deploy(ZeroAddress, coin, recordLog, 1, 1, 1, 1)).to.be.revertedWithCustomError(f, "ZeroAddress");
      await expect(f.deploy(registry, ZeroAddress, recordLog, 1, 1, 1, 1)).to.be.revertedWithCustomError(f, "ZeroAddress");
      await expect(f.deploy(registry, coin, ZeroAddress, 1, 1, 1, 1)).to.be.revertedWithCustomError(f, "ZeroAddress");
    });

    it("reverts with InvalidParameter for slashBps > 10000, a zero verification window or a quorum outside 1..10000", async () => {
      const { registry, coin, recordLog, mbs } = await loadFixture(deployWithFiveBss);
      const f = new TrainingRounds__factory(mbs);
      await expect(f.deploy(registry, coin, recordLog, 1, 10001, 1, 1)).to.be.revertedWithCustomError(f, "InvalidParameter");
      await expect(f.deploy(registry, coin, recordLog, 1, 100, 0, 1)).to.be.revertedWithCustomError(f, "InvalidParameter");
      await expect(f.deploy(registry, coin, recordLog, 1, 100, 1, 0)).to.be.revertedWithCustomError(f, "InvalidParameter");
      await expect(f.deploy(registry, coin, recordLog, 1, 100, 1, 10001)).to.be.revertedWithCustomError(f, "InvalidParameter");
      const ok = await f.deploy(registry, coin, recordLog, 0, 10000, 1, 10000);
      expect(await ok.slashBps()).to.equal(10000n);
      expect(await ok.rewardPerModel()).to.equal(0n);
    });
  });

  describe("wireActionRecords", () => {
    it("is wired to the association ledger by the deployment; nobody can wire it again (ActionRecordsWired once)", async () => {
      const { rounds, ledger, mbs, five } = await loadFixture(deployWithFiveBss);
      expect(await rounds.actionRecords()).to.equal(await ledger.getAddress());
      await expect(rounds.connect(five[0]).wireActionRecords(five[1].address)).to.be.revertedWithCustomError(rounds, "NotWirer").withArgs(five[0].address);
      // the deployer (signer 0) used its one wiring at deployment
      await expect(rounds.connect(mbs).wireActionRecords(five[1].address)).to.be.revertedWithCustomError(rounds, "AlreadyWired");
    });

    it("only the deploying account wires, once, to a non-zero address; no round opens before", async () => {
      const { registry, coin, recordLog, ledger, bss } = await loadFixture(deployWithFiveBss);
      const deployer = bss[6];
      const fresh = await new TrainingRounds__factory(deployer).deploy(registry, coin, recordLog, 1, 1, 1, 1);
      await expect(fresh.connect(await ethers.getSigner(await registry.operator())).openRound(fakeCid("g"), BigInt(await time.latest()) + 100n))
        .to.be.revertedWithCustomError(fresh, "NotWired");
      await expect(fresh.connect(bss[5]).wireActionRecords(ledger)).to.be.revertedWithCustomError(fresh, "NotWirer").withArgs(bss[5].address);
      await expect(fresh.wireActionRecords(ZeroAddress)).to.be.revertedWithCustomError(fresh, "ZeroAddress");
      await expect(fresh.wireActionRecords(ledger)).to.emit(fresh, "ActionRecordsWired").withArgs(await ledger.getAddress());
      await expect(fresh.wireActionRecords(ledger)).to.be.revertedWithCustomError(fresh, "AlreadyWired");
    });
  });

  describe("openRound", () => {
    it("opens round r > 1 only from round r-1's recorded global model (GlobalModelMismatch)", async () => {
      // Attack class 7: the MBS used to open the next round from a CID nobody aggregated.
      const { rounds, five } = await loadFixture(settledFixture);
      await rounds.recordGlobalModel(1, fakeCid("global-1"), [five[0].address]);
      const later = BigInt(await time.latest()) + 100n;
      await expect(rounds.openRound(fakeCid("other"), later))
        .to.be.revertedWithCustomError(rounds, "GlobalModelMismatch")
        .withArgs(2n, fakeCid("global-1"), fakeCid("other"));
      await expect(rounds.openRound(fakeCid("global-1"), later)).to.emit(rounds, "RoundOpened");
    });

    it("opens round 1: RoundOpened, views and return value", async () => {
      const { rounds, mbs } = await loadFixture(deployWithFiveBss);
      const deadline = BigInt(await time.latest()) + 500n;
      const cid = fakeCid("g0");
      expect(await rounds.connect(mbs).openRound.staticCall(cid, deadline)).to.equal(1n);
      await expect(rounds.openRound(cid, deadline)).to.emit(rounds, "RoundOpened").withArgs(1n, cid, deadline, deadline + WINDOW);
      expect(await rounds.currentRound()).to.equal(1n);
      expect(await rounds.acceptsSubmissions(1)).to.equal(true);
      const r = await rounds.getRound(1);
      expect(r.status).to.equal(BigInt(Status.Open));
      expect(r.deadline).to.equal(deadline);
      expect(r.verifyUntil).to.equal(deadline + WINDOW);
      expect(r.globalCid).to.equal(cid);
      expect(r.newGlobalCid).to.equal("0x");
    });

    it("reverts with NotOperator for member BSs and outsiders", async () => {
      const { rounds, five, outsider } = await loadFixture(deployWithFiveBss);
      const deadline = BigInt(await time.latest()) + 500n;
      for (const who of [five[0], outsider]) {
        await expect(rounds.connect(who).openRound(fakeCid("g"), deadline))
          .to.be.revertedWithCustomError(rounds, "NotOperator")
          .withArgs(who.address);
      }
    });

    it("reverts with InvalidCid for CIDs shorter than 34 or longer than 64 bytes", async () => {
      const { rounds } = await loadFixture(deployWithFiveBss);
      const deadline = BigInt(await time.latest()) + 500n;
      for (const len of [0, 33, 65]) {
        await expect(rounds.openRound(new Uint8Array(len), deadline)).to.be.revertedWithCustomError(rounds, "InvalidCid").withArgs(len);
      }
      await expect(rounds.openRound(new Uint8Array(64), deadline)).to.emit(rounds, "RoundOpened");
    });

    it("reverts with DeadlineInPast unless the deadline is after the block's timestamp", async () => {
      const { rounds } = await loadFixture(deployWithFiveBss);
      const t = BigInt(await time.latest()) + 10n;
      await time.setNextBlockTimestamp(t);
      await expect(rounds.openRound(fakeCid("g"), t)).to.be.revertedWithCustomError(rounds, "DeadlineInPast").withArgs(t);
      await expect(rounds.openRound(fakeCid("g"), 0)).to.be.revertedWithCustomError(rounds, "DeadlineInPast").withArgs(0n);
      const t2 = BigInt(await time.latest()) + 10n;
      await time.setNextBlockTimestamp(t2);
      await expect(rounds.openRound(fakeCid("g"), t2 + 1n))
        .to.emit(rounds, "RoundOpened")
        .withArgs(1n, fakeCid("g"), t2 + 1n, t2 + 1n + WINDOW);
    });

    it("reverts with an arithmetic panic when deadline + window overflows uint64", async () => {
      const { rounds } = await loadFixture(deployWithFiveBss);
      await expect(rounds.openRound(fakeCid("g"), 2n ** 64n - 1n)).to.be.revertedWithPanic(0x11);
      const latest = 2n ** 64n - 1n - WINDOW;
      await expect(rounds.openRound(fakeCid("g"), latest)).to.emit(rounds, "RoundOpened").withArgs(1n, fakeCid("g"), latest, 2n ** 64n - 1n);
    });

    it("reverts with PreviousRoundNotFinalized while the previous round is open or only settled", async () => {
      const { rounds, verifyUntil } = await loadFixture(roundFixture);
      const later = verifyUntil + 10_000n;
      await expect(rounds.openRound(fakeCid("g1"), later)).to.be.revertedWithCustomError(rounds, "PreviousRoundNotFinalized").withArgs(1n);
      await time.increaseTo(verifyUntil + 1n);
      await rounds.settleRound(1);
      await expect(rounds.openRound(fakeCid("g1"), later)).to.be.revertedWithCustomError(rounds, "PreviousRoundNotFinalized").withArgs(1n);
      await rounds.recordGlobalModel(1, fakeCid("global-0"), []); // nothing passed: the model stays
      expect(await rounds.openRound.staticCall(fakeCid("global-0"), later)).to.equal(2n);
      await expect(rounds.openRound(fakeCid("global-0"), later)).to.emit(rounds, "RoundOpened").withArgs(2n, fakeCid("global-0"), later, later + WINDOW);
      expect(await rounds.currentRound()).to.equal(2n);
      expect(await rounds.acceptsSubmissions(2)).to.equal(true);
      expect(await rounds.acceptsSubmissions(1)).to.equal(false);
    });
  });

  describe("submitModel", () => {
    it("records a training model: ModelSubmitted, RecordAppended with the right leaf, views", async () => {
      const { rounds, recordLog, five } = await loadFixture(roundFixture);
      const bs = five[2];
      const cid = fakeCid("m");
      const index = await recordLog.length();
      const payload = trainingPayload(1n, bs.address, cid, 600n, 2n); // its action: twins 5 and 6, 300 samples each
      const leaf = leafOf(index, TRAINING_MODEL, payload);
      await expect(rounds.connect(bs).submitModel(1, cid))
        .to.emit(rounds, "ModelSubmitted")
        .withArgs(1n, bs.address, cid, 600n, 2n, index)
        .and.to.emit(recordLog, "RecordAppended")
        .withArgs(index, TRAINING_MODEL, payload, leaf);
      expect(await recordLog.leafAt(index)).to.equal(leaf);
      const s = await rounds.submission(1, bs.address);
      expect(s.exists).to.equal(true);
      expect(s.outcome).to.equal(BigInt(Outcome.Pending));
      expect(s.passVotes).to.equal(0n);
      expect(s.failVotes).to.equal(0n);
      expect(s.numTwins).to.equal(2n);
      expect(s.dataSize).to.equal(600n);
      expect(s.recordIndex).to.equal(index);
      expect(s.cid).to.equal(cid);
      expect(await rounds.submitters(1)).to.deep.equal([bs.address]);
    });

    it("keeps submitters in submission order and gives consecutive record indices", async () => {
      const { rounds, recordLog, five } = await loadFixture(roundFixture);
      const first = await recordLog.length();
      for (const [k, i] of [3, 0, 4].entries()) {
        await expect(rounds.connect(five[i]).submitModel(1, fakeCid(`m${i}`)))
          .to.emit(rounds, "ModelSubmitted")
          .withArgs(1n, five[i].address, fakeCid(`m${i}`), 200n * BigInt(i + 1), 2n, first + BigInt(k));
      }
      expect(await rounds.submitters(1)).to.deep.equal([five[3].address, five[0].address, five[4].address]);
    });

    it("accepts a submission at the deadline and reverts with SubmissionTooLate after it", async () => {
      const { rounds, five, deadline } = await loadFixture(roundFixture);
      await time.setNextBlockTimestamp(deadline);
      await expect(rounds.connect(five[0]).submitModel(1, fakeCid("a"))).to.emit(rounds, "ModelSubmitted");
      expect(await rounds.acceptsSubmissions(1)).to.equal(true);
      await time.setNextBlockTimestamp(deadline + 1n);
      await expect(rounds.connect(five[1]).submitModel(1, fakeCid("b")))
        .to.be.revertedWithCustomError(rounds, "SubmissionTooLate")
        .withArgs(1n, deadline);
      expect(await rounds.acceptsSubmissions(1)).to.equal(false);
    });

    it("reverts with AlreadySubmitted for a second model in the same round", async () => {
      const { rounds, five } = await loadFixture(submittedFixture);
      await expect(rounds.connect(five[1]).submitModel(1, fakeCid("again")))
        .to.be.revertedWithCustomError(rounds, "AlreadySubmitted")
        .withArgs(1n, five[1].address);
      expect((await rounds.submission(1, five[1].address)).cid).to.equal(fakeCid("model-1"));
    });

    it("weighs a model by the chain's record of the committed action, whatever the BS later records (self-reported weights)", async () => {
      // Attack class 1: a BS with 200 samples used to claim 2^64-1 in submitModel and take > 99.99999 % of Eq. 5.
      // There is no such argument any more; after committing, the BS inflates its twins' data records as far as the
      // registry allows: the model record keeps the committed 200 samples.
      const { rounds, twins, recordLog, five } = await loadFixture(roundFixture);
      const max = await twins.maxDataSize();
      for (const id of twinsOfBs(0)) await twins.connect(five[0]).recordTwinData(id, max, ethers.id("x"), ethers.id("y"));
      const index = await recordLog.length();
      await expect(rounds.connect(five[0]).submitModel(1, fakeCid("m")))
        .to.emit(rounds, "ModelSubmitted")
        .withArgs(1n, five[0].address, fakeCid("m"), 200n, 2n, index);
      const s = await rounds.submission(1, five[0].address);
      expect([s.dataSize, s.numTwins]).to.deep.equal([200n, 2n]);
    });

    it("reverts with NoCommittedAction for a member that committed no action in the slot", async () => {
      const p = await loadFixture(deployWithFiveBss);
      const deadline = BigInt(await time.latest()) + 1000n;
      await p.rounds.openRound(fakeCid("g"), deadline);
      await expect(p.rounds.connect(p.five[0]).submitModel(1, fakeCid("m")))
        .to.be.revertedWithCustomError(p.rounds, "NoCommittedAction")
        .withArgs(1n, p.five[0].address);
    });

    it("reverts with EmptyModel when the committed twins hold no recorded data", async () => {
      const p = await loadFixture(deployProtocol);
      const bs = p.bss[0];
      await p.registry.admit(bs.address);
      await p.twins.connect(bs).registerTwin(userId(0)); // no data record
      await p.rounds.openRound(fakeCid("g"), BigInt(await time.latest()) + 1000n);
      await commit(p, bs, 1, [1]);
      await expect(p.rounds.connect(bs).submitModel(1, fakeCid("m"))).to.be.revertedWithCustomError(p.rounds, "EmptyModel");
    });

    it("reverts with InvalidCid for bad CID lengths", async () => {
      const { rounds, five } = await loadFixture(roundFixture);
      for (const len of [0, 33, 65]) {
        await expect(rounds.connect(five[0]).submitModel(1, new Uint8Array(len)))
          .to.be.revertedWithCustomError(rounds, "InvalidCid")
          .withArgs(len);
      }
    });

    it("reverts with NotMember for outsiders and the operator", async () => {
      const { rounds, outsider, mbs } = await loadFixture(roundFixture);
      for (const who of [outsider, mbs]) {
        await expect(rounds.connect(who).submitModel(1, fakeCid("m")))
          .to.be.revertedWithCustomError(rounds, "NotMember")
          .withArgs(who.address);
      }
    });

    it("reverts with InvalidRoundStatus for a round that is not open", async () => {
      const { rounds, five, verifyUntil } = await loadFixture(roundFixture);
      await expect(rounds.connect(five[0]).submitModel(0, fakeCid("m")))
        .to.be.revertedWithCustomError(rounds, "InvalidRoundStatus")
        .withArgs(0n, Status.None);
      await expect(rounds.connect(five[0]).submitModel(2, fakeCid("m")))
        .to.be.revertedWithCustomError(rounds, "InvalidRoundStatus")
        .withArgs(2n, Status.None);
      await time.increaseTo(verifyUntil + 1n);
      await rounds.settleRound(1);
      await expect(rounds.connect(five[0]).submitModel(1, fakeCid("m")))
        .to.be.revertedWithCustomError(rounds, "InvalidRoundStatus")
        .withArgs(1n, Status.Settled);
    });

    it("reverts with RoundFull for a 33rd submission (a BS removed after submitting frees a member slot)", async () => {
      const { rounds, registry, wallets, ledger, twins } = await loadFixture(crowdedRoundFixture);
      expect(await rounds.submitters(1)).to.have.length(32);
      await registry.remove(wallets[0].address);
      await registry.admit(wallets[32].address);
      await commit({ ledger }, wallets[32], 1, [await hostTwin({ twins }, wallets[32], 32)]);
      await expect(rounds.connect(wallets[32]).submitModel(1, fakeCid("one-too-many")))
        .to.be.revertedWithCustomError(rounds, "RoundFull")
        .withArgs(1n);
      expect(await rounds.submitters(1)).to.have.length(32);
    });
  });

  describe("verifyModel", () => {
    it("records a verdict: ModelVerified, vote counts and hasVerified", async () => {
      const { rounds, five } = await loadFixture(submittedFixture);
      const [b0, b1, b2] = five;
      expect(await rounds.hasVerified(1, b0.address, b1.address)).to.equal(false);
      await expect(rounds.connect(b1).verifyModel(1, b0.address, true, 9321))
        .to.emit(rounds, "ModelVerified")
        .withArgs(1n, b0.address, b1.address, true, 9321n);
      await expect(rounds.connect(b2).verifyModel(1, b0.address, false, 0))
        .to.emit(rounds, "ModelVerified")
        .withArgs(1n, b0.address, b2.address, false, 0n);
      expect(await rounds.hasVerified(1, b0.address, b1.address)).to.equal(true);
      expect(await rounds.hasVerified(1, b0.address, b2.address)).to.equal(true);
      expect(await rounds.hasVerified(1, b1.address, b0.address)).to.equal(false);
      const s = await rounds.submission(1, b0.address);
      expect(s.passVotes).to.equal(1n);
      expect(s.failVotes).to.equal(1n);
      expect(s.outcome).to.equal(BigInt(Outcome.Pending));
    });

    it("accepts verdicts from a BS that did not submit, with the maximum score", async () => {
      const { rounds, five } = await loadFixture(submittedFixture);
      await expect(rounds.connect(five[4]).verifyModel(1, five[3].address, true, 10000))
        .to.emit(rounds, "ModelVerified")
        .withArgs(1n, five[3].address, five[4].address, true, 10000n);
    });

    it("accepts verdicts until verifyUntil and reverts with VerificationClosed after it", async () => {
      const { rounds, five, verifyUntil } = await loadFixture(submittedFixture);
      await time.setNextBlockTimestamp(verifyUntil);
      await expect(rounds.connect(five[1]).verifyModel(1, five[0].address, true, 1)).to.emit(rounds, "ModelVerified");
      await time.setNextBlockTimestamp(verifyUntil + 1n);
      await expect(rounds.connect(five[2]).verifyModel(1, five[0].address, true, 1))
        .to.be.revertedWithCustomError(rounds, "VerificationClosed")
        .withArgs(1n, verifyUntil);
    });

    it("reverts with ScoreOutOfRange above 10000", async () => {
      const { rounds, five } = await loadFixture(submittedFixture);
      for (const score of [10001, 65535]) {
        await expect(rounds.connect(five[1]).verifyModel(1, five[0].address, true, score))
          .to.be.revertedWithCustomError(rounds, "ScoreOutOfRange")
          .withArgs(score);
      }
    });

    it("reverts with SelfVerification for the BS's own model", async () => {
      const { rounds, five } = await loadFixture(submittedFixture);
      await expect(rounds.connect(five[0]).verifyModel(1, five[0].address, true, 5000))
        .to.be.revertedWithCustomError(rounds, "SelfVerification")
        .withArgs(five[0].address);
    });

    it("reverts with NoSuchSubmission for a BS without a model", async () => {
      const { rounds, five, outsider } = await loadFixture(submittedFixture);
      for (const target of [five[4].address, outsider.address, ZeroAddress]) {
        await expect(rounds.connect(five[0]).verifyModel(1, target, true, 5000))
          .to.be.revertedWithCustomError(rounds, "NoSuchSubmission")
          .withArgs(1n, target);
      }
    });

    it("reverts with AlreadyVerified for a second verdict by the same verifier", async () => {
      const { rounds, five } = await loadFixture(verdictsFixture);
      await expect(rounds.connect(five[1]).verifyModel(1, five[0].address, false, 0))
        .to.be.revertedWithCustomError(rounds, "AlreadyVerified")
        .withArgs(1n, five[0].address, five[1].address);
      expect((await rounds.submission(1, five[0].address)).failVotes).to.equal(1n);
    });

    it("reverts with NotMember for outsiders and the operator", async () => {
      const { rounds, five, outsider, mbs } = await loadFixture(submittedFixture);
      for (const who of [outsider, mbs]) {
        await expect(rounds.connect(who).verifyModel(1, five[0].address, true, 1))
          .to.be.revertedWithCustomError(rounds, "NotMember")
          .withArgs(who.address);
      }
    });

    it("reverts with InvalidRoundStatus for unopened and settled rounds", async () => {
      const { rounds, five } = await loadFixture(settledFixture);
      await expect(rounds.connect(five[4]).verifyModel(1, five[3].address, true, 1))
        .to.be.revertedWithCustomError(rounds, "InvalidRoundStatus")
        .withArgs(1n, Status.Settled);
      await expect(rounds.connect(five[4]).verifyModel(7, five[3].address, true, 1))
        .to.be.revertedWithCustomError(rounds, "InvalidRoundStatus")
        .withArgs(7n, Status.None);
    });
  });

  describe("closeSubmissions", () => {
    it("once every member submitted, moves the deadline to now and the verification window after it: SubmissionsClosed", async () => {
      const { rounds, five } = await loadFixture(submittedFixture);
      await rounds.connect(five[4]).submitModel(1, fakeCid("model-4"));
      const at = BigInt(await time.latest()) + 5n;
      await time.setNextBlockTimestamp(at);
      await expect(rounds.closeSubmissions(1)).to.emit(rounds, "SubmissionsClosed").withArgs(1n, at, at + WINDOW);
      const r = await rounds.getRound(1);
      expect(r.deadline).to.equal(at);
      expect(r.verifyUntil).to.equal(at + WINDOW);
      await expect(rounds.connect(five[4]).verifyModel(1, five[0].address, true, 9000)).to.emit(rounds, "ModelVerified");
    });

    it("reverts with SubmissionsPending while a member has not submitted (an MBS shutting out all but a favoured BS)", async () => {
      // Attack class 7: the MBS used to close a round right after its favoured BS submitted.
      const { rounds, five } = await loadFixture(roundFixture);
      await rounds.connect(five[2]).submitModel(1, fakeCid("favoured"));
      await expect(rounds.closeSubmissions(1)).to.be.revertedWithCustomError(rounds, "SubmissionsPending").withArgs(1n, 1n, 5n);
      const { rounds: r4 } = await loadFixture(submittedFixture);
      await expect(r4.closeSubmissions(1)).to.be.revertedWithCustomError(r4, "SubmissionsPending").withArgs(1n, 4n, 5n);
      await expect(r4.connect(five[4]).submitModel(1, fakeCid("model-4"))).to.emit(r4, "ModelSubmitted"); // still open
    });

    it("reverts with NotOperator for BSs, SubmissionTooLate after the deadline, InvalidRoundStatus for a round not open", async () => {
      const { rounds, five, deadline } = await loadFixture(submittedFixture);
      await expect(rounds.connect(five[0]).closeSubmissions(1)).to.be.revertedWithCustomError(rounds, "NotOperator");
      await expect(rounds.closeSubmissions(2)).to.be.revertedWithCustomError(rounds, "InvalidRoundStatus").withArgs(2n, Status.None);
      await time.setNextBlockTimestamp(deadline);
      await expect(rounds.closeSubmissions(1)).to.be.revertedWithCustomError(rounds, "SubmissionTooLate").withArgs(1n, deadline);
    });
  });

  describe("settleRound", () => {
    it("settles before verifyUntil once submissions are closed and every model has a verdict from every other member", async () => {
      const { rounds, five } = await loadFixture(submittedFixture);
      await rounds.connect(five[4]).submitModel(1, fakeCid("model-4"));
      await rounds.closeSubmissions(1);
      const verifyUntil = (await rounds.getRound(1)).verifyUntil;
      // bs0..bs4 submitted; each needs verdicts from the 4 other members.
      for (let m = 0; m < 5; m++) {
        for (let v = 0; v < 5; v++) if (v !== m) await rounds.connect(five[v]).verifyModel(1, five[m].address, true, 9000);
        if (m < 4) await expect(rounds.settleRound(1)).to.be.revertedWithCustomError(rounds, "VerificationStillOpen"); // not all yet
      }
      expect(BigInt(await time.latest())).to.be.lessThan(verifyUntil);
      await expect(rounds.settleRound(1)).to.emit(rounds, "RoundSettled").withArgs(1n, 5n, 0n);
    });

    it("a round whose deadline passed without any submission waits for its verification window", async () => {
      const { rounds, deadline } = await loadFixture(roundFixture);
      await time.increaseTo(deadline + 1n);
      const verifyUntil = (await rounds.getRound(1)).verifyUntil;
      await expect(rounds.settleRound(1)).to.be.revertedWithCustomError(rounds, "VerificationStillOpen").withArgs(1n, verifyUntil);
      await time.increaseTo(verifyUntil + 1n);
      await expect(rounds.settleRound(1)).to.emit(rounds, "RoundSettled").withArgs(1n, 0n, 0n);
    });

    it("full verdicts do not settle early while submissions are still open", async () => {
      const { rounds, five, verifyUntil } = await loadFixture(submittedFixture);
      for (let m = 0; m < 4; m++) for (let v = 0; v < 5; v++) if (v !== m) await rounds.connect(five[v]).verifyModel(1, five[m].address, true, 9000);
      await expect(rounds.settleRound(1)).to.be.revertedWithCustomError(rounds, "VerificationStillOpen").withArgs(1n, verifyUntil);
    });

    it("reverts with VerificationStillOpen until verifyUntil has passed", async () => {
      const { rounds, verifyUntil } = await loadFixture(verdictsFixture);
      await expect(rounds.settleRound(1)).to.be.revertedWithCustomError(rounds, "VerificationStillOpen").withArgs(1n, verifyUntil);
      await time.setNextBlockTimestamp(verifyUntil);
      await expect(rounds.settleRound(1)).to.be.revertedWithCustomError(rounds, "VerificationStillOpen").withArgs(1n, verifyUntil);
      await time.setNextBlockTimestamp(verifyUntil + 1n);
      await expect(rounds.settleRound(1)).to.emit(rounds, "RoundSettled");
    });

    it("pays passed models, slashes failed ones, leaves unverified ones alone: exact events and balances", async () => {
      const { rounds, coin, five, verifyUntil } = await loadFixture(verdictsFixture);
      const [b0, b1, b2, b3, b4] = five;
      const before = await Promise.all(five.map((b) => coin.balanceOf(b.address)));
      for (const bal of before) expect(bal).to.be.gt(0n);
      const supply = await coin.totalSupply();
      const slash2 = (before[2] * SLASH_BPS) / 10000n;

      await time.increaseTo(verifyUntil + 1n);
      const tx = rounds.settleRound(1);
      await expect(tx).to.emit(rounds, "ModelSettled").withArgs(1n, b0.address, Outcome.Passed, REWARD, 0n);
      await expect(tx).to.emit(rounds, "ModelSettled").withArgs(1n, b1.address, Outcome.Unverified, 0n, 0n);
      await expect(tx).to.emit(rounds, "ModelSettled").withArgs(1n, b2.address, Outcome.Failed, 0n, slash2);
      await expect(tx).to.emit(rounds, "ModelSettled").withArgs(1n, b3.address, Outcome.Unverified, 0n, 0n);
      await expect(tx).to.emit(rounds, "RoundSettled").withArgs(1n, 1n, 1n);
      await expect(tx).to.changeTokenBalances(coin, [b0, b1, b2, b3, b4], [REWARD, 0n, -slash2, 0n, 0n]);

      expect(await coin.totalSupply()).to.equal(supply + REWARD - slash2);
      expect(await coin.getVotes(b0.address)).to.equal(before[0] + REWARD);
      expect((await rounds.submission(1, b0.address)).outcome).to.equal(BigInt(Outcome.Passed));
      expect((await rounds.submission(1, b1.address)).outcome).to.equal(BigInt(Outcome.Unverified));
      expect((await rounds.submission(1, b2.address)).outcome).to.equal(BigInt(Outcome.Failed));
      expect((await rounds.submission(1, b3.address)).outcome).to.equal(BigInt(Outcome.Unverified));
      expect((await rounds.submission(1, b4.address)).exists).to.equal(false);
      expect((await rounds.getRound(1)).status).to.equal(BigInt(Status.Settled));
      expect(await rounds.acceptsSubmissions(1)).to.equal(false);
    });

    it("emits exactly one ModelSettled per submission, in submission order", async () => {
      const { rounds, five, verifyUntil } = await loadFixture(verdictsFixture);
      await time.increaseTo(verifyUntil + 1n);
      const receipt = await (await rounds.settleRound(1)).wait();
      const settled = receipt!.logs.map((l) => rounds.interface.parseLog(l)).filter((l) => l?.name === "ModelSettled");
      expect(settled.map((l) => l!.args.bs)).to.deep.equal(five.slice(0, 4).map((b) => b.address));
      expect(settled.map((l) => Number(l!.args.outcome))).to.deep.equal([Outcome.Passed, Outcome.Unverified, Outcome.Failed, Outcome.Unverified]);
    });

    it("a tie is not a fail and a minority below the quorum decides nothing (a colluder cancelling an honest verdict)", async () => {
      // Attack class 3 (in part): a tie used to count as a fail and a single verdict decided; with two colluders out
      // of five, one fail verdict against one pass slashed an honest model.
      const { rounds, coin, five, verifyUntil } = await loadFixture(submittedFixture);
      const [b0, b1, b2, b3, b4] = five;
      await rounds.connect(b1).verifyModel(1, b0.address, true, 9000); // honest
      await rounds.connect(b4).verifyModel(1, b0.address, false, 0); // colluder: tie
      await rounds.connect(b4).verifyModel(1, b1.address, false, 0); // colluder alone: 1 of 4, below quorum
      await rounds.connect(b0).verifyModel(1, b2.address, false, 0);
      await rounds.connect(b1).verifyModel(1, b2.address, false, 0);
      await rounds.connect(b3).verifyModel(1, b2.address, false, 0); // 3 of 4 fail: failed
      await time.increaseTo(verifyUntil + 1n);
      const tx = rounds.settleRound(1);
      await expect(tx).to.emit(rounds, "ModelSettled").withArgs(1n, b0.address, Outcome.Unverified, 0n, 0n);
      await expect(tx).to.emit(rounds, "ModelSettled").withArgs(1n, b1.address, Outcome.Unverified, 0n, 0n);
      await expect(tx).to.changeTokenBalances(coin, [b0, b1], [0n, 0n]);
      expect((await rounds.submission(1, b2.address)).outcome).to.equal(BigInt(Outcome.Failed));
      expect(await rounds.quorumBps()).to.equal(BigInt(PARAMS.verificationQuorumBps));
    });

    it("a failed model of a BS without coins is slashed 0", async () => {
      const p = await loadFixture(deployProtocol);
      const [b0, b1] = p.bss;
      await p.registry.admit(b0.address);
      await p.registry.admit(b1.address);
      await p.twins.connect(b0).registerTwin(userId(0));
      await p.twins.connect(b0).recordTwinData(1, 10, ethers.id("d"), ethers.id("s"));
      const deadline = BigInt(await time.latest()) + 100n;
      await p.rounds.openRound(fakeCid("g"), deadline);
      await commit(p, b0, 1, [1]);
      await p.rounds.connect(b0).submitModel(1, fakeCid("m0"));
      await p.rounds.connect(b1).verifyModel(1, b0.address, false, 0);
      await time.increaseTo(deadline + WINDOW + 1n);
      await expect(p.rounds.connect(b1).settleRound(1))
        .to.emit(p.rounds, "ModelSettled")
        .withArgs(1n, b0.address, Outcome.Failed, 0n, 0n)
        .and.to.emit(p.rounds, "RoundSettled")
        .withArgs(1n, 0n, 1n)
        .and.not.to.emit(p.coin, "Transfer");
    });

    it("settles a round without submissions", async () => {
      const { rounds, verifyUntil } = await loadFixture(roundFixture);
      await time.increaseTo(verifyUntil + 1n);
      await expect(rounds.settleRound(1)).to.emit(rounds, "RoundSettled").withArgs(1n, 0n, 0n).and.not.to.emit(rounds, "ModelSettled");
    });

    it("a member BS may settle; an outsider cannot (NotMember)", async () => {
      const { rounds, five, outsider, verifyUntil } = await loadFixture(verdictsFixture);
      await time.increaseTo(verifyUntil + 1n);
      await expect(rounds.connect(outsider).settleRound(1)).to.be.revertedWithCustomError(rounds, "NotMember").withArgs(outsider.address);
      await expect(rounds.connect(five[4]).settleRound(1)).to.emit(rounds, "RoundSettled").withArgs(1n, 1n, 1n);
    });

    it("reverts with InvalidRoundStatus for unopened, settled and finalized rounds", async () => {
      const { rounds, five } = await loadFixture(settledFixture);
      await expect(rounds.settleRound(1)).to.be.revertedWithCustomError(rounds, "InvalidRoundStatus").withArgs(1n, Status.Settled);
      await expect(rounds.connect(five[0]).settleRound(2)).to.be.revertedWithCustomError(rounds, "InvalidRoundStatus").withArgs(2n, Status.None);
      await rounds.recordGlobalModel(1, fakeCid("g1"), [five[0].address]);
      await expect(rounds.settleRound(1)).to.be.revertedWithCustomError(rounds, "InvalidRoundStatus").withArgs(1n, Status.Finalized);
    });
  });

  describe("recordGlobalModel", () => {
    it("records the new global model: GlobalModelRecorded, round Finalized", async () => {
      const { rounds, five, globalCid } = await loadFixture(settledFixture);
      const cid = fakeCid("global-1");
      await expect(rounds.recordGlobalModel(1, cid, [five[0].address]))
        .to.emit(rounds, "GlobalModelRecorded")
        .withArgs(1n, cid, [five[0].address]);
      const r = await rounds.getRound(1);
      expect(r.status).to.equal(BigInt(Status.Finalized));
      expect(r.newGlobalCid).to.equal(cid);
      expect(r.globalCid).to.equal(globalCid);
    });

    it("accepts an empty aggregated list when no model passed", async () => {
      const { rounds, verifyUntil } = await loadFixture(submittedFixture);
      await time.increaseTo(verifyUntil + 1n);
      await rounds.settleRound(1); // no verdicts: every model unverified
      await expect(rounds.recordGlobalModel(1, fakeCid("global-0"), [])).to.emit(rounds, "GlobalModelRecorded").withArgs(1n, fakeCid("global-0"), []);
    });

    it("reverts with GlobalModelMismatch when a round without a passed model records another model (a forced empty round)", async () => {
      // Found in review: the MBS opened a round nobody could meet, then recorded any CID with an empty aggregation.
      const { rounds, verifyUntil, globalCid } = await loadFixture(roundFixture);
      await time.increaseTo(verifyUntil + 1n);
      await rounds.settleRound(1);
      await expect(rounds.recordGlobalModel(1, fakeCid("of my choosing"), []))
        .to.be.revertedWithCustomError(rounds, "GlobalModelMismatch")
        .withArgs(1n, globalCid, fakeCid("of my choosing"));
      await expect(rounds.recordGlobalModel(1, globalCid, [])).to.emit(rounds, "GlobalModelRecorded");
    });

    it("reverts with AggregatedIncomplete for a list that leaves out a passed model (an MBS dropping accepted models)", async () => {
      // Attack class 7: the MBS used to record an empty aggregation although models passed.
      const { rounds, five } = await loadFixture(settledFixture);
      await expect(rounds.recordGlobalModel(1, fakeCid("g1"), [])).to.be.revertedWithCustomError(rounds, "AggregatedIncomplete").withArgs(1n, 1n, 0n);
      const pair = sortAddresses([five[0].address, five[1].address]);
      await expect(rounds.recordGlobalModel(1, fakeCid("g1"), pair)).to.be.revertedWithCustomError(rounds, "AggregatedIncomplete").withArgs(1n, 1n, 2n);
    });

    it("reverts with NotOperator for member BSs and outsiders", async () => {
      const { rounds, five, outsider } = await loadFixture(settledFixture);
      for (const who of [five[0], outsider]) {
        await expect(rounds.connect(who).recordGlobalModel(1, fakeCid("g1"), []))
          .to.be.revertedWithCustomError(rounds, "NotOperator")
          .withArgs(who.address);
      }
    });

    it("reverts with InvalidCid for bad CID lengths", async () => {
      const { rounds } = await loadFixture(settledFixture);
      for (const len of [0, 33, 65]) {
        await expect(rounds.recordGlobalModel(1, new Uint8Array(len), [])).to.be.revertedWithCustomError(rounds, "InvalidCid").withArgs(len);
      }
    });

    it("reverts with InvalidRoundStatus before settlement, for unopened rounds and after finalization", async () => {
      const { rounds } = await loadFixture(verdictsFixture);
      await expect(rounds.recordGlobalModel(1, fakeCid("g1"), [])).to.be.revertedWithCustomError(rounds, "InvalidRoundStatus").withArgs(1n, Status.Open);
      await expect(rounds.recordGlobalModel(0, fakeCid("g1"), [])).to.be.revertedWithCustomError(rounds, "InvalidRoundStatus").withArgs(0n, Status.None);
      const { rounds: settled, five } = await loadFixture(settledFixture);
      await settled.recordGlobalModel(1, fakeCid("g1"), [five[0].address]);
      await expect(settled.recordGlobalModel(1, fakeCid("g2"), [five[0].address])).to.be.revertedWithCustomError(settled, "InvalidRoundStatus").withArgs(1n, Status.Finalized);
    });

    it("reverts with ModelNotPassed for failed, unverified and missing models", async () => {
      const { rounds, five } = await loadFixture(settledFixture);
      for (const b of [five[1], five[2], five[3], five[4]]) {
        await expect(rounds.recordGlobalModel(1, fakeCid("g1"), [b.address]))
          .to.be.revertedWithCustomError(rounds, "ModelNotPassed")
          .withArgs(1n, b.address);
      }
    });

    it("reverts with AggregatedNotSorted for the zero address", async () => {
      const { rounds } = await loadFixture(settledFixture);
      await expect(rounds.recordGlobalModel(1, fakeCid("g1"), [ZeroAddress])).to.be.revertedWithCustomError(rounds, "AggregatedNotSorted");
    });

    it("aggregates all 32 passed models of a full round; any other list reverts", async () => {
      const { rounds, registry, wallets, deadline } = await loadFixture(crowdedRoundFixture);
      const submitters = wallets.slice(0, 32);
      // wallets[32] joins in place of wallets[31]; every model gets 16 pass verdicts from current members (the quorum:
      // half of the 31 or 32 other members)
      await registry.remove(submitters[31].address);
      await registry.admit(wallets[32].address);
      const members = [...submitters.slice(0, 31), wallets[32]];
      for (const [i, w] of submitters.entries()) {
        const verifiers = members.filter((m) => m !== w);
        for (let k = 0; k < 16; k++) await rounds.connect(verifiers[(i + k) % verifiers.length]).verifyModel(1, w.address, true, 8000);
      }
      await time.increaseTo(deadline + WINDOW + 1n);
      await expect(rounds.settleRound(1)).to.emit(rounds, "RoundSettled").withArgs(1n, 32n, 0n);

      const sorted = sortAddresses(submitters.map((w) => w.address));
      const tooMany = sortAddresses([...sorted, wallets[32].address]);
      await expect(rounds.recordGlobalModel(1, fakeCid("g1"), tooMany)).to.be.revertedWithCustomError(rounds, "AggregatedIncomplete").withArgs(1n, 32n, 33n);
      // duplicates and decreasing order of the right length
      const dup = [sorted[0], ...sorted.slice(0, 31)];
      await expect(rounds.recordGlobalModel(1, fakeCid("g1"), dup)).to.be.revertedWithCustomError(rounds, "AggregatedNotSorted");
      await expect(rounds.recordGlobalModel(1, fakeCid("g1"), [...sorted].reverse())).to.be.revertedWithCustomError(rounds, "AggregatedNotSorted");
      // a failed/unverified address in place of a passed one
      const swapped = sortAddresses([...sorted.slice(1), wallets[32].address]);
      await expect(rounds.recordGlobalModel(1, fakeCid("g1"), swapped)).to.be.revertedWithCustomError(rounds, "ModelNotPassed").withArgs(1n, wallets[32].address);
      await expect(rounds.recordGlobalModel(1, fakeCid("g1"), sorted)).to.emit(rounds, "GlobalModelRecorded").withArgs(1n, fakeCid("g1"), sorted);
    });
  });

  describe("round lifecycle and views", () => {
    it("a full round: open, submit, verify, settle, finalize, then round 2 opens and works independently", async () => {
      const { rounds, coin, ledger, five, verifyUntil } = await loadFixture(settledFixture);
      await rounds.recordGlobalModel(1, fakeCid("global-1"), [five[0].address]);
      const deadline2 = BigInt(await time.latest()) + 200n;
      await expect(rounds.openRound(fakeCid("global-1"), deadline2)).to.emit(rounds, "RoundOpened").withArgs(2n, fakeCid("global-1"), deadline2, deadline2 + WINDOW);
      expect(deadline2).to.be.gt(verifyUntil);
      // a BS that submitted in round 1 may submit again in round 2 (after committing its action of slot 2)
      await expect(rounds.connect(five[0]).submitModel(2, fakeCid("r2"))).to.be.revertedWithCustomError(rounds, "NoCommittedAction");
      await commit({ ledger }, five[0], 2, twinsOfBs(0));
      await expect(rounds.connect(five[0]).submitModel(2, fakeCid("r2"))).to.emit(rounds, "ModelSubmitted");
      expect(await rounds.submitters(2)).to.deep.equal([five[0].address]);
      expect(await rounds.submitters(1)).to.have.length(4);
      await rounds.connect(five[1]).verifyModel(2, five[0].address, true, 1);
      await rounds.connect(five[2]).verifyModel(2, five[0].address, true, 1); // 2 of 4: the quorum
      await time.increaseTo(deadline2 + WINDOW + 1n);
      await expect(rounds.settleRound(2)).to.changeTokenBalance(coin, five[0], REWARD);
    });

    it("views of unknown rounds and submissions are empty", async () => {
      const { rounds, five } = await loadFixture(deployWithFiveBss);
      expect(await rounds.currentRound()).to.equal(0n);
      expect(await rounds.acceptsSubmissions(0)).to.equal(false);
      expect(await rounds.acceptsSubmissions(1)).to.equal(false);
      const r = await rounds.getRound(1);
      expect(r.status).to.equal(BigInt(Status.None));
      expect(r.deadline).to.equal(0n);
      expect(r.globalCid).to.equal("0x");
      expect(await rounds.submitters(1)).to.deep.equal([]);
      const s = await rounds.submission(1, five[0].address);
      expect(s.exists).to.equal(false);
      expect(s.cid).to.equal("0x");
      expect(await rounds.hasVerified(1, five[0].address, five[1].address)).to.equal(false);
    });
  });
});
