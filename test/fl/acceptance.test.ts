/**
 * The acceptance rule: the simulator's function (src/fl/acceptance.ts) and the chain's library
 * (contracts/fl/AcceptanceRule.sol, through a test harness) decide the same on random verdict sets.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { decide, DECISIONS, DEFAULT_QUORUM_BPS } from "../../src/fl/acceptance";
import { mulberry32 } from "../../src/twins/random";
import { AcceptanceRuleHarness__factory } from "../../typechain-types";

async function harness() {
  const [deployer] = await ethers.getSigners();
  return new AcceptanceRuleHarness__factory(deployer).deploy();
}

describe("src/fl/acceptance (the chain's AcceptanceRule)", () => {
  it("decides by quorum, then majority; a tie and a sub-quorum set are unverified", () => {
    expect(decide(3, 1, 4)).to.equal("passed");
    expect(decide(1, 3, 4)).to.equal("failed");
    expect(decide(2, 2, 4)).to.equal("unverified"); // a tie is not a fail
    expect(decide(1, 0, 4)).to.equal("unverified"); // 1 of 4 < 50 %
    expect(decide(0, 1, 4)).to.equal("unverified");
    expect(decide(2, 0, 4)).to.equal("passed"); // exactly the quorum
    expect(decide(0, 0, 0)).to.equal("unverified"); // nobody could verify
    expect(decide(1, 0, 4, 2_500)).to.equal("passed");
    expect(DEFAULT_QUORUM_BPS).to.equal(5_000);
  });

  it("refuses negative weights and quorums outside 1..10000; verdicts beyond the eligible weight meet the quorum, as on chain", () => {
    expect(decide(3, 2, 4)).to.equal("passed");
    expect(() => decide(-1, 0, 4)).to.throw("must not be negative");
    expect(() => decide(0.5, 0, 4)).to.throw("must be integers");
    expect(() => decide(1, 0, 4, 0)).to.throw("1..10000 basis points");
    expect(() => decide(1, 0, 4, 10_001)).to.throw("1..10000 basis points");
  });

  it("agrees with the chain on 400 random verdict sets (counts and large stake-like weights, every quorum)", async () => {
    const h = await loadFixture(harness);
    const rng = mulberry32(20261201);
    const int = (n: number) => Math.floor(rng() * n);
    const seen = new Set<string>();
    for (let k = 0; k < 400; k++) {
      const big = k % 4 === 3; // weights of coin size (18 decimals)
      const eligible = big ? BigInt(int(1e9)) * 10n ** 18n + 1n : BigInt(int(33));
      const pass = eligible === 0n ? 0n : (eligible * BigInt(int(1001))) / 1000n;
      let fail = (eligible - pass) === 0n ? 0n : ((eligible - pass) * BigInt(int(1001))) / 1000n;
      if (k % 17 === 5) fail += BigInt(1 + int(3)); // now and then more verdicts than eligible weight
      const quorum = [1, 3_333, 5_000, 6_667, 10_000, 1 + int(10_000)][int(6)];
      const ts = decide(pass, fail, eligible, quorum);
      const sol = DECISIONS[Number(await h.decide(pass, fail, eligible, quorum))];
      expect(sol, `pass ${pass} fail ${fail} of ${eligible}, quorum ${quorum}`).to.equal(ts);
      seen.add(ts);
      // ties, explicitly, now and then
      if (k % 10 === 0 && eligible >= 2n) {
        const half = eligible / 2n;
        expect(DECISIONS[Number(await h.decide(half, half, eligible, quorum))]).to.equal(decide(half, half, eligible, quorum)).and.to.equal("unverified");
      }
    }
    expect([...seen].sort()).to.deep.equal(["failed", "passed", "unverified"]);
  });
});
