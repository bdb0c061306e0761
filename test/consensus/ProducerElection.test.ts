import { expect } from "chai";
import { ethers, network } from "hardhat";
import { setBalance, time } from "@nomicfoundation/hardhat-network-helpers";
import { COIN, PARAMS, deployWithFiveBssWithTestAdmin, gotoEpoch } from "../fixtures";
import { ProducerElection__factory } from "../../typechain-types";
import { ROLES } from "../../src/chain/roles";
import { enterEpoch, enterSlot, loadPinned } from "./dpos.helpers";

type Five = Awaited<ReturnType<typeof deployWithFiveBssWithTestAdmin>>;

/** All five BSs stand, in seat order. */
async function candidatesFixture() {
  const p = await deployWithFiveBssWithTestAdmin();
  for (const bs of p.five) await p.election.connect(bs).registerCandidate();
  const bal = await Promise.all(p.five.map((bs) => p.stake.bondedOf(bs.address)));
  return { ...p, bal };
}

/** All five BSs stand and each approves itself. */
async function selfVotesFixture() {
  const p = await candidatesFixture();
  for (const bs of p.five) await p.election.connect(bs).vote([bs.address]);
  return p;
}

/** The JAILER_ROLE is held by the operator so tests can jail directly. */
async function jailerFixture() {
  const p = await selfVotesFixture();
  await p.election.grantRole(ROLES.JAILER, p.mbs.address);
  return p;
}

const addrs = (signers: { address: string }[]) => signers.map((s) => s.address);

async function snapshotOf(p: Five, epoch: bigint) {
  return (await p.election.epochStart(epoch)) - 1n;
}

/**
 * Move `amount` (all of `from`'s stake) of bonded coins from `from` to `to` in one block mined at `timestamp`: the
 * test admin slashes `from` fully and credits `to` (a bond moves between BSs only through unbonding, a withdrawal and
 * a new bond; what the election sees is the bond at its checkpoint, which this sets directly).
 */
async function moveBond(p: Five, from: { address: string }, to: { address: string }, amount: bigint, timestamp: bigint) {
  await p.stake.grantRole(ROLES.PROTOCOL, p.mbs.address);
  await network.provider.send("evm_setAutomine", [false]);
  try {
    await p.stake.slash(from.address, 10_000, { gasLimit: 500_000 });
    await p.stake.credit(to.address, amount, { gasLimit: 500_000 });
    await network.provider.send("evm_mine", [Number(timestamp)]);
  } finally {
    await network.provider.send("evm_setAutomine", [true]);
  }
}

