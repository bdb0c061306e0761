/**
 * Unit tests of contracts/token/StakeGenesis.sol: the Eq. 6 initial allocation
 *   S_i = S_ini * (data of the twins on BS i) / (data of the twins on all member BSs),
 * each share rounded down, made once by the operator (the MBS).
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { COIN, PARAMS, deployProtocolWithTestAdmin, deployWithFiveBssWithTestAdmin, recordTwinData, registerTwin, type Protocol } from "../fixtures";
import { StakeGenesis__factory, type StakeGenesis } from "../../typechain-types";

const PROTOCOL_ROLE = ethers.id("PROTOCOL_ROLE");

/**
 * Eq. 6 shares of the five-BS setups below (S_ini = 1000 coins; data 200, 400, 600, 800, 1000 of 3000), worked out
 * by hand: 1000e18 * d / 3000 rounded down. 2 base units are lost to rounding.
 */
const FIVE_BS_DATA = [200n, 400n, 600n, 800n, 1000n];
const FIVE_BS_TOTAL = 3000n;
const FIVE_BS_SHARES = [
  66_666666666666666666n,
  133_333333333333333333n,
  200_000000000000000000n,
  266_666666666666666666n,
  333_333333333333333333n,
];

/** Next end user for {@link hostTwins}: above the users 0..9 of the five-BS fixtures. */
let userCounter = 1000;

/** Register one twin per entry of `sizes` on `bs` (a fresh admitted user each, with its consent); a data record is
 * written for every non-zero size. */
async function hostTwins(p: Protocol, bs: HardhatEthersSigner, sizes: readonly number[]): Promise<void> {
  for (const size of sizes) {
    const user = userCounter++;
    const twinId = await registerTwin(p, bs, user);
    if (size > 0) await recordTwinData(p, bs, twinId, size, ethers.id(`data-${user}`), ethers.id(`state-${user}`));
  }
}

/** Deploy another StakeGenesis on the protocol's registry, coin and twins, optionally with the vault's PROTOCOL_ROLE. */
async function deployGenesis(p: Protocol, initialSupply: bigint, grant: boolean): Promise<StakeGenesis> {
  const genesis = await new StakeGenesis__factory(p.mbs).deploy(p.registry, p.stake, p.twins, initialSupply);
  if (grant) await p.stake.grantRole(PROTOCOL_ROLE, await genesis.getAddress());
  return genesis;
}

/** Five member BSs with two twins each of 100 * (i + 1) samples (as deployWithFiveBssWithTestAdmin), not allocated yet. */
async function fiveBssWithData() {
  const p = await loadFixture(deployProtocolWithTestAdmin);
  const five = p.bss.slice(0, 5);
  for (const bs of five) await p.registry.admit(bs.address);
  for (const [i, bs] of five.entries()) await hostTwins(p, bs, [100 * (i + 1), 100 * (i + 1)]);
  return { ...p, five };
}

/**
 * Four members: A hosts 1 sample, B 2, C 97 (over two twins), D a twin without data; a fifth BS E hosted 500 samples
 * and was then removed. A second StakeGenesis with S_ini = 10 base units (and PROTOCOL_ROLE) is deployed.
 */
async function tinySupply() {
  const p = await loadFixture(deployProtocolWithTestAdmin);
  const [a, b, c, d, e] = p.bss;
  for (const bs of [a, b, c, d, e]) await p.registry.admit(bs.address);
  await hostTwins(p, a, [1]);
  await hostTwins(p, b, [2]);
  await hostTwins(p, c, [90, 7]);
  await hostTwins(p, d, [0]);
  await hostTwins(p, e, [500]);
  await p.registry.remove(e.address);
  const small = await deployGenesis(p, 10n, true);
  return { ...p, a, b, c, d, e, small };
}

/** Two members with twins but no data records. */
async function membersWithoutData() {
  const p = await loadFixture(deployProtocolWithTestAdmin);
  const [a, b] = p.bss;
  for (const bs of [a, b]) await p.registry.admit(bs.address);
  await hostTwins(p, a, [0, 0]);
  await hostTwins(p, b, [0]);
  return { ...p, a, b };
}

