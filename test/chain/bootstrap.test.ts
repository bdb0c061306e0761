/**
 * src/chain/bootstrap.ts on the in-process chain: the twins are registered in user order (user u's twin is id u + 1,
 * which the agents' and the audit's orderings rely on), each waiting only until it is mined; a bootstrap that finds
 * them in another order (a reorg between two registrations, or a twin registered behind its back) fails with what to
 * do instead of handing the run twin ids it would misread.
 */
import { expect } from "chai";
import hre from "hardhat";
import os from "node:os";
import path from "node:path";
import { Contract } from "ethers";
import { bootstrapDeployment, bootstrapScenario, DEFAULT_BOOTSTRAP, DEV_DEVICE_SECRET, userIdOf } from "../../src/chain/bootstrap";
import { consentDomain, deviceKey, signRegistration } from "../../src/chain/consent";
import type { Deployment } from "../../src/chain/deployment";
import { nearestBsAssociation } from "../../src/twins/mdp";

const USERS = 6;
const OPTIONS = { ...DEFAULT_BOOTSTRAP, users: USERS, seed: 1, deviceSecret: DEV_DEVICE_SECRET };

async function freshDeployment(): Promise<Deployment> {
  const out = path.join(os.tmpdir(), `dtwn-bootstrap-test-${process.pid}-${Date.now()}.json`);
  return (await hre.run("dtwn-deploy", { bootstrap: false, users: USERS, bss: 2, seed: 1, out })) as Deployment;
}

describe("bootstrapDeployment (chain/bootstrap, in-process chain)", function () {
  this.timeout(120_000);

  it("registers user u's twin as id u + 1 on its nearest BS", async () => {
    const [mbs, ...rest] = await hre.ethers.getSigners();
    const bss = rest.slice(0, 2);
    const deployment = await freshDeployment();
    await bootstrapDeployment(deployment, mbs, bss, OPTIONS);
    const twins = new Contract(deployment.contracts.TwinRegistry.address, deployment.contracts.TwinRegistry.abi as never, mbs);
    const association = nearestBsAssociation(bootstrapScenario(OPTIONS, 2));
    for (let u = 0; u < USERS; u++) {
      const id: bigint = await twins.twinOfUser(userIdOf(u));
      expect(id).to.equal(BigInt(u + 1));
      expect(await twins.hostOf(id)).to.equal(bss[association[u]].address);
    }
  });

  it("fails, naming the user and saying to deploy again, when the twins are not in user order", async () => {
    const [mbs, ...rest] = await hre.ethers.getSigners();
    const bss = rest.slice(0, 2);
    const deployment = await freshDeployment();
    // user 1's twin registered before the bootstrap gets to user 0 (what a reorg between two registrations does)
    const users = new Contract(deployment.contracts.UserRegistry.address, deployment.contracts.UserRegistry.abi as never, mbs);
    const device = deviceKey(DEV_DEVICE_SECRET, 1);
    await (await users.admitUsers([userIdOf(1)], [device.address])).wait();
    const bs = bss[nearestBsAssociation(bootstrapScenario(OPTIONS, 2))[1]];
    const registry = new Contract(deployment.contracts.BSRegistry.address, deployment.contracts.BSRegistry.abi as never, mbs);
    if (!(await registry.isMember(bs.address))) await (await registry.admit(bs.address)).wait();
    const domain = consentDomain(deployment.chainId, deployment.contracts.TwinRegistry.address);
    const twins = new Contract(deployment.contracts.TwinRegistry.address, deployment.contracts.TwinRegistry.abi as never, bs);
    await (await twins.registerTwin(userIdOf(1), await signRegistration(device, domain, userIdOf(1), bs.address))).wait();
    let error: Error | undefined;
    await bootstrapDeployment(deployment, mbs, bss, OPTIONS).catch((e: Error) => (error = e));
    expect(error?.message).to.match(/user 0's twin has id 2, not 1: the twin registrations were reordered .*deploy again/);
  });
});
