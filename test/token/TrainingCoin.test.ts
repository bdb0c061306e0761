/**
 * Unit tests of contracts/token/TrainingCoin.sol: the DPoS stake's coin. Minting and burning only by PROTOCOL_ROLE
 * (held by the StakeVault alone in a deployment); no votes and no delegation: only bonded coins weigh anything
 * (test/token/StakeVault.test.ts).
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { COIN, deployProtocolWithTestAdmin } from "../fixtures";
import { ROLES } from "../../src/chain/roles";
import { TrainingCoin__factory } from "../../typechain-types";

const PROTOCOL_ROLE = ethers.id("PROTOCOL_ROLE");
const DEFAULT_ADMIN_ROLE = ethers.ZeroHash;

/** Protocol coin with a dedicated minter (PROTOCOL_ROLE) and three fresh holders that never held coins. */
async function coinWithMinter() {
  const p = await loadFixture(deployProtocolWithTestAdmin);
  const signers = await ethers.getSigners();
  const [minter, alice, bob, carol] = signers.slice(12, 16);
  await p.coin.grantRole(PROTOCOL_ROLE, minter.address);
  return { ...p, minter, alice, bob, carol, asMinter: p.coin.connect(minter) };
}

/** As coinWithMinter, with alice holding 100 coins and bob 40. */
async function withHolders() {
  const f = await loadFixture(coinWithMinter);
  await f.asMinter.mint(f.alice.address, 100n * COIN);
  await f.asMinter.mint(f.bob.address, 40n * COIN);
  return f;
}

