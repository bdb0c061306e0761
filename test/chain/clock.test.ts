/**
 * src/chain/clock: the chain's present as the contracts see it. Against real nodes: anvil with 2 s blocks (the
 * present is the latest block, which lags our clock by up to a block) and anvil on automine (a block per
 * transaction, stamped with the wall clock: the present is the wall clock).
 */
import { expect } from "chai";
import { ChainClock } from "../../src/chain/clock";
import { freeLocalPort, startLocalNode } from "../../src/chain/localNode";
import { localProvider } from "../../src/chain/provider";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("src/chain/clock: the chain's clock", function () {
  this.timeout(60_000);

  it("on interval mining the present is the latest block, behind the wall clock; waitPast ends once a block is past t", async () => {
    const node = await startLocalNode({ client: "anvil", port: await freeLocalPort(), blockTimeSeconds: 2 });
    const provider = localProvider(node.url);
    // A wall clock 30 s ahead of the node's: the chain's present must not follow it.
    const clock = new ChainClock(provider, 100, () => Date.now() / 1000 + 30);
    try {
      expect(await clock.isAutomine()).to.equal(false);
      const latest = await clock.latest();
      expect(await clock.now()).to.equal(latest);
      const t = latest + 3;
      expect(await clock.isPast(t)).to.equal(false);
      await clock.waitPast(t, { timeoutMs: 20_000 });
      const block = (await provider.getBlock("latest"))!;
      expect(block.timestamp).to.be.greaterThan(t); // no block at or before t can come any more
      expect(await clock.nextBlockAt()).to.equal(Math.floor(Date.now() / 1000 + 30)); // a deadline set now counts from the later of the two
    } finally {
      provider.destroy();
      await node.stop();
    }
  });

  it("on automine the present is the wall clock (no block is mined without a transaction), never before the latest block", async () => {
    const node = await startLocalNode({ client: "anvil", port: await freeLocalPort() });
    const provider = localProvider(node.url);
    const clock = new ChainClock(provider, 100);
    try {
      expect(await clock.isAutomine()).to.equal(true);
      const latest = await clock.latest();
      const t = Math.floor(Date.now() / 1000) + 1;
      await clock.waitPast(t, { timeoutMs: 10_000 });
      expect(await clock.latest()).to.equal(latest); // nothing was mined, yet the window ending at t is closed
      expect(await clock.now()).to.be.greaterThan(t);
      // A node clock ahead of ours: the present is the latest block.
      await provider.send("evm_setNextBlockTimestamp", [latest + 3600]);
      await provider.send("evm_mine", []);
      expect(await clock.now()).to.equal(latest + 3600);
    } finally {
      provider.destroy();
      await node.stop();
    }
  });

  it("waitPast gives up with what it waited for when no block comes", async () => {
    const node = await startLocalNode({ client: "anvil", port: await freeLocalPort(), blockTimeSeconds: 2 });
    const provider = localProvider(node.url);
    const clock = new ChainClock(provider, 100);
    try {
      await provider.send("evm_setIntervalMining", [0]); // the node stops mining
      await sleep(100);
      const t = (await clock.latest()) + 60;
      let error: Error | undefined;
      await clock.waitPast(t, { timeoutMs: 1_000, what: "round 3's deadline" }).catch((e: Error) => (error = e));
      expect(error?.message).to.match(/not past \d+ \(round 3's deadline\), for 1 s: is the node still mining blocks\?/);
    } finally {
      provider.destroy();
      await node.stop();
    }
  });
});
