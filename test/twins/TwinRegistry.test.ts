import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { AbiCoder, type ContractTransactionResponse, Signature, TypedDataEncoder, ZeroAddress, ZeroHash, concat, getBytes, hexlify, keccak256, toBeHex, toUtf8Bytes, verifyTypedData, type TypedDataDomain } from "ethers";
import {
  admitUsers,
  dataConsent,
  deployProtocolWithTestAdmin,
  device,
  domainOf,
  fakeCid,
  moveConsent,
  PARAMS,
  recordTwinData,
  registerTwin,
  registrationConsent,
  userId,
} from "../fixtures";
import { CONSENT_TYPES, consentDomain, signMove, signRegistration, signTwinData } from "../../src/chain/consent";
import { ROLES } from "../../src/chain/roles";
import { TwinRegistry__factory } from "../../typechain-types";

const abi = AbiCoder.defaultAbiCoder();

/** The edge-association slot of the moves below (any number: the registry does not know the slots). */
const SLOT = 7n;
/** Order of secp256k1 (for the high-s twin of a signature). */
const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

type ConsentType = keyof typeof CONSENT_TYPES;

/** The EIP-712 types of one consent, as ethers takes them (mutable copies). */
function typesOf(type: ConsentType) {
  return { [type]: CONSENT_TYPES[type].map((f) => ({ ...f })) };
}

/** Who signed `sig` if it were a consent to `value`: what the registry's ecrecover gives when it checks `value`. */
function signerOf(domain: TypedDataDomain, type: ConsentType, value: Record<string, unknown>, sig: string): string {
  return verifyTypedData(domain, typesOf(type), value, sig);
}

/** The same signature with s replaced by n - s (and v flipped): ecrecover gives the same signer, OpenZeppelin refuses it. */
function highS(sig: string): string {
  const bytes = getBytes(sig);
  const s = BigInt(hexlify(bytes.slice(32, 64)));
  return concat([bytes.slice(0, 32), toBeHex(SECP256K1_N - s, 32), new Uint8Array([bytes[64] === 27 ? 28 : 27])]);
}

/** RecordLog.RecordKind */
const KIND = { TwinModel: 0, TwinData: 1, TrainingModel: 2 } as const;

/** RecordLog's leaf: keccak256(abi.encode(index, kind, payloadHash, appendedAt)), appendedAt the append's block timestamp. */
function leafOf(index: bigint, kind: number, payloadHash: string, appendedAt: bigint): string {
  return keccak256(abi.encode(["uint256", "uint8", "bytes32", "uint64"], [index, kind, payloadHash, appendedAt]));
}

/** Pin the next block's timestamp (a record appended in it has this appendedAt) and return it. */
async function pinNextTimestamp(): Promise<bigint> {
  const t = BigInt(await time.latest()) + 5n;
  await time.setNextBlockTimestamp(t);
  return t;
}

/** The timestamp of the block that mined `tx` (the appendedAt of the records it appended). */
async function minedAt(tx: Promise<ContractTransactionResponse> | ContractTransactionResponse): Promise<bigint> {
  const rc = await (await tx).wait();
  return BigInt((await rc!.getBlock()).timestamp);
}

function dataPayload(twinId: bigint, bs: string, size: bigint, commitment: string, state: string, version: bigint): string {
  return keccak256(
    abi.encode(
      ["uint256", "address", "uint64", "bytes32", "bytes32", "uint32"],
      [twinId, bs, size, commitment, state, version],
    ),
  );
}

/** The payload hash of a batch of digital-twin model records: keccak256(abi.encode(round, bs, twinIds, modelDigests)). */
function modelsPayload(round: bigint, bs: string, twinIds: readonly bigint[], digests: readonly string[]): string {
  return keccak256(abi.encode(["uint256", "address", "uint256[]", "bytes32[]"], [round, bs, twinIds, digests]));
}

/** The sha2-256 digest of the CIDv0 {@link fakeCid}(label) (which is 0x1220 || digest). */
function modelDigest(label: string): string {
  return ethers.dataSlice(fakeCid(label), 2);
}

// Fixtures build on each other through nested loadFixture calls: a derived fixture restores its parent's snapshot
// and adds its own steps, so each step runs once and not once per derived fixture.
/** Protocol (core module: the deployer keeps its admin role) with BSs a, b, c admitted, end users 0..9 admitted
 * (devices {@link device}) and `associator` (an EOA) holding ASSOCIATOR_ROLE. No twins yet. */
