/**
 * The Ignition module users deploy with leaves the deployer no power (attack class 5 of the trust issue: an admin
 * above the protocol). Deployed here with the operator (the MBS) on another account, so every call the deployer
 * could make is tried as the deployer alone.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import type { BaseContract } from "ethers";
import DtwnModule, { DtwnCoreModule } from "../../ignition/modules/Dtwn";
import { ROLES } from "../../src/chain/roles";
import { deployModule } from "../fixtures";

const DEFAULT_ADMIN_ROLE = ethers.ZeroHash;

/** The protocol with the operator on signer 1; every contract is connected as the deployer (signer 0). */
async function deployWith(module: typeof DtwnModule | typeof DtwnCoreModule) {
  const [deployer, operator] = await ethers.getSigners();
  return { ...(await deployModule(module, { DtwnCore: { mbs: operator.address } })), deployer, operator };
}

const production = () => deployWith(DtwnModule);
const coreOnly = () => deployWith(DtwnCoreModule);

interface RoleEvent {
  blockNumber: number;
  args: { role: string; account: string };
}
interface AccessControlled {
  filters: { RoleGranted(): unknown; RoleRevoked(): unknown };
  queryFilter(filter: unknown): Promise<RoleEvent[]>;
}

/** Holders of `role` on `contract` from its RoleGranted/RoleRevoked events. */
async function holders(contract: BaseContract, role: string): Promise<string[]> {
  const c = contract as unknown as AccessControlled;
  const events = [
    ...(await c.queryFilter(c.filters.RoleGranted())).map((e) => ({ e, add: true })),
    ...(await c.queryFilter(c.filters.RoleRevoked())).map((e) => ({ e, add: false })),
  ].sort((a, b) => a.e.blockNumber - b.e.blockNumber);
  const set = new Set<string>();
  for (const { e, add } of events) {
    if (e.args.role !== role) continue;
    if (add) set.add(e.args.account);
    else set.delete(e.args.account);
  }
  return [...set].sort();
}

describe("ignition/modules/Dtwn", () => {
  it("the core module alone leaves the deployer an admin that can grant itself minting (the attack the full module stops)", async () => {
    const p = await loadFixture(coreOnly);
    expect(await p.coin.hasRole(DEFAULT_ADMIN_ROLE, p.deployer.address)).to.equal(true);
    await p.coin.grantRole(ROLES.PROTOCOL, p.deployer.address);
    await expect(p.coin.mint(p.deployer.address, 1n)).to.emit(p.coin, "Transfer");
  });

  it("no account holds DEFAULT_ADMIN_ROLE on any contract, and every role is held exactly by the contracts wired to it", async () => {
    const p = await loadFixture(production);
    for (const c of [p.coin, p.stake, p.recordLog, p.twins, p.election]) {
      expect(await c.hasRole(DEFAULT_ADMIN_ROLE, p.deployer.address)).to.equal(false);
      expect(await holders(c, DEFAULT_ADMIN_ROLE)).to.deep.equal([]);
    }
    const addr = (c: { getAddress(): Promise<string> }) => c.getAddress();
    const sorted = (xs: string[]) => [...xs].sort();
    expect(await holders(p.coin, ROLES.PROTOCOL)).to.deep.equal([await addr(p.stake)]);
    expect(await holders(p.stake, ROLES.PROTOCOL)).to.deep.equal(sorted([await addr(p.rounds), await addr(p.genesis), await addr(p.blocks)]));
    expect(await holders(p.recordLog, ROLES.WRITER)).to.deep.equal(sorted([await addr(p.twins), await addr(p.rounds)]));
    expect(await holders(p.twins, ROLES.ASSOCIATOR)).to.deep.equal([await addr(p.ledger)]);
    expect(await holders(p.election, ROLES.JAILER)).to.deep.equal([await addr(p.blocks)]);
    expect(await p.rounds.actionRecords()).to.equal(await addr(p.ledger));
    expect(await p.registry.owner()).to.equal(p.operator.address);
    // the end users' device keys: the twin registry reads them from the deployed UserRegistry, gated by the same registry
    expect(await p.twins.users()).to.equal(await addr(p.users));
    expect(await p.users.registry()).to.equal(await addr(p.registry));
    expect(await p.users.userCount()).to.equal(0n);
  });

  it("the deployer can do nothing afterwards: no grant, mint, burn, record, move, jail, rewiring, user admission or operator call", async () => {
    const p = await loadFixture(production);
    const me = p.deployer.address;
    const unauthorized = async (c: BaseContract, tx: Promise<unknown>, role: string) =>
      expect(tx).to.be.revertedWithCustomError(c, "AccessControlUnauthorizedAccount").withArgs(me, role);
    for (const [c, role] of [
      [p.coin, ROLES.PROTOCOL],
      [p.stake, ROLES.PROTOCOL],
      [p.recordLog, ROLES.WRITER],
      [p.twins, ROLES.ASSOCIATOR],
      [p.election, ROLES.JAILER],
    ] as const) {
      await unauthorized(c, c.grantRole(role, me), DEFAULT_ADMIN_ROLE);
      await unauthorized(c, c.grantRole(DEFAULT_ADMIN_ROLE, me), DEFAULT_ADMIN_ROLE);
    }
    await unauthorized(p.coin, p.coin.mint(me, 1n), ROLES.PROTOCOL);
    await unauthorized(p.coin, p.coin.burn(await p.rounds.getAddress(), 0n), ROLES.PROTOCOL);
    await unauthorized(p.stake, p.stake.credit(me, 1n), ROLES.PROTOCOL);
    await unauthorized(p.stake, p.stake.slash(await p.rounds.getAddress(), 1n), ROLES.PROTOCOL);
    await unauthorized(p.recordLog, p.recordLog.append(0, ethers.ZeroHash), ROLES.WRITER);
    await unauthorized(p.twins, p.twins.associate(1, me, 0, "0x"), ROLES.ASSOCIATOR);
    await unauthorized(p.election, p.election.jail(me), ROLES.JAILER);
    await expect(p.rounds.wireActionRecords(me)).to.be.revertedWithCustomError(p.rounds, "AlreadyWired");
    await expect(p.registry.admit(me)).to.be.revertedWithCustomError(p.registry, "OwnableUnauthorizedAccount").withArgs(me);
    await expect(p.rounds.openRound(ethers.concat(["0x1220", ethers.id("g")]), 2n ** 40n)).to.be.revertedWithCustomError(p.rounds, "NotOperator").withArgs(me);
    await expect(p.genesis.allocate()).to.be.revertedWithCustomError(p.genesis, "NotOperator").withArgs(me);
    await expect(p.twins.registerTwin(ethers.id("u"), "0x")).to.be.revertedWithCustomError(p.twins, "NotMember").withArgs(me);
    // no end user (device key) either: only the operator admits users, and the deployer is not the operator
    await expect(p.users.admitUsers([ethers.id("u")], [me])).to.be.revertedWithCustomError(p.users, "NotOperator").withArgs(me);
    expect(await p.users.isUser(ethers.id("u"))).to.equal(false);
    // the same call by the operator goes through: the refusal above is the deployer's lack of power, nothing else
    await expect(p.users.connect(p.operator).admitUsers([ethers.id("u")], [me])).to.emit(p.users, "UserAdmitted").withArgs(ethers.id("u"), me);
  });
});
