/**
 * Gas of one full FL round with 5 BSs on the in-process Hardhat network, per protocol call and in total:
 *   npx hardhat run scripts/gas-round.ts
 * Steps (paper Fig. 2): open round -> 5 association actions -> 5 training model records -> 20 verdicts ->
 * settle (coins paid) -> global model record -> DPoS election -> block proposal -> approvals to finality.
 * Prints a Markdown table (used in the README).
 */
import hre from "hardhat";
import os from "node:os";
import path from "node:path";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import { Contract, type ContractTransactionResponse, id, keccak256, toUtf8Bytes } from "ethers";
import { ballotCommitment, VERDICT, type Ballot } from "../src/chain/ballot";
import type { Deployment } from "../src/chain/deployment";
import { encodeAction } from "../src/chain/actionCodec";
import { merkleRoot } from "../src/chain/merkle";

async function main(): Promise<void> {
  const out = path.join(os.tmpdir(), `dtwn-gas-${Date.now()}.json`);
  const deployment = (await hre.run("dtwn-deploy", { bootstrap: true, users: 100, bss: 5, seed: 1, out })) as Deployment;
  const [mbs, ...rest] = await hre.ethers.getSigners();
  const bss = rest.slice(0, 5);
  const c = (name: keyof Deployment["contracts"]) =>
    new Contract(deployment.contracts[name].address, deployment.contracts[name].abi as never, mbs);
  const rounds = c("TrainingRounds");
  const ledger = c("AssociationLedger");
  const twins = c("TwinRegistry");
  const election = c("ProducerElection");
  const blocks = c("BlockLedger");
  const recordLog = c("RecordLog");

  const gas = new Map<string, { calls: number; total: bigint }>();
  const track = async (label: string, tx: Promise<ContractTransactionResponse>) => {
    const receipt = await (await tx).wait();
    const g = gas.get(label) ?? { calls: 0, total: 0n };
    g.calls++;
    g.total += receipt!.gasUsed;
    gas.set(label, g);
  };
  const cid = (label: string) => hre.ethers.concat(["0x1220", id(label)]);

  // 1. The MBS opens the round with the global model's CID.
  const deadline = (await time.latest()) + 600;
  await track("TrainingRounds.openRound", rounds.openRound(cid("global-0"), deadline));
  const round = await rounds.currentRound();

  // 2. Each BS commits a_i(t): its current twins with batch size 32, and 1/5 of every subchannel.
  const count = Number(await twins.twinCount());
  const hosted = new Map<string, number[]>();
  for (let t = 1; t <= count; t++) {
    const host = await twins.hostOf(t);
    hosted.set(host, [...(hosted.get(host) ?? []), t]);
  }
  const subchannels = Number(await ledger.subchannels());
  for (const bs of bss) {
    const action = encodeAction({
      twins: (hosted.get(bs.address) ?? []).map((twinId) => ({ twinId, batchSize: 32 })),
      tau: Array(subchannels).fill(0.2),
    });
    await track("AssociationLedger.commitAction", (ledger.connect(bs) as Contract).commitAction(round, action.twins, action.tau));
  }

  // 3. Each BS submits its training model record (weighted by the chain's record of its committed action).
  for (const bs of bss) {
    await track("TrainingRounds.submitModel", (rounds.connect(bs) as Contract).submitModel(round, cid(`model-${bs.address}`)));
  }
  // 4. Every BS commits one ballot (a verdict on each of the 4 others' models) after the deadline, then reveals it.
  await time.increaseTo(deadline + 1);
  const order: string[] = [...(await rounds.submitters(round))];
  const ballots = new Map<string, Ballot>();
  for (const verifier of bss) {
    const b: Ballot = {
      verdicts: order.map((a) => (a === verifier.address ? VERDICT.abstain : VERDICT.pass)),
      scores: order.map((a) => (a === verifier.address ? 0 : 8_900)),
      salt: keccak256(toUtf8Bytes(`salt-${verifier.address}`)),
    };
    ballots.set(verifier.address, b);
    await track("TrainingRounds.commitVerdicts", (rounds.connect(verifier) as Contract).commitVerdicts(round, ballotCommitment(round, verifier.address, b)));
  }
  for (const verifier of bss) {
    const b = ballots.get(verifier.address)!;
    await track("TrainingRounds.revealVerdicts", (rounds.connect(verifier) as Contract).revealVerdicts(round, b.verdicts, b.scores, b.salt));
  }
  // 5. Settle (every member revealed, so before the reveal window ends); 6. record the new global model.
  await track("TrainingRounds.settleRound", rounds.settleRound(round));
  const aggregated = bss.map((b) => b.address).sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));
  await track("TrainingRounds.recordGlobalModel", rounds.recordGlobalModel(round, cid("global-1"), aggregated));

  // 7. DPoS: elect at the next epoch, the slot's producer packs the records, the others approve.
  const epoch = (await election.currentEpoch()) + 1n;
  await time.increaseTo(Number(await election.epochStart(epoch)));
  await track("ProducerElection.elect", election.elect());
  const slot = await election.currentSlot();
  const producer = await election.producerOfSlot(slot);
  const from = Number(await blocks.packedUpTo());
  const to = Math.min(Number(await recordLog.length()), from + 256);
  const leaves: string[] = [];
  for (let i = from; i < to; i++) leaves.push(await recordLog.leafAt(i));
  const signer = bss.find((b) => b.address === producer)!;
  await track("BlockLedger.proposeBlock", (blocks.connect(signer) as Contract).proposeBlock(slot, to, merkleRoot(leaves)));
  const blockId = (await blocks.blockCount()) - 1n;
  for (const p of (await election.producersOf(epoch)) as string[]) {
    if (p === producer || (await blocks.getBlock(blockId)).status !== 1n) continue;
    await track("BlockLedger.validateBlock", (blocks.connect(bss.find((b) => b.address === p)!) as Contract).validateBlock(blockId, true));
  }
  if ((await blocks.getBlock(blockId)).status !== 2n) throw new Error("the block did not become final");

  let total = 0n;
  console.log(`\nGas of one FL round with 5 BSs (${to - from} records packed into one block):\n`);
  console.log("| call | calls | gas per call (mean) | gas in the round |");
  console.log("|---|---:|---:|---:|");
  for (const [label, g] of gas) {
    total += g.total;
    console.log(`| ${label} | ${g.calls} | ${(g.total / BigInt(g.calls)).toLocaleString("en-US")} | ${g.total.toLocaleString("en-US")} |`);
  }
  console.log(`| **one full round** | ${[...gas.values()].reduce((s, g) => s + g.calls, 0)} | | **${total.toLocaleString("en-US")}** |`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