async function membersFixture() {
  const p = await loadFixture(deployProtocolWithTestAdmin);
  const signers = await ethers.getSigners();
  const associator = signers[15];
  const [a, b, c] = p.bss;
  for (const bs of [a, b, c]) await p.registry.admit(bs.address);
  await p.twins.grantRole(ROLES.ASSOCIATOR, associator.address);
  await admitUsers(p, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  return { ...p, a, b, c, associator, domain: await domainOf(p) };
}

/**
 * On top of membersFixture: twin 1 (user 0, 100 samples) and twin 2 (user 1, 50 samples) on a; twin 3 (user 2,
 * 30 samples) on b; twin 4 (user 3, no data record) on b, each with its user's consents. Record log holds 3 records
 * (indices 0..2).
 */
async function twinsFixture() {
  const p = await loadFixture(membersFixture);
  const { a, b } = p;
  for (const [i, bs] of [a, a, b, b].entries()) await registerTwin(p, bs, i);
  await recordTwinData(p, a, 1, 100, ethers.id("d1"), ethers.id("s1"));
  await recordTwinData(p, a, 2, 50, ethers.id("d2"), ethers.id("s2"));
  await recordTwinData(p, b, 3, 30, ethers.id("d3"), ethers.id("s3"));
  return p;
}

/** On top of twinsFixture: c hosts 257 more twins (users 100..356), twins 5..261, listed in `onC`. */
async function manyTwinsFixture() {
  const p = await loadFixture(twinsFixture);
  const users = Array.from({ length: 257 }, (_, k) => 100 + k);
  for (let k = 0; k < users.length; k += 128) await admitUsers(p, users.slice(k, k + 128)); // UserRegistry takes 200 a batch
  const onC: bigint[] = [];
  for (const u of users) onC.push(await registerTwin(p, p.c, u));
  return { ...p, onC };
}

describe("TwinRegistry", () => {
  describe("constructor", () => {
    it("stores the registry, user registry and record log and grants the admin role", async () => {
      const { twins, registry, users, recordLog, mbs } = await loadFixture(membersFixture);
      expect(await twins.registry()).to.equal(await registry.getAddress());
      expect(await twins.users()).to.equal(await users.getAddress());
      expect(await twins.recordLog()).to.equal(await recordLog.getAddress());
      expect(await twins.hasRole(await twins.DEFAULT_ADMIN_ROLE(), mbs.address)).to.equal(true);
      expect(await twins.ASSOCIATOR_ROLE()).to.equal(ROLES.ASSOCIATOR);
    });

    it("reverts with ZeroAddress for a zero registry, user registry, record log or admin", async () => {
      const { registry, users, recordLog, mbs } = await loadFixture(membersFixture);
      const factory = new TwinRegistry__factory(mbs);
      const reg = await registry.getAddress();
      const usr = await users.getAddress();
      const log = await recordLog.getAddress();
      await expect(factory.deploy(ZeroAddress, usr, log, mbs.address, 1)).to.be.revertedWithCustomError(factory, "ZeroAddress");
      await expect(factory.deploy(reg, ZeroAddress, log, mbs.address, 1)).to.be.revertedWithCustomError(factory, "ZeroAddress");
      await expect(factory.deploy(reg, usr, ZeroAddress, mbs.address, 1)).to.be.revertedWithCustomError(factory, "ZeroAddress");
      await expect(factory.deploy(reg, usr, log, ZeroAddress, 1)).to.be.revertedWithCustomError(factory, "ZeroAddress");
      const ok = await factory.deploy(reg, usr, log, mbs.address, 1);
      expect(await ok.twinCount()).to.equal(0n);
    });

    it("reverts with InvalidParameter for a data-size bound of 0 or above 2^32 - 1", async () => {
      const { registry, users, recordLog, mbs, twins } = await loadFixture(membersFixture);
      expect(await twins.maxDataSize()).to.equal(BigInt(PARAMS.maxTwinDataSize));
      const factory = new TwinRegistry__factory(mbs);
      await expect(factory.deploy(registry, users, recordLog, mbs.address, 0)).to.be.revertedWithCustomError(factory, "InvalidParameter");
      await expect(factory.deploy(registry, users, recordLog, mbs.address, 2n ** 32n)).to.be.revertedWithCustomError(factory, "InvalidParameter");
      expect(await (await factory.deploy(registry, users, recordLog, mbs.address, 2n ** 32n - 1n)).maxDataSize()).to.equal(2n ** 32n - 1n);
    });

    it("domainSeparator() is ethers' TypedDataEncoder.hashDomain of consentDomain (this contract, this chain)", async () => {
      const { twins, registry, users, recordLog, mbs, domain } = await loadFixture(membersFixture);
      const chainId = (await ethers.provider.getNetwork()).chainId;
      expect(await twins.domainSeparator()).to.equal(TypedDataEncoder.hashDomain(consentDomain(chainId, await twins.getAddress())));
      expect(await twins.domainSeparator()).to.equal(TypedDataEncoder.hashDomain(domain));
      const d = await twins.eip712Domain();
      expect([d.name, d.version, d.chainId, d.verifyingContract]).to.deep.equal(["dtwn TwinRegistry", "1", chainId, await twins.getAddress()]);
      // another deployment has another domain, so a consent names the registry it is for
      const other = await new TwinRegistry__factory(mbs).deploy(registry, users, recordLog, mbs.address, 1);
      expect(await other.domainSeparator()).to.not.equal(await twins.domainSeparator());
    });

    it("the type hashes are those of src/chain/consent.ts's CONSENT_TYPES", async () => {
      const { twins } = await loadFixture(membersFixture);
      const typeHash = (type: ConsentType) => keccak256(toUtf8Bytes(TypedDataEncoder.from(typesOf(type)).encodeType(type)));
      expect(await twins.REGISTER_TYPEHASH()).to.equal(typeHash("RegisterTwin"));
      expect(await twins.DATA_TYPEHASH()).to.equal(typeHash("TwinData"));
      expect(await twins.MOVE_TYPEHASH()).to.equal(typeHash("MoveTwin"));
      expect(await twins.REGISTER_TYPEHASH()).to.equal(ethers.id("RegisterTwin(bytes32 userId,address bs)"));
    });
  });

  describe("registerTwin", () => {
    it("registers a twin on the calling BS with its user's consent, emits TwinRegistered and TwinAssociated(from = 0)", async () => {
      const p = await loadFixture(membersFixture);
      const { twins, a } = p;
      const consent = await registrationConsent(p, 7, a.address);
      expect(await twins.connect(a).registerTwin.staticCall(userId(7), consent)).to.equal(1n);
      await expect(twins.connect(a).registerTwin(userId(7), consent))
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
      expect(t.dataCommitment).to.equal(ZeroHash);
      expect(t.state).to.equal(ZeroHash);
    });

    it("twin().device is the user's device key from the UserRegistry, and stays so after a move", async () => {
      const p = await loadFixture(twinsFixture);
      const { twins, users, associator, b } = p;
      for (const i of [0, 1, 2, 3]) {
        expect((await twins.twin(i + 1)).device).to.equal(device(i).address);
        expect((await twins.twin(i + 1)).device).to.equal(await users.deviceOf(userId(i)));
      }
      await twins.connect(associator).associate(1, b.address, SLOT, await moveConsent(p, 1, b.address, SLOT));
      expect((await twins.twin(1)).device).to.equal(device(0).address);
    });

    it("numbers twins consecutively across BSs and counts K_j per BS", async () => {
      const p = await loadFixture(membersFixture);
      const { twins, a, b } = p;
      await twins.connect(a).registerTwin(userId(1), await registrationConsent(p, 1, a.address));
      await expect(twins.connect(b).registerTwin(userId(2), await registrationConsent(p, 2, b.address)))
        .to.emit(twins, "TwinRegistered")
        .withArgs(2n, userId(2), b.address);
      await expect(twins.connect(a).registerTwin(userId(3), await registrationConsent(p, 3, a.address)))
        .to.emit(twins, "TwinRegistered")
        .withArgs(3n, userId(3), a.address);
      expect(await twins.twinCount()).to.equal(3n);
      expect(await twins.twinsOn(a.address)).to.equal(2n);
      expect(await twins.twinsOn(b.address)).to.equal(1n);
      expect(await twins.hostOf(2)).to.equal(b.address);
    });

    it("reverts with NotMember for an outsider and for a removed BS (even with the user's consent)", async () => {
      const p = await loadFixture(membersFixture);
      const { twins, registry, outsider, mbs, a } = p;
      await expect(twins.connect(outsider).registerTwin(userId(1), await registrationConsent(p, 1, outsider.address)))
        .to.be.revertedWithCustomError(twins, "NotMember")
        .withArgs(outsider.address);
      // the operator is not a member either
      await expect(twins.connect(mbs).registerTwin(userId(1), await registrationConsent(p, 1, mbs.address)))
        .to.be.revertedWithCustomError(twins, "NotMember")
        .withArgs(mbs.address);
      await registry.remove(a.address);
      await expect(twins.connect(a).registerTwin(userId(1), await registrationConsent(p, 1, a.address)))
        .to.be.revertedWithCustomError(twins, "NotMember")
        .withArgs(a.address);
    });

    it("reverts with InvalidUserId for the zero user id", async () => {
      const { twins, a } = await loadFixture(membersFixture);
      await expect(twins.connect(a).registerTwin(ZeroHash, "0x")).to.be.revertedWithCustomError(twins, "InvalidUserId");
    });

    it("reverts with UserAlreadyHasTwin when the user has a twin (on any BS), even with a fresh consent", async () => {
      const p = await loadFixture(twinsFixture);
      const { twins, a, b } = p;
      await expect(twins.connect(a).registerTwin(userId(2), await registrationConsent(p, 2, a.address)))
        .to.be.revertedWithCustomError(twins, "UserAlreadyHasTwin")
        .withArgs(userId(2), 3n);
      await expect(twins.connect(b).registerTwin(userId(0), await registrationConsent(p, 0, b.address)))
        .to.be.revertedWithCustomError(twins, "UserAlreadyHasTwin")
        .withArgs(userId(0), 1n);
    });

    it("reverts with the UserRegistry's UnknownUser for a user the operator did not admit (even with a signature)", async () => {
      const p = await loadFixture(membersFixture);
      const { twins, users, a } = p;
      // the key signs as a device would, but no admission binds it to user 50
      const sig = await signRegistration(device(50), p.domain, userId(50), a.address);
      await expect(twins.connect(a).registerTwin(userId(50), sig)).to.be.revertedWithCustomError(users, "UnknownUser").withArgs(userId(50));
      expect(await twins.twinCount()).to.equal(0n);
      // once admitted, the same signature registers it
      await admitUsers(p, [50]);
      await expect(twins.connect(a).registerTwin(userId(50), sig)).to.emit(twins, "TwinRegistered").withArgs(1n, userId(50), a.address);
    });

    it("attack: a BS registers another BS's user first (works on old contracts, now needs the user's signature for that BS)", async () => {
      // The attack: on the old contracts registerTwin(userId) took any user id from any member, so BS b could register
      // the user that is in BS a's cell before a did, and record data for it to take its share of Eq. 6's S_ini and of
      // the Eq. 5 weights. Now the user's device signs RegisterTwin(userId, bs) for the BS it is near (a), and b can
      // neither use that signature nor register without one.
      const p = await loadFixture(membersFixture);
      const { twins, a, b, domain } = p;
      const forA = await registrationConsent(p, 5, a.address);
      // b front-runs a with a's consent (seen in a's pending transaction): it is not a consent to b
      await expect(twins.connect(b).registerTwin(userId(5), forA))
        .to.be.revertedWithCustomError(twins, "InvalidConsent")
        .withArgs(0n, signerOf(domain, "RegisterTwin", { userId: userId(5), bs: b.address }, forA), device(5).address);
      // ... or with no consent at all
      await expect(twins.connect(b).registerTwin(userId(5), "0x"))
        .to.be.revertedWithCustomError(twins, "InvalidConsent")
        .withArgs(0n, ZeroAddress, device(5).address);
      expect(await twins.twinOfUser(userId(5))).to.equal(0n);
      // the BS the user chose registers it
      await expect(twins.connect(a).registerTwin(userId(5), forA)).to.emit(twins, "TwinRegistered").withArgs(1n, userId(5), a.address);
      expect(await twins.twinsOn(b.address)).to.equal(0n);
    });

    it("reverts with InvalidConsent for a registration signed for another BS", async () => {
      const p = await loadFixture(membersFixture);
      const { twins, a, c, domain } = p;
      const forC = await registrationConsent(p, 4, c.address);
      await expect(twins.connect(a).registerTwin(userId(4), forC))
        .to.be.revertedWithCustomError(twins, "InvalidConsent")
        .withArgs(0n, signerOf(domain, "RegisterTwin", { userId: userId(4), bs: a.address }, forC), device(4).address);
    });

    it("reverts with InvalidConsent for a registration signed by a key that is not the user's device (signer in the error)", async () => {
      const p = await loadFixture(membersFixture);
      const { twins, a, b, domain } = p;
      // another admitted user's device, a BS's own key (as a BS forging its user's consent would), a fresh key
      const bsSig = await b.signTypedData(domain, typesOf("RegisterTwin"), { userId: userId(4), bs: a.address });
      for (const [sig, signer] of [
        [await signRegistration(device(6), domain, userId(4), a.address), device(6).address],
        [bsSig, b.address],
        [await signRegistration(device(99), domain, userId(4), a.address), device(99).address],
      ]) {
        await expect(twins.connect(a).registerTwin(userId(4), sig))
          .to.be.revertedWithCustomError(twins, "InvalidConsent")
          .withArgs(0n, signer, device(4).address);
      }
      // a registration consent is for one user: user 6's consent does not register user 4 (nor the other way)
      const for6 = await registrationConsent(p, 6, a.address);
      await expect(twins.connect(a).registerTwin(userId(4), for6))
        .to.be.revertedWithCustomError(twins, "InvalidConsent")
        .withArgs(0n, signerOf(domain, "RegisterTwin", { userId: userId(4), bs: a.address }, for6), device(4).address);
    });

    it("reverts with InvalidConsent(signer = 0) for a malformed signature: empty, short, long, compact, bad v, high s", async () => {
      const p = await loadFixture(membersFixture);
      const { twins, a } = p;
      const good = await registrationConsent(p, 4, a.address);
      const bad = [
        "0x",
        ethers.dataSlice(good, 0, 64), // short
        Signature.from(good).compactSerialized, // EIP-2098 compact form of the good signature (64 bytes): refused
        concat([good, "0x00"]), // long
        concat([ethers.dataSlice(good, 0, 64), "0x00"]), // v = 0
        ethers.hexlify(new Uint8Array(65)), // all zeros
        highS(good), // malleated: ecrecover would give the device, OpenZeppelin refuses s > n/2
      ];
      for (const sig of bad) {
        await expect(twins.connect(a).registerTwin(userId(4), sig), sig)
          .to.be.revertedWithCustomError(twins, "InvalidConsent")
          .withArgs(0n, ZeroAddress, device(4).address);
      }
      await expect(twins.connect(a).registerTwin(userId(4), good)).to.emit(twins, "TwinRegistered");
    });

    it("reverts with InvalidConsent for a consent signed under another domain (another verifying contract or chain id)", async () => {
      const p = await loadFixture(membersFixture);
      const { twins, registry, users, recordLog, mbs, a, domain } = p;
      const chainId = (await ethers.provider.getNetwork()).chainId;
      // another TwinRegistry on the same memberships: a consent for it registers there and nowhere else
      const other = await new TwinRegistry__factory(mbs).deploy(registry, users, recordLog, mbs.address, 1);
      const forOther = await signRegistration(device(4), consentDomain(chainId, await other.getAddress()), userId(4), a.address);
      await expect(other.connect(a).registerTwin(userId(4), forOther)).to.emit(other, "TwinRegistered");
      const otherChain = await signRegistration(device(4), consentDomain(chainId + 1n, await twins.getAddress()), userId(4), a.address);
      const otherVersion = await signRegistration(device(4), { ...domain, version: "2" }, userId(4), a.address);
      for (const sig of [forOther, otherChain, otherVersion]) {
        await expect(twins.connect(a).registerTwin(userId(4), sig))
          .to.be.revertedWithCustomError(twins, "InvalidConsent")
          .withArgs(0n, signerOf(domain, "RegisterTwin", { userId: userId(4), bs: a.address }, sig), device(4).address);
      }
      expect(await twins.twinOfUser(userId(4))).to.equal(0n);
    });
  });

  describe("associate", () => {
    it("only ASSOCIATOR_ROLE may call it (AccessControlUnauthorizedAccount)", async () => {
      const p = await loadFixture(twinsFixture);
      const { twins, a, b, mbs, outsider } = p;
      const consent = await moveConsent(p, 1, b.address, SLOT);
      for (const caller of [a, b, mbs, outsider]) {
        await expect(twins.connect(caller).associate(1, b.address, SLOT, consent))
          .to.be.revertedWithCustomError(twins, "AccessControlUnauthorizedAccount")
          .withArgs(caller.address, ROLES.ASSOCIATOR);
      }
    });

    it("moves a twin and its data between BSs with its user's consent and emits TwinAssociated(from, to, size)", async () => {
      const p = await loadFixture(twinsFixture);
      const { twins, associator, a, b } = p;
      expect(await twins.dataOn(a.address)).to.equal(150n);
      expect(await twins.dataOn(b.address)).to.equal(30n);
      expect(await twins.totalData()).to.equal(180n);
      const consent = await moveConsent(p, 1, b.address, SLOT);
      // it returns the twin's recorded data size (the association ledger sums them into the action's weight)
      expect(await twins.connect(associator).associate.staticCall(1, b.address, SLOT, consent)).to.equal(100n);
      expect(await twins.connect(associator).associate.staticCall(1, a.address, SLOT, "0x")).to.equal(100n); // no-op: already there

      await expect(twins.connect(associator).associate(1, b.address, SLOT, consent))
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

    it("moves a twin to a BS that hosted none and back again (a consent for each move)", async () => {
      const p = await loadFixture(twinsFixture);
      const { twins, associator, a, c } = p;
      await expect(twins.connect(associator).associate(2, c.address, SLOT, await moveConsent(p, 2, c.address, SLOT)))
        .to.emit(twins, "TwinAssociated")
        .withArgs(2n, a.address, c.address, 50n);
      expect(await twins.twinsOn(c.address)).to.equal(1n);
      expect(await twins.dataOn(c.address)).to.equal(50n);
      await expect(twins.connect(associator).associate(2, a.address, SLOT + 1n, await moveConsent(p, 2, a.address, SLOT + 1n)))
        .to.emit(twins, "TwinAssociated")
        .withArgs(2n, c.address, a.address, 50n);
      expect(await twins.twinsOn(c.address)).to.equal(0n);
      expect(await twins.dataOn(c.address)).to.equal(0n);
      expect(await twins.twinsOn(a.address)).to.equal(2n);
      expect(await twins.dataOn(a.address)).to.equal(150n);
    });

    it("moves a twin without a data record (size 0)", async () => {
      const p = await loadFixture(twinsFixture);
      const { twins, associator, a, b } = p;
      await expect(twins.connect(associator).associate(4, a.address, SLOT, await moveConsent(p, 4, a.address, SLOT)))
        .to.emit(twins, "TwinAssociated")
        .withArgs(4n, b.address, a.address, 0n);
      expect(await twins.twinsOn(b.address)).to.equal(1n);
      expect(await twins.twinsOn(a.address)).to.equal(3n);
      expect(await twins.dataOn(a.address)).to.equal(150n);
    });

    it("a twin that stays needs no consent: a no-op without event, whatever the consent bytes", async () => {
      const p = await loadFixture(twinsFixture);
      const { twins, associator, a, b } = p;
      // no consent, garbage, and a consent to another BS: the consent is not read when the twin does not move
      for (const consent of ["0x", "0xdeadbeef", ethers.hexlify(new Uint8Array(65)), await moveConsent(p, 1, b.address, SLOT)]) {
        await expect(twins.connect(associator).associate(1, a.address, SLOT, consent)).not.to.emit(twins, "TwinAssociated");
      }
      expect(await twins.hostOf(1)).to.equal(a.address);
      expect(await twins.twinsOn(a.address)).to.equal(2n);
      expect(await twins.dataOn(a.address)).to.equal(150n);
    });

    it("attack: a twin is moved to a BS its user did not consent to (the first committer claiming every twin) now fails", async () => {
      // The attack: on the old contracts associate(twinId, to) moved any twin the association ledger was given, so the
      // first BS to commit an action could list every twin and take them (their hosts could then not list them).
      // Now each move needs the device's signature of MoveTwin(twinId, to, slot): without one the move reverts.
      const p = await loadFixture(twinsFixture);
      const { twins, associator, a, c } = p;
      await expect(twins.connect(associator).associate(1, c.address, SLOT, "0x"))
        .to.be.revertedWithCustomError(twins, "InvalidConsent")
        .withArgs(1n, ZeroAddress, device(0).address);
      // ... nor with a consent its own host holds for another move, nor with the thief's own signature
      const forA = await moveConsent(p, 3, a.address, SLOT); // twin 3's user consents to a, not c
      await expect(twins.connect(associator).associate(3, c.address, SLOT, forA))
        .to.be.revertedWithCustomError(twins, "InvalidConsent")
        .withArgs(3n, signerOf(p.domain, "MoveTwin", { twinId: 3n, to: c.address, slot: SLOT }, forA), device(2).address);
      const byC = await c.signTypedData(p.domain, typesOf("MoveTwin"), { twinId: 1n, to: c.address, slot: SLOT });
      await expect(twins.connect(associator).associate(1, c.address, SLOT, byC))
        .to.be.revertedWithCustomError(twins, "InvalidConsent")
        .withArgs(1n, c.address, device(0).address);
      expect(await twins.twinsOn(c.address)).to.equal(0n);
      expect(await twins.hostOf(1)).to.equal(a.address);
    });

    it("reverts with InvalidConsent for a move consent for another slot or another destination", async () => {
      const p = await loadFixture(twinsFixture);
      const { twins, associator, b, c, domain } = p;
      const toB = await moveConsent(p, 1, b.address, SLOT);
      // another slot: a consent is good for the slot it names only
      await expect(twins.connect(associator).associate(1, b.address, SLOT + 1n, toB))
        .to.be.revertedWithCustomError(twins, "InvalidConsent")
        .withArgs(1n, signerOf(domain, "MoveTwin", { twinId: 1n, to: b.address, slot: SLOT + 1n }, toB), device(0).address);
      // another destination
      await expect(twins.connect(associator).associate(1, c.address, SLOT, toB))
        .to.be.revertedWithCustomError(twins, "InvalidConsent")
        .withArgs(1n, signerOf(domain, "MoveTwin", { twinId: 1n, to: c.address, slot: SLOT }, toB), device(0).address);
      // another twin: twin 2's consent does not move twin 1
      const twoToB = await moveConsent(p, 2, b.address, SLOT);
      await expect(twins.connect(associator).associate(1, b.address, SLOT, twoToB))
        .to.be.revertedWithCustomError(twins, "InvalidConsent")
        .withArgs(1n, signerOf(domain, "MoveTwin", { twinId: 1n, to: b.address, slot: SLOT }, twoToB), device(0).address);
      // another domain (another chain id)
      const chainId = (await ethers.provider.getNetwork()).chainId;
      const otherChain = await signMove(device(0), consentDomain(chainId + 1n, await twins.getAddress()), { twinId: 1n, to: b.address, slot: SLOT });
      await expect(twins.connect(associator).associate(1, b.address, SLOT, otherChain))
        .to.be.revertedWithCustomError(twins, "InvalidConsent")
        .withArgs(1n, signerOf(domain, "MoveTwin", { twinId: 1n, to: b.address, slot: SLOT }, otherChain), device(0).address);
      // malformed
      await expect(twins.connect(associator).associate(1, b.address, SLOT, highS(toB)))
        .to.be.revertedWithCustomError(twins, "InvalidConsent")
        .withArgs(1n, ZeroAddress, device(0).address);
      expect(await twins.hostOf(1)).to.equal(p.a.address);
      // the right one moves it
      await expect(twins.connect(associator).associate(1, b.address, SLOT, toB)).to.emit(twins, "TwinAssociated");
    });

    it("after a move, the new host records the twin and the old host no longer can", async () => {
      const p = await loadFixture(twinsFixture);
      const { twins, associator, a, b } = p;
      await twins.connect(associator).associate(1, b.address, SLOT, await moveConsent(p, 1, b.address, SLOT));
      await expect(recordTwinData(p, a, 1, 10, ZeroHash, ZeroHash))
        .to.be.revertedWithCustomError(twins, "NotTwinHost")
        .withArgs(1n, a.address, b.address);
      await expect(recordTwinData(p, b, 1, 40, ZeroHash, ZeroHash))
        .to.emit(twins, "TwinDataRecorded")
        .withArgs(1n, b.address, 40n, ZeroHash, ZeroHash, 2n, 3n);
      expect(await twins.dataOn(b.address)).to.equal(70n);
      expect(await twins.dataOn(a.address)).to.equal(50n);
      expect(await twins.totalData()).to.equal(120n);
    });

    it("reverts with UnknownTwin for twin 0 and unregistered ids", async () => {
      const { twins, associator, a } = await loadFixture(twinsFixture);
      await expect(twins.connect(associator).associate(0, a.address, SLOT, "0x")).to.be.revertedWithCustomError(twins, "UnknownTwin").withArgs(0n);
      await expect(twins.connect(associator).associate(5, a.address, SLOT, "0x")).to.be.revertedWithCustomError(twins, "UnknownTwin").withArgs(5n);
    });

    it("reverts with NotMember when the target is not (or no longer) a member, even with the user's consent", async () => {
      const p = await loadFixture(twinsFixture);
      const { twins, registry, associator, a, outsider } = p;
      await expect(twins.connect(associator).associate(3, outsider.address, SLOT, await moveConsent(p, 3, outsider.address, SLOT)))
        .to.be.revertedWithCustomError(twins, "NotMember")
        .withArgs(outsider.address);
      await registry.remove(a.address);
      // even the current host, once removed, cannot be targeted
      await expect(twins.connect(associator).associate(1, a.address, SLOT, "0x"))
        .to.be.revertedWithCustomError(twins, "NotMember")
        .withArgs(a.address);
    });

    it("can move a twin away from a removed BS", async () => {
      const p = await loadFixture(twinsFixture);
      const { twins, registry, associator, a, c } = p;
      await registry.remove(a.address);
      await expect(twins.connect(associator).associate(1, c.address, SLOT, await moveConsent(p, 1, c.address, SLOT)))
        .to.emit(twins, "TwinAssociated")
        .withArgs(1n, a.address, c.address, 100n);
      expect(await twins.dataOn(a.address)).to.equal(50n);
    });
  });

  describe("recordTwinData", () => {
    it("reverts with DataSizeOutOfRange above maxDataSize (a BS claiming 2^64-1 samples for Eq. 6), even with a consent", async () => {
      // Attack class 2 (in part): a BS used to record 2^64-1 samples and take almost all of S_ini. The bound holds
      // even if the device signed such a size.
      const p = await loadFixture(twinsFixture);
      const { twins, a } = p;
      const max = await twins.maxDataSize();
      await expect(recordTwinData(p, a, 1, max + 1n, ZeroHash, ZeroHash))
        .to.be.revertedWithCustomError(twins, "DataSizeOutOfRange")
        .withArgs(max + 1n, max);
      await expect(recordTwinData(p, a, 1, 2n ** 64n - 1n, ZeroHash, ZeroHash)).to.be.revertedWithCustomError(twins, "DataSizeOutOfRange");
      await expect(recordTwinData(p, a, 1, max, ZeroHash, ZeroHash)).to.emit(twins, "TwinDataRecorded");
      expect(await twins.dataOn(a.address)).to.equal(max + 50n);
    });

    it("records data, increments the version, updates sums and appends a TwinData record with the right leaf", async () => {
      const p = await loadFixture(twinsFixture);
      const { twins, recordLog, a } = p;
      const index = await recordLog.length();
      expect(index).to.equal(3n);
      const commitment = ethers.id("data-v2");
      const state = ethers.id("state-v2");
      const payload = dataPayload(1n, a.address, 250n, commitment, state, 2n);
      const consent = await dataConsent(p, a.address, 1n, 250n, commitment, state);
      const at = await pinNextTimestamp();
      const leaf = leafOf(index, KIND.TwinData, payload, at);

      await expect(twins.connect(a).recordTwinData(1, 250, commitment, state, consent))
        .to.emit(twins, "TwinDataRecorded")
        .withArgs(1n, a.address, 250n, commitment, state, 2n, index)
        .and.to.emit(recordLog, "RecordAppended")
        .withArgs(index, KIND.TwinData, payload, at, leaf);

      expect(await recordLog.length()).to.equal(index + 1n);
      expect(await recordLog.leafAt(index)).to.equal(leaf);
      expect(await recordLog.leafHash(index, KIND.TwinData, payload, at)).to.equal(leaf);
      const t = await twins.twin(1);
      expect(t.dataSize).to.equal(250n);
      expect(t.dataVersion).to.equal(2n);
      expect(t.dataCommitment).to.equal(commitment);
      expect(t.state).to.equal(state);
      expect(await twins.dataOn(a.address)).to.equal(300n);
      expect(await twins.totalData()).to.equal(330n);
    });

    it("the first record of a twin has version 1 and the log leaf matches", async () => {
      const p = await loadFixture(twinsFixture);
      const { twins, recordLog, b } = p;
      const payload = dataPayload(4n, b.address, 7n, ZeroHash, ethers.id("s"), 1n);
      await expect(recordTwinData(p, b, 4, 7, ZeroHash, ethers.id("s")))
        .to.emit(twins, "TwinDataRecorded")
        .withArgs(4n, b.address, 7n, ZeroHash, ethers.id("s"), 1n, 3n);
      // appendedAt: the timestamp of the block of the record (the last one mined)
      expect(await recordLog.leafAt(3)).to.equal(leafOf(3n, KIND.TwinData, payload, BigInt(await time.latest())));
      expect(await twins.dataOn(b.address)).to.equal(37n);
    });

    it("shrinking the data size lowers the sums", async () => {
      const p = await loadFixture(twinsFixture);
      const { twins, a } = p;
      await recordTwinData(p, a, 1, 10, ZeroHash, ZeroHash);
      expect(await twins.dataOn(a.address)).to.equal(60n);
      expect(await twins.totalData()).to.equal(90n);
      await expect(recordTwinData(p, a, 1, 0, ZeroHash, ZeroHash))
        .to.emit(twins, "TwinDataRecorded")
        .withArgs(1n, a.address, 0n, ZeroHash, ZeroHash, 3n, 4n);
      expect(await twins.dataOn(a.address)).to.equal(50n);
      expect(await twins.totalData()).to.equal(80n);
    });

    it("attack: a BS inflates its twin's data 1000x (the device signed the true size) now fails with InvalidConsent", async () => {
      // The attack: on the old contracts the host stated any data size, so it could record 1000x what its twins hold
      // and take that much more of Eq. 6's S_ini and of the Eq. 5 weights. Now the device signs the record it
      // measured (size, commitment, state, version) and the chain takes only that.
      const p = await loadFixture(twinsFixture);
      const { twins, recordLog, a, domain } = p;
      const [commitment, state] = [ethers.id("d1-v2"), ethers.id("s1-v2")];
      const trueSize = 50n;
      const signed = await dataConsent(p, a.address, 1, trueSize, commitment, state);
      const inflated = trueSize * 1000n;
      expect(inflated).to.be.at.most(await twins.maxDataSize()); // within the bound: only the consent stops it
      const value = { twinId: 1n, bs: a.address, dataSize: inflated, dataCommitment: commitment, state, version: 2n };
      await expect(twins.connect(a).recordTwinData(1, inflated, commitment, state, signed))
        .to.be.revertedWithCustomError(twins, "InvalidConsent")
        .withArgs(1n, signerOf(domain, "TwinData", value, signed), device(0).address);
      expect(await twins.dataOn(a.address)).to.equal(150n);
      expect(await twins.totalData()).to.equal(180n);
      expect(await recordLog.length()).to.equal(3n);
      // the BS's own signature of the inflated record is not the device's either
      const byA = await a.signTypedData(domain, typesOf("TwinData"), value);
      await expect(twins.connect(a).recordTwinData(1, inflated, commitment, state, byA))
        .to.be.revertedWithCustomError(twins, "InvalidConsent")
        .withArgs(1n, a.address, device(0).address);
      // the true record goes through
      await expect(twins.connect(a).recordTwinData(1, trueSize, commitment, state, signed))
        .to.emit(twins, "TwinDataRecorded")
        .withArgs(1n, a.address, trueSize, commitment, state, 2n, 3n);
      expect(await twins.dataOn(a.address)).to.equal(100n);
    });

    it("a data consent covers every field: another commitment, state, twin or BS fails with InvalidConsent", async () => {
      const p = await loadFixture(twinsFixture);
      const { twins, a, domain } = p;
      const [d, s] = [ethers.id("d"), ethers.id("s")];
      const signed = await dataConsent(p, a.address, 1, 100, d, s);
      const check = async (twinId: bigint, commitment: string, state: string, device_: string) => {
        const value = { twinId, bs: a.address, dataSize: 100n, dataCommitment: commitment, state, version: 2n };
        await expect(twins.connect(a).recordTwinData(twinId, 100, commitment, state, signed))
          .to.be.revertedWithCustomError(twins, "InvalidConsent")
          .withArgs(twinId, signerOf(domain, "TwinData", value, signed), device_);
      };
      await check(1n, ethers.id("other"), s, device(0).address);
      await check(1n, d, ethers.id("other"), device(0).address);
      await check(2n, d, s, device(1).address); // twin 2 (also on a, also at version 2) is another user's
      // a consent to a record by another BS (here c, which does not host the twin) is not a consent to a's record
      const forC = await signTwinData(device(0), domain, { twinId: 1n, bs: p.c.address, dataSize: 100n, dataCommitment: d, state: s, version: 2n });
      await expect(twins.connect(a).recordTwinData(1, 100, d, s, forC))
        .to.be.revertedWithCustomError(twins, "InvalidConsent")
        .withArgs(1n, signerOf(domain, "TwinData", { twinId: 1n, bs: a.address, dataSize: 100n, dataCommitment: d, state: s, version: 2n }, forC), device(0).address);
      // no consent, or a malformed one
      for (const bad of ["0x", ethers.dataSlice(signed, 0, 64), highS(signed)]) {
        await expect(twins.connect(a).recordTwinData(1, 100, d, s, bad))
          .to.be.revertedWithCustomError(twins, "InvalidConsent")
          .withArgs(1n, ZeroAddress, device(0).address);
      }
      expect((await twins.twin(1)).dataVersion).to.equal(1n);
    });

    it("attack: a BS replays a used data consent (same version) to restore an earlier, larger record; now InvalidConsent", async () => {
      // The attack: the device signed 400 samples once, then 10 samples after the user deleted data; the host
      // replays the first signature to state 400 again. The signature names the record's version, which has moved on.
      const p = await loadFixture(twinsFixture);
      const { twins, a, domain } = p;
      const [d, s] = [ethers.id("d-400"), ethers.id("s-400")];
      const first = await dataConsent(p, a.address, 1, 400, d, s);
      await twins.connect(a).recordTwinData(1, 400, d, s, first); // version 2
      // the same record again right away: version 3 now
      await expect(twins.connect(a).recordTwinData(1, 400, d, s, first))
        .to.be.revertedWithCustomError(twins, "InvalidConsent")
        .withArgs(1n, signerOf(domain, "TwinData", { twinId: 1n, bs: a.address, dataSize: 400n, dataCommitment: d, state: s, version: 3n }, first), device(0).address);
      await recordTwinData(p, a, 1, 10, ethers.id("d-10"), ethers.id("s-10")); // version 3
      await expect(twins.connect(a).recordTwinData(1, 400, d, s, first))
        .to.be.revertedWithCustomError(twins, "InvalidConsent")
        .withArgs(1n, signerOf(domain, "TwinData", { twinId: 1n, bs: a.address, dataSize: 400n, dataCommitment: d, state: s, version: 4n }, first), device(0).address);
      expect((await twins.twin(1)).dataSize).to.equal(10n);
      expect((await twins.twin(1)).dataVersion).to.equal(3n);
      // a consent signed ahead for a later version is not good now either
      const ahead = await signTwinData(device(0), domain, { twinId: 1n, bs: a.address, dataSize: 400n, dataCommitment: d, state: s, version: 5n });
      await expect(twins.connect(a).recordTwinData(1, 400, d, s, ahead)).to.be.revertedWithCustomError(twins, "InvalidConsent");
    });

    it("reverts with InvalidConsent for a data consent signed under another domain (another verifying contract or chain id)", async () => {
      const p = await loadFixture(twinsFixture);
      const { twins, a, domain } = p;
      const chainId = (await ethers.provider.getNetwork()).chainId;
      const value = { twinId: 1n, bs: a.address, dataSize: 100n, dataCommitment: ZeroHash, state: ZeroHash, version: 2n };
      for (const other of [consentDomain(chainId, ethers.Wallet.createRandom().address), consentDomain(chainId + 1n, await twins.getAddress()), { ...domain, name: "dtwn" }]) {
        const sig = await signTwinData(device(0), other, value);
        await expect(twins.connect(a).recordTwinData(1, 100, ZeroHash, ZeroHash, sig))
          .to.be.revertedWithCustomError(twins, "InvalidConsent")
          .withArgs(1n, signerOf(domain, "TwinData", value, sig), device(0).address);
      }
      await expect(twins.connect(a).recordTwinData(1, 100, ZeroHash, ZeroHash, await signTwinData(device(0), domain, value))).to.emit(twins, "TwinDataRecorded");
    });

    it("reverts with NotMember, UnknownTwin and NotTwinHost", async () => {
      const p = await loadFixture(twinsFixture);
      const { twins, a, b, c, outsider } = p;
      await expect(recordTwinData(p, outsider, 1, 1, ZeroHash, ZeroHash))
        .to.be.revertedWithCustomError(twins, "NotMember")
        .withArgs(outsider.address);
      await expect(twins.connect(a).recordTwinData(9, 1, ZeroHash, ZeroHash, "0x"))
        .to.be.revertedWithCustomError(twins, "UnknownTwin")
        .withArgs(9n);
      // a consent to b's record does not make b the host
      await expect(recordTwinData(p, b, 1, 1, ZeroHash, ZeroHash))
        .to.be.revertedWithCustomError(twins, "NotTwinHost")
        .withArgs(1n, b.address, a.address);
      await expect(recordTwinData(p, c, 3, 1, ZeroHash, ZeroHash))
        .to.be.revertedWithCustomError(twins, "NotTwinHost")
        .withArgs(3n, c.address, b.address);
    });

    it("a removed host can no longer record (NotMember)", async () => {
      const p = await loadFixture(twinsFixture);
      const { twins, registry, a } = p;
      await registry.remove(a.address);
      await expect(recordTwinData(p, a, 1, 1, ZeroHash, ZeroHash))
        .to.be.revertedWithCustomError(twins, "NotMember")
        .withArgs(a.address);
    });
  });

  describe("recordTwinModels", () => {
    it("records a batch of round r as ONE TwinModel record (leaf over round, BS, twins, digests) and one TwinModelsRecorded", async () => {
      const { twins, recordLog, a, b } = await loadFixture(twinsFixture);
      const ids = [1n, 2n];
      const digests = [modelDigest("r3-t1"), modelDigest("r3-t2")];
      const payload = modelsPayload(3n, a.address, ids, digests);
      const at = await pinNextTimestamp();
      const leaf = leafOf(3n, KIND.TwinModel, payload, at);
      const tx = twins.connect(a).recordTwinModels(3, ids, digests);
      await expect(tx)
        .to.emit(twins, "TwinModelsRecorded")
        .withArgs(3n, a.address, 3n, ids, digests)
        .and.to.emit(recordLog, "RecordAppended")
        .withArgs(3n, KIND.TwinModel, payload, at, leaf);
      // exactly one record of the log for the batch, and exactly one event of the registry
      expect(await recordLog.length()).to.equal(4n);
      expect(await recordLog.leafAt(3)).to.equal(leaf);
      expect(await recordLog.leafHash(3, KIND.TwinModel, payload, at)).to.equal(leaf);
      const receipt = await (await tx).wait();
      const ours = receipt!.logs.filter((l) => l.address === twins.target).map((l) => twins.interface.parseLog(l)?.name);
      expect(ours).to.deep.equal(["TwinModelsRecorded"]);
      const appended = receipt!.logs.filter((l) => l.address === recordLog.target).map((l) => recordLog.interface.parseLog(l)?.name);
      expect(appended).to.deep.equal(["RecordAppended"]);
      // the digest is the CIDv0's: fakeCid(label) = 0x1220 || digest
      expect(ethers.concat(["0x1220", digests[0]])).to.equal(fakeCid("r3-t1"));
      // the leaf commits to each field: another round, BS, twin list or digest gives another payload
      expect(payload).to.not.equal(modelsPayload(4n, a.address, ids, digests));
      expect(payload).to.not.equal(modelsPayload(3n, b.address, ids, digests));
      expect(payload).to.not.equal(modelsPayload(3n, a.address, [1n], [digests[0]]));
      expect(payload).to.not.equal(modelsPayload(3n, a.address, ids, [digests[1], digests[0]]));
      // model records touch neither the twin's data record nor the data sums
      const t = await twins.twin(1);
      expect(t.dataVersion).to.equal(1n);
      expect(t.dataSize).to.equal(100n);
      expect(await twins.dataOn(a.address)).to.equal(150n);
      expect(await twins.totalData()).to.equal(180n);
    });

    it("a later round's batch for the same twin is a new record of its own", async () => {
      const { twins, recordLog, a, b } = await loadFixture(twinsFixture);
      await twins.connect(a).recordTwinModels(3, [1, 2], [modelDigest("r3-t1"), modelDigest("r3-t2")]);
      const d = modelDigest("r4-t2");
      const at4 = await pinNextTimestamp();
      await expect(twins.connect(a).recordTwinModels(4, [2], [d]))
        .to.emit(twins, "TwinModelsRecorded")
        .withArgs(4n, a.address, 4n, [2n], [d])
        .and.to.emit(recordLog, "RecordAppended")
        .withArgs(4n, KIND.TwinModel, modelsPayload(4n, a.address, [2n], [d]), at4, leafOf(4n, KIND.TwinModel, modelsPayload(4n, a.address, [2n], [d]), at4));
      // the same twin and digest in the same round again (e.g. a BS resending) is recorded too: the round is the BS's statement
      const resend = await twins.connect(a).recordTwinModels(4, [2], [d]);
      await expect(resend).to.emit(twins, "TwinModelsRecorded").withArgs(4n, a.address, 5n, [2n], [d]);
      // another BS's batch of its own twins
      const other = await twins.connect(b).recordTwinModels(4, [3, 4], [modelDigest("b3"), modelDigest("b4")]);
      await expect(other)
        .to.emit(twins, "TwinModelsRecorded")
        .withArgs(4n, b.address, 6n, [3n, 4n], [modelDigest("b3"), modelDigest("b4")]);
      expect(await recordLog.length()).to.equal(7n);
      expect(await recordLog.leafAt(5)).to.equal(leafOf(5n, KIND.TwinModel, modelsPayload(4n, a.address, [2n], [d]), await minedAt(resend)));
      expect(await recordLog.leafAt(6)).to.equal(leafOf(6n, KIND.TwinModel, modelsPayload(4n, b.address, [3n, 4n], [modelDigest("b3"), modelDigest("b4")]), await minedAt(other)));
    });

    it("takes a full batch of MAX_MODELS_PER_BATCH (256) twins over two bitmap words in one transaction", async () => {
      const p = await loadFixture(manyTwinsFixture);
      const { twins, recordLog, c } = p;
      expect(await twins.MAX_MODELS_PER_BATCH()).to.equal(256n);
      const ids = p.onC.slice(0, 256);
      expect(ids[0]).to.equal(5n);
      expect(ids[255]).to.equal(260n); // twins 5..255 in word 0 of c's bitmap, 256..260 in word 1
      const digests = ids.map((id) => modelDigest(`t${id}`));
      const tx = twins.connect(c).recordTwinModels(1, ids, digests);
      await expect(tx).to.emit(twins, "TwinModelsRecorded").withArgs(1n, c.address, 3n, ids, digests);
      const receipt = await (await tx).wait();
      expect(receipt!.gasUsed).to.be.below(2n ** 24n);
      expect(await recordLog.length()).to.equal(4n);
      expect(await recordLog.leafAt(3)).to.equal(leafOf(3n, KIND.TwinModel, modelsPayload(1n, c.address, ids, digests), await minedAt(tx)));
    });

    it("reverts with InvalidBatchLength for an empty batch or one of 257 twins (before the other checks)", async () => {
      const p = await loadFixture(manyTwinsFixture);
      const { twins, c } = p;
      await expect(twins.connect(c).recordTwinModels(1, [], []))
        .to.be.revertedWithCustomError(twins, "InvalidBatchLength")
        .withArgs(0n, 256n);
      // checked before the digests' number and the round
      await expect(twins.connect(c).recordTwinModels(0, [], [modelDigest("x")]))
        .to.be.revertedWithCustomError(twins, "InvalidBatchLength")
        .withArgs(0n, 256n);
      // 257 twins, all hosted by c: only the length is wrong
      const ids = p.onC;
      expect(ids.length).to.equal(257);
      const digests = ids.map((id) => modelDigest(`t${id}`));
      await expect(twins.connect(c).recordTwinModels(1, ids, digests))
        .to.be.revertedWithCustomError(twins, "InvalidBatchLength")
        .withArgs(257n, 256n);
      await expect(twins.connect(c).recordTwinModels(1, ids.slice(1), digests.slice(1))).to.emit(twins, "TwinModelsRecorded");
      // the host check in the second bitmap word: a hosts nothing there, an id past the last twin is unknown
      await expect(twins.connect(p.a).recordTwinModels(1, [1, 2, 261], digests.slice(0, 3)))
        .to.be.revertedWithCustomError(twins, "NotTwinHost")
        .withArgs(261n, p.a.address, c.address);
      await expect(twins.connect(c).recordTwinModels(1, [5, 256, 262], digests.slice(0, 3))).to.be.revertedWithCustomError(twins, "UnknownTwin").withArgs(262n);
    });

    it("reverts with BatchLengthMismatch when twins and digests differ in number, then InvalidRound for round 0", async () => {
      const { twins, a } = await loadFixture(twinsFixture);
      await expect(twins.connect(a).recordTwinModels(1, [1, 2], [modelDigest("m")]))
        .to.be.revertedWithCustomError(twins, "BatchLengthMismatch")
        .withArgs(2n, 1n);
      await expect(twins.connect(a).recordTwinModels(1, [1], [modelDigest("m"), modelDigest("n")]))
        .to.be.revertedWithCustomError(twins, "BatchLengthMismatch")
        .withArgs(1n, 2n);
      // the mismatch is checked before the round
      await expect(twins.connect(a).recordTwinModels(0, [1, 2], [modelDigest("m")]))
        .to.be.revertedWithCustomError(twins, "BatchLengthMismatch")
        .withArgs(2n, 1n);
      await expect(twins.connect(a).recordTwinModels(0, [1], [modelDigest("m")])).to.be.revertedWithCustomError(twins, "InvalidRound");
      // the round is checked before the twins (here unsorted, a zero digest and a twin of b)
      await expect(twins.connect(a).recordTwinModels(0, [2, 1], [modelDigest("m"), modelDigest("n")])).to.be.revertedWithCustomError(twins, "InvalidRound");
      await expect(twins.connect(a).recordTwinModels(0, [3], [ZeroHash])).to.be.revertedWithCustomError(twins, "InvalidRound");
      await expect(twins.connect(a).recordTwinModels(1, [1], [modelDigest("m")])).to.emit(twins, "TwinModelsRecorded");
    });

    it("reverts with TwinsNotSorted for descending or repeated twin ids, and for twin id 0", async () => {
      const { twins, a } = await loadFixture(twinsFixture);
      const digests = [modelDigest("m1"), modelDigest("m2")];
      await expect(twins.connect(a).recordTwinModels(1, [2, 1], digests)).to.be.revertedWithCustomError(twins, "TwinsNotSorted").withArgs(1n);
      await expect(twins.connect(a).recordTwinModels(1, [1, 1], digests)).to.be.revertedWithCustomError(twins, "TwinsNotSorted").withArgs(1n);
      await expect(twins.connect(a).recordTwinModels(1, [0], [digests[0]])).to.be.revertedWithCustomError(twins, "TwinsNotSorted").withArgs(0n);
      // the order is checked at each twin before that twin's digest: the zero digest of the out-of-order twin is not reached
      await expect(twins.connect(a).recordTwinModels(1, [2, 1], [digests[0], ZeroHash])).to.be.revertedWithCustomError(twins, "TwinsNotSorted").withArgs(1n);
      await expect(twins.connect(a).recordTwinModels(1, [1, 2], digests)).to.emit(twins, "TwinModelsRecorded");
    });

    it("reverts with ZeroModelDigest for a zero digest in any entry", async () => {
      const { twins, a } = await loadFixture(twinsFixture);
      await expect(twins.connect(a).recordTwinModels(1, [1], [ZeroHash])).to.be.revertedWithCustomError(twins, "ZeroModelDigest").withArgs(1n);
      await expect(twins.connect(a).recordTwinModels(1, [1, 2], [modelDigest("m"), ZeroHash])).to.be.revertedWithCustomError(twins, "ZeroModelDigest").withArgs(2n);
      // checked before the host: a zero digest for b's twin 3 or an unknown twin 9 is a ZeroModelDigest
      await expect(twins.connect(a).recordTwinModels(1, [3], [ZeroHash])).to.be.revertedWithCustomError(twins, "ZeroModelDigest").withArgs(3n);
      await expect(twins.connect(a).recordTwinModels(1, [9], [ZeroHash])).to.be.revertedWithCustomError(twins, "ZeroModelDigest").withArgs(9n);
      // a digest with a single non-zero byte is fine
      await expect(twins.connect(a).recordTwinModels(1, [1], [toBeHex(1, 32)])).to.emit(twins, "TwinModelsRecorded").withArgs(1n, a.address, 3n, [1n], [toBeHex(1, 32)]);
    });

    it("reverts with NotTwinHost for a twin on another BS and UnknownTwin for an unknown twin, in any entry", async () => {
      const { twins, a, b, c } = await loadFixture(twinsFixture);
      const d = modelDigest("m");
      await expect(twins.connect(a).recordTwinModels(1, [3], [d]))
        .to.be.revertedWithCustomError(twins, "NotTwinHost")
        .withArgs(3n, a.address, b.address);
      await expect(twins.connect(a).recordTwinModels(1, [1, 2, 4], [d, d, d]))
        .to.be.revertedWithCustomError(twins, "NotTwinHost")
        .withArgs(4n, a.address, b.address);
      // a member hosting no twin at all
      await expect(twins.connect(c).recordTwinModels(1, [1], [d]))
        .to.be.revertedWithCustomError(twins, "NotTwinHost")
        .withArgs(1n, c.address, a.address);
      // the twins are checked in order: b's twin 3 before the unsorted twin 2 behind it
      await expect(twins.connect(a).recordTwinModels(1, [3, 2], [d, d]))
        .to.be.revertedWithCustomError(twins, "NotTwinHost")
        .withArgs(3n, a.address, b.address);
      await expect(twins.connect(a).recordTwinModels(1, [1, 9], [d, d])).to.be.revertedWithCustomError(twins, "UnknownTwin").withArgs(9n);
      await expect(twins.connect(a).recordTwinModels(1, [5], [d])).to.be.revertedWithCustomError(twins, "UnknownTwin").withArgs(5n);
      // an unknown id in another word of the bitmap
      await expect(twins.connect(a).recordTwinModels(1, [1, 2n ** 255n], [d, d])).to.be.revertedWithCustomError(twins, "UnknownTwin").withArgs(2n ** 255n);
    });

    it("follows the twin's host: after a move the old host reverts with NotTwinHost and the new one records", async () => {
      const p = await loadFixture(twinsFixture);
      const { twins, associator, a, b } = p;
      const d = modelDigest("m");
      await twins.connect(associator).associate(1, b.address, SLOT, await moveConsent(p, 1, b.address, SLOT));
      await expect(twins.connect(a).recordTwinModels(1, [1], [d]))
        .to.be.revertedWithCustomError(twins, "NotTwinHost")
        .withArgs(1n, a.address, b.address);
      await expect(twins.connect(a).recordTwinModels(1, [2], [d])).to.emit(twins, "TwinModelsRecorded").withArgs(1n, a.address, 3n, [2n], [d]);
      await expect(twins.connect(b).recordTwinModels(1, [1, 3, 4], [d, d, d])).to.emit(twins, "TwinModelsRecorded").withArgs(1n, b.address, 4n, [1n, 3n, 4n], [d, d, d]);
    });

    it("reverts with NotMember for a non-member and a removed host; a reverted batch records nothing", async () => {
      const { twins, registry, recordLog, a, outsider } = await loadFixture(twinsFixture);
      const d = modelDigest("m");
      await expect(twins.connect(outsider).recordTwinModels(1, [1], [d]))
        .to.be.revertedWithCustomError(twins, "NotMember")
        .withArgs(outsider.address);
      await registry.remove(a.address);
      await expect(twins.connect(a).recordTwinModels(1, [1], [d]))
        .to.be.revertedWithCustomError(twins, "NotMember")
        .withArgs(a.address);
      expect(await recordLog.length()).to.equal(3n);
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
