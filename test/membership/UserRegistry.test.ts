/**
 * Unit tests of contracts/membership/UserRegistry.sol: the end users (IoT devices) and their device keys, admitted
 * in batches by the operator (the MBS) and bound for good.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { ZeroAddress, ZeroHash } from "ethers";
import { admitUsers, deployProtocol, deployProtocolWithTestAdmin, device, domainOf, moveConsent, registerTwin, userId } from "../fixtures";
import { signMove, signRegistration } from "../../src/chain/consent";
import { ROLES } from "../../src/chain/roles";
import { UserRegistry__factory } from "../../typechain-types";

const MAX_USERS_PER_BATCH = 200;

/** `n` user ids and device keys, from user `from` on. */
function batch(n: number, from = 0): [string[], string[]] {
  const ids = Array.from({ length: n }, (_, k) => from + k);
  return [ids.map(userId), ids.map((i) => device(i).address)];
}

// Derived fixtures start from the deployProtocol snapshot (nested loadFixture), so the Ignition deployment runs once.

/** Protocol (operator = signer 0, the MBS) with bss[0] admitted as a member BS; no users. */
async function withMember() {
  const p = await loadFixture(deployProtocol);
  const bs = p.bss[0];
  await p.registry.admit(bs.address);
  return { ...p, bs };
}

/** On top of withMember: users 0, 1 and 2 admitted with devices 0, 1 and 2 in one batch. */
async function withUsers() {
  const p = await loadFixture(withMember);
  await p.users.admitUsers(...batch(3));
  return p;
}

