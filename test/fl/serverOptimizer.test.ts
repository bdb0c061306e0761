/** The MBS update after Eq. 5: plain (eta 1, beta 0) is Eq. 5 itself; with momentum it is FedAvgM. */
import { expect } from "chai";
import { ServerOptimizer } from "../../src/fl/serverOptimizer";
import type { WeightTensor } from "../../src/fl/tensors";

const w = (...xs: number[]): WeightTensor[] => [{ shape: [xs.length], values: Float32Array.from(xs) }];

describe("server optimizer (after Eq. 5)", () => {
  it("by default the global model is the Eq. 5 aggregate", () => {
    const s = new ServerOptimizer();
    expect(Array.from(s.step(w(1, 2), w(3, -1))[0].values)).to.deep.equal([3, -1]);
  });

  it("with momentum it accumulates the aggregated changes (FedAvgM)", () => {
    const s = new ServerOptimizer({ learningRate: 1, momentum: 0.5 });
    const w1 = s.step(w(0), w(1)); // v = 1, w = 1
    expect(Array.from(w1[0].values)).to.deep.equal([1]);
    const w2 = s.step(w1, w(2)); // v = 0.5 + 1 = 1.5, w = 2.5
    expect(Array.from(w2[0].values)).to.deep.equal([2.5]);
    const s2 = new ServerOptimizer({ learningRate: 2, momentum: 0 });
    expect(Array.from(s2.step(w(1), w(2))[0].values)).to.deep.equal([3]);
  });

  it("with kind adam it takes FedAdam steps (Reddi et al. 2021)", () => {
    const s = new ServerOptimizer({ kind: "adam", learningRate: 0.1, momentum: 0.9, beta2: 0.99, tau: 0.001 });
    // Delta = 2: m = 0.2, v = 0.04, step = 0.1 * 0.2 / (0.2 + 0.001)
    const w1 = s.step(w(0, 1), w(2, 1));
    expect(w1[0].values[0]).to.be.closeTo((0.1 * 0.2) / 0.201, 1e-7);
    expect(w1[0].values[1]).to.equal(1); // no change, no step
    // Delta = -1 from w1: m = 0.18 - 0.1 = 0.08, v = 0.0396 + 0.01 = 0.0496
    const w2 = s.step(w1, w(w1[0].values[0] - 1, 1));
    expect(w2[0].values[0]).to.be.closeTo(w1[0].values[0] + (0.1 * 0.08) / (Math.sqrt(0.0496) + 0.001), 1e-6);
  });

  it("refuses bad settings and wrong shapes", () => {
    expect(() => new ServerOptimizer({ learningRate: 0, momentum: 0 })).to.throw(/learning rate must be a positive number/);
    expect(() => new ServerOptimizer({ learningRate: 1, momentum: 1 })).to.throw(/momentum must be in \[0, 1\)/);
    expect(() => new ServerOptimizer({ kind: "adam", learningRate: 1, momentum: 0, beta2: 1 })).to.throw(/beta2 must be in \[0, 1\)/);
    expect(() => new ServerOptimizer({ kind: "adam", learningRate: 1, momentum: 0, tau: 0 })).to.throw(/tau must be a positive number/);
    expect(() => new ServerOptimizer({ kind: "sgd" as never, learningRate: 1, momentum: 0 })).to.throw(/unknown kind "sgd"; use momentum or adam/);
    expect(() => new ServerOptimizer().step(w(1, 2), w(1))).to.throw(/aggregate: weight tensor 0 has shape \[1\]; expected \[2\]/);
  });
});
