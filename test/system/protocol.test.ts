/**
 * describeRevert names the protocol's custom errors whether the revert comes decoded (the in-process network) or as
 * bare revert data (a JSON-RPC node, the gas estimate of SerialSigner: "unknown custom error").
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { CONTRACT_NAMES, type Deployment } from "../../src/chain/deployment";
import { connectProtocol, describeRevert } from "../../src/system/protocol";
import { BlockLedger__factory, TrainingRounds__factory } from "../../typechain-types";

const deployment = {
  network: "test",
  chainId: 31337,
  deployedAt: "",
  deployer: ethers.ZeroAddress,
  operator: ethers.ZeroAddress,
  params: {},
  contracts: Object.fromEntries(CONTRACT_NAMES.map((n, k) => [n, { address: ethers.toBeHex(k + 1, 20), abi: [{}] }])),
} as unknown as Deployment;

describe("describeRevert (system/protocol)", () => {
  const p = connectProtocol(deployment, ethers.provider);

  it("decodes bare revert data in an error's data field by the contract that defines the error", () => {
    const data = BlockLedger__factory.createInterface().encodeErrorResult("BlockNotPending", [7, 2]);
    expect(describeRevert(p, Object.assign(new Error("execution reverted (unknown custom error)"), { data }))).to.equal("BlockNotPending(7, 2)");
  });

  it("decodes revert data quoted in the message (ethers' estimateGas errors)", () => {
    const data = TrainingRounds__factory.createInterface().encodeErrorResult("SubmissionTooLate", [3, 100]);
    const e = new Error(`execution reverted (unknown custom error) (action="estimateGas", data="${data}", reason=null)`);
    expect(describeRevert(p, e)).to.equal("SubmissionTooLate(3, 100)");
  });

  it("falls back to the first line of the message for data no contract knows, and for other errors", () => {
    expect(describeRevert(p, Object.assign(new Error("execution reverted\nmore"), { data: "0xdeadbeef" }))).to.equal("execution reverted");
    expect(describeRevert(p, new Error("connection refused"))).to.equal("connection refused");
    expect(describeRevert(p, "plain")).to.equal("plain");
  });
});
