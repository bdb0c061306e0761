/**
 * The users' devices of the running system (src/system/devices.ts): on a deployment bootstrapped by the
 * `dtwn-deploy` task on the in-process network, each device signs only its own data for the BS that hosts its twin,
 * and a move only to the BS the slot's joint action gives it; the chain accepts what they sign. The same answers
 * reach an agent in another process through the devices' HTTP endpoint on 127.0.0.1.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import hre, { ethers } from "hardhat";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import { encodeAction, floorTau } from "../../src/chain/actionCodec";
import { userIdOf } from "../../src/chain/bootstrap";
import { packConsents } from "../../src/chain/consent";
import { readDeployment } from "../../src/chain/deployment";
import { dataCommitmentOf, DeviceRefused, freshDeviceSecret, HttpDeviceLink, runDevices, serveDevices, type UserDevices } from "../../src/system/devices";
import { JointActionReader } from "../../src/agents/jointAction";
import { jointActionRule } from "../../src/agents/policies";
import { connectProtocol, type Protocol } from "../../src/system/protocol";
import { buildWorld, type World } from "../../src/system/world";
import { fakeCid } from "../fixtures";

const USERS = 12;
const BSS = 3;

describe("users' devices (system/devices)", function () {
  this.timeout(120_000);
  let dir: string;
  let world: World;
  let reader: Protocol;
  let devices: UserDevices;
  let bsAddresses: string[];
  let twinIds: number[];
  const secret = freshDeviceSecret();

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "dtwn-devices-"));
    const out = path.join(dir, "deployment.json");
    const log = console.log;
    console.log = () => undefined;
    process.env.DTWN_DEVICE_SECRET = secret;
    try {
      await hre.run("dtwn-deploy", { bootstrap: true, users: USERS, bss: BSS, seed: 1, out });
    } finally {
      console.log = log;
      delete process.env.DTWN_DEVICE_SECRET;
    }
    const deployment = readDeployment(out);
    reader = connectProtocol(deployment, ethers.provider);
    world = buildWorld({ users: USERS, bss: BSS, seed: 1, samplesPerUser: [500, 700], heldOutPerBs: 60 }, 60_000);
    bsAddresses = [...(await reader.registry.members())];
    twinIds = [];
    for (let u = 0; u < USERS; u++) twinIds.push(Number(await reader.twins.twinOfUser(userIdOf(u))));
    devices = runDevices(secret, deployment, world, reader, bsAddresses, twinIds, jointActionRule("average", world.scenario, 1), 5);
  });

  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const bsSigner = async (address: string) => ethers.getSigner(address);
  const hostOf = async (u: number) => (await reader.twins.twin(twinIds[u])).bs;
  const honestRecord = async (u: number, bs?: string) => {
    const t = await reader.twins.twin(twinIds[u]);
    return { twinId: twinIds[u], bs: bs ?? t.bs, dataSize: world.userData[u].length, dataCommitment: dataCommitmentOf(world, u), state: ethers.id(`state-${u}-${t.dataVersion}`), version: t.dataVersion + 1n };
  };

  it("bootstrapped every user with the device key of the run's secret (the chain binds each user to it)", async () => {
    for (let u = 0; u < USERS; u++) expect(await reader.users.deviceOf(userIdOf(u))).to.equal((await reader.twins.twin(twinIds[u])).device);
    expect(await reader.users.userCount()).to.equal(BigInt(USERS));
  });

  it("signs its own data for its host, and the chain records it", async () => {
    const r = await honestRecord(0);
    const consent = await devices.dataConsent(0, r);
    const host = await bsSigner(r.bs);
    await expect(reader.twins.connect(host).recordTwinData(r.twinId, r.dataSize, r.dataCommitment, r.state, consent)).to.emit(reader.twins, "TwinDataRecorded");
    expect((await reader.twins.twin(r.twinId)).dataSize).to.equal(BigInt(r.dataSize));
  });

  it("refuses a size that is not its data (attack: inflate-data asks for 1000x)", async () => {
    const r = await honestRecord(1);
    await expectRefused(devices.dataConsent(1, { ...r, dataSize: r.dataSize * 1000 }), /is not its data/);
  });

  it("refuses a commitment to other data, another BS than its host, a version that is not the next, and another user's twin", async () => {
    const r = await honestRecord(1);
    await expectRefused(devices.dataConsent(1, { ...r, dataCommitment: ethers.id("other") }), /commitment is not to its data/);
    const other = bsAddresses.find((a) => a.toLowerCase() !== r.bs.toLowerCase())!;
    await expectRefused(devices.dataConsent(1, { ...r, bs: other }), /its twin is on/);
    await expectRefused(devices.dataConsent(1, { ...r, version: r.version + 1n }), /is not the next one/);
    await expectRefused(devices.dataConsent(1, { ...r, twinId: twinIds[2] }), /is not its twin/);
    await expectRefused(devices.dataConsent(USERS, r), /no user/);
  });

  it("refuses a move before its slot opened", async () => {
    await expectRefused(devices.moveConsent(0, bsAddresses[0], 1), /has not opened/);
  });

  it("signs a move only to the BS of the slot's joint action; the chain then moves the twin", async () => {
    const now = await time.latest();
    const mbs = (await ethers.getSigners())[0];
    await reader.rounds.connect(mbs).openRound(fakeCid("global-0"), now + 600);
    // what every agent derives for slot 1 (the average association from s(1))
    const joint = await new JointActionReader({ protocol: reader, world, bsAddresses, twinIds, rule: jointActionRule("average", world.scenario, 1), proposalWindowSeconds: 5, pollMs: 100 }).jointAction(1);
    // a user the joint action moves: sign to its new BS, refuse any other
    const moved: number[] = [];
    for (let n = 0; n < USERS; n++) if (bsAddresses[joint.association[n]].toLowerCase() !== (await hostOf(n)).toLowerCase()) moved.push(n);
    expect(moved.length, "the average association moves some twin off its nearest BS").to.be.greaterThan(0);
    const n = moved[0];
    const to = joint.association[n];
    for (const [i, a] of bsAddresses.entries()) if (i !== to) await expectRefused(devices.moveConsent(n, a, 1), /joint action puts its twin on BS/);
    await expectRefused(devices.moveConsent(n, ethers.Wallet.createRandom().address, 1), /is not a BS of the run/);

    // BS `to` commits its part of the joint action with its moved users' consents, which the chain checks
    const mine = joint.association.flatMap((bs, k) => (bs === to ? [k] : []));
    const consents: (string | undefined)[] = [];
    for (const k of mine) consents.push((await hostOf(k)).toLowerCase() === bsAddresses[to].toLowerCase() ? undefined : await devices.moveConsent(k, bsAddresses[to], 1));
    const enc = encodeAction({ twins: mine.map((k) => ({ twinId: twinIds[k], batchSize: joint.batchSize[k] })), tau: floorTau(joint.tau[to]) });
    await reader.ledger.connect(await bsSigner(bsAddresses[to])).commitAction(1, enc.twins, enc.tau, packConsents(consents));
    expect((await hostOf(n)).toLowerCase()).to.equal(bsAddresses[to].toLowerCase());
    expect(devices.stats.refused.length).to.be.greaterThan(0);
  });

  it("answers agents in other processes over HTTP on 127.0.0.1, refusals as refusals", async () => {
    const served = await serveDevices(devices);
    try {
      expect(served.url).to.match(/^http:\/\/127\.0\.0\.1:\d+$/);
      const link = new HttpDeviceLink(served.url);
      const r = await honestRecord(3);
      const viaHttp = await link.dataConsent(3, r);
      expect(viaHttp).to.equal(await devices.dataConsent(3, r)); // deterministic signatures: the same consent
      await expectRefused(link.dataConsent(3, { ...r, dataSize: r.dataSize + 1 }), /is not its data/);
      const res = await fetch(served.url, { method: "POST", body: JSON.stringify({ kind: "nonsense", user: 0 }) });
      expect(res.status).to.equal(403);
    } finally {
      await served.close();
    }
  });
});

async function expectRefused(p: Promise<unknown>, message: RegExp): Promise<void> {
  try {
    await p;
  } catch (e) {
    expect(e).to.be.instanceOf(DeviceRefused);
    expect((e as Error).message).to.match(message);
    return;
  }
  expect.fail(`expected the device to refuse (${message})`);
}
