/**
 * The audit's recomputation (src/audit) on a chain log built by hand with the contracts' own event encodings and
 * small models in memory: honest rounds match bit for bit; a tampered BS model, a forged global model, missing or
 * late twin model records, wrong data sizes and missing blobs are each reported; a server optimiser is replayed.
 */
import { expect } from "chai";
import { hexlify, Interface, type InterfaceAbi } from "ethers";
import { cidToBytes, cidToDigest } from "../../src/chain/cid";
import { encodeAction } from "../../src/chain/actionCodec";
import { canonicalBsModel, CanonicalEq4, FedAvg, recomputeGlobal, type ModelUpdate } from "../../src/fl/aggregation";
import { perturbed } from "../../src/fl/attacks";
import { ServerOptimizer, type ServerOptimizerConfig } from "../../src/fl/serverOptimizer";
import type { WeightTensor } from "../../src/fl/tensors";
import { encodeWeights } from "../../src/fl/weightsFormat";
import { cidOf } from "../../src/ipfs/unixfs";
import { mulberry32, randNormal } from "../../src/twins/random";
import { ExportedChainSource, CHAIN_LOG_FORMAT, type ChainLogEntry } from "../../src/audit/chainSource";
import { ChainRecords } from "../../src/audit/records";
import { auditChain, formatCheck, formatSummary, maxAbsDiff, type ModelSource } from "../../src/audit/recompute";
import { DEFAULT_AGGREGATION, type AggregationSettings } from "../../src/audit/settings";
import { AssociationLedger__factory, TrainingRounds__factory, TwinRegistry__factory } from "../../typechain-types";

const ARCH = "test-cnn";
const SHAPES = [[3, 2], [4]];
const ADDR = { TrainingRounds: "0x" + "1".repeat(40), AssociationLedger: "0x" + "2".repeat(40), TwinRegistry: "0x" + "3".repeat(40) };
const BSS = ["0x" + "b".repeat(40), "0x" + "a".repeat(40)]; // not sorted: Eq. 5 sums in address order anyway
const IFACE = {
  TrainingRounds: new Interface(TrainingRounds__factory.abi as InterfaceAbi),
  AssociationLedger: new Interface(AssociationLedger__factory.abi as InterfaceAbi),
  TwinRegistry: new Interface(TwinRegistry__factory.abi as InterfaceAbi),
};
type Name = keyof typeof IFACE;

function model(rng: () => number): WeightTensor[] {
  return SHAPES.map((shape) => ({ shape, values: Float32Array.from({ length: shape[0] * (shape[1] ?? 1) }, () => randNormal(rng)) }));
}

/** Logs in chain order: one block per transaction. */
class Chain {
  logs: ChainLogEntry[] = [];
  private block = 0;
  tx(emits: [Name, string, unknown[]][]): void {
    this.block++;
    const hash = "0x" + this.block.toString(16).padStart(64, "0");
    emits.forEach(([name, event, args], logIndex) => {
      const { topics, data } = IFACE[name].encodeEventLog(event, args);
      this.logs.push({ address: ADDR[name], blockNumber: this.block, logIndex, transactionHash: hash, topics, data });
    });
  }
}

class Blobs implements ModelSource {
  readonly map = new Map<string, Uint8Array>();
  async put(weights: WeightTensor[]): Promise<string> {
    const bytes = encodeWeights(ARCH, weights);
    const cid = await cidOf(bytes);
    this.map.set(cid, bytes);
    return cid;
  }
  async get(cid: string): Promise<Uint8Array | undefined> {
    return this.map.get(cid);
  }
}

interface Scenario {
  rounds?: number;
  /** BS b of round r submits another model (Eq. 4 plus noise). */
  tamperBs?: { round: number; bs: number };
  /** The MBS records Eq. 5 plus noise in this round. */
  forgeRound?: number;
  /** Twin model records of this BS in this round come after its submission (or are left out). */
  lateRecords?: { round: number; bs: number; omit?: boolean };
  /** Twin model records of this BS in this round are mined before the round opened. */
  earlyRecords?: { round: number; bs: number };
  /** A twin's data record claims another size than the BS trained with. */
  wrongSize?: boolean;
  server?: ServerOptimizerConfig;
}

