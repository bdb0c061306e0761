/**
 * Unit tests of contracts/records/RecordLog.sol: the append-only record log. Only WRITER_ROLE appends; a leaf is
 * keccak256(abi.encode(index, kind, payloadHash, appendedAt)), appendedAt the block timestamp of the append.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, takeSnapshot, time } from "@nomicfoundation/hardhat-network-helpers";
import type { ContractTransactionResponse } from "ethers";
import { dataConsent, deployProtocolWithTestAdmin, fakeCid, registerTwin } from "../fixtures";
import { ROLES } from "../../src/chain/roles";
import { recordLeaf } from "../../src/chain/merkle";
import { RecordLog__factory } from "../../typechain-types";

const WRITER_ROLE = ethers.id("WRITER_ROLE");
const DEFAULT_ADMIN_ROLE = ethers.ZeroHash;
const MAX_UINT256 = ethers.MaxUint256;

/** RecordKind as declared in RecordLog.sol. */
const Kind = { TwinModel: 0, TwinData: 1, TrainingModel: 2 } as const;

/**
 * The leaf computed off chain: keccak256(abi.encode(uint256 index, uint8 kind, bytes32 payloadHash, uint64 appendedAt)),
 * written independently of src/chain/merkle.ts's recordLeaf.
 */
function expectedLeaf(index: bigint, kind: number, payloadHash: string, appendedAt: bigint): string {
  return ethers.keccak256(
    ethers.AbiCoder.defaultAbiCoder().encode(["uint256", "uint8", "bytes32", "uint64"], [index, kind, payloadHash, appendedAt]),
  );
}

/** The timestamp of the block that mined `tx` (a record's appendedAt). */
async function minedAt(tx: Promise<ContractTransactionResponse> | ContractTransactionResponse): Promise<bigint> {
  const rc = await (await tx).wait();
  return BigInt((await rc!.getBlock()).timestamp);
}

/** The timestamp the next block will have, pinned (so an append's appendedAt is known before it is sent). */
async function pinNextTimestamp(): Promise<bigint> {
  const t = BigInt(await time.latest()) + 7n;
  await time.setNextBlockTimestamp(t);
  return t;
}

/** Protocol record log with a dedicated writer account (WRITER_ROLE granted by the admin). */
async function logWithWriter() {
  const p = await loadFixture(deployProtocolWithTestAdmin);
  const writer = (await ethers.getSigners())[12];
  await p.recordLog.grantRole(WRITER_ROLE, writer.address);
  return { ...p, writer, asWriter: p.recordLog.connect(writer) };
}

/** As logWithWriter, with three records appended (one of each kind). */
async function withThreeRecords() {
  const f = await loadFixture(logWithWriter);
  const payloads = [ethers.id("model-0"), ethers.id("data-1"), ethers.id("training-2")];
  const times = [
    await minedAt(f.asWriter.append(Kind.TwinModel, payloads[0])),
    await minedAt(f.asWriter.append(Kind.TwinData, payloads[1])),
    await minedAt(f.asWriter.append(Kind.TrainingModel, payloads[2])),
  ];
  return { ...f, payloads, times };
}

