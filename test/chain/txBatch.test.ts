/**
 * src/chain/txBatch.ts on the in-process chain: calls sent back to back are collected, and {confirmAll} names a call
 * that failed on chain or that the chain no longer holds (what a reorg leaves), instead of returning as if the
 * bootstrap had landed.
 */
import { expect } from "chai";
import hre from "hardhat";
import { confirmAll, sendBatch, type SentCall } from "../../src/chain/txBatch";
import { deployProtocol } from "../fixtures";

describe("chain/txBatch", () => {
  it("collects every call it sends, and confirmAll returns once all are mined", async () => {
    const p = await deployProtocol();
    const sent: SentCall[] = [];
    await sendBatch([{ signer: p.mbs, calls: [0, 1].map((i) => ({ label: `admit BS ${i}`, send: (o: { nonce: number }) => p.registry.admit(p.bss[i].address, o) })) }], 1, sent);
    expect(sent.map((s) => s.label)).to.deep.equal(["admit BS 0", "admit BS 1"]);
    await confirmAll(sent, 1);
    expect(await p.registry.isMember(p.bss[1].address)).to.equal(true);
  });

  it("confirmAll names a call that failed on chain and says to deploy again", async () => {
    const p = await deployProtocol();
    // sent with a fixed gas limit (no estimate) while the chain does not mine, then mined: it fails on chain (a
    // non-operator admitting a BS), as a call re-run by a reorg on another state does
    await hre.network.provider.send("evm_setAutomine", [false]);
    let error: Error | undefined;
    try {
      const tx = await p.registry.connect(p.outsider).admit(p.bss[0].address, { gasLimit: 200_000 });
      await hre.network.provider.send("evm_mine", []);
      await confirmAll([{ label: "admit BS 0", tx }], 1).catch((e: Error) => (error = e));
    } finally {
      await hre.network.provider.send("evm_setAutomine", [true]);
    }
    expect(error?.message).to.match(/^admit BS 0: failed on the chain .*deploy again\.$/);
  });

  it("confirmAll names a call the chain dropped (a reorg without a resend) once its wait times out", async () => {
    const p = await deployProtocol();
    await hre.network.provider.send("evm_setAutomine", [false]);
    try {
      const tx = await p.registry.admit(p.bss[0].address);
      await hre.network.provider.send("hardhat_dropTransaction", [tx.hash]);
      let error: Error | undefined;
      await confirmAll([{ label: "admit BS 0", tx }], 1, 1_500).catch((e: Error) => (error = e));
      expect(error?.message).to.match(/^admit BS 0: not on the chain 1 blocks deep .*deploy again\.$/);
    } finally {
      await hre.network.provider.send("evm_setAutomine", [true]);
    }
  });
});
