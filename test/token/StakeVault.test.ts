/**
 * Unit tests of contracts/token/StakeVault.sol: bonded training-coin stake. Credits (minted bonded) and slashes only
 * by PROTOCOL_ROLE, bonding only by member BSs, unbonding through a bounded FIFO queue released after the unbonding
 * delay, slashes taken from the bond then the newest unbonding entries and burned, and a timestamp-checkpointed bond
 * history (bondedAt). The attack the vault stops: coins moved to a second key (that delegates back) neither escape a
 * slash nor count twice.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { COIN } from "../fixtures";
import { ROLES } from "../../src/chain/roles";
import {
  BSRegistry__factory,
  StakeVault__factory,
  TrainingCoin__factory,
  type StakeVault,
} from "../../typechain-types";

const PROTOCOL_ROLE = ethers.id("PROTOCOL_ROLE");
const DEFAULT_ADMIN_ROLE = ethers.ZeroHash;
const DELAY = 40n; // unbonding delay (s) of the fixture's vault
const BPS = 10_000n;
const MAX_UNBONDING = 8;

/**
 * A registry (operator = signer 0, the MBS, also the admin of the coin and the vault) with members a, b, c; the coin;
 * a vault with a 40 s unbonding delay holding the coin's PROTOCOL_ROLE; and a `protocol` signer holding the vault's
 * PROTOCOL_ROLE (credit, slash) and the coin's (to mint liquid coins, as the pre-vault protocol did).
 */
async function deployVault() {
  const [mbs, protocol, a, b, c, outsider] = await ethers.getSigners();
  const registry = await new BSRegistry__factory(mbs).deploy(mbs.address);
  const coin = await new TrainingCoin__factory(mbs).deploy(mbs.address);
  const vault = await new StakeVault__factory(mbs).deploy(registry, coin, mbs.address, DELAY);
  await coin.grantRole(PROTOCOL_ROLE, await vault.getAddress());
  await coin.grantRole(PROTOCOL_ROLE, protocol.address);
  await vault.grantRole(PROTOCOL_ROLE, protocol.address);
  for (const bs of [a, b, c]) await registry.admit(bs.address);
  return { mbs, protocol, a, b, c, outsider, registry, coin, vault, asProtocol: vault.connect(protocol) };
}

/** As deployVault, with a and b each holding 100 liquid coins and having approved the vault for all of them. */
async function withLiquid() {
  const f = await loadFixture(deployVault);
  for (const bs of [f.a, f.b]) {
    await f.coin.connect(f.protocol).mint(bs.address, 100n * COIN);
    await f.coin.connect(bs).approve(await f.vault.getAddress(), ethers.MaxUint256);
  }
  return f;
}

/** Stake of `bs` as one number: bonded + unbonding. */
async function stake(vault: StakeVault, bs: HardhatEthersSigner): Promise<bigint> {
  const [bonded, unbonding] = await vault.stakeOf(bs.address);
  return bonded + unbonding;
}

/** The pending entries of `bs` as [amount, releaseAt] pairs. */
async function entries(vault: StakeVault, bs: HardhatEthersSigner): Promise<[bigint, bigint][]> {
  return (await vault.unbondingEntries(bs.address)).map((e) => [e.amount, e.releaseAt]);
}

/** Send the next transaction at exactly `t` and return `t`. */
async function at(t: bigint): Promise<bigint> {
  await time.setNextBlockTimestamp(t);
  return t;
}

