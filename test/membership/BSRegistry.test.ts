/**
 * Unit tests of contracts/membership/BSRegistry.sol: admission and removal by the operator (the MBS), the bounded
 * member list (swap-and-pop), permanent seats, BS metadata and the Ownable2Step operator transfer.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { deployProtocol } from "../fixtures";
import { BSRegistry__factory, type BSRegistry } from "../../typechain-types";

const MAX_MEMBERS = 32;
const CPU_HZ = 2_600_000_000n;
const PEER = "/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWRegistryTest";

/** Storage slot of BSRegistry._seatsUsed (Ownable._owner = 0, Ownable2Step._pendingOwner = 1, then the contract's own
 * state in declaration order: _members = 2, _memberList = 3, _listPosition = 4, _seatsUsed = 5). The test
 * "the _seatsUsed slot is where the seat helper writes" checks this layout by behaviour. */
const SEATS_USED_SLOT = 5;

function randomAddress(): string {
  return ethers.Wallet.createRandom().address;
}

/** Admit `n` fresh random addresses; returns them in admission order. */
async function admitRandom(registry: BSRegistry, n: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const a = randomAddress();
    await registry.admit(a);
    out.push(a);
  }
  return out;
}

/** Pretend `used` distinct BSs were admitted over the registry's life (avoids hundreds of admit/remove txs). */
async function setSeatsUsed(registry: BSRegistry, used: number): Promise<void> {
  await ethers.provider.send("hardhat_setStorageAt", [
    await registry.getAddress(),
    ethers.toQuantity(SEATS_USED_SLOT),
    ethers.zeroPadValue(ethers.toBeHex(used), 32),
  ]);
}

function expectMetadata(
  md: Awaited<ReturnType<BSRegistry["metadataOf"]>>,
  cpu: bigint,
  x: bigint,
  y: bigint,
  peer: string,
): void {
  expect(md.cpuFrequencyHz).to.equal(cpu);
  expect(md.xMetres).to.equal(x);
  expect(md.yMetres).to.equal(y);
  expect(md.ipfsPeerAddress).to.equal(peer);
}

// Derived fixtures start from the deployProtocol snapshot (nested loadFixture), so the Ignition deployment runs once.

/** Protocol with bss[0..3] admitted (seats 0..3), none registered. */
async function withFourMembers() {
  const p = await loadFixture(deployProtocol);
  const four = p.bss.slice(0, 4);
  for (const bs of four) await p.registry.admit(bs.address);
  return { ...p, four };
}

/** Protocol with MAX_MEMBERS random addresses admitted. */
async function withFullRegistry() {
  const p = await loadFixture(deployProtocol);
  const admitted = await admitRandom(p.registry, MAX_MEMBERS);
  return { ...p, admitted };
}

