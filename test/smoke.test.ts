import { expect } from "chai";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { deployWithFiveBss, COIN } from "./fixtures";

describe("fixture smoke", () => {
  it("deploys, admits 5 BSs and allocates Eq. 6 coins", async () => {
    const p = await loadFixture(deployWithFiveBss);
    expect(await p.registry.memberCount()).to.equal(5n);
    let sum = 0n;
    for (const bs of p.five) sum += await p.coin.balanceOf(bs.address);
    expect(sum).to.be.lte(1000n * COIN);
    expect(await p.coin.getVotes(p.five[0].address)).to.equal(await p.coin.balanceOf(p.five[0].address));
  });
});
