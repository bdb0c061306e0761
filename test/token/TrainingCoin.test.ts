/**
 * Unit tests of contracts/token/TrainingCoin.sol: the DPoS stake. Minting and burning only by PROTOCOL_ROLE,
 * automatic self-delegation on first receipt, refusal of delegation to address(0), and timestamp-checkpointed votes
 * (ERC-6372 "mode=timestamp").
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import type { Signature } from "ethers";
import { loadFixture, time, mine } from "@nomicfoundation/hardhat-network-helpers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { COIN, deployProtocolWithTestAdmin } from "../fixtures";
import { ROLES } from "../../src/chain/roles";
import { TrainingCoin__factory, type TrainingCoin } from "../../typechain-types";

const PROTOCOL_ROLE = ethers.id("PROTOCOL_ROLE");
const DEFAULT_ADMIN_ROLE = ethers.ZeroHash;
const MAX_VOTES_SUPPLY = 2n ** 208n - 1n; // ERC20Votes._maxSupply()
const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

/** Protocol coin with a dedicated minter (PROTOCOL_ROLE) and three fresh holders that never held coins. */
async function coinWithMinter() {
  const p = await loadFixture(deployProtocolWithTestAdmin);
  const signers = await ethers.getSigners();
  const [minter, alice, bob, carol] = signers.slice(12, 16);
  await p.coin.grantRole(PROTOCOL_ROLE, minter.address);
  return { ...p, minter, alice, bob, carol, asMinter: p.coin.connect(minter) };
}

/** As coinWithMinter, with alice holding 100 coins and bob 40 (both self-delegated by the mint). */
async function withHolders() {
  const f = await loadFixture(coinWithMinter);
  await f.asMinter.mint(f.alice.address, 100n * COIN);
  await f.asMinter.mint(f.bob.address, 40n * COIN);
  return f;
}

