import { expect } from "chai";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { deployWithFiveBss, COIN } from "./fixtures";

describe("fixture smoke", () => {
  it("deploys, admits 5 BSs and allocates Eq. 6 coins, bonded", async () => {
    const p = await loadFixture(deployWithFiveBss);
    expect(await p.registry.memberCount()).to.equal(5n);
    let sum = 0n;
    for (const bs of p.five) sum += await p.stake.bondedOf(bs.address);
    expect(sum).to.be.lte(1000n * COIN);
    expect(sum).to.equal(await p.stake.totalBonded());
    expect(await p.coin.balanceOf(await p.stake.getAddress())).to.equal(sum);
    expect(await p.coin.balanceOf(p.five[0].address)).to.equal(0n);
  });
});
