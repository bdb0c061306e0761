/**
 * Unit tests of contracts/records/RecordLog.sol: the append-only record log. Only WRITER_ROLE appends; a leaf is
 * keccak256(abi.encode(index, kind, payloadHash)).
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { dataConsent, deployProtocolWithTestAdmin, fakeCid, registerTwin } from "../fixtures";
import { ROLES } from "../../src/chain/roles";
import { RecordLog__factory } from "../../typechain-types";

const WRITER_ROLE = ethers.id("WRITER_ROLE");
const DEFAULT_ADMIN_ROLE = ethers.ZeroHash;
const MAX_UINT256 = ethers.MaxUint256;

/** RecordKind as declared in RecordLog.sol. */
const Kind = { TwinModel: 0, TwinData: 1, TrainingModel: 2 } as const;

/** The leaf computed off chain: keccak256(abi.encode(uint256 index, uint8 kind, bytes32 payloadHash)). */
function expectedLeaf(index: bigint, kind: number, payloadHash: string): string {
  return ethers.keccak256(
    ethers.AbiCoder.defaultAbiCoder().encode(["uint256", "uint8", "bytes32"], [index, kind, payloadHash]),
  );
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
  await f.asWriter.append(Kind.TwinModel, payloads[0]);
  await f.asWriter.append(Kind.TwinData, payloads[1]);
  await f.asWriter.append(Kind.TrainingModel, payloads[2]);
  return { ...f, payloads };
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
    it("equals keccak256(abi.encode(index, kind, payloadHash)) computed with ethers", async () => {
      const { recordLog } = await loadFixture(deployProtocolWithTestAdmin);
      const cases: [bigint, number, string][] = [
        [0n, Kind.TwinModel, ethers.ZeroHash],
        [1n, Kind.TwinData, ethers.id("payload")],
        [41n, Kind.TrainingModel, ethers.keccak256("0x1234")],
        [MAX_UINT256, Kind.TrainingModel, ethers.hexlify(new Uint8Array(32).fill(0xff))],
      ];
      for (const [index, kind, payload] of cases) {
        const onChain = await recordLog.leafHash(index, kind, payload);
        expect(onChain).to.equal(expectedLeaf(index, kind, payload));
        // abi.encode pads every static field to 32 bytes: the same as packing them as uint256/uint256/bytes32.
        expect(onChain).to.equal(ethers.solidityPackedKeccak256(["uint256", "uint256", "bytes32"], [index, kind, payload]));
        // ... and not the tightly packed encoding (uint8 kind as one byte).
        expect(onChain).to.not.equal(ethers.solidityPackedKeccak256(["uint256", "uint8", "bytes32"], [index, kind, payload]));
      }
    });

    it("commits to the position and the kind of the record", async () => {
      const { recordLog } = await loadFixture(deployProtocolWithTestAdmin);
      const payload = ethers.id("same payload");
      const leaves = new Set<string>();
      for (const index of [0n, 1n, 2n]) {
        for (const kind of [Kind.TwinModel, Kind.TwinData, Kind.TrainingModel]) {
          leaves.add(await recordLog.leafHash(index, kind, payload));
        }
      }
      expect(leaves.size).to.equal(9);
    });

    it("rejects a kind outside the enum", async () => {
      const { recordLog } = await loadFixture(deployProtocolWithTestAdmin);
      await expect(recordLog.leafHash(0n, 3, ethers.ZeroHash)).to.be.revertedWithoutReason();
    });
  });

  describe("append", () => {
    it("appends a record: emits RecordAppended with the leaf, returns the index and stores the leaf", async () => {
      const { asWriter, recordLog } = await loadFixture(logWithWriter);
      const payload = ethers.id("twin model record");
      const leaf = expectedLeaf(0n, Kind.TwinModel, payload);
      expect(await asWriter.append.staticCall(Kind.TwinModel, payload)).to.equal(0n);
      await expect(asWriter.append(Kind.TwinModel, payload))
        .to.emit(recordLog, "RecordAppended")
        .withArgs(0n, Kind.TwinModel, payload, leaf);
      expect(await recordLog.length()).to.equal(1n);
      expect(await recordLog.leafAt(0n)).to.equal(leaf);
    });

    it("appends in order with consecutive indices, one of each kind", async () => {
      const { recordLog, payloads } = await loadFixture(withThreeRecords);
      expect(await recordLog.length()).to.equal(3n);
      expect(await recordLog.leafAt(0n)).to.equal(expectedLeaf(0n, Kind.TwinModel, payloads[0]));
      expect(await recordLog.leafAt(1n)).to.equal(expectedLeaf(1n, Kind.TwinData, payloads[1]));
      expect(await recordLog.leafAt(2n)).to.equal(expectedLeaf(2n, Kind.TrainingModel, payloads[2]));
    });

    it("gives the same payload a different leaf at a different index", async () => {
      const { asWriter, recordLog, payloads } = await loadFixture(withThreeRecords);
      expect(await asWriter.append.staticCall(Kind.TwinData, payloads[1])).to.equal(3n);
      const leaf = expectedLeaf(3n, Kind.TwinData, payloads[1]);
      await expect(asWriter.append(Kind.TwinData, payloads[1]))
        .to.emit(recordLog, "RecordAppended")
        .withArgs(3n, Kind.TwinData, payloads[1], leaf);
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
      const dataLeaf = expectedLeaf(0n, Kind.TwinData, dataPayload);
      const consent = await dataConsent(p, bs.address, twinId, 100, ethers.id("data-0"), ethers.id("state-0"));
      await expect(twins.connect(bs).recordTwinData(twinId, 100, ethers.id("data-0"), ethers.id("state-0"), consent))
        .to.emit(recordLog, "RecordAppended")
        .withArgs(0n, Kind.TwinData, dataPayload, dataLeaf);
      const digest = ethers.dataSlice(fakeCid("model-0"), 2); // the CIDv0's sha2-256 digest
      const modelPayload = ethers.keccak256(coder.encode(["uint256", "address", "uint256[]", "bytes32[]"], [1, bs.address, [twinId], [digest]]));
      await expect(twins.connect(bs).recordTwinModels(1, [twinId], [digest]))
        .to.emit(recordLog, "RecordAppended")
        .withArgs(1n, Kind.TwinModel, modelPayload, expectedLeaf(1n, Kind.TwinModel, modelPayload));
      expect(await recordLog.length()).to.equal(2n);
      expect(await recordLog.leafAt(0n)).to.equal(dataLeaf);
      expect(await recordLog.leafAt(1n)).to.equal(expectedLeaf(1n, Kind.TwinModel, modelPayload));
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