describe("BSRegistry", () => {
  describe("deployment", () => {
    it("makes the MBS the owner and operator, with an empty membership", async () => {
      const { registry, mbs } = await loadFixture(deployProtocol);
      expect(await registry.owner()).to.equal(mbs.address);
      expect(await registry.operator()).to.equal(mbs.address);
      expect(await registry.pendingOwner()).to.equal(ethers.ZeroAddress);
      expect(await registry.memberCount()).to.equal(0n);
      expect(await registry.members()).to.deep.equal([]);
      expect(await registry.isMember(mbs.address)).to.equal(false);
    });

    it("exposes its bounds", async () => {
      const { registry } = await loadFixture(deployProtocol);
      expect(await registry.MAX_MEMBERS()).to.equal(32n);
      expect(await registry.MAX_SEATS()).to.equal(256n);
      expect(await registry.MAX_PEER_ADDRESS_LENGTH()).to.equal(256n);
    });

    it("uses the constructor argument as operator, not the deployer", async () => {
      const { mbs, bss } = await loadFixture(deployProtocol);
      const registry = await new BSRegistry__factory(mbs).deploy(bss[0].address);
      await expect(registry.deploymentTransaction())
        .to.emit(registry, "OwnershipTransferred")
        .withArgs(ethers.ZeroAddress, bss[0].address);
      expect(await registry.operator()).to.equal(bss[0].address);
    });

    it("refuses a zero operator with OwnableInvalidOwner", async () => {
      const { mbs } = await loadFixture(deployProtocol);
      const factory = new BSRegistry__factory(mbs);
      await expect(factory.deploy(ethers.ZeroAddress))
        .to.be.revertedWithCustomError(factory, "OwnableInvalidOwner")
        .withArgs(ethers.ZeroAddress);
    });
  });

  describe("admit", () => {
    it("admits BSs with consecutive seats and lists them in order", async () => {
      const { registry, bss } = await loadFixture(deployProtocol);
      await expect(registry.admit(bss[0].address)).to.emit(registry, "MemberAdmitted").withArgs(bss[0].address, 0);
      await expect(registry.admit(bss[1].address)).to.emit(registry, "MemberAdmitted").withArgs(bss[1].address, 1);
      await expect(registry.admit(bss[2].address)).to.emit(registry, "MemberAdmitted").withArgs(bss[2].address, 2);
      expect(await registry.memberCount()).to.equal(3n);
      expect(await registry.members()).to.deep.equal([bss[0].address, bss[1].address, bss[2].address]);
      for (const [i, bs] of bss.slice(0, 3).entries()) {
        expect(await registry.isMember(bs.address)).to.equal(true);
        expect(await registry.seatOf(bs.address)).to.equal(BigInt(i));
      }
      expect(await registry.isMember(bss[3].address)).to.equal(false);
    });

    it("does not need the admitted BS to sign (any address can be admitted)", async () => {
      const { registry } = await loadFixture(deployProtocol);
      const bs = randomAddress();
      await expect(registry.admit(bs)).to.emit(registry, "MemberAdmitted").withArgs(bs, 0);
      expect(await registry.isMember(bs)).to.equal(true);
    });

    it("is refused to a non-owner, including a member BS", async () => {
      const { registry, outsider, four } = await loadFixture(withFourMembers);
      const bs = randomAddress();
      await expect(registry.connect(outsider).admit(bs))
        .to.be.revertedWithCustomError(registry, "OwnableUnauthorizedAccount")
        .withArgs(outsider.address);
      await expect(registry.connect(four[0]).admit(bs))
        .to.be.revertedWithCustomError(registry, "OwnableUnauthorizedAccount")
        .withArgs(four[0].address);
      expect(await registry.isMember(bs)).to.equal(false);
    });

    it("refuses the zero address", async () => {
      const { registry } = await loadFixture(deployProtocol);
      await expect(registry.admit(ethers.ZeroAddress)).to.be.revertedWithCustomError(registry, "ZeroAddress").withArgs();
      expect(await registry.memberCount()).to.equal(0n);
    });

    it("refuses an address that is already a member", async () => {
      const { registry, four } = await loadFixture(withFourMembers);
      await expect(registry.admit(four[2].address))
        .to.be.revertedWithCustomError(registry, "AlreadyMember")
        .withArgs(four[2].address);
      expect(await registry.memberCount()).to.equal(4n);
    });

    it("admits up to MAX_MEMBERS and refuses one more with RegistryFull", async () => {
      const { registry, admitted } = await loadFixture(withFullRegistry);
      expect(await registry.memberCount()).to.equal(BigInt(MAX_MEMBERS));
      expect(await registry.members()).to.deep.equal(admitted);
      expect(await registry.seatOf(admitted[MAX_MEMBERS - 1])).to.equal(BigInt(MAX_MEMBERS - 1));
      await expect(registry.admit(randomAddress())).to.be.revertedWithCustomError(registry, "RegistryFull").withArgs();
    });

    it("checks AlreadyMember before RegistryFull", async () => {
      const { registry, admitted } = await loadFixture(withFullRegistry);
      await expect(registry.admit(admitted[5]))
        .to.be.revertedWithCustomError(registry, "AlreadyMember")
        .withArgs(admitted[5]);
    });

    it("frees a place when a member is removed, and the newcomer gets a new seat", async () => {
      const { registry, admitted } = await loadFixture(withFullRegistry);
      await registry.remove(admitted[0]);
      const newcomer = randomAddress();
      await expect(registry.admit(newcomer)).to.emit(registry, "MemberAdmitted").withArgs(newcomer, MAX_MEMBERS);
      expect(await registry.memberCount()).to.equal(BigInt(MAX_MEMBERS));
      await expect(registry.admit(randomAddress())).to.be.revertedWithCustomError(registry, "RegistryFull").withArgs();
    });

    it("refuses to re-admit a removed (seated) BS while the registry is full", async () => {
      const { registry, admitted } = await loadFixture(withFullRegistry);
      await registry.remove(admitted[3]);
      await registry.admit(randomAddress());
      await expect(registry.admit(admitted[3])).to.be.revertedWithCustomError(registry, "RegistryFull").withArgs();
    });

    it("keeps the seat on re-admission and does not consume a new one", async () => {
      const { registry, four } = await loadFixture(withFourMembers);
      const [a] = four;
      await registry.remove(a.address);
      const newcomer = randomAddress();
      await expect(registry.admit(newcomer)).to.emit(registry, "MemberAdmitted").withArgs(newcomer, 4);
      await expect(registry.admit(a.address)).to.emit(registry, "MemberAdmitted").withArgs(a.address, 0);
      expect(await registry.seatOf(a.address)).to.equal(0n);
      expect(await registry.isMember(a.address)).to.equal(true);
      // The re-admission did not use seat 5: the next newcomer gets it.
      const next = randomAddress();
      await expect(registry.admit(next)).to.emit(registry, "MemberAdmitted").withArgs(next, 5);
      // Re-admitted BSs go to the end of the list.
      expect(await registry.members()).to.deep.equal([four[3].address, four[1].address, four[2].address, newcomer, a.address, next]);
    });

    it("the _seatsUsed slot is where the seat helper writes (storage layout check)", async () => {
      const { registry } = await loadFixture(deployProtocol);
      await setSeatsUsed(registry, 200);
      const bs = randomAddress();
      await expect(registry.admit(bs)).to.emit(registry, "MemberAdmitted").withArgs(bs, 200);
    });

    it("gives out the last seat (255) and then refuses new BSs with SeatsExhausted", async () => {
      const { registry, four } = await loadFixture(withFourMembers);
      await setSeatsUsed(registry, 255);
      const last = randomAddress();
      await expect(registry.admit(last)).to.emit(registry, "MemberAdmitted").withArgs(last, 255);
      expect(await registry.seatOf(last)).to.equal(255n);
      const tooMany = randomAddress();
      await expect(registry.admit(tooMany)).to.be.revertedWithCustomError(registry, "SeatsExhausted").withArgs();
      expect(await registry.isMember(tooMany)).to.equal(false);
      // A BS that already has a seat can still come back after seats ran out.
      await registry.remove(four[1].address);
      await expect(registry.admit(four[1].address)).to.emit(registry, "MemberAdmitted").withArgs(four[1].address, 1);
    });
  });

  describe("remove", () => {
    it("removes a member, keeping its seat and metadata", async () => {
      const { registry, four } = await loadFixture(withFourMembers);
      const bs = four[1];
      await registry.connect(bs).registerMetadata(CPU_HZ, 10, -20, PEER);
      await expect(registry.remove(bs.address)).to.emit(registry, "MemberRemoved").withArgs(bs.address);
      expect(await registry.isMember(bs.address)).to.equal(false);
      expect(await registry.memberCount()).to.equal(3n);
      expect(await registry.members()).to.not.include(bs.address);
      expect(await registry.seatOf(bs.address)).to.equal(1n);
      expectMetadata(await registry.metadataOf(bs.address), CPU_HZ, 10n, -20n, PEER);
    });

    it("swap-and-pop: removing from the middle moves the last member into the hole", async () => {
      const { registry, four } = await loadFixture(withFourMembers);
      const [a, b, c, d] = four.map((s) => s.address);
      await registry.remove(b);
      expect(await registry.members()).to.deep.equal([a, d, c]);
      // The moved member's position was updated: removing it now removes the right entry.
      await registry.remove(d);
      expect(await registry.members()).to.deep.equal([a, c]);
    });

    it("swap-and-pop: removing the first and the last member", async () => {
      const { registry, four } = await loadFixture(withFourMembers);
      const [a, b, c, d] = four.map((s) => s.address);
      await registry.remove(d); // last: plain pop
      expect(await registry.members()).to.deep.equal([a, b, c]);
      await registry.remove(a); // first: c moves to the front
      expect(await registry.members()).to.deep.equal([c, b]);
      await registry.remove(c);
      expect(await registry.members()).to.deep.equal([b]);
      await registry.remove(b); // only member
      expect(await registry.members()).to.deep.equal([]);
      expect(await registry.memberCount()).to.equal(0n);
    });

    it("keeps the list consistent with a reference model over a long admit/remove sequence", async () => {
      const { registry } = await loadFixture(deployProtocol);
      const pool = Array.from({ length: 12 }, () => randomAddress());
      const model: string[] = [];
      const seats = new Map<string, number>();
      // Deterministic pseudo-random walk over the pool.
      let x = 7;
      for (let step = 0; step < 60; step++) {
        x = (x * 1103515245 + 12345) % 2147483648;
        const who = pool[x % pool.length];
        if (model.includes(who)) {
          await expect(registry.remove(who)).to.emit(registry, "MemberRemoved").withArgs(who);
          const i = model.indexOf(who);
          const last = model.length - 1;
          if (i !== last) model[i] = model[last];
          model.pop();
        } else {
          if (!seats.has(who)) seats.set(who, seats.size);
          await expect(registry.admit(who)).to.emit(registry, "MemberAdmitted").withArgs(who, seats.get(who));
          model.push(who);
        }
        expect(await registry.members()).to.deep.equal(model);
      }
      expect(await registry.memberCount()).to.equal(BigInt(model.length));
      for (const who of pool) {
        expect(await registry.isMember(who)).to.equal(model.includes(who));
        if (seats.has(who)) expect(await registry.seatOf(who)).to.equal(BigInt(seats.get(who) ?? -1));
      }
      // Drain: every remaining member can still be removed (positions are all correct).
      while (model.length > 0) {
        const who = model[0];
        await registry.remove(who);
        model[0] = model[model.length - 1];
        model.pop();
        expect(await registry.members()).to.deep.equal(model);
      }
    });

    it("refuses an address that was never admitted", async () => {
      const { registry, outsider } = await loadFixture(withFourMembers);
      await expect(registry.remove(outsider.address))
        .to.be.revertedWithCustomError(registry, "NotMember")
        .withArgs(outsider.address);
    });

    it("refuses to remove the same BS twice", async () => {
      const { registry, four } = await loadFixture(withFourMembers);
      await registry.remove(four[0].address);
      await expect(registry.remove(four[0].address))
        .to.be.revertedWithCustomError(registry, "NotMember")
        .withArgs(four[0].address);
      expect(await registry.memberCount()).to.equal(3n);
    });

    it("is refused to a non-owner, including the member itself", async () => {
      const { registry, outsider, four } = await loadFixture(withFourMembers);
      await expect(registry.connect(outsider).remove(four[0].address))
        .to.be.revertedWithCustomError(registry, "OwnableUnauthorizedAccount")
        .withArgs(outsider.address);
      await expect(registry.connect(four[0]).remove(four[0].address))
        .to.be.revertedWithCustomError(registry, "OwnableUnauthorizedAccount")
        .withArgs(four[0].address);
      expect(await registry.isMember(four[0].address)).to.equal(true);
    });
  });

  describe("registerMetadata", () => {
    it("stores the caller's metadata and emits MetadataRegistered", async () => {
      const { registry, four } = await loadFixture(withFourMembers);
      const bs = four[2];
      await expect(registry.connect(bs).registerMetadata(CPU_HZ, 300, -150, PEER))
        .to.emit(registry, "MetadataRegistered")
        .withArgs(bs.address, CPU_HZ, 300, -150, PEER);
      expectMetadata(await registry.metadataOf(bs.address), CPU_HZ, 300n, -150n, PEER);
      // Other members are untouched.
      expectMetadata(await registry.metadataOf(four[0].address), 0n, 0n, 0n, "");
    });

    it("overwrites earlier metadata", async () => {
      const { registry, four } = await loadFixture(withFourMembers);
      const bs = four[0];
      await registry.connect(bs).registerMetadata(CPU_HZ, 1, 2, PEER);
      const peer2 = "/dns4/bs0.example/tcp/4002";
      await expect(registry.connect(bs).registerMetadata(1_800_000_000n, -7, 8, peer2))
        .to.emit(registry, "MetadataRegistered")
        .withArgs(bs.address, 1_800_000_000n, -7, 8, peer2);
      expectMetadata(await registry.metadataOf(bs.address), 1_800_000_000n, -7n, 8n, peer2);
    });

    it("accepts the extreme values of every field", async () => {
      const { registry, four } = await loadFixture(withFourMembers);
      const maxCpu = 2n ** 64n - 1n;
      const minI32 = -(2n ** 31n);
      const maxI32 = 2n ** 31n - 1n;
      const longest = "a".repeat(256);
      await expect(registry.connect(four[0]).registerMetadata(maxCpu, minI32, maxI32, longest))
        .to.emit(registry, "MetadataRegistered")
        .withArgs(four[0].address, maxCpu, minI32, maxI32, longest);
      expectMetadata(await registry.metadataOf(four[0].address), maxCpu, minI32, maxI32, longest);
      await expect(registry.connect(four[1]).registerMetadata(1n, 0, 0, "x"))
        .to.emit(registry, "MetadataRegistered")
        .withArgs(four[1].address, 1n, 0, 0, "x");
    });

    it("is refused to a non-member, to the operator and to a removed BS", async () => {
      const { registry, outsider, mbs, four } = await loadFixture(withFourMembers);
      await expect(registry.connect(outsider).registerMetadata(CPU_HZ, 0, 0, PEER))
        .to.be.revertedWithCustomError(registry, "NotMember")
        .withArgs(outsider.address);
      await expect(registry.connect(mbs).registerMetadata(CPU_HZ, 0, 0, PEER))
        .to.be.revertedWithCustomError(registry, "NotMember")
        .withArgs(mbs.address);
      await registry.remove(four[3].address);
      await expect(registry.connect(four[3]).registerMetadata(CPU_HZ, 0, 0, PEER))
        .to.be.revertedWithCustomError(registry, "NotMember")
        .withArgs(four[3].address);
      expectMetadata(await registry.metadataOf(outsider.address), 0n, 0n, 0n, "");
    });

    it("refuses a zero CPU frequency", async () => {
      const { registry, four } = await loadFixture(withFourMembers);
      await expect(registry.connect(four[0]).registerMetadata(0n, 0, 0, PEER))
        .to.be.revertedWithCustomError(registry, "InvalidCpuFrequency")
        .withArgs();
    });

    it("refuses an empty peer address", async () => {
      const { registry, four } = await loadFixture(withFourMembers);
      await expect(registry.connect(four[0]).registerMetadata(CPU_HZ, 0, 0, ""))
        .to.be.revertedWithCustomError(registry, "InvalidPeerAddress")
        .withArgs(0);
    });

    it("refuses a peer address longer than MAX_PEER_ADDRESS_LENGTH bytes", async () => {
      const { registry, four } = await loadFixture(withFourMembers);
      await expect(registry.connect(four[0]).registerMetadata(CPU_HZ, 0, 0, "a".repeat(257)))
        .to.be.revertedWithCustomError(registry, "InvalidPeerAddress")
        .withArgs(257);
    });

    it("measures the peer address in UTF-8 bytes, not characters", async () => {
      const { registry, four } = await loadFixture(withFourMembers);
      const peer = "é".repeat(129); // 129 characters, 258 bytes
      await expect(registry.connect(four[0]).registerMetadata(CPU_HZ, 0, 0, peer))
        .to.be.revertedWithCustomError(registry, "InvalidPeerAddress")
        .withArgs(258);
    });

    it("keeps metadata across removal and re-admission", async () => {
      const { registry, four } = await loadFixture(withFourMembers);
      await registry.connect(four[1]).registerMetadata(CPU_HZ, 5, 6, PEER);
      await registry.remove(four[1].address);
      await registry.admit(four[1].address);
      expectMetadata(await registry.metadataOf(four[1].address), CPU_HZ, 5n, 6n, PEER);
    });
  });

  describe("views", () => {
    it("seatOf refuses an address that never had a seat", async () => {
      const { registry, outsider } = await loadFixture(withFourMembers);
      await expect(registry.seatOf(outsider.address))
        .to.be.revertedWithCustomError(registry, "NotMember")
        .withArgs(outsider.address);
    });

    it("metadataOf is empty for an account that never registered", async () => {
      const { registry, outsider } = await loadFixture(withFourMembers);
      expectMetadata(await registry.metadataOf(outsider.address), 0n, 0n, 0n, "");
    });
  });

  describe("operator transfer (Ownable2Step)", () => {
    async function startTransfer() {
      const p = await loadFixture(withFourMembers);
      const next: HardhatEthersSigner = p.bss[6];
      await p.registry.transferOwnership(next.address);
      return { ...p, next };
    }

    it("transferOwnership only records a pending operator", async () => {
      const { registry, mbs, bss } = await loadFixture(withFourMembers);
      await expect(registry.transferOwnership(bss[6].address))
        .to.emit(registry, "OwnershipTransferStarted")
        .withArgs(mbs.address, bss[6].address);
      expect(await registry.pendingOwner()).to.equal(bss[6].address);
      expect(await registry.owner()).to.equal(mbs.address);
      expect(await registry.operator()).to.equal(mbs.address);
      // The pending operator has no power yet; the current one keeps it.
      await expect(registry.connect(bss[6]).admit(randomAddress()))
        .to.be.revertedWithCustomError(registry, "OwnableUnauthorizedAccount")
        .withArgs(bss[6].address);
      await expect(registry.admit(bss[5].address)).to.emit(registry, "MemberAdmitted");
    });

    it("transferOwnership is refused to a non-owner", async () => {
      const { registry, outsider } = await loadFixture(withFourMembers);
      await expect(registry.connect(outsider).transferOwnership(outsider.address))
        .to.be.revertedWithCustomError(registry, "OwnableUnauthorizedAccount")
        .withArgs(outsider.address);
      expect(await registry.pendingOwner()).to.equal(ethers.ZeroAddress);
    });

    it("acceptOwnership by the pending operator hands over admit/remove", async () => {
      const { registry, mbs, next, four } = await loadFixture(startTransfer);
      await expect(registry.connect(next).acceptOwnership())
        .to.emit(registry, "OwnershipTransferred")
        .withArgs(mbs.address, next.address);
      expect(await registry.owner()).to.equal(next.address);
      expect(await registry.operator()).to.equal(next.address);
      expect(await registry.pendingOwner()).to.equal(ethers.ZeroAddress);
      await expect(registry.admit(randomAddress()))
        .to.be.revertedWithCustomError(registry, "OwnableUnauthorizedAccount")
        .withArgs(mbs.address);
      await expect(registry.remove(four[0].address))
        .to.be.revertedWithCustomError(registry, "OwnableUnauthorizedAccount")
        .withArgs(mbs.address);
      await expect(registry.connect(next).remove(four[0].address))
        .to.emit(registry, "MemberRemoved")
        .withArgs(four[0].address);
      // Membership is unaffected by the handover.
      expect(await registry.members()).to.deep.equal([four[3].address, four[1].address, four[2].address]);
    });

    it("acceptOwnership is refused to anyone but the pending operator", async () => {
      const { registry, mbs, outsider } = await loadFixture(startTransfer);
      await expect(registry.connect(outsider).acceptOwnership())
        .to.be.revertedWithCustomError(registry, "OwnableUnauthorizedAccount")
        .withArgs(outsider.address);
      await expect(registry.connect(mbs).acceptOwnership())
        .to.be.revertedWithCustomError(registry, "OwnableUnauthorizedAccount")
        .withArgs(mbs.address);
      expect(await registry.operator()).to.equal(mbs.address);
    });

    it("a new transferOwnership replaces the pending operator (and zero cancels it)", async () => {
      const { registry, mbs, next, bss } = await loadFixture(startTransfer);
      await expect(registry.transferOwnership(bss[7].address))
        .to.emit(registry, "OwnershipTransferStarted")
        .withArgs(mbs.address, bss[7].address);
      await expect(registry.connect(next).acceptOwnership())
        .to.be.revertedWithCustomError(registry, "OwnableUnauthorizedAccount")
        .withArgs(next.address);
      await registry.transferOwnership(ethers.ZeroAddress);
      expect(await registry.pendingOwner()).to.equal(ethers.ZeroAddress);
      await expect(registry.connect(bss[7]).acceptOwnership())
        .to.be.revertedWithCustomError(registry, "OwnableUnauthorizedAccount")
        .withArgs(bss[7].address);
      expect(await registry.operator()).to.equal(mbs.address);
    });

    it("renounceOwnership is refused to a non-owner", async () => {
      const { registry, outsider, mbs } = await loadFixture(withFourMembers);
      await expect(registry.connect(outsider).renounceOwnership())
        .to.be.revertedWithCustomError(registry, "OwnableUnauthorizedAccount")
        .withArgs(outsider.address);
      expect(await registry.operator()).to.equal(mbs.address);
    });

    it("renounceOwnership by the operator is refused: the registry never loses its operator", async () => {
      const { registry, mbs, next } = await loadFixture(startTransfer);
      await expect(registry.renounceOwnership()).to.be.revertedWithCustomError(registry, "RenounceDisabled").withArgs();
      expect(await registry.operator()).to.equal(mbs.address);
      expect(await registry.pendingOwner()).to.equal(next.address);
      await registry.admit(randomAddress());
    });
  });
});