describe("StakeVault", () => {
  describe("deployment", () => {
    it("has the constants, the immutables and a timestamp clock (ERC-6372)", async () => {
      const { vault, registry, coin } = await loadFixture(deployVault);
      expect(await vault.PROTOCOL_ROLE()).to.equal(PROTOCOL_ROLE);
      expect(await vault.PROTOCOL_ROLE()).to.equal(ROLES.PROTOCOL);
      expect(await vault.BPS()).to.equal(BPS);
      expect(await vault.MAX_UNBONDING()).to.equal(BigInt(MAX_UNBONDING));
      expect(await vault.registry()).to.equal(await registry.getAddress());
      expect(await vault.coin()).to.equal(await coin.getAddress());
      expect(await vault.unbondingDelay()).to.equal(DELAY);
      expect(await vault.totalBonded()).to.equal(0n);
      expect(await vault.CLOCK_MODE()).to.equal("mode=timestamp");
      await time.increase(1000);
      expect(await vault.clock()).to.equal(BigInt(await time.latest()));
    });

    it("gives DEFAULT_ADMIN_ROLE to the admin argument, not the deployer, and PROTOCOL_ROLE to nobody", async () => {
      const { registry, coin, mbs, a } = await loadFixture(deployVault);
      const vault = await new StakeVault__factory(mbs).deploy(registry, coin, a.address, DELAY);
      await expect(vault.deploymentTransaction())
        .to.emit(vault, "RoleGranted")
        .withArgs(DEFAULT_ADMIN_ROLE, a.address, mbs.address);
      expect(await vault.hasRole(DEFAULT_ADMIN_ROLE, a.address)).to.equal(true);
      expect(await vault.hasRole(DEFAULT_ADMIN_ROLE, mbs.address)).to.equal(false);
      expect(await vault.hasRole(PROTOCOL_ROLE, a.address)).to.equal(false);
      expect(await vault.hasRole(PROTOCOL_ROLE, mbs.address)).to.equal(false);
      expect(await vault.getRoleAdmin(PROTOCOL_ROLE)).to.equal(DEFAULT_ADMIN_ROLE);
    });

    it("refuses a zero registry, coin or admin (ZeroAddress) and a zero unbonding delay (InvalidParameter)", async () => {
      const { registry, coin, mbs } = await loadFixture(deployVault);
      const factory = new StakeVault__factory(mbs);
      const zero = ethers.ZeroAddress;
      await expect(factory.deploy(zero, coin, mbs.address, DELAY)).to.be.revertedWithCustomError(factory, "ZeroAddress");
      await expect(factory.deploy(registry, zero, mbs.address, DELAY)).to.be.revertedWithCustomError(
        factory,
        "ZeroAddress",
      );
      await expect(factory.deploy(registry, coin, zero, DELAY)).to.be.revertedWithCustomError(factory, "ZeroAddress");
      await expect(factory.deploy(registry, coin, mbs.address, 0n)).to.be.revertedWithCustomError(
        factory,
        "InvalidParameter",
      );
      const oneSecond = await factory.deploy(registry, coin, mbs.address, 1n);
      expect(await oneSecond.unbondingDelay()).to.equal(1n);
    });
  });

  describe("credit", () => {
    it("mints new coins into the vault and bonds them to the BS", async () => {
      const { vault, asProtocol, coin, a } = await loadFixture(deployVault);
      const vaultAddress = await vault.getAddress();
      const tx = asProtocol.credit(a.address, 30n * COIN);
      await expect(tx).to.emit(vault, "Credited").withArgs(a.address, 30n * COIN);
      await expect(tx).to.emit(coin, "Transfer").withArgs(ethers.ZeroAddress, vaultAddress, 30n * COIN);
      expect(await vault.bondedOf(a.address)).to.equal(30n * COIN);
      expect(await vault.unbondingOf(a.address)).to.equal(0n);
      expect(await vault.totalBonded()).to.equal(30n * COIN);
      expect(await coin.balanceOf(a.address)).to.equal(0n);
      expect(await coin.balanceOf(vaultAddress)).to.equal(30n * COIN);
      expect(await coin.totalSupply()).to.equal(30n * COIN);
      await asProtocol.credit(a.address, 5n * COIN);
      expect(await vault.bondedOf(a.address)).to.equal(35n * COIN);
      expect(await vault.totalBonded()).to.equal(35n * COIN);
    });

    it("credits any non-zero account (a removed BS too: the protocol decides who is paid)", async () => {
      const { vault, asProtocol, registry, c, outsider } = await loadFixture(deployVault);
      await registry.remove(c.address);
      await asProtocol.credit(c.address, 1n);
      await asProtocol.credit(outsider.address, 2n);
      expect(await vault.bondedOf(c.address)).to.equal(1n);
      expect(await vault.bondedOf(outsider.address)).to.equal(2n);
      expect(await vault.totalBonded()).to.equal(3n);
    });

    it("is a no-op for a zero amount (no event, no mint)", async () => {
      const { vault, asProtocol, coin, a } = await loadFixture(deployVault);
      const tx = asProtocol.credit(a.address, 0n);
      await expect(tx).to.not.emit(vault, "Credited");
      await expect(tx).to.not.emit(coin, "Transfer");
      expect(await vault.bondedOf(a.address)).to.equal(0n);
      expect(await coin.totalSupply()).to.equal(0n);
    });

    it("refuses the zero address (ZeroAddress)", async () => {
      const { vault, asProtocol } = await loadFixture(deployVault);
      await expect(asProtocol.credit(ethers.ZeroAddress, 1n)).to.be.revertedWithCustomError(vault, "ZeroAddress");
    });

    it("is refused to accounts without PROTOCOL_ROLE, including the admin and a BS", async () => {
      const { vault, mbs, a, outsider } = await loadFixture(deployVault);
      for (const caller of [outsider, mbs, a]) {
        await expect(vault.connect(caller).credit(a.address, 1n))
          .to.be.revertedWithCustomError(vault, "AccessControlUnauthorizedAccount")
          .withArgs(caller.address, PROTOCOL_ROLE);
      }
    });

    it("fails without the coin's PROTOCOL_ROLE (the vault mints)", async () => {
      const { vault, asProtocol, coin, a } = await loadFixture(deployVault);
      const vaultAddress = await vault.getAddress();
      await coin.revokeRole(PROTOCOL_ROLE, vaultAddress);
      await expect(asProtocol.credit(a.address, 1n))
        .to.be.revertedWithCustomError(coin, "AccessControlUnauthorizedAccount")
        .withArgs(vaultAddress, PROTOCOL_ROLE);
    });
  });

  describe("bond", () => {
    it("pulls the member's liquid coins and bonds them", async () => {
      const { vault, coin, a } = await loadFixture(withLiquid);
      const vaultAddress = await vault.getAddress();
      const tx = vault.connect(a).bond(60n * COIN);
      await expect(tx).to.emit(vault, "Bonded").withArgs(a.address, 60n * COIN);
      await expect(tx).to.emit(coin, "Transfer").withArgs(a.address, vaultAddress, 60n * COIN);
      expect(await coin.balanceOf(a.address)).to.equal(40n * COIN);
      expect(await coin.balanceOf(vaultAddress)).to.equal(60n * COIN);
      expect(await vault.bondedOf(a.address)).to.equal(60n * COIN);
      expect(await vault.totalBonded()).to.equal(60n * COIN);
      await vault.connect(a).bond(40n * COIN);
      expect(await vault.bondedOf(a.address)).to.equal(100n * COIN);
      expect(await coin.totalSupply()).to.equal(200n * COIN);
    });

    it("refuses a zero amount (ZeroAmount)", async () => {
      const { vault, a } = await loadFixture(withLiquid);
      await expect(vault.connect(a).bond(0n)).to.be.revertedWithCustomError(vault, "ZeroAmount").withArgs();
    });

    it("is refused to non-members and removed BSs (NotMember)", async () => {
      const { vault, coin, registry, protocol, b, outsider } = await loadFixture(withLiquid);
      await coin.connect(protocol).mint(outsider.address, 10n * COIN);
      await coin.connect(outsider).approve(await vault.getAddress(), ethers.MaxUint256);
      await expect(vault.connect(outsider).bond(1n))
        .to.be.revertedWithCustomError(vault, "NotMember")
        .withArgs(outsider.address);
      await registry.remove(b.address);
      await expect(vault.connect(b).bond(1n)).to.be.revertedWithCustomError(vault, "NotMember").withArgs(b.address);
    });

    it("needs an allowance and a balance (the coin's errors)", async () => {
      const { vault, coin, a, c } = await loadFixture(withLiquid);
      const vaultAddress = await vault.getAddress();
      await expect(vault.connect(a).bond(100n * COIN + 1n))
        .to.be.revertedWithCustomError(coin, "ERC20InsufficientBalance")
        .withArgs(a.address, 100n * COIN, 100n * COIN + 1n);
      await expect(vault.connect(c).bond(1n))
        .to.be.revertedWithCustomError(coin, "ERC20InsufficientAllowance")
        .withArgs(vaultAddress, 0n, 1n);
    });
  });

  describe("unbond", () => {
    it("moves coins from the bond to the queue, releasable after the delay", async () => {
      const { vault, coin, a } = await loadFixture(withLiquid);
      await vault.connect(a).bond(100n * COIN);
      const t = await at(BigInt(await time.latest()) + 10n);
      await expect(vault.connect(a).unbond(30n * COIN))
        .to.emit(vault, "UnbondingStarted")
        .withArgs(a.address, 30n * COIN, t + DELAY);
      expect(await vault.bondedOf(a.address)).to.equal(70n * COIN);
      expect(await vault.unbondingOf(a.address)).to.equal(30n * COIN);
      const [bonded, unbonding] = await vault.stakeOf(a.address);
      expect([bonded, unbonding]).to.deep.equal([70n * COIN, 30n * COIN]);
      expect(await entries(vault, a)).to.deep.equal([[30n * COIN, t + DELAY]]);
      expect(await vault.totalBonded()).to.equal(70n * COIN);
      // The coins stay in the vault.
      expect(await coin.balanceOf(a.address)).to.equal(0n);
      expect(await coin.balanceOf(await vault.getAddress())).to.equal(100n * COIN);
    });

    it("unbonds the whole bond", async () => {
      const { vault, asProtocol, a } = await loadFixture(deployVault);
      await asProtocol.credit(a.address, 7n);
      await vault.connect(a).unbond(7n);
      expect(await vault.stakeOf(a.address)).to.deep.equal([0n, 7n]);
      expect(await vault.totalBonded()).to.equal(0n);
    });

    it("refuses a zero amount (ZeroAmount) and more than the bond (InsufficientBond)", async () => {
      const { vault, asProtocol, a, outsider } = await loadFixture(deployVault);
      await asProtocol.credit(a.address, 10n * COIN);
      await expect(vault.connect(a).unbond(0n)).to.be.revertedWithCustomError(vault, "ZeroAmount").withArgs();
      await expect(vault.connect(a).unbond(10n * COIN + 1n))
        .to.be.revertedWithCustomError(vault, "InsufficientBond")
        .withArgs(10n * COIN, 10n * COIN + 1n);
      await expect(vault.connect(outsider).unbond(1n))
        .to.be.revertedWithCustomError(vault, "InsufficientBond")
        .withArgs(0n, 1n);
      // Unbonding coins are not bond any more.
      await vault.connect(a).unbond(4n * COIN);
      await expect(vault.connect(a).unbond(6n * COIN + 1n))
        .to.be.revertedWithCustomError(vault, "InsufficientBond")
        .withArgs(6n * COIN, 6n * COIN + 1n);
    });

    it("is open to a removed BS, which can withdraw after the delay", async () => {
      const { vault, asProtocol, coin, registry, a } = await loadFixture(deployVault);
      await asProtocol.credit(a.address, 10n * COIN);
      await registry.remove(a.address);
      await vault.connect(a).unbond(10n * COIN);
      await time.increase(DELAY);
      await expect(vault.connect(a).withdraw()).to.emit(vault, "Withdrawn").withArgs(a.address, 10n * COIN);
      expect(await coin.balanceOf(a.address)).to.equal(10n * COIN);
    });

    it("refuses a ninth pending entry (UnbondingQueueFull) until a matured entry is withdrawn", async () => {
      const { vault, asProtocol, a } = await loadFixture(deployVault);
      await asProtocol.credit(a.address, 100n);
      const t0 = BigInt(await time.latest());
      for (let i = 1; i <= MAX_UNBONDING; i++) {
        await at(t0 + BigInt(i));
        await vault.connect(a).unbond(BigInt(i));
      }
      expect((await vault.unbondingEntries(a.address)).length).to.equal(MAX_UNBONDING);
      await expect(vault.connect(a).unbond(1n)).to.be.revertedWithCustomError(vault, "UnbondingQueueFull").withArgs();
      // The first entry matures at t0 + 1 + DELAY: withdrawing it frees one slot.
      await at(t0 + 1n + DELAY);
      await expect(vault.connect(a).withdraw()).to.emit(vault, "Withdrawn").withArgs(a.address, 1n);
      expect((await vault.unbondingEntries(a.address)).length).to.equal(MAX_UNBONDING - 1);
      await vault.connect(a).unbond(1n);
      await expect(vault.connect(a).unbond(1n)).to.be.revertedWithCustomError(vault, "UnbondingQueueFull");
      // Unbonded 1 + 2 + ... + 8 = 36, then 1 more; withdrew 1.
      expect(await vault.unbondingOf(a.address)).to.equal(36n);
      expect(await vault.bondedOf(a.address)).to.equal(63n);
    });

    it("refuses an entry of 2^192 coins or more (SafeCastOverflowedUintDowncast)", async () => {
      const { vault, asProtocol, a } = await loadFixture(deployVault);
      const big = 2n ** 192n;
      await asProtocol.credit(a.address, big);
      await expect(vault.connect(a).unbond(big))
        .to.be.revertedWithCustomError(vault, "SafeCastOverflowedUintDowncast")
        .withArgs(192, big);
      await vault.connect(a).unbond(big - 1n);
      expect(await vault.stakeOf(a.address)).to.deep.equal([1n, big - 1n]);
    });
  });

  describe("withdraw", () => {
    it("refuses an empty queue and an entry before its release (NothingToWithdraw)", async () => {
      const { vault, asProtocol, a } = await loadFixture(deployVault);
      await expect(vault.connect(a).withdraw()).to.be.revertedWithCustomError(vault, "NothingToWithdraw").withArgs();
      await asProtocol.credit(a.address, 10n * COIN);
      const t = await at(BigInt(await time.latest()) + 1n);
      await vault.connect(a).unbond(10n * COIN);
      await at(t + DELAY - 1n);
      await expect(vault.connect(a).withdraw()).to.be.revertedWithCustomError(vault, "NothingToWithdraw");
    });

    it("releases an entry exactly at releaseAt as liquid coins", async () => {
      const { vault, asProtocol, coin, a } = await loadFixture(deployVault);
      const vaultAddress = await vault.getAddress();
      await asProtocol.credit(a.address, 10n * COIN);
      const t = await at(BigInt(await time.latest()) + 1n);
      await vault.connect(a).unbond(10n * COIN);
      await at(t + DELAY);
      const tx = vault.connect(a).withdraw();
      await expect(tx).to.emit(vault, "Withdrawn").withArgs(a.address, 10n * COIN);
      await expect(tx).to.emit(coin, "Transfer").withArgs(vaultAddress, a.address, 10n * COIN);
      expect(await coin.balanceOf(a.address)).to.equal(10n * COIN);
      expect(await coin.balanceOf(vaultAddress)).to.equal(0n);
      expect(await vault.stakeOf(a.address)).to.deep.equal([0n, 0n]);
      expect(await entries(vault, a)).to.deep.equal([]);
      await expect(vault.connect(a).withdraw()).to.be.revertedWithCustomError(vault, "NothingToWithdraw");
    });

    it("withdraws every matured entry of a partially matured queue and keeps the rest in order", async () => {
      const { vault, asProtocol, coin, a } = await loadFixture(deployVault);
      await asProtocol.credit(a.address, 100n);
      const t0 = BigInt(await time.latest()) + 1n;
      await at(t0);
      await vault.connect(a).unbond(10n);
      await at(t0 + 10n);
      await vault.connect(a).unbond(20n);
      await at(t0 + 20n);
      await vault.connect(a).unbond(30n);
      await at(t0 + 30n);
      await vault.connect(a).unbond(5n);
      // At t0 + 10 + DELAY the first two entries have matured.
      await at(t0 + 10n + DELAY);
      await expect(vault.connect(a).withdraw()).to.emit(vault, "Withdrawn").withArgs(a.address, 30n);
      expect(await coin.balanceOf(a.address)).to.equal(30n);
      expect(await entries(vault, a)).to.deep.equal([
        [30n, t0 + 20n + DELAY],
        [5n, t0 + 30n + DELAY],
      ]);
      expect(await vault.unbondingOf(a.address)).to.equal(35n);
      await at(t0 + 30n + DELAY);
      await expect(vault.connect(a).withdraw()).to.emit(vault, "Withdrawn").withArgs(a.address, 35n);
      expect(await entries(vault, a)).to.deep.equal([]);
      expect(await coin.balanceOf(a.address)).to.equal(65n);
      expect(await vault.stakeOf(a.address)).to.deep.equal([35n, 0n]);
    });

    it("matured coins stay pending (and counted as unbonding) until withdrawn", async () => {
      const { vault, asProtocol, a } = await loadFixture(deployVault);
      await asProtocol.credit(a.address, 10n);
      await vault.connect(a).unbond(10n);
      await time.increase(10n * DELAY);
      expect(await vault.unbondingOf(a.address)).to.equal(10n);
      expect(await vault.stakeOf(a.address)).to.deep.equal([0n, 10n]);
      expect(await vault.connect(a).withdraw.staticCall()).to.equal(10n);
    });
  });

  describe("slash", () => {
    /** a: bond 10 coins, unbonding 30 (older) then 20 (newer); b: bond 50. */
    async function withStake() {
      const f = await loadFixture(deployVault);
      await f.asProtocol.credit(f.a.address, 60n * COIN);
      await f.asProtocol.credit(f.b.address, 50n * COIN);
      const t0 = BigInt(await time.latest()) + 1n;
      await at(t0);
      await f.vault.connect(f.a).unbond(30n * COIN);
      await at(t0 + 1n);
      await f.vault.connect(f.a).unbond(20n * COIN);
      return { ...f, older: t0 + DELAY, newer: t0 + 1n + DELAY };
    }

    it("takes from the bond first, then the newest entry, and burns exactly what it takes", async () => {
      const { vault, asProtocol, coin, a, b, older } = await loadFixture(withStake);
      const vaultAddress = await vault.getAddress();
      const supplyBefore = await coin.totalSupply();
      const stakeBefore = await stake(vault, a);
      expect(stakeBefore).to.equal(60n * COIN);
      // 50 % of 60 = 30: 10 from the bond, 20 from the newest entry (gone), the older entry untouched.
      expect(await asProtocol.slash.staticCall(a.address, 5_000n)).to.equal(30n * COIN);
      const tx = asProtocol.slash(a.address, 5_000n);
      await expect(tx).to.emit(vault, "Slashed").withArgs(a.address, 5_000n, 10n * COIN, 20n * COIN);
      await expect(tx).to.emit(coin, "Transfer").withArgs(vaultAddress, ethers.ZeroAddress, 30n * COIN);
      expect(await vault.stakeOf(a.address)).to.deep.equal([0n, 30n * COIN]);
      expect(await entries(vault, a)).to.deep.equal([[30n * COIN, older]]);
      expect(stakeBefore - (await stake(vault, a))).to.equal(30n * COIN);
      expect(supplyBefore - (await coin.totalSupply())).to.equal(30n * COIN);
      expect(await coin.balanceOf(vaultAddress)).to.equal(80n * COIN);
      expect(await vault.totalBonded()).to.equal(50n * COIN);
      // b is untouched.
      expect(await vault.stakeOf(b.address)).to.deep.equal([50n * COIN, 0n]);
    });

    it("takes part of an entry when the rest is smaller than it", async () => {
      const { vault, asProtocol, coin, a, older, newer } = await loadFixture(withStake);
      // 20 % of 60 = 12: 10 from the bond, 2 from the newest entry (20 -> 18).
      await expect(asProtocol.slash(a.address, 2_000n))
        .to.emit(vault, "Slashed")
        .withArgs(a.address, 2_000n, 10n * COIN, 2n * COIN);
      expect(await entries(vault, a)).to.deep.equal([
        [30n * COIN, older],
        [18n * COIN, newer],
      ]);
      // With the bond at 0, 75 % of 48 = 36 comes from the queue only: the newest 18, then 18 of the older 30.
      const supplyBefore = await coin.totalSupply();
      await expect(asProtocol.slash(a.address, 7_500n))
        .to.emit(vault, "Slashed")
        .withArgs(a.address, 7_500n, 0n, 36n * COIN);
      expect(await entries(vault, a)).to.deep.equal([[12n * COIN, older]]);
      expect(supplyBefore - (await coin.totalSupply())).to.equal(36n * COIN);
      expect(await vault.totalBonded()).to.equal(50n * COIN);
    });

    it("takes only from the bond when the bond covers the slash", async () => {
      const { vault, asProtocol, coin, b } = await loadFixture(withStake);
      const supplyBefore = await coin.totalSupply();
      await expect(asProtocol.slash(b.address, 1_000n))
        .to.emit(vault, "Slashed")
        .withArgs(b.address, 1_000n, 5n * COIN, 0n);
      expect(await vault.stakeOf(b.address)).to.deep.equal([45n * COIN, 0n]);
      expect(supplyBefore - (await coin.totalSupply())).to.equal(5n * COIN);
      expect(await vault.totalBonded()).to.equal(10n * COIN + 45n * COIN);
    });

    it("burns the whole stake at BPS", async () => {
      const { vault, asProtocol, coin, a, b } = await loadFixture(withStake);
      await expect(asProtocol.slash(a.address, BPS))
        .to.emit(vault, "Slashed")
        .withArgs(a.address, BPS, 10n * COIN, 50n * COIN);
      expect(await vault.stakeOf(a.address)).to.deep.equal([0n, 0n]);
      expect(await entries(vault, a)).to.deep.equal([]);
      expect(await coin.totalSupply()).to.equal(50n * COIN);
      expect(await coin.balanceOf(await vault.getAddress())).to.equal(50n * COIN);
      await expect(vault.connect(a).withdraw()).to.be.revertedWithCustomError(vault, "NothingToWithdraw");
      expect(await vault.bondedOf(b.address)).to.equal(50n * COIN);
    });

    it("slashes matured entries that were not withdrawn", async () => {
      const { vault, asProtocol, a, older } = await loadFixture(withStake);
      await time.increase(10n * DELAY);
      await asProtocol.slash(a.address, BPS / 2n);
      expect(await entries(vault, a)).to.deep.equal([[30n * COIN, older]]);
      await expect(vault.connect(a).withdraw()).to.emit(vault, "Withdrawn").withArgs(a.address, 30n * COIN);
    });

    it("slashes a removed BS", async () => {
      const { vault, asProtocol, registry, b } = await loadFixture(withStake);
      await registry.remove(b.address);
      await asProtocol.slash(b.address, BPS);
      expect(await vault.bondedOf(b.address)).to.equal(0n);
    });

    it("returns 0 without an event when there is nothing to take (no stake, zero bps, rounding)", async () => {
      const { vault, asProtocol, coin, a, c } = await loadFixture(withStake);
      expect(await asProtocol.slash.staticCall(c.address, BPS)).to.equal(0n);
      expect(await asProtocol.slash.staticCall(a.address, 0n)).to.equal(0n);
      for (const tx of [asProtocol.slash(c.address, BPS), asProtocol.slash(a.address, 0n)]) {
        await expect(tx).to.not.emit(vault, "Slashed");
        await expect(tx).to.not.emit(coin, "Transfer");
      }
      await asProtocol.credit(c.address, 1n);
      expect(await asProtocol.slash.staticCall(c.address, BPS - 1n)).to.equal(0n); // 1 * 9999 / 10000 = 0
      await expect(asProtocol.slash(c.address, BPS - 1n)).to.not.emit(vault, "Slashed");
      expect(await vault.bondedOf(c.address)).to.equal(1n);
      expect(await stake(vault, a)).to.equal(60n * COIN);
    });

    it("rounds the share down", async () => {
      const { vault, asProtocol, c } = await loadFixture(deployVault);
      await asProtocol.credit(c.address, 3n);
      await expect(asProtocol.slash(c.address, 5_000n)).to.emit(vault, "Slashed").withArgs(c.address, 5_000n, 1n, 0n);
      expect(await vault.bondedOf(c.address)).to.equal(2n);
    });

    it("refuses bps above BPS (InvalidParameter)", async () => {
      const { vault, asProtocol, a } = await loadFixture(withStake);
      await expect(asProtocol.slash(a.address, BPS + 1n)).to.be.revertedWithCustomError(vault, "InvalidParameter");
    });

    it("is refused to accounts without PROTOCOL_ROLE, including the admin and the BS", async () => {
      const { vault, mbs, a, outsider } = await loadFixture(withStake);
      for (const caller of [outsider, mbs, a]) {
        await expect(vault.connect(caller).slash(a.address, 1n))
          .to.be.revertedWithCustomError(vault, "AccessControlUnauthorizedAccount")
          .withArgs(caller.address, PROTOCOL_ROLE);
      }
    });

    it("fails without the coin's PROTOCOL_ROLE (the vault burns)", async () => {
      const { vault, asProtocol, coin, a } = await loadFixture(withStake);
      const vaultAddress = await vault.getAddress();
      await coin.revokeRole(PROTOCOL_ROLE, vaultAddress);
      await expect(asProtocol.slash(a.address, 1n))
        .to.be.revertedWithCustomError(coin, "AccessControlUnauthorizedAccount")
        .withArgs(vaultAddress, PROTOCOL_ROLE);
    });
  });

  describe("bondedAt (timestamp checkpoints)", () => {
    /** a: credit 50 at t1, bond 100 at t2, unbond 30 at t3, slash 10 % of 150 at t4 (15 from the bond), then a block. */
    async function withHistory() {
      const f = await loadFixture(withLiquid);
      const t0 = BigInt(await time.latest());
      const [t1, t2, t3, t4] = [t0 + 100n, t0 + 200n, t0 + 300n, t0 + 400n];
      await at(t1);
      await f.asProtocol.credit(f.a.address, 50n * COIN);
      await at(t2);
      await f.vault.connect(f.a).bond(100n * COIN);
      await at(t3);
      await f.vault.connect(f.a).unbond(30n * COIN);
      await at(t4);
      await f.asProtocol.slash(f.a.address, 1_000n);
      await time.increase(100);
      return { ...f, t1, t2, t3, t4 };
    }

    it("reads the bond at past timestamps across credit, bond, unbond and slash", async () => {
      const { vault, a, t1, t2, t3, t4 } = await loadFixture(withHistory);
      expect(await vault.bondedAt(a.address, 0n)).to.equal(0n);
      expect(await vault.bondedAt(a.address, t1 - 1n)).to.equal(0n);
      expect(await vault.bondedAt(a.address, t1)).to.equal(50n * COIN);
      expect(await vault.bondedAt(a.address, t2 - 1n)).to.equal(50n * COIN);
      expect(await vault.bondedAt(a.address, t2)).to.equal(150n * COIN);
      expect(await vault.bondedAt(a.address, t3)).to.equal(120n * COIN);
      expect(await vault.bondedAt(a.address, t4 - 1n)).to.equal(120n * COIN);
      expect(await vault.bondedAt(a.address, t4)).to.equal(105n * COIN);
      expect(await vault.bondedAt(a.address, t4 + 50n)).to.equal(105n * COIN);
      expect(await vault.stakeOf(a.address)).to.deep.equal([105n * COIN, 30n * COIN]);
      expect(await vault.totalBonded()).to.equal(105n * COIN);
    });

    it("refuses lookups at or after the current timestamp (FutureLookup)", async () => {
      const { vault, a } = await loadFixture(withHistory);
      const now = BigInt(await time.latest());
      await expect(vault.bondedAt(a.address, now))
        .to.be.revertedWithCustomError(vault, "FutureLookup")
        .withArgs(now, now);
      await expect(vault.bondedAt(a.address, now + 1000n))
        .to.be.revertedWithCustomError(vault, "FutureLookup")
        .withArgs(now + 1000n, now);
      await expect(vault.bondedAt(a.address, ethers.MaxUint256))
        .to.be.revertedWithCustomError(vault, "FutureLookup")
        .withArgs(ethers.MaxUint256, now);
      expect(await vault.bondedAt(a.address, now - 1n)).to.equal(105n * COIN);
    });
  });

  describe("the attack: moving coins neither escapes a slash nor counts twice", () => {
    it("liquid coins moved to a second key count nowhere; only the bond counts", async () => {
      const { vault, coin, protocol, a, b } = await loadFixture(withLiquid);
      await vault.connect(a).bond(40n * COIN);
      // a moves its remaining 60 liquid coins to its second key b (the coin has no votes or delegation left to game).
      await coin.connect(a).transfer(b.address, 60n * COIN);
      await time.increase(10);
      const t = BigInt(await time.latest());
      await time.increase(10);
      expect(await vault.bondedAt(a.address, t)).to.equal(40n * COIN);
      expect(await vault.bondedAt(b.address, t)).to.equal(0n);
      // A slash reaches exactly the bond; the coins on the second key are not part of a's stake.
      await vault.connect(protocol).slash(a.address, BPS);
      expect(await vault.stakeOf(a.address)).to.deep.equal([0n, 0n]);
      expect(await coin.balanceOf(b.address)).to.equal(160n * COIN);
    });

    it("unbonding everything right before a slash still loses the full share, from the queue", async () => {
      const { vault, asProtocol, coin, a } = await loadFixture(withLiquid);
      await vault.connect(a).bond(100n * COIN);
      const t = await at(BigInt(await time.latest()) + 1n);
      await vault.connect(a).unbond(100n * COIN);
      const supplyBefore = await coin.totalSupply();
      await expect(asProtocol.slash(a.address, 3_000n))
        .to.emit(vault, "Slashed")
        .withArgs(a.address, 3_000n, 0n, 30n * COIN);
      expect(supplyBefore - (await coin.totalSupply())).to.equal(30n * COIN);
      expect(await vault.stakeOf(a.address)).to.deep.equal([0n, 70n * COIN]);
      // Nothing leaves before the delay; the rest leaves after it.
      await at(t + DELAY - 1n);
      await expect(vault.connect(a).withdraw()).to.be.revertedWithCustomError(vault, "NothingToWithdraw");
      await expect(vault.connect(a).withdraw()).to.emit(vault, "Withdrawn").withArgs(a.address, 70n * COIN);
      expect(await coin.balanceOf(a.address)).to.equal(70n * COIN);
    });

    it("coins withdrawn by one BS and bonded by another count only from the time they are bonded", async () => {
      const { vault, coin, a, b } = await loadFixture(withLiquid);
      const t0 = BigInt(await time.latest());
      const [t1, t2, t3, t4] = [t0 + 10n, t0 + 20n, t0 + 20n + DELAY, t0 + 30n + DELAY];
      await at(t1);
      await vault.connect(a).bond(100n * COIN);
      await at(t2);
      await vault.connect(a).unbond(100n * COIN);
      await at(t3);
      await vault.connect(a).withdraw();
      await coin.connect(a).transfer(b.address, 100n * COIN);
      await at(t4);
      await vault.connect(b).bond(100n * COIN);
      await time.increase(10);
      const points = [t1 - 1n, t1, t2 - 1n, t2, t3, t4 - 1n, t4, t4 + 5n];
      const expected: [bigint, bigint][] = [
        [0n, 0n],
        [100n, 0n],
        [100n, 0n],
        [0n, 0n],
        [0n, 0n],
        [0n, 0n],
        [0n, 100n],
        [0n, 100n],
      ];
      for (const [i, p] of points.entries()) {
        const weights = [await vault.bondedAt(a.address, p), await vault.bondedAt(b.address, p)];
        expect(weights).to.deep.equal(expected[i].map((x) => x * COIN));
        expect(weights[0] + weights[1]).to.be.at.most(100n * COIN);
      }
    });
  });
});
