/** The MADDPG components' own contracts: replay memory, Ornstein-Uhlenbeck noise, soft target updates. */
import { expect } from "chai";
import { ReplayMemory } from "../../../src/agents/association/replay";
import { OrnsteinUhlenbeck } from "../../../src/agents/association/noise";
import { softUpdate } from "../../../src/agents/association/maddpg";
import { initBackend, tf } from "../../../src/ml/backend";
import { mulberry32 } from "../../../src/twins/random";

describe("replay memory", () => {
  it("stores transitions, overwrites the oldest when full, and samples only stored ones", () => {
    const mem = new ReplayMemory(3, 2, 1);
    for (let k = 0; k < 5; k++) mem.push(Float32Array.of(k, k), Float32Array.of(10 + k), -k, Float32Array.of(k + 1, k + 1));
    expect(mem.size).to.equal(3);
    const b = mem.sample(200, mulberry32(1));
    const seen = new Set<number>();
    for (let i = 0; i < b.size; i++) {
      const k = b.obs[2 * i];
      seen.add(k);
      expect(b.actions[i]).to.equal(10 + k);
      expect(b.rewards[i]).to.equal(-k);
      expect(b.nextObs[2 * i]).to.equal(k + 1);
    }
    expect([...seen].sort()).to.deep.equal([2, 3, 4]); // 0 and 1 were overwritten
  });

  it("rejects wrong shapes, non-finite rewards, and sampling when empty", () => {
    const mem = new ReplayMemory(4, 2, 1);
    expect(() => mem.sample(1, mulberry32(1))).to.throw(/empty/);
    expect(() => mem.push(Float32Array.of(1), Float32Array.of(1), 0, Float32Array.of(1, 1))).to.throw(/1 entries; the memory holds 2/);
    expect(() => mem.push(Float32Array.of(1, 1), Float32Array.of(1, 2), 0, Float32Array.of(1, 1))).to.throw(/Joint action has 2/);
    expect(() => mem.push(Float32Array.of(1, 1), Float32Array.of(1), Number.NaN, Float32Array.of(1, 1))).to.throw(/not finite/);
    expect(() => new ReplayMemory(0, 1, 1)).to.throw(/positive integer/);
  });
});

describe("Ornstein-Uhlenbeck noise", () => {
  it("is mean-reverting with the stationary std sigma / sqrt(2 theta - theta^2) and autocorrelation 1 - theta", () => {
    const ou = new OrnsteinUhlenbeck(1, mulberry32(9), 0.15, 0.2);
    const xs: number[] = [];
    for (let t = 0; t < 40_000; t++) xs.push(ou.sample()[0]);
    const tail = xs.slice(1000);
    const mean = tail.reduce((s, x) => s + x, 0) / tail.length;
    const variance = tail.reduce((s, x) => s + (x - mean) ** 2, 0) / tail.length;
    let cov = 0;
    for (let t = 1; t < tail.length; t++) cov += (tail[t] - mean) * (tail[t - 1] - mean);
    const rho = cov / (tail.length - 1) / variance;
    expect(mean).to.be.closeTo(0, 0.05);
    expect(Math.sqrt(variance)).to.be.closeTo(0.2 / Math.sqrt(2 * 0.15 - 0.15 ** 2), 0.03);
    expect(rho).to.be.closeTo(0.85, 0.02);
  });

  it("is reproducible from its seed and resets to mu", () => {
    const a = new OrnsteinUhlenbeck(3, mulberry32(4));
    const b = new OrnsteinUhlenbeck(3, mulberry32(4));
    for (let t = 0; t < 10; t++) expect(Array.from(a.sample())).to.deep.equal(Array.from(b.sample()));
    a.reset();
    const first = a.sample();
    expect(Math.abs(first[0])).to.be.below(1.5); // one step from mu = 0
  });
});

describe("soft target update (Eqs. 24-25)", () => {
  before(async () => {
    await initBackend("auto", () => undefined);
  });

  it("moves every target weight by beta towards the primary weight", () => {
    const make = (value: number) => {
      const m = tf.sequential({ layers: [tf.layers.dense({ units: 2, inputShape: [3], kernelInitializer: tf.initializers.constant({ value }), biasInitializer: tf.initializers.constant({ value }) })] });
      return m;
    };
    const primary = make(1);
    const target = make(0);
    softUpdate(target, primary, 0.1);
    for (const w of target.getWeights()) for (const x of w.dataSync()) expect(x).to.be.closeTo(0.1, 1e-6);
    softUpdate(target, primary, 0.1);
    for (const w of target.getWeights()) for (const x of w.dataSync()) expect(x).to.be.closeTo(0.19, 1e-6);
    softUpdate(target, primary, 1);
    for (const w of target.getWeights()) for (const x of w.dataSync()) expect(x).to.be.closeTo(1, 1e-6);
  });
});
