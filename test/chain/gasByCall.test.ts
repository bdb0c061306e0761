import { expect } from "chai";
import { ethers } from "hardhat";
import { Interface } from "ethers";
import { gasByCall, gasTableMarkdown, totalGas, type NamedContract } from "../../src/chain/gasByCall";
import { deployProtocol } from "../fixtures";

describe("src/chain/gasByCall", () => {
  it("labels every transaction of a block range by contract and function, and sums each receipt's gas", async () => {
    const p = await deployProtocol();
    const contracts: NamedContract[] = [
      { name: "BSRegistry", address: await p.registry.getAddress(), iface: p.registry.interface as unknown as Interface },
      { name: "ProducerElection", address: await p.election.getAddress(), iface: p.election.interface as unknown as Interface },
    ];
    const from = await ethers.provider.getBlockNumber();
    const receipts = [
      await (await p.registry.admit(p.bss[0].address)).wait(),
      await (await p.registry.admit(p.bss[1].address)).wait(),
      await (await p.registry.connect(p.bss[0]).registerMetadata(2_600_000_000n, 0, 0, "/ip4/127.0.0.1/tcp/4101")).wait(),
      await (await p.mbs.sendTransaction({ to: p.outsider.address, value: 1n })).wait(),
    ];
    const table = await gasByCall(ethers.provider, contracts, from, await ethers.provider.getBlockNumber());
    expect(table.map((g) => [g.call, g.calls])).to.deep.equal([
      ["BSRegistry.admit", 2],
      ["BSRegistry.registerMetadata", 1],
      [`transfer or call to ${p.outsider.address}`, 1],
    ]);
    expect(table[0].gas).to.equal(receipts[0]!.gasUsed + receipts[1]!.gasUsed);
    expect(table[2].gas).to.equal(21_000n);
    expect(totalGas(table)).to.equal(receipts.reduce((s, r) => s + r!.gasUsed, 0n));
    const md = gasTableMarkdown(table, "all", "gas");
    expect(md.split("\n")).to.have.length(2 + 3 + 1);
    expect(md).to.include(`| **all** | 4 | | **${totalGas(table).toLocaleString("en-US")}** |`);
  });

  it("refuses a range past the node's head, naming the missing block", async () => {
    const head = await ethers.provider.getBlockNumber();
    let error: Error | undefined;
    await gasByCall(ethers.provider, [], head, head + 2).catch((e: Error) => (error = e));
    expect(error?.message).to.include(`block ${head + 1} is not on this node`);
  });
});