describe("StakeGenesis", () => {
  describe("deployment", () => {
    it("records its dependencies and S_ini, not allocated yet", async () => {
      const { genesis, registry, stake, twins } = await loadFixture(deployProtocolWithTestAdmin);
      expect(await genesis.registry()).to.equal(await registry.getAddress());
      expect(await genesis.stake()).to.equal(await stake.getAddress());
      expect(await genesis.twinRegistry()).to.equal(await twins.getAddress());
      expect(await genesis.initialSupply()).to.equal(PARAMS.initialSupply);
      expect(await genesis.initialSupply()).to.equal(1000n * COIN);
      expect(await genesis.allocated()).to.equal(false);
    });

    it("refuses a zero registry, stake vault or twin registry", async () => {
      const { mbs, registry, stake: coin, twins } = await loadFixture(deployProtocolWithTestAdmin);
      const factory = new StakeGenesis__factory(mbs);
      const zero = ethers.ZeroAddress;
      await expect(factory.deploy(zero, coin, twins, 1n)).to.be.revertedWithCustomError(factory, "ZeroAddress").withArgs();
      await expect(factory.deploy(registry, zero, twins, 1n)).to.be.revertedWithCustomError(factory, "ZeroAddress").withArgs();
      await expect(factory.deploy(registry, coin, zero, 1n)).to.be.revertedWithCustomError(factory, "ZeroAddress").withArgs();
    });
  });

  describe("allocate", () => {
    it("mints the exact Eq. 6 shares, rounded down, and emits GenesisAllocated per BS", async () => {
      const { genesis, coin, stake, five } = await loadFixture(fiveBssWithData);
      const tx = genesis.allocate();
      for (const [i, bs] of five.entries()) {
        await expect(tx)
          .to.emit(genesis, "GenesisAllocated")
          .withArgs(bs.address, FIVE_BS_DATA[i], FIVE_BS_TOTAL, FIVE_BS_SHARES[i]);
        await expect(tx).to.emit(stake, "Credited").withArgs(bs.address, FIVE_BS_SHARES[i]);
      }
      for (const [i, bs] of five.entries()) {
        expect(await stake.bondedOf(bs.address)).to.equal(FIVE_BS_SHARES[i]);
        // The share is floor(S_ini * d / total).
        expect(FIVE_BS_SHARES[i]).to.equal((PARAMS.initialSupply * FIVE_BS_DATA[i]) / FIVE_BS_TOTAL);
        // Paid bonded: it weighs votes and verdicts from the start, and nothing is liquid.
        expect(await coin.balanceOf(bs.address)).to.equal(0n);
      }
      expect(await coin.totalSupply()).to.equal(1000n * COIN - 2n);
      expect(await genesis.allocated()).to.equal(true);
    });

    it("emits the allocations in member-list order", async () => {
      const { genesis, five } = await loadFixture(fiveBssWithData);
      const receipt = await (await genesis.allocate()).wait();
      const order = (receipt?.logs ?? [])
        .map((log) => genesis.interface.parseLog(log))
        .filter((ev) => ev?.name === "GenesisAllocated")
        .map((ev) => ev?.args.bs as string);
      expect(order).to.deep.equal(five.map((bs) => bs.address));
    });

    it("the shared deployWithFiveBssWithTestAdmin fixture holds the same Eq. 6 balances", async () => {
      const { genesis, stake, five, twins } = await loadFixture(deployWithFiveBssWithTestAdmin);
      expect(await genesis.allocated()).to.equal(true);
      expect(await twins.totalData()).to.equal(FIVE_BS_TOTAL);
      for (const [i, bs] of five.entries()) {
        expect(await twins.dataOn(bs.address)).to.equal(FIVE_BS_DATA[i]);
        expect(await stake.bondedOf(bs.address)).to.equal(FIVE_BS_SHARES[i]);
      }
    });

    it("can run only once (AlreadyAllocated), even after the data changes", async () => {
      const p = await loadFixture(fiveBssWithData);
      await p.genesis.allocate();
      const supply = await p.coin.totalSupply();
      await expect(p.genesis.allocate()).to.be.revertedWithCustomError(p.genesis, "AlreadyAllocated").withArgs();
      await hostTwins(p, p.five[0], [10_000]);
      await expect(p.genesis.allocate()).to.be.revertedWithCustomError(p.genesis, "AlreadyAllocated").withArgs();
      expect(await p.coin.totalSupply()).to.equal(supply);
      expect(await p.stake.bondedOf(p.five[0].address)).to.equal(FIVE_BS_SHARES[0]);
    });

    it("is refused to anyone but the operator (NotOperator), including a member BS", async () => {
      const { genesis, outsider, five, coin } = await loadFixture(fiveBssWithData);
      for (const caller of [outsider, five[0]]) {
        await expect(genesis.connect(caller).allocate())
          .to.be.revertedWithCustomError(genesis, "NotOperator")
          .withArgs(caller.address);
      }
      expect(await genesis.allocated()).to.equal(false);
      expect(await coin.totalSupply()).to.equal(0n);
    });

    it("follows an operator handover in the registry", async () => {
      const { genesis, registry, mbs, bss, five } = await loadFixture(fiveBssWithData);
      const next = bss[7];
      await registry.transferOwnership(next.address);
      await registry.connect(next).acceptOwnership();
      await expect(genesis.connect(mbs).allocate())
        .to.be.revertedWithCustomError(genesis, "NotOperator")
        .withArgs(mbs.address);
      await expect(genesis.connect(next).allocate())
        .to.emit(genesis, "GenesisAllocated")
        .withArgs(five[4].address, FIVE_BS_DATA[4], FIVE_BS_TOTAL, FIVE_BS_SHARES[4]);
    });

    it("refuses with NoTwinData when there are no members", async () => {
      const { genesis } = await loadFixture(deployProtocolWithTestAdmin);
      await expect(genesis.allocate()).to.be.revertedWithCustomError(genesis, "NoTwinData").withArgs();
      expect(await genesis.allocated()).to.equal(false);
    });

    it("refuses with NoTwinData when the members' twins hold no data, and works once data arrives", async () => {
      const p = await loadFixture(membersWithoutData);
      await expect(p.genesis.allocate()).to.be.revertedWithCustomError(p.genesis, "NoTwinData").withArgs();
      expect(await p.genesis.allocated()).to.equal(false);
      await hostTwins(p, p.b, [5]);
      await expect(p.genesis.allocate())
        .to.emit(p.genesis, "GenesisAllocated")
        .withArgs(p.b.address, 5n, 5n, PARAMS.initialSupply);
      expect(await p.stake.bondedOf(p.b.address)).to.equal(PARAMS.initialSupply);
      expect(await p.stake.bondedOf(p.a.address)).to.equal(0n);
    });

    it("refuses with NoTwinData when only removed BSs hold data", async () => {
      const p = await loadFixture(membersWithoutData);
      const [, , c] = p.bss;
      await p.registry.admit(c.address);
      await hostTwins(p, c, [300]);
      await p.registry.remove(c.address);
      expect(await p.twins.totalData()).to.equal(300n);
      await expect(p.genesis.allocate()).to.be.revertedWithCustomError(p.genesis, "NoTwinData").withArgs();
    });

    it("rounds every share down; shares that round to zero, or BSs without data, get no mint", async () => {
      const { small, coin, stake, a, b, c, d } = await loadFixture(tinySupply);
      const tx = small.allocate();
      // total = 1 + 2 + 97 + 0 = 100 (the removed BS's 500 samples are not counted); S_ini = 10.
      await expect(tx).to.emit(small, "GenesisAllocated").withArgs(a.address, 1n, 100n, 0n); // floor(10 / 100)
      await expect(tx).to.emit(small, "GenesisAllocated").withArgs(b.address, 2n, 100n, 0n); // floor(20 / 100)
      await expect(tx).to.emit(small, "GenesisAllocated").withArgs(c.address, 97n, 100n, 9n); // floor(970 / 100)
      await expect(tx).to.emit(small, "GenesisAllocated").withArgs(d.address, 0n, 100n, 0n);
      await expect(tx).to.emit(stake, "Credited").withArgs(c.address, 9n);
      const receipt = await (await tx).wait();
      const transfers = (receipt?.logs ?? []).filter((log) => stake.interface.parseLog(log)?.name === "Credited");
      expect(transfers).to.have.length(1);
      expect(await stake.bondedOf(c.address)).to.equal(9n);
      expect(await coin.totalSupply()).to.equal(9n); // 1 base unit of S_ini lost to rounding
      for (const bs of [a, b, d]) {
        expect(await stake.bondedOf(bs.address)).to.equal(0n);
      }
      expect(await small.allocated()).to.equal(true);
    });

    it("counts only current members: a removed BS's data is neither paid nor in the denominator", async () => {
      const { small, stake, twins, e } = await loadFixture(tinySupply);
      expect(await twins.dataOn(e.address)).to.equal(500n);
      expect(await twins.totalData()).to.equal(600n);
      const receipt = await (await small.allocate()).wait();
      const allocated = (receipt?.logs ?? [])
        .map((log) => small.interface.parseLog(log))
        .filter((ev) => ev?.name === "GenesisAllocated");
      expect(allocated).to.have.length(4);
      for (const ev of allocated) {
        expect(ev?.args.bs).to.not.equal(e.address);
        expect(ev?.args.totalData).to.equal(100n);
      }
      expect(await stake.bondedOf(e.address)).to.equal(0n);
    });

    it("reverts as a whole (allocated stays false) when it lacks PROTOCOL_ROLE on the coin", async () => {
      const p = await loadFixture(fiveBssWithData);
      const noRole = await deployGenesis(p, 1000n * COIN, false);
      await expect(noRole.allocate())
        .to.be.revertedWithCustomError(p.coin, "AccessControlUnauthorizedAccount")
        .withArgs(await noRole.getAddress(), PROTOCOL_ROLE);
      expect(await noRole.allocated()).to.equal(false);
      expect(await p.coin.totalSupply()).to.equal(0n);
    });
  });
});