describe("UserRegistry", () => {
  describe("deployment", () => {
    it("is gated by the BS registry, with no users and a batch limit of 200", async () => {
      const { users, registry } = await loadFixture(deployProtocol);
      expect(await users.registry()).to.equal(await registry.getAddress());
      expect(await users.userCount()).to.equal(0n);
      expect(await users.MAX_USERS_PER_BATCH()).to.equal(BigInt(MAX_USERS_PER_BATCH));
    });

    it("reverts with ZeroAddress for a zero registry", async () => {
      const { mbs, registry } = await loadFixture(deployProtocol);
      const factory = new UserRegistry__factory(mbs);
      await expect(factory.deploy(ZeroAddress)).to.be.revertedWithCustomError(factory, "ZeroAddress");
      expect(await (await factory.deploy(registry)).registry()).to.equal(await registry.getAddress());
    });
  });

  describe("admitUsers", () => {
    it("the operator admits a batch: one UserAdmitted per user, keys bound, count up", async () => {
      const { users } = await loadFixture(withMember);
      const [ids, keys] = batch(3);
      const tx = users.admitUsers(ids, keys);
      await expect(tx)
        .to.emit(users, "UserAdmitted")
        .withArgs(ids[0], keys[0])
        .and.to.emit(users, "UserAdmitted")
        .withArgs(ids[1], keys[1])
        .and.to.emit(users, "UserAdmitted")
        .withArgs(ids[2], keys[2]);
      const receipt = await (await tx).wait();
      expect(receipt!.logs.map((l) => users.interface.parseLog(l)?.args.userId)).to.deep.equal(ids);
      expect(await users.userCount()).to.equal(3n);
      for (const [k, id] of ids.entries()) {
        expect(await users.deviceOf(id)).to.equal(keys[k]);
        expect(await users.isUser(id)).to.equal(true);
      }
    });

    it("counts users over several batches", async () => {
      const { users } = await loadFixture(withUsers);
      await expect(users.admitUsers([userId(3)], [device(3).address])).to.emit(users, "UserAdmitted").withArgs(userId(3), device(3).address);
      await users.admitUsers(...batch(2, 4));
      expect(await users.userCount()).to.equal(6n);
      expect(await users.deviceOf(userId(5))).to.equal(device(5).address);
      expect(await users.deviceOf(userId(0))).to.equal(device(0).address);
    });

    it("takes a full batch of MAX_USERS_PER_BATCH (200) users in one transaction, within the 2^24 transaction gas cap", async () => {
      const { users } = await loadFixture(withMember);
      const receipt = await (await users.admitUsers(...batch(MAX_USERS_PER_BATCH, 1000))).wait();
      expect(receipt!.gasUsed).to.be.below(2n ** 24n);
      expect(await users.userCount()).to.equal(200n);
      expect(await users.deviceOf(userId(1199))).to.equal(device(1199).address);
    });

    it("reverts with NotOperator for a member BS and for an outsider", async () => {
      const { users, bs, outsider } = await loadFixture(withMember);
      for (const caller of [bs, outsider]) {
        await expect(users.connect(caller).admitUsers([userId(0)], [caller.address]))
          .to.be.revertedWithCustomError(users, "NotOperator")
          .withArgs(caller.address);
      }
      expect(await users.userCount()).to.equal(0n);
      expect(await users.isUser(userId(0))).to.equal(false);
    });

    it("follows the operator: after an Ownable2Step transfer the new owner admits and the old one no longer can", async () => {
      const { users, registry, mbs, outsider } = await loadFixture(withMember);
      await registry.transferOwnership(outsider.address);
      await registry.connect(outsider).acceptOwnership();
      await expect(users.admitUsers([userId(0)], [device(0).address])).to.be.revertedWithCustomError(users, "NotOperator").withArgs(mbs.address);
      await expect(users.connect(outsider).admitUsers([userId(0)], [device(0).address])).to.emit(users, "UserAdmitted");
    });

    it("reverts with InvalidBatch for an empty batch, one above 200, and ids and keys of different lengths", async () => {
      const { users } = await loadFixture(withMember);
      await expect(users.admitUsers([], [])).to.be.revertedWithCustomError(users, "InvalidBatch").withArgs(0n, 0n);
      await expect(users.admitUsers(...batch(MAX_USERS_PER_BATCH + 1)))
        .to.be.revertedWithCustomError(users, "InvalidBatch")
        .withArgs(201n, 201n);
      const [ids, keys] = batch(2);
      await expect(users.admitUsers(ids, keys.slice(0, 1))).to.be.revertedWithCustomError(users, "InvalidBatch").withArgs(2n, 1n);
      await expect(users.admitUsers(ids.slice(0, 1), keys)).to.be.revertedWithCustomError(users, "InvalidBatch").withArgs(1n, 2n);
      await expect(users.admitUsers([], keys)).to.be.revertedWithCustomError(users, "InvalidBatch").withArgs(0n, 2n);
      expect(await users.userCount()).to.equal(0n);
    });

    it("reverts with InvalidUserId for a zero user id, anywhere in the batch (nothing admitted)", async () => {
      const { users } = await loadFixture(withMember);
      await expect(users.admitUsers([ZeroHash], [device(0).address])).to.be.revertedWithCustomError(users, "InvalidUserId");
      await expect(users.admitUsers([userId(0), ZeroHash], [device(0).address, device(1).address])).to.be.revertedWithCustomError(
        users,
        "InvalidUserId",
      );
      expect(await users.isUser(userId(0))).to.equal(false);
      expect(await users.userCount()).to.equal(0n);
    });

    it("reverts with ZeroAddress for a zero device key, anywhere in the batch (nothing admitted)", async () => {
      const { users } = await loadFixture(withMember);
      await expect(users.admitUsers([userId(0)], [ZeroAddress])).to.be.revertedWithCustomError(users, "ZeroAddress");
      await expect(users.admitUsers([userId(0), userId(1)], [device(0).address, ZeroAddress])).to.be.revertedWithCustomError(users, "ZeroAddress");
      expect(await users.isUser(userId(0))).to.equal(false);
      expect(await users.userCount()).to.equal(0n);
    });

    it("reverts with UserAlreadyAdmitted (naming the bound key) on re-admission, with the same or another key", async () => {
      const { users } = await loadFixture(withUsers);
      await expect(users.admitUsers([userId(1)], [device(1).address]))
        .to.be.revertedWithCustomError(users, "UserAlreadyAdmitted")
        .withArgs(userId(1), device(1).address);
      await expect(users.admitUsers([userId(3), userId(1)], [device(3).address, device(9).address]))
        .to.be.revertedWithCustomError(users, "UserAlreadyAdmitted")
        .withArgs(userId(1), device(1).address);
      // twice in one batch: the second names the key the first just bound
      await expect(users.admitUsers([userId(4), userId(4)], [device(4).address, device(5).address]))
        .to.be.revertedWithCustomError(users, "UserAlreadyAdmitted")
        .withArgs(userId(4), device(4).address);
      expect(await users.isUser(userId(3))).to.equal(false);
      expect(await users.isUser(userId(4))).to.equal(false);
      expect(await users.userCount()).to.equal(3n);
    });

    it("attack: the operator replaces an admitted user's key to sign moves for it; the key can never be replaced", async () => {
      // The attack: the operator (MBS) re-admits a user whose twin is on some BS with a key it holds, then signs
      // MoveTwin consents for it and moves the twin wherever it likes. No call replaces or removes a key, so the
      // re-admission reverts and the operator's signatures stay someone else's.
      const p = await loadFixture(deployProtocolWithTestAdmin);
      const [a, b] = p.bss;
      const associator = (await ethers.getSigners())[15];
      for (const bs of [a, b]) await p.registry.admit(bs.address);
      await p.twins.grantRole(ROLES.ASSOCIATOR, associator.address);
      const twinId = await registerTwin(p, a, 0);
      const operatorKey = new ethers.Wallet(ethers.id("the operator's key"));
      await expect(p.users.admitUsers([userId(0)], [operatorKey.address]))
        .to.be.revertedWithCustomError(p.users, "UserAlreadyAdmitted")
        .withArgs(userId(0), device(0).address);
      expect(await p.users.deviceOf(userId(0))).to.equal(device(0).address);
      const domain = await domainOf(p);
      const forged = await signMove(operatorKey, domain, { twinId, to: b.address, slot: 1n });
      await expect(p.twins.connect(associator).associate(twinId, b.address, 1n, forged))
        .to.be.revertedWithCustomError(p.twins, "InvalidConsent")
        .withArgs(twinId, operatorKey.address, device(0).address);
      expect(await p.twins.hostOf(twinId)).to.equal(a.address);
      // the user's own consent still moves it
      await expect(p.twins.connect(associator).associate(twinId, b.address, 1n, await moveConsent(p, twinId, b.address, 1n))).to.emit(p.twins, "TwinAssociated");
      // nor can it register the twin of another admitted user with its key
      await admitUsers(p, [1]);
      await expect(p.twins.connect(b).registerTwin(userId(1), await signRegistration(operatorKey, domain, userId(1), b.address)))
        .to.be.revertedWithCustomError(p.twins, "InvalidConsent")
        .withArgs(0n, operatorKey.address, device(1).address);
    });
  });

  describe("views", () => {
    it("deviceOf reverts with UnknownUser for an unknown (or zero) user id; isUser is false for them", async () => {
      const { users } = await loadFixture(withUsers);
      await expect(users.deviceOf(userId(3))).to.be.revertedWithCustomError(users, "UnknownUser").withArgs(userId(3));
      await expect(users.deviceOf(ZeroHash)).to.be.revertedWithCustomError(users, "UnknownUser").withArgs(ZeroHash);
      expect(await users.isUser(userId(3))).to.equal(false);
      expect(await users.isUser(ZeroHash)).to.equal(false);
      expect(await users.isUser(userId(2))).to.equal(true);
      expect(await users.userCount()).to.equal(3n);
    });
  });
});
