/** The paper's CNN, local training, weights in and out, verification and attacks (synthetic data: unit tests). */
import { expect } from "chai";
import { PAPER_CNN_32X32X3_SHAPES } from "../../src/bench/ipfs";
import { initBackend } from "../../src/ml/backend";
import { archId, createCnn, evaluateModel, getModelWeights, parameterCount, setModelWeights, trainLocal } from "../../src/fl/cnn";
import { syntheticDataset } from "../../src/fl/datasets/synthetic";
import { decodeWeights, encodeWeights } from "../../src/fl/weightsFormat";
import { judge, verifyModel } from "../../src/fl/verification";
import { randomNoise, scaled, signFlip } from "../../src/fl/attacks";
import { mulberry32 } from "../../src/twins/random";

describe("the paper's CNN", function () {
  this.timeout(120_000);
  const data = syntheticDataset({ train: 200, test: 100, seed: 2, noise: 60 });
  const input = { height: 28, width: 28, channels: 1 };

  before(async () => {
    await initBackend("auto", () => undefined);
  });

  it("has 2,156,490 parameters on 32x32x3 (|w_g| of the cost model) and 1,663,370 on 28x28x1", () => {
    const cifar = createCnn({ height: 32, width: 32, channels: 3 });
    const fmnist = createCnn(input);
    expect(parameterCount(cifar)).to.equal(2_156_490);
    expect(parameterCount(fmnist)).to.equal(1_663_370);
    expect(getModelWeights(fmnist).map((w) => w.shape)).to.deep.equal([[5, 5, 1, 32], [32], [5, 5, 32, 64], [64], [3136, 512], [512], [512, 10], [10]]);
    // the shapes `dtwn bench ipfs` writes without building the model
    expect(getModelWeights(cifar).map((w) => w.shape)).to.deep.equal(PAPER_CNN_32X32X3_SHAPES);
    cifar.dispose();
    fmnist.dispose();
  });

  it("local training lowers the loss and lifts accuracy; the trained weights survive the weights format", () => {
    const model = createCnn(input, 3);
    const before = evaluateModel(model, data.test);
    const indices = Array.from({ length: 200 }, (_, i) => i);
    trainLocal(model, data.train, indices, { batchSize: 20, epochs: 3, learningRate: 0.05, seed: 1 });
    const after = evaluateModel(model, data.test);
    expect(after.loss).to.be.below(before.loss);
    expect(after.accuracy).to.be.above(0.5);
    const blob = encodeWeights(archId(input), getModelWeights(model));
    const copy = createCnn(input, 99);
    setModelWeights(copy, decodeWeights(blob, { arch: archId(input) }).weights);
    expect(evaluateModel(copy, data.test)).to.deep.equal(after);
    expect(() => decodeWeights(blob, { arch: archId({ height: 32, width: 32, channels: 3 }) })).to.throw(/architecture "paper-cnn-28x28x1-10", not "paper-cnn-32x32x3-10"/);
    expect(() => setModelWeights(copy, getModelWeights(createCnn({ height: 32, width: 32, channels: 3 })), "BS 2's model")).to.throw(/BS 2's model: weight tensor 0 has shape \[5, 5, 3, 32\]; expected \[5, 5, 1, 32\]/);
    expect(() => trainLocal(model, data.train, indices, { batchSize: 0, epochs: 1, learningRate: 0.1, seed: 1 })).to.throw(/batch size must be a positive integer/);
    model.dispose();
    copy.dispose();
  });

  it("verification accepts an honest model and rejects sign-flipped, update-scaled and noise models", () => {
    const model = createCnn(input, 4);
    const initial = getModelWeights(model);
    trainLocal(model, data.train, Array.from({ length: 200 }, (_, i) => i), { batchSize: 20, epochs: 3, learningRate: 0.05, seed: 2 });
    const honest = getModelWeights(model);
    const heldOut = Array.from({ length: 100 }, (_, i) => i);
    const reference = evaluateModel(model, data.test, heldOut).accuracy;
    const verifier = createCnn(input, 5);
    expect(verifyModel(verifier, honest, data.test, heldOut, reference, 0.05).accepted).to.equal(true);
    for (const poisoned of [signFlip(honest), scaled(honest, 10, initial), randomNoise(honest, 0.1, mulberry32(1))]) {
      const v = verifyModel(verifier, poisoned, data.test, heldOut, reference, 0.05);
      expect(v.accepted, `accuracy ${v.candidateAccuracy} vs ${v.referenceAccuracy}`).to.equal(false);
    }
    expect(judge(0.8, 0.84, 0.05).accepted).to.equal(true);
    expect(judge(0.78, 0.84, 0.05).accepted).to.equal(false);
    expect(() => judge(0.8, 0.8, 2)).to.throw(/threshold must be in \[0, 1\]/);
    model.dispose();
    verifier.dispose();
  });
});
