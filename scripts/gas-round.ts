/**
 * Gas of one full FL round with 5 BSs on the in-process Hardhat network, per protocol call and in total:
 *   npx hardhat run scripts/gas-round.ts
 * Setup first (not part of the round): the Ignition deployment, then the bootstrap of src/chain/bootstrap.ts with
 * 100 users (the operator admits the BSs and, in UserRegistry.admitUsers batches, the users with their device keys;
 * each twin is registered and given its data record with its user's EIP-712 consent, both checked on chain; the
 * Eq. 6 coins; producer candidates and votes), its gas per call read from the receipts of its blocks.
 * Round steps (paper Fig. 2): open round -> 5 proposals and 5 association actions -> the 100 digital-twin model records
 * (in batches) and 5 training model records -> 5 committed and
 * 5 revealed ballots -> settle (coins paid) -> global model record -> 5 attestations of the global model (the next
 * round cannot open without them) -> DPoS election -> block proposal -> approvals to finality. Each BS's action
 * lists the twins it hosts (no twin moves, so its consents are empty); a twin that moved would carry its device's
 * signature of the move (src/chain/consent.ts).
 * Prints Markdown tables (used in the README).
 */
import hre from "hardhat";
import os from "node:os";
import path from "node:path";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import { Contract, type ContractTransactionResponse, id, keccak256, toUtf8Bytes } from "ethers";
import { deploymentContracts, gasByCall, gasTableMarkdown, totalGas, type CallGas } from "../src/chain/gasByCall";
import { ballotCommitment, VERDICT, type Ballot } from "../src/chain/ballot";
import { type Deployment } from "../src/chain/deployment";
import { encodeAction, encodeRawAction, RAW_ACTION_ENTRIES } from "../src/chain/actionCodec";
import { TWIN_RECORDS_PER_TX } from "../src/agents/bsAgent";
import { merkleRoot } from "../src/chain/merkle";
import { bootstrapDeployment, DEFAULT_BOOTSTRAP, DEV_DEVICE_SECRET, userIdOf } from "../src/chain/bootstrap";
import { consentDomain, deviceKey, packConsents, signMove } from "../src/chain/consent";

const USERS = 100;
/** The users' device secret of this measurement: fixed (the public development secret), so every run is the same. */
const DEVICE_SECRET = DEV_DEVICE_SECRET;

/** The round's calls, tracked one transaction at a time (in order of first appearance). */
function add(table: CallGas[], call: string, gasUsed: bigint): void {
  let g = table.find((x) => x.call === call);
  if (!g) table.push((g = { call, calls: 0, gas: 0n }));
  g.calls++;
  g.gas += gasUsed;
}

function print(title: string, table: CallGas[], totalLabel: string, column: string): void {
  console.log(`\n${title}\n`);
  console.log(gasTableMarkdown(table, totalLabel, column));
}