/** EIP-712 delegation signature of `signer` for TrainingCoin.delegateBySig. */
async function signDelegation(
  coin: TrainingCoin,
  signer: HardhatEthersSigner,
  delegatee: string,
  nonce: bigint,
  expiry: bigint,
): Promise<Signature> {
  const domain = {
    name: "DTWN Training Coin",
    version: "1",
    chainId: (await ethers.provider.getNetwork()).chainId,
    verifyingContract: await coin.getAddress(),
  };
  const types = {
    Delegation: [
      { name: "delegatee", type: "address" },
      { name: "nonce", type: "uint256" },
      { name: "expiry", type: "uint256" },
    ],
  };
  return ethers.Signature.from(await signer.signTypedData(domain, types, { delegatee, nonce, expiry }));
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

    it("uses a timestamp clock (ERC-6372)", async () => {
      const { coin } = await loadFixture(deployProtocolWithTestAdmin);
      expect(await coin.CLOCK_MODE()).to.equal("mode=timestamp");
      await time.increase(1000);
      expect(await coin.clock()).to.equal(BigInt(await time.latest()));
    });

    it("has the EIP-712 domain used by delegateBySig", async () => {
      const { coin } = await loadFixture(deployProtocolWithTestAdmin);
      const domain = await coin.eip712Domain();
      expect(domain.name).to.equal("DTWN Training Coin");
      expect(domain.version).to.equal("1");
      expect(domain.chainId).to.equal(31337n);
      expect(domain.verifyingContract).to.equal(await coin.getAddress());
    });

    it("grants DEFAULT_ADMIN_ROLE to the admin only, and PROTOCOL_ROLE to the protocol contracts", async () => {
      const { coin, mbs, rounds, genesis, blocks, bss } = await loadFixture(deployProtocolWithTestAdmin);
      expect(await coin.PROTOCOL_ROLE()).to.equal(PROTOCOL_ROLE);
      expect(await coin.PROTOCOL_ROLE()).to.equal(ROLES.PROTOCOL);
      expect(await coin.hasRole(DEFAULT_ADMIN_ROLE, mbs.address)).to.equal(true);
      expect(await coin.getRoleAdmin(PROTOCOL_ROLE)).to.equal(DEFAULT_ADMIN_ROLE);
      for (const c of [rounds, genesis, blocks]) {
        expect(await coin.hasRole(PROTOCOL_ROLE, await c.getAddress())).to.equal(true);
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
    it("mints and self-delegates the receiver on first receipt (getVotes == balance without delegate)", async () => {
      const { coin, asMinter, alice } = await loadFixture(coinWithMinter);
      expect(await coin.delegates(alice.address)).to.equal(ethers.ZeroAddress);
      const tx = asMinter.mint(alice.address, 7n * COIN);
      await expect(tx).to.emit(coin, "Transfer").withArgs(ethers.ZeroAddress, alice.address, 7n * COIN);
      await expect(tx).to.emit(coin, "DelegateChanged").withArgs(alice.address, ethers.ZeroAddress, alice.address);
      await expect(tx).to.emit(coin, "DelegateVotesChanged").withArgs(alice.address, 0n, 7n * COIN);
      expect(await coin.balanceOf(alice.address)).to.equal(7n * COIN);
      expect(await coin.totalSupply()).to.equal(7n * COIN);
      expect(await coin.delegates(alice.address)).to.equal(alice.address);
      expect(await coin.getVotes(alice.address)).to.equal(await coin.balanceOf(alice.address));
    });

    it("does not re-delegate on later receipts and adds the votes", async () => {
      const { coin, asMinter, alice } = await loadFixture(withHolders);
      const tx = asMinter.mint(alice.address, 5n * COIN);
      await expect(tx).to.not.emit(coin, "DelegateChanged");
      await expect(tx).to.emit(coin, "DelegateVotesChanged").withArgs(alice.address, 100n * COIN, 105n * COIN);
      expect(await coin.getVotes(alice.address)).to.equal(105n * COIN);
      expect(await coin.totalSupply()).to.equal(145n * COIN);
    });

    it("self-delegates even on a zero-amount mint, without moving votes", async () => {
      const { coin, asMinter, carol } = await loadFixture(coinWithMinter);
      const tx = asMinter.mint(carol.address, 0n);
      await expect(tx).to.emit(coin, "DelegateChanged").withArgs(carol.address, ethers.ZeroAddress, carol.address);
      await expect(tx).to.not.emit(coin, "DelegateVotesChanged");
      expect(await coin.delegates(carol.address)).to.equal(carol.address);
      expect(await coin.getVotes(carol.address)).to.equal(0n);
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

    it("caps the supply at 2^208 - 1 (ERC20ExceededSafeSupply)", async () => {
      const { coin, asMinter, alice, bob } = await loadFixture(coinWithMinter);
      await asMinter.mint(alice.address, MAX_VOTES_SUPPLY);
      expect(await coin.getVotes(alice.address)).to.equal(MAX_VOTES_SUPPLY);
      await expect(asMinter.mint(bob.address, 1n))
        .to.be.revertedWithCustomError(coin, "ERC20ExceededSafeSupply")
        .withArgs(MAX_VOTES_SUPPLY + 1n, MAX_VOTES_SUPPLY);
    });
  });

  describe("burn", () => {
    it("burns and removes the votes", async () => {
      const { coin, asMinter, alice } = await loadFixture(withHolders);
      const tx = asMinter.burn(alice.address, 30n * COIN);
      await expect(tx).to.emit(coin, "Transfer").withArgs(alice.address, ethers.ZeroAddress, 30n * COIN);
      await expect(tx).to.emit(coin, "DelegateVotesChanged").withArgs(alice.address, 100n * COIN, 70n * COIN);
      expect(await coin.balanceOf(alice.address)).to.equal(70n * COIN);
      expect(await coin.getVotes(alice.address)).to.equal(70n * COIN);
      expect(await coin.totalSupply()).to.equal(110n * COIN);
      // Burning does not touch the delegation.
      expect(await coin.delegates(alice.address)).to.equal(alice.address);
    });

    it("burns the whole balance", async () => {
      const { coin, asMinter, bob } = await loadFixture(withHolders);
      await expect(asMinter.burn(bob.address, 40n * COIN))
        .to.emit(coin, "Transfer")
        .withArgs(bob.address, ethers.ZeroAddress, 40n * COIN);
      expect(await coin.balanceOf(bob.address)).to.equal(0n);
      expect(await coin.getVotes(bob.address)).to.equal(0n);
    });

    it("takes the votes from the holder's delegatee", async () => {
      const { coin, asMinter, alice, bob } = await loadFixture(withHolders);
      await coin.connect(alice).delegate(bob.address);
      await expect(asMinter.burn(alice.address, 10n * COIN))
        .to.emit(coin, "DelegateVotesChanged")
        .withArgs(bob.address, 140n * COIN, 130n * COIN);
      expect(await coin.getVotes(alice.address)).to.equal(0n);
      expect(await coin.getVotes(bob.address)).to.equal(130n * COIN);
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
    it("a transfer to a new holder self-delegates it and moves the votes", async () => {
      const { coin, alice, carol } = await loadFixture(withHolders);
      const tx = coin.connect(alice).transfer(carol.address, 25n * COIN);
      await expect(tx).to.emit(coin, "Transfer").withArgs(alice.address, carol.address, 25n * COIN);
      await expect(tx).to.emit(coin, "DelegateVotesChanged").withArgs(alice.address, 100n * COIN, 75n * COIN);
      await expect(tx).to.emit(coin, "DelegateChanged").withArgs(carol.address, ethers.ZeroAddress, carol.address);
      await expect(tx).to.emit(coin, "DelegateVotesChanged").withArgs(carol.address, 0n, 25n * COIN);
      expect(await coin.getVotes(alice.address)).to.equal(75n * COIN);
      expect(await coin.getVotes(carol.address)).to.equal(25n * COIN);
      expect(await coin.delegates(carol.address)).to.equal(carol.address);
    });

    it("a transfer between self-delegated holders moves the votes only", async () => {
      const { coin, alice, bob } = await loadFixture(withHolders);
      const tx = coin.connect(bob).transfer(alice.address, 10n * COIN);
      await expect(tx).to.not.emit(coin, "DelegateChanged");
      await expect(tx).to.emit(coin, "DelegateVotesChanged").withArgs(bob.address, 40n * COIN, 30n * COIN);
      await expect(tx).to.emit(coin, "DelegateVotesChanged").withArgs(alice.address, 100n * COIN, 110n * COIN);
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
      expect(await coin.getVotes(carol.address)).to.equal(20n * COIN);
      await expect(coin.connect(bob).transferFrom(alice.address, carol.address, 11n * COIN))
        .to.be.revertedWithCustomError(coin, "ERC20InsufficientAllowance")
        .withArgs(bob.address, 10n * COIN, 11n * COIN);
      await expect(coin.connect(alice).approve(ethers.ZeroAddress, 1n))
        .to.be.revertedWithCustomError(coin, "ERC20InvalidSpender")
        .withArgs(ethers.ZeroAddress);
    });
  });

  describe("delegate", () => {
    it("refuses delegate(address(0)) with DelegateToZeroAddress and keeps the votes", async () => {
      const { coin, alice } = await loadFixture(withHolders);
      await expect(coin.connect(alice).delegate(ethers.ZeroAddress))
        .to.be.revertedWithCustomError(coin, "DelegateToZeroAddress")
        .withArgs();
      expect(await coin.delegates(alice.address)).to.equal(alice.address);
      expect(await coin.getVotes(alice.address)).to.equal(100n * COIN);
    });

    it("refuses delegate(address(0)) also from an account that never held coins", async () => {
      const { coin, carol } = await loadFixture(withHolders);
      await expect(coin.connect(carol).delegate(ethers.ZeroAddress))
        .to.be.revertedWithCustomError(coin, "DelegateToZeroAddress")
        .withArgs();
    });

    it("delegating to another account moves all the votes to it", async () => {
      const { coin, alice, bob } = await loadFixture(withHolders);
      const tx = coin.connect(alice).delegate(bob.address);
      await expect(tx).to.emit(coin, "DelegateChanged").withArgs(alice.address, alice.address, bob.address);
      await expect(tx).to.emit(coin, "DelegateVotesChanged").withArgs(alice.address, 100n * COIN, 0n);
      await expect(tx).to.emit(coin, "DelegateVotesChanged").withArgs(bob.address, 40n * COIN, 140n * COIN);
      expect(await coin.delegates(alice.address)).to.equal(bob.address);
      expect(await coin.getVotes(alice.address)).to.equal(0n);
      expect(await coin.getVotes(bob.address)).to.equal(140n * COIN);
      // The balance does not move, only the votes.
      expect(await coin.balanceOf(alice.address)).to.equal(100n * COIN);
    });

    it("coins received after delegating count for the delegatee (no self-delegation back)", async () => {
      const { coin, asMinter, alice, bob } = await loadFixture(withHolders);
      await coin.connect(alice).delegate(bob.address);
      const tx = asMinter.mint(alice.address, 10n * COIN);
      await expect(tx).to.not.emit(coin, "DelegateChanged");
      await expect(tx).to.emit(coin, "DelegateVotesChanged").withArgs(bob.address, 140n * COIN, 150n * COIN);
      expect(await coin.delegates(alice.address)).to.equal(bob.address);
      expect(await coin.getVotes(alice.address)).to.equal(0n);
    });

    it("a delegation chosen before the first receipt is kept", async () => {
      const { coin, asMinter, bob, carol } = await loadFixture(withHolders);
      await expect(coin.connect(carol).delegate(bob.address))
        .to.emit(coin, "DelegateChanged")
        .withArgs(carol.address, ethers.ZeroAddress, bob.address);
      const tx = asMinter.mint(carol.address, 5n * COIN);
      await expect(tx).to.not.emit(coin, "DelegateChanged");
      expect(await coin.delegates(carol.address)).to.equal(bob.address);
      expect(await coin.getVotes(bob.address)).to.equal(45n * COIN);
      expect(await coin.getVotes(carol.address)).to.equal(0n);
    });

    it("delegating back to oneself restores the votes", async () => {
      const { coin, alice, bob } = await loadFixture(withHolders);
      await coin.connect(alice).delegate(bob.address);
      await expect(coin.connect(alice).delegate(alice.address))
        .to.emit(coin, "DelegateChanged")
        .withArgs(alice.address, bob.address, alice.address);
      expect(await coin.getVotes(alice.address)).to.equal(100n * COIN);
      expect(await coin.getVotes(bob.address)).to.equal(40n * COIN);
    });
  });

  describe("delegateBySig", () => {
    it("delegates with an EIP-712 signature submitted by anyone", async () => {
      const { coin, alice, bob, outsider } = await loadFixture(withHolders);
      const expiry = BigInt(await time.latest()) + 3600n;
      const sig = await signDelegation(coin, alice, bob.address, 0n, expiry);
      await expect(coin.connect(outsider).delegateBySig(bob.address, 0n, expiry, sig.v, sig.r, sig.s))
        .to.emit(coin, "DelegateChanged")
        .withArgs(alice.address, alice.address, bob.address);
      expect(await coin.getVotes(bob.address)).to.equal(140n * COIN);
      expect(await coin.nonces(alice.address)).to.equal(1n);
      // Replaying the signature fails on the nonce.
      await expect(coin.connect(outsider).delegateBySig(bob.address, 0n, expiry, sig.v, sig.r, sig.s))
        .to.be.revertedWithCustomError(coin, "InvalidAccountNonce")
        .withArgs(alice.address, 1n);
    });

    it("refuses a delegation to address(0) by signature", async () => {
      const { coin, alice } = await loadFixture(withHolders);
      const expiry = BigInt(await time.latest()) + 3600n;
      const sig = await signDelegation(coin, alice, ethers.ZeroAddress, 0n, expiry);
      await expect(
        coin.delegateBySig(ethers.ZeroAddress, 0n, expiry, sig.v, sig.r, sig.s),
      ).to.be.revertedWithCustomError(coin, "DelegateToZeroAddress").withArgs();
      expect(await coin.nonces(alice.address)).to.equal(0n);
    });

    it("refuses an expired signature", async () => {
      const { coin, alice, bob } = await loadFixture(withHolders);
      const expiry = BigInt(await time.latest()) - 1n;
      const sig = await signDelegation(coin, alice, bob.address, 0n, expiry);
      await expect(coin.delegateBySig(bob.address, 0n, expiry, sig.v, sig.r, sig.s))
        .to.be.revertedWithCustomError(coin, "VotesExpiredSignature")
        .withArgs(expiry);
    });

    it("refuses malformed signatures (ECDSAInvalidSignature, ECDSAInvalidSignatureS)", async () => {
      const { coin, alice, bob } = await loadFixture(withHolders);
      const expiry = BigInt(await time.latest()) + 3600n;
      const sig = await signDelegation(coin, alice, bob.address, 0n, expiry);
      await expect(
        coin.delegateBySig(bob.address, 0n, expiry, 27, ethers.ZeroHash, sig.s),
      ).to.be.revertedWithCustomError(coin, "ECDSAInvalidSignature").withArgs();
      const highS = ethers.toBeHex(SECP256K1_N - BigInt(sig.s), 32);
      await expect(coin.delegateBySig(bob.address, 0n, expiry, sig.v === 27 ? 28 : 27, sig.r, highS))
        .to.be.revertedWithCustomError(coin, "ECDSAInvalidSignatureS")
        .withArgs(highS);
    });
  });

  describe("past votes (timestamp checkpoints)", () => {
    /** alice: +100 at t1, +50 at t2, -30 at t3, delegates to bob at t4; then one more block. */
    async function withHistory() {
      const f = await loadFixture(coinWithMinter);
      const t0 = BigInt(await time.latest());
      const t1 = t0 + 100n;
      const t2 = t1 + 100n;
      const t3 = t2 + 100n;
      const t4 = t3 + 100n;
      await time.setNextBlockTimestamp(t1);
      await f.asMinter.mint(f.alice.address, 100n * COIN);
      await time.setNextBlockTimestamp(t2);
      await f.asMinter.mint(f.alice.address, 50n * COIN);
      await time.setNextBlockTimestamp(t3);
      await f.asMinter.burn(f.alice.address, 30n * COIN);
      await time.setNextBlockTimestamp(t4);
      await f.coin.connect(f.alice).delegate(f.bob.address);
      await time.increase(100);
      await mine(1);
      return { ...f, t1, t2, t3, t4 };
    }

    it("getPastVotes reads the votes at past timestamps", async () => {
      const { coin, alice, t1, t2, t3, t4 } = await loadFixture(withHistory);
      expect(await coin.getPastVotes(alice.address, t1 - 1n)).to.equal(0n);
      expect(await coin.getPastVotes(alice.address, t1)).to.equal(100n * COIN);
      expect(await coin.getPastVotes(alice.address, t1 + 50n)).to.equal(100n * COIN);
      expect(await coin.getPastVotes(alice.address, t2)).to.equal(150n * COIN);
      expect(await coin.getPastVotes(alice.address, t3)).to.equal(120n * COIN);
      expect(await coin.getPastVotes(alice.address, t4 - 1n)).to.equal(120n * COIN);
      expect(await coin.getPastVotes(alice.address, t4)).to.equal(0n);
      expect(await coin.getVotes(alice.address)).to.equal(0n);
    });

    it("getPastVotes follows a delegation made at a past timestamp", async () => {
      const { coin, bob, t4 } = await loadFixture(withHistory);
      expect(await coin.getPastVotes(bob.address, t4 - 1n)).to.equal(0n);
      expect(await coin.getPastVotes(bob.address, t4)).to.equal(120n * COIN);
    });

    it("getPastTotalSupply reads the supply at past timestamps", async () => {
      const { coin, t1, t2, t3 } = await loadFixture(withHistory);
      expect(await coin.getPastTotalSupply(t1 - 1n)).to.equal(0n);
      expect(await coin.getPastTotalSupply(t1)).to.equal(100n * COIN);
      expect(await coin.getPastTotalSupply(t2)).to.equal(150n * COIN);
      expect(await coin.getPastTotalSupply(t3)).to.equal(120n * COIN);
    });

    it("checkpoints are keyed by timestamp", async () => {
      const { coin, alice, t1, t2, t3, t4 } = await loadFixture(withHistory);
      expect(await coin.numCheckpoints(alice.address)).to.equal(4n);
      const expected: [bigint, bigint][] = [
        [t1, 100n * COIN],
        [t2, 150n * COIN],
        [t3, 120n * COIN],
        [t4, 0n],
      ];
      for (const [i, [key, value]] of expected.entries()) {
        const cp = await coin.checkpoints(alice.address, i);
        expect(cp._key).to.equal(key);
        expect(cp._value).to.equal(value);
      }
    });

    it("refuses lookups at or after the current timestamp (ERC5805FutureLookup)", async () => {
      const { coin, alice } = await loadFixture(withHistory);
      const now = BigInt(await time.latest());
      await expect(coin.getPastVotes(alice.address, now))
        .to.be.revertedWithCustomError(coin, "ERC5805FutureLookup")
        .withArgs(now, now);
      await expect(coin.getPastVotes(alice.address, now + 1000n))
        .to.be.revertedWithCustomError(coin, "ERC5805FutureLookup")
        .withArgs(now + 1000n, now);
      await expect(coin.getPastTotalSupply(now))
        .to.be.revertedWithCustomError(coin, "ERC5805FutureLookup")
        .withArgs(now, now);
      expect(await coin.getPastVotes(alice.address, now - 1n)).to.equal(0n);
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
