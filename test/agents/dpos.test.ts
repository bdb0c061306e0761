/**
 * src/agents/dpos.ts on the in-process chain: a BS's DPoS duty elects an epoch and proposes a block only when records
 * wait to be packed (an idle epoch costs no election, a slot with nothing to pack no empty block and no approvals),
 * the other producers approve the block, and once everything is in final blocks the duty does nothing.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { DposDuty } from "../../src/agents/dpos";
import { ChainClock } from "../../src/chain/clock";
import type { Protocol } from "../../src/system/protocol";
import { appendRecords, deployDpos, enterEpoch, enterSlot } from "../consensus/dpos.helpers";

describe("agents/dpos (DposDuty)", function () {
  this.timeout(60_000);

  async function duties() {
    const d = await deployDpos({ members: 3, producersPerEpoch: 3 });
    for (const bs of d.bss) await d.election.connect(bs).registerCandidate();
    for (const bs of d.bss) await d.election.connect(bs).vote(d.bss.map((b) => b.address));
    const epoch = (await d.election.currentEpoch()) + 1n;
    await enterEpoch(d.election, epoch);
    const lines: string[] = [];
    const duty = d.bss.map((bs, i) => {
      const p = { election: d.election.connect(bs), blocks: d.blocks.connect(bs), recordLog: d.recordLog.connect(bs), clock: new ChainClock(ethers.provider) } as unknown as Protocol;
      return new DposDuty(p, bs.address, (line) => lines.push(`BS ${i}: ${line}`));
    });
    const tickAll = async () => {
      for (const t of duty) await t.tick();
    };
    return { ...d, epoch, duty, tickAll, lines };
  }

  it("with nothing to pack: no election, no block, nothing sent", async () => {
    const f = await duties();
    const nonces = await Promise.all(f.bss.map((bs) => ethers.provider.getTransactionCount(bs.address)));
    await f.tickAll();
    await enterSlot(f.election, (await f.election.currentSlot()) + 1n);
    await f.tickAll();
    expect(await f.election.isElected(f.epoch)).to.equal(false);
    expect(await f.blocks.blockCount()).to.equal(0n);
    expect(await Promise.all(f.bss.map((bs) => ethers.provider.getTransactionCount(bs.address)))).to.deep.equal(nonces);
    expect(f.duty.flatMap((t) => t.stats.errors)).to.deep.equal([]);
  });

  it("with records waiting: one BS elects the epoch, the slot's producer packs them, the others approve; then nothing more", async () => {
    const f = await duties();
    await appendRecords(f.recordLog, f.mbs, 3);
    await f.tickAll();
    await f.tickAll(); // the BSs that ticked before the proposal validate it now
    expect(await f.election.isElected(f.epoch)).to.equal(true);
    expect(f.duty.reduce((s, t) => s + t.stats.elections, 0)).to.equal(1);
    expect(f.duty.reduce((s, t) => s + t.stats.proposed, 0)).to.equal(1);
    const b = await f.blocks.getBlock(0n);
    expect([b.fromRecord, b.toRecord]).to.deep.equal([0n, 3n]);
    expect(Number(b.status)).to.equal(2); // final: the proposer and at least one approval of 3 producers
    expect(await f.blocks.packedUpTo()).to.equal(3n);
    // later slots: everything is packed, so no block (empty or not) is proposed
    for (let k = 1n; k <= 3n; k++) {
      await enterSlot(f.election, (await f.election.currentSlot()) + 1n);
      await f.tickAll();
    }
    expect(await f.blocks.blockCount()).to.equal(1n);
    expect(f.duty.flatMap((t) => t.stats.errors)).to.deep.equal([]);
    expect(f.lines.filter((l) => l.includes("proposed"))).to.have.length(1);
  });
});
