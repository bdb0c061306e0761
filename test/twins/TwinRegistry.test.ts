import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { AbiCoder, ZeroAddress, ZeroHash, keccak256 } from "ethers";
import { deployProtocolWithTestAdmin, fakeCid, PARAMS, userId } from "../fixtures";
import { ROLES } from "../../src/chain/roles";
import { TwinRegistry__factory } from "../../typechain-types";

const abi = AbiCoder.defaultAbiCoder();

/** RecordLog.RecordKind */
const KIND = { TwinModel: 0, TwinData: 1, TrainingModel: 2 } as const;

function leafOf(index: bigint, kind: number, payloadHash: string): string {
  return keccak256(abi.encode(["uint256", "uint8", "bytes32"], [index, kind, payloadHash]));
}

function dataPayload(twinId: bigint, bs: string, size: bigint, commitment: string, state: string, version: bigint): string {
  return keccak256(
    abi.encode(
      ["uint256", "address", "uint64", "bytes32", "bytes32", "uint32"],
      [twinId, bs, size, commitment, state, version],
    ),
  );
}

function modelPayload(twinId: bigint, bs: string, cid: string, version: bigint): string {
  return keccak256(abi.encode(["uint256", "address", "bytes", "uint32"], [twinId, bs, cid, version]));
}

// Fixtures build on each other through nested loadFixture calls: a derived fixture restores its parent's snapshot
// and adds its own steps, so each step runs once and not once per derived fixture.
/** Protocol (core module: the deployer keeps its admin role) with BSs a, b, c admitted and `associator` (an EOA)
 * holding ASSOCIATOR_ROLE. No twins yet. */
async function membersFixture() {
  const p = await loadFixture(deployProtocolWithTestAdmin);
  const signers = await ethers.getSigners();
  const associator = signers[15];
  const [a, b, c] = p.bss;
  for (const bs of [a, b, c]) await p.registry.admit(bs.address);
  await p.twins.grantRole(ROLES.ASSOCIATOR, associator.address);
  return { ...p, a, b, c, associator };
}

/**
 * On top of membersFixture: twin 1 (user 0, 100 samples) and twin 2 (user 1, 50 samples) on a; twin 3 (user 2,
 * 30 samples) on b; twin 4 (user 3, no data record) on b. Record log holds 3 records (indices 0..2).
 */
async function twinsFixture() {
  const p = await loadFixture(membersFixture);
  const { a, b, twins } = p;
  await twins.connect(a).registerTwin(userId(0));
  await twins.connect(a).registerTwin(userId(1));
  await twins.connect(b).registerTwin(userId(2));
  await twins.connect(b).registerTwin(userId(3));
  await twins.connect(a).recordTwinData(1, 100, ethers.id("d1"), ethers.id("s1"));
  await twins.connect(a).recordTwinData(2, 50, ethers.id("d2"), ethers.id("s2"));
  await twins.connect(b).recordTwinData(3, 30, ethers.id("d3"), ethers.id("s3"));
  return p;
}

