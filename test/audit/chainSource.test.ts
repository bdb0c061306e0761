/**
 * The audit's two chain sources on the real contracts (in-process Hardhat network): the live node's logs and the
 * exported chain log give the same records; a BS's twin model records of a round are the batches tagged with it.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { bytesToCid, cidToDigest } from "../../src/chain/cid";
import { CONTRACT_NAMES, type Deployment } from "../../src/chain/deployment";
import { exportChainLog, ExportedChainSource, LiveChainSource, matches, readChainLog, writeChainLog } from "../../src/audit/chainSource";
import { ChainRecords, decodeActionTwins } from "../../src/audit/records";
import { deployProtocolWithTestAdmin, fakeCid, recordTwinData, registerTwin } from "../fixtures";

/** The digest a BS records for the model CID {@link fakeCid}(label). */
const digestOf = (label: string) => cidToDigest(bytesToCid(fakeCid(label)));

/**
 * BSs a and b with twins 1, 2 (a) and 3 (b); a records its twins' models for rounds 1 and 2 (twice for twin 1), and
 * between the two batches of round 2 one of round 5. Record log: data records 0..2, then the batches 3 (round 1, a),
 * 4 (round 1, b), 5 (round 2, a), 6 (round 5, a), 7 (round 2, a), then a data record 8.
 */
async function recordedFixture() {
  const p = await loadFixture(deployProtocolWithTestAdmin);
  const [a, b] = p.bss;
  for (const bs of [a, b]) await p.registry.admit(bs.address);
  for (const [k, bs] of [a, a, b].entries()) {
    const twinId = await registerTwin(p, bs, k);
    await recordTwinData(p, bs, twinId, 100 + k, ethers.id(`d${k}`), ethers.id(`s${k}`));
  }
  await p.twins.connect(a).recordTwinModels(1, [1, 2], [digestOf("r1t1"), digestOf("r1t2")]);
  await p.twins.connect(b).recordTwinModels(1, [3], [digestOf("r1t3")]);
  await p.twins.connect(a).recordTwinModels(2, [1], [digestOf("r2t1-first")]);
  await p.twins.connect(a).recordTwinModels(5, [2], [digestOf("r5t2")]); // not round 2's batch
  await p.twins.connect(a).recordTwinModels(2, [1, 2], [digestOf("r2t1"), digestOf("r2t2")]); // twin 1 again: the later record counts
  await recordTwinData(p, a, 1, 555, ethers.id("d-later"), ethers.id("s-later"));
  const names: Record<string, { getAddress(): Promise<string> }> = { BSRegistry: p.registry, UserRegistry: p.users, TrainingCoin: p.coin, RecordLog: p.recordLog, TwinRegistry: p.twins, TrainingRounds: p.rounds, AssociationLedger: p.ledger, StakeVault: p.stake, StakeGenesis: p.genesis, ProducerElection: p.election, BlockLedger: p.blocks };
  const contracts = Object.fromEntries(await Promise.all(CONTRACT_NAMES.map(async (n) => [n, { address: await names[n].getAddress(), abi: ((names[n] as unknown as { interface: { fragments: unknown[] } }).interface.fragments) }])));
  const deployment = { network: "hardhat", chainId: 31337, deployedAt: "", deployer: p.mbs.address, operator: p.mbs.address, params: {}, contracts } as unknown as Deployment;
  return { ...p, a, b, deployment };
}

