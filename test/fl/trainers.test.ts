/** The pieces of the trainers that need no model: Eq. 4 from partial sums, and balancing twins over workers. */
import { expect } from "chai";
import { accumulate, balanceJobs, bsModelsFromPartials, type BsPartial, type TwinJob } from "../../src/fl/trainers";
import { aggregateAtBs } from "../../src/fl/aggregation";
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