describe("TwinRegistry", () => {
  describe("constructor", () => {
    it("stores the registry and record log and grants the admin role", async () => {
      const { twins, registry, recordLog, mbs } = await loadFixture(membersFixture);
      expect(await twins.registry()).to.equal(await registry.getAddress());
      expect(await twins.recordLog()).to.equal(await recordLog.getAddress());
      expect(await twins.hasRole(await twins.DEFAULT_ADMIN_ROLE(), mbs.address)).to.equal(true);
      expect(await twins.ASSOCIATOR_ROLE()).to.equal(ROLES.ASSOCIATOR);
    });

    it("reverts with ZeroAddress for a zero registry, record log or admin", async () => {
      const { registry, recordLog, mbs } = await loadFixture(membersFixture);
      const factory = new TwinRegistry__factory(mbs);
      const reg = await registry.getAddress();
      const log = await recordLog.getAddress();
      await expect(factory.deploy(ZeroAddress, log, mbs.address, 1)).to.be.revertedWithCustomError(factory, "ZeroAddress");
      await expect(factory.deploy(reg, ZeroAddress, mbs.address, 1)).to.be.revertedWithCustomError(factory, "ZeroAddress");
      await expect(factory.deploy(reg, log, ZeroAddress, 1)).to.be.revertedWithCustomError(factory, "ZeroAddress");
      const ok = await factory.deploy(reg, log, mbs.address, 1);
      expect(await ok.twinCount()).to.equal(0n);
    });

    it("reverts with InvalidParameter for a data-size bound of 0 or above 2^32 - 1", async () => {
      const { registry, recordLog, mbs, twins } = await loadFixture(membersFixture);
      expect(await twins.maxDataSize()).to.equal(BigInt(PARAMS.maxTwinDataSize));
      const factory = new TwinRegistry__factory(mbs);
      await expect(factory.deploy(registry, recordLog, mbs.address, 0)).to.be.revertedWithCustomError(factory, "InvalidParameter");
      await expect(factory.deploy(registry, recordLog, mbs.address, 2n ** 32n)).to.be.revertedWithCustomError(factory, "InvalidParameter");
      expect(await (await factory.deploy(registry, recordLog, mbs.address, 2n ** 32n - 1n)).maxDataSize()).to.equal(2n ** 32n - 1n);
    });
  });

  describe("registerTwin", () => {
    it("registers a twin on the calling BS, emits TwinRegistered and TwinAssociated(from = 0)", async () => {
      const { twins, a } = await loadFixture(membersFixture);
      expect(await twins.connect(a).registerTwin.staticCall(userId(7))).to.equal(1n);
      await expect(twins.connect(a).registerTwin(userId(7)))
        .to.emit(twins, "TwinRegistered")
        .withArgs(1n, userId(7), a.address)
        .and.to.emit(twins, "TwinAssociated")
        .withArgs(1n, ZeroAddress, a.address, 0n);
      expect(await twins.twinCount()).to.equal(1n);
      expect(await twins.twinOfUser(userId(7))).to.equal(1n);
      expect(await twins.hostOf(1)).to.equal(a.address);
      expect(await twins.twinsOn(a.address)).to.equal(1n);
      expect(await twins.dataOn(a.address)).to.equal(0n);
      const t = await twins.twin(1);
      expect(t.userId).to.equal(userId(7));
      expect(t.bs).to.equal(a.address);
      expect(t.dataSize).to.equal(0n);
      expect(t.dataVersion).to.equal(0n);
      expect(t.modelVersion).to.equal(0n);
      expect(t.dataCommitment).to.equal(ZeroHash);
      expect(t.state).to.equal(ZeroHash);
      expect(t.modelCid).to.equal("0x");
    });

    it("numbers twins consecutively across BSs and counts K_j per BS", async () => {
      const { twins, a, b } = await loadFixture(membersFixture);
      await twins.connect(a).registerTwin(userId(1));
      await expect(twins.connect(b).registerTwin(userId(2))).to.emit(twins, "TwinRegistered").withArgs(2n, userId(2), b.address);
      await expect(twins.connect(a).registerTwin(userId(3))).to.emit(twins, "TwinRegistered").withArgs(3n, userId(3), a.address);
      expect(await twins.twinCount()).to.equal(3n);
      expect(await twins.twinsOn(a.address)).to.equal(2n);
      expect(await twins.twinsOn(b.address)).to.equal(1n);
      expect(await twins.hostOf(2)).to.equal(b.address);
    });

    it("reverts with NotMember for an outsider and for a removed BS", async () => {
      const { twins, registry, outsider, mbs, a } = await loadFixture(membersFixture);
      await expect(twins.connect(outsider).registerTwin(userId(1)))
        .to.be.revertedWithCustomError(twins, "NotMember")
        .withArgs(outsider.address);
      // the operator is not a member either
      await expect(twins.connect(mbs).registerTwin(userId(1))).to.be.revertedWithCustomError(twins, "NotMember").withArgs(mbs.address);
      await registry.remove(a.address);
      await expect(twins.connect(a).registerTwin(userId(1))).to.be.revertedWithCustomError(twins, "NotMember").withArgs(a.address);
    });

    it("reverts with InvalidUserId for the zero user id", async () => {
      const { twins, a } = await loadFixture(membersFixture);
      await expect(twins.connect(a).registerTwin(ZeroHash)).to.be.revertedWithCustomError(twins, "InvalidUserId");
    });

    it("reverts with UserAlreadyHasTwin when the user has a twin (on any BS)", async () => {
      const { twins, a, b } = await loadFixture(twinsFixture);
      await expect(twins.connect(a).registerTwin(userId(2)))
        .to.be.revertedWithCustomError(twins, "UserAlreadyHasTwin")
        .withArgs(userId(2), 3n);
      await expect(twins.connect(b).registerTwin(userId(0)))
        .to.be.revertedWithCustomError(twins, "UserAlreadyHasTwin")
        .withArgs(userId(0), 1n);
    });
  });

  describe("associate", () => {
    it("only ASSOCIATOR_ROLE may call it (AccessControlUnauthorizedAccount)", async () => {
      const { twins, a, b, mbs, outsider } = await loadFixture(twinsFixture);
      for (const caller of [a, b, mbs, outsider]) {
        await expect(twins.connect(caller).associate(1, b.address))
          .to.be.revertedWithCustomError(twins, "AccessControlUnauthorizedAccount")
          .withArgs(caller.address, ROLES.ASSOCIATOR);
      }
    });

    it("moves a twin and its data between BSs and emits TwinAssociated(from, to, size)", async () => {
      const { twins, associator, a, b } = await loadFixture(twinsFixture);
      expect(await twins.dataOn(a.address)).to.equal(150n);
      expect(await twins.dataOn(b.address)).to.equal(30n);
      expect(await twins.totalData()).to.equal(180n);
      // it returns the twin's recorded data size (the association ledger sums them into the action's weight)
      expect(await twins.connect(associator).associate.staticCall(1, b.address)).to.equal(100n);
      expect(await twins.connect(associator).associate.staticCall(1, a.address)).to.equal(100n); // no-op: already there

      await expect(twins.connect(associator).associate(1, b.address))
        .to.emit(twins, "TwinAssociated")
        .withArgs(1n, a.address, b.address, 100n);

      expect(await twins.hostOf(1)).to.equal(b.address);
      expect((await twins.twin(1)).bs).to.equal(b.address);
      expect(await twins.twinsOn(a.address)).to.equal(1n);
      expect(await twins.twinsOn(b.address)).to.equal(3n);
      expect(await twins.dataOn(a.address)).to.equal(50n);
      expect(await twins.dataOn(b.address)).to.equal(130n);
      expect(await twins.totalData()).to.equal(180n);
    });

    it("moves a twin to a BS that hosted none and back again", async () => {
      const { twins, associator, a, c } = await loadFixture(twinsFixture);
      await expect(twins.connect(associator).associate(2, c.address))
        .to.emit(twins, "TwinAssociated")
        .withArgs(2n, a.address, c.address, 50n);
      expect(await twins.twinsOn(c.address)).to.equal(1n);
      expect(await twins.dataOn(c.address)).to.equal(50n);
      await expect(twins.connect(associator).associate(2, a.address))
        .to.emit(twins, "TwinAssociated")
        .withArgs(2n, c.address, a.address, 50n);
      expect(await twins.twinsOn(c.address)).to.equal(0n);
      expect(await twins.dataOn(c.address)).to.equal(0n);
      expect(await twins.twinsOn(a.address)).to.equal(2n);
      expect(await twins.dataOn(a.address)).to.equal(150n);
    });

    it("moves a twin without a data record (size 0)", async () => {
      const { twins, associator, a, b } = await loadFixture(twinsFixture);
      await expect(twins.connect(associator).associate(4, a.address))
        .to.emit(twins, "TwinAssociated")
        .withArgs(4n, b.address, a.address, 0n);
      expect(await twins.twinsOn(b.address)).to.equal(1n);
      expect(await twins.twinsOn(a.address)).to.equal(3n);
      expect(await twins.dataOn(a.address)).to.equal(150n);
    });

    it("is a no-op without event when the twin is already on the BS", async () => {
      const { twins, associator, a } = await loadFixture(twinsFixture);
      await expect(twins.connect(associator).associate(1, a.address)).not.to.emit(twins, "TwinAssociated");
      expect(await twins.hostOf(1)).to.equal(a.address);
      expect(await twins.twinsOn(a.address)).to.equal(2n);
      expect(await twins.dataOn(a.address)).to.equal(150n);
    });

    it("after a move, the new host records the twin and the old host no longer can", async () => {
      const { twins, associator, a, b } = await loadFixture(twinsFixture);
      await twins.connect(associator).associate(1, b.address);
      await expect(twins.connect(a).recordTwinData(1, 10, ZeroHash, ZeroHash))
        .to.be.revertedWithCustomError(twins, "NotTwinHost")
        .withArgs(1n, a.address, b.address);
      await expect(twins.connect(b).recordTwinData(1, 40, ZeroHash, ZeroHash))
        .to.emit(twins, "TwinDataRecorded")
        .withArgs(1n, b.address, 40n, ZeroHash, ZeroHash, 2n, 3n);
      expect(await twins.dataOn(b.address)).to.equal(70n);
      expect(await twins.dataOn(a.address)).to.equal(50n);
      expect(await twins.totalData()).to.equal(120n);
    });

    it("reverts with UnknownTwin for twin 0 and unregistered ids", async () => {
      const { twins, associator, a } = await loadFixture(twinsFixture);
      await expect(twins.connect(associator).associate(0, a.address)).to.be.revertedWithCustomError(twins, "UnknownTwin").withArgs(0n);
      await expect(twins.connect(associator).associate(5, a.address)).to.be.revertedWithCustomError(twins, "UnknownTwin").withArgs(5n);
    });

    it("reverts with NotMember when the target is not (or no longer) a member", async () => {
      const { twins, registry, associator, a, outsider } = await loadFixture(twinsFixture);
      await expect(twins.connect(associator).associate(3, outsider.address))
        .to.be.revertedWithCustomError(twins, "NotMember")
        .withArgs(outsider.address);
      await registry.remove(a.address);
      // even the current host, once removed, cannot be targeted
      await expect(twins.connect(associator).associate(1, a.address))
        .to.be.revertedWithCustomError(twins, "NotMember")
        .withArgs(a.address);
    });

    it("can move a twin away from a removed BS", async () => {
      const { twins, registry, associator, a, c } = await loadFixture(twinsFixture);
      await registry.remove(a.address);
      await expect(twins.connect(associator).associate(1, c.address))
        .to.emit(twins, "TwinAssociated")
        .withArgs(1n, a.address, c.address, 100n);
      expect(await twins.dataOn(a.address)).to.equal(50n);
    });
  });

  describe("recordTwinData", () => {
    it("reverts with DataSizeOutOfRange above maxDataSize (a BS claiming 2^64-1 samples for Eq. 6)", async () => {
      // Attack class 2 (in part): a BS used to record 2^64-1 samples and take almost all of S_ini.
      const { twins, a } = await loadFixture(twinsFixture);
      const max = await twins.maxDataSize();
      await expect(twins.connect(a).recordTwinData(1, max + 1n, ZeroHash, ZeroHash))
        .to.be.revertedWithCustomError(twins, "DataSizeOutOfRange")
        .withArgs(max + 1n, max);
      await expect(twins.connect(a).recordTwinData(1, 2n ** 64n - 1n, ZeroHash, ZeroHash)).to.be.revertedWithCustomError(twins, "DataSizeOutOfRange");
      await expect(twins.connect(a).recordTwinData(1, max, ZeroHash, ZeroHash)).to.emit(twins, "TwinDataRecorded");
      expect(await twins.dataOn(a.address)).to.equal(max + 50n);
    });

    it("records data, increments the version, updates sums and appends a TwinData record with the right leaf", async () => {
      const { twins, recordLog, a } = await loadFixture(twinsFixture);
      const index = await recordLog.length();
      expect(index).to.equal(3n);
      const commitment = ethers.id("data-v2");
      const state = ethers.id("state-v2");
      const payload = dataPayload(1n, a.address, 250n, commitment, state, 2n);
      const leaf = leafOf(index, KIND.TwinData, payload);

      await expect(twins.connect(a).recordTwinData(1, 250, commitment, state))
        .to.emit(twins, "TwinDataRecorded")
        .withArgs(1n, a.address, 250n, commitment, state, 2n, index)
        .and.to.emit(recordLog, "RecordAppended")
        .withArgs(index, KIND.TwinData, payload, leaf);

      expect(await recordLog.length()).to.equal(index + 1n);
      expect(await recordLog.leafAt(index)).to.equal(leaf);
      expect(await recordLog.leafHash(index, KIND.TwinData, payload)).to.equal(leaf);
      const t = await twins.twin(1);
      expect(t.dataSize).to.equal(250n);
      expect(t.dataVersion).to.equal(2n);
      expect(t.modelVersion).to.equal(0n);
      expect(t.dataCommitment).to.equal(commitment);
      expect(t.state).to.equal(state);
      expect(await twins.dataOn(a.address)).to.equal(300n);
      expect(await twins.totalData()).to.equal(330n);
    });

    it("the first record of a twin has version 1 and the log leaf matches", async () => {
      const { twins, recordLog, b } = await loadFixture(twinsFixture);
      const payload = dataPayload(4n, b.address, 7n, ZeroHash, ethers.id("s"), 1n);
      await expect(twins.connect(b).recordTwinData(4, 7, ZeroHash, ethers.id("s")))
        .to.emit(twins, "TwinDataRecorded")
        .withArgs(4n, b.address, 7n, ZeroHash, ethers.id("s"), 1n, 3n);
      expect(await recordLog.leafAt(3)).to.equal(leafOf(3n, KIND.TwinData, payload));
      expect(await twins.dataOn(b.address)).to.equal(37n);
    });

    it("shrinking the data size lowers the sums", async () => {
      const { twins, a } = await loadFixture(twinsFixture);
      await twins.connect(a).recordTwinData(1, 10, ZeroHash, ZeroHash);
      expect(await twins.dataOn(a.address)).to.equal(60n);
      expect(await twins.totalData()).to.equal(90n);
      await expect(twins.connect(a).recordTwinData(1, 0, ZeroHash, ZeroHash))
        .to.emit(twins, "TwinDataRecorded")
        .withArgs(1n, a.address, 0n, ZeroHash, ZeroHash, 3n, 4n);
      expect(await twins.dataOn(a.address)).to.equal(50n);
      expect(await twins.totalData()).to.equal(80n);
    });

    it("reverts with NotMember, UnknownTwin and NotTwinHost", async () => {
      const { twins, a, b, c, outsider } = await loadFixture(twinsFixture);
      await expect(twins.connect(outsider).recordTwinData(1, 1, ZeroHash, ZeroHash))
        .to.be.revertedWithCustomError(twins, "NotMember")
        .withArgs(outsider.address);
      await expect(twins.connect(a).recordTwinData(9, 1, ZeroHash, ZeroHash))
        .to.be.revertedWithCustomError(twins, "UnknownTwin")
        .withArgs(9n);
      await expect(twins.connect(b).recordTwinData(1, 1, ZeroHash, ZeroHash))
        .to.be.revertedWithCustomError(twins, "NotTwinHost")
        .withArgs(1n, b.address, a.address);
      await expect(twins.connect(c).recordTwinData(3, 1, ZeroHash, ZeroHash))
        .to.be.revertedWithCustomError(twins, "NotTwinHost")
        .withArgs(3n, c.address, b.address);
    });

    it("a removed host can no longer record (NotMember)", async () => {
      const { twins, registry, a } = await loadFixture(twinsFixture);
      await registry.remove(a.address);
      await expect(twins.connect(a).recordTwinData(1, 1, ZeroHash, ZeroHash))
        .to.be.revertedWithCustomError(twins, "NotMember")
        .withArgs(a.address);
    });
  });

  describe("recordTwinModel", () => {
    it("records the model CID, increments the version and appends a TwinModel record with the right leaf", async () => {
      const { twins, recordLog, a } = await loadFixture(twinsFixture);
      const cid = fakeCid("model-1");
      const payload = modelPayload(1n, a.address, cid, 1n);
      const leaf = leafOf(3n, KIND.TwinModel, payload);
      await expect(twins.connect(a).recordTwinModel(1, cid))
        .to.emit(twins, "TwinModelRecorded")
        .withArgs(1n, a.address, cid, 1n, 3n)
        .and.to.emit(recordLog, "RecordAppended")
        .withArgs(3n, KIND.TwinModel, payload, leaf);
      expect(await recordLog.leafAt(3)).to.equal(leaf);
      let t = await twins.twin(1);
      expect(t.modelCid).to.equal(cid);
      expect(t.modelVersion).to.equal(1n);
      expect(t.dataVersion).to.equal(1n);

      const cid2 = fakeCid("model-2");
      await expect(twins.connect(a).recordTwinModel(1, cid2))
        .to.emit(twins, "TwinModelRecorded")
        .withArgs(1n, a.address, cid2, 2n, 4n);
      expect(await recordLog.leafAt(4)).to.equal(leafOf(4n, KIND.TwinModel, modelPayload(1n, a.address, cid2, 2n)));
      t = await twins.twin(1);
      expect(t.modelCid).to.equal(cid2);
      expect(t.modelVersion).to.equal(2n);
      // model records do not touch the data sums
      expect(await twins.dataOn(a.address)).to.equal(150n);
    });

    it("accepts CIDs of 34 and 64 bytes", async () => {
      const { twins, b } = await loadFixture(twinsFixture);
      const min = ethers.hexlify(ethers.randomBytes(34));
      const max = ethers.hexlify(ethers.randomBytes(64));
      await expect(twins.connect(b).recordTwinModel(3, min)).to.emit(twins, "TwinModelRecorded").withArgs(3n, b.address, min, 1n, 3n);
      await expect(twins.connect(b).recordTwinModel(3, max)).to.emit(twins, "TwinModelRecorded").withArgs(3n, b.address, max, 2n, 4n);
      expect((await twins.twin(3)).modelCid).to.equal(max);
    });

    it("reverts with CidCheck.InvalidCid for too short or too long CIDs", async () => {
      const { twins, a } = await loadFixture(twinsFixture);
      for (const len of [0, 1, 33, 65, 100]) {
        await expect(twins.connect(a).recordTwinModel(1, new Uint8Array(len)))
          .to.be.revertedWithCustomError(twins, "InvalidCid")
          .withArgs(len);
      }
    });

    it("reverts with NotMember, UnknownTwin and NotTwinHost", async () => {
      const { twins, a, b, outsider } = await loadFixture(twinsFixture);
      const cid = fakeCid("m");
      await expect(twins.connect(outsider).recordTwinModel(1, cid))
        .to.be.revertedWithCustomError(twins, "NotMember")
        .withArgs(outsider.address);
      await expect(twins.connect(a).recordTwinModel(0, cid)).to.be.revertedWithCustomError(twins, "UnknownTwin").withArgs(0n);
      await expect(twins.connect(a).recordTwinModel(3, cid))
        .to.be.revertedWithCustomError(twins, "NotTwinHost")
        .withArgs(3n, a.address, b.address);
    });
  });

  describe("recordTwinModels", () => {
    it("records a batch of round r: one model record and TwinModelRecorded per twin, then TwinModelsRecorded(r)", async () => {
      const { twins, recordLog, a } = await loadFixture(twinsFixture);
      const [c1, c2] = [fakeCid("r3-t1"), fakeCid("r3-t2")];
      const tx = twins.connect(a).recordTwinModels(3, [1, 2], [c1, c2]);
      await expect(tx)
        .to.emit(twins, "TwinModelRecorded")
        .withArgs(1n, a.address, c1, 1n, 3n)
        .and.to.emit(twins, "TwinModelRecorded")
        .withArgs(2n, a.address, c2, 1n, 4n)
        .and.to.emit(twins, "TwinModelsRecorded")
        .withArgs(3n, a.address, 2n, 3n);
      // the same record-log entries as recordTwinModel would append
      expect(await recordLog.leafAt(3)).to.equal(leafOf(3n, KIND.TwinModel, modelPayload(1n, a.address, c1, 1n)));
      expect(await recordLog.leafAt(4)).to.equal(leafOf(4n, KIND.TwinModel, modelPayload(2n, a.address, c2, 1n)));
      // the batch event comes after the twins' events of the same transaction
      const receipt = await (await tx).wait();
      const names = receipt!.logs.filter((l) => l.address === twins.target).map((l) => twins.interface.parseLog(l)?.name);
      expect(names).to.deep.equal(["TwinModelRecorded", "TwinModelRecorded", "TwinModelsRecorded"]);
      expect((await twins.twin(1)).modelCid).to.equal(c1);
      expect((await twins.twin(2)).modelVersion).to.equal(1n);

      // the next round's batch (one twin) bumps the version; data sums are untouched
      const c3 = fakeCid("r4-t2");
      await expect(twins.connect(a).recordTwinModels(4, [2], [c3]))
        .to.emit(twins, "TwinModelRecorded")
        .withArgs(2n, a.address, c3, 2n, 5n)
        .and.to.emit(twins, "TwinModelsRecorded")
        .withArgs(4n, a.address, 1n, 5n);
      expect((await twins.twin(2)).modelCid).to.equal(c3);
      expect(await twins.dataOn(a.address)).to.equal(150n);
      expect(await recordLog.length()).to.equal(6n);
    });

    it("takes a full batch of MAX_MODELS_PER_BATCH (128) twins in one transaction, within the 2^24 transaction gas cap", async () => {
      const { twins, c } = await loadFixture(twinsFixture);
      expect(await twins.MAX_MODELS_PER_BATCH()).to.equal(128n);
      const ids: number[] = [];
      for (let k = 0; k < 128; k++) {
        await twins.connect(c).registerTwin(userId(100 + k));
        ids.push(5 + k);
      }
      const receipt = await (await twins.connect(c).recordTwinModels(1, ids, ids.map((id) => fakeCid(`t${id}`)))).wait();
      // about 124k gas per first record of a twin (its CID stored, the record-log leaf and the event)
      expect(receipt!.gasUsed).to.be.below(2n ** 24n);
      expect((await twins.twin(132)).modelVersion).to.equal(1n);
    });

    it("reverts with InvalidBatchLength for an empty batch or one above MAX_MODELS_PER_BATCH", async () => {
      const { twins, a } = await loadFixture(twinsFixture);
      await expect(twins.connect(a).recordTwinModels(1, [], []))
        .to.be.revertedWithCustomError(twins, "InvalidBatchLength")
        .withArgs(0n, 128n);
      const ids = Array.from({ length: 129 }, (_, k) => k + 1);
      await expect(twins.connect(a).recordTwinModels(1, ids, ids.map(() => fakeCid("x"))))
        .to.be.revertedWithCustomError(twins, "InvalidBatchLength")
        .withArgs(129n, 128n);
    });

    it("reverts with BatchLengthMismatch when twins and CIDs differ in number, InvalidRound for round 0", async () => {
      const { twins, a } = await loadFixture(twinsFixture);
      await expect(twins.connect(a).recordTwinModels(1, [1, 2], [fakeCid("m")]))
        .to.be.revertedWithCustomError(twins, "BatchLengthMismatch")
        .withArgs(2n, 1n);
      await expect(twins.connect(a).recordTwinModels(0, [1], [fakeCid("m")])).to.be.revertedWithCustomError(twins, "InvalidRound");
    });

    it("reverts with TwinsNotSorted for descending or repeated twin ids", async () => {
      const { twins, a } = await loadFixture(twinsFixture);
      const cids = [fakeCid("m1"), fakeCid("m2")];
      await expect(twins.connect(a).recordTwinModels(1, [2, 1], cids)).to.be.revertedWithCustomError(twins, "TwinsNotSorted").withArgs(1n);
      await expect(twins.connect(a).recordTwinModels(1, [1, 1], cids)).to.be.revertedWithCustomError(twins, "TwinsNotSorted").withArgs(1n);
    });

    it("reverts as a whole (nothing recorded) with NotMember, UnknownTwin, NotTwinHost or InvalidCid in any entry", async () => {
      const { twins, recordLog, a, b, outsider } = await loadFixture(twinsFixture);
      const cid = fakeCid("m");
      await expect(twins.connect(outsider).recordTwinModels(1, [1], [cid]))
        .to.be.revertedWithCustomError(twins, "NotMember")
        .withArgs(outsider.address);
      await expect(twins.connect(a).recordTwinModels(1, [1, 9], [cid, cid])).to.be.revertedWithCustomError(twins, "UnknownTwin").withArgs(9n);
      await expect(twins.connect(a).recordTwinModels(1, [1, 3], [cid, cid]))
        .to.be.revertedWithCustomError(twins, "NotTwinHost")
        .withArgs(3n, a.address, b.address);
      await expect(twins.connect(a).recordTwinModels(1, [1, 2], [cid, new Uint8Array(33)]))
        .to.be.revertedWithCustomError(twins, "InvalidCid")
        .withArgs(33n);
      expect(await recordLog.length()).to.equal(3n);
      expect((await twins.twin(1)).modelVersion).to.equal(0n);
    });
  });

  describe("views", () => {
    it("twin and hostOf revert with UnknownTwin for unknown ids", async () => {
      const { twins } = await loadFixture(twinsFixture);
      await expect(twins.twin(0)).to.be.revertedWithCustomError(twins, "UnknownTwin").withArgs(0n);
      await expect(twins.twin(5)).to.be.revertedWithCustomError(twins, "UnknownTwin").withArgs(5n);
      await expect(twins.hostOf(5)).to.be.revertedWithCustomError(twins, "UnknownTwin").withArgs(5n);
    });

    it("twinOfUser is 0 and the per-BS sums are 0 for unknown users and BSs", async () => {
      const { twins, outsider, c } = await loadFixture(twinsFixture);
      expect(await twins.twinOfUser(userId(99))).to.equal(0n);
      expect(await twins.twinOfUser(ZeroHash)).to.equal(0n);
      expect(await twins.twinsOn(outsider.address)).to.equal(0n);
      expect(await twins.dataOn(c.address)).to.equal(0n);
      expect(await twins.twinCount()).to.equal(4n);
      expect(await twins.twinOfUser(userId(3))).to.equal(4n);
    });
  });
});
