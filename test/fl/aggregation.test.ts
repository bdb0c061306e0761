/** Aggregation strategies, and the equality of the paper's two-level aggregation (Eqs. 4-5) with FedAvg (Eq. 3). */
import { expect } from "chai";
import { aggregateAtBs, aggregateAtMbs, CoordinateMedian, FedAvg, Krum, strategyByName, TrimmedMean, type ModelUpdate } from "../../src/fl/aggregation";
import { flatten, type ModelWeights } from "../../src/fl/tensors";
import { mulberry32, randNormal } from "../../src/twins/random";

const SHAPES = [[3, 2], [2], [4]];

function model(rng: () => number, scale = 1, offset = 0): ModelWeights {
  return SHAPES.map((shape) => ({ shape, values: Float32Array.from({ length: shape.reduce((p, d) => p * d, 1) }, () => offset + scale * randNormal(rng)) }));
}
const upd = (weights: ModelWeights, samples: number, from?: string): ModelUpdate => ({ weights, samples, from });

describe("aggregation strategies", () => {
  it("FedAvg is the data-weighted mean, worked by hand", () => {
    const a = [{ shape: [2], values: Float32Array.from([1, 2]) }];
    const b = [{ shape: [2], values: Float32Array.from([4, 8]) }];
    const out = new FedAvg().aggregate([upd(a, 100), upd(b, 300)]);
    expect(Array.from(out[0].values)).to.deep.equal([3.25, 6.5]); // (1*100 + 4*300)/400, (2*100 + 8*300)/400
  });

  it("Eq. 4 at every BS then Eq. 5 at the MBS equals FedAvg over all twins (Eq. 3)", () => {
    const rng = mulberry32(3);
    const twins = Array.from({ length: 23 }, (_, j) => upd(model(rng), 300 + Math.floor(rng() * 600), `twin ${j}`));
    const hosts = twins.map((_, j) => j % 5);
    const bsModels = [0, 1, 2, 3, 4].map((m) => aggregateAtBs(twins.filter((_, j) => hosts[j] === m), `BS ${m}`));
    const twoLevel = flatten(aggregateAtMbs(bsModels));
    const flat = flatten(new FedAvg().aggregate(twins));
    twoLevel.forEach((v, i) => expect(v).to.be.closeTo(flat[i], 1e-5));
    expect(bsModels.reduce((s, b) => s + b.samples, 0)).to.equal(twins.reduce((s, t) => s + t.samples, 0));
  });

  it("median and trimmed mean ignore one wild model; FedAvg does not", () => {
    const rng = mulberry32(5);
    const honest = Array.from({ length: 4 }, () => upd(model(rng, 0.01, 1), 500));
    const wild = upd(model(rng, 0, 1e6), 500);
    const all = [...honest, wild];
    for (const s of [new CoordinateMedian(), new TrimmedMean(1)]) {
      for (const v of flatten(s.aggregate(all))) expect(Math.abs(v - 1)).to.be.below(0.1);
    }
    expect(Math.max(...flatten(new FedAvg().aggregate(all)))).to.be.above(1e5);
  });

  it("median of an even count averages the two middle values; trimmed mean drops both ends", () => {
    const one = (x: number) => upd([{ shape: [1], values: Float32Array.from([x]) }], 1);
    expect(new CoordinateMedian().aggregate([one(1), one(3), one(10), one(2)])[0].values[0]).to.equal(2.5);
    expect(new TrimmedMean(1).aggregate([one(1), one(3), one(10), one(2)])[0].values[0]).to.equal(2.5);
    expect(new TrimmedMean(0).aggregate([one(1), one(3)])[0].values[0]).to.equal(2);
  });

  it("Krum selects an honest model when one of six is sign-flipped or scaled", () => {
    const rng = mulberry32(8);
    const base = model(rng);
    const near = () => base.map((t) => ({ shape: t.shape, values: t.values.map((v) => v + 0.01 * randNormal(rng)) }));
    const honest = Array.from({ length: 5 }, (_, k) => upd(near(), 100, `honest ${k}`));
    const flipped = upd(base.map((t) => ({ shape: t.shape, values: t.values.map((v) => -v) })), 100, "flipped");
    const scaled = upd(base.map((t) => ({ shape: t.shape, values: t.values.map((v) => 50 * v) })), 100, "scaled");
    expect(new Krum(1).select([...honest, flipped])).to.be.below(5);
    expect(new Krum(1).select([scaled, ...honest])).to.be.above(0);
  });

  it("rejects empty input, mismatched shapes, bad sample counts, and impossible tolerances with clear errors", () => {
    const rng = mulberry32(1);
    const a = upd(model(rng), 10, "BS 0");
    const wrong = upd([{ shape: [3, 2], values: new Float32Array(6) }], 10, "BS 3");
    expect(() => new FedAvg().aggregate([])).to.throw(/nothing to aggregate/);
    expect(() => new FedAvg().aggregate([a, wrong])).to.throw(/model BS 3 has 1 weight tensors; expected 3/);
    const reshaped = upd([{ shape: [2, 3], values: new Float32Array(6) }, ...a.weights.slice(1)], 10, "BS 4");
    expect(() => new CoordinateMedian().aggregate([a, reshaped])).to.throw(/BS 4: weight tensor 0 has shape \[2, 3\]; expected \[3, 2\]/);
    expect(() => new FedAvg().aggregate([upd(a.weights, -1, "BS 1")])).to.throw(/BS 1 has -1 samples/);
    expect(() => new FedAvg().aggregate([upd(a.weights, 0)])).to.throw(/sum of D is 0/);
    expect(() => new TrimmedMean(1).aggregate([a, a])).to.throw(/needs more than 2 models, got 2/);
    expect(() => new Krum(1).aggregate([a, a, a, a])).to.throw(/needs more than 4 models, got 4/);
    expect(() => strategyByName("mean")).to.throw(/Unknown aggregation strategy "mean"; use fedavg, median, trimmed-mean or krum/);
    expect(strategyByName("krum", 2)).to.be.instanceOf(Krum);
  });
});