/** Twins 1..6: BS 0 hosts 1-3, BS 1 hosts 4-6; data sizes 10 + 5 id. */
async function build(s: Scenario = {}) {
  const rng = mulberry32(11);
  const chain = new Chain();
  const blobs = new Blobs();
  const size = (id: number) => 10 + 5 * id;
  const twinsOf = (bs: number) => [1, 2, 3].map((k) => 3 * bs + k);
  for (const id of [1, 2, 3, 4, 5, 6]) chain.tx([["TwinRegistry", "TwinDataRecorded", [id, BSS[id <= 3 ? 0 : 1], size(id), "0x" + "0".repeat(64), "0x" + "0".repeat(64), 1, id - 1]]]);
  let global = model(rng);
  let globalCid = await blobs.put(global);
  const server = new ServerOptimizer(s.server);
  let record = 6;
  for (let round = 1; round <= (s.rounds ?? 2); round++) {
    const trained = await Promise.all(
      [0, 1].map(async (bs) => {
        const twins = twinsOf(bs).map((twinId) => ({ twinId, samples: size(twinId), weights: model(rng) }));
        return { twins, cids: await Promise.all(twins.map((t) => blobs.put(t.weights))) };
      }),
    );
    const recordTx = (bs: number): [Name, string, unknown[]][] => {
      const { twins, cids } = trained[bs];
      // one record of the log for the batch; the CIDs (CIDv0) as their digests
      return [["TwinRegistry", "TwinModelsRecorded", [round, BSS[bs], record++, twins.map((t) => t.twinId), cids.map(cidToDigest)]]];
    };
    const early = s.earlyRecords?.round === round ? s.earlyRecords.bs : undefined;
    if (early !== undefined) chain.tx(recordTx(early));
    chain.tx([["TrainingRounds", "RoundOpened", [round, cidToBytes(globalCid), 1000 * round, 1000 * round + 60, 1000 * round + 90, 1000 * round - 1]]]);
    const passed: ModelUpdate[] = [];
    for (const bs of [0, 1]) {
      const ids = twinsOf(bs);
      const enc = encodeAction({ twins: ids.map((twinId) => ({ twinId, batchSize: 16 })), tau: [0.5] });
      const committedSize = ids.reduce((t, id) => t + size(id), 0);
      chain.tx([
        ["AssociationLedger", "ActionCommitted", [round, BSS[bs], hexlify(enc.twins), hexlify(enc.tau)]],
        ["AssociationLedger", "ActionWeighed", [round, BSS[bs], ids.length, committedSize]],
      ]);
      if (s.wrongSize && round === 1 && bs === 0) chain.tx([["TwinRegistry", "TwinDataRecorded", [1, BSS[0], 999, "0x" + "0".repeat(64), "0x" + "0".repeat(64), 2, record++]]]); // after the commitment: ignored
      const { twins } = trained[bs];
      const late = s.lateRecords?.round === round && s.lateRecords.bs === bs;
      if (!late && early !== bs) chain.tx(recordTx(bs));
      let g = canonicalBsModel(twins).weights;
      if (s.tamperBs?.round === round && s.tamperBs.bs === bs) g = perturbed(g, 1e-3, rng);
      const cid = await blobs.put(g);
      chain.tx([["TrainingRounds", "ModelSubmitted", [round, BSS[bs], cidToBytes(cid), committedSize, ids.length, record++]]]);
      if (late && !s.lateRecords?.omit) chain.tx(recordTx(bs));
      passed.push({ weights: g, samples: committedSize, from: BSS[bs] });
    }
    const honest = recomputeGlobal(global, passed, new FedAvg(), server);
    global = s.forgeRound === round ? perturbed(honest, 0.01, rng) : honest;
    globalCid = await blobs.put(global);
    chain.tx([["TrainingRounds", "GlobalModelRecorded", [round, cidToBytes(globalCid), [...BSS].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1))]]]);
  }
  const source = new ExportedChainSource({ format: CHAIN_LOG_FORMAT, network: "test", chainId: 1, latestBlock: 0, exportedAt: "", contracts: ADDR, logs: chain.logs });
  const contracts = Object.fromEntries(Object.entries(ADDR).map(([n, address]) => [n, { address, abi: IFACE[n as Name].fragments }]));
  return { records: new ChainRecords(source, { contracts }), blobs };
}

const settings = (server?: ServerOptimizerConfig): AggregationSettings => ({ ...DEFAULT_AGGREGATION, server: server ?? null });
const statuses = (r: Awaited<ReturnType<typeof auditChain>>) => r.checks.map((c) => `${c.round} ${c.kind === "bs" ? BSS.indexOf((c.bs as string).toLowerCase()) : "global"} ${c.status}`);