describe("RecordLog", () => {
  describe("deployment", () => {
    it("starts empty, with the admin holding DEFAULT_ADMIN_ROLE", async () => {
      const { recordLog, mbs } = await loadFixture(deployProtocolWithTestAdmin);
      expect(await recordLog.length()).to.equal(0n);
      expect(await recordLog.WRITER_ROLE()).to.equal(WRITER_ROLE);
      expect(await recordLog.WRITER_ROLE()).to.equal(ROLES.WRITER);
      expect(await recordLog.hasRole(DEFAULT_ADMIN_ROLE, mbs.address)).to.equal(true);
      expect(await recordLog.hasRole(WRITER_ROLE, mbs.address)).to.equal(false);
      expect(await recordLog.getRoleAdmin(WRITER_ROLE)).to.equal(DEFAULT_ADMIN_ROLE);
    });

    it("gives WRITER_ROLE to the writer contracts only (TwinRegistry, TrainingRounds)", async () => {
      const { recordLog, twins, rounds, blocks, genesis } = await loadFixture(deployProtocolWithTestAdmin);
      expect(await recordLog.hasRole(WRITER_ROLE, await twins.getAddress())).to.equal(true);
      expect(await recordLog.hasRole(WRITER_ROLE, await rounds.getAddress())).to.equal(true);
      expect(await recordLog.hasRole(WRITER_ROLE, await blocks.getAddress())).to.equal(false);
      expect(await recordLog.hasRole(WRITER_ROLE, await genesis.getAddress())).to.equal(false);
    });

    it("gives DEFAULT_ADMIN_ROLE to the constructor argument, not the deployer", async () => {
      const { mbs, bss } = await loadFixture(deployProtocolWithTestAdmin);
      const log = await new RecordLog__factory(mbs).deploy(bss[0].address);
      await expect(log.deploymentTransaction())
        .to.emit(log, "RoleGranted")
        .withArgs(DEFAULT_ADMIN_ROLE, bss[0].address, mbs.address);
      expect(await log.hasRole(DEFAULT_ADMIN_ROLE, mbs.address)).to.equal(false);
    });
  });

  describe("leafHash", () => {
    it("equals keccak256(abi.encode(index, kind, payloadHash, appendedAt)) computed with ethers, and recordLeaf", async () => {
      const { recordLog } = await loadFixture(deployProtocolWithTestAdmin);
      const MAX_UINT64 = 2n ** 64n - 1n;
      const cases: [bigint, number, string, bigint][] = [
        [0n, Kind.TwinModel, ethers.ZeroHash, 0n],
        [1n, Kind.TwinData, ethers.id("payload"), 1_700_000_000n],
        [41n, Kind.TrainingModel, ethers.keccak256("0x1234"), 1n],
        [MAX_UINT256, Kind.TrainingModel, ethers.hexlify(new Uint8Array(32).fill(0xff)), MAX_UINT64],
      ];
      for (const [index, kind, payload, at] of cases) {
        const onChain = await recordLog.leafHash(index, kind, payload, at);
        expect(onChain).to.equal(expectedLeaf(index, kind, payload, at));
        expect(onChain).to.equal(recordLeaf(index, kind, payload, at));
        // abi.encode pads every static field to 32 bytes: the same as packing them as uint256/uint256/bytes32/uint256.
        expect(onChain).to.equal(ethers.solidityPackedKeccak256(["uint256", "uint256", "bytes32", "uint256"], [index, kind, payload, at]));
        // ... and not the tightly packed encoding (uint8 kind as one byte, uint64 appendedAt as eight).
        expect(onChain).to.not.equal(ethers.solidityPackedKeccak256(["uint256", "uint8", "bytes32", "uint64"], [index, kind, payload, at]));
        // ... nor the former three-field leaf (without appendedAt).
        expect(onChain).to.not.equal(ethers.keccak256(ethers.AbiCoder.defaultAbiCoder().encode(["uint256", "uint8", "bytes32"], [index, kind, payload])));
      }
    });

    it("commits to the position, the kind and the append time of the record", async () => {
      const { recordLog } = await loadFixture(deployProtocolWithTestAdmin);
      const payload = ethers.id("same payload");
      const leaves = new Set<string>();
      for (const index of [0n, 1n, 2n]) {
        for (const kind of [Kind.TwinModel, Kind.TwinData, Kind.TrainingModel]) {
          for (const at of [0n, 1n, 1_700_000_000n]) leaves.add(await recordLog.leafHash(index, kind, payload, at));
        }
      }
      expect(leaves.size).to.equal(27);
    });

    it("rejects a kind outside the enum", async () => {
      const { recordLog } = await loadFixture(deployProtocolWithTestAdmin);
      await expect(recordLog.leafHash(0n, 3, ethers.ZeroHash, 0n)).to.be.revertedWithoutReason();
    });
  });

  describe("append", () => {
    it("appends a record: emits RecordAppended with the block timestamp and the leaf, returns the index and stores the leaf", async () => {
      const { asWriter, recordLog } = await loadFixture(logWithWriter);
      const payload = ethers.id("twin model record");
      expect(await asWriter.append.staticCall(Kind.TwinModel, payload)).to.equal(0n);
      const at = await pinNextTimestamp();
      const leaf = expectedLeaf(0n, Kind.TwinModel, payload, at);
      const tx = asWriter.append(Kind.TwinModel, payload);
      await expect(tx).to.emit(recordLog, "RecordAppended").withArgs(0n, Kind.TwinModel, payload, at, leaf);
      // appendedAt is the timestamp of the block that mined the append.
      expect(await minedAt(tx)).to.equal(at);
      expect(await recordLog.length()).to.equal(1n);
      expect(await recordLog.leafAt(0n)).to.equal(leaf);
    });

    it("puts each append's own block timestamp in its event and leaf (RecordAppended.appendedAt)", async () => {
      const { asWriter, recordLog } = await loadFixture(logWithWriter);
      for (let i = 0n; i < 3n; i++) {
        const payload = ethers.id(`record-${i}`);
        const tx = await asWriter.append(Kind.TwinData, payload);
        const at = await minedAt(tx);
        await expect(tx).to.emit(recordLog, "RecordAppended").withArgs(i, Kind.TwinData, payload, at, expectedLeaf(i, Kind.TwinData, payload, at));
        expect(await recordLog.leafAt(i)).to.equal(expectedLeaf(i, Kind.TwinData, payload, at));
        await time.increase(100);
      }
      const events = await recordLog.queryFilter(recordLog.filters.RecordAppended());
      expect(events.map((e) => e.args.appendedAt)).to.deep.equal(
        await Promise.all(events.map(async (e) => BigInt((await e.getBlock()).timestamp))),
      );
      // The event's four fields rebuild the stored leaf.
      for (const e of events) expect(recordLeaf(e.args.index, e.args.kind, e.args.payloadHash, e.args.appendedAt)).to.equal(e.args.leaf);
    });

    it("commits to the append time: the same index, kind and payload appended at different timestamps give different leaves", async () => {
      const { asWriter, recordLog } = await loadFixture(logWithWriter);
      const payload = ethers.id("same record");
      const snapshot = await takeSnapshot();
      const t1 = await pinNextTimestamp();
      await asWriter.append(Kind.TwinData, payload);
      const leaf1 = await recordLog.leafAt(0n);
      // The same append (index 0, same kind and payload) on the same log, one hour later.
      await snapshot.restore();
      expect(await recordLog.length()).to.equal(0n);
      const t2 = t1 + 3600n;
      await time.setNextBlockTimestamp(t2);
      await asWriter.append(Kind.TwinData, payload);
      const leaf2 = await recordLog.leafAt(0n);
      expect(leaf1).to.equal(expectedLeaf(0n, Kind.TwinData, payload, t1));
      expect(leaf2).to.equal(expectedLeaf(0n, Kind.TwinData, payload, t2));
      expect(leaf1).to.not.equal(leaf2);
      // So a claimed append time that is not the real one does not match the stored leaf.
      expect(await recordLog.leafHash(0n, Kind.TwinData, payload, t1)).to.not.equal(leaf2);
      expect(await recordLog.leafHash(0n, Kind.TwinData, payload, t2)).to.equal(leaf2);
    });

    it("appends in order with consecutive indices, one of each kind", async () => {
      const { recordLog, payloads, times } = await loadFixture(withThreeRecords);
      expect(await recordLog.length()).to.equal(3n);
      expect(await recordLog.leafAt(0n)).to.equal(expectedLeaf(0n, Kind.TwinModel, payloads[0], times[0]));
      expect(await recordLog.leafAt(1n)).to.equal(expectedLeaf(1n, Kind.TwinData, payloads[1], times[1]));
      expect(await recordLog.leafAt(2n)).to.equal(expectedLeaf(2n, Kind.TrainingModel, payloads[2], times[2]));
      expect(times[0] < times[1] && times[1] < times[2]).to.equal(true);
    });

    it("gives the same payload a different leaf at a different index", async () => {
      const { asWriter, recordLog, payloads } = await loadFixture(withThreeRecords);
      expect(await asWriter.append.staticCall(Kind.TwinData, payloads[1])).to.equal(3n);
      const at = await pinNextTimestamp();
      const leaf = expectedLeaf(3n, Kind.TwinData, payloads[1], at);
      await expect(asWriter.append(Kind.TwinData, payloads[1]))
        .to.emit(recordLog, "RecordAppended")
        .withArgs(3n, Kind.TwinData, payloads[1], at, leaf);
      expect(leaf).to.not.equal(await recordLog.leafAt(1n));
      expect(await recordLog.leafAt(3n)).to.equal(leaf);
    });

    it("is refused to accounts without WRITER_ROLE, including the admin and a BS", async () => {
      const { recordLog, mbs, outsider, bss } = await loadFixture(logWithWriter);
      for (const caller of [outsider, mbs, bss[0]]) {
        await expect(recordLog.connect(caller).append(Kind.TwinData, ethers.ZeroHash))
          .to.be.revertedWithCustomError(recordLog, "AccessControlUnauthorizedAccount")
          .withArgs(caller.address, WRITER_ROLE);
      }
      expect(await recordLog.length()).to.equal(0n);
    });

    it("is refused once WRITER_ROLE is revoked", async () => {
      const { recordLog, asWriter, writer, mbs } = await loadFixture(withThreeRecords);
      await expect(recordLog.revokeRole(WRITER_ROLE, writer.address))
        .to.emit(recordLog, "RoleRevoked")
        .withArgs(WRITER_ROLE, writer.address, mbs.address);
      await expect(asWriter.append(Kind.TwinData, ethers.ZeroHash))
        .to.be.revertedWithCustomError(recordLog, "AccessControlUnauthorizedAccount")
        .withArgs(writer.address, WRITER_ROLE);
      expect(await recordLog.length()).to.equal(3n);
    });

    it("rejects a kind outside the enum without appending", async () => {
      const { asWriter, recordLog } = await loadFixture(logWithWriter);
      await expect(asWriter.append(3, ethers.ZeroHash)).to.be.revertedWithoutReason();
      expect(await recordLog.length()).to.equal(0n);
    });

    it("holds the records appended by a writer contract (TwinRegistry data and model records)", async () => {
      const p = await loadFixture(deployProtocolWithTestAdmin);
      const { recordLog, registry, twins, bss } = p;
      const bs = bss[0];
      await registry.admit(bs.address);
      const twinId = await registerTwin(p, bs, 0);
      const coder = ethers.AbiCoder.defaultAbiCoder();
      const dataPayload = ethers.keccak256(
        coder.encode(
          ["uint256", "address", "uint64", "bytes32", "bytes32", "uint32"],
          [twinId, bs.address, 100, ethers.id("data-0"), ethers.id("state-0"), 1],
        ),
      );
      const consent = await dataConsent(p, bs.address, twinId, 100, ethers.id("data-0"), ethers.id("state-0"));
      const dataAt = await pinNextTimestamp();
      const dataLeaf = expectedLeaf(0n, Kind.TwinData, dataPayload, dataAt);
      await expect(twins.connect(bs).recordTwinData(twinId, 100, ethers.id("data-0"), ethers.id("state-0"), consent))
        .to.emit(recordLog, "RecordAppended")
        .withArgs(0n, Kind.TwinData, dataPayload, dataAt, dataLeaf);
      const digest = ethers.dataSlice(fakeCid("model-0"), 2); // the CIDv0's sha2-256 digest
      const modelPayload = ethers.keccak256(coder.encode(["uint256", "address", "uint256[]", "bytes32[]"], [1, bs.address, [twinId], [digest]]));
      const modelAt = await pinNextTimestamp();
      const modelLeaf = expectedLeaf(1n, Kind.TwinModel, modelPayload, modelAt);
      await expect(twins.connect(bs).recordTwinModels(1, [twinId], [digest]))
        .to.emit(recordLog, "RecordAppended")
        .withArgs(1n, Kind.TwinModel, modelPayload, modelAt, modelLeaf);
      expect(await recordLog.length()).to.equal(2n);
      expect(await recordLog.leafAt(0n)).to.equal(dataLeaf);
      expect(await recordLog.leafAt(1n)).to.equal(modelLeaf);
    });
  });

  describe("leafAt", () => {
    it("refuses any index of an empty log", async () => {
      const { recordLog } = await loadFixture(deployProtocolWithTestAdmin);
      await expect(recordLog.leafAt(0n)).to.be.revertedWithCustomError(recordLog, "RecordOutOfRange").withArgs(0n, 0n);
    });

    it("refuses the index equal to the length and beyond", async () => {
      const { recordLog } = await loadFixture(withThreeRecords);
      await expect(recordLog.leafAt(3n)).to.be.revertedWithCustomError(recordLog, "RecordOutOfRange").withArgs(3n, 3n);
      await expect(recordLog.leafAt(MAX_UINT256))
        .to.be.revertedWithCustomError(recordLog, "RecordOutOfRange")
        .withArgs(MAX_UINT256, 3n);
      // The last record is readable.
      expect(await recordLog.leafAt(2n)).to.not.equal(ethers.ZeroHash);
    });
  });

  describe("roles", () => {
    it("only the admin grants WRITER_ROLE", async () => {
      const { recordLog, outsider, mbs } = await loadFixture(deployProtocolWithTestAdmin);
      await expect(recordLog.connect(outsider).grantRole(WRITER_ROLE, outsider.address))
        .to.be.revertedWithCustomError(recordLog, "AccessControlUnauthorizedAccount")
        .withArgs(outsider.address, DEFAULT_ADMIN_ROLE);
      await expect(recordLog.grantRole(WRITER_ROLE, outsider.address))
        .to.emit(recordLog, "RoleGranted")
        .withArgs(WRITER_ROLE, outsider.address, mbs.address);
      await expect(recordLog.connect(outsider).append(Kind.TwinModel, ethers.ZeroHash)).to.emit(recordLog, "RecordAppended");
    });

    it("renounceRole needs the caller's own address (AccessControlBadConfirmation)", async () => {
      const { recordLog, writer, outsider } = await loadFixture(logWithWriter);
      await expect(recordLog.connect(writer).renounceRole(WRITER_ROLE, outsider.address))
        .to.be.revertedWithCustomError(recordLog, "AccessControlBadConfirmation")
        .withArgs();
      await expect(recordLog.connect(writer).renounceRole(WRITER_ROLE, writer.address))
        .to.emit(recordLog, "RoleRevoked")
        .withArgs(WRITER_ROLE, writer.address, writer.address);
      expect(await recordLog.hasRole(WRITER_ROLE, writer.address)).to.equal(false);
    });
  });
});

describe("RecordLog constructor", () => {
  it("refuses a zero admin (nobody could grant WRITER_ROLE): ZeroAdmin", async () => {
    const [deployer] = await ethers.getSigners();
    const factory = new RecordLog__factory(deployer);
    await expect(factory.deploy(ethers.ZeroAddress)).to.be.revertedWithCustomError(factory, "ZeroAdmin").withArgs();
  });
});