describe("src/audit: chain sources and records on the real contracts", () => {
  it("the live node's logs and the exported chain log (written and read back) are the same", async () => {
    const { deployment } = await loadFixture(recordedFixture);
    const exported = await exportChainLog(ethers.provider, deployment);
    expect(exported.logs.length).to.be.above(10);
    expect(exported.contracts.TwinRegistry).to.equal(deployment.contracts.TwinRegistry.address);
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "dtwn-chainlog-")), "chain-log.json");
    try {
      writeChainLog(file, exported);
      const back = readChainLog(file);
      expect(back).to.deep.equal(exported);
      const live = new LiveChainSource(ethers.provider);
      const offline = new ExportedChainSource(back);
      const topic = (await ethers.getContractAt("TwinRegistry", deployment.contracts.TwinRegistry.address)).interface.getEvent("TwinModelsRecorded")!.topicHash;
      for (const q of [{ address: deployment.contracts.TwinRegistry.address, topics: [topic] }, { address: deployment.contracts.TwinRegistry.address.toLowerCase(), topics: [null, ethers.toBeHex(1, 32)] }, { address: deployment.contracts.RecordLog.address, topics: [] }]) {
        const a = await live.logs(q);
        expect(a.length, JSON.stringify(q)).to.be.above(0);
        expect(await offline.logs(q)).to.deep.equal(a);
        for (const l of a) expect(matches(l, q)).to.equal(true);
      }
    } finally {
      fs.rmSync(path.dirname(file), { recursive: true, force: true });
    }
    expect(() => readChainLog("/nonexistent/chain-log.json")).to.throw(/No chain log at .*audit it with --network/);
  });

  it("a round's twin model records are the batches tagged with it, the latest record of each twin; sizes as of a position", async () => {
    const { deployment, a, b } = await loadFixture(recordedFixture);
    for (const source of [new LiveChainSource(ethers.provider), new ExportedChainSource(await exportChainLog(ethers.provider, deployment))]) {
      const records = new ChainRecords(source, deployment);
      const r1 = await records.twinModels(1, a.address);
      expect([...r1.keys()]).to.deep.equal([1, 2]);
      expect([...r1.entries()].map(([id, r]) => [id, r.twinId, r.cid, r.recordIndex])).to.deep.equal([
        [1, 1, bytesToCid(fakeCid("r1t1")), 3],
        [2, 2, bytesToCid(fakeCid("r1t2")), 3],
      ]);
      expect(r1.get(1)!.at).to.deep.equal(r1.get(2)!.at); // one batch, one event
      expect([...(await records.twinModels(1, b.address)).entries()].map(([id, r]) => [id, r.cid, r.recordIndex])).to.deep.equal([[3, bytesToCid(fakeCid("r1t3")), 4]]);
      const r2 = await records.twinModels(2, a.address);
      expect([...r2.entries()].map(([id, r]) => [id, r.cid, r.recordIndex])).to.deep.equal([
        [1, bytesToCid(fakeCid("r2t1")), 7],
        [2, bytesToCid(fakeCid("r2t2")), 7],
      ]);
      // the batch of round 5 (twin 2, between round 2's batches) is round 5's only
      const r5 = await records.twinModels(5, a.address);
      expect([...r5.entries()].map(([id, r]) => [id, r.cid, r.recordIndex])).to.deep.equal([[2, bytesToCid(fakeCid("r5t2")), 6]]);
      expect((await records.twinModels(5, b.address)).size).to.equal(0);
      // records only before a position: before the second batch of round 2, twin 1's first record of the round (and
      // not twin 2's model of round 5, recorded in between)
      const early = await records.twinModels(2, a.address, r2.get(2)!.at);
      expect([...early.entries()].map(([id, r]) => [id, r.cid, r.recordIndex])).to.deep.equal([[1, bytesToCid(fakeCid("r2t1-first")), 5]]);
      // and only after a position: after the first batch of round 2, its second one
      const late = await records.twinModels(2, a.address, undefined, early.get(1)!.at);
      expect([...late.entries()].map(([id, r]) => [id, r.recordIndex])).to.deep.equal([[1, 7], [2, 7]]);
      expect((await records.twinModels(2, a.address, undefined, r2.get(1)!.at)).size).to.equal(0);
      expect((await records.twinModels(3, a.address)).size).to.equal(0);
      const now = { blockNumber: 1e9, logIndex: 0, transactionHash: "" };
      expect([...(await records.dataSizes([1, 2, 3, 9], now)).entries()]).to.deep.equal([[1, 555], [2, 101], [3, 102], [9, 0]]);
      expect([...(await records.dataSizes([1], r2.get(1)!.at)).entries()]).to.deep.equal([[1, 100]]);
      expect(await records.rounds()).to.deep.equal([]);
      expect(await records.action(1, a.address)).to.equal(undefined);
    }
  });

  it("decodes an action's twins (6 bytes each: uint32 twin id, uint16 batch size)", () => {
    expect(decodeActionTwins("0x" + "00000001" + "0020" + "ffffffff" + "0010")).to.deep.equal([1, 4294967295]);
    expect(() => decodeActionTwins("0x0001")).to.throw(/6 bytes each/);
  });
});
