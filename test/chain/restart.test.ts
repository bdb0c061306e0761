/**
 * A node restart mid-run (chain/provider, chain/socketRetry): anvil with 3 s blocks and a state file is stopped
 * (SIGTERM, it dumps its chain) with a transaction still in its pool, and started again on the same port with that
 * state. Fault: the restart forgets unmined transactions, and for a few seconds nothing answers. A provider that gave
 * up at once would crash every agent; one that trusted its own nonce count would wait forever for the lost
 * transaction. Checked: requests wait through the outage, the lost transaction is sent again (same signed bytes) and
 * mined once, the mined one survives, and a node that stays down fails with what to do.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { Wallet, parseEther } from "ethers";
import { freeLocalPort, startLocalNode, type LocalNode } from "../../src/chain/localNode";
import { localProvider } from "../../src/chain/provider";

/** anvil's first dev account (public). */
const DEV_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
const DEAD = "0x000000000000000000000000000000000000dEaD";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("a node restart mid-run (chain/provider on anvil with --state)", function () {
  this.timeout(120_000);
  let dir: string;
  let node: LocalNode | undefined;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "dtwn-restart-"));
  });

  afterEach(async () => {
    await node?.stop();
    node = undefined;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("waits through the restart, sends the transaction the restart lost again, and keeps the mined one", async () => {
    const port = await freeLocalPort();
    const state = path.join(dir, "state.json");
    node = await startLocalNode({ client: "anvil", port, blockTimeSeconds: 3, stateFile: state });
    const events: string[] = [];
    const provider = localProvider(node.url, 31337, { onOutage: (e) => events.push(e) });
    provider.pollingInterval = 250;
    try {
      const wallet = new Wallet(DEV_KEY, provider);
      const mined = await (await wallet.sendTransaction({ to: DEAD, value: parseEther("1") })).wait();
      // sent right after a block: 3 s until the next one, so it is still in the pool when the node stops
      const b = await provider.getBlockNumber();
      while ((await provider.getBlockNumber()) === b) await sleep(100);
      const lost = await wallet.sendTransaction({ to: DEAD, value: parseEther("2") });
      await node.stop();
      node = undefined;
      const restarted = (async () => {
        await sleep(3_000); // down for 3 s
        node = await startLocalNode({ client: "anvil", port, blockTimeSeconds: 3, stateFile: state });
      })();
      const balance = provider.getBalance(DEAD); // asked while the node is down: answered once it is back
      const receipt = await lost.wait();
      await restarted;
      expect(events).to.deep.equal(["down", "up"]);
      expect(await balance).to.be.at.least(parseEther("1"));
      expect(provider.resent, "the restart lost the pooled transaction; the provider sent it again").to.deep.equal([lost.hash]);
      expect(receipt?.status).to.equal(1);
      expect(receipt?.hash).to.equal(lost.hash);
      expect((await provider.getTransactionReceipt(mined!.hash))?.blockNumber, "the mined transaction survives the restart").to.equal(mined!.blockNumber);
      expect(await provider.getBalance(DEAD)).to.equal(parseEther("3"));
      expect(await provider.getTransactionCount(wallet.address)).to.equal(2);
    } finally {
      provider.destroy();
    }
  });

  it("fails with what to do when the node stays down past the outage allowance", async () => {
    const port = await freeLocalPort();
    const provider = localProvider(`http://127.0.0.1:${port}`, 31337, { outageSeconds: 1 });
    try {
      const t0 = Date.now();
      let error: Error | undefined;
      await provider.getBlockNumber().catch((e: Error) => (error = e));
      expect(Date.now() - t0).to.be.at.least(900);
      expect(error?.message).to.match(/has refused connections for 1 s: start it again \(anvil --state FILE restarts with its chain\)/);
    } finally {
      provider.destroy();
    }
  });
});
