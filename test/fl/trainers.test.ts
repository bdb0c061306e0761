/**
 * The trainers: the pieces that need no model (Eq. 4 from partial sums, balancing twins over workers), and every
 * twin's model returned by both trainers with the canonical Eq. 4 computed from them.
 */
import { expect } from "chai";
import { accumulate, balanceJobs, bsModelsFromPartials, InProcessTrainer, loadDatasetSpec, ProcessPoolTrainer, type BsPartial, type TrainedTwin, type TwinJob } from "../../src/fl/trainers";
import { aggregateAtBs, canonicalBsModel, type ModelUpdate } from "../../src/fl/aggregation";
import { createCnn, getModelWeights } from "../../src/fl/cnn";
import { initBackend, tensorflowThreads } from "../../src/ml/backend";
import { mulberry32 } from "../../src/twins/random";
import type { WeightTensor } from "../../src/fl/tensors";

const model = (rng: () => number): WeightTensor[] => [
  { shape: [2, 3], values: Float32Array.from({ length: 6 }, () => rng() - 0.5) },
  { shape: [3], values: Float32Array.from({ length: 3 }, () => rng()) },
];

describe("trainers: Eq. 4 from partial sums", () => {
  it("merging partial sums from two workers equals FedAvg over all the BS's twins", () => {
    const rng = mulberry32(3);
    const twins = Array.from({ length: 7 }, (_, j) => ({ twin: j, bs: j % 2, weights: model(rng), samples: 10 + 13 * j }));
    const lanes = [new Map<number, BsPartial>(), new Map<number, BsPartial>()];
    twins.forEach((t, k) => accumulate(lanes[k % 2], t.bs, t.twin, t.weights, t.samples));
    const bsModels = bsModelsFromPartials([...lanes[0].values(), ...lanes[1].values()], twins[0].weights);
    expect([...bsModels.keys()]).to.deep.equal([0, 1]);
    for (const bs of [0, 1]) {
      const mine = twins.filter((t) => t.bs === bs);
      const expected = aggregateAtBs(mine, `BS ${bs}`);
      const got = bsModels.get(bs)!;
      expect(got.samples).to.equal(expected.samples);
      got.weights.forEach((t, k) => t.values.forEach((x, i) => expect(x).to.be.closeTo(expected.weights[k].values[i], 1e-6)));
    }
  });

  it("a BS without twins gets no model", () => {
    const rng = mulberry32(4);
    const partials = new Map<number, BsPartial>();
    accumulate(partials, 3, 0, model(rng), 5);
    expect([...bsModelsFromPartials([...partials.values()], model(rng)).keys()]).to.deep.equal([3]);
  });
});