async function main(): Promise<void> {
  const out = path.join(os.tmpdir(), `dtwn-gas-${Date.now()}.json`);
  const [mbs, ...rest] = await hre.ethers.getSigners();
  const bss = rest.slice(0, 5);
  // Setup: the deployment, then the bootstrap as `dtwn-deploy --bootstrap` runs it, with a fixed device secret.
  const start = await hre.ethers.provider.getBlockNumber();
  const deployment = (await hre.run("dtwn-deploy", { bootstrap: false, users: USERS, bss: 5, seed: 1, out })) as Deployment;
  const deployed = await hre.ethers.provider.getBlockNumber();
  const boot = await bootstrapDeployment(deployment, mbs, bss, { ...DEFAULT_BOOTSTRAP, users: USERS, seed: 1, deviceSecret: DEVICE_SECRET });
  const bootstrapped = await hre.ethers.provider.getBlockNumber();
  const deploymentGas = totalGas(await gasByCall(hre.ethers.provider, deploymentContracts(deployment), start, deployed));
  const setup = await gasByCall(hre.ethers.provider, deploymentContracts(deployment), deployed, bootstrapped);
  const c = (name: keyof Deployment["contracts"]) =>
    new Contract(deployment.contracts[name].address, deployment.contracts[name].abi as never, mbs);
  const rounds = c("TrainingRounds");
  const ledger = c("AssociationLedger");
  const twins = c("TwinRegistry");
  const election = c("ProducerElection");
  const blocks = c("BlockLedger");
  const recordLog = c("RecordLog");

  const gas: CallGas[] = [];
  const track = async (label: string, tx: Promise<ContractTransactionResponse>) => {
    const receipt = await (await tx).wait();
    add(gas, label, receipt!.gasUsed);
  };
  const cid = (label: string) => hre.ethers.concat(["0x1220", id(label)]);

  // 1. The MBS opens the round with the global model's CID.
  const deadline = (await time.latest()) + 600;
  await track("TrainingRounds.openRound", rounds.openRound(cid("global-0"), deadline));
  const round = await rounds.currentRound();

  // 2. Each BS commits a_i(t): its current twins with batch size 32, and 1/5 of every subchannel. A listed twin on
  // another BS would move: its user's device signs MoveTwin(twinId, bs, round) (none does here: consents are "0x").
  const count = Number(await twins.twinCount());
  const hosted = new Map<string, number[]>();
  const hostOf = new Map<number, string>();
  for (let t = 1; t <= count; t++) {
    const host: string = await twins.hostOf(t);
    hostOf.set(t, host);
    hosted.set(host, [...(hosted.get(host) ?? []), t]);
  }
  const userOf = new Map<string, number>(Array.from({ length: USERS }, (_, u) => [userIdOf(u), u]));
  const domain = consentDomain(deployment.chainId, deployment.contracts.TwinRegistry.address);
  const moveConsent = async (twinId: number, to: string) => {
    if (hostOf.get(twinId) === to) return undefined; // it stays: no consent
    const u = userOf.get((await twins.twin(twinId)).userId as string);
    if (u === undefined) throw new Error(`twin ${twinId} belongs to no bootstrapped user`);
    return signMove(deviceKey(DEVICE_SECRET, u), domain, { twinId, to, slot: round });
  };
  const subchannels = Number(await ledger.subchannels());
  // 2a. Each BS proposes its raw action (the joint action is decoded from the proposals; Algorithm 1's a_i(t)).
  for (const bs of bss) {
    await track("AssociationLedger.proposeAction", (ledger.connect(bs) as Contract).proposeAction(round, encodeRawAction(Array.from({ length: RAW_ACTION_ENTRIES }, (_, k) => ((k * 37) % 100) / 100))));
  }
  let moved = 0;
  for (const bs of bss) {
    const listed = hosted.get(bs.address) ?? [];
    const action = encodeAction({ twins: listed.map((twinId) => ({ twinId, batchSize: 32 })), tau: Array(subchannels).fill(0.2) });
    const consents = await Promise.all(listed.map((t) => moveConsent(t, bs.address)));
    moved += consents.filter((c) => c !== undefined).length;
    await track("AssociationLedger.commitAction", (ledger.connect(bs) as Contract).commitAction(round, action.twins, action.tau, packConsents(consents)));
  }

  // 3. Each BS records its twins' models of the round (the digital-twin model records, Eq. 4's inputs, which the
  // verifiers recompute it from), in batches as the agents send them, then its training model record (weighted by
  // the chain's record of its committed action).
  for (const bs of bss) {
    const mine = hosted.get(bs.address) ?? [];
    for (let k = 0; k < mine.length; k += TWIN_RECORDS_PER_TX) {
      const batch = mine.slice(k, k + TWIN_RECORDS_PER_TX);
      await track("TwinRegistry.recordTwinModels", (twins.connect(bs) as Contract).recordTwinModels(round, batch, batch.map((t) => id(`twin-${t}-round-${round}`))));
    }
  }
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
  // 7. Each BS recomputes the global model (Eq. 5 of the listed models) and attests it: the next round opens only once
  // BSs holding the quorum of the snapshot stake attested it.
  for (const bs of bss) {
    await track("TrainingRounds.attestGlobalModel", (rounds.connect(bs) as Contract).attestGlobalModel(round, true));
  }
  const [attested, disputed, quorum] = (await rounds.attestationTally(round)) as [bigint, bigint, bigint];
  if (attested < quorum || disputed !== 0n) throw new Error("the round's global model is not attested by the quorum");

  // 8. DPoS: elect at the next epoch, the slot's producer packs the records, the others approve.
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

  print(
    `Setup (not part of the round): deployment ${deploymentGas.toLocaleString("en-US")} gas, then the bootstrap of ${boot.bss.length} BSs and ${boot.twins} users (device-signed registrations and data records):`,
    setup,
    "bootstrap",
    "gas in the bootstrap",
  );
  print(`Gas of one FL round with 5 BSs (${count} twins, ${moved} moved; ${to - from} records packed into one block):`, gas, "one full round", "gas in the round");
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