describe("src/audit: recomputing Eq. 4 and Eq. 5 from the chain's records", () => {
  it("honest rounds: every BS model and every global model matches, bit for bit (same CID)", async () => {
    const { records, blobs } = await build();
    const r = await auditChain(records, blobs, settings());
    expect(statuses(r)).to.deep.equal(["1 0 match", "1 1 match", "1 global match", "2 0 match", "2 1 match", "2 global match"]);
    expect(r.ok).to.equal(true);
    expect(r.counts).to.deep.equal({ match: 6, mismatch: 0, unavailable: 0 });
    for (const c of r.checks) expect(c.recomputedCid).to.equal(c.cid);
    expect(formatCheck(r.checks[0])).to.match(/^round 1 {2}BS 0x[bB]{40} {2}Eq\. 4 over 3 twin models +match$/);
    expect(formatCheck(r.checks[2])).to.match(/^round 1 {2}global model +Eq\. 5 over 2 BS models +match$/);
    expect(formatSummary(r)).to.match(/^6 models in 2 rounds: 6 match, 0 mismatch, 0 unavailable/);
    // one round only
    expect(statuses(await auditChain(records, blobs, settings(), { round: 2 }))).to.deep.equal(["2 0 match", "2 1 match", "2 global match"]);
    let message = "";
    await auditChain(records, blobs, settings(), { round: 3 }).catch((e: Error) => (message = e.message));
    expect(message).to.match(/round 3 was never opened on this chain \(rounds: 1\.\.2\)/);
  });

  it("a BS model that is not Eq. 4 of its twin model records is a mismatch with its largest difference", async () => {
    const { records, blobs } = await build({ tamperBs: { round: 2, bs: 1 } });
    const r = await auditChain(records, blobs, settings());
    expect(statuses(r)).to.deep.equal(["1 0 match", "1 1 match", "1 global match", "2 0 match", "2 1 mismatch", "2 global match"]);
    const bad = r.checks[4];
    expect(bad.maxAbsDiff).to.be.above(1e-5).and.below(1e-2);
    expect(formatCheck(bad)).to.match(/mismatch \(max \|diff\| \d\.\de-\d\)$/);
    expect(r.ok).to.equal(false);
  });

  it("a forged global model is a mismatch in its round; the next round, recomputed from it, matches", async () => {
    const { records, blobs } = await build({ forgeRound: 1 });
    const r = await auditChain(records, blobs, settings());
    expect(statuses(r)).to.deep.equal(["1 0 match", "1 1 match", "1 global mismatch", "2 0 match", "2 1 match", "2 global match"]);
    expect(r.checks[2].maxAbsDiff).to.be.above(1e-3).and.below(0.1);
  });

  it("twin model records missing, mined after the submission or before the round opened make the BS model a mismatch", async () => {
    for (const scenario of [{ lateRecords: { round: 1, bs: 0, omit: true } }, { lateRecords: { round: 1, bs: 0 } }, { earlyRecords: { round: 1, bs: 0 } }]) {
      const { records, blobs } = await build(scenario);
      const r = await auditChain(records, blobs, settings(), { round: 1 });
      expect(statuses(r)).to.deep.equal(["1 0 mismatch", "1 1 match", "1 global match"]);
      expect(r.checks[0].reason).to.match(/no twin model record of round 1 between its opening and the submission for 3 of the action's 3 twins \(1, 2, 3\)/);
    }
  });

  it("takes the data sizes recorded when the action was committed (a later data record does not count)", async () => {
    const { records, blobs } = await build({ wrongSize: true });
    expect((await auditChain(records, blobs, settings(), { round: 1 })).ok).to.equal(true);
    const sizes = await records.dataSizes([1, 2], { blockNumber: 1e9, logIndex: 0, transactionHash: "" });
    expect([...sizes.entries()]).to.deep.equal([[1, 999], [2, 20]]);
  });

  it("a model no store has is unavailable (and named); the other checks go on", async () => {
    const { records, blobs } = await build();
    const [round1] = await records.rounds(1);
    const twins = await records.twinModels(1, BSS[1]);
    blobs.map.delete(twins.get(5)!.cid);
    blobs.map.delete(round1.globalCid);
    const r = await auditChain(records, blobs, settings(), { round: 1 });
    expect(statuses(r)).to.deep.equal(["1 0 match", "1 1 unavailable", "1 global unavailable"]);
    expect(r.checks[1].reason).to.equal(`twin 5's model ${twins.get(5)!.cid} not found`);
    expect(formatCheck(r.checks[2])).to.match(/unavailable \(the round's global model Qm\w+ not found\)$/);
    expect(r.ok).to.equal(false);
  });

  it("replays a server optimizer from round 1: with the right settings every round matches, with plain Eq. 5 they do not", async () => {
    const server: ServerOptimizerConfig = { kind: "momentum", learningRate: 1, momentum: 0.9 };
    const { records, blobs } = await build({ rounds: 3, server });
    expect((await auditChain(records, blobs, settings(server))).ok).to.equal(true);
    // round 3 alone: the state of rounds 1 and 2 is replayed silently
    expect(statuses(await auditChain(records, blobs, settings(server), { round: 3 }))).to.deep.equal(["3 0 match", "3 1 match", "3 global match"]);
    // round 1 of momentum equals plain Eq. 5 (no velocity yet); later rounds do not
    expect(statuses(await auditChain(records, blobs, settings())).filter((x) => x.includes("global"))).to.deep.equal(["1 global match", "2 global mismatch", "3 global mismatch"]);
    // without round 1's models the state cannot be replayed: round 3 is unavailable, not a false mismatch
    const [r1] = await records.rounds(1);
    blobs.map.delete(r1.globalCid);
    const r = await auditChain(records, blobs, settings(server), { round: 3 });
    expect(r.checks[2].status).to.equal("unavailable");
    expect(r.checks[2].reason).to.match(/server optimizer's state could not be replayed past round 1/);
  });
});

describe("canonical Eq. 4", () => {
  const rng = mulberry32(5);
  const twins = [7, 2, 9, 4].map((twinId) => ({ twinId, samples: 100 + 37 * twinId, weights: model(rng) }));

  it("does not depend on the order the twins are given in, and equals the float64 sum by hand divided once", () => {
    const a = canonicalBsModel(twins);
    const b = canonicalBsModel([...twins].reverse());
    expect(maxAbsDiff(a.weights, b.weights)).to.equal(0);
    const sorted = [...twins].sort((x, y) => x.twinId - y.twinId);
    const total = sorted.reduce((s, t) => s + t.samples, 0);
    expect(a.samples).to.equal(total);
    a.weights.forEach((t, k) =>
      t.values.forEach((v, i) => {
        let acc = 0;
        for (const u of sorted) acc += u.samples * u.weights[k].values[i];
        expect(v).to.equal(Math.fround(acc / total));
      }),
    );
  });

  it("refuses twins out of ascending order, bad sample counts, other shapes, and nothing to aggregate", () => {
    const eq4 = new CanonicalEq4();
    eq4.add(twins[0]);
    expect(() => eq4.add(twins[1])).to.throw(/twin 2 comes after twin 7/);
    expect(() => eq4.add({ ...twins[2], samples: 1.5 })).to.throw(/twin 9 has 1.5 samples/);
    expect(() => eq4.add({ ...twins[2], weights: twins[2].weights.slice(0, 1) })).to.throw(/has 1 weight tensors; expected 2/);
    expect(() => new CanonicalEq4().result()).to.throw(/no twin models/);
    const empty = new CanonicalEq4();
    empty.add({ ...twins[0], samples: 0 });
    expect(() => empty.result()).to.throw(/carry no samples/);
  });

  it("maxAbsDiff: 0 for equal models, the largest difference otherwise, Infinity for other shapes or a lone NaN", () => {
    const w = twins[0].weights;
    expect(maxAbsDiff(w, w)).to.equal(0);
    const v = w.map((t) => ({ shape: t.shape, values: t.values.map((x, i) => (i === 1 ? x + 0.5 : x)) }));
    expect(maxAbsDiff(w, v)).to.be.closeTo(0.5, 1e-6);
    expect(maxAbsDiff(w, w.slice(0, 1))).to.equal(Infinity);
    const nan = w.map((t) => ({ shape: t.shape, values: t.values.map((x, i) => (i === 0 ? NaN : x)) }));
    expect(maxAbsDiff(w, nan)).to.equal(Infinity);
    expect(maxAbsDiff(nan, nan)).to.equal(0);
  });
});