describe("TrainingCoin", () => {
  describe("deployment", () => {
    it("has the coin's name, symbol, decimals and no supply", async () => {
      const { coin } = await loadFixture(deployProtocolWithTestAdmin);
      expect(await coin.name()).to.equal("DTWN Training Coin");
      expect(await coin.symbol()).to.equal("DTC");
      expect(await coin.decimals()).to.equal(18n);
      expect(await coin.totalSupply()).to.equal(0n);
    });

    it("has no votes, checkpoints or delegation (attack stopped: coins moved to a second key that delegates back)", async () => {
      const { coin } = await loadFixture(deployProtocolWithTestAdmin);
      const names: string[] = [];
      coin.interface.forEachFunction((f) => names.push(f.name));
      expect(names).to.include("transfer");
      for (const f of ["delegate", "delegates", "delegateBySig", "getVotes", "getPastVotes", "getPastTotalSupply", "checkpoints", "clock"]) {
        expect(names, f).to.not.include(f);
      }
    });

    it("grants DEFAULT_ADMIN_ROLE to the admin only, and PROTOCOL_ROLE to the stake vault alone", async () => {
      const { coin, mbs, rounds, genesis, blocks, stake, bss } = await loadFixture(deployProtocolWithTestAdmin);
      expect(await coin.PROTOCOL_ROLE()).to.equal(PROTOCOL_ROLE);
      expect(await coin.PROTOCOL_ROLE()).to.equal(ROLES.PROTOCOL);
      expect(await coin.hasRole(DEFAULT_ADMIN_ROLE, mbs.address)).to.equal(true);
      expect(await coin.getRoleAdmin(PROTOCOL_ROLE)).to.equal(DEFAULT_ADMIN_ROLE);
      expect(await coin.hasRole(PROTOCOL_ROLE, await stake.getAddress())).to.equal(true);
      for (const c of [rounds, genesis, blocks]) {
        expect(await coin.hasRole(PROTOCOL_ROLE, await c.getAddress())).to.equal(false);
      }
      expect(await coin.hasRole(PROTOCOL_ROLE, mbs.address)).to.equal(false);
      expect(await coin.hasRole(PROTOCOL_ROLE, bss[0].address)).to.equal(false);
    });

    it("gives DEFAULT_ADMIN_ROLE to the constructor argument, not the deployer", async () => {
      const { mbs, bss } = await loadFixture(deployProtocolWithTestAdmin);
      const coin = await new TrainingCoin__factory(mbs).deploy(bss[0].address);
      await expect(coin.deploymentTransaction())
        .to.emit(coin, "RoleGranted")
        .withArgs(DEFAULT_ADMIN_ROLE, bss[0].address, mbs.address);
      expect(await coin.hasRole(DEFAULT_ADMIN_ROLE, bss[0].address)).to.equal(true);
      expect(await coin.hasRole(DEFAULT_ADMIN_ROLE, mbs.address)).to.equal(false);
    });
  });

  describe("mint", () => {
    it("mints to the receiver", async () => {
      const { coin, asMinter, alice } = await loadFixture(coinWithMinter);
      await expect(asMinter.mint(alice.address, 7n * COIN)).to.emit(coin, "Transfer").withArgs(ethers.ZeroAddress, alice.address, 7n * COIN);
      expect(await coin.balanceOf(alice.address)).to.equal(7n * COIN);
      expect(await coin.totalSupply()).to.equal(7n * COIN);
    });

    it("is refused to accounts without PROTOCOL_ROLE, including the admin and a BS", async () => {
      const { coin, mbs, outsider, bss, alice } = await loadFixture(coinWithMinter);
      for (const caller of [outsider, mbs, bss[0]]) {
        await expect(coin.connect(caller).mint(alice.address, 1n))
          .to.be.revertedWithCustomError(coin, "AccessControlUnauthorizedAccount")
          .withArgs(caller.address, PROTOCOL_ROLE);
      }
      expect(await coin.totalSupply()).to.equal(0n);
    });

    it("refuses the zero receiver with ERC20InvalidReceiver", async () => {
      const { coin, asMinter } = await loadFixture(coinWithMinter);
      await expect(asMinter.mint(ethers.ZeroAddress, 1n))
        .to.be.revertedWithCustomError(coin, "ERC20InvalidReceiver")
        .withArgs(ethers.ZeroAddress);
    });
  });

  describe("burn", () => {
    it("burns from the holder", async () => {
      const { coin, asMinter, alice } = await loadFixture(withHolders);
      await expect(asMinter.burn(alice.address, 30n * COIN)).to.emit(coin, "Transfer").withArgs(alice.address, ethers.ZeroAddress, 30n * COIN);
      expect(await coin.balanceOf(alice.address)).to.equal(70n * COIN);
      expect(await coin.totalSupply()).to.equal(110n * COIN);
    });

    it("is refused to accounts without PROTOCOL_ROLE, including the admin and the holder", async () => {
      const { coin, mbs, outsider, alice } = await loadFixture(withHolders);
      for (const caller of [outsider, mbs, alice]) {
        await expect(coin.connect(caller).burn(alice.address, 1n))
          .to.be.revertedWithCustomError(coin, "AccessControlUnauthorizedAccount")
          .withArgs(caller.address, PROTOCOL_ROLE);
      }
      expect(await coin.balanceOf(alice.address)).to.equal(100n * COIN);
    });

    it("refuses to burn more than the balance (ERC20InsufficientBalance)", async () => {
      const { coin, asMinter, bob, carol } = await loadFixture(withHolders);
      await expect(asMinter.burn(bob.address, 40n * COIN + 1n))
        .to.be.revertedWithCustomError(coin, "ERC20InsufficientBalance")
        .withArgs(bob.address, 40n * COIN, 40n * COIN + 1n);
      await expect(asMinter.burn(carol.address, 1n))
        .to.be.revertedWithCustomError(coin, "ERC20InsufficientBalance")
        .withArgs(carol.address, 0n, 1n);
    });

    it("refuses the zero holder with ERC20InvalidSender", async () => {
      const { coin, asMinter } = await loadFixture(withHolders);
      await expect(asMinter.burn(ethers.ZeroAddress, 1n))
        .to.be.revertedWithCustomError(coin, "ERC20InvalidSender")
        .withArgs(ethers.ZeroAddress);
    });

    it("stops working once PROTOCOL_ROLE is revoked", async () => {
      const { coin, asMinter, minter, mbs, alice } = await loadFixture(withHolders);
      await expect(coin.revokeRole(PROTOCOL_ROLE, minter.address))
        .to.emit(coin, "RoleRevoked")
        .withArgs(PROTOCOL_ROLE, minter.address, mbs.address);
      await expect(asMinter.burn(alice.address, 1n))
        .to.be.revertedWithCustomError(coin, "AccessControlUnauthorizedAccount")
        .withArgs(minter.address, PROTOCOL_ROLE);
      await expect(asMinter.mint(alice.address, 1n))
        .to.be.revertedWithCustomError(coin, "AccessControlUnauthorizedAccount")
        .withArgs(minter.address, PROTOCOL_ROLE);
    });
  });
  describe("transfers", () => {
    it("a transfer moves the balance", async () => {
      const { coin, alice, carol } = await loadFixture(withHolders);
      await expect(coin.connect(alice).transfer(carol.address, 25n * COIN)).to.emit(coin, "Transfer").withArgs(alice.address, carol.address, 25n * COIN);
      expect(await coin.balanceOf(alice.address)).to.equal(75n * COIN);
      expect(await coin.balanceOf(carol.address)).to.equal(25n * COIN);
    });

    it("refuses a transfer above the balance and to the zero address", async () => {
      const { coin, alice, bob } = await loadFixture(withHolders);
      await expect(coin.connect(bob).transfer(alice.address, 41n * COIN))
        .to.be.revertedWithCustomError(coin, "ERC20InsufficientBalance")
        .withArgs(bob.address, 40n * COIN, 41n * COIN);
      await expect(coin.connect(bob).transfer(ethers.ZeroAddress, 1n))
        .to.be.revertedWithCustomError(coin, "ERC20InvalidReceiver")
        .withArgs(ethers.ZeroAddress);
    });

    it("approve and transferFrom spend the allowance", async () => {
      const { coin, alice, bob, carol } = await loadFixture(withHolders);
      await expect(coin.connect(alice).approve(bob.address, 30n * COIN))
        .to.emit(coin, "Approval")
        .withArgs(alice.address, bob.address, 30n * COIN);
      await expect(coin.connect(bob).transferFrom(alice.address, carol.address, 20n * COIN))
        .to.emit(coin, "Transfer")
        .withArgs(alice.address, carol.address, 20n * COIN);
      expect(await coin.allowance(alice.address, bob.address)).to.equal(10n * COIN);
      expect(await coin.balanceOf(carol.address)).to.equal(20n * COIN);
      await expect(coin.connect(bob).transferFrom(alice.address, carol.address, 11n * COIN))
        .to.be.revertedWithCustomError(coin, "ERC20InsufficientAllowance")
        .withArgs(bob.address, 10n * COIN, 11n * COIN);
      await expect(coin.connect(alice).approve(ethers.ZeroAddress, 1n))
        .to.be.revertedWithCustomError(coin, "ERC20InvalidSpender")
        .withArgs(ethers.ZeroAddress);
    });
  });

  describe("roles", () => {
    it("only the admin grants PROTOCOL_ROLE", async () => {
      const { coin, mbs, outsider, alice } = await loadFixture(coinWithMinter);
      await expect(coin.connect(outsider).grantRole(PROTOCOL_ROLE, outsider.address))
        .to.be.revertedWithCustomError(coin, "AccessControlUnauthorizedAccount")
        .withArgs(outsider.address, DEFAULT_ADMIN_ROLE);
      await expect(coin.grantRole(PROTOCOL_ROLE, outsider.address))
        .to.emit(coin, "RoleGranted")
        .withArgs(PROTOCOL_ROLE, outsider.address, mbs.address);
      await expect(coin.connect(outsider).mint(alice.address, 1n))
        .to.emit(coin, "Transfer")
        .withArgs(ethers.ZeroAddress, alice.address, 1n);
    });

    it("renounceRole needs the caller's own address (AccessControlBadConfirmation)", async () => {
      const { coin, minter, outsider } = await loadFixture(coinWithMinter);
      await expect(coin.connect(minter).renounceRole(PROTOCOL_ROLE, outsider.address))
        .to.be.revertedWithCustomError(coin, "AccessControlBadConfirmation")
        .withArgs();
      await expect(coin.connect(minter).renounceRole(PROTOCOL_ROLE, minter.address))
        .to.emit(coin, "RoleRevoked")
        .withArgs(PROTOCOL_ROLE, minter.address, minter.address);
      expect(await coin.hasRole(PROTOCOL_ROLE, minter.address)).to.equal(false);
    });
  });
});

describe("TrainingCoin constructor", () => {
  it("refuses a zero admin (nobody could grant PROTOCOL_ROLE): ZeroAdmin", async () => {
    const [deployer] = await ethers.getSigners();
    const factory = new TrainingCoin__factory(deployer);
    await expect(factory.deploy(ethers.ZeroAddress)).to.be.revertedWithCustomError(factory, "ZeroAdmin").withArgs();
  });
});
