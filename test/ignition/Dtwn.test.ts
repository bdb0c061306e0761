/**
 * The Ignition module users deploy with leaves the deployer no power (attack class 5 of the trust issue: an admin
 * above the protocol). Deployed here with the operator (the MBS) on another account, so every call the deployer
 * could make is tried as the deployer alone.
 */
import { expect } from "chai";
import { ethers, ignition } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import type { BaseContract } from "ethers";
import DtwnModule, { DtwnCoreModule } from "../../ignition/modules/Dtwn";
import { ROLES } from "../../src/chain/roles";
import {
  BlockLedger__factory,
  BSRegistry__factory,
  ProducerElection__factory,
  RecordLog__factory,
  StakeGenesis__factory,
  TrainingCoin__factory,
  TrainingRounds__factory,
  TwinRegistry__factory,
  AssociationLedger__factory,
} from "../../typechain-types";

const DEFAULT_ADMIN_ROLE = ethers.ZeroHash;

async function deployWith(module: typeof DtwnModule | typeof DtwnCoreModule) {
  const [deployer, operator, bs] = await ethers.getSigners();
  const d = await ignition.deploy(module, { parameters: { DtwnCore: { mbs: operator.address } } });
  const at = (c: { getAddress(): Promise<string> }) => c.getAddress();
  return {
    deployer,
    operator,
    bs,
    registry: BSRegistry__factory.connect(await at(d.registry), deployer),
    coin: TrainingCoin__factory.connect(await at(d.coin), deployer),
    recordLog: RecordLog__factory.connect(await at(d.recordLog), deployer),
    twins: TwinRegistry__factory.connect(await at(d.twinRegistry), deployer),
    rounds: TrainingRounds__factory.connect(await at(d.rounds), deployer),
    ledger: AssociationLedger__factory.connect(await at(d.associationLedger), deployer),
    genesis: StakeGenesis__factory.connect(await at(d.stakeGenesis), deployer),
    election: ProducerElection__factory.connect(await at(d.election), deployer),
    blocks: BlockLedger__factory.connect(await at(d.blockLedger), deployer),
  };
}

const production = () => deployWith(DtwnModule);
const coreOnly = () => deployWith(DtwnCoreModule);

/** Holders of `role` on `contract` from its RoleGranted/RoleRevoked events. */
async function holders(contract: BaseContract & { filters: { RoleGranted: unknown; RoleRevoked: unknown } }, role: string): Promise<string[]> {
  const c = contract as unknown as { queryFilter(f: unknown): Promise<{ args: { role: string; account: string }; eventName?: string; fragment?: { name: string } }[]>; filters: { RoleGranted(): unknown; RoleRevoked(): unknown } };
  const granted = await c.queryFilter(c.filters.RoleGranted());
  const revoked = await c.queryFilter(c.filters.RoleRevoked());
  const events = [...granted.map((e) => ({ e, add: true })), ...revoked.map((e) => ({ e, add: false }))].sort(
    (a, b) => (a.e as unknown as { blockNumber: number }).blockNumber - (b.e as unknown as { blockNumber: number }).blockNumber,
  );
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
    for (const c of [p.coin, p.recordLog, p.twins, p.election]) {
      expect(await c.hasRole(DEFAULT_ADMIN_ROLE, p.deployer.address)).to.equal(false);
      expect(await holders(c as never, DEFAULT_ADMIN_ROLE)).to.deep.equal([]);
    }
    const addr = (c: { getAddress(): Promise<string> }) => c.getAddress();
    const sorted = (xs: string[]) => [...xs].sort();
    expect(await holders(p.coin as never, ROLES.PROTOCOL)).to.deep.equal(sorted([await addr(p.rounds), await addr(p.genesis), await addr(p.blocks)]));
    expect(await holders(p.recordLog as never, ROLES.WRITER)).to.deep.equal(sorted([await addr(p.twins), await addr(p.rounds)]));
    expect(await holders(p.twins as never, ROLES.ASSOCIATOR)).to.deep.equal([await addr(p.ledger)]);
    expect(await holders(p.election as never, ROLES.JAILER)).to.deep.equal([await addr(p.blocks)]);
    expect(await p.rounds.actionRecords()).to.equal(await addr(p.ledger));
    expect(await p.registry.owner()).to.equal(p.operator.address);
  });

  it("the deployer can do nothing afterwards: no grant, mint, burn, record, move, jail, rewiring or operator call", async () => {
    const p = await loadFixture(production);
    const me = p.deployer.address;
    const unauthorized = async (c: BaseContract, tx: Promise<unknown>, role: string) =>
      expect(tx).to.be.revertedWithCustomError(c, "AccessControlUnauthorizedAccount").withArgs(me, role);
    for (const [c, role] of [
      [p.coin, ROLES.PROTOCOL],
      [p.recordLog, ROLES.WRITER],
      [p.twins, ROLES.ASSOCIATOR],
      [p.election, ROLES.JAILER],
    ] as const) {
      await unauthorized(c, c.grantRole(role, me), DEFAULT_ADMIN_ROLE);
      await unauthorized(c, c.grantRole(DEFAULT_ADMIN_ROLE, me), DEFAULT_ADMIN_ROLE);
    }
    await unauthorized(p.coin, p.coin.mint(me, 1n), ROLES.PROTOCOL);
    await unauthorized(p.coin, p.coin.burn(await p.rounds.getAddress(), 0n), ROLES.PROTOCOL);
    await unauthorized(p.recordLog, p.recordLog.append(0, ethers.ZeroHash), ROLES.WRITER);
    await unauthorized(p.twins, p.twins.associate(1, me), ROLES.ASSOCIATOR);
    await unauthorized(p.election, p.election.jail(me), ROLES.JAILER);
    await expect(p.rounds.wireActionRecords(me)).to.be.revertedWithCustomError(p.rounds, "AlreadyWired");
    await expect(p.registry.admit(me)).to.be.revertedWithCustomError(p.registry, "OwnableUnauthorizedAccount").withArgs(me);
    await expect(p.rounds.openRound(ethers.concat(["0x1220", ethers.id("g")]), 2n ** 40n)).to.be.revertedWithCustomError(p.rounds, "NotOperator").withArgs(me);
    await expect(p.genesis.allocate()).to.be.revertedWithCustomError(p.genesis, "NotOperator").withArgs(me);
    await expect(p.twins.registerTwin(ethers.id("u"))).to.be.revertedWithCustomError(p.twins, "NotMember").withArgs(me);
  });
});
