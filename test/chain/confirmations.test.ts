/**
 * localProvider with confirmations against anvil with 1 s blocks: what it shows is the chain c - 1 blocks back
 * (views, events, the block number, receipts), and a transaction of its own that a reorg dropped is sent again as
 * the same signed bytes (attack/fault: a block producer or a reorg dropping a BS's model record; the BS would wait
 * for it forever, or, reading the head, act on a record that is gone).
 */
import { expect } from "chai";
import { Wallet, parseEther, type TransactionReceipt } from "ethers";
import { freeLocalPort, startLocalNode, type LocalNode } from "../../src/chain/localNode";
import { localProvider, type LocalJsonRpcProvider } from "../../src/chain/provider";

/** anvil's first dev account (public). */
const DEV_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
const DEAD = "0x000000000000000000000000000000000000dEaD";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("localProvider with confirmations (chain/provider, on anvil with 1 s blocks)", function () {
  this.timeout(90_000);
  let node: LocalNode;
  let head: LocalJsonRpcProvider;
  let deep: LocalJsonRpcProvider;

  beforeEach(async () => {
    node = await startLocalNode({ client: "anvil", port: await freeLocalPort(), blockTimeSeconds: 1 });
    head = localProvider(node.url, 31337);
    deep = localProvider(node.url, 31337, { confirmations: 4 });
    deep.pollingInterval = 250;
    await sleep(4_500); // a few blocks to reorganise
  });

  afterEach(async () => {
    head.destroy();
    deep.destroy();
    await node.stop();
  });

  it("refuses a confirmation count below 1", () => {
    expect(() => localProvider(node.url, 31337, { confirmations: 0 })).to.throw(/at least 1/);
  });

  it("reads 3 blocks behind the head: block number, latest block, balances, logs and receipts", async () => {
    const n = await head.getBlockNumber();
    expect(await deep.getBlockNumber()).to.be.within(n - 4, n - 3);
    expect((await deep.getBlock("latest"))!.number).to.be.within(n - 4, n - 3);
    const wallet = new Wallet(DEV_KEY, head);
    const tx = await wallet.sendTransaction({ to: DEAD, value: parseEther("1") });
    let mined: TransactionReceipt | null = null;
    while (!mined) {
      mined = await head.getTransactionReceipt(tx.hash);
      if (!mined) await sleep(50);
    }
    // mined, but not yet 4 deep (1 s blocks: checked well within 3 s): the deep view has neither the receipt nor the
    // balance
    expect(await deep.getTransactionReceipt(tx.hash)).to.equal(null);
    expect(await deep.getBalance(DEAD)).to.equal(0n);
    const viaDeep = (await deep.getTransaction(tx.hash))!;
    const confirmed = (await viaDeep.wait())!;
    expect(confirmed.blockNumber).to.equal(mined.blockNumber);
    expect(await head.getBlockNumber()).to.be.at.least(mined.blockNumber + 3);
    expect(await deep.getBalance(DEAD)).to.equal(parseEther("1"));
    // logs: an ERC-20-free check through an empty filter range past the confirmed block
    expect(await deep.getLogs({ fromBlock: (await head.getBlockNumber()) + 10 })).to.deep.equal([]);
  });

  it("sends a dropped transaction again after a reorg: same hash and nonce, mined once, wait() resolves", async () => {
    const wallet = new Wallet(DEV_KEY, deep);
    const nonce = await head.getTransactionCount(wallet.address);
    const tx = await wallet.sendTransaction({ to: DEAD, value: parseEther("2") });
    let first: TransactionReceipt | null = null;
    while (!first) {
      first = await head.getTransactionReceipt(tx.hash);
      await sleep(100);
    }
    await head.send("anvil_reorg", [2, []]); // the block with the transaction is gone, and so is the transaction
    expect(await head.getTransactionReceipt(tx.hash)).to.equal(null);
    expect(await head.getTransaction(tx.hash)).to.equal(null);
    const receipt = (await tx.wait())!;
    expect(deep.resent).to.deep.equal([tx.hash]);
    expect(receipt.hash).to.equal(tx.hash);
    expect(receipt.status).to.equal(1);
    expect(await head.getTransactionCount(wallet.address)).to.equal(nonce + 1); // one transaction, not two
    expect(await head.getBalance(DEAD)).to.equal(parseEther("2"));
  });

  it("keeps a dropped transaction it could not send again (the node refused: nonce too low, as in a race with its own reorg) and sends it once the node takes it", async () => {
    const refusals: string[] = [];
    const racing = localProvider(node.url, 31337, { confirmations: 4, onResend: (hash, error) => error !== undefined && refusals.push(`${hash}: ${error}`) });
    racing.pollingInterval = 250;
    try {
      const wallet = new Wallet(DEV_KEY, racing);
      const nonce = await head.getTransactionCount(wallet.address);
      const tx = await wallet.sendTransaction({ to: DEAD, value: parseEther("3") });
      while (!(await head.getTransactionReceipt(tx.hash))) await sleep(100);
      await head.send("anvil_reorg", [2, []]);
      // the node's account state says the nonce is used (what a resend racing the reorg saw): the resend is refused
      await head.send("anvil_setNonce", [wallet.address, `0x${(nonce + 1).toString(16)}`]);
      const waited = tx.wait();
      while (refusals.length === 0) await sleep(100);
      expect(refusals[0]).to.match(/nonce/i);
      expect(racing.resent).to.deep.equal([]);
      await head.send("anvil_setNonce", [wallet.address, `0x${nonce.toString(16)}`]);
      const receipt = (await waited)!;
      expect(racing.resent).to.deep.equal([tx.hash]);
      expect(receipt.status).to.equal(1);
      expect(await head.getTransactionCount(wallet.address)).to.equal(nonce + 1);
      expect(await head.getBalance(DEAD)).to.equal(parseEther("3"));
    } finally {
      racing.destroy();
    }
  });
});