describe("ProducerElection", () => {
  describe("fixture assumptions", () => {
    it("gives the five BSs Eq. 6 coins in strictly increasing order (1:2:3:4:5)", async () => {
      const { bal } = await loadPinned(candidatesFixture);
      for (let i = 0; i < 5; i++) expect(bal[i]).to.equal((1000n * COIN * BigInt(200 * (i + 1))) / 3000n);
      for (let i = 1; i < 5; i++) expect(bal[i]).to.be.gt(bal[i - 1]);
    });
  });

  describe("constructor", () => {
    async function args(p: Five) {
      return {
        registry: await p.registry.getAddress(),
        coin: await p.stake.getAddress(),
      };
    }

    it("sets the immutables and grants DEFAULT_ADMIN_ROLE to the admin", async () => {
      const p = await loadPinned(deployWithFiveBssWithTestAdmin);
      const a = await args(p);
      const genesis = BigInt(await time.latest()) - 100n;
      const e = await new ProducerElection__factory(p.mbs).deploy(a.registry, a.coin, genesis, 7, 5, 4, 3, p.bss[7].address);
      expect(await e.registry()).to.equal(a.registry);
      expect(await e.stake()).to.equal(a.coin);
      expect(await e.genesisTime()).to.equal(genesis);
      expect(await e.slotDuration()).to.equal(7n);
      expect(await e.slotsPerEpoch()).to.equal(5n);
      expect(await e.producersPerEpoch()).to.equal(4n);
      expect(await e.jailEpochs()).to.equal(3n);
      expect(await e.hasRole(await e.DEFAULT_ADMIN_ROLE(), p.bss[7].address)).to.be.true;
      expect(await e.hasRole(await e.DEFAULT_ADMIN_ROLE(), p.mbs.address)).to.be.false;
      expect(await e.MAX_CANDIDATES()).to.equal(32n);
      expect(await e.JAILER_ROLE()).to.equal(ROLES.JAILER);
      // 100 s after genesis with 7 s slots: slot 14 (of epoch 2 with 5 slots per epoch).
      expect(await e.currentSlot()).to.equal((BigInt(await time.latest()) - genesis) / 7n);
    });

    it("uses the deployment block's timestamp when genesisTime is 0", async () => {
      const p = await loadPinned(deployWithFiveBssWithTestAdmin);
      const a = await args(p);
      const e = await new ProducerElection__factory(p.mbs).deploy(a.registry, a.coin, 0, 12, 10, 3, 2, p.mbs.address);
      const receipt = await e.deploymentTransaction()!.wait();
      const block = await ethers.provider.getBlock(receipt!.blockNumber);
      expect(await e.genesisTime()).to.equal(BigInt(block!.timestamp));
      expect(await e.currentSlot()).to.equal(0n);
    });

    it("accepts a genesis equal to the deployment timestamp and refuses one in the future", async () => {
      const p = await loadPinned(deployWithFiveBssWithTestAdmin);
      const a = await args(p);
      const f = new ProducerElection__factory(p.mbs);
      const t = BigInt(await time.latest()) + 10n;
      await time.setNextBlockTimestamp(t);
      const e = await f.deploy(a.registry, a.coin, t, 12, 10, 3, 2, p.mbs.address);
      expect(await e.genesisTime()).to.equal(t);
      await time.setNextBlockTimestamp(t + 10n);
      await expect(f.deploy(a.registry, a.coin, t + 11n, 12, 10, 3, 2, p.mbs.address)).to.be.revertedWithCustomError(
        f,
        "InvalidParameter",
      );
    });

    it("reverts ZeroAddress for a zero registry, stake vault or admin", async () => {
      const p = await loadPinned(deployWithFiveBssWithTestAdmin);
      const a = await args(p);
      const f = new ProducerElection__factory(p.mbs);
      const z = ethers.ZeroAddress;
      await expect(f.deploy(z, a.coin, 0, 12, 10, 3, 2, p.mbs.address)).to.be.revertedWithCustomError(f, "ZeroAddress");
      await expect(f.deploy(a.registry, z, 0, 12, 10, 3, 2, p.mbs.address)).to.be.revertedWithCustomError(f, "ZeroAddress");
      await expect(f.deploy(a.registry, a.coin, 0, 12, 10, 3, 2, z)).to.be.revertedWithCustomError(f, "ZeroAddress");
    });

    it("reverts InvalidParameter for a zero slot duration, slots per epoch or jail epochs, N < 3 (MIN_PRODUCERS) or N > 32", async () => {
      const p = await loadPinned(deployWithFiveBssWithTestAdmin);
      const a = await args(p);
      const f = new ProducerElection__factory(p.mbs);
      const m = p.mbs.address;
      for (const [slot, perEpoch, n, jail] of [
        [0, 10, 3, 2],
        [12, 0, 3, 2],
        [12, 10, 0, 2],
        [12, 10, 1, 2], // one producer would finalise its own blocks alone
        [12, 10, 2, 2], // with two, one rejection would decide
        [12, 10, 3, 0],
        [12, 10, 33, 2],
      ]) {
        await expect(f.deploy(a.registry, a.coin, 0, slot, perEpoch, n, jail, m)).to.be.revertedWithCustomError(
          f,
          "InvalidParameter",
        );
      }
      const max = await f.deploy(a.registry, a.coin, 0, 1, 1, 32, 1, m);
      expect(await max.producersPerEpoch()).to.equal(32n);
      const min = await f.deploy(a.registry, a.coin, 0, 1, 1, 3, 1, m);
      expect(await min.producersPerEpoch()).to.equal(3n);
    });
  });

  describe("clock", () => {
    it("maps timestamps to slots and epochs from genesis", async () => {
      const p = await loadPinned(deployWithFiveBssWithTestAdmin);
      const g = await p.election.genesisTime();
      expect(await p.election.slotDuration()).to.equal(BigInt(PARAMS.slotDurationSeconds));
      expect(await p.election.slotsPerEpoch()).to.equal(BigInt(PARAMS.slotsPerEpoch));
      expect(await p.election.epochStart(0n)).to.equal(g);
      expect(await p.election.epochStart(2n)).to.equal(g + 240n);
      expect(await p.election.slotEnd(0n)).to.equal(g + 12n);
      expect(await p.election.slotEnd(25n)).to.equal(g + 312n);
      expect(await p.election.epochOfSlot(9n)).to.equal(0n);
      expect(await p.election.epochOfSlot(10n)).to.equal(1n);
      expect(await p.election.epochOfSlot(29n)).to.equal(2n);

      await time.increaseTo(g + 131n); // last second of slot 10
      expect(await p.election.currentSlot()).to.equal(10n);
      expect(await p.election.currentEpoch()).to.equal(1n);
      await time.increaseTo(g + 239n); // last second of epoch 1
      expect(await p.election.currentSlot()).to.equal(19n);
      expect(await p.election.currentEpoch()).to.equal(1n);
      await time.increaseTo(g + 240n);
      expect(await p.election.currentSlot()).to.equal(20n);
      expect(await p.election.currentEpoch()).to.equal(2n);
    });
  });

  describe("registerCandidate / withdrawCandidacy", () => {
    it("registers a member BS and lists it", async () => {
      const p = await loadPinned(deployWithFiveBssWithTestAdmin);
      await expect(p.election.connect(p.five[2]).registerCandidate())
        .to.emit(p.election, "CandidateRegistered")
        .withArgs(p.five[2].address);
      await p.election.connect(p.five[0]).registerCandidate();
      expect(await p.election.candidates()).to.deep.equal([p.five[2].address, p.five[0].address]);
    });

    it("reverts AlreadyCandidate for a second registration", async () => {
      const p = await loadPinned(candidatesFixture);
      await expect(p.election.connect(p.five[3]).registerCandidate())
        .to.be.revertedWithCustomError(p.election, "AlreadyCandidate")
        .withArgs(p.five[3].address);
    });

    it("reverts NotMember for a non-member (and the operator) in both directions", async () => {
      const p = await loadPinned(candidatesFixture);
      for (const who of [p.outsider, p.mbs]) {
        await expect(p.election.connect(who).registerCandidate())
          .to.be.revertedWithCustomError(p.election, "NotMember")
          .withArgs(who.address);
        await expect(p.election.connect(who).withdrawCandidacy())
          .to.be.revertedWithCustomError(p.election, "NotMember")
          .withArgs(who.address);
      }
    });

    it("withdraws the last candidate and a middle one (the last moves into its place)", async () => {
      const p = await loadPinned(candidatesFixture);
      const [b0, b1, b2, b3, b4] = p.five;
      await expect(p.election.connect(b4).withdrawCandidacy()).to.emit(p.election, "CandidateWithdrawn").withArgs(b4.address);
      expect(await p.election.candidates()).to.deep.equal(addrs([b0, b1, b2, b3]));
      await expect(p.election.connect(b1).withdrawCandidacy()).to.emit(p.election, "CandidateWithdrawn").withArgs(b1.address);
      expect(await p.election.candidates()).to.deep.equal(addrs([b0, b3, b2]));
      // The moved candidate's position was updated: it can withdraw, and the withdrawn ones can stand again.
      await p.election.connect(b3).withdrawCandidacy();
      expect(await p.election.candidates()).to.deep.equal(addrs([b0, b2]));
      await expect(p.election.connect(b1).registerCandidate()).to.emit(p.election, "CandidateRegistered").withArgs(b1.address);
      expect(await p.election.candidates()).to.deep.equal(addrs([b0, b2, b1]));
    });

    it("reverts NotCandidate when a non-candidate withdraws (also twice in a row)", async () => {
      const p = await loadPinned(deployWithFiveBssWithTestAdmin);
      await expect(p.election.connect(p.five[0]).withdrawCandidacy())
        .to.be.revertedWithCustomError(p.election, "NotCandidate")
        .withArgs(p.five[0].address);
      await p.election.connect(p.five[0]).registerCandidate();
      await p.election.connect(p.five[0]).withdrawCandidacy();
      await expect(p.election.connect(p.five[0]).withdrawCandidacy())
        .to.be.revertedWithCustomError(p.election, "NotCandidate")
        .withArgs(p.five[0].address);
    });

    it("reverts TooManyCandidates for the 33rd candidate (a removed member keeps its candidacy)", async () => {
      const p = await loadPinned(candidatesFixture);
      // Fill the registry (32 members) with random wallets; all of them stand.
      const wallets = Array.from({ length: 28 }, (_, i) => new ethers.Wallet(ethers.id(`dpos-wallet-${i}`), ethers.provider));
      for (const w of wallets.slice(0, 27)) {
        await setBalance(w.address, 10n ** 20n);
        await p.registry.admit(w.address);
        await p.election.connect(w).registerCandidate();
      }
      expect(await p.registry.memberCount()).to.equal(32n);
      expect((await p.election.candidates()).length).to.equal(32);

      // Make room in the registry: the removed BS cannot withdraw, so its candidacy still fills the list.
      await p.registry.remove(p.five[0].address);
      await expect(p.election.connect(p.five[0]).withdrawCandidacy())
        .to.be.revertedWithCustomError(p.election, "NotMember")
        .withArgs(p.five[0].address);
      const last = wallets[27];
      await setBalance(last.address, 10n ** 20n);
      await p.registry.admit(last.address);
      await expect(p.election.connect(last).registerCandidate()).to.be.revertedWithCustomError(p.election, "TooManyCandidates");

      // Once a member withdraws, the newcomer fits.
      await p.election.connect(p.five[1]).withdrawCandidacy();
      await expect(p.election.connect(last).registerCandidate()).to.emit(p.election, "CandidateRegistered").withArgs(last.address);
      expect((await p.election.candidates()).length).to.equal(32);
    });
  });

  describe("vote / approvalsOf", () => {
    it("records the approvals, replaces them on a new vote and clears them with an empty list", async () => {
      const p = await loadPinned(candidatesFixture);
      const [b0, b1, b2, b3, b4] = p.five;
      expect(await p.election.approvalsOf(b0.address)).to.deep.equal([]);
      await expect(p.election.connect(b0).vote([b4.address, b1.address]))
        .to.emit(p.election, "VoteCast")
        .withArgs(b0.address, [b4.address, b1.address]);
      // Listed in candidate order.
      expect(await p.election.approvalsOf(b0.address)).to.deep.equal([b1.address, b4.address]);
      await p.election.connect(b0).vote([b2.address, b3.address]);
      expect(await p.election.approvalsOf(b0.address)).to.deep.equal([b2.address, b3.address]);
      await expect(p.election.connect(b0).vote([])).to.emit(p.election, "VoteCast").withArgs(b0.address, []);
      expect(await p.election.approvalsOf(b0.address)).to.deep.equal([]);
    });

    it("an empty vote removes the voter's weight from the tallies", async () => {
      const p = await loadPinned(selfVotesFixture);
      await gotoEpoch(p, 1n);
      expect((await p.election.currentTallies())[0]).to.include(p.five[4].address);
      await p.election.connect(p.five[4]).vote([]);
      const [eligible] = await p.election.currentTallies();
      expect(eligible).to.deep.equal(addrs(p.five.slice(0, 4)));
    });

    it("approvalsOf lists current candidates only", async () => {
      const p = await loadPinned(candidatesFixture);
      const [b0, b1, b2] = p.five;
      await p.election.connect(b0).vote([b1.address, b2.address]);
      await p.election.connect(b1).withdrawCandidacy();
      expect(await p.election.approvalsOf(b0.address)).to.deep.equal([b2.address]);
    });

    it("reverts NotCandidate for a member that does not stand and for an outsider", async () => {
      const p = await loadPinned(deployWithFiveBssWithTestAdmin);
      const [b0, b1] = p.five;
      await p.election.connect(b1).registerCandidate();
      await expect(p.election.connect(b0).vote([b1.address, b0.address]))
        .to.be.revertedWithCustomError(p.election, "NotCandidate")
        .withArgs(b0.address);
      await expect(p.election.connect(b0).vote([p.outsider.address]))
        .to.be.revertedWithCustomError(p.election, "NotCandidate")
        .withArgs(p.outsider.address);
    });

    it("reverts DuplicateApproval when a candidate is listed twice", async () => {
      const p = await loadPinned(candidatesFixture);
      const [b0, b1, b2] = p.five;
      await expect(p.election.connect(b0).vote([b1.address, b2.address, b1.address]))
        .to.be.revertedWithCustomError(p.election, "DuplicateApproval")
        .withArgs(b1.address);
    });

    it("reverts TooManyCandidates for 33 entries and accepts 32 checks further", async () => {
      const p = await loadPinned(candidatesFixture);
      const list33 = Array.from({ length: 33 }, (_, i) => p.five[i % 5].address);
      await expect(p.election.connect(p.five[0]).vote(list33)).to.be.revertedWithCustomError(p.election, "TooManyCandidates");
      // 32 entries pass the length check and fail on the duplicate instead.
      await expect(p.election.connect(p.five[0]).vote(list33.slice(0, 32)))
        .to.be.revertedWithCustomError(p.election, "DuplicateApproval")
        .withArgs(p.five[0].address);
    });

    it("reverts NotMember for a non-member voter", async () => {
      const p = await loadPinned(candidatesFixture);
      await expect(p.election.connect(p.outsider).vote([p.five[0].address]))
        .to.be.revertedWithCustomError(p.election, "NotMember")
        .withArgs(p.outsider.address);
    });
  });

  describe("elect", () => {
    it("elects the top N by checkpointed coins, highest tally first", async () => {
      const p = await loadPinned(selfVotesFixture);
      const [, , b2, b3, b4] = p.five;
      await gotoEpoch(p, 1n);
      expect(await p.election.isElected(1n)).to.be.false;
      expect(await p.election.producersOf(1n)).to.deep.equal([]);
      expect(await p.election.elect.staticCall()).to.deep.equal(addrs([b4, b3, b2]));
      await expect(p.election.elect())
        .to.emit(p.election, "ProducersElected")
        .withArgs(1n, addrs([b4, b3, b2]), [p.bal[4], p.bal[3], p.bal[2]], await snapshotOf(p, 1n));
      expect(await p.election.producersOf(1n)).to.deep.equal(addrs([b4, b3, b2]));
      expect(await p.election.producerPosition(1n, b4.address)).to.equal(1n);
      expect(await p.election.producerPosition(1n, b3.address)).to.equal(2n);
      expect(await p.election.producerPosition(1n, b2.address)).to.equal(3n);
      expect(await p.election.producerPosition(1n, p.five[1].address)).to.equal(0n);
      expect(await p.election.producerPosition(2n, b4.address)).to.equal(0n);
      expect(await p.election.isElected(1n)).to.be.true;
      expect(await p.election.isElected(0n)).to.be.false;
      expect(await p.election.lastElectedEpoch()).to.equal(1n);
    });

    it("sums the checkpointed coins of every approver of a candidate", async () => {
      const p = await loadPinned(candidatesFixture);
      const [b0, b1, b2, b3, b4] = p.five;
      const { bal } = p;
      await p.election.connect(b0).vote([b0.address, b1.address]);
      await p.election.connect(b1).vote([b1.address, b4.address]);
      await p.election.connect(b2).vote([b0.address]);
      await p.election.connect(b4).vote([b4.address]);
      // b3 does not vote; b2 and b3 get no approvals.
      await gotoEpoch(p, 1n);
      const [eligible, tallies] = await p.election.currentTallies();
      expect(eligible).to.deep.equal(addrs([b0, b1, b4]));
      expect(tallies).to.deep.equal([bal[0] + bal[2], bal[0] + bal[1], bal[1] + bal[4]]);
      await expect(p.election.connect(b3).elect())
        .to.emit(p.election, "ProducersElected")
        .withArgs(1n, addrs([b4, b0, b1]), [bal[1] + bal[4], bal[0] + bal[2], bal[0] + bal[1]], await snapshotOf(p, 1n));
    });

    it("breaks ties by seat, not by candidate order", async () => {
      const p = await loadPinned(deployWithFiveBssWithTestAdmin);
      const [b0, b1, b2, b3, b4] = p.five;
      for (const c of [b4, b1, b3, b2]) await p.election.connect(c).registerCandidate();
      await p.election.connect(b0).vote([b3.address, b4.address, b1.address, b2.address]);
      await gotoEpoch(p, 1n);
      const w = await p.stake.bondedOf(b0.address);
      await expect(p.election.elect())
        .to.emit(p.election, "ProducersElected")
        .withArgs(1n, addrs([b1, b2, b3]), [w, w, w], await snapshotOf(p, 1n));
    });

    it("ranks a higher tally before a lower seat", async () => {
      const p = await loadPinned(deployWithFiveBssWithTestAdmin);
      const [b0, b1, b2, b3, b4] = p.five;
      for (const c of [b1, b3, b4]) await p.election.connect(c).registerCandidate();
      await p.election.connect(b0).vote([b1.address, b3.address, b4.address]);
      await p.election.connect(b2).vote([b4.address]);
      await gotoEpoch(p, 1n);
      const w0 = await p.stake.bondedOf(b0.address);
      const w2 = await p.stake.bondedOf(b2.address);
      await expect(p.election.elect())
        .to.emit(p.election, "ProducersElected")
        .withArgs(1n, addrs([b4, b1, b3]), [w0 + w2, w0, w0], await snapshotOf(p, 1n));
    });

    it("elects fewer than N producers when fewer candidates are eligible", async () => {
      const p = await loadPinned(candidatesFixture);
      const [b0, b1] = p.five;
      await p.election.connect(b0).vote([b0.address]);
      await p.election.connect(b1).vote([b1.address]);
      await gotoEpoch(p, 1n);
      await expect(p.election.elect())
        .to.emit(p.election, "ProducersElected")
        .withArgs(1n, addrs([b1, b0]), [p.bal[1], p.bal[0]], await snapshotOf(p, 1n));
      for (let s = 10n; s < 20n; s++) {
        expect(await p.election.producerOfSlot(s)).to.equal(s % 2n === 0n ? b1.address : b0.address);
      }
    });

    it("excludes candidates without stake: no approvals, or approved only by a coinless voter", async () => {
      const p = await loadPinned(candidatesFixture);
      const [b0, b1, b2, b3] = p.five;
      const poor = p.bss[5];
      await p.registry.admit(poor.address); // a member without coins
      await p.election.connect(poor).vote([b3.address]);
      await p.election.connect(b0).vote([b0.address]);
      await p.election.connect(b1).vote([b1.address]);
      await gotoEpoch(p, 1n);
      const [eligible, tallies] = await p.election.currentTallies();
      expect(eligible).to.deep.equal(addrs([b0, b1]));
      expect(tallies).to.deep.equal([p.bal[0], p.bal[1]]);
      await expect(p.election.elect())
        .to.emit(p.election, "ProducersElected")
        .withArgs(1n, addrs([b1, b0]), [p.bal[1], p.bal[0]], await snapshotOf(p, 1n));
      expect(await p.election.producerPosition(1n, b2.address)).to.equal(0n);
      expect(await p.election.producerPosition(1n, b3.address)).to.equal(0n);
    });

    it("excludes removed members as candidates and as voters", async () => {
      const p = await loadPinned(candidatesFixture);
      const [b0, b1, b2, b3, b4] = p.five;
      const { bal } = p;
      await p.election.connect(b4).vote([b4.address, b3.address]);
      await p.election.connect(b3).vote([b3.address]);
      await p.election.connect(b0).vote([b0.address, b1.address, b4.address]);
      await p.election.connect(b1).vote([b4.address]);
      await p.election.connect(b2).vote([b4.address]);
      await gotoEpoch(p, 1n);
      // Before the removal b4 leads with the approvals of b0, b1, b2 and itself.
      const [before, beforeTallies] = await p.election.currentTallies();
      expect(before).to.deep.equal(addrs([b0, b1, b3, b4]));
      expect(beforeTallies).to.deep.equal([bal[0], bal[0], bal[3] + bal[4], bal[0] + bal[1] + bal[2] + bal[4]]);
      await p.registry.remove(b4.address);
      const [eligible, tallies] = await p.election.currentTallies();
      expect(eligible).to.deep.equal(addrs([b0, b1, b3]));
      expect(tallies).to.deep.equal([bal[0], bal[0], bal[3]]);
      await expect(p.election.elect())
        .to.emit(p.election, "ProducersElected")
        .withArgs(1n, addrs([b3, b0, b1]), [bal[3], bal[0], bal[0]], await snapshotOf(p, 1n));
    });

    it("excludes jailed candidates until their jail ends", async () => {
      const p = await loadPinned(jailerFixture);
      const [, b1, b2, b3, b4] = p.five;
      await p.election.jail(b4.address); // epoch 0, free again from epoch 2
      expect(await p.election.jailedUntil(b4.address)).to.equal(2n);
      await gotoEpoch(p, 1n);
      const [eligible] = await p.election.currentTallies();
      expect(eligible).to.not.include(b4.address);
      await expect(p.election.elect())
        .to.emit(p.election, "ProducersElected")
        .withArgs(1n, addrs([b3, b2, b1]), [p.bal[3], p.bal[2], p.bal[1]], await snapshotOf(p, 1n));
      await gotoEpoch(p, 2n);
      await expect(p.election.elect())
        .to.emit(p.election, "ProducersElected")
        .withArgs(2n, addrs([b4, b3, b2]), [p.bal[4], p.bal[3], p.bal[2]], await snapshotOf(p, 2n));
      expect(await p.election.lastElectedEpoch()).to.equal(2n);
      expect(await p.election.producersOf(1n)).to.deep.equal(addrs([b3, b2, b1]));
    });

    it("reverts AlreadyElected for a second election in the same epoch", async () => {
      const p = await loadPinned(selfVotesFixture);
      await gotoEpoch(p, 1n);
      await p.election.connect(p.five[0]).elect();
      await expect(p.election.elect()).to.be.revertedWithCustomError(p.election, "AlreadyElected").withArgs(1n);
      await expect(p.election.connect(p.five[1]).elect())
        .to.be.revertedWithCustomError(p.election, "AlreadyElected")
        .withArgs(1n);
    });

    it("reverts NotMember for a caller that is neither a member nor the operator", async () => {
      const p = await loadPinned(selfVotesFixture);
      await gotoEpoch(p, 1n);
      await expect(p.election.connect(p.outsider).elect())
        .to.be.revertedWithCustomError(p.election, "NotMember")
        .withArgs(p.outsider.address);
    });

    it("elects nobody in epoch 0 (no coins before genesis) and the epoch stays without producers", async () => {
      const p = await loadPinned(selfVotesFixture);
      expect(await p.election.currentEpoch()).to.equal(0n);
      await expect(p.election.elect())
        .to.emit(p.election, "ProducersElected")
        .withArgs(0n, [], [], (await p.election.genesisTime()) - 1n);
      expect(await p.election.isElected(0n)).to.be.true;
      await expect(p.election.producerOfSlot(0n)).to.be.revertedWithCustomError(p.election, "NoProducers").withArgs(0n);
      await expect(p.election.elect()).to.be.revertedWithCustomError(p.election, "AlreadyElected").withArgs(0n);
    });

    it("bonds moved after the checkpoint count for their old holder in this epoch and the new one in the next", async () => {
      const p = await loadPinned(selfVotesFixture);
      const [b0, , b2, b3, b4] = p.five;
      const { bal } = p;
      // The move happens in the first second of epoch 1, after its checkpoint (epochStart - 1).
      await moveBond(p, b4, b0, bal[4], await p.election.epochStart(1n));
      expect(await p.stake.bondedOf(b4.address)).to.equal(0n);

      const [eligible, tallies] = await p.election.currentTallies();
      expect(eligible).to.deep.equal(addrs(p.five));
      expect(tallies).to.deep.equal(bal);
      await expect(p.election.elect())
        .to.emit(p.election, "ProducersElected")
        .withArgs(1n, addrs([b4, b3, b2]), [bal[4], bal[3], bal[2]], await snapshotOf(p, 1n));
      // b0 voting with b4's bond in this election would count it twice: the tallies sum to the bonded total once.
      const [, afterTallies] = await p.election.currentTallies();
      expect(afterTallies.reduce((a, b) => a + b, 0n)).to.equal(await p.stake.totalBonded());

      await gotoEpoch(p, 2n);
      await expect(p.election.elect())
        .to.emit(p.election, "ProducersElected")
        .withArgs(2n, addrs([b0, b3, b2]), [bal[0] + bal[4], bal[3], bal[2]], await snapshotOf(p, 2n));
      expect(await p.election.producerPosition(2n, b4.address)).to.equal(0n);
    });

    it("bonds moved at the checkpoint instant (epochStart - 1) count for the new holder", async () => {
      const p = await loadPinned(selfVotesFixture);
      const [b0, , b2, b3, b4] = p.five;
      const { bal } = p;
      await moveBond(p, b4, b0, bal[4], (await p.election.epochStart(1n)) - 1n);
      await gotoEpoch(p, 1n);
      await expect(p.election.elect())
        .to.emit(p.election, "ProducersElected")
        .withArgs(1n, addrs([b0, b3, b2]), [bal[0] + bal[4], bal[3], bal[2]], await snapshotOf(p, 1n));
    });

    it("reads the approvals at election time (only the weights are checkpointed)", async () => {
      const p = await loadPinned(selfVotesFixture);
      const [, b1, b2, b3, b4] = p.five;
      const { bal } = p;
      await gotoEpoch(p, 1n);
      await p.election.connect(b4).vote([b1.address]);
      await expect(p.election.elect())
        .to.emit(p.election, "ProducersElected")
        .withArgs(1n, addrs([b1, b3, b2]), [bal[1] + bal[4], bal[3], bal[2]], await snapshotOf(p, 1n));
    });
  });

  describe("producerOfSlot", () => {
    it("assigns slot s of an elected epoch to producer s mod n", async () => {
      const p = await loadPinned(selfVotesFixture);
      await gotoEpoch(p, 1n);
      await p.election.elect();
      const producers = await p.election.producersOf(1n);
      expect(producers.length).to.equal(3);
      for (let s = 10n; s < 20n; s++) expect(await p.election.producerOfSlot(s)).to.equal(producers[Number(s % 3n)]);
    });

    it("reverts NoProducers for an epoch that was not elected", async () => {
      const p = await loadPinned(selfVotesFixture);
      await gotoEpoch(p, 1n);
      await p.election.elect();
      await expect(p.election.producerOfSlot(9n)).to.be.revertedWithCustomError(p.election, "NoProducers").withArgs(0n);
      await expect(p.election.producerOfSlot(20n)).to.be.revertedWithCustomError(p.election, "NoProducers").withArgs(2n);
    });

    it("reverts NoProducers for the slots that passed before a late election", async () => {
      const p = await loadPinned(selfVotesFixture);
      await enterSlot(p.election, 14n, 3n); // the election of epoch 1 happens in its 5th slot
      await p.election.elect();
      const producers = await p.election.producersOf(1n);
      for (let s = 10n; s < 14n; s++) {
        await expect(p.election.producerOfSlot(s)).to.be.revertedWithCustomError(p.election, "NoProducers").withArgs(1n);
      }
      for (let s = 14n; s < 20n; s++) expect(await p.election.producerOfSlot(s)).to.equal(producers[Number(s % 3n)]);
    });
  });

  describe("jail / isJailed / jailedUntil", () => {
    it("reverts AccessControlUnauthorizedAccount for callers without JAILER_ROLE", async () => {
      const p = await loadPinned(selfVotesFixture);
      for (const who of [p.mbs, p.five[0]]) {
        await expect(p.election.connect(who).jail(p.five[1].address))
          .to.be.revertedWithCustomError(p.election, "AccessControlUnauthorizedAccount")
          .withArgs(who.address, ROLES.JAILER);
      }
    });

    it("jails for jailEpochs epochs counting the current one", async () => {
      const p = await loadPinned(jailerFixture);
      const bs = p.five[1].address;
      expect(await p.election.isJailed(bs)).to.be.false;
      expect(await p.election.jailedUntil(bs)).to.equal(0n);
      await enterEpoch(p.election, 3n);
      const until = 3n + BigInt(PARAMS.jailEpochs);
      await expect(p.election.jail(bs)).to.emit(p.election, "ProducerJailed").withArgs(bs, until);
      expect(await p.election.jailedUntil(bs)).to.equal(until);
      expect(await p.election.isJailed(bs)).to.be.true;
      expect(await p.election.isJailed(p.five[2].address)).to.be.false;
      await time.increaseTo((await p.election.epochStart(until)) - 1n);
      expect(await p.election.isJailed(bs)).to.be.true;
      await time.increaseTo(await p.election.epochStart(until));
      expect(await p.election.isJailed(bs)).to.be.false;
      expect(await p.election.jailedUntil(bs)).to.equal(until);
    });

    it("a second jailing extends the term from the current epoch", async () => {
      const p = await loadPinned(jailerFixture);
      const bs = p.five[1].address;
      await p.election.jail(bs);
      await enterEpoch(p.election, 1n);
      await expect(p.election.jail(bs)).to.emit(p.election, "ProducerJailed").withArgs(bs, 1n + BigInt(PARAMS.jailEpochs));
    });
  });

  describe("currentTallies", () => {
    it("lists eligible candidates in candidate order with checkpointed tallies, excluding jailed and zero ones", async () => {
      const p = await loadPinned(jailerFixture);
      const [b0, b1, b2, b3, b4] = p.five;
      await p.election.connect(b3).vote([]);
      await p.election.jail(b1.address);
      await gotoEpoch(p, 1n);
      const [eligible, tallies] = await p.election.currentTallies();
      expect(eligible).to.deep.equal(addrs([b0, b2, b4]));
      expect(tallies).to.deep.equal([p.bal[0], p.bal[2], p.bal[4]]);
    });

    it("is empty in epoch 0 (no coins existed at its checkpoint)", async () => {
      const p = await loadPinned(selfVotesFixture);
      const [eligible, tallies] = await p.election.currentTallies();
      expect(eligible).to.deep.equal([]);
      expect(tallies).to.deep.equal([]);
    });
  });
});