describe("trainers: balancing twins over workers", () => {
  it("puts the longest jobs first on the least loaded worker, covers every job once, and is deterministic", () => {
    const jobs: TwinJob[] = Array.from({ length: 9 }, (_, j) => ({ twin: j, bs: j % 3, indices: Array.from({ length: 100 }, (_, i) => i), batchSize: 16 + 16 * (j % 3), seed: j }));
    const settings = { learningRate: 0.1, localEpochs: 1, localSteps: 4 };
    const lanes = balanceJobs(jobs, settings, 2);
    expect(lanes.flat().map((j) => j.twin).sort((a, b) => a - b)).to.deep.equal([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    const cost = (lane: TwinJob[]) => lane.reduce((s, j) => s + Math.min(Math.ceil(100 / j.batchSize), 4) * j.batchSize, 0);
    expect(Math.abs(cost(lanes[0]) - cost(lanes[1]))).to.be.at.most(48); // within one job of each other
    expect(balanceJobs(jobs, settings, 2)).to.deep.equal(lanes);
  });
});

describe("trainers: every twin's model, and the canonical Eq. 4 from them (bit for bit on both trainers)", function () {
  this.timeout(120_000);
  const spec = { kind: "synthetic" as const, options: { train: 300, test: 50, seed: 5, noise: 70, height: 12, width: 12 } };
  const settings = { learningRate: 0.05, localEpochs: 1, localSteps: 2 };
  const bits = (w: readonly WeightTensor[]) => w.map((t) => Buffer.from(t.values.buffer, t.values.byteOffset, t.values.byteLength).toString("hex"));
  let global: WeightTensor[];
  let jobs: TwinJob[];
  let inProcess: InProcessTrainer;

  before(async () => {
    await initBackend("auto", () => undefined);
    inProcess = new InProcessTrainer(loadDatasetSpec(spec));
    const init = createCnn({ height: 12, width: 12, channels: 1 }, 4);
    global = getModelWeights(init);
    init.dispose();
    // 6 twins on 2 BSs, listed out of twin order, of different sizes and batch sizes
    jobs = [4, 1, 5, 0, 3, 2].map((j) => ({ twin: j, bs: j % 2, indices: Array.from({ length: 20 + 7 * j }, (_, i) => (j * 37 + i) % 300), batchSize: 8 + 4 * (j % 2), seed: 90 + j }));
  });

  after(async () => {
    await inProcess.close();
  });

  /** Eq. 4 by hand: ascending twin id, float64 sum of D_j w_j, one division, float32. */
  function byHand(twins: TrainedTwin[]): WeightTensor[] {
    const sorted = [...twins].sort((a, b) => a.twin - b.twin);
    const total = sorted.reduce((s, t) => s + t.samples, 0);
    return sorted[0].weights.map((t, k) => {
      const values = new Float32Array(t.values.length);
      for (let i = 0; i < values.length; i++) {
        let acc = 0;
        for (const u of sorted) acc += u.samples * u.weights[k].values[i];
        values[i] = acc / total;
      }
      return { shape: t.shape, values };
    });
  }

  it("in this process: the twins in job order, each exactly the model trainTwin gives; canonical Eq. 4 equals Eq. 4 by hand bit for bit and trainRound's BS model to rounding", async () => {
    const twins = await inProcess.trainTwins(global, jobs, settings);
    expect(twins.map((t) => t.twin)).to.deep.equal(jobs.map((j) => j.twin));
    twins.forEach((t, i) => {
      expect(t.samples).to.equal(jobs[i].indices.length);
      expect(t.bs).to.equal(jobs[i].bs);
      expect(bits(t.weights)).to.deep.equal(bits(inProcess.trainTwin(global, jobs[i], settings)));
    });
    const viaRound = await inProcess.trainRound(global, jobs, settings);
    for (const bs of [0, 1]) {
      const mine = twins.filter((t) => t.bs === bs);
      const eq4 = canonicalBsModel(mine.map((t) => ({ twinId: t.twin, samples: t.samples, weights: t.weights })));
      expect(bits(eq4.weights)).to.deep.equal(bits(byHand(mine)));
      const g = viaRound.get(bs) as ModelUpdate;
      expect(eq4.samples).to.equal(g.samples);
      let diff = 0;
      eq4.weights.forEach((t, k) => t.values.forEach((x, i) => (diff = Math.max(diff, Math.abs(x - g.weights[k].values[i])))));
      expect(diff).to.be.at.most(1e-6);
    }
  });

  it("a pool of 2 worker processes returns the same twin models, bit for bit, so the canonical Eq. 4 is the same bits", async () => {
    const pool = new ProcessPoolTrainer(spec, 2, tensorflowThreads().intraOp);
    try {
      const pooled = await pool.trainTwins(global, jobs, settings);
      const local = await inProcess.trainTwins(global, jobs, settings);
      expect(pooled.map((t) => t.twin)).to.deep.equal(jobs.map((j) => j.twin));
      pooled.forEach((t, i) => {
        expect(t.weights.every((w) => w.values instanceof Float32Array)).to.equal(true);
        expect(bits(t.weights), `twin ${t.twin}`).to.deep.equal(bits(local[i].weights));
      });
      for (const bs of [0, 1]) {
        const eq4 = (ts: TrainedTwin[]) => bits(canonicalBsModel(ts.filter((t) => t.bs === bs).map((t) => ({ twinId: t.twin, samples: t.samples, weights: t.weights }))).weights);
        expect(eq4(pooled)).to.deep.equal(eq4(local));
        expect(eq4(pooled)).to.deep.equal(bits(byHand(pooled.filter((t) => t.bs === bs))));
      }
    } finally {
      await pool.close();
    }
  });
});
